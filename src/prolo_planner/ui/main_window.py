"""The main window: assembles viewer, plan tools, panels and menus, and keeps the plan's images
open in the viewer (plan_workspace.py is the glue between the two).

Its parts live beside it: image_door.py (every way an image arrives), recent_files.py,
window_actions.py (the menus and their actions). The calibration shown with an image is the
plan controller's, in force (core.image_calibration); calibrating is a plan tool. Features
installed on it (sessions, exports) see it through window_protocol.PlannerWindow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.catalog import load_catalogs
from prolo_planner.core.display import DisplaySettings
from prolo_planner.core.document import ChangeKind
from prolo_planner.core.edits import RemoveImage, ReplaceImage
from prolo_planner.core.limits import load_limits
from prolo_planner.core.plan import (
    ImagePlan,
    ImageRef,
    Plan,
    Target,
)
from prolo_planner.imaging.source import ImageSource
from prolo_planner.ui.dock_layout import REFERENCE_HEIGHT, DockLayout, DockPlace
from prolo_planner.ui.edit_menu import EditActions
from prolo_planner.ui.help import (
    MOUSE_GESTURES,
    PLAN_GESTURES,
    ShortcutsDialog,
)
from prolo_planner.ui.image_door import ImageDoor
from prolo_planner.ui.image_view import tidy_frame_problem
from prolo_planner.ui.loaded_images import LoadedImages
from prolo_planner.ui.metadata_panel import MetadataPanel
from prolo_planner.ui.notices import MessagesDock, Notice
from prolo_planner.ui.panels.annotation_list import AnnotationList
from prolo_planner.ui.panels.image_properties import ImageProperties
from prolo_planner.ui.panels.property_editor import PropertyEditor
from prolo_planner.ui.panels.warnings_panel import WarningsPanel
from prolo_planner.ui.plan_controller import PlanController
from prolo_planner.ui.plan_files import PlanFiles
from prolo_planner.ui.plan_workspace import PlanWorkspace, changed_images, same_file
from prolo_planner.ui.preferences import install_preferences
from prolo_planner.ui.settings import AppSettings
from prolo_planner.ui.thumbnails import ThumbnailStrip
from prolo_planner.ui.tool_bar import PlanToolBar
from prolo_planner.ui.viewer_pane import ViewerPane
from prolo_planner.ui.window_actions import WindowActions

log = logging.getLogger("prolo_planner.ui")

APP_TITLE = "Prolo Planner"
#: The menus in the menu bar, in this order whoever creates them (menu(name)).
MENU_ORDER = ("File", "Edit", "View", "Image", "Plan", "Session", "Export", "Help")
_MENU_TITLES = {"Export": "E&xport"}
READ_ONLY_STYLE = "background: #6b4e00; color: #fff3d0; padding: 5px 10px; font-weight: bold;"


class MainWindow(QMainWindow):
    #: The plan was replaced (set_plan, new_plan, File > Open plan): the new PlanController.
    plan_replaced = Signal(object)
    #: The image shown changed: its id in the plan, or None (none, or not in the plan).
    current_image_changed = Signal(object)
    #: The window was asked to close (nothing released yet, and the close may still be
    #: refused): features save what is pending.
    closing = Signal()

    def __init__(self, settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("main_window")
        self.setWindowTitle(APP_TITLE)
        self.settings = settings or AppSettings()
        self.images = LoadedImages()
        #: The clinician's name for a file the viewer opens, when its own name is not (a
        #: library copy named by its hash); the sessions feature, owning the store, answers.
        self.original_name: Callable[[Path], str | None] = lambda _path: None
        #: Asks before an image with annotations leaves the plan (name, how many annotations);
        #: tests answer for the clinician.
        self.confirm_remove: Callable[[str, int], bool] = self._ask_remove
        self.current: int | None = None
        self._frame_index = 0
        self._shown_image_id: str | None = None
        self._shortcuts_dialog: ShortcutsDialog | None = None
        self._windowed_maximized = False
        self._closing = False
        self._menus: dict[str, QMenu] = {}
        self.catalogs = load_catalogs()
        loaded_limits = load_limits()
        self.limits = loaded_limits.limits

        self.pane = ViewerPane()
        self.banner = QLabel("")
        self.banner.setObjectName("read_only_banner")
        self.banner.setStyleSheet(READ_ONLY_STYLE)
        self.banner.setWordWrap(True)
        self.banner.hide()
        centre = QWidget()
        layout = QVBoxLayout(centre)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.pane, 1)
        self.setCentralWidget(centre)

        self.thumbnails = ThumbnailStrip()
        # Clicking a thumbnail leaves the keyboard with the viewer; PgUp/PgDown change image.
        self.thumbnails.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.metadata = MetadataPanel()
        self.messages = MessagesDock(self.statusBar(), self)
        self.annotation_list = AnnotationList()
        self.properties = PropertyEditor()
        self.warnings_panel = WarningsPanel()
        self.image_properties = ImageProperties()
        self.dock_layout = DockLayout(self)
        self.thumbnail_dock = self._dock("Images", "thumbnails_dock", self.thumbnails)
        self.metadata_dock = self._dock("Details", "metadata_dock", self.metadata)
        self.annotations_dock = self._dock("Annotations", "annotations_dock", self.annotation_list)
        self.image_dock = self._dock("Image", "image_dock", _scrolling(self.image_properties))
        self.properties_dock = self._dock(
            "Properties", "properties_dock", _scrolling(self.properties)
        )
        self.warnings_dock = self._dock(
            "Warnings", "warnings_dock", _scrolling(self.warnings_panel)
        )
        self._arrange_docks()
        self.messages.hide()

        self.cursor_label = QLabel("")
        self.cursor_label.setObjectName("cursor_readout")
        self.frame_label = QLabel("")
        self.frame_label.setObjectName("frame_readout")
        self.display_label = QLabel("")
        self.display_label.setObjectName("display_readout")
        self.statusBar().addWidget(self.cursor_label, 1)
        self.statusBar().addPermanentWidget(self.display_label)
        self.statusBar().addPermanentWidget(self.frame_label)

        self.tool_bar = PlanToolBar(self.pane.view, self.pane)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.tool_bar)
        self.edit_actions = EditActions(self, (self.pane, self.annotation_list))
        self.door = ImageDoor(self)
        self.plan_files = PlanFiles(self)
        self.workspace: PlanWorkspace = None  # type: ignore[assignment]  # set just below
        self.window_actions = WindowActions(self)
        self.window_actions.build()
        self.dock_layout.add_action(self.menu("View"))
        install_preferences(self, self.settings)
        self.install_plan(Plan())

        self.thumbnails.image_chosen.connect(self.show_image)
        self.thumbnails.thumbnail_failed.connect(
            lambda path, reason: self.report([Notice(reason, Path(path))])
        )
        self.pane.cursor_readout.connect(self.cursor_label.setText)
        self.pane.frame_changed.connect(self._frame_shown)
        self.pane.frame_problem.connect(self._frame_problem)
        self.pane.display_changed.connect(self._display_changed)
        self.pane.view.zoom_changed.connect(lambda _zoom: self._update_frame_readout())
        self.annotation_list.seek_requested.connect(self.pane.cine.seek)
        self.warnings_panel.warning_chosen.connect(self.show_annotations)
        self.image_properties.checklist.target_chosen.connect(self.tool_bar.arm_target)
        self.image_properties.tool_requested.connect(self.tool_bar.activate)

        self.setAcceptDrops(True)
        if not self.settings.restore_window(self):
            self.dock_layout.first_run()
        problems = [Notice(f"catalog skipped: {p.reason}", p.path) for p in self.catalogs.problems]
        problems += [Notice(f"clinic limits: {text}") for text in loaded_limits.problems]
        if problems:
            self.report(problems, f"{len(problems)} problem(s) with the catalogs or limits")

    # -- the contract: what other features use ------------------------------------------------
    @property
    def plan(self) -> PlanController:
        """The current plan's controller (a new one after set_plan: see plan_replaced)."""
        return self.workspace.controller

    def current_image_id(self) -> str | None:
        return self._shown_image_id

    def as_widget(self) -> QWidget:
        return self

    def show_status(self, text: str, msecs: int = 0) -> None:
        self.statusBar().showMessage(text, msecs)

    def set_plan(
        self,
        plan: Plan,
        *,
        read_only: bool = False,
        read_only_reason: str = "",
        title: str = "",
        base_dir: Path | None = None,
    ) -> None:
        """Show another plan: its images are opened (paths relative to base_dir), the others
        closed; read only, every edit is refused and the banner says why."""
        reason = (read_only_reason or "read only") if read_only else ""
        self.install_plan(plan, read_only_reason=reason, title=title, base_dir=base_dir)

    def new_plan(self) -> None:
        """An empty plan over the images open now (unsaved work is the caller's to ask about:
        File > New plan asks)."""
        images = tuple(
            ImagePlan(
                ImageRef(
                    str(im.path),
                    sop_instance_uid=im.source.info.sop_instance_uid,
                    frame_count=max(1, im.source.frame_count),
                )
            )
            for im in self.images
        )
        self.install_plan(Plan(images=images))

    def menu(self, name: str) -> QMenu:
        """The menu of that name, made on first use, in MENU_ORDER in the menu bar."""
        found = self._menus.get(name)
        if found is not None:
            return found
        menu = QMenu(_MENU_TITLES.get(name, f"&{name}"), self)
        menu.setObjectName(f"menu_{name.lower()}")
        order = MENU_ORDER.index(name) if name in MENU_ORDER else len(MENU_ORDER)
        later = [
            m
            for n, m in self._menus.items()
            if (MENU_ORDER.index(n) if n in MENU_ORDER else len(MENU_ORDER)) > order
        ]
        before = min(later, key=lambda m: self._menu_position(m)) if later else None
        if before is None:
            self.menuBar().addMenu(menu)
        else:
            self.menuBar().insertMenu(before.menuAction(), menu)
        self._menus[name] = menu
        return menu

    def _menu_position(self, menu: QMenu) -> int:
        return self.menuBar().actions().index(menu.menuAction())

    def add_dock(
        self,
        title: str,
        object_name: str,
        widget: QWidget,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
        height: int | None = None,
    ) -> QDockWidget:
        """A panel of another feature: on the right it joins the tabs of Details; `height`
        its first height in pixels (a strip under the image)."""
        dock = self._dock(title, object_name, widget)
        right = area == Qt.DockWidgetArea.RightDockWidgetArea
        share = height / REFERENCE_HEIGHT if height is not None else 0.0
        where = DockPlace(area, tab_with="metadata_dock" if right else "", height_share=share)
        self.dock_layout.place(dock, replace(where, shown=None))
        if height is not None:
            self.dock_layout.fit()
        toggle = dock.toggleViewAction()
        toggle.setText(f"Show {title.lower()} panel")
        self.menu("View").addAction(toggle)
        return dock

    def grow_dock(self, dock: QDockWidget, height: int) -> None:
        """Make a dock under the image at least this tall (something in it needs reading)."""
        if dock.height() < height:
            self.resizeDocks([dock], [height], Qt.Orientation.Vertical)

    # -- docks ------------------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        return dock

    def _arrange_docks(self) -> None:
        """Images on the left; on the right the annotations (tabbed with the image's region
        and the file's details) above the selected item's properties and the warnings."""
        right, place = Qt.DockWidgetArea.RightDockWidgetArea, self.dock_layout.place
        place(self.thumbnail_dock, DockPlace(Qt.DockWidgetArea.LeftDockWidgetArea))
        place(self.annotations_dock, DockPlace(right))
        # Split before tabbing: splitting a dock that is already in tabs only adds a tab.
        # The warnings get the most of the column: they are read, not scrolled to.
        place(self.properties_dock, DockPlace(right, below="annotations_dock", weight=0.8))
        place(self.warnings_dock, DockPlace(right, below="properties_dock", weight=1.25))
        place(self.image_dock, DockPlace(right, tab_with="annotations_dock"))
        place(self.metadata_dock, DockPlace(right, tab_with="image_dock"))
        self.annotations_dock.raise_()
        place(self.messages, DockPlace(Qt.DockWidgetArea.BottomDockWidgetArea, shown=None))

    # -- menus ----------------------------------------------------------------------------
    def show_shortcuts(self) -> ShortcutsDialog:
        if self._shortcuts_dialog is None:
            rows = [*self.window_actions.rows, *PLAN_GESTURES, *MOUSE_GESTURES]
            self._shortcuts_dialog = ShortcutsDialog(rows, self)
        self._shortcuts_dialog.show()
        self._shortcuts_dialog.raise_()
        return self._shortcuts_dialog

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showMaximized() if self._windowed_maximized else self.showNormal()
        else:
            self._windowed_maximized = self.isMaximized()
            self.showFullScreen()
        self.window_actions.act_full_screen.setChecked(self.isFullScreen())

    # -- the plan ---------------------------------------------------------------------------
    def install_plan(
        self,
        plan: Plan,
        *,
        read_only_reason: str = "",
        title: str = "",
        base_dir: Path | None = None,
        file_path: Path | None = None,
        located: dict[str, Path] | None = None,
    ) -> PlanWorkspace:
        """Replace the workspace. `located`: image id -> where a moved image was found; the
        new place becomes one undo step per image, so the plan reads as changed until saved."""
        located = located or {}
        if read_only_reason and located:
            # A read-only plan cannot be edited: the new places are simply where to look.
            plan = plan.with_images(
                replace(im, ref=replace(im.ref, path=str(located[im.id])))
                if im.id in located
                else im
                for im in plan.images
            )
        self.pane.view.set_tool(None)
        old = self.workspace
        if old is not None:
            old.dispose()
        ws = PlanWorkspace(
            self.pane.view,
            plan,
            limits=self.limits,
            catalogs=self.catalogs,
            read_only_reason=read_only_reason,
            title=title,
            base_dir=base_dir,
            file_path=file_path,
            parent=self,
        )
        self.workspace = ws
        c = ws.controller
        c.changed.connect(self._plan_changed)
        c.calibration_changed.connect(
            lambda image_id: self._show_calibration() if image_id == self._shown_image_id else None
        )
        c.modified_changed.connect(lambda _m: self.update_title())
        c.refused.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.tool_bar.set_layer(ws.layer, ws.read_only, self.limits)
        for panel in (
            self.annotation_list,
            self.properties,
            self.warnings_panel,
            self.image_properties,
        ):
            panel.set_workspace(ws)
        self.edit_actions.set_workspace(ws)
        self.window_actions.apply_shown_kinds()
        self.banner.setText(f"Read only: {read_only_reason}" if ws.read_only else "")
        self.banner.setVisible(ws.read_only)
        if not ws.read_only:
            for image_id, path in located.items():
                ref = replace(c.plan.image(image_id).ref, path=str(path))
                c.push(ReplaceImage.of(c.plan, image_id, ref=ref))
        self._close_images_not_in(ws)
        self._sync_images()
        self._shown_image_id = None
        if self.current is not None and self.current < len(self.images):
            self.show_image(self.current)
        elif len(self.images):
            self.thumbnails.setCurrentRow(0)
            self.show_image(0)
        else:
            self.current_image_changed.emit(None)
        self.update_title()
        self.plan_replaced.emit(c)
        return ws

    def update_title(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        if ws.is_scratch:
            self.setWindowTitle(APP_TITLE)
            return
        mark = " *" if ws.controller.is_modified else ""
        lock = " (read only)" if ws.read_only else ""
        self.setWindowTitle(f"{APP_TITLE} — {ws.name}{mark}{lock}")

    def _plan_changed(self, changes: tuple) -> None:
        images = changed_images(changes)
        if images:
            self._sync_images()
            if self._shown_image_id in images:
                self._show_calibration()
                region = self.workspace.region(self._shown_image_id)
                self.tool_bar.set_region(region)
                self.properties.show_image(self._shown_image_id, self._frame_count())
        for change in changes:
            if change.kind is ChangeKind.ADDED:
                for i in change.ids:
                    if isinstance(found := self.plan.plan.find(i), Target):
                        self.tool_bar.target_placed(found.name)
        self._update_marks()
        self.update_title()

    def _close_images_not_in(self, ws: PlanWorkspace) -> None:
        plan_paths = [ws.image_path(im.id) for im in ws.controller.plan.images]
        for row in reversed(range(len(self.images))):
            path = self.images[row].path
            if not any(same_file(path, p) for p in plan_paths):
                self._close_row(row)

    def _sync_images(self) -> None:
        """Open the plan's images not open yet; close those the plan no longer has."""
        opened, problems = self.workspace.sync_files(self.images, self._close_row)
        first = self._add_rows(opened)
        if first is not None and self.current is None:  # (an undo brought an image back)
            self.thumbnails.setCurrentRow(first)
            if self.current != first:
                self.show_image(first)
        if problems:
            self.report(problems)

    # -- opening (the door is image_door.py) --------------------------------------------
    def add_to_viewer(self, sources: Sequence[ImageSource]) -> tuple[list[ImageSource], int | None]:
        """Rows and thumbnails for files not open yet (a file open already is closed again and
        its row chosen instead). Returns the files new to the viewer and the row to show."""
        first: int | None = None
        fresh: list[ImageSource] = []
        for source in sources:
            existing = self.images.index_of(source.info.path)
            if existing is not None:
                source.close()  # already open: show the copy we have
                first = existing if first is None else first
                continue
            fresh.append(source)
        added = self._add_rows(fresh)
        return fresh, (added if first is None else first)

    def select_row(self, row: int) -> None:
        """Show the open file of that row (its thumbnail becomes the current one)."""
        if self.thumbnails.currentRow() == row:
            self.show_image(row)
        else:
            self.thumbnails.setCurrentRow(row)

    def _add_rows(self, sources: Sequence[ImageSource]) -> int | None:
        """Rows and thumbnails for sources not open yet; the first new row, if any."""
        first: int | None = None
        for source in sources:
            name = self.original_name(source.info.path) or ""
            row = self.images.append(source, name)
            self.thumbnails.add_image(source, name)
            first = row if first is None else first
        return first

    def report(self, notices: Sequence[Notice], summary: str | None = None) -> None:
        was_hidden = self.messages.isHidden()
        if self.messages.report(notices, summary) and was_hidden:
            # A strip of a few lines: the image keeps the room.
            self.resizeDocks([self.messages], [130], Qt.Orientation.Vertical)

    # -- showing --------------------------------------------------------------------------
    def show_image(self, row: int) -> None:
        if not 0 <= row < len(self.images):
            return
        self.current = row
        image = self.images[row]
        ws = self.workspace
        image_id = ws.image_id_for(image.source)
        if image_id is not None and ws.linked_path(image_id) is None:
            ws.link(image_id, image.source)
        # The calibration in force: the plan controller's (core.image_calibration) for a plan
        # image, the file's own otherwise.
        calibration = ws.calibration(image_id) if image_id is not None else image.calibration
        self.pane.set_source(image.source, calibration)
        self._frame_index = 0
        if self.thumbnails.currentRow() != row:
            self.thumbnails.setCurrentRow(row)
        frames = self._frame_count()
        changed, self._shown_image_id = image_id != self._shown_image_id, image_id
        ws.show(image_id, frames, 0)
        self.annotation_list.show_image(image_id, frames)
        self.properties.show_image(image_id, frames)
        self.image_properties.show_image(image_id, frames)
        self.tool_bar.set_region(ws.region(image_id))
        self._update_marks()
        self.refresh_metadata()
        self._update_frame_readout()
        self.update_title()
        if changed:
            self.current_image_changed.emit(image_id)
        # The viewer's keys (Space, arrows, F, C…) answer while it has the focus.
        self.pane.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_image_id(self, image_id: str) -> bool:
        """Show a plan image by id (from a warning, or another feature)."""
        path = self.workspace.linked_path(image_id)
        row = self.images.index_of(path) if path is not None else None
        if row is None:
            return False
        if row != self.current:
            self.thumbnails.setCurrentRow(row)
        return True

    def show_annotations(self, ids: Sequence[str]) -> None:
        """Select annotations (a warning's), showing their image and frame."""
        c = self.plan
        found = [a for i in ids if (a := c.plan.find(i)) is not None]
        if not found:
            return
        self.show_image_id(found[0].image_id)
        frames = {a.frame for a in found if a.image_id == found[0].image_id} - {None}
        if frames and self.pane.cine.index not in frames:
            self.pane.cine.seek(min(frames))
        c.select(a.id for a in found if a.image_id == found[0].image_id)

    def _frame_count(self) -> int:
        source = self.pane.source
        return max(1, source.frame_count) if source is not None else 1

    def _update_marks(self) -> None:
        ws = self.workspace
        image_id = self._shown_image_id if ws.image(self._shown_image_id) else None
        self.pane.bar.set_marks(ws.annotated_frames(image_id), ws.key_frames(image_id))

    def select_relative(self, delta: int) -> None:
        if len(self.images):
            row = 0 if self.current is None else (self.current + delta) % len(self.images)
            self.thumbnails.setCurrentRow(row)

    def close_current_image(self) -> bool:
        """Close the image shown; it leaves the plan too, with its annotations, after the
        clinician says so when it has any (Undo brings both back). False when they said no."""
        row = self.current
        if row is None:
            return False
        ws = self.workspace
        image_id = ws.image_id_for_path(self.images[row].path)
        if image_id is not None and not ws.read_only:
            plan = ws.controller.plan
            n = sum(1 for a in plan.annotations if a.image_id == image_id)
            name = plan.image(image_id).ref.title
            if n and not self.confirm_remove(name, n):
                return False
            ws.controller.push(RemoveImage.of(plan, image_id))  # the sync closes the row
            if n:
                self.statusBar().showMessage(
                    f"{name} closed and taken out of the plan with its {n} annotation(s): "
                    "Edit > Undo brings them back",
                    10_000,
                )
            return True
        self._close_row(row)
        return True

    def _ask_remove(self, name: str, annotations: int) -> bool:
        box = QMessageBox(self)
        box.setObjectName("confirm_remove_image")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Remove the image from the plan?")
        box.setText(
            f"Close {name} and take it out of the plan with its {annotations} annotation(s)?"
        )
        box.setInformativeText("Edit > Undo brings the image and its annotations back.")
        remove = box.addButton("Remove from the plan", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is remove

    def _close_row(self, row: int) -> None:
        """Take a file out of the viewer (the plan is not touched here)."""
        was_current = row == self.current
        if was_current:
            self.pane.set_source(None)
            self.current = None
        image = self.images.remove(row)
        self.thumbnails.blockSignals(True)
        self.thumbnails.remove_row(row)
        self.thumbnails.blockSignals(False)
        image.source.close()
        ws = self.workspace
        image_id = ws.image_id_for_path(image.path) if ws is not None else None
        if image_id is not None:
            ws.unlink(image_id)
        if self.current is not None and self.current > row:
            self.current -= 1
        if not was_current:
            return
        if len(self.images):
            self.show_image(min(row, len(self.images) - 1))
        else:
            self.metadata.show_nothing()
            if ws is not None:
                ws.show(None)
            for panel in (self.annotation_list, self.properties, self.image_properties):
                panel.show_image(None)
            self._shown_image_id = None
            self.current_image_changed.emit(None)
            self.update_title()
            self.frame_label.setText("")
            self.cursor_label.setText("")

    def refresh_metadata(self) -> None:
        if self.current is None:
            self.metadata.show_nothing()
            return
        image = self.images[self.current]
        in_use = self.pane.calibration
        self.metadata.show_image(image.source.info, in_use, image.source.calibration, image.name)

    # -- calibration ------------------------------------------------------------------------
    def _show_calibration(self) -> None:
        """The calibration in force of the shown image changed (made, undone, the probe or
        depth zero corrected, its facts found): the scale bar and read-out follow the plan."""
        image_id = self._shown_image_id
        if image_id is None or self.current is None:
            return
        calibration = self.workspace.calibration(image_id)
        if self.pane.calibration != calibration:
            self.pane.set_calibration(calibration)
        self.refresh_metadata()

    def _frame_problem(self, reason: str) -> None:
        path = self.images[self.current].path if self.current is not None else None
        self.report([Notice(tidy_frame_problem(reason), path)])

    def _display_changed(self, display: DisplaySettings) -> None:
        if display.is_identity:
            self.display_label.setText("")
        else:
            self.display_label.setText(f"Level {display.level:.0f}  Width {display.width:.0f}")

    def _frame_shown(self, index: int) -> None:
        self._frame_index = index
        self.workspace.layer.set_frame(index)
        self.image_properties.set_frame(index)
        self._update_frame_readout()

    def _update_frame_readout(self) -> None:
        source = self.pane.source
        if source is None:
            self.frame_label.setText("")
            return
        parts = []
        if source.frame_count > 1:
            parts.append(f"Frame {self._frame_index + 1} / {source.frame_count}")
        parts.append(f"Zoom {self.pane.view.zoom * 100:.0f} %")
        self.frame_label.setText("   ".join(parts))

    # -- drag and drop (the door opens what was dropped) ----------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if self.door.accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        if self.door.drop(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    # -- closing --------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self._closing:
            self.closing.emit()  # features save what is pending before anything is asked
            if not self.plan_files.keep_or_discard_changes():
                event.ignore()
                return
        self._closing = True
        if self.isFullScreen():
            self.showNormal()
        self.settings.save_window(self)
        self.door.stop()
        self.thumbnails.shutdown()
        self.pane.view.set_tool(None)
        self.pane.set_source(None)
        for image in self.images.clear():
            image.source.close()
        super().closeEvent(event)


def _scrolling(panel: QWidget) -> QScrollArea:
    """A panel that may be taller than its dock: it scrolls rather than stretch the window."""
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area
