"""Older plan file versions brought up to the current one, one step at a time.

Each step takes the whole file document (already parsed JSON) of one version and returns the
document of the next. Steps rename and reshape what they know and pass every other key through
untouched, so unknown keys still end up in `extra`. A step that meets something it cannot
read leaves it as it is: the current reader then names where the problem is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Document = dict[str, Any]
Step = Callable[[Document], Document]


def _renamed(obj: Any, names: dict[str, str]) -> Any:
    if not isinstance(obj, dict):
        return obj
    return {names.get(k, k): v for k, v in obj.items()}


# -- 0.9 (the pre-release of spring 2026) -> 1.0 --------------------------------------------------
_TYPES_0_9 = {"path": "needle_path", "zone": "avoid_zone", "note": "text_note"}
_ORIENTATION_0_9 = {"long": "long axis", "short": "short axis", "": "unspecified"}
_INJECTATE_0_9 = {
    "dextrose": "dextrose_percent",
    "anaesthetic": "anaesthetic",
    "anaesthetic_percent": "anaesthetic_percent",
    "volume": "volume_ml",
}


def _image_0_9(image: Any) -> Any:
    if not isinstance(image, dict):
        return image
    image = _renamed(image, {"depth_marker": "skin_line", "orientation": "probe_orientation"})
    ref = {
        new: image.pop(old)
        for old, new in (("file", "path"), ("uid", "sop_instance_uid"), ("frames", "frame_count"))
        if old in image
    }
    image["ref"] = ref
    orientation = image.get("probe_orientation")
    if isinstance(orientation, str) and orientation in _ORIENTATION_0_9:
        image["probe_orientation"] = _ORIENTATION_0_9[orientation]
    return image


def _annotation_0_9(a: Any) -> Any:
    if not isinstance(a, dict):
        return a
    a = _renamed(
        a,
        {
            "image": "image_id",
            "target": "target_id",
            "gauge": "needle_gauge",
            "needle_len": "needle_length_mm",
            "margin": "margin_mm",
            "at": "position",
            "arrow": "arrow_to",
        },
    )
    if a.get("frame") == -1:  # 0.9 said "all frames" with -1
        a["frame"] = None
    a["type"] = _TYPES_0_9.get(a.get("type"), a.get("type"))
    if a["type"] == "text_note" and "position" in a:
        a["text_at"] = a.pop("position")
    if a["type"] == "target":
        injectate = {new: a.pop(old) for old, new in _INJECTATE_0_9.items() if old in a}
        if injectate:
            a["injectate"] = injectate
    return a


def upgrade_0_9(doc: Document) -> Document:
    """0.9 named things differently (needle_len, depth_marker, image, target, weight, ...), kept
    the image file's path, UID and frame count on the image itself, flattened the injectate into
    the target, and marked "all frames" with -1."""
    doc = _renamed(doc, {"app": "app_version"})
    plan = _renamed(doc.get("plan"), {"weight": "patient_weight_kg", "notes": "note"})
    if isinstance(plan, dict):
        if isinstance(plan.get("images"), list):
            plan["images"] = [_image_0_9(im) for im in plan["images"]]
        if isinstance(plan.get("annotations"), list):
            plan["annotations"] = [_annotation_0_9(a) for a in plan["annotations"]]
        doc["plan"] = plan
    doc["format_version"] = "1.0"
    return doc


#: version -> (the version it becomes, the step). Follow the chain until the current version.
MIGRATIONS: dict[str, tuple[str, Step]] = {
    "0.9": ("1.0", upgrade_0_9),
}


def upgrade(doc: Document, version: str, current: str) -> Document:
    """The document of an older major `version` brought to the major of `current` (same-major
    files need no step: minor versions only add optional keys). ValueError if no chain leads there.
    """
    seen = {version}
    while _major(version) < _major(current):
        if version not in MIGRATIONS:
            raise ValueError(f"format {version} is too old: no upgrade from it is known")
        version, step = MIGRATIONS[version]
        if version in seen:
            raise ValueError(f"the upgrade chain loops at format {version}")
        seen.add(version)
        doc = step(doc)
    return doc


def _major(version: str) -> int:
    return int(version.split(".")[0])
