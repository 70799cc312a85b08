"""Geometry the painter and the hit-testing share: zone margins grown by a margin, label boxes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainterPath, QPainterPathStroker, QTransform

from prolo_planner.core.geometry import Point
from prolo_planner.core.overlay_primitives import Label, Placement
from prolo_planner.core.plan import ZoneShape


def qpoint(p: Point) -> QPointF:
    return QPointF(p.x, p.y)


def zone_path(shape: ZoneShape, points: tuple[Point, ...]) -> QPainterPath:
    """A zone's outline in image pixels: an ellipse in its box, a closed polygon, or (fewer
    than three points) the open line through them."""
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.WindingFill)
    if shape is ZoneShape.ELLIPSE and len(points) == 2:
        path.addEllipse(QRectF(qpoint(points[0]), qpoint(points[1])).normalized())
        return path
    if not points:
        return path
    path.moveTo(qpoint(points[0]))
    for p in points[1:]:
        path.lineTo(qpoint(p))
    if len(points) >= 3:
        path.closeSubpath()
    return path


@lru_cache(maxsize=512)
def _grown(shape: ZoneShape, points: tuple[Point, ...], grow_x: float, grow_y: float):
    base = zone_path(shape, points)
    # Scaled so the margin is one unit both ways, a round stroke of width 2 grows the shape by
    # exactly the margin in millimetres, however unequal the pixel spacing across and down.
    unit = QTransform.fromScale(1.0 / grow_x, 1.0 / grow_y).map(base)
    stroker = QPainterPathStroker()
    stroker.setWidth(2.0)
    stroker.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
    stroker.setCurveThreshold(0.002)
    if len(points) == 1:
        dot = QPainterPath()
        dot.addEllipse(unit.elementAt(0).x - 1.0, unit.elementAt(0).y - 1.0, 2.0, 2.0)
        grown = dot
    else:
        grown = stroker.createStroke(unit)
        if len(points) >= 3 or shape is ZoneShape.ELLIPSE:
            grown = grown.united(unit)
    return QTransform.fromScale(grow_x, grow_y).map(grown.simplified())


def grown_outline(
    shape: ZoneShape, points: tuple[Point, ...], grow_x: float, grow_y: float
) -> QPainterPath:
    """The zone grown by its margin (grow_x, grow_y image pixels), in image pixels."""
    if not points or not (grow_x > 0 and grow_y > 0):
        return QPainterPath()
    return QPainterPath(_grown(shape, tuple(points), float(grow_x), float(grow_y)))


def margin_polygons(
    shape: ZoneShape, points: tuple[Point, ...], grow_x: float, grow_y: float
) -> list[tuple[Point, ...]]:
    """The grown outline as closed polygons of image points, for exports that carry vectors
    (a presentation state's polylines) rather than pixels."""
    path = grown_outline(shape, points, grow_x, grow_y)
    return [
        tuple(Point(q.x(), q.y()) for q in polygon)
        for polygon in path.toSubpathPolygons()
        if polygon.size() >= 3
    ]


# -- labels -----------------------------------------------------------------------------------
#: Space between a label's text and the edge of its box, in screen pixels.
LABEL_PAD_X = 4.0
LABEL_PAD_Y = 2.0


def label_font(size_px: float) -> QFont:
    font = QFont()
    # Pixels, not points: the screen and an exported image then draw the same glyph sizes.
    font.setPixelSize(max(1, round(size_px)))
    font.setBold(True)
    return font


@dataclass(frozen=True, slots=True)
class LabelShape:
    """A label's box size and its lines, relative to the box's top-left corner; the key's badge
    and the key's baseline origin when it has a key."""

    width: int
    height: int
    font: QFont
    lines: tuple[tuple[QPointF, str], ...]  # baseline origin of each line
    badge: QRectF | None = None
    key: tuple[QPointF, str] | None = None


#: Space between a badge's key and its edge, in screen pixels.
BADGE_PAD_X = 3.0


@lru_cache(maxsize=1024)
def label_shape(
    text: str, size_px: float, scale: float, centred: bool, key: str = ""
) -> LabelShape:
    """The box and lines of a label `size_px` device pixels high (fonts are slow to measure:
    cached). With a key, the badge comes first; a label of its key alone is all badge."""
    font = label_font(size_px)
    metrics = QFontMetricsF(font)
    texts = text.split("\n") if text else []
    widths = [metrics.horizontalAdvance(t) for t in texts]
    text_w = max(widths, default=0.0)
    line_h = metrics.lineSpacing()
    text_h = max(1, len(texts)) * line_h - metrics.leading()
    pad_x, pad_y = LABEL_PAD_X * scale, LABEL_PAD_Y * scale
    badge = key_at = None
    left = pad_x
    if key:
        key_w = metrics.horizontalAdvance(key)
        badge_w = key_w + 2 * BADGE_PAD_X * scale
        inset = pad_y if texts else 0.0
        badge_h = metrics.ascent() + metrics.descent() + (0.0 if texts else 2 * pad_y)
        badge = QRectF(inset, inset, math.ceil(badge_w), math.ceil(badge_h))
        key_at = (
            QPointF(round(inset + BADGE_PAD_X * scale), round(inset + pad_y + metrics.ascent())),
            key,
        )
        left = inset + badge.width() + (pad_x if texts else 0.0)
    w = math.ceil(left + text_w + (pad_x if texts else 0.0))
    h = math.ceil(text_h + 2 * pad_y)
    if key and not texts:
        w, h = math.ceil(badge.width()), math.ceil(badge.height())  # type: ignore[union-attr]
    lines = []
    baseline = pad_y + metrics.ascent()
    for line, width in zip(texts, widths, strict=True):
        # Whole pixels keep the text crisp and identical wherever the label is drawn.
        lx = left + (text_w - width) / 2 if centred else left
        lines.append((QPointF(round(lx), round(baseline)), line))
        baseline += line_h
    return LabelShape(w, h, font, tuple(lines), badge, key_at)


def label_size(text: str, key: str, size: float, scale: float = 1.0) -> tuple[float, float]:
    """A label's width and height in screen pixels when drawn `scale` device pixels per screen
    pixel: the measure core/label_placement.py places labels with."""
    shape = label_shape(text, size * scale, scale, False, key)
    return shape.width / scale, shape.height / scale


def label_rect(
    label: Label, image_to_device: QTransform, scale: float, inside: QRectF | None = None
) -> tuple[QRectF, LabelShape]:
    """Where a label's box falls in device pixels (whole pixels); `inside` (an exported
    image's rectangle) moves a box that would be cut by its edge back in."""
    centred = label.placement in (Placement.CENTRE, Placement.ABOVE, Placement.BELOW)
    shape = label_shape(label.text, label.size * scale, scale, centred, label.key)
    w, h = shape.width, shape.height
    at = image_to_device.map(QPointF(label.anchor.x, label.anchor.y))
    x = at.x() + label.offset[0] * scale
    y = at.y() + label.offset[1] * scale
    left, top = {
        Placement.RIGHT: (x, y - h / 2),
        Placement.LEFT: (x - w, y - h / 2),
        Placement.ABOVE: (x - w / 2, y - h),
        Placement.BELOW: (x - w / 2, y),
        Placement.CENTRE: (x - w / 2, y - h / 2),
    }[label.placement]
    if inside is not None:
        left = max(inside.left(), min(left, inside.right() - w))
        top = max(inside.top(), min(top, inside.bottom() - h))
    return QRectF(math.floor(left + 0.5), math.floor(top + 0.5), w, h), shape


def leader_line(
    label: Label, rect: QRectF, image_to_device: QTransform, scale: float
) -> tuple[QPointF, QPointF] | None:
    """The leader of a moved label in device pixels: from `leader_gap` out of the point it
    names to the nearest point of its box; None when it has none or it would be a dot."""
    if label.leader is None:
        return None
    start = image_to_device.map(QPointF(label.leader.x, label.leader.y))
    end = QPointF(
        min(max(start.x(), rect.left()), rect.right()),
        min(max(start.y(), rect.top()), rect.bottom()),
    )
    dx, dy = end.x() - start.x(), end.y() - start.y()
    length = math.hypot(dx, dy)
    gap = label.leader_gap * scale
    if length <= gap + 2.0 * scale:
        return None
    return QPointF(start.x() + dx / length * gap, start.y() + dy / length * gap), end
