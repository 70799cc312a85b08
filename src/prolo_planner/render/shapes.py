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
    """A label's box size and its lines, relative to the box's top-left corner."""

    width: int
    height: int
    font: QFont
    lines: tuple[tuple[QPointF, str], ...]  # baseline origin of each line


@lru_cache(maxsize=1024)
def label_shape(text: str, size_px: float, scale: float, centred: bool) -> LabelShape:
    """The box and lines of a label `size_px` device pixels high (fonts are slow to measure:
    cached)."""
    font = label_font(size_px)
    metrics = QFontMetricsF(font)
    texts = text.split("\n")
    widths = [metrics.horizontalAdvance(t) for t in texts]
    text_w = max(widths, default=0.0)
    text_h = len(texts) * metrics.lineSpacing() - metrics.leading()
    pad_x, pad_y = LABEL_PAD_X * scale, LABEL_PAD_Y * scale
    w, h = math.ceil(text_w + 2 * pad_x), math.ceil(text_h + 2 * pad_y)
    lines = []
    baseline = pad_y + metrics.ascent()
    for line, width in zip(texts, widths, strict=True):
        # Whole pixels keep the text crisp and identical wherever the label is drawn.
        lx = (w - width) / 2 if centred else pad_x
        lines.append((QPointF(round(lx), round(baseline)), line))
        baseline += metrics.lineSpacing()
    return LabelShape(w, h, font, tuple(lines))


def label_rect(
    label: Label, image_to_device: QTransform, scale: float, inside: QRectF | None = None
) -> tuple[QRectF, LabelShape]:
    """Where a label's box falls in device pixels (whole pixels); `inside` (an exported
    image's rectangle) moves a box that would be cut by its edge back in."""
    centred = label.placement in (Placement.CENTRE, Placement.ABOVE, Placement.BELOW)
    shape = label_shape(label.text, label.size * scale, scale, centred)
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
