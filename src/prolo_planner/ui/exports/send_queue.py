"""Send to PACS: the send dialog (which session, which node) and the queue panel, a row per file
with its state, tries and result. The queue lives in the session store, so what was not sent
before the app closed is still there, and sent, when it opens again."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.net.nodes import DicomNode, NodeError, load_settings
from prolo_planner.net.queue import Backoff, QueuedFile, QueueState, SendQueue
from prolo_planner.net.queue_worker import QueueWorker
from prolo_planner.report.session_send import NOT_SENT, session_exports, session_files
from prolo_planner.store.repository import Repository
from prolo_planner.ui import theme
from prolo_planner.ui.exports.background import Task
from prolo_planner.ui.exports.session_picker import SessionPicker

COLUMNS = ("File", "Node", "State", "Tries", "Result")
#: The theme's colour of each state's word.
STATE_TONES = {
    QueueState.SENT: "ok_text",
    QueueState.FAILED: "danger_text",
    QueueState.WAITING: "warning_text",
    QueueState.SENDING: "info_text",
}


def result_text(row: QueuedFile, now: float) -> str:
    """What became of the file, or when it is tried again."""
    if row.state is QueueState.SENT:
        return f"sent {row.sent_at or ''}".strip()
    if row.state is QueueState.FAILED:
        return f"refused: {row.last_error}"
    if row.interrupted:
        return "interrupted: the app sending it stopped; it goes again on the next try"
    if row.state is QueueState.SENDING:
        return "sending…"
    if row.attempts:
        wait = max(0, round(row.next_attempt_at - now))
        return f"{row.last_error}; next try in {wait} s"
    return "waiting to be sent"


class _Relay(QObject):
    """Hands the worker thread's per-file results to the GUI thread."""

    row = Signal(object)


class SendQueuePanel(QWidget):
    """The queue of one store; its worker sends in the background while the app runs."""

    def __init__(
        self,
        repo: Repository,
        parent: QWidget | None = None,
        *,
        backoff: Backoff | None = None,
        idle_s: float = 60.0,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("send_queue_panel")
        self.repo = repo
        try:
            calling = load_settings().calling_ae_title
        except NodeError:
            calling = None  # the queue's default; the nodes dialog says what is wrong
        self.queue = SendQueue.of(repo, backoff=backoff, calling_ae=calling, timeout=timeout)
        self._stopped = False
        self._relay = _Relay(self)
        self._relay.row.connect(self._row_done)
        self.worker = QueueWorker(self.queue, self._relay.row.emit, idle_s=idle_s)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("send_queue")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.summary = QLabel("")
        self.send_button = QPushButton("Send session…")
        self.retry_button = QPushButton("Retry now")
        self.remove_button = QPushButton("Remove")
        self.retry_button.clicked.connect(self.retry)
        self.remove_button.clicked.connect(self.remove)
        buttons = QHBoxLayout()
        for b in (self.send_button, self.retry_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)

        # Waiting rows count down to their next try.
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self.refresh)
        self._tick.start()
        self.refresh()
        if self.queue.pending_count():
            self.worker.start()  # files left from before a restart go out now
        # However the panel goes, its thread must not outlive it (nor the store it uses).
        self.destroyed.connect(lambda *_args, worker=self.worker: worker.stop(timeout=5))

    def _wake(self) -> None:
        # The thread starts with the first file to send: a window that sends nothing has none.
        if not self.worker.running:
            self.worker.start()
        self.worker.wake()

    # -- the table -----------------------------------------------------------------------------
    def rows(self) -> list[QueuedFile]:
        return self.queue.files()

    def refresh(self) -> None:
        if self._stopped:
            return  # results still on their way from a stopped worker: the store may be closed
        rows = self.rows()
        now = time.time()
        chosen = {
            self.table.item(i.row(), 0).data(Qt.ItemDataRole.UserRole)
            for i in self.table.selectionModel().selectedRows()
        }
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = (
                row.name,
                str(row.node),
                row.state.value,
                str(row.attempts),
                result_text(row, now),
            )
            for c, text in enumerate(cells):
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(r, c, item)
                item.setText(text)
                item.setData(Qt.ItemDataRole.UserRole, row.id)
                item.setToolTip(row.describe())
                if c == 2:
                    item.setForeground(theme.current().qcolor(STATE_TONES[row.state]))
            if row.id in chosen:
                self.table.selectRow(r)
        counts = {s: sum(r.state is s for r in rows) for s in QueueState}
        self.summary.setText(
            f"{counts[QueueState.SENT]} sent, "
            f"{counts[QueueState.WAITING] + counts[QueueState.SENDING]} waiting, "
            f"{counts[QueueState.FAILED]} refused"
        )

    def selected_ids(self) -> list[int]:
        return [
            int(self.table.item(i.row(), 0).data(Qt.ItemDataRole.UserRole))
            for i in self.table.selectionModel().selectedRows()
        ]

    def _row_done(self, _row: QueuedFile) -> None:
        self.refresh()

    # -- what the buttons do -------------------------------------------------------------------
    def add(
        self, node: DicomNode, paths: list[Path], *, session_id: int | None, names: dict[Path, str]
    ) -> list[QueuedFile]:
        """Queue files for the node and wake the worker."""
        queued = self.queue.add(node, paths, session_id=session_id, names=names)
        self.refresh()
        self._wake()
        return queued

    def retry(self) -> int:
        ids = self.selected_ids() or None
        count = self.queue.retry_now(ids)
        self._wake()
        self.refresh()
        return count

    def remove(self) -> int:
        count = self.queue.forget(self.selected_ids())
        self.refresh()
        return count

    def stop(self) -> None:
        self._stopped = True
        self._tick.stop()
        self.worker.stop(timeout=5)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.stop()
        super().closeEvent(event)


class SendDialog(QDialog):
    """Choose a session and a node; its images and plan objects go into the queue."""

    def __init__(
        self,
        repo: Repository,
        panel: SendQueuePanel,
        session_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("send_dialog")
        self.setWindowTitle("Send to PACS")
        self.repo, self.panel = repo, panel
        self.task: Task | None = None
        self.queued: list[QueuedFile] = []
        self.nodes = QComboBox()
        try:
            self.known = list(load_settings().nodes)
        except NodeError:
            self.known = []
        for node in self.known:
            self.nodes.addItem(str(node))
        self.sessions = SessionPicker(repo)
        if session_id is not None:
            self.sessions.select(session_id)
        self.images = QCheckBox("The session's images")
        self.plan = QCheckBox(
            "The plan: Secondary Captures, structured report, presentation states"
        )
        self.images.setChecked(True)
        self.plan.setChecked(True)
        self.status = QLabel("" if self.known else "No DICOM node yet: add one under DICOM nodes.")
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow("To", self.nodes)
        form.addRow("Session", self.sessions)
        form.addRow("", self.images)
        form.addRow("", self.plan)
        self.buttons = QDialogButtonBox()
        self.send_button = self.buttons.addButton("Send", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.send_button.clicked.connect(self.send)
        self.buttons.rejected.connect(self.reject)
        self.send_button.setEnabled(bool(self.known))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def send(self) -> Task | None:
        """Make the plan's DICOM objects (in the background), then queue them and the images."""
        session_id = self.sessions.session_id()
        if session_id is None or not self.known:
            self.status.setText("Choose a session and a DICOM node.")
            return None
        node = self.known[self.nodes.currentIndex()]
        data_dir = self.repo.data_dir
        with_images, with_plan = self.images.isChecked(), self.plan.isChecked()

        def job(_progress) -> tuple[list[Path], dict[Path, str], list[str]]:
            names: dict[Path, str] = {}
            notes: list[str] = []
            if with_images:
                names, notes = session_files(session_id, data_dir)
            folder = Path(tempfile.mkdtemp(prefix="prolo-send-"))
            if with_plan:
                exports, more = session_exports(session_id, data_dir, folder)
                names.update(exports)
                notes += more
            return list(names), names, notes

        self.send_button.setEnabled(False)
        self.status.setText("Preparing the files…")
        self.task = Task(job, self, "send")
        self.task.finished.connect(lambda result: self._queue(node, session_id, *result))
        self.task.failed.connect(self._failed)
        return self.task.start()

    def _queue(
        self,
        node: DicomNode,
        session_id: int,
        paths: list[Path],
        names: dict[Path, str],
        notes: list[str],
    ) -> None:
        self.send_button.setEnabled(True)
        if not paths:
            self.status.setText("Nothing to send: " + ("; ".join(notes) or "no DICOM files"))
            return
        try:
            # The queue copies files from outside the data folder into its outbox.
            self.queued = self.panel.add(node, paths, session_id=session_id, names=names)
        except Exception as exc:  # a file that is not DICOM: InvalidValue in words
            self._failed(str(exc))
            return
        finally:
            # The plan's objects were made in a folder of their own; the queue has its copies.
            for folder in {p.parent for p in paths if p.parent.name.startswith("prolo-send-")}:
                shutil.rmtree(folder, ignore_errors=True)
        self.status.setText(f"{len(self.queued)} file(s) queued for {node}")
        unsent = [note for note in notes if note.startswith(NOT_SENT)]
        if unsent:
            # What will not reach the PACS is said, and stays on screen until read.
            self.status.setText(self.status.text() + "\n" + "\n".join(unsent))
            return
        self.accept()

    def _failed(self, reason: str) -> None:
        self.send_button.setEnabled(True)
        self.status.setText(f"Not sent: {reason}")
