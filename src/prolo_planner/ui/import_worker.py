"""Importing folders, DICOMDIRs and long file lists on a worker thread, with progress and Cancel."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

log = logging.getLogger("prolo_planner.ui")

#: Progress reaches the GUI at most this often, so a folder of small files cannot flood it.
PROGRESS_INTERVAL_S = 0.05


def progress_text(done: int, total: int, where: str = "") -> str:
    """'Importing 120 of 3000…', or while folders are still listed, where the search is."""
    if total > 0:
        return f"Importing {done} of {total}…"
    name = Path(where).name if where else ""
    return f"Looking for images… {name}" if name else "Looking for images…"


class ImportWorker(QObject):
    """Runs scan_paths in its own thread; signals are delivered to the GUI thread."""

    #: Files handled, files in all (0 while folders are still being listed), where it is.
    progress = Signal(int, int, str)
    finished = Signal(object)  # ImportResult
    failed = Signal(str)  # an unexpected error, already logged

    def __init__(self, paths: Sequence[Path]) -> None:
        super().__init__()
        self.paths = [Path(p) for p in paths]
        self._cancel = threading.Event()
        self._last_emit = 0.0

    def cancel(self) -> None:
        """Thread-safe: the scan stops at its next file."""
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def _progress(self, done: int, total: int, path: Path | None = None) -> None:
        now = time.monotonic()
        if done >= total > 0 or now - self._last_emit >= PROGRESS_INTERVAL_S:
            self._last_emit = now
            self.progress.emit(done, total, str(path or ""))

    @Slot()
    def run(self) -> None:
        from prolo_planner.imaging.folder_import import scan_paths

        try:
            result = scan_paths(self.paths, progress=self._progress, cancelled=self._cancel.is_set)
        except Exception as exc:  # noqa: BLE001 - the import must end with a message, not a crash
            log.exception("import of %s", self.paths)
            self.failed.emit(f"import stopped: {exc}")
            return
        self.finished.emit(result)


class FolderImport(QObject):
    """One import: the worker thread plus its progress dialog. Emits `finished(ImportResult)`.

    The dialog appears only when the import takes longer than a moment; Cancel keeps what was
    found so far.
    """

    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, paths: Sequence[Path], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worker = ImportWorker(paths)
        self.thread = QThread(self)
        self.thread.setObjectName("folder-import")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)

        self.dialog = QProgressDialog("Looking for images…", "Cancel", 0, 0, parent)
        self.dialog.setObjectName("import_progress")
        self.dialog.setWindowTitle("Importing images")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(400)
        self.dialog.setAutoReset(False)
        self.dialog.setAutoClose(False)
        self.dialog.setMinimumWidth(380)
        # Connected to our own slot (GUI thread), which flips the worker's flag directly: a
        # queued call into the busy worker thread would only run after the scan had finished.
        self.dialog.canceled.connect(self.cancel)
        self._running = False
        self._updating = False
        self._where = ""
        self.last_progress: tuple[int, int] = (0, 0)
        self.last_label = self.dialog.labelText()

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        self._running = True
        self.thread.start()

    def cancel(self) -> None:
        self.worker.cancel()
        self.dialog.setLabelText("Cancelling… (keeping the images found so far)")

    def wait(self, msecs: int = 10_000) -> bool:
        """Block until the worker thread ends (used when the window closes mid-import).

        The thread's event loop would otherwise wait for `_end`, which runs only once the
        GUI thread gets back to its own loop.
        """
        self.thread.quit()
        return self.thread.wait(msecs)

    def _on_progress(self, done: int, total: int, where: str) -> None:
        self.last_progress = (done, total)
        self._where = where
        # A modal QProgressDialog.setValue() processes events, which may deliver the next
        # progress signal inside this one: the inner call only records it, and this loop
        # shows the newest figures before returning.
        if self._updating:
            return
        self._updating = True
        try:
            shown = None
            while shown != self.last_progress and self._running and not self.worker.is_cancelled:
                shown = self.last_progress
                self._show(*shown)
        finally:
            self._updating = False

    def _show(self, done: int, total: int) -> None:
        self.last_label = progress_text(done, total, self._where)
        self.dialog.setLabelText(self.last_label)
        if total > 0:
            self.dialog.setMaximum(total)
            self.dialog.setValue(min(done, total))

    def _end(self) -> None:
        self._running = False
        self.dialog.canceled.disconnect(self.cancel)  # closing it below is no cancel
        self.dialog.reset()
        self.dialog.close()
        self.dialog.deleteLater()
        self.thread.quit()
        self.thread.wait()

    def _on_finished(self, result: object) -> None:
        # The last figures may have arrived while the modal dialog was processing events
        # (the loop in _on_progress then only recorded them): say them as the last words.
        self.last_label = progress_text(*self.last_progress, self._where)
        self._end()
        self.finished.emit(result)

    def _on_failed(self, message: str) -> None:
        self._end()
        self.failed.emit(message)
