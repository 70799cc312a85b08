"""The millimetre scale bar and the outlined overlay text drawn over the image in screen pixels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

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


#: Screen pixels between the corner text or the scale bar and the view's edge.
CORNER_MARGIN = 14.0
NOT_CALIBRATED = "not calibrated"


class Corner(StrEnum):
    BOTTOM_RIGHT = "bottom right"
    BOTTOM_LEFT = "bottom left"
    TOP_RIGHT = "top right"
    TOP_LEFT = "top left"


def corner_rect(viewport: QRectF, corner: Corner, width: float, height: float) -> QRectF:
    """A width x height block in a corner of the view, CORNER_MARGIN from its edges."""
    m = CORNER_MARGIN
    left = viewport.left() + m if "left" in corner.value else viewport.right() - m - width
    top = viewport.top() + m if "top" in corner.value else viewport.bottom() - m - height
    return QRectF(left, top, width, height)


def free_corner(
    viewport: QRectF,
    size: tuple[float, float],
    prefer: Sequence[Corner],
    taken: Sequence[QRectF],
) -> QRectF:
    """The first corner in `prefer` where a block of this size covers none of `taken` (burned-in
    text, labels, other corner blocks, in viewport pixels), else the one that covers least."""
    best: tuple[float, QRectF] | None = None
    for corner in prefer:
        rect = corner_rect(viewport, corner, *size)
        covered = sum(_area(rect.intersected(t)) for t in taken if rect.intersects(t))
        if covered == 0.0:
            return rect
        if best is None or covered < best[0]:
            best = (covered, rect)
    assert best is not None
    return best[1]


def _area(r: QRectF) -> float:
    return max(0.0, r.width()) * max(0.0, r.height())


def text_block_size(lines: Sequence[str]) -> tuple[float, float]:
    """The size paint_outlined_text gives these lines, with its backdrop's margin."""
    metrics = QFontMetricsF(overlay_font())
    width = max((metrics.horizontalAdvance(line) for line in lines), default=0.0)
    return width + 12.0, len(lines) * metrics.lineSpacing() - metrics.leading() + 8.0


def scale_block(
    calibration: Calibration, image_size: tuple[int, int], zoom: float, viewport: QRectF
) -> tuple[ScaleBar | None, tuple[float, float]]:
    """The bar to draw (None: the image is not calibrated, say so) and the block it needs."""
    region = reference_region(calibration, *image_size)
    if region is None:
        return None, text_block_size([NOT_CALIBRATED])
    max_px = min(MAX_BAR_PX, viewport.width() / 3.0)
    bar = choose_scale_bar(region.mm_per_px_x, zoom, max_px)
    metrics = QFontMetricsF(overlay_font())
    # The bar's outline reaches 2 px past its ends and below it; its text sits above it.
    width = max(bar.length_px, metrics.horizontalAdvance(bar.label)) + 4.0
    return bar, (width, 5.0 + 4.0 + metrics.height() + 2.0)


def paint_scale_block(painter: QPainter, rect: QRectF, bar: ScaleBar | None) -> None:
    """The bar at the bottom right of its block, or 'not calibrated' in it."""
    if bar is None:
        at = QPointF(rect.right() - 6.0, rect.top() + 4.0)
        paint_outlined_text(painter, at, [NOT_CALIBRATED], DIM_TEXT_COLOUR, align_right=True)
        return
    paint_scale_bar(painter, QPointF(rect.right(), rect.bottom()), bar)
