"""The send queue's background thread: sends what is due, sleeps until the next retry."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from prolo_planner.net.queue import QueueProgress, SendQueue

log = logging.getLogger(__name__)


class QueueWorker:
    """Runs a SendQueue in a background thread: sends what is due, then sleeps until the next
    retry is due, a new file is queued (wake), or idle_s passes. `progress` is called from that
    thread; a Qt window must hand it over to its own thread (a queued signal)."""

    def __init__(
        self,
        queue: SendQueue,
        progress: QueueProgress | None = None,
        *,
        idle_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.queue = queue
        self.progress = progress
        self.idle_s = idle_s
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="pacs-send-queue", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the queue now (call after adding files)."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the file being sent, if any (it is recorded first)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.queue.run_due(self.progress)
                due = self.queue.next_due_at()
            except Exception:  # the worker must outlive any one bad moment (a locked store)
                log.exception("send queue: a round failed; trying again later")
                due = None
            wait = self.idle_s if due is None else min(self.idle_s, max(0.0, due - self._clock()))
            self._wake.wait(wait)
            self._wake.clear()
