"""Paints overlay primitives with QPainter in device pixels: constant widths and label sizes at
any zoom, a dark halo under every line and a dark box under every label, so the overlay reads
over white speckle and black shadow alike. The screen items and the exports call this one module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
    QTransform,
)

from prolo_planner.core.overlay_primitives import (
    Arc,
    Arrow,
    Colour,
    Dash,
    Ellipse,
    Handle,
    Label,
    Line,
    MarginOutline,
    Pen,
    Placement,
    Polygon,
    Polyline,
    Primitive,
    TargetMarker,
)
from prolo_planner.core.plan import SiteStatus, ZoneShape
from prolo_planner.render.shapes import (
    grown_outline,
    label_rect,
    label_shape,
    leader_line,
    zone_path,
)

#: Under every line: a darker, wider stroke (this many screen pixels more on each side).
HALO_COLOUR = QColor(0, 0, 0, 150)
HALO_EXTRA = 1.5
TEXT_OUTLINE = QColor(0, 0, 0, 210)
#: The key in a label's badge: near black on the label's colour.
KEY_TEXT = QColor(12, 12, 14)
#: A leader line's width, screen pixels.
LEADER_WIDTH = 1.25
#: Dash and gap lengths in screen pixels.
DASHES = {Dash.DASHED: (8.0, 5.0), Dash.DOTTED: (2.0, 4.0)}
TICK = 6.0  # half length of a caliper's end bar, screen pixels
#: How far from a line a click still picks it, in screen pixels.
HIT_TOLERANCE = 5.0


def qcolour(c: Colour) -> QColor:
    return QColor(c.r, c.g, c.b, c.a)


def _qpen(pen: Pen, scale: float, colour: QColor | None = None, extra: float = 0.0) -> QPen:
    width = (pen.width + 2 * extra) * scale
    q = QPen(colour if colour is not None else qcolour(pen.colour), width)
    q.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if pen.dash is Dash.SOLID:
        q.setCapStyle(Qt.PenCapStyle.RoundCap)
    else:
        q.setCapStyle(Qt.PenCapStyle.FlatCap)
        on, off = DASHES[pen.dash]
        # Qt counts dashes in pen widths: divide so the halo's dashes match the line's.
        q.setDashPattern([on * scale / width, off * scale / width])
    return q


def _stroke(painter: QPainter, path: QPainterPath, pen: Pen, scale: float) -> None:
    painter.strokePath(path, _qpen(pen, scale, HALO_COLOUR, HALO_EXTRA))
    painter.strokePath(path, _qpen(pen, scale))


def _mapped_path(points: Iterable, t: QTransform, closed: bool = False) -> QPainterPath:
    path = QPainterPath()
    for i, p in enumerate(points):
        q = t.map(QPointF(p.x, p.y))
        if i == 0:
            path.moveTo(q)
        else:
            path.lineTo(q)
    if closed:
        path.closeSubpath()
    return path


def _dev(t: QTransform, p) -> QPointF:
    return t.map(QPointF(p.x, p.y))


# -- one path per primitive: what is stroked, and what a click can hit ------------------------
def _line_path(p: Line, t: QTransform, scale: float) -> QPainterPath:
    a, b = _dev(t, p.a), _dev(t, p.b)
    path = QPainterPath(a)
    path.lineTo(b)
    if p.end_ticks:
        dx, dy = b.x() - a.x(), b.y() - a.y()
        length = math.hypot(dx, dy)
        nx, ny = (-dy / length, dx / length) if length else (0.0, 1.0)
        half = TICK * scale
        for end in (a, b):
            path.moveTo(end + QPointF(nx * half, ny * half))
            path.lineTo(end - QPointF(nx * half, ny * half))
    return path


def _arrow_head(p: Arrow, t: QTransform, scale: float) -> QPolygonF:
    tail, tip = _dev(t, p.tail), _dev(t, p.tip)
    dx, dy = tip.x() - tail.x(), tip.y() - tail.y()
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    head = min(p.head * scale, length)
    base = tip - QPointF(ux * head, uy * head)
    side = QPointF(-uy * head * 0.45, ux * head * 0.45)
    return QPolygonF([tip, base + side, base - side])


def _arc_path(p: Arc, t: QTransform, scale: float) -> QPainterPath:
    v, a, b = _dev(t, p.vertex), _dev(t, p.towards_a), _dev(t, p.towards_b)
    path = QPainterPath()
    if a == v or b == v:
        return path
    # Qt's arc angles run counter-clockwise as seen on screen, where y grows downward.
    start = math.degrees(math.atan2(-(a.y() - v.y()), a.x() - v.x()))
    end = math.degrees(math.atan2(-(b.y() - v.y()), b.x() - v.x()))
    span = (end - start + 180.0) % 360.0 - 180.0
    r = p.radius * scale
    rect = QRectF(v.x() - r, v.y() - r, 2 * r, 2 * r)
    path.arcMoveTo(rect, start)
    path.arcTo(rect, start, span)
    return path


def _marker_geometry(p: TargetMarker, t: QTransform, scale: float):
    c = _dev(t, p.centre)
    r = p.radius * scale
    circle = QPainterPath()
    circle.addEllipse(c, r, r)
    arms = QPainterPath()
    gap, reach = 2.5 * scale, r + 5.0 * scale
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        arms.moveTo(c + QPointF(dx * gap, dy * gap))
        arms.lineTo(c + QPointF(dx * reach, dy * reach))
    strike = QPainterPath()
    if p.status is SiteStatus.SKIPPED:
        k = reach * 0.8
        strike.moveTo(c + QPointF(-k, k))
        strike.lineTo(c + QPointF(k, -k))
    return c, r, circle, arms, strike


def _handle_rect(p: Handle, t: QTransform, scale: float) -> QRectF:
    c = _dev(t, p.at)
    half = p.size * scale / 2
    return QRectF(c.x() - half, c.y() - half, 2 * half, 2 * half)


# -- painting ---------------------------------------------------------------------------------
def _paint_line(painter: QPainter, p: Line, t: QTransform, scale: float) -> None:
    _stroke(painter, _line_path(p, t, scale), p.pen, scale)


def _paint_polyline(painter: QPainter, p: Polyline, t: QTransform, scale: float) -> None:
    _stroke(painter, _mapped_path(p.points, t), p.pen, scale)


def _paint_polygon(painter: QPainter, p: Polygon, t: QTransform, scale: float) -> None:
    path = _mapped_path(p.points, t, closed=True)
    if p.fill is not None:
        painter.fillPath(path, QBrush(qcolour(p.fill)))
    if p.pen is not None:
        _stroke(painter, path, p.pen, scale)


def _paint_ellipse(painter: QPainter, p: Ellipse, t: QTransform, scale: float) -> None:
    path = t.map(zone_path(ZoneShape.ELLIPSE, (p.corner, p.opposite)))
    if p.fill is not None:
        painter.fillPath(path, QBrush(qcolour(p.fill)))
    if p.pen is not None:
        _stroke(painter, path, p.pen, scale)


def _paint_margin(painter: QPainter, p: MarginOutline, t: QTransform, scale: float) -> None:
    path = t.map(grown_outline(p.shape, p.points, p.grow_x, p.grow_y))
    _stroke(painter, path, p.pen, scale)


def _paint_marker(painter: QPainter, p: TargetMarker, t: QTransform, scale: float) -> None:
    c, r, circle, arms, strike = _marker_geometry(p, t, scale)
    colour = qcolour(p.colour)
    width = 2.0 * scale
    halo = QPen(HALO_COLOUR, width + 2 * HALO_EXTRA * scale)
    halo.setCapStyle(Qt.PenCapStyle.RoundCap)
    line = QPen(colour, width)
    line.setCapStyle(Qt.PenCapStyle.RoundCap)
    for path in (circle, arms, strike):
        painter.strokePath(path, halo)
    if p.status is SiteStatus.INJECTED:
        painter.fillPath(circle, QBrush(colour))
        # The centre stays marked on the filled disc: dark arms across it.
        inner = QPainterPath()
        inner.moveTo(c + QPointF(-r * 0.6, 0))
        inner.lineTo(c + QPointF(r * 0.6, 0))
        inner.moveTo(c + QPointF(0, -r * 0.6))
        inner.lineTo(c + QPointF(0, r * 0.6))
        painter.strokePath(inner, QPen(HALO_COLOUR, 1.5 * scale))
    else:
        painter.strokePath(circle, line)
    painter.strokePath(arms, line)
    painter.strokePath(strike, line)


def _paint_arrow(painter: QPainter, p: Arrow, t: QTransform, scale: float) -> None:
    tail, tip = _dev(t, p.tail), _dev(t, p.tip)
    head = _arrow_head(p, t, scale)
    shaft_end = (head[1] + head[2]) / 2  # the shaft stops at the head's base: a sharp tip
    shaft = QPainterPath(tail)
    shaft.lineTo(shaft_end if tip != tail else tip)
    tri = QPainterPath()
    tri.addPolygon(head)
    tri.closeSubpath()
    halo = QPen(HALO_COLOUR, 2 * HALO_EXTRA * scale)
    halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.strokePath(shaft, _qpen(p.pen, scale, HALO_COLOUR, HALO_EXTRA))
    painter.strokePath(tri, halo)
    painter.strokePath(shaft, _qpen(p.pen, scale))
    painter.fillPath(tri, QBrush(qcolour(p.pen.colour)))


def _paint_arc(painter: QPainter, p: Arc, t: QTransform, scale: float) -> None:
    _stroke(painter, _arc_path(p, t, scale), p.pen, scale)


@lru_cache(maxsize=512)
def _label_image(
    text: str,
    size_px: float,
    centred: bool,
    colour: Colour,
    box: Colour | None,
    scale: float,
    ratio: float,
    key: str = "",
) -> tuple[QImage, int]:
    """A label drawn once into an image, with the margin its outline may need: outlined text
    is slow to draw, and the screen redraws every label at every frame of a cine."""
    shape = label_shape(text, size_px, scale, centred, key)
    margin = math.ceil(2.0 * scale) + 1
    image = QImage(
        math.ceil((shape.width + 2 * margin) * ratio),
        math.ceil((shape.height + 2 * margin) * ratio),
        QImage.Format.Format_ARGB32_Premultiplied,
    )
    image.setDevicePixelRatio(ratio)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.translate(margin, margin)
        if box is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(qcolour(box))
            painter.drawRoundedRect(
                QRectF(0, 0, shape.width, shape.height), 3.0 * scale, 3.0 * scale
            )
        if shape.badge is not None and shape.key is not None:
            painter.setPen(QPen(TEXT_OUTLINE, 1.0 * scale))
            painter.setBrush(qcolour(colour))
            painter.drawRoundedRect(shape.badge, 3.0 * scale, 3.0 * scale)
            key_path = QPainterPath()
            key_path.addText(shape.key[0], shape.font, shape.key[1])
            painter.fillPath(key_path, QBrush(KEY_TEXT))
        text = QPainterPath()
        for origin, line in shape.lines:
            text.addText(origin, shape.font, line)
        outline = QPen(TEXT_OUTLINE, 2.5 * scale)
        outline.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.strokePath(text, outline)
        painter.fillPath(text, QBrush(qcolour(colour)))
    finally:
        painter.end()
    return image, margin


def _paint_label(
    painter: QPainter, p: Label, t: QTransform, scale: float, inside: QRectF | None = None
) -> None:
    rect, _ = label_rect(p, t, scale, inside)
    leader = leader_line(p, rect, t, scale)
    if leader is not None:
        path = QPainterPath(leader[0])
        path.lineTo(leader[1])
        _stroke(painter, path, Pen(p.colour, LEADER_WIDTH), scale)
    device = painter.device()
    ratio = device.devicePixelRatioF() if device is not None else 1.0
    centred = p.placement in (Placement.CENTRE, Placement.ABOVE, Placement.BELOW)
    image, margin = _label_image(
        p.text, p.size * scale, centred, p.colour, p.box, scale, ratio, p.key
    )
    painter.drawImage(QPointF(rect.left() - margin, rect.top() - margin), image)


def _paint_handle(painter: QPainter, p: Handle, t: QTransform, scale: float) -> None:
    rect = _handle_rect(p, t, scale)
    painter.setPen(QPen(QColor(0, 0, 0, 220), 1.0 * scale))
    painter.setBrush(qcolour(p.colour))
    painter.drawRect(rect)


_PAINT: dict[type, Callable[[QPainter, object, QTransform, float], None]] = {
    Line: _paint_line,
    Polyline: _paint_polyline,
    Polygon: _paint_polygon,
    Ellipse: _paint_ellipse,
    MarginOutline: _paint_margin,
    TargetMarker: _paint_marker,
    Arrow: _paint_arrow,
    Arc: _paint_arc,
    Label: _paint_label,
    Handle: _paint_handle,
}


def paint_overlay(
    painter: QPainter,
    primitives: Iterable[Primitive],
    *,
    image_to_device: QTransform,
    device_pixel_scale: float = 1.0,
    keep_labels_inside: QRectF | None = None,
) -> None:
    """Paint primitives in order. `image_to_device` maps image pixels to the painter's device
    (the view's transform on screen, a scaling in an export); lines, markers and labels are
    `device_pixel_scale` times their screen-pixel sizes whatever that transform's zoom.
    `keep_labels_inside` (device pixels) moves labels that would be cut by an image's edge."""
    painter.save()
    try:
        painter.setTransform(QTransform())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        for p in primitives:
            if isinstance(p, Label):
                _paint_label(painter, p, image_to_device, device_pixel_scale, keep_labels_inside)
            else:
                _PAINT[type(p)](painter, p, image_to_device, device_pixel_scale)
    finally:
        painter.restore()


# -- what a click hits, and how far the drawing reaches ---------------------------------------
def _widened(path: QPainterPath, width: float) -> QPainterPath:
    stroker = QPainterPathStroker()
    stroker.setWidth(max(width, 1.0))
    stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
    stroker.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return stroker.createStroke(path)


def primitive_region(
    p: Primitive, image_to_device: QTransform, scale: float = 1.0, tolerance: float = 0.0
) -> QPainterPath:
    """The device area a primitive covers, grown by `tolerance` screen pixels (halo included
    when tolerance >= HALO_EXTRA). Zone fills count as area; margins only as their line."""
    t, tol = image_to_device, tolerance * scale
    if isinstance(p, Label):
        rect = label_rect(p, t, scale)[0]
        path = QPainterPath()
        path.addRect(rect.adjusted(-tol, -tol, tol, tol))
        leader = leader_line(p, rect, t, scale)
        if leader is not None:
            line = QPainterPath(leader[0])
            line.lineTo(leader[1])
            path = path.united(_widened(line, LEADER_WIDTH * scale + 2 * tol))
        return path
    if isinstance(p, Handle):
        path = QPainterPath()
        path.addRect(_handle_rect(p, t, scale).adjusted(-tol, -tol, tol, tol))
        return path
    if isinstance(p, TargetMarker):
        c, r, *_ = _marker_geometry(p, t, scale)
        reach = r + 5.0 * scale + tol + HALO_EXTRA * scale
        path = QPainterPath()
        path.addEllipse(c, reach, reach)
        return path
    if isinstance(p, Arrow):
        shaft = QPainterPath(_dev(t, p.tail))
        shaft.lineTo(_dev(t, p.tip))
        path = _widened(shaft, p.pen.width * scale + 2 * tol)
        head = QPainterPath()
        head.addPolygon(_arrow_head(p, t, scale))
        return path.united(head)
    if isinstance(p, Line):
        stroked = _line_path(p, t, scale)
    elif isinstance(p, Polyline):
        stroked = _mapped_path(p.points, t)
    elif isinstance(p, Arc):
        stroked = _arc_path(p, t, scale)
    elif isinstance(p, MarginOutline):
        stroked = t.map(grown_outline(p.shape, p.points, p.grow_x, p.grow_y))
    elif isinstance(p, Polygon):
        stroked = _mapped_path(p.points, t, closed=True)
    else:  # Ellipse
        stroked = t.map(zone_path(ZoneShape.ELLIPSE, (p.corner, p.opposite)))
    pen = getattr(p, "pen", None)
    width = (pen.width if pen is not None else 1.0) * scale + 2 * tol
    region = _widened(stroked, width)
    if isinstance(p, Polygon | Ellipse) and p.fill is not None:
        region = region.united(stroked)
    return region


def hit_primitive(
    p: Primitive,
    device_point: QPointF,
    image_to_device: QTransform,
    scale: float = 1.0,
    tolerance: float = HIT_TOLERANCE,
) -> bool:
    """Whether a point (device pixels) falls on the primitive, within tolerance."""
    return primitive_region(p, image_to_device, scale, tolerance).contains(device_point)


def overlay_device_bounds(
    primitives: Iterable[Primitive], image_to_device: QTransform, scale: float = 1.0
) -> QRectF:
    """The device rectangle everything painted covers, halos and labels included."""
    rect = QRectF()
    for p in primitives:
        rect = rect.united(
            primitive_region(p, image_to_device, scale, HALO_EXTRA + 1.0).boundingRect()
        )
    return rect
