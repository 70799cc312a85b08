"""The plan file: a Plan saved to and read from JSON, with its own format name and version.

See docs/plan-format.md. Readers accept any minor version of their major (keys they do not
know are kept in `extra` and written back), upgrade older majors through plan_migrations, and
refuse newer majors. Every problem is a PlanFileError that names the file and where in it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
import re
import sys
import types
import typing
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from prolo_planner import __version__
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    AngleMeasurement,
    Annotation,
    AvoidZone,
    Caliper,
    ImagePlan,
    NeedlePath,
    Plan,
    Target,
    TextNote,
)
from prolo_planner.files import write_bytes_atomic
from prolo_planner.store.plan_migrations import upgrade

PLAN_FORMAT = "prolo-planner/plan"
PLAN_FORMAT_VERSION = "1.3"
_MAJOR = int(PLAN_FORMAT_VERSION.split(".")[0])
_TOP_KEYS = ("format", "format_version", "app_version", "saved_at", "plan")

#: The "type" tag of each annotation in the file.
TYPE_TAGS: dict[type, str] = {
    Target: "target",
    NeedlePath: "needle_path",
    AvoidZone: "avoid_zone",
    Caliper: "caliper",
    AngleMeasurement: "angle",
    TextNote: "text_note",
}
_TYPE_OF_TAG = {tag: cls for cls, tag in TYPE_TAGS.items()}

#: Lowest value of numeric fields, and whether the bound itself is allowed.
_LIMITS: dict[str, tuple[float, bool]] = {
    "frame": (0, True),
    "key_frames": (0, True),
    "frame_count": (1, True),
    "needle_gauge": (1, True),
    "needle_length_mm": (0, False),
    "margin_mm": (0, True),
    "dextrose_percent": (0, True),
    "anaesthetic_percent": (0, True),
    "volume_ml": (0, True),
    "patient_weight_kg": (0, False),
    "mm": (0, False),
    "radius_mm": (0, True),
}
_EXTRA_FIELDS = ("extra", "file_extra")
#: A plan nests five levels deep; keys of newer versions may add a few. Deeper is no plan, and
#: would overflow the stack of the writer that saves it again.
MAX_DEPTH = 64
#: Whole numbers beyond this lose their value as floats (2**53): no frame, pixel or millilitre
#: count comes near it, so a larger one is a damaged or hostile file.
MAX_WHOLE = 2**53


class PlanFileError(Exception):
    """A plan that cannot be read or written; says which file and where in it."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class _Bad(ValueError):
    """A problem at one place of the document ("plan.annotations[3].entry: expected [x, y]")."""


@dataclass(frozen=True, slots=True)
class LoadedPlan:
    plan: Plan
    format_version: str  # as found in the file, before any upgrade
    app_version: str
    saved_at: str

    @property
    def was_upgraded(self) -> bool:
        return int(self.format_version.split(".")[0]) < _MAJOR


# -- files --------------------------------------------------------------------------------------
def save_plan(path: Path | str, plan: Plan) -> Path:
    """Write the plan atomically, readable by this user alone; image paths under the plan's
    folder are stored relative to it, so the folder can move as a whole."""
    path = Path(path)
    try:
        doc = plan_to_document(plan, base_dir=path.parent)
        data = (_dumps(doc) + "\n").encode()
    except (TypeError, ValueError) as exc:
        raise PlanFileError(path, f"cannot be saved: {exc}") from None
    try:
        return write_bytes_atomic(path, data)
    except OSError as exc:
        raise PlanFileError(path, f"cannot be saved: {exc.strerror or exc}") from None


def read_plan_file(path: Path | str) -> LoadedPlan:
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise PlanFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise PlanFileError(path, f"not a text file (byte {exc.start} is not UTF-8)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            path, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise PlanFileError(path, f"not a plan: nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:  # a number of more digits than Python converts
        limit = sys.get_int_max_str_digits()
        raise PlanFileError(path, f"not a plan: a number of more than {limit} digits") from None
    return plan_from_document(doc, source=path, base_dir=path.parent)


def load_plan(path: Path | str) -> Plan:
    return read_plan_file(path).plan


def resolve_image_path(path: str, base_dir: Path | str | None) -> Path:
    """An image path of a plan as a file on this machine: relative ones lie under base_dir."""
    p = Path(path)
    if p.is_absolute() or base_dir is None:
        return p
    return Path(os.path.normpath(Path(os.path.abspath(base_dir)) / p))


def missing_images(plan: Plan, base_dir: Path | str | None) -> list[ImagePlan]:
    """The plan's images whose file is not where the plan says (relative paths from base_dir)."""
    return [im for im in plan.images if not resolve_image_path(im.ref.path, base_dir).is_file()]


# -- documents (also what the session store keeps) -------------------------------------------
def plan_to_document(plan: Plan, base_dir: Path | str | None = None) -> dict[str, Any]:
    plan_doc = _encode(plan)
    if base_dir is not None:
        for image in plan_doc["images"]:
            image["ref"]["path"] = _relative_if_under(image["ref"]["path"], base_dir)
    top: dict[str, Any] = {
        "format": PLAN_FORMAT,
        "format_version": PLAN_FORMAT_VERSION,
        "app_version": __version__,
        "saved_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "plan": plan_doc,
    }
    for key, value in plan.file_extra.items():
        top.setdefault(key, value)
    return top


def plan_from_document(
    doc: Any, source: Path | str = "<plan>", base_dir: Path | str | None = None
) -> LoadedPlan:
    """The plan of a parsed plan document; relative image paths are resolved from base_dir.

    Raises PlanFileError, and nothing else, for any document: what loads can be saved again.
    """
    try:
        return _plan_from_document(doc, source, base_dir)
    except PlanFileError:
        raise
    except RecursionError:
        raise PlanFileError(source, f"nested more than {MAX_DEPTH} levels deep") from None
    except Exception as exc:  # a reader's oversight must still be one clear line, not a crash
        raise PlanFileError(source, f"cannot be read ({type(exc).__name__}: {exc})") from None


def _plan_from_document(doc: Any, source: Path | str, base_dir: Path | str | None) -> LoadedPlan:
    try:
        _check_json_values(doc, depth_only=True)
        if not isinstance(doc, dict) or doc.get("format") != PLAN_FORMAT:
            found = _short(doc.get("format")) if isinstance(doc, dict) else type(doc).__name__
            raise _Bad(f"not a Prolo Planner plan (format {found}, expected {PLAN_FORMAT!r})")
        version = doc.get("format_version")
        if not isinstance(version, str) or not re.fullmatch(r"\d+\.\d+", version):
            raise _Bad(
                f"format_version: expected text like {PLAN_FORMAT_VERSION!r}, got {version!r}"
            )
        major = int(version.split(".")[0])
        if major > _MAJOR:
            raise _Bad(
                f"made by a newer Prolo Planner (format {version}); this version reads {_MAJOR}.x"
            )
        if major < _MAJOR:
            doc = upgrade(dict(doc), version, PLAN_FORMAT_VERSION)
        plan = _decode_plan(doc.get("plan"), "plan")
        _check_links(plan)
        _check_json_values(doc, depth_only=False)
    except _Bad as exc:
        raise PlanFileError(source, str(exc)) from None
    except ValueError as exc:  # an upgrade step that could not go on
        raise PlanFileError(source, str(exc)) from None
    if base_dir is not None:
        plan = plan.with_images(
            dataclasses.replace(
                im,
                ref=dataclasses.replace(
                    im.ref, path=str(resolve_image_path(im.ref.path, base_dir))
                ),
            )
            for im in plan.images
        )
    file_extra = {k: v for k, v in doc.items() if k not in _TOP_KEYS}
    plan = dataclasses.replace(plan, file_extra=file_extra)
    try:
        _dumps(plan_to_document(plan))  # the autosave must never meet a plan it cannot write
    except (TypeError, ValueError, RecursionError) as exc:
        raise PlanFileError(source, f"could not be saved again: {exc}") from None
    app_version, saved_at = doc.get("app_version", ""), doc.get("saved_at", "")
    return LoadedPlan(plan, version, str(app_version), str(saved_at))


def _check_json_values(doc: Any, *, depth_only: bool) -> None:
    """What JSON parsers accept but a plan cannot hold: nesting deeper than MAX_DEPTH, and
    NaN and Infinity (Python's json reads them; no strict writer writes them). Walked without
    recursion, so a hostile depth cannot overflow the stack here. The depth is checked before
    the plan is decoded, the numbers after: the plan's own fields say better what is wrong."""
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if not depth_only and isinstance(value, float) and not math.isfinite(value):
            raise _Bad(f"{where or 'the document'}: {value} is not a number a plan can hold")
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise _Bad(f"{where or 'the document'}: nested more than {MAX_DEPTH} levels deep")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(value, dict):
                    inner = f"{where}.{key}" if where else str(key)
                else:
                    inner = f"{where}[{key}]"
                stack.append((item, inner, depth + 1))


def _relative_if_under(path: str, base_dir: Path | str) -> str:
    if not os.path.isabs(path):
        return path
    folder = os.path.abspath(base_dir)
    target = os.path.normpath(path)
    try:
        if os.path.commonpath([folder, target]) != folder:
            return path
    except ValueError:  # another drive on Windows
        return path
    return PurePosixPath(*Path(os.path.relpath(target, folder)).parts).as_posix()


# -- encoding -----------------------------------------------------------------------------------
_FIRST = ("type", "id", "title", "image_id", "frame")
#: The plan's own fields read first, above the long lists; the record of what was done last.
_LAST = ("images", "annotations", "procedure")


#: Keys written only when they hold something: a plan without a record reads the same in 1.1.
_LEFT_OUT_WHEN_NONE = frozenset({"procedure"})


def _order(name: str) -> int:
    if name in _FIRST:
        return _FIRST.index(name)
    return len(_FIRST) + (1 + _LAST.index(name) if name in _LAST else 0)


def _dumps(value: Any, depth: int = 0) -> str:
    """JSON with objects indented and lists of plain values (points) on one line."""
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict) and value:
        body = ",\n".join(
            f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {_dumps(v, depth + 1)}"
            for k, v in value.items()
        )
        return "{\n" + body + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        body = ",\n".join(f"{inner}{_dumps(v, depth + 1)}" for v in value)
        return "[\n" + body + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _encode_value(value: Any) -> Any:
    if isinstance(value, Point):
        return [value.x, value.y]
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return [_encode_value(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encode(value)
    return value


def _encode(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if type(obj) in TYPE_TAGS:
        out["type"] = TYPE_TAGS[type(obj)]
    names = [f.name for f in dataclasses.fields(obj) if f.name not in _EXTRA_FIELDS]
    for name in sorted(names, key=_order):
        value = getattr(obj, name)
        if value is None and name in _LEFT_OUT_WHEN_NONE:
            continue
        out[name] = _encode_value(value)
    for key, value in obj.extra.items():
        out.setdefault(key, value)  # a known key always wins over a stale copy in extra
    return out


# -- decoding -----------------------------------------------------------------------------------
_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _short(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**39:
        return f"a whole number of {len(str(abs(value)))} digits"
    text = json.dumps(value, ensure_ascii=False) if _jsonable(value) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        return False
    return True


def _is_number(value: Any) -> bool:
    """A JSON number a plan can hold: finite, and a whole number no larger than MAX_WHOLE
    (a 400-digit integer overflows every float it meets)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):
        return -MAX_WHOLE <= value <= MAX_WHOLE
    return math.isfinite(value)


def _number(value: Any, where: str, name: str) -> float:
    if not _is_number(value):
        raise _Bad(f"{where}: expected a number, got {_short(value)}")
    _check_limit(value, where, name)
    return float(value)


def _integer(value: Any, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not _is_number(value):
        raise _Bad(f"{where}: expected a whole number, got {_short(value)}")
    _check_limit(value, where, name)
    return value


def _check_limit(value: float, where: str, name: str) -> None:
    if name in _LIMITS:
        low, inclusive = _LIMITS[name]
        if value < low or (value == low and not inclusive):
            bound = f"at least {low:g}" if inclusive else f"more than {low:g}"
            raise _Bad(f"{where}: must be {bound}, got {_short(value)}")


def _point(value: Any, where: str) -> Point:
    if not isinstance(value, list) or len(value) != 2 or not all(_is_number(v) for v in value):
        raise _Bad(f"{where}: expected [x, y], got {_short(value)}")
    return Point(float(value[0]), float(value[1]))


def _decode_value(hint: Any, value: Any, where: str, name: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _decode_value(options[0], value, where, name)
    if hint is Point:
        return _point(value, where)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, list):
            raise _Bad(f"{where}: expected a list, got {_short(value)}")
        if args[-1] is not Ellipsis and len(value) != len(args):
            raise _Bad(f"{where}: expected a list of {len(args)}, got {len(value)}")
        item = args[0]
        return tuple(_decode_value(item, v, f"{where}[{i}]", name) for i, v in enumerate(value))
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        try:
            return hint(value)
        except ValueError:
            allowed = ", ".join(json.dumps(k.value) for k in hint)
            raise _Bad(f"{where}: {_short(value)} is not one of {allowed}") from None
    if hint is bool:
        if not isinstance(value, bool):
            raise _Bad(f"{where}: expected true or false, got {_short(value)}")
        return value
    if hint is float:
        return _number(value, where, name)
    if hint is int:
        return _integer(value, where, name)
    if hint is str:
        if not isinstance(value, str):
            raise _Bad(f"{where}: expected text, got {_short(value)}")
        return value
    if dataclasses.is_dataclass(hint):
        return _decode_object(hint, value, where)
    raise _Bad(f"{where}: cannot read a {hint}")  # a model field this reader does not know


def _decode_object(cls: Any, value: Any, where: str, skip: tuple[str, ...] = ()) -> Any:
    if not isinstance(value, dict):
        raise _Bad(f"{where}: expected an object, got {_short(value)}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    names = set()
    for f in dataclasses.fields(cls):
        if f.name in _EXTRA_FIELDS:
            continue
        names.add(f.name)
        if f.name in skip:
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if f.name not in value:
            # Ids tie annotations to images and paths to targets: never make them up.
            if required or (f.name == "id" and cls is not Plan):
                raise _Bad(f"{where}.{f.name}: missing")
            continue
        kwargs[f.name] = _decode_value(hints[f.name], value[f.name], f"{where}.{f.name}", f.name)
    if cls in TYPE_TAGS:
        names.add("type")
    kwargs["extra"] = {k: v for k, v in value.items() if k not in names}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:  # the model's own invariants
        raise _Bad(f"{where}: {exc}") from None


def _decode_plan(value: Any, where: str) -> Plan:
    plan = _decode_object(Plan, value, where, skip=("images", "annotations"))
    images = value.get("images", [])
    annotations = value.get("annotations", [])
    for key, items in (("images", images), ("annotations", annotations)):
        if not isinstance(items, list):
            raise _Bad(f"{where}.{key}: expected a list, got {_short(items)}")
    decoded_images = tuple(
        _decode_object(ImagePlan, im, f"{where}.images[{i}]") for i, im in enumerate(images)
    )
    return dataclasses.replace(
        plan,
        images=decoded_images,
        annotations=tuple(
            _decode_annotation(a, f"{where}.annotations[{i}]") for i, a in enumerate(annotations)
        ),
    )


def _decode_annotation(value: Any, where: str) -> Annotation:
    if not isinstance(value, dict):
        raise _Bad(f"{where}: expected an object, got {_short(value)}")
    tag = value.get("type")
    if not isinstance(tag, str) or tag not in _TYPE_OF_TAG:
        allowed = ", ".join(json.dumps(t) for t in _TYPE_OF_TAG)
        raise _Bad(f"{where}.type: {_short(tag)} is not one of {allowed}")
    annotation: Annotation = _decode_object(_TYPE_OF_TAG[tag], value, where)
    return annotation


def _check_links(plan: Plan) -> None:
    """Ids are unique, annotations lie on the plan's images, paths end on a target there."""
    image_ids: set[str] = set()
    for i, im in enumerate(plan.images):
        if im.id in image_ids:
            raise _Bad(f"plan.images[{i}].id: {im.id!r} is used twice")
        image_ids.add(im.id)
    by_id: dict[str, Annotation] = {}
    for i, a in enumerate(plan.annotations):
        if a.id in by_id:
            raise _Bad(f"plan.annotations[{i}].id: {a.id!r} is used twice")
        by_id[a.id] = a
        if a.image_id not in image_ids:
            raise _Bad(f"plan.annotations[{i}].image_id: no image {a.image_id!r} in this plan")
    for i, a in enumerate(plan.annotations):
        if isinstance(a, NeedlePath):
            target = by_id.get(a.target_id)
            if not isinstance(target, Target):
                raise _Bad(
                    f"plan.annotations[{i}].target_id: no target {a.target_id!r} in this plan"
                )
            if target.image_id != a.image_id:
                raise _Bad(
                    f"plan.annotations[{i}].target_id: target {a.target_id!r} is on another image"
                )
