"""Keeping the viewer's calibration and the plan's in step: the one place the window reconciles
them (moved here unchanged from main_window.py; the calibration issue replaces it with a single
core owner of calibration).

A manual calibration made in the viewer goes to the plan (one undo step) when the image is a
plan image, else it stays with the open file; when the plan's calibration of the shown image
changes (made, undone, forgotten), the viewer is told, with a re-entrancy flag so that telling
it does not count as a new calibration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.geometry import Point

if TYPE_CHECKING:
    from prolo_planner.ui.main_window import MainWindow


class CalibrationSync:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self._syncing_calibration = False
        pane = window.pane
        pane.calibration_changed.connect(self._manual_calibration_made)
        pane.view.manual_calibration_made.connect(self._manual_calibration_points)

    def calibration_for(self, row: int, image_id: str | None) -> Calibration:
        """The calibration to show an open file with: the plan's when the file is a plan image
        whose calibration differs from the file's (a manual one), else the file's own."""
        w = self.window
        calibration = w.images[row].calibration
        ws = w.workspace
        if image_id is not None and ws.calibration(image_id) != calibration:
            calibration = ws.calibration(image_id)
        return calibration

    def _manual_calibration_made(self, calibration: Calibration) -> None:
        """The viewer was calibrated by hand. On a plan image the plan keeps it (see
        _manual_calibration_points); otherwise only the viewer does."""
        w = self.window
        if w.current is None:
            return
        if w.current_image_id() is None or w.workspace.read_only:
            w.images.set_manual_calibration(w.current, calibration)
        w.refresh_metadata()
        if not self._syncing_calibration:
            w.show_status(f"Calibrated: {calibration.provenance()}", 8000)

    def _manual_calibration_points(self, a: Point, b: Point, mm: float) -> None:
        w = self.window
        image_id = w.current_image_id()
        if image_id is not None and not w.workspace.read_only:
            w.workspace.record_manual_calibration(image_id, a, b, mm)

    def apply_plan_calibration(self) -> None:
        """The plan's calibration of the shown image changed (made, undone, forgotten)."""
        w = self.window
        image_id, row = w.current_image_id(), w.current
        if image_id is None or row is None:
            return
        ws = w.workspace
        w.images.set_manual_calibration(row, ws.manual_calibration(image_id))
        calibration = ws.calibration(image_id)
        if w.pane.calibration != calibration:
            w.pane.view.set_calibration(calibration)
            # The pane learns the view's calibration from this signal (it has no setter).
            self._syncing_calibration = True
            try:
                w.pane.view.calibration_changed.emit(calibration)
            finally:
                self._syncing_calibration = False
