"""The viewer pane the main window embeds: the image view over the cine controls, and its keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QVBoxLayout, QWidget

from prolo_planner.core.calibration import Calibration
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.frame_cache import FrameCache
from prolo_planner.imaging.source import ImageSource
from prolo_planner.ui.cine import CineBar, CineController
from prolo_planner.ui.image_view import ImageView

#: Megabytes of decoded frames kept per open image; a long cine streams through this.
CACHE_BUDGET_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ViewerKey:
    """A key the viewer answers to while it (or a child) has the focus."""

    name: str
    keys: tuple[str, ...]
    what: str


#: Every key of the viewer, for the Help > Keyboard shortcuts table and the menus.
VIEWER_KEYS: tuple[ViewerKey, ...] = (
    ViewerKey("play", ("Space",), "Play / pause the cine"),
    ViewerKey("next_frame", ("Right",), "Next frame"),
    ViewerKey("previous_frame", ("Left",), "Previous frame"),
    ViewerKey("first_frame", ("Home",), "First frame"),
    ViewerKey("last_frame", ("End",), "Last frame"),
    ViewerKey("zoom_in", ("+", "="), "Zoom in"),
    ViewerKey("zoom_out", ("-",), "Zoom out"),
    ViewerKey("fit", ("F",), "Fit to window"),
    ViewerKey("one_to_one", ("1",), "Actual pixels (1:1)"),
    ViewerKey("reset_view", ("R",), "Reset view (fit, default brightness/contrast)"),
    ViewerKey("reset_display", ("Shift+R",), "Reset brightness/contrast"),
)


class ViewerPane(QWidget):
    frame_changed = Signal(int)
    cursor_readout = Signal(str)
    display_changed = Signal(object)
    #: A frame could not be decoded: the reason, for a non-blocking notice.
    frame_problem = Signal(str)

    def __init__(
        self, parent: QWidget | None = None, *, cache_budget_bytes: int = CACHE_BUDGET_BYTES
    ) -> None:
        super().__init__(parent)
        self.setObjectName("viewer_pane")
        self._budget = cache_budget_bytes
        self._source: ImageSource | None = None
        self._cache: FrameCache | None = None
        self._calibration = Calibration.none()

        self.view = ImageView(self)
        self.cine = CineController(self)
        self.bar = CineBar(self.cine, self)
        self.bar.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.bar)

        self.cine.frame_changed.connect(self._show_frame)
        self.view.cursor_readout.connect(self.cursor_readout)
        self.view.display_changed.connect(self.display_changed)
        self.key_actions = self._make_actions()

    # -- the image ------------------------------------------------------------------------
    @property
    def source(self) -> ImageSource | None:
        return self._source

    @property
    def calibration(self) -> Calibration:
        """The calibration in force shown with the image (the plan controller's, from
        core.image_calibration; the file's own for an image outside a plan)."""
        return self._calibration

    def set_calibration(self, calibration: Calibration) -> None:
        """The calibration in force changed (made, undone, the probe corrected)."""
        self._calibration = calibration
        self.view.set_calibration(calibration)

    @property
    def frame_cache(self) -> FrameCache | None:
        return self._cache

    def set_source(
        self, source: ImageSource | None, calibration: Calibration | None = None
    ) -> None:
        """Show `source` from its first frame, fitted; None empties the viewer.

        The previous image's playback stops and its frame cache is closed; the source itself
        stays open (the window owns it).
        """
        self.cine.pause()
        if self._cache is not None:
            self._cache.close()
            self._cache = None
        self._source = source
        self.view.reset_display()
        if source is None:
            self._calibration = Calibration.none()
            self.view.set_calibration(self._calibration)
            self.cine.set_source(None)
            self.bar.hide()
            self.view.clear()
            return
        self._calibration = calibration if calibration is not None else source.calibration
        self.view.set_calibration(self._calibration)
        self.view.clear("")  # the next frame is a new image: fit it
        self._cache = FrameCache(source, budget_bytes=self._budget)
        self.bar.setVisible(source.frame_count > 1)
        self.cine.set_source(source.timing, self._cache)
        self.view.fit_to_window()

    def _show_frame(self, index: int) -> None:
        if self._source is None or self._cache is None:
            return
        try:
            frame = self._cache.get(index)
        except ImageLoadError as exc:
            # Stop rather than flash a message at every loop; the clinician can step past it.
            self.cine.pause()
            problem = f"frame {index + 1} cannot be shown: {exc.reason}"
            self.view.show_problem(
                problem[0].upper() + problem[1:], index, self._source.frame_count
            )
            self.frame_problem.emit(problem)
        else:
            self.view.set_frame(frame, index, self._source.frame_count)
        self.frame_changed.emit(index)

    # -- actions the window puts in menus -------------------------------------------------
    def fit_to_window(self) -> None:
        self.view.fit_to_window()

    def zoom_1to1(self) -> None:
        self.view.zoom_1to1()

    def zoom_in(self) -> None:
        self.view.zoom_in()

    def zoom_out(self) -> None:
        self.view.zoom_out()

    def reset_view(self) -> None:
        self.view.reset_view()

    def reset_display(self) -> None:
        self.view.reset_display()

    def toggle_play(self) -> None:
        self.cine.toggle_play()

    def step(self, delta: int) -> None:
        self.cine.step(delta)

    def first_frame(self) -> None:
        self.cine.first()

    def last_frame(self) -> None:
        self.cine.last()

    def _make_actions(self) -> dict[str, QAction]:
        slots: dict[str, Callable[[], None]] = {
            "play": self.toggle_play,
            "next_frame": lambda: self.step(1),
            "previous_frame": lambda: self.step(-1),
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "zoom_in": self.zoom_in,
            "zoom_out": self.zoom_out,
            "fit": self.fit_to_window,
            "one_to_one": self.zoom_1to1,
            "reset_view": self.reset_view,
            "reset_display": self.reset_display,
        }
        actions = {}
        for key in VIEWER_KEYS:
            action = QAction(key.what, self)
            action.setObjectName(f"viewer_{key.name}")
            action.setShortcuts([QKeySequence(k) for k in key.keys])
            # Only while the viewer has the focus: the same keys type text in other panels.
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _checked=False, slot=slots[key.name]: slot())
            self.addAction(action)
            actions[key.name] = action
        return actions
