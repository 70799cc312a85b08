"""Manual calibration: two clicks on ticks of the burned-in depth scale, then their distance."""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QInputDialog, QWidget

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.geometry import Point, pixel_distance
from prolo_planner.ui.scale_bar import overlay_font, paint_outlined_text

CALIBRATION_COLOUR = QColor(255, 210, 0)
HINTS = (
    "Calibrate: click a tick of the depth scale (Esc cancels)",
    "Now click another tick, a known distance away (Esc cancels)",
)
DEFAULT_DISTANCE_MM = 10.0


def ask_distance_mm(parent: QWidget, pixels: float) -> float | None:
    """Ask the clinician how many millimetres apart the two clicked ticks are."""
    value, ok = QInputDialog.getDouble(
        parent,
        "Calibrate from the depth scale",
        f"Distance between the two points ({pixels:.1f} px), in mm:",
        DEFAULT_DISTANCE_MM,
        0.01,
        1000.0,
        2,
    )
    return float(value) if ok and math.isfinite(value) and value > 0 else None


class DepthScaleClicks:
    """The points clicked so far (image pixels, float), and their drawing over the view."""

    def __init__(self) -> None:
        self.points: list[Point] = []

    @property
    def complete(self) -> bool:
        return len(self.points) == 2

    @property
    def pixels(self) -> float:
        return pixel_distance(*self.points) if self.complete else 0.0

    def add(self, p: Point) -> bool:
        """Place the next point; True once two distinct points are placed."""
        if self.complete:
            return True
        if self.points and pixel_distance(self.points[0], p) <= 0:
            return False  # the same point twice: wait for a distinct one
        self.points.append(p)
        return self.complete

    def calibration(self, mm: float, rows: int, columns: int) -> Calibration:
        return Calibration.manual(self.points[0], self.points[1], mm, rows, columns)

    def paint(
        self,
        painter: QPainter,
        viewport: QRectF,
        to_view: Callable[[Point], QPointF],
        hover: QPointF | None,
        zoom: float,
    ) -> None:
        """The hint, a cross at each point, and a dashed line with its length in pixels.

        Until the second click the line follows the pointer (`hover`, viewport coordinates).
        """
        hint = HINTS[min(len(self.points), 1)]
        half = QFontMetricsF(overlay_font()).horizontalAdvance(hint) / 2.0
        top_centre = QPointF(viewport.center().x() + half, 12)
        paint_outlined_text(
            painter, top_centre, [hint], CALIBRATION_COLOUR, align_right=True, backdrop=True
        )
        ends = [to_view(p) for p in self.points]
        if len(ends) == 1 and hover is not None:
            ends.append(hover)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if len(ends) == 2:
            painter.setPen(QPen(CALIBRATION_COLOUR, 1.5, Qt.PenStyle.DashLine))
            painter.drawLine(ends[0], ends[1])
            d = ends[1] - ends[0]
            px = math.hypot(d.x(), d.y()) / zoom
            label = [f"{px:.1f} px"]
            paint_outlined_text(painter, ends[1] + QPointF(10, 6), label, CALIBRATION_COLOUR)
        painter.setPen(QPen(CALIBRATION_COLOUR, 1.5))
        for end in ends[: len(self.points)]:
            painter.drawLine(end - QPointF(7, 0), end + QPointF(7, 0))
            painter.drawLine(end - QPointF(0, 7), end + QPointF(0, 7))
            painter.drawEllipse(end, 3.0, 3.0)
        painter.restore()
