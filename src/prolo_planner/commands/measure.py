"""`prolo-planner measure FILE [--frame N] X1,Y1 X2,Y2 [--json]`: the viewer's mm, headless.

The distance between two image points, each point's region and depth along the beam, the
probe geometry and where the calibration comes from, through the same core as the viewer
(calibration_in_force, then core/measure), so a script reads exactly what the screen shows.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.geometry import Point
from prolo_planner.core.image_calibration import calibration_in_force, describe_geometry
from prolo_planner.core.measure import NoValue, Units, target_depth
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.facts import image_facts
from prolo_planner.imaging.open import open_image


def add_measure_parser(sub: Any) -> None:
    measure = sub.add_parser(
        "measure",
        help="distance and depths in mm between two points of an image, as the viewer measures",
    )
    measure.add_argument("file", type=Path)
    measure.add_argument("a", type=point, metavar="X1,Y1", help="first point, image pixels")
    measure.add_argument("b", type=point, metavar="X2,Y2", help="second point, image pixels")
    measure.add_argument("--frame", type=int, default=0, help="frame index, from 0")
    measure.add_argument("--json", action="store_true", help="print JSON")


def point(text: str) -> Point:
    """'120.5,88' as a Point (column, row), for argparse."""
    try:
        x_text, y_text = text.split(",")
        x, y = float(x_text), float(y_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y in image pixels, got {text!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return Point(x, y)


def measurement(calibration: Calibration, a: Point, b: Point) -> dict[str, Any]:
    """What `measure` reports, as plain data: the same numbers the viewer shows."""
    distance = calibration.measure(a, b)  # the caliper's rule: both ends in one region
    out: dict[str, Any] = {
        "distance_mm": distance.mm,
        "distance_px": distance.pixels,
        "distance_problem": distance.problem,
        "points": [_point(calibration, p) for p in (a, b)],
        "calibration": calibration.provenance(),
        "calibration_notes": list(calibration.notes),
        "geometry": describe_geometry(calibration),
    }
    return out


def _point(calibration: Calibration, p: Point) -> dict[str, Any]:
    region = calibration.region_at(p)
    depth = target_depth(p, calibration)
    entry: dict[str, Any] = {
        "x": p.x,
        "y": p.y,
        "region": (region.label or "whole image") if region is not None else None,
    }
    if isinstance(depth, NoValue):
        entry.update(depth_mm=None, depth_px=None, depth_problem=depth.reason)
    elif depth.units is Units.MM:
        entry.update(depth_mm=depth.value, depth_px=None, depth_problem=None)
    else:
        entry.update(depth_mm=None, depth_px=depth.value, depth_problem=depth.problem)
    return entry


def _text(path: Path, frame: int, found: dict[str, Any]) -> str:
    lines = [f"{path} (frame {frame})"]
    if found["distance_mm"] is not None:
        lines.append(f"distance: {found['distance_mm']:.1f} mm ({found['distance_px']:.1f} px)")
    else:
        lines.append(
            f"distance: no mm ({found['distance_problem']}); {found['distance_px']:.1f} px"
        )
    for n, p in enumerate(found["points"], start=1):
        where = p["region"] or "outside the calibrated regions"
        if p["depth_mm"] is not None:
            depth = f"{p['depth_mm']:.1f} mm deep"
        elif p["depth_px"] is not None:
            depth = f"{p['depth_px']:.0f} px deep (no mm: {p['depth_problem']})"
        else:
            depth = f"no depth: {p['depth_problem']}"
        lines.append(f"point {n} ({p['x']:g}, {p['y']:g}): {where}; {depth}")
    lines.append(f"calibration: {found['calibration']}")
    lines += [f"  note: {n}" for n in found["calibration_notes"]]
    lines += [f"geometry: {g}" for g in found["geometry"]]
    return "\n".join(lines)


def run_measure(path: Path, a: Point, b: Point, frame: int, *, as_json: bool) -> int:
    try:
        source = open_image(path)
    except ImageLoadError as exc:
        print(f"prolo-planner: {exc.path}: {exc.reason}", file=sys.stderr)
        return 1
    try:
        try:
            calibration = calibration_in_force(image_facts(source), None, frame)
        except IndexError:
            last = source.frame_count - 1
            print(f"prolo-planner: {path}: no frame {frame} (frames 0 to {last})", file=sys.stderr)
            return 2
        found = measurement(calibration, a, b)
    finally:
        source.close()
    if as_json:
        print(json.dumps({"path": str(path), "frame": frame, **found}, indent=2))
    else:
        print(_text(path, frame, found))
    return 0
