"""The tools that set how the shown image is measured: a manual calibration on the depth scale,
and depth zero on the scale's 0 tick. Each click-out ends in one undoable plan edit
(ReplaceImage); the calibration in force then comes from core.image_calibration, as every
other measurement's does."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QInputDialog, QWidget

from prolo_planner.core.edits import ReplaceImage
from prolo_planner.core.geometry import Point, pixel_distance
from prolo_planner.core.plan import Caliper, ManualCalibration, ProbeSetting
from prolo_planner.ui.annotation_layer import AnnotationLayer
from prolo_planner.ui.tools import Tool

DEFAULT_DISTANCE_MM = 10.0


def ask_distance_mm(parent: QWidget | None, pixels: float) -> float | None:
    """Ask the clinician how many millimetres apart the two clicked ticks are."""
    value, ok = QInputDialog.getDouble(
        parent,
        "Calibrate from the depth scale",
        f"Distance between the two ticks ({pixels:.1f} px), in mm:",
        DEFAULT_DISTANCE_MM,
        0.01,
        1000.0,
        2,
    )
    return float(value) if ok and math.isfinite(value) and value > 0 else None


class CalibrateTool(Tool):
    """Click two ticks of the burned-in depth scale, then say how far apart they are: the
    image's manual calibration, one undo step (Undo brings the file's back)."""

    name = "calibrate"

    def __init__(
        self,
        layer: AnnotationLayer,
        ask_mm: Callable[[QWidget | None, float], float | None] = ask_distance_mm,
    ) -> None:
        super().__init__(layer)
        self.ask_mm = ask_mm
        self._a: Point | None = None

    @property
    def busy(self) -> bool:
        return self._a is not None

    def press(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        if self.image_id is None:
            return
        if self._a is None:
            self._a = p
            return
        if pixel_distance(self._a, p) <= 0:
            return  # the same point twice: wait for a distinct one
        a, image_id = self._a, self.image_id
        self.cancel()
        # Ask after this mouse event has finished, not in a nested loop inside it.
        QTimer.singleShot(0, lambda: self.finish(image_id, a, p))

    def move(self, p: Point, dragging: bool, modifiers: Qt.KeyboardModifier) -> None:
        if self._a is not None and self.image_id is not None:
            self.layer.preview_annotation(Caliper(self.image_id, self._a, p))

    def finish(self, image_id: str, a: Point, b: Point, mm: float | None = None) -> bool:
        """Calibrate with `a` and `b` `mm` apart (asked when None); False when cancelled."""
        if mm is None:
            mm = self.ask_mm(self.layer.view, pixel_distance(a, b))
        if mm is None or not math.isfinite(mm) or mm <= 0:
            return False
        manual = ManualCalibration(a, b, float(mm))
        return bool(
            self.controller.push(ReplaceImage.of(self.plan, image_id, manual_calibration=manual))
        )

    def cancel(self) -> None:
        super().cancel()
        self._a = None


class DepthZeroTool(Tool):
    """Click the depth scale's 0 tick: depth zero lies on that row (on the centre beam), the
    clinician's, one undo step. For images whose depth zero is a guess."""

    name = "depth zero"

    def press(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        image_id = self.image_id
        if image_id is None:
            return
        image = self.plan.image(image_id)
        probe = replace(image.probe or ProbeSetting(), zero_y=p.y)
        self.controller.push(ReplaceImage.of(self.plan, image_id, probe=probe))
