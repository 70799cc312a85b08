"""Small coloured icons the panels share: severity dots in the overlay's warning colours."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

from prolo_planner.core.overlay_primitives import Colour, OverlayStyle
from prolo_planner.core.plan import AnnotationKind, AvoidKind
from prolo_planner.core.safety import Severity

_STYLE = OverlayStyle()
INFO_COLOUR = Colour(90, 170, 255)


def qcolor(c: Colour) -> QColor:
    return QColor(c.r, c.g, c.b, c.a)


def severity_colour(severity: Severity | None) -> QColor:
    if severity is Severity.DANGER:
        return qcolor(_STYLE.danger)
    if severity is Severity.WARNING:
        return qcolor(_STYLE.warning)
    return qcolor(INFO_COLOUR)


def kind_colour(kind: AnnotationKind, avoid: AvoidKind | None = None) -> QColor:
    """The colour the kind is drawn in on the image."""
    if kind is AnnotationKind.TARGET:
        return qcolor(_STYLE.target)
    if kind is AnnotationKind.NEEDLE_PATH:
        return qcolor(_STYLE.needle_path)
    if kind is AnnotationKind.AVOID_ZONE:
        return qcolor(_STYLE.zone.get(avoid or AvoidKind.OTHER, _STYLE.danger).with_alpha(255))
    return qcolor(_STYLE.measurement)


@cache
def _dot(r: int, g: int, b: int, ring: bool) -> QIcon:
    pixmap = QPixmap(16, 16)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor(r, g, b)
    if ring:
        p.setPen(QPen(colour, 2.0))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(QPointF(8, 8), 5, 5)
    else:
        p.setPen(QPen(QColor(0, 0, 0, 160), 1.0))
        p.setBrush(colour)
        p.drawEllipse(QPointF(8, 8), 5.5, 5.5)
    p.end()
    return QIcon(pixmap)


def dot_icon(colour: QColor, ring: bool = False) -> QIcon:
    """A filled dot (a warning's colour) or a ring (the kind's colour, nothing to warn)."""
    return _dot(colour.red(), colour.green(), colour.blue(), ring)


def severity_icon(severity: Severity | None) -> QIcon:
    return dot_icon(severity_colour(severity))
