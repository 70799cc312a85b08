"""Region catalogs: the targets and structures to avoid offered when the clinician picks a region.

The bundled catalogs (resources/catalogs/, one JSON file per region) are read first, then the
user's folder (data folder / catalogs), whose files add regions or add and override entries of
a region by name. A file that cannot be used is reported as a CatalogProblem and skipped: a
typo in a catalog must never keep the app from starting.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from prolo_planner.core.plan import Anaesthetic, AvoidKind, Injectate, Plan, TargetKind
from prolo_planner.paths import data_dir
from prolo_planner.resources import resource_path

CATALOG_FORMAT = "prolo-planner/catalog"
CATALOG_FORMAT_VERSION = "1.0"
DEFAULT_MARGIN_MM = 3.0
_REGION_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class CatalogTarget:
    name: str
    kind: TargetKind
    default_injectate: Injectate | None = None


@dataclass(frozen=True, slots=True)
class CatalogAvoid:
    name: str
    kind: AvoidKind
    margin_mm: float = DEFAULT_MARGIN_MM


@dataclass(frozen=True, slots=True)
class CatalogProblem:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def name_key(name: str) -> str:
    """How names are matched: case and runs of spaces do not matter."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True, slots=True)
class RegionCatalog:
    id: str
    name: str
    targets: tuple[CatalogTarget, ...] = ()
    avoid: tuple[CatalogAvoid, ...] = ()
    #: The files this region was read from, bundled first.
    sources: tuple[Path, ...] = ()

    def target_names(self) -> list[str]:
        return [t.name for t in self.targets]

    def target(self, name: str) -> CatalogTarget | None:
        key = name_key(name)
        return next((t for t in self.targets if name_key(t.name) == key), None)

    def avoid_entry(self, name: str) -> CatalogAvoid | None:
        key = name_key(name)
        return next((a for a in self.avoid if name_key(a.name) == key), None)

    def avoid_kinds(self) -> list[AvoidKind]:
        """The kinds of structure to avoid in this region, in catalog order, each once."""
        return list(dict.fromkeys(a.kind for a in self.avoid))

    def merged(self, other: RegionCatalog) -> RegionCatalog:
        """This region with `other`'s entries added, or replacing ours of the same name."""
        return replace(
            self,
            name=other.name or self.name,
            targets=_merge_by_name(self.targets, other.targets),
            avoid=_merge_by_name(self.avoid, other.avoid),
            sources=self.sources + other.sources,
        )


def _merge_by_name(ours: tuple[Any, ...], theirs: tuple[Any, ...]) -> tuple[Any, ...]:
    entries = {name_key(e.name): e for e in ours}
    for e in theirs:
        entries[name_key(e.name)] = e  # an override keeps the overridden entry's place
    return tuple(entries.values())


@dataclass(frozen=True, slots=True)
class CatalogSet:
    regions: Mapping[str, RegionCatalog] = field(default_factory=dict)
    problems: tuple[CatalogProblem, ...] = ()

    def region(self, region_id: str) -> RegionCatalog | None:
        return self.regions.get(region_id)


class _Bad(Exception):
    """Why a catalog file cannot be used; becomes a CatalogProblem."""


def load_catalogs(user_dir: Path | None = None, bundled_dir: Path | None = None) -> CatalogSet:
    """The bundled catalogs, then the user's (default: the data folder's `catalogs`)."""
    if bundled_dir is None:
        bundled_dir = resource_path("catalogs")
    if user_dir is None:
        user_dir = data_dir() / "catalogs"
    regions: dict[str, RegionCatalog] = {}
    problems: list[CatalogProblem] = []
    for folder in (bundled_dir, user_dir):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            try:
                region = read_catalog(path)
            except _Bad as exc:
                problems.append(CatalogProblem(path, str(exc)))
                continue
            known = regions.get(region.id)
            regions[region.id] = known.merged(region) if known else region
    for region in regions.values():
        if not region.name:
            problems.append(CatalogProblem(region.sources[0], f"region {region.id!r} has no name"))
    ordered = sorted((r for r in regions.values() if r.name), key=lambda r: name_key(r.name))
    return CatalogSet({r.id: r for r in ordered}, tuple(problems))


def region_names() -> dict[str, str]:
    """Region id -> the region's name in the catalogs (none when they cannot be read: a name
    in a table or a report must not fail for want of a catalog folder)."""
    try:
        return {r.id: r.name for r in load_catalogs().regions.values()}
    except OSError:
        return {}


def region_name(region_id: str) -> str:
    """How every screen and report names a region: 'Lumbar spine' for 'lumbar_spine', the
    catalog's name when it knows the region, else the id in words, capitalised."""
    if not region_id:
        return ""
    name = region_names().get(region_id) or region_id.replace("_", " ")
    return name[:1].upper() + name[1:]


def read_catalog(path: Path) -> RegionCatalog:
    """One catalog file; raises _Bad with a reason a clinic's editor can act on."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _Bad(f"cannot be read: {exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Bad(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(doc, dict) or doc.get("format") != CATALOG_FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise _Bad(f"not a Prolo Planner catalog (format {found!r}, expected {CATALOG_FORMAT!r})")
    _check_version(doc.get("format_version"))
    region = doc.get("region")
    if not isinstance(region, dict) or not isinstance(region.get("id"), str):
        raise _Bad('region: expected {"id": ..., "name": ...}')
    if not _REGION_ID.match(region["id"]):
        raise _Bad(f"region.id: {region['id']!r} must be lower case letters, digits and _")
    name = region.get("name", "")
    if not isinstance(name, str):
        raise _Bad("region.name: expected text")
    targets = tuple(_target(e, f"targets[{i}]") for i, e in enumerate(_list(doc, "targets")))
    avoid = tuple(_avoid(e, f"avoid[{i}]") for i, e in enumerate(_list(doc, "avoid")))
    for label, entries in (("targets", targets), ("avoid", avoid)):
        seen: set[str] = set()
        for entry in entries:
            if name_key(entry.name) in seen:
                raise _Bad(f"{label}: {entry.name!r} appears twice")
            seen.add(name_key(entry.name))
    return RegionCatalog(region["id"], name.strip(), targets, avoid, (path,))


def _check_version(version: Any) -> None:
    if not isinstance(version, str) or not re.fullmatch(r"\d+\.\d+", version):
        raise _Bad(
            f"format_version: expected text like {CATALOG_FORMAT_VERSION!r}, got {version!r}"
        )
    ours = int(CATALOG_FORMAT_VERSION.split(".")[0])
    major = int(version.split(".")[0])
    if major != ours:
        newer = "a newer" if major > ours else "an older"
        raise _Bad(
            f"made for {newer} Prolo Planner (format {version}); this version reads {ours}.x"
        )


def _list(doc: dict[str, Any], key: str) -> list[Any]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise _Bad(f"{key}: expected a list")
    return value


def _name(entry: Any, where: str) -> str:
    if not isinstance(entry, dict):
        raise _Bad(f"{where}: expected an object with a name and a kind")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _Bad(f"{where}.name: expected a name")
    return " ".join(name.split())


def _kind(enum: Any, value: Any, where: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(repr(k.value) for k in enum)
        raise _Bad(f"{where}: {value!r} is not one of {allowed}") from None


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Bad(f"{where}: expected a number, got {value!r}")
    if value < 0:
        raise _Bad(f"{where}: must not be negative, got {value!r}")
    return float(value)


def _target(entry: Any, where: str) -> CatalogTarget:
    name = _name(entry, where)
    kind = _kind(TargetKind, entry.get("kind"), f"{where}.kind")
    injectate = entry.get("default_injectate")
    if injectate is None:
        return CatalogTarget(name, kind)
    if not isinstance(injectate, dict):
        raise _Bad(f"{where}.default_injectate: expected an object")
    base = Injectate()
    values: dict[str, Any] = {}
    for key in ("dextrose_percent", "anaesthetic_percent", "volume_ml"):
        if key in injectate:
            values[key] = _number(injectate[key], f"{where}.default_injectate.{key}")
    if "anaesthetic" in injectate:
        values["anaesthetic"] = _kind(
            Anaesthetic, injectate["anaesthetic"], f"{where}.default_injectate.anaesthetic"
        )
    unknown = set(injectate) - {
        "dextrose_percent",
        "anaesthetic_percent",
        "volume_ml",
        "anaesthetic",
    }
    if unknown:
        raise _Bad(f"{where}.default_injectate: unknown {', '.join(sorted(unknown))}")
    return CatalogTarget(name, kind, replace(base, **values))


def _avoid(entry: Any, where: str) -> CatalogAvoid:
    name = _name(entry, where)
    kind = _kind(AvoidKind, entry.get("kind"), f"{where}.kind")
    margin = _number(entry.get("margin_mm", DEFAULT_MARGIN_MM), f"{where}.margin_mm")
    return CatalogAvoid(name, kind, margin)


def checklist(
    plan: Plan, region: RegionCatalog, image_id: str | None = None
) -> list[tuple[str, bool]]:
    """Each catalog target of the region, and whether the plan has placed a target of that name
    on an image of that region (or on `image_id` alone). A target carried forward but not yet
    placed (position None) does not count."""
    if image_id is not None:
        images = {image_id}
    else:
        images = {im.id for im in plan.images if im.region == region.id}
    placed = {
        name_key(t.name) for t in plan.targets() if t.position is not None and t.image_id in images
    }
    return [(t.name, name_key(t.name) in placed) for t in region.targets]
