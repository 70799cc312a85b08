"""The millimetre scale bar and the outlined overlay text drawn over the image in screen pixels."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen

from prolo_planner.core.calibration import CalibratedRegion, Calibration
from prolo_planner.core.geometry import Point

#: Lengths a scale bar may take, in millimetres: round numbers a clinician reads at a glance.
NICE_LENGTHS_MM = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
#: The longest a bar may be on screen, in screen pixels.
MAX_BAR_PX = 160.0

TEXT_COLOUR = QColor(240, 240, 240)
OUTLINE_COLOUR = QColor(0, 0, 0, 220)
DIM_TEXT_COLOUR = QColor(200, 200, 200)
BACKDROP_COLOUR = QColor(0, 0, 0, 185)


@dataclass(frozen=True, slots=True)
class ScaleBar:
    """A bar of `length_mm` drawn `length_px` screen pixels long."""

    length_mm: float
    length_px: float

    @property
    def label(self) -> str:
        return f"{self.length_mm:g} mm"


def reference_region(calibration: Calibration, columns: int, rows: int) -> CalibratedRegion | None:
    """The region whose spacing the bar shows: the one at the image centre, else the largest."""
    if not calibration.is_calibrated:
        return None
    region = calibration.region_at(Point(columns / 2.0, rows / 2.0))
    if region is None:
        region = max(calibration.regions, key=lambda r: r.area)
    return region


def choose_scale_bar(mm_per_px: float, zoom: float, max_px: float = MAX_BAR_PX) -> ScaleBar:
    """The longest nice length that fits in max_px screen pixels at this zoom (1 mm at least)."""
    screen_px_per_mm = zoom / mm_per_px
    chosen = NICE_LENGTHS_MM[0]
    for length in NICE_LENGTHS_MM:
        if length * screen_px_per_mm <= max_px:
            chosen = length
    return ScaleBar(chosen, chosen * screen_px_per_mm)


def overlay_font() -> QFont:
    font = QFont()
    font.setPointSizeF(10.0)
    font.setBold(True)
    return font


def paint_outlined_text(
    painter: QPainter,
    top_left: QPointF,
    lines: list[str],
    colour: QColor = TEXT_COLOUR,
    align_right: bool = False,
    backdrop: bool = False,
) -> QRectF:
    """Light text with a dark outline, readable over white speckle and black shadow alike.

    With align_right, top_left.x() is the right edge; with backdrop, a translucent dark box lies
    under the text. Returns the rectangle the text covers.
    """
    font = overlay_font()
    metrics = QFontMetricsF(font)
    path = QPainterPath()
    y = top_left.y() + metrics.ascent()
    width = 0.0
    for line in lines:
        w = metrics.horizontalAdvance(line)
        x = top_left.x() - w if align_right else top_left.x()
        path.addText(QPointF(x, y), font, line)
        y += metrics.lineSpacing()
        width = max(width, w)
    left = top_left.x() - width if align_right else top_left.x()
    height = len(lines) * metrics.lineSpacing() - metrics.leading()
    covered = QRectF(left, top_left.y(), width, height)
    outline = QPen(OUTLINE_COLOUR, 3.0)
    outline.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if backdrop:
        # A veil under the text, so burned-in scanner text beneath does not mix with ours.
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(BACKDROP_COLOUR)
        painter.drawRoundedRect(covered.adjusted(-6, -4, 6, 4), 4.0, 4.0)
    painter.strokePath(path, outline)
    painter.fillPath(path, colour)
    painter.restore()
    return covered


def paint_scale_bar(painter: QPainter, bottom_right: QPointF, bar: ScaleBar) -> None:
    """A horizontal bar with end ticks and its length above it, ending at bottom_right."""
    x1, y = bottom_right.x(), bottom_right.y()
    x0 = x1 - bar.length_px
    tick = 5.0
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    for pen in (QPen(OUTLINE_COLOUR, 4.0), QPen(TEXT_COLOUR, 2.0)):
        pen.setCapStyle(Qt.PenCapStyle.SquareCap)
        painter.setPen(pen)
        painter.drawLine(QPointF(x0, y), QPointF(x1, y))
        painter.drawLine(QPointF(x0, y - tick), QPointF(x0, y + 0.0))
        painter.drawLine(QPointF(x1, y - tick), QPointF(x1, y + 0.0))
    painter.restore()
    metrics = QFontMetricsF(overlay_font())
    text_top = y - tick - 4.0 - metrics.height()
    centre_x = (x0 + x1) / 2.0 + metrics.horizontalAdvance(bar.label) / 2.0
    paint_outlined_text(painter, QPointF(centre_x, text_top), [bar.label], align_right=True)


def paint_scale_corner(
    painter: QPainter,
    viewport: QRectF,
    calibration: Calibration,
    image_size: tuple[int, int],
    zoom: float,
) -> None:
    """The bar in the bottom-right corner of the view, or 'not calibrated' in its place."""
    corner = QPointF(viewport.right() - 14, viewport.bottom() - 14)
    region = reference_region(calibration, *image_size)
    if region is None:
        where = corner - QPointF(0, 18)
        paint_outlined_text(painter, where, ["not calibrated"], DIM_TEXT_COLOUR, align_right=True)
        return
    max_px = min(MAX_BAR_PX, viewport.width() / 3.0)
    paint_scale_bar(painter, corner, choose_scale_bar(region.mm_per_px_x, zoom, max_px))
