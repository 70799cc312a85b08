"""What the features of the window (sessions, exports, plan files, the image door, the menus)
may use of the main window: a small typed contract instead of `window: Any`.

MainWindow implements it; a feature that needs something else of the window adds it here first,
so the contract stays visible and small.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtWidgets import QDockWidget, QMenu, QStatusBar, QWidget

if TYPE_CHECKING:
    from prolo_planner.core.plan import Plan
    from prolo_planner.imaging.source import ImageSource
    from prolo_planner.ui.image_door import ImageDoor
    from prolo_planner.ui.loaded_images import LoadedImages
    from prolo_planner.ui.notices import Notice
    from prolo_planner.ui.plan_controller import PlanController
    from prolo_planner.ui.plan_workspace import PlanWorkspace
    from prolo_planner.ui.settings import AppSettings
    from prolo_planner.ui.viewer_pane import ViewerPane


class PlannerWindow(Protocol):
    """The main window as its features see it."""

    #: The plan was replaced (set_plan, new plan, a plan file): the new PlanController.
    plan_replaced: SignalInstance
    #: The image shown changed: its id in the plan, or None.
    current_image_changed: SignalInstance
    #: The window was asked to close (it may still be refused): save what is pending.
    closing: SignalInstance

    settings: AppSettings
    images: LoadedImages
    pane: ViewerPane
    workspace: PlanWorkspace
    door: ImageDoor
    #: The clinician's name for a file the viewer opens when its own name is a library hash.
    original_name: Callable[[Path], str | None]

    @property
    def plan(self) -> PlanController: ...

    def current_image_id(self) -> str | None: ...

    def set_plan(
        self,
        plan: Plan,
        *,
        read_only: bool = False,
        read_only_reason: str = "",
        title: str = "",
        base_dir: Path | None = None,
    ) -> None: ...

    def install_plan(
        self,
        plan: Plan,
        *,
        read_only_reason: str = "",
        title: str = "",
        base_dir: Path | None = None,
        file_path: Path | None = None,
        located: dict[str, Path] | None = None,
    ) -> PlanWorkspace: ...

    def new_plan(self) -> None: ...

    def update_title(self) -> None: ...

    def menu(self, name: str) -> QMenu: ...

    def add_dock(
        self,
        title: str,
        object_name: str,
        widget: QWidget,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
        height: int | None = None,
    ) -> QDockWidget: ...

    def grow_dock(self, dock: QDockWidget, height: int) -> None: ...

    def report(self, notices: Sequence[Notice], summary: str | None = None) -> None: ...

    def add_to_viewer(
        self, sources: Sequence[ImageSource]
    ) -> tuple[list[ImageSource], int | None]: ...

    def select_row(self, row: int) -> None: ...

    def show_status(self, text: str, msecs: int = 0) -> None: ...

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 - Qt's name

    def as_widget(self) -> QWidget:
        """The window as a dialog's parent."""
        ...
