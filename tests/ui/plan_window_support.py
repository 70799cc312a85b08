"""Shared set-up of the plan workspace tests: a main window with real sample images, mouse
gestures on its viewer in image pixels, and a window that never shows a modal dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt

from prolo_planner.core.edits import AddAnnotation
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import Annotation, Plan
from prolo_planner.ui.main_window import MainWindow
from prolo_planner.ui.plan_files import UnsavedChoice
from tests.conftest import SAMPLE_IMAGES

LUMBAR = SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm"  # 640x480, region x 91-605, y 60-459
HIP_CINE = SAMPLE_IMAGES / "hip_anterior_cine_ybr422_jpeg.dcm"  # 50 frames
HIP_GRAB = SAMPLE_IMAGES / "hip_anterior_frame_grab.png"  # no calibration
LEFT = Qt.MouseButton.LeftButton


def make_window(qtbot, answers: list[UnsavedChoice] | None = None) -> MainWindow:
    """A shown window whose dialogs answer from lists instead of waiting for a click:
    unsaved-changes prompts pop `answers` (Discard when it runs out)."""
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    queue = answers if answers is not None else []
    w.prompts = []  # type: ignore[attr-defined]

    def ask(_parent, name: str) -> UnsavedChoice:
        w.prompts.append(name)  # type: ignore[attr-defined]
        return queue.pop(0) if queue else UnsavedChoice.DISCARD

    w.plan_files.ask_unsaved = ask
    w.errors = []  # type: ignore[attr-defined]
    w.plan_files.show_error = lambda _p, title, message: w.errors.append((title, message))  # type: ignore[attr-defined]
    w.plan_files.locate_image = lambda _p, _image, _folder: None
    w.plan_files.choose_open_path = lambda _p, _folder: None
    w.plan_files.choose_save_path = lambda _p, _suggested: None
    w.removals = []  # type: ignore[attr-defined]
    w.remove_answers = []  # type: ignore[attr-defined]

    def confirm_remove(name: str, n: int) -> bool:
        w.removals.append((name, n))  # type: ignore[attr-defined]
        return w.remove_answers.pop(0) if w.remove_answers else True  # type: ignore[attr-defined]

    w.confirm_remove = confirm_remove
    w.tool_bar.ask_note_text = lambda _parent: "check depth"
    w.tool_bar.ask_distance_mm = lambda _parent, _px: 10.0
    return w


def open_images(qtbot, window: MainWindow, *paths: Path) -> None:
    window.door.open_paths(list(paths))
    qtbot.waitUntil(lambda: window.thumbnails.count() >= len(paths), timeout=10_000)


def fit_1to1(window: MainWindow) -> None:
    """Actual pixels around the middle of the image: image pixels are screen pixels."""
    window.pane.view.fit_to_window()
    window.pane.view.zoom_1to1()


def at(window: MainWindow, x: float, y: float) -> QPoint:
    p = window.pane.view.viewport_point(QPointF(x, y))
    return QPoint(round(p.x()), round(p.y()))


def click(qtbot, window: MainWindow, x: float, y: float, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(window.pane.view.viewport(), LEFT, modifier, at(window, x, y))


def drag(qtbot, window: MainWindow, start: tuple[float, float], end: tuple[float, float]):
    vp = window.pane.view.viewport()
    qtbot.mousePress(vp, LEFT, pos=at(window, *start))
    for k in range(1, 6):
        t = k / 5
        x = start[0] + (end[0] - start[0]) * t
        y = start[1] + (end[1] - start[1]) * t
        qtbot.mouseMove(vp, at(window, x, y))
    qtbot.mouseRelease(vp, LEFT, pos=at(window, *end))


def add(window: MainWindow, annotation: Annotation) -> Annotation:
    window.plan.push(AddAnnotation(annotation))
    return annotation


def only(plan: Plan, kind: type):
    found = [a for a in plan.annotations if isinstance(a, kind)]
    assert len(found) == 1, found
    return found[0]


def image_point(x: float, y: float) -> Point:
    return Point(float(x), float(y))
