"""The main window: assembles viewer, plan tools, panels and menus, and keeps the plan's images
open in the viewer (plan_workspace.py is the glue between the two)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.catalog import load_catalogs
from prolo_planner.core.display import DisplaySettings
from prolo_planner.core.document import ChangeKind
from prolo_planner.core.edits import RemoveImage, ReplaceImage
from prolo_planner.core.geometry import Point
from prolo_planner.core.limits import load_limits
from prolo_planner.core.overlay import ALL_KINDS
from prolo_planner.core.plan import (
    ImagePlan,
    ImageRef,
    Plan,
    Target,
)
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.folder_import import ImportResult
from prolo_planner.imaging.open import is_dicomdir, open_image
from prolo_planner.imaging.source import ImageSource
from prolo_planner.ui.edit_menu import EditActions
from prolo_planner.ui.help import (
    MOUSE_GESTURES,
    PLAN_GESTURES,
    ShortcutsDialog,
)
from prolo_planner.ui.image_view import tidy_frame_problem
from prolo_planner.ui.import_worker import FolderImport
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
from prolo_planner.ui.settings import AppSettings
from prolo_planner.ui.thumbnails import ThumbnailStrip
from prolo_planner.ui.tool_bar import PlanToolBar
from prolo_planner.ui.viewer_pane import ViewerPane
from prolo_planner.ui.window_menus import WindowMenus

log = logging.getLogger("prolo_planner.ui")

APP_TITLE = "Prolo Planner"
#: Up to this many plain files open at once on the GUI thread; more, or any folder, go to the
#: import worker with its progress dialog.
DIRECT_OPEN_LIMIT = 8
#: The menus in the menu bar, in this order whoever creates them (menu(name)).
MENU_ORDER = ("File", "Edit", "View", "Image", "Plan", "Session", "Export", "Help")
_MENU_TITLES = {"Export": "E&xport"}
READ_ONLY_STYLE = "background: #6b4e00; color: #fff3d0; padding: 5px 10px; font-weight: bold;"


class MainWindow(QMainWindow):
    #: The plan was replaced (set_plan, new_plan, File > Open plan): the new PlanController.
    plan_replaced = Signal(object)
    #: The image shown changed: its id in the plan, or None (none, or not in the plan).
    current_image_changed = Signal(object)

    def __init__(self, settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("main_window")
        self.setWindowTitle(APP_TITLE)
        self.settings = settings or AppSettings()
        self.images = LoadedImages()
        #: The clinician's name for a file the viewer opens, when its own name is not (a
        #: library copy named by its hash); the sessions feature, owning the store, answers.
        self.original_name: Callable[[Path], str | None] = lambda _path: None
        self.current: int | None = None
        self._frame_index = 0
        self._shown_image_id: str | None = None
        self.import_job: FolderImport | None = None
        self._shortcuts_dialog: ShortcutsDialog | None = None
        self._windowed_maximized = False
        self._closing = False
        self._syncing_calibration = False
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

        self.tool_bar = PlanToolBar(self.pane.view, self.pane, self.pane.key_actions["calibrate"])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.tool_bar)
        self.edit_actions = EditActions(self, (self.pane, self.annotation_list))
        self.plan_files = PlanFiles(self)
        self.workspace: PlanWorkspace = None  # type: ignore[assignment]  # set just below
        self.menus = WindowMenus(self)
        self.menus.build()
        self.install_plan(Plan())

        self.thumbnails.image_chosen.connect(self.show_image)
        self.thumbnails.thumbnail_failed.connect(
            lambda path, reason: self.report([Notice(reason, Path(path))])
        )
        self.pane.cursor_readout.connect(self.cursor_label.setText)
        self.pane.frame_changed.connect(self._frame_shown)
        self.pane.calibration_changed.connect(self._manual_calibration_made)
        self.pane.view.manual_calibration_made.connect(self._manual_calibration_points)
        self.pane.frame_problem.connect(self._frame_problem)
        self.pane.display_changed.connect(self._display_changed)
        self.pane.view.zoom_changed.connect(lambda _zoom: self._update_frame_readout())
        self.annotation_list.seek_requested.connect(self.pane.cine.seek)
        self.warnings_panel.warning_chosen.connect(self.show_annotations)
        self.image_properties.checklist.target_chosen.connect(self.tool_bar.arm_target)

        self.setAcceptDrops(True)
        if not self.settings.restore_window(self):
            self._first_run_layout()
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
    ) -> QDockWidget:
        """A panel of another feature: on the right it joins the tabs of Details."""
        dock = self._dock(title, object_name, widget)
        if area == Qt.DockWidgetArea.RightDockWidgetArea:
            self.addDockWidget(area, dock)
            self.tabifyDockWidget(self.metadata_dock, dock)
        else:
            self.addDockWidget(area, dock)
        toggle = dock.toggleViewAction()
        toggle.setText(f"Show {title.lower()} panel")
        self.menu("View").addAction(toggle)
        return dock

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
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.thumbnail_dock)
        self.addDockWidget(right, self.annotations_dock)
        # Split before tabbing: splitting a dock that is already in tabs only adds a tab.
        self.splitDockWidget(self.annotations_dock, self.properties_dock, Qt.Orientation.Vertical)
        self.splitDockWidget(self.properties_dock, self.warnings_dock, Qt.Orientation.Vertical)
        self.tabifyDockWidget(self.annotations_dock, self.image_dock)
        self.tabifyDockWidget(self.image_dock, self.metadata_dock)
        self.annotations_dock.raise_()
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.messages)

    def _first_run_layout(self) -> None:
        """Most of the screen for the image, with room in the docks for names and details."""
        screen = self.screen().availableGeometry()
        width = min(1600, int(screen.width() * 0.92))
        height = min(1000, int(screen.height() * 0.92))
        self.resize(width, height)
        self.move(screen.center() - self.rect().center())
        self.resizeDocks(
            [self.thumbnail_dock, self.annotations_dock], [190, 430], Qt.Orientation.Horizontal
        )
        third = max(160, height // 3)
        self.resizeDocks(
            [self.annotations_dock, self.properties_dock, self.warnings_dock],
            [third, third, third],
            Qt.Orientation.Vertical,
        )

    # -- menus ----------------------------------------------------------------------------
    def apply_shown_kinds(self) -> None:
        layer = self.workspace.layer
        kinds = [k for k, act in self.kind_actions.items() if act.isChecked()]
        layer.set_visible_kinds(kinds if len(kinds) < len(ALL_KINDS) else ALL_KINDS)
        layer.set_style(
            replace(
                layer.style,
                show_skin_line=self.act_show_skin.isChecked(),
                show_margins=self.act_show_margins.isChecked(),
            )
        )

    def show_shortcuts(self) -> ShortcutsDialog:
        if self._shortcuts_dialog is None:
            rows = [*self.menus.rows, *PLAN_GESTURES, *MOUSE_GESTURES]
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
        self.act_full_screen.setChecked(self.isFullScreen())

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
        self.apply_shown_kinds()
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
                self._apply_plan_calibration()
                self._refresh_metadata()
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
        first = self._add_to_viewer(opened)
        if first is not None and self.current is None:  # (an undo brought an image back)
            self.thumbnails.setCurrentRow(first)
            if self.current != first:
                self.show_image(first)
        if problems:
            self.report(problems)

    # -- opening --------------------------------------------------------------------------
    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self,
            "Open images",
            str(self.settings.last_folder or Path.home()),
            # All files first: DICOM from a scanner or a PACS export often has no suffix.
            "All files (*);;DICOM (*.dcm *.DCM *.dicom DICOMDIR);;"
            "Video clips (*.mp4 *.m4v *.mov *.avi *.mkv *.webm);;"
            "Pictures (*.png *.jpg *.jpeg *.bmp *.tif *.tiff)",
        )
        if files:
            self.settings.last_folder = Path(files[0]).parent
            self.open_paths([Path(f) for f in files])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Open a folder or a DICOMDIR's folder", str(self.settings.last_folder or "")
        )
        if folder:
            self.settings.last_folder = Path(folder)
            self.open_paths([Path(folder)])

    def open_paths(self, paths: Sequence[Path]) -> None:
        """Open files, folders and DICOMDIRs: a few files at once, anything bigger in the
        background with a progress dialog. Problems go to Messages; nothing is modal.
        What opens joins the plan (one undo step)."""
        paths = [Path(p) for p in paths]
        if not paths:
            return
        needs_scan = len(paths) > DIRECT_OPEN_LIMIT or any(
            p.is_dir() or is_dicomdir(p) for p in paths
        )
        if needs_scan:
            self.start_import(paths)
            return
        sources: list[ImageSource] = []
        problems: list[Notice] = []
        for path in paths:
            try:
                sources.append(open_image(path))
            except ImageLoadError as exc:
                problems.append(Notice(exc.reason, exc.path))
        self._add_sources(sources)
        for source in sources:
            self.settings.add_recent(source.info.path)
        self.report(problems)

    def start_import(self, paths: Sequence[Path]) -> FolderImport | None:
        if self.import_job is not None and self.import_job.running:
            self.report([Notice("an import is already running; wait for it or cancel it")])
            return None
        job = FolderImport(paths, self)
        job.finished.connect(lambda result, roots=list(paths): self._import_done(result, roots))
        job.failed.connect(lambda message: self.report([Notice(message)]))
        self.import_job = job
        self.statusBar().showMessage("Importing…")
        job.start()
        return job

    def _import_done(self, result: ImportResult, roots: list[Path]) -> None:
        self.import_job = None
        if self._closing:  # the window closed mid-import: nobody will show these
            for source in result.sources:
                source.close()
            return
        self._add_sources(result.sources)
        for root in roots:
            if root.exists():
                self.settings.add_recent(root)
        problems = [Notice(p.reason, p.path) for p in result.problems]
        n = len(result.sources)
        words = [f"{n} image{'s' if n != 1 else ''} imported"]
        if result.skipped:
            words.append(f"{result.skipped} files that are not images skipped")
        if problems:
            words.append(f"{len(problems)} could not be opened (see Messages)")
        summary = ("Import cancelled: " if result.cancelled else "") + ", ".join(words)
        self.report(problems, summary)
        if not problems:
            self.statusBar().showMessage(summary, 8000)

    def _add_sources(self, sources: Iterable[ImageSource]) -> None:
        """Files the clinician opened: into the viewer, and into the plan."""
        sources = list(sources)
        first: int | None = None
        fresh: list[ImageSource] = []
        for source in sources:
            existing = self.images.index_of(source.info.path)
            if existing is not None:
                source.close()  # already open: show the copy we have
                first = existing if first is None else first
                continue
            fresh.append(source)
        added = self._add_to_viewer(fresh)
        first = added if first is None else first
        self.workspace.add_images(fresh)
        if first is not None:
            if self.thumbnails.currentRow() == first:
                self.show_image(first)
            else:
                self.thumbnails.setCurrentRow(first)

    def _add_to_viewer(self, sources: Iterable[ImageSource]) -> int | None:
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
        calibration = image.calibration
        if image_id is not None and ws.calibration(image_id) != calibration:
            calibration = ws.calibration(image_id)
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
        self._refresh_metadata()
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

    def close_current_image(self) -> None:
        """Close the image shown; it leaves the plan too, with its annotations (Undo brings
        both back)."""
        row = self.current
        if row is None:
            return
        ws = self.workspace
        image_id = ws.image_id_for_path(self.images[row].path)
        if image_id is not None and not ws.read_only:
            plan = ws.controller.plan
            n = sum(1 for a in plan.annotations if a.image_id == image_id)
            ws.controller.push(RemoveImage.of(plan, image_id))  # the sync closes the row
            if n:
                self.statusBar().showMessage(
                    f"Image closed and taken out of the plan with its {n} annotation(s): "
                    "Edit > Undo brings them back",
                    10_000,
                )
            return
        self._close_row(row)

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

    def _refresh_metadata(self) -> None:
        if self.current is None:
            self.metadata.show_nothing()
            return
        image = self.images[self.current]
        in_use = self.pane.calibration
        self.metadata.show_image(image.source.info, in_use, image.source.calibration, image.name)

    # -- calibration ------------------------------------------------------------------------
    def _manual_calibration_made(self, calibration: Calibration) -> None:
        """The viewer was calibrated by hand. On a plan image the plan keeps it (see
        _manual_calibration_points); otherwise only the viewer does."""
        if self.current is None:
            return
        if self._shown_image_id is None or self.workspace.read_only:
            self.images.set_manual_calibration(self.current, calibration)
        self._refresh_metadata()
        if not self._syncing_calibration:
            self.statusBar().showMessage(f"Calibrated: {calibration.provenance()}", 8000)

    def _manual_calibration_points(self, a: Point, b: Point, mm: float) -> None:
        image_id = self._shown_image_id
        if image_id is not None and not self.workspace.read_only:
            self.workspace.record_manual_calibration(image_id, a, b, mm)

    def _apply_plan_calibration(self) -> None:
        """The plan's calibration of the shown image changed (made, undone, forgotten)."""
        image_id, row = self._shown_image_id, self.current
        if image_id is None or row is None:
            return
        ws = self.workspace
        self.images.set_manual_calibration(row, ws.manual_calibration(image_id))
        calibration = ws.calibration(image_id)
        if self.pane.calibration != calibration:
            self.pane.view.set_calibration(calibration)
            # The pane learns the view's calibration from this signal (it has no setter).
            self._syncing_calibration = True
            try:
                self.pane.view.calibration_changed.emit(calibration)
            finally:
                self._syncing_calibration = False

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

    # -- recent files ---------------------------------------------------------------------
    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        entries = self.settings.recent_files()
        gone = [p for p in entries if not p.exists()]
        if gone:
            self.settings.remove_recent(gone)
            self.report(
                [Notice("no longer exists; removed from Open recent", p) for p in gone],
                f"{len(gone)} recent file{'s' if len(gone) != 1 else ''} no longer exist",
            )
        for n, path in enumerate(p for p in entries if p not in gone):
            act = self.recent_menu.addAction(f"&{(n + 1) % 10}  {path.name}")
            act.setToolTip(str(path))
            act.setStatusTip(str(path))
            act.triggered.connect(lambda _c=False, p=path: self.open_recent(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self.settings.clear_recent)

    def open_recent(self, path: Path) -> None:
        if not path.exists():
            self.settings.remove_recent([path])
            self.report([Notice("no longer exists; removed from Open recent", path)])
            return
        self.open_paths([path])

    # -- drag and drop --------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        # Let the drag finish in the source application before opening (it may take a while).
        QTimer.singleShot(0, lambda: self.open_paths(paths))

    # -- closing --------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self._closing and not self.plan_files.keep_or_discard_changes():
            event.ignore()
            return
        self._closing = True
        if self.isFullScreen():
            self.showNormal()
        self.settings.save_window(self)
        if self.import_job is not None and self.import_job.running:
            self.import_job.cancel()
            self.import_job.wait()
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
