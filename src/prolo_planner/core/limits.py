"""The clinic's limits and thresholds for the safety checks, saved as limits.json in its config.

The defaults are common published figures, not advice: each clinic sets its own, and the app only
compares a plan with them. A file that cannot be read is reported and the defaults are used; a
single bad value falls back to its default alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from prolo_planner import paths
from prolo_planner.core.plan import Anaesthetic
from prolo_planner.files import write_bytes_atomic

FORMAT = "prolo-planner/limits"
#: The file format's own version (major.minor), separate from the app's version.
FORMAT_VERSION = "1.0"
FILE_NAME = "limits.json"


@dataclass(frozen=True, slots=True)
class AnaestheticLimit:
    mg_per_kg: float
    max_mg: float


@dataclass(frozen=True, slots=True)
class ClinicLimits:
    # Lidocaine without adrenaline: 4.5 mg/kg, at most 300 mg, as commonly tabulated (e.g. the
    # University of Iowa's "Maximum recommended doses of local anesthetics").
    lidocaine_mg_per_kg: float = 4.5
    lidocaine_max_mg: float = 300.0
    # Procaine without adrenaline: 7 mg/kg is the common figure; the US label gives 350 to
    # 600 mg for infiltration, and we default to the conservative end. The clinic sets both.
    procaine_mg_per_kg: float = 7.0
    procaine_max_mg: float = 350.0
    #: Needle left outside the skin at the hub: never insert a needle to its hub.
    needle_hub_margin_mm: float = 10.0
    #: A needle longer than path + hub margin by more than this is "far longer than needed".
    needle_excess_mm: float = 40.0
    #: In-plane needles steeper than this reflect the beam poorly and are hard to see.
    in_plane_max_angle_deg: float = 45.0
    #: The margin a new avoid zone starts with.
    default_zone_margin_mm: float = 3.0
    #: Keys of a newer file this version does not know, written back unchanged.
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for name, (low, high, low_open) in _RANGES.items():
            problem = _out_of_range(getattr(self, name), low, high, low_open)
            if problem:
                raise ValueError(f"{name}: {problem}")

    def anaesthetic(self, agent: Anaesthetic) -> AnaestheticLimit | None:
        """The limit for an agent; None for no anaesthetic."""
        if agent is Anaesthetic.LIDOCAINE:
            return AnaestheticLimit(self.lidocaine_mg_per_kg, self.lidocaine_max_mg)
        if agent is Anaesthetic.PROCAINE:
            return AnaestheticLimit(self.procaine_mg_per_kg, self.procaine_max_mg)
        return None


# Allowed range of each setting: (low, high, whether low itself is refused).
_RANGES: dict[str, tuple[float, float, bool]] = {
    "lidocaine_mg_per_kg": (0.0, 100.0, True),
    "lidocaine_max_mg": (0.0, 10_000.0, True),
    "procaine_mg_per_kg": (0.0, 100.0, True),
    "procaine_max_mg": (0.0, 10_000.0, True),
    "needle_hub_margin_mm": (0.0, 100.0, False),
    "needle_excess_mm": (0.0, 500.0, True),
    "in_plane_max_angle_deg": (0.0, 90.0, True),
    "default_zone_margin_mm": (0.0, 100.0, False),
}


def _out_of_range(value: object, low: float, high: float, low_open: bool) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected a number, got {value!r}"
    if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
        bound = f"above {low:g}" if low_open else f"at least {low:g}"
        return f"{value!r} is out of range (must be {bound} and at most {high:g})"
    return None


@dataclass(frozen=True, slots=True)
class LoadedLimits:
    """The limits in force and what was wrong with the file, for the clinician to read."""

    limits: ClinicLimits
    problems: tuple[str, ...] = ()
    path: Path | None = None


def limits_file() -> Path:
    return paths.config_dir() / FILE_NAME


def limits_from_json(data: object, where: str = FILE_NAME) -> LoadedLimits:
    """Limits from a parsed JSON document; unusable values fall back to their defaults."""
    defaults = ClinicLimits()
    if not isinstance(data, dict):
        return LoadedLimits(defaults, (f"{where}: not a JSON object, defaults used",))
    if data.get("format") != FORMAT:
        return LoadedLimits(
            defaults, (f"{where}: format {data.get('format')!r} is not {FORMAT!r}, defaults used",)
        )
    version = str(data.get("version", ""))
    major = version.split(".")[0]
    if major != FORMAT_VERSION.split(".")[0]:
        return LoadedLimits(
            defaults,
            (
                f"{where}: version {version!r} is not readable by this app "
                f"(reads {FORMAT_VERSION}), defaults used",
            ),
        )
    known = {f.name for f in fields(ClinicLimits)} - {"extra"}
    values: dict[str, float] = {}
    problems: list[str] = []
    for name in sorted(known):
        if name not in data:
            continue
        problem = _out_of_range(data[name], *_RANGES[name])
        if problem:
            problems.append(f"{where}: {name}: {problem}; default {getattr(defaults, name):g} used")
        else:
            values[name] = float(data[name])
    extra = {k: v for k, v in data.items() if k not in known | {"format", "version"}}
    return LoadedLimits(replace(defaults, **values, extra=extra), tuple(problems))


def limits_to_json(limits: ClinicLimits) -> dict[str, Any]:
    doc: dict[str, Any] = dict(limits.extra)
    doc.update({"format": FORMAT, "version": FORMAT_VERSION})
    doc.update({name: getattr(limits, name) for name in _RANGES})
    return doc


def load_limits(path: Path | None = None) -> LoadedLimits:
    """The clinic's limits; the defaults when there is no file or it cannot be read."""
    path = path or limits_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LoadedLimits(ClinicLimits(), (), path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return LoadedLimits(
            ClinicLimits(), (f"{path}: cannot be read ({reason}), defaults used",), path
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}), defaults used"
        return LoadedLimits(ClinicLimits(), (problem,), path)
    loaded = limits_from_json(data, str(path))
    return replace(loaded, path=path)


def save_limits(limits: ClinicLimits, path: Path | None = None) -> Path:
    """Write the limits atomically, readable by this user only."""
    path = path or limits_file()
    text = json.dumps(limits_to_json(limits), indent=2, sort_keys=False) + "\n"
    return write_bytes_atomic(path, text.encode("utf-8"))
