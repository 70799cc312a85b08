"""The main window: assembles viewer, thumbnails, details and messages, and wires the menus."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLabel, QMainWindow, QMenu, QWidget

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.display import DisplaySettings
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.folder_import import ImportResult
from prolo_planner.imaging.open import is_dicomdir, open_image
from prolo_planner.imaging.source import ImageSource
from prolo_planner.ui.help import MOUSE_GESTURES, Shortcut, ShortcutsDialog, show_about
from prolo_planner.ui.import_worker import FolderImport
from prolo_planner.ui.loaded_images import LoadedImages
from prolo_planner.ui.metadata_panel import MetadataPanel
from prolo_planner.ui.notices import MessagesDock, Notice
from prolo_planner.ui.settings import AppSettings
from prolo_planner.ui.thumbnails import ThumbnailStrip
from prolo_planner.ui.viewer_pane import ViewerPane

log = logging.getLogger("prolo_planner.ui")

APP_TITLE = "Prolo Planner"
#: Up to this many plain files open at once on the GUI thread; more, or any folder, go to the
#: import worker with its progress dialog.
DIRECT_OPEN_LIMIT = 8


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("main_window")
        self.setWindowTitle(APP_TITLE)
        self.settings = settings or AppSettings()
        self.images = LoadedImages()
        self.current: int | None = None
        self._frame_index = 0
        self.import_job: FolderImport | None = None
        self._shortcuts_dialog: ShortcutsDialog | None = None
        self._windowed_maximized = False
        self._closing = False

        self.pane = ViewerPane()
        self.setCentralWidget(self.pane)
        self.thumbnails = ThumbnailStrip()
        # Clicking a thumbnail leaves the keyboard with the viewer; PgUp/PgDown change image.
        self.thumbnails.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.metadata = MetadataPanel()
        self.messages = MessagesDock(self.statusBar(), self)
        self.thumbnail_dock = self._dock("Images", "thumbnails_dock", self.thumbnails)
        self.metadata_dock = self._dock("Details", "metadata_dock", self.metadata)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.thumbnail_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.metadata_dock)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.messages)
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

        self._build_menus()
        self.thumbnails.image_chosen.connect(self.show_image)
        self.thumbnails.thumbnail_failed.connect(
            lambda path, reason: self.report([Notice(reason, Path(path))])
        )
        self.pane.cursor_readout.connect(self.cursor_label.setText)
        self.pane.frame_changed.connect(self._frame_shown)
        self.pane.calibration_changed.connect(self._manual_calibration_made)
        self.pane.frame_problem.connect(self._frame_problem)
        self.pane.display_changed.connect(self._display_changed)
        self.pane.view.zoom_changed.connect(lambda _zoom: self._update_frame_readout())

        self.setAcceptDrops(True)
        if not self.settings.restore_window(self):
            self._first_run_layout()

    def _first_run_layout(self) -> None:
        """Most of the screen for the image, with room in the docks for names and details."""
        screen = self.screen().availableGeometry()
        width = min(1600, int(screen.width() * 0.92))
        height = min(1000, int(screen.height() * 0.92))
        self.resize(width, height)
        self.move(screen.center() - self.rect().center())
        self.resizeDocks(
            [self.thumbnail_dock, self.metadata_dock], [210, 370], Qt.Orientation.Horizontal
        )

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

    # -- menus ----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        self.shortcut_rows: list[Shortcut] = []
        bar = self.menuBar()

        file = bar.addMenu("&File")
        self.act_open = self._action(file, "&Open files…", self.choose_files, "Ctrl+O")
        self.act_open_folder = self._action(
            file, "Open &folder or DICOMDIR…", self.choose_folder, "Ctrl+Shift+O"
        )
        self.recent_menu = file.addMenu("Open &recent")
        self.recent_menu.setObjectName("recent_menu")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file.addSeparator()
        self.act_close = self._action(file, "&Close image", self.close_current_image, "Ctrl+W")
        file.addSeparator()
        self._action(file, "&Quit", self.close, "Ctrl+Q")

        view = bar.addMenu("&View")
        self._viewer_action(view, "fit", "&Fit to window")
        self._viewer_action(view, "one_to_one", "Actual pixels (&1:1)")
        self._viewer_action(view, "zoom_in", "Zoom &in")
        self._viewer_action(view, "zoom_out", "Zoom &out")
        self._viewer_action(view, "reset_view", "&Reset view")
        self._viewer_action(view, "reset_display", "Reset &brightness/contrast")
        view.addSeparator()
        for dock, key in (
            (self.thumbnail_dock, "Ctrl+1"),
            (self.metadata_dock, "Ctrl+2"),
            (self.messages, "Ctrl+3"),
        ):
            toggle = dock.toggleViewAction()
            toggle.setText(f"Show {dock.windowTitle().lower()} panel")
            self._bind(toggle, key, "View")
            view.addAction(toggle)
        view.addSeparator()
        self.act_full_screen = self._action(view, "F&ull screen", self.toggle_full_screen, "F11")
        self.act_full_screen.setCheckable(True)

        image = bar.addMenu("&Image")
        self._viewer_action(image, "play", "&Play / pause")
        self._viewer_action(image, "next_frame", "&Next frame")
        self._viewer_action(image, "previous_frame", "Pre&vious frame")
        self._viewer_action(image, "first_frame", "F&irst frame")
        self._viewer_action(image, "last_frame", "&Last frame")
        image.addSeparator()
        self._action(image, "Ne&xt image", lambda: self.select_relative(1), "PgDown")
        self._action(image, "Previous ima&ge", lambda: self.select_relative(-1), "PgUp")
        image.addSeparator()
        self._viewer_action(image, "calibrate", "&Calibrate from depth scale…")

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts…", self.show_shortcuts, "F1")
        self._action(help_menu, "&About Prolo Planner", lambda: show_about(self))

    def _action(
        self, menu: QMenu, text: str, slot: Callable[[], object], key: str | None = None
    ) -> QAction:
        """A window-wide action: its key works whichever panel has the focus."""
        action = QAction(text, self)
        action.triggered.connect(lambda _checked=False: slot())
        self._bind(action, key, menu.title().replace("&", ""))
        menu.addAction(action)
        return action

    def _bind(self, action: QAction, key: str | None, group: str) -> None:
        if not key:
            return
        sequence = QKeySequence(key)
        action.setShortcut(sequence)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.addAction(action)
        shown = sequence.toString(QKeySequence.SequenceFormat.NativeText)
        self.shortcut_rows.append(Shortcut(group, shown, _label(action.text())))

    def _viewer_action(self, menu: QMenu, name: str, text: str) -> QAction:
        """The viewer pane's own action in this menu: one key, one action, no ambiguity.

        The pane's actions answer only while the viewer has the focus (the same letters type
        text in other panels); the menu shows their keys and triggers them from anywhere.
        """
        action = self.pane.key_actions[name]
        action.setText(text)
        menu.addAction(action)
        keys = " or ".join(
            k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()
        )
        self.shortcut_rows.append(Shortcut(menu.title().replace("&", ""), keys, _label(text)))
        return action

    def show_shortcuts(self) -> ShortcutsDialog:
        if self._shortcuts_dialog is None:
            self._shortcuts_dialog = ShortcutsDialog([*self.shortcut_rows, *MOUSE_GESTURES], self)
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
        background with a progress dialog. Problems go to Messages; nothing is modal."""
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
        first_new: int | None = None
        for source in sources:
            existing = self.images.index_of(source.info.path)
            if existing is not None:
                source.close()  # already open: show the copy we have
                first_new = existing if first_new is None else first_new
                continue
            row = self.images.append(source)
            self.thumbnails.add_image(source)
            first_new = row if first_new is None else first_new
        if first_new is not None:
            self.thumbnails.setCurrentRow(first_new)

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
        self.pane.set_source(image.source, image.manual_calibration)
        if self.thumbnails.currentRow() != row:
            self.thumbnails.setCurrentRow(row)
        self._refresh_metadata()
        self.setWindowTitle(f"{image.path.name} — {APP_TITLE}")
        self._update_frame_readout()
        # The viewer's keys (Space, arrows, F, C…) answer while it has the focus.
        self.pane.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def select_relative(self, delta: int) -> None:
        if len(self.images):
            row = 0 if self.current is None else (self.current + delta) % len(self.images)
            self.thumbnails.setCurrentRow(row)

    def close_current_image(self) -> None:
        row = self.current
        if row is None:
            return
        self.pane.set_source(None)
        self.current = None
        image = self.images.remove(row)
        self.thumbnails.blockSignals(True)
        self.thumbnails.remove_row(row)
        self.thumbnails.blockSignals(False)
        image.source.close()
        if len(self.images):
            self.show_image(min(row, len(self.images) - 1))
        else:
            self.metadata.show_nothing()
            self.setWindowTitle(APP_TITLE)
            self.frame_label.setText("")
            self.cursor_label.setText("")

    def _refresh_metadata(self) -> None:
        if self.current is None:
            self.metadata.show_nothing()
            return
        image = self.images[self.current]
        self.metadata.show_image(image.source.info, image.calibration, image.source.calibration)

    def _manual_calibration_made(self, calibration: Calibration) -> None:
        if self.current is None:
            return
        self.images.set_manual_calibration(self.current, calibration)
        self._refresh_metadata()
        self.statusBar().showMessage(f"Calibrated: {calibration.provenance()}", 8000)

    def _frame_problem(self, reason: str) -> None:
        path = self.images[self.current].path if self.current is not None else None
        self.report([Notice(reason, path)])

    def _display_changed(self, display: DisplaySettings) -> None:
        if display.is_identity:
            self.display_label.setText("")
        else:
            self.display_label.setText(f"Level {display.level:.0f}  Width {display.width:.0f}")

    def _frame_shown(self, index: int) -> None:
        self._frame_index = index
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
        self._closing = True
        if self.isFullScreen():
            self.showNormal()
        self.settings.save_window(self)
        if self.import_job is not None and self.import_job.running:
            self.import_job.cancel()
            self.import_job.wait()
        self.thumbnails.shutdown()
        self.pane.set_source(None)
        for image in self.images.clear():
            image.source.close()
        super().closeEvent(event)


def _label(text: str) -> str:
    """A menu text without its mnemonic '&' and shortcut column, for the shortcuts table."""
    return text.split("\t")[0].replace("&", "")
