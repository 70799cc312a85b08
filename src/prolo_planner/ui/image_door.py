"""The open-and-import controller: every way an image reaches the window (File > Open, a folder
or DICOMDIR, Open recent, drag and drop, the command line) passes through `open_paths` here.

While a session is open, the door hands every file to its gate (the sessions feature's
SessionDoor), which checks it against the session's patient: nothing of another patient reaches
the session or the viewer. With no session open the files open in a plan of nobody's, shown in
the viewer and added to that plan (one undo step).

A few plain files open at once on the GUI thread; more, or any folder, go to the import worker
with its progress dialog. Problems go to Messages and nothing is modal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QMimeData, QObject, QTimer
from PySide6.QtWidgets import QFileDialog

from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.folder_import import ImportResult
from prolo_planner.imaging.open import is_dicomdir, open_image
from prolo_planner.imaging.source import ImageSource
from prolo_planner.ui.import_worker import FolderImport
from prolo_planner.ui.notices import Notice

if TYPE_CHECKING:
    from prolo_planner.ui.window_protocol import PlannerWindow

#: Up to this many plain files open at once on the GUI thread; more, or any folder, go to the
#: import worker with its progress dialog.
DIRECT_OPEN_LIMIT = 8
OPEN_FILTER = (
    # All files first: DICOM from a scanner or a PACS export often has no suffix.
    "All files (*);;DICOM (*.dcm *.DCM *.dicom DICOMDIR);;"
    "Video clips (*.mp4 *.m4v *.mov *.avi *.mkv *.webm);;"
    "Pictures (*.png *.jpg *.jpeg *.bmp *.tif *.tiff)"
)


class SessionGate(Protocol):
    """Where images go while a session is open (ui/sessions/session_door.SessionDoor)."""

    def takes_images(self) -> bool:
        """Whether a session is open: then every file goes to `admit`, and nowhere else."""
        ...

    def admit(self, paths: Sequence[Path], origin: str) -> object:
        """Check the files against the session's patient and bring in what is theirs."""
        ...


class ImageDoor(QObject):
    def __init__(self, window: PlannerWindow) -> None:
        super().__init__(window.as_widget())
        self.setObjectName("image_door")
        self.window = window
        #: Set by the sessions feature: the open session's door.
        self.gate: SessionGate | None = None
        self.import_job: FolderImport | None = None
        #: Set while the window closes: an import that finishes then shows nothing.
        self.closing = False

    # -- choosing -----------------------------------------------------------------------------
    def choose_files(self) -> None:
        settings = self.window.settings
        files, _ = QFileDialog.getOpenFileNames(
            self.window.as_widget(),
            "Open images",
            str(settings.last_folder or Path.home()),
            OPEN_FILTER,
        )
        if files:
            settings.last_folder = Path(files[0]).parent
            self.open_paths([Path(f) for f in files], "File > Open")

    def choose_folder(self) -> None:
        settings = self.window.settings
        folder = QFileDialog.getExistingDirectory(
            self.window.as_widget(),
            "Open a folder or a DICOMDIR's folder",
            str(settings.last_folder or ""),
        )
        if folder:
            settings.last_folder = Path(folder)
            self.open_paths([Path(folder)], "folder or DICOMDIR")

    # -- drag and drop ------------------------------------------------------------------------
    @staticmethod
    def accepts(mime: QMimeData) -> bool:
        return any(url.isLocalFile() for url in mime.urls())

    def drop(self, mime: QMimeData) -> bool:
        paths = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
        if not paths:
            return False
        # Let the drag finish in the source application before opening (it may take a while).
        QTimer.singleShot(0, lambda: self.open_paths(paths, "drag and drop"))
        return True

    # -- opening ------------------------------------------------------------------------------
    def open_paths(self, paths: Sequence[Path], origin: str = "File > Open") -> None:
        """Open files, folders and DICOMDIRs: a few files at once, anything bigger in the
        background with a progress dialog. Problems go to Messages; nothing is modal.
        With a session open, everything goes through its gate (`origin` says what brought
        it); else what opens joins the window's plan (one undo step)."""
        paths = [Path(p) for p in paths]
        if not paths:
            return
        needs_scan = len(paths) > DIRECT_OPEN_LIMIT or any(
            p.is_dir() or is_dicomdir(p) for p in paths
        )
        if needs_scan:
            self.start_import(paths, origin)
            return
        if self._gated():
            assert self.gate is not None
            self.gate.admit(paths, origin)
            for path in paths:
                if path.is_file():
                    self.window.settings.add_recent(path)
            return
        sources: list[ImageSource] = []
        problems: list[Notice] = []
        for path in paths:
            try:
                sources.append(open_image(path))
            except ImageLoadError as exc:
                problems.append(Notice(exc.reason, exc.path))
        self.add_sources(sources)
        for source in sources:
            self.window.settings.add_recent(source.info.path)
        self.window.report(problems)

    def _gated(self) -> bool:
        return self.gate is not None and self.gate.takes_images()

    def start_import(
        self, paths: Sequence[Path], origin: str = "folder or DICOMDIR"
    ) -> FolderImport | None:
        if self.import_job is not None and self.import_job.running:
            self.window.report([Notice("an import is already running; wait for it or cancel it")])
            return None
        job = FolderImport(paths, self.window.as_widget())
        job.finished.connect(
            lambda result, roots=list(paths): self._import_done(result, roots, origin)
        )
        job.failed.connect(lambda message: self.window.report([Notice(message)]))
        self.import_job = job
        self.window.show_status("Importing…")
        job.start()
        return job

    def _import_done(self, result: ImportResult, roots: list[Path], origin: str) -> None:
        self.import_job = None
        if self.closing:  # the window closed mid-import: nobody will show these
            for source in result.sources:
                source.close()
            return
        if self._gated():
            # The scan found the images; the session's door decides which come in.
            found = [source.info.path for source in result.sources]
            for source in result.sources:
                source.close()
            assert self.gate is not None
            self.gate.admit(found, origin)
        else:
            self.add_sources(result.sources)
        for root in roots:
            if root.exists():
                self.window.settings.add_recent(root)
        problems = [Notice(p.reason, p.path) for p in result.problems]
        n = len(result.sources)
        words = [f"{n} image{'s' if n != 1 else ''} imported"]
        if result.skipped:
            words.append(f"{result.skipped} files that are not images skipped")
        if problems:
            words.append(f"{len(problems)} could not be opened (see Messages)")
        summary = ("Import cancelled: " if result.cancelled else "") + ", ".join(words)
        if self._gated():
            self.window.report(problems)  # the gate said what came in and what was held
            return
        self.window.report(problems, summary)
        if not problems:
            self.window.show_status(summary, 8000)

    def add_sources(self, sources: Iterable[ImageSource]) -> None:
        """Files the clinician opened: into the viewer, and into the plan."""
        w = self.window
        fresh, first = w.add_to_viewer(list(sources))
        w.workspace.add_images(fresh)
        if first is not None:
            w.select_row(first)

    def stop(self) -> None:
        """The window closes: cancel an import that is still running and wait for it."""
        self.closing = True
        if self.import_job is not None and self.import_job.running:
            self.import_job.cancel()
            self.import_job.wait()
