"""Finding the probe's fan in the pixels: linear or radiating, its virtual apex and its face.

The scanned area of an ultrasound frame is the largest connected patch of non-black pixels in
its region (text, ticks and markers are thin and fall away under a morphological opening). Its
left and right edges, row by row, are straight lines: parallel for a linear probe, meeting at
the virtual apex for a curvilinear or sector probe. Its top edge, column by column, is the face:
flat for a linear probe, an arc around the apex for a radiating one. The approach follows the
fan-angle detectors of PLUS (vtkIGSIOFanAngleDetectorAlgo) and FAST's UltrasoundImageCropper
(per-row and per-column extents of the non-zero pixels), with robust line and circle fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from prolo_planner.core.plan import ProbeShape
from prolo_planner.core.probe import FanFinding

Box = tuple[int, int, int, int]

#: Smallest share of the box the scanned area must cover to be taken as the fan.
_MIN_AREA_SHARE = 0.08
#: Edges steeper than this (columns per row) are taken as vertical: a linear probe's sides.
_PARALLEL_SLOPE = 0.03
#: A face whose arc rises less than this many pixels over its chord is flat.
_MIN_SAGITTA_PX = 3.0
_ROUND_15 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15))
#: A fan whose face is narrower than this share of its widest row is a phased array's sector.
_SECTOR_FACE_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class _Side:
    """One straight side of the fan: x = slope * y + intercept, from row y_top to y_bottom."""

    slope: float
    intercept: float
    y_top: float
    y_bottom: float

    def x_at(self, y: float) -> float:
        return self.slope * y + self.intercept


def grey(frame: np.ndarray) -> np.ndarray:
    return frame if frame.ndim == 2 else frame.max(axis=2)


def find_fan(frames: list[np.ndarray], box: Box) -> FanFinding | None:
    """The fan in `box` (x0, y0, x1, y1, inclusive) of these frames of one image, or None when
    no scanned area stands out. Several frames of a cine are combined (their maximum), so a
    dark frame does not hide the fan's edges."""
    if not frames:
        return None
    x0, y0, x1, y1 = box
    stack = np.maximum.reduce([grey(f)[y0 : y1 + 1, x0 : x1 + 1] for f in frames])
    if stack.size == 0 or min(stack.shape) < 16:
        return None
    mask = _scanned_area(stack)
    if mask is None:
        return None
    finding = _shape(mask)
    if finding is None:
        return None
    # Back to image coordinates.
    reach = finding.reach_px
    if reach is None and finding.apex_y is not None and finding.half_angle_deg is not None:
        radius = finding.face_y - finding.apex_y
        reach = radius * math.sin(math.radians(finding.half_angle_deg))
    return FanFinding(
        finding.shape,
        finding.centre_x + x0,
        finding.face_y + y0,
        None if finding.apex_y is None else finding.apex_y + y0,
        finding.half_angle_deg,
        reach,
    )


def _scanned_area(pixels: np.ndarray) -> np.ndarray | None:
    """The largest patch of non-black pixels, holes filled, thin marks removed."""
    threshold = _threshold(pixels)
    raw = (pixels > threshold).astype(np.uint8)
    closed = cv2.morphologyEx(raw, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    mask = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((7, 7), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    if count <= 1:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[largest, cv2.CC_STAT_AREA] < _MIN_AREA_SHARE * mask.size:
        return None
    return labels == largest


def _threshold(pixels: np.ndarray) -> int:
    """Black is 0 on most scanners, a little above it after JPEG: take the background level
    from the darkest tenth of the rows' minima."""
    floor = int(np.percentile(pixels.min(axis=1), 10))
    return floor + (0 if floor == 0 and (pixels == 0).mean() > 0.2 else 2)


def _face(mask: np.ndarray) -> np.ndarray:
    """Points (x, y) of the fan's top edge between its two top corners (the highest point of
    its left and of its right half): the face, without the sides running down from it."""
    cols = np.flatnonzero(mask.any(axis=0))
    tops = np.argmax(mask[:, cols], axis=0).astype(float)
    points = np.column_stack([cols.astype(float), tops])
    middle = (cols[0] + cols[-1]) / 2
    left, right = points[points[:, 0] <= middle], points[points[:, 0] > middle]
    if left.shape[0] == 0 or right.shape[0] == 0:
        return points
    # The outermost of the highest points on each side: where the face meets the sides.
    lx = left[left[:, 1] <= left[:, 1].min() + 1][:, 0].min()
    rx = right[right[:, 1] <= right[:, 1].min() + 1][:, 0].max()
    face = points[(points[:, 0] >= lx) & (points[:, 0] <= rx) & (points[:, 1] > 0)]
    return face if face.shape[0] >= 8 else points


def _sides(mask: np.ndarray, below: float) -> tuple[_Side | None, _Side | None]:
    """The fan's straight left and right sides, fitted (robustly) to the rows below `below`
    where the fan's extent is its convex hull's: shadows inside the fan (bone) fall short of
    the hull and are left out, and so are the rows where the box cut the fan."""
    # A wider opening first takes off markers stuck to the fan (a probe-side dot, a colour bar).
    body = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, _ROUND_15)
    contours, _ = cv2.findContours(body, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None, None
    hull = np.zeros_like(body)
    cv2.fillConvexPoly(hull, cv2.convexHull(max(contours, key=cv2.contourArea)), 1)
    height, width = mask.shape
    rows = np.flatnonzero(body.any(axis=1) & hull.any(axis=1))
    rows = rows[rows > below]
    if rows.size < 0.15 * height:
        return None, None
    lx = np.argmax(body[rows] > 0, axis=1).astype(float)
    rx = (width - 1 - np.argmax(body[rows, ::-1] > 0, axis=1)).astype(float)
    hlx = np.argmax(hull[rows] > 0, axis=1).astype(float)
    hrx = (width - 1 - np.argmax(hull[rows, ::-1] > 0, axis=1)).astype(float)
    found: list[_Side | None] = []
    for x, hx, cut in ((lx, hlx, lx <= 1), (rx, hrx, rx >= width - 2)):
        use = (np.abs(x - hx) <= 4) & ~cut
        if use.sum() < 0.15 * height:
            found.append(None)
            continue
        ys = rows[use].astype(float)
        slope, intercept, _ = _theil_sen(ys, x[use])
        found.append(_Side(slope, intercept, float(ys.min()), float(ys.max())))
    return found[0], found[1]


def _theil_sen(ys: np.ndarray, xs: np.ndarray) -> tuple[float, float, float]:
    """x = slope * y + intercept, robust to a few outliers; and the median absolute residual."""
    step = max(1, ys.size // 80)
    ys_s, xs_s = ys[::step], xs[::step]
    dy = ys_s[None, :] - ys_s[:, None]
    dx = xs_s[None, :] - xs_s[:, None]
    valid = dy > 0
    if not valid.any():
        return 0.0, float(np.median(xs)), 0.0
    slope = float(np.median(dx[valid] / dy[valid]))
    intercept = float(np.median(xs - slope * ys))
    residual = float(np.median(np.abs(xs - (slope * ys + intercept))))
    return slope, intercept, residual


def _fit_circle(points: np.ndarray) -> tuple[float, float, float] | None:
    """Circle through most of the points: a least-squares (Kasa) fit, refitted three times
    without the points far off it (a marker or a bar beside the face)."""
    circle = _kasa(points)
    for _ in range(3):
        if circle is None:
            return None
        cx, cy, r = circle
        off = np.abs(np.hypot(points[:, 0] - cx, points[:, 1] - cy) - r)
        keep = off <= max(1.5, 2.0 * float(np.median(off)))
        if keep.all() or keep.sum() < 8:
            break
        points = points[keep]
        circle = _kasa(points)
    return circle


def _kasa(points: np.ndarray) -> tuple[float, float, float] | None:
    if points.shape[0] < 5:
        return None
    x, y = points[:, 0], points[:, 1]
    a = np.column_stack([x, y, np.ones_like(x)])
    b = x * x + y * y
    try:
        (c0, c1, c2), *_ = np.linalg.lstsq(a, b, rcond=None)
    except np.linalg.LinAlgError:
        return None
    cx, cy = c0 / 2, c1 / 2
    r2 = c2 + cx * cx + cy * cy
    if not (math.isfinite(r2) and r2 > 0):
        return None
    return float(cx), float(cy), math.sqrt(r2)


def _shape(mask: np.ndarray) -> FanFinding | None:
    width = mask.shape[1]
    top = _face(mask)
    face_row = float(np.min(top[:, 1]))
    left, right = _sides(mask, float(np.max(top[:, 1])))
    widest = float(np.ptp(np.flatnonzero(mask.any(axis=0)))) + 1
    by_sides = _from_sides(left, right, top, widest, width)
    by_arc = _from_arc(top, face_row, width)
    # A face that shows its arc gives apex and radius most precisely (many points, no
    # extrapolation); the sides' crossing checks it, and serves where the face is flat or cut.
    if by_arc is not None and by_sides is not None:
        arc_r = by_arc.face_y - (by_arc.apex_y or 0.0)
        sides_r = by_sides.face_y - (by_sides.apex_y or 0.0)
        if abs(arc_r - sides_r) <= 0.25 * sides_r:
            return FanFinding(
                ProbeShape.CURVED,
                by_arc.centre_x,
                by_arc.face_y,
                by_arc.apex_y,
                by_sides.half_angle_deg,
                by_arc.reach_px,
            )
        return by_sides
    if by_arc is not None or by_sides is not None:
        return by_arc or by_sides
    xs = np.flatnonzero(mask.any(axis=0))
    centre = (float(xs[0]) + float(xs[-1]) + 1) / 2
    return FanFinding(ProbeShape.LINEAR, centre, face_row, None, None)


def _from_sides(
    left: _Side | None, right: _Side | None, top: np.ndarray, widest: float, width: int
) -> FanFinding | None:
    if not (
        left is not None
        and right is not None
        and left.slope < -_PARALLEL_SLOPE
        and right.slope > _PARALLEL_SLOPE
    ):
        return None
    apex_y = (right.intercept - left.intercept) / (left.slope - right.slope)
    apex_x = left.x_at(apex_y)
    # The face: the top edge near the centre beam, at one radius from the apex.
    near = np.abs(top[:, 0] - apex_x) <= max(4.0, 0.2 * float(np.ptp(top[:, 0])))
    chosen = top[near] if near.any() else top
    radius = float(np.median(np.hypot(chosen[:, 0] - apex_x, chosen[:, 1] - apex_y)))
    face_y = apex_y + radius
    half_angle = math.degrees((math.atan(-left.slope) + math.atan(right.slope)) / 2)
    chord = right.x_at(face_y) - left.x_at(face_y)
    kind = ProbeShape.SECTOR if chord < _SECTOR_FACE_SHARE * widest else ProbeShape.CURVED
    if not (apex_y < face_y and 0 <= apex_x < width):
        return None
    return FanFinding(kind, float(apex_x), float(face_y), float(apex_y), half_angle)


def _from_arc(top: np.ndarray, face_row: float, width: int) -> FanFinding | None:
    circle = _fit_circle(top)
    if circle is None:
        return None
    cx, cy, radius = circle
    # Within a few pixels: video codecs move edges in 8-pixel blocks.
    on_arc = np.abs(np.hypot(top[:, 0] - cx, top[:, 1] - cy) - radius) <= 4.0
    arc = top[on_arc]
    sagitta = float(np.ptp(arc[:, 1])) if arc.shape[0] else 0.0
    if not (
        on_arc.mean() >= 0.7 and sagitta >= _MIN_SAGITTA_PX and cy < face_row and 0 <= cx < width
    ):
        return None
    # The face's arc ends where the sides begin: its widest reach off the centre beam.
    reach = float(np.max(np.abs(arc[:, 0] - cx)))
    half_angle = math.degrees(math.asin(min(1.0, reach / radius)))
    return FanFinding(ProbeShape.CURVED, cx, cy + radius, cy, half_angle, reach)
