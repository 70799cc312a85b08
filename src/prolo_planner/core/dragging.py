"""Moving an annotation, or one of its handles, by an offset in image pixels.

A handle is named by a key: a point field ("a", "vertex", "arrow_to", "position"), an item of a
point list ("points.2", "skin.0"), or a side of an ellipse's box ("left", "top"). No key moves
the whole value. Used by the drag on screen and by paste with an offset.
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from typing import Any, TypeVar

from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import AvoidZone, ImagePlan, NeedlePath, Target, ZoneShape

T = TypeVar("T")

_SIDES = {"left": (True, "x"), "right": (False, "x"), "top": (True, "y"), "bottom": (False, "y")}


def _shift(p: Point, dx: float, dy: float) -> Point:
    return Point(p.x + dx, p.y + dy)


def shifted(value: T, dx: float, dy: float) -> T:
    """The whole value moved: every point field and every list of points."""
    if dx == 0 and dy == 0:
        return value
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(value):  # type: ignore[arg-type]
        v = getattr(value, f.name)
        if isinstance(v, Point):
            changes[f.name] = _shift(v, dx, dy)
        elif isinstance(v, tuple) and v and all(isinstance(p, Point) for p in v):
            changes[f.name] = tuple(_shift(p, dx, dy) for p in v)
    return replace(value, **changes)  # type: ignore[type-var]


def moved(value: T, key: str | None, dx: float, dy: float) -> T:
    """The value with the handle `key` (None: all of it) moved by (dx, dy)."""
    if key is None or isinstance(value, Target | NeedlePath):
        # A target has one point; a path's far end is its target's, so only the entry moves.
        return shifted(value, dx, dy)
    point = getattr(value, key, None)
    if isinstance(point, Point):
        return replace(value, **{key: _shift(point, dx, dy)})  # type: ignore[type-var]
    name, _, index = key.partition(".")
    if isinstance(value, AvoidZone) and name == "points" and index.isdigit():
        points = list(value.points)
        points[int(index)] = _shift(points[int(index)], dx, dy)
        return replace(value, points=tuple(points))  # type: ignore[return-value]
    if isinstance(value, ImagePlan) and name == "skin" and index in ("0", "1"):
        if value.skin_line is None:
            return value
        line = list(value.skin_line)
        line[int(index)] = _shift(line[int(index)], dx, dy)
        return replace(value, skin_line=(line[0], line[1]))  # type: ignore[return-value]
    if isinstance(value, AvoidZone) and value.shape is ZoneShape.ELLIPSE and key in _SIDES:
        return _ellipse_side_moved(value, key, dx, dy)  # type: ignore[return-value]
    return value


def _ellipse_side_moved(zone: AvoidZone, side: str, dx: float, dy: float) -> AvoidZone:
    """A side of the ellipse's box: move whichever corner holds that side."""
    if len(zone.points) != 2:
        return zone
    a, b = zone.points
    low_side, axis = _SIDES[side]
    a_is_low = (a.x <= b.x) if axis == "x" else (a.y <= b.y)
    i = 0 if a_is_low == low_side else 1
    points = list(zone.points)
    points[i] = _shift(points[i], dx, 0.0) if axis == "x" else _shift(points[i], 0.0, dy)
    return replace(zone, points=tuple(points))
