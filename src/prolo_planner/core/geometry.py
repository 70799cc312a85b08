"""Points and distances in image pixel coordinates.

Convention: x is the column, y the row, both floats. Pixel (c, r) covers the square
[c, c+1) x [r, r+1), so its centre is (c + 0.5, r + 0.5). This matches Qt's scene
coordinates for a pixmap item placed at the origin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float

    def pixel(self) -> tuple[int, int]:
        """The (column, row) of the pixel this point falls in."""
        return math.floor(self.x), math.floor(self.y)


def pixel_distance(a: Point, b: Point) -> float:
    return math.hypot(b.x - a.x, b.y - a.y)


# -- segments, polygons, ellipses and angles ------------------------------------------------
# These work in any Cartesian plane: image pixels, or millimetres after the calibration has
# scaled the pixels (an axis-aligned scaling keeps segments, polygons and axis-aligned
# ellipses what they are, so the same functions serve both).


def _cross(o: Point, a: Point, b: Point) -> float:
    """Twice the signed area of triangle o, a, b: > 0 when a -> b turns left around o."""
    return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)


def _within_box(p: Point, a: Point, b: Point) -> bool:
    return min(a.x, b.x) <= p.x <= max(a.x, b.x) and min(a.y, b.y) <= p.y <= max(a.y, b.y)


def point_segment_distance(p: Point, a: Point, b: Point) -> float:
    """Shortest distance from p to the segment a-b (a point when a == b)."""
    dx, dy = b.x - a.x, b.y - a.y
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        return pixel_distance(p, a)
    t = max(0.0, min(1.0, ((p.x - a.x) * dx + (p.y - a.y) * dy) / length2))
    return math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy))


def point_line_distance(p: Point, a: Point, b: Point) -> float:
    """Perpendicular distance from p to the infinite line through a and b (a != b)."""
    length = pixel_distance(a, b)
    if length == 0.0:
        raise ValueError("a line needs two distinct points")
    return abs(_cross(a, b, p)) / length


def segments_intersect(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether segments a-b and c-d share a point (touching and overlapping count)."""
    d1, d2 = _cross(c, d, a), _cross(c, d, b)
    d3, d4 = _cross(a, b, c), _cross(a, b, d)
    if ((d1 > 0 and d2 < 0) or (d1 < 0 and d2 > 0)) and (
        (d3 > 0 and d4 < 0) or (d3 < 0 and d4 > 0)
    ):
        return True
    # Collinear or touching: an end lies on the other segment.
    return (
        (d1 == 0 and _within_box(a, c, d))
        or (d2 == 0 and _within_box(b, c, d))
        or (d3 == 0 and _within_box(c, a, b))
        or (d4 == 0 and _within_box(d, a, b))
    )


def segment_segment_distance(a: Point, b: Point, c: Point, d: Point) -> float:
    """Shortest distance between segments a-b and c-d; 0 when they intersect."""
    if segments_intersect(a, b, c, d):
        return 0.0
    # Disjoint segments are closest at an end of one of them.
    return min(
        point_segment_distance(a, c, d),
        point_segment_distance(b, c, d),
        point_segment_distance(c, a, b),
        point_segment_distance(d, a, b),
    )


def point_in_polygon(p: Point, polygon: tuple[Point, ...]) -> bool:
    """Whether p lies inside or on the closed polygon (even-odd rule, boundary counts)."""
    n = len(polygon)
    if n == 0:
        return False
    if n < 3:
        return point_segment_distance(p, polygon[0], polygon[-1]) == 0.0
    inside = False
    for i in range(n):
        a, b = polygon[i], polygon[(i + 1) % n]
        if _cross(a, b, p) == 0 and _within_box(p, a, b):
            return True
        if (a.y > p.y) != (b.y > p.y):
            x_at = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y)
            if p.x < x_at:
                inside = not inside
    return inside


def _edges(polygon: tuple[Point, ...]) -> list[tuple[Point, Point]]:
    n = len(polygon)
    if n <= 2:
        return [(polygon[0], polygon[-1])] if n else []
    return [(polygon[i], polygon[(i + 1) % n]) for i in range(n)]


def segment_crosses_polygon(a: Point, b: Point, polygon: tuple[Point, ...]) -> bool:
    """Whether the segment a-b touches the closed polygon: crosses an edge or lies inside."""
    if point_in_polygon(a, polygon):
        return True
    return any(segments_intersect(a, b, c, d) for c, d in _edges(polygon))


def segment_polygon_distance(a: Point, b: Point, polygon: tuple[Point, ...]) -> float:
    """Shortest distance from segment a-b to the closed polygon (its area); 0 when they meet.

    A polygon of one or two points is a point or a segment.
    """
    if not polygon:
        raise ValueError("a polygon needs at least one point")
    if segment_crosses_polygon(a, b, polygon):
        return 0.0
    return min(segment_segment_distance(a, b, c, d) for c, d in _edges(polygon))


def ellipse_polygon(corner: Point, opposite: Point, segments: int = 64) -> tuple[Point, ...]:
    """Points on the axis-aligned ellipse inscribed in the box with these opposite corners."""
    if segments < 3:
        raise ValueError("an ellipse polygon needs at least 3 segments")
    cx, cy = (corner.x + opposite.x) / 2, (corner.y + opposite.y) / 2
    rx, ry = abs(opposite.x - corner.x) / 2, abs(opposite.y - corner.y) / 2
    return tuple(
        Point(
            cx + rx * math.cos(2 * math.pi * k / segments),
            cy + ry * math.sin(2 * math.pi * k / segments),
        )
        for k in range(segments)
    )


def _ellipse_axes(corner: Point, opposite: Point) -> tuple[float, float, float, float]:
    """Centre x, y and semi-axes x, y of the ellipse inscribed in the box."""
    return (
        (corner.x + opposite.x) / 2,
        (corner.y + opposite.y) / 2,
        abs(opposite.x - corner.x) / 2,
        abs(opposite.y - corner.y) / 2,
    )


#: An ellipse thinner than this fraction of its length, or smaller than _TINY (in pixels or
#: mm, far below anything drawn), is taken as the segment along it: the error is below its
#: thickness, and the exact formulas would overflow.
_FLAT = 1e-9
_TINY = 1e-9


def _flat_segment(cx: float, cy: float, rx: float, ry: float) -> tuple[Point, Point] | None:
    if min(rx, ry) > _FLAT * max(rx, ry) and max(rx, ry) >= _TINY:
        return None
    if rx >= ry:
        return Point(cx - rx, cy), Point(cx + rx, cy)
    return Point(cx, cy - ry), Point(cx, cy + ry)


def _ellipse_root(r0: float, z0: float, z1: float, g: float) -> float:
    # Bisection for the root of Eberly's F(s) = (r0 z0/(s+r0))^2 + (z1/(s+1))^2 - 1, which is
    # monotone in s: robust where Newton's method overshoots (points near the ellipse's axes).
    n0 = r0 * z0
    s0 = z1 - 1.0
    s1 = 0.0 if g < 0 else math.hypot(n0, z1) - 1.0
    s = 0.0
    for _ in range(1100):  # enough to exhaust double precision
        s = (s0 + s1) / 2
        if s in (s0, s1):
            break
        f = (n0 / (s + r0)) ** 2 + (z1 / (s + 1.0)) ** 2 - 1.0
        if f > 0:
            s0 = s
        elif f < 0:
            s1 = s
        else:
            break
    return s


def _boundary_distance_first_quadrant(e0: float, e1: float, y0: float, y1: float) -> float:
    """Distance from (y0, y1) >= 0 to the ellipse x^2/e0^2 + y^2/e1^2 = 1, e0 >= e1 > 0.

    D. Eberly, "Distance from a point to an ellipse, an ellipsoid, or a hyperellipsoid" (2013).
    """
    if y1 > 0:
        if y0 > 0:
            z0, z1 = y0 / e0, y1 / e1
            g = z0 * z0 + z1 * z1 - 1.0
            if g == 0:
                return 0.0
            r0 = (e0 / e1) ** 2
            s = _ellipse_root(r0, z0, z1, g)
            x0, x1 = r0 * y0 / (s + r0), y1 / (s + 1.0)
            return math.hypot(x0 - y0, x1 - y1)
        return abs(y1 - e1)
    numer0, denom0 = e0 * y0, e0 * e0 - e1 * e1
    if numer0 < denom0:
        xde0 = numer0 / denom0
        x0, x1 = e0 * xde0, e1 * math.sqrt(max(0.0, 1.0 - xde0 * xde0))
        return math.hypot(x0 - y0, x1)
    return abs(y0 - e0)


def point_ellipse_distance(p: Point, corner: Point, opposite: Point) -> float:
    """Distance from p to the filled axis-aligned ellipse inscribed in the box; 0 inside."""
    cx, cy, rx, ry = _ellipse_axes(corner, opposite)
    if flat := _flat_segment(cx, cy, rx, ry):
        return point_segment_distance(p, *flat)
    dx, dy = abs(p.x - cx), abs(p.y - cy)
    if (dx / rx) ** 2 + (dy / ry) ** 2 <= 1.0:
        return 0.0
    if rx >= ry:
        return _boundary_distance_first_quadrant(rx, ry, dx, dy)
    return _boundary_distance_first_quadrant(ry, rx, dy, dx)


def segment_crosses_ellipse(a: Point, b: Point, corner: Point, opposite: Point) -> bool:
    """Whether segment a-b touches the filled axis-aligned ellipse inscribed in the box."""
    cx, cy, rx, ry = _ellipse_axes(corner, opposite)
    if flat := _flat_segment(cx, cy, rx, ry):
        return segments_intersect(a, b, *flat)
    # Scaling the ellipse to the unit circle keeps which points lie on the segment.
    ua = Point((a.x - cx) / rx, (a.y - cy) / ry)
    ub = Point((b.x - cx) / rx, (b.y - cy) / ry)
    return point_segment_distance(Point(0.0, 0.0), ua, ub) <= 1.0


def segment_ellipse_distance(a: Point, b: Point, corner: Point, opposite: Point) -> float:
    """Exact shortest distance from segment a-b to the filled axis-aligned ellipse; 0 on contact.

    The distance to a convex set is a convex function along the segment, so its minimum on the
    segment lies at the minimiser on the whole line, clamped to the segment's ends.
    """
    if segment_crosses_ellipse(a, b, corner, opposite):
        return 0.0
    cx, cy, rx, ry = _ellipse_axes(corner, opposite)
    if flat := _flat_segment(cx, cy, rx, ry):
        return segment_segment_distance(a, b, *flat)
    dx, dy = b.x - a.x, b.y - a.y
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        return point_ellipse_distance(a, corner, opposite)
    # The segment's nearest point is the line's nearest point, clamped. Parameters along a line
    # survive the scaling to the unit circle, so a line through the ellipse is nearest (at 0)
    # at its chord's middle, the foot of the perpendicular from the circle's centre.
    ux, uy = (a.x - cx) / rx, (a.y - cy) / ry
    vx, vy = dx / rx, dy / ry
    t_unit = -(ux * vx + uy * vy) / (vx * vx + vy * vy)
    if math.hypot(ux + t_unit * vx, uy + t_unit * vy) <= 1.0:
        t = t_unit
    else:
        # A line clear of the ellipse is nearest where the ellipse's tangent runs parallel to
        # it: the support point along the normal that faces the line, projected onto it.
        nx, ny = -dy, dx
        if (cx - a.x) * nx + (cy - a.y) * ny > 0:
            nx, ny = -nx, -ny
        scale = math.hypot(rx * nx, ry * ny)
        qx, qy = cx + rx * rx * nx / scale, cy + ry * ry * ny / scale
        t = ((qx - a.x) * dx + (qy - a.y) * dy) / length2
    t = max(0.0, min(1.0, t))
    return point_ellipse_distance(Point(a.x + t * dx, a.y + t * dy), corner, opposite)


def angle_between(u: tuple[float, float], v: tuple[float, float]) -> float:
    """The angle in degrees, 0 to 180, between two vectors (dx, dy); neither may be zero."""
    if (u[0] == 0 and u[1] == 0) or (v[0] == 0 and v[1] == 0):
        raise ValueError("an angle needs two non-zero vectors")
    cross = u[0] * v[1] - u[1] * v[0]
    dot = u[0] * v[0] + u[1] * v[1]
    # atan2 of |cross| and dot stays accurate near 0 and 180 degrees, where acos does not.
    return math.degrees(math.atan2(abs(cross), dot))
