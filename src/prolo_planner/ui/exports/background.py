"""Slow work (an export, a C-ECHO, a C-FIND) off the GUI thread, reported back through signals."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger("prolo_planner.ui")

#: A background job: called with a progress function (done, total, what) and returns a result.
Job = Callable[[Callable[[int, int, str], None]], Any]


class Task(QObject):
    """One job on its own thread. The signals are emitted from that thread and delivered in
    the thread of whoever connected (the GUI), so slots may touch widgets."""

    progress = Signal(int, int, str)
    finished = Signal(object)
    #: The problem in words: the job's own exceptions carry a clinician's message.
    failed = Signal(str)

    def __init__(self, job: Job, parent: QObject | None = None, name: str = "task") -> None:
        super().__init__(parent)
        self._job = job
        self._name = name
        self._thread: threading.Thread | None = None
        self._open = False
        # Connected first, so it runs before anyone else's slot for the same signal.
        self.finished.connect(self._delivered)
        self.failed.connect(self._delivered)

    @property
    def running(self) -> bool:
        """From start until its result (or failure) has been delivered to the GUI thread. Not
        the thread's life: that ends a moment after the result is emitted, and a slot asking
        "still busy?" from inside the delivery would otherwise be told yes."""
        return self._open

    def _delivered(self, *_result: object) -> None:
        self._open = False

    def start(self) -> Task:
        self._open = True
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            result = self._job(lambda done, total, what: self.progress.emit(done, total, what))
        except Exception as exc:  # shown to the clinician, not a crash
            log.warning("%s failed: %s", self._name, exc, exc_info=not _in_words(exc))
            self.failed.emit(str(exc) or type(exc).__name__)
            return
        self.finished.emit(result)


def _in_words(exc: Exception) -> bool:
    """The app's own errors say what went wrong; anything else is worth a traceback in the log."""
    from prolo_planner.export.errors import ExportError
    from prolo_planner.imaging.errors import ImageLoadError
    from prolo_planner.net.association import NetError
    from prolo_planner.net.nodes import NodeError
    from prolo_planner.store.records import StoreError

    return isinstance(exc, ExportError | ImageLoadError | NetError | NodeError | StoreError)
