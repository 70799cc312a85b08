"""The receiving node and its inbox: settings (off by default; address, port, the scanners
allowed), Start and Stop, the images that arrived (net/inbox.py reads them), and "File under
session", which brings them in through the session's door: checked against its patient, held
back when they are another patient's."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.net.inbox import InboxImage, read_inbox
from prolo_planner.net.nodes import NodeError, ReceiverSettings, load_settings, save_settings
from prolo_planner.net.receiver import INBOX_DIR, Receiver, ReceiverError
from prolo_planner.store.records import Admitted, StoreError
from prolo_planner.store.repository import Repository
from prolo_planner.ui.exports.session_picker import SessionPicker

COLUMNS = ("Patient ID", "Patient", "From", "Image", "File")

#: Brings files into a session (id) through its door; one line per file of what happened.
FileInto = Callable[[Sequence[Path], int], list[str]]


def store_door(repo: Repository) -> FileInto:
    """The session's door in the store alone (no window to ask in): a file naming nobody stays
    in the inbox, to be brought in from the open session, where the clinician is asked."""

    def file_into(paths: Sequence[Path], session_id: int) -> list[str]:
        lines = []
        for path in paths:
            try:
                done = repo.admit(path, session_id, origin="receiver")
            except (StoreError, ImageLoadError, OSError) as exc:  # it stays in the inbox
                lines.append(f"{path.name}: not filed: {exc}")
                continue
            if done.state is Admitted.UNIDENTIFIED:
                lines.append(f"{path.name}: names no patient; open the session and bring it in")
                continue
            path.unlink(missing_ok=True)
            if done.attached:
                lines.append(f"{path.name}: filed under session #{session_id}")
            else:
                lines.append(f"{path.name}: held back, not filed: " + "; ".join(done.reasons))
        return lines

    return file_into


class _Relay(QObject):
    received = Signal(object)


class ReceiverPanel(QWidget):
    def __init__(
        self, repo: Repository, parent: QWidget | None = None, file_into: FileInto | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("receiver_panel")
        self.repo = repo
        #: The session's door the inbox files through (the window's, when sessions are open).
        self.file_into: FileInto = file_into or store_door(repo)
        self.inbox = repo.data_dir / INBOX_DIR
        self.receiver: Receiver | None = None
        self._relay = _Relay(self)
        self._relay.received.connect(lambda _image: self.refresh())
        self.images: list[InboxImage] = []
        try:
            settings = load_settings().receiver
        except NodeError:
            settings = ReceiverSettings()

        self.enabled = QCheckBox("Receive images from scanners (C-STORE)")
        self.enabled.setChecked(settings.enabled)
        self.ae_title = QLineEdit(settings.ae_title)
        self.ae_title.setMaxLength(16)
        self.address = QLineEdit(settings.address)
        self.address.setToolTip(
            "127.0.0.1: this computer only; the clinic network's address "
            "of this computer to let the scanner reach it"
        )
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(settings.port or 11112)
        self.allowed = QLineEdit(", ".join(settings.allowed_calling_ae_titles))
        self.allowed.setPlaceholderText("the scanners' AE titles, separated by commas")
        self.apply_button = QPushButton("Save and apply")
        self.state = QLabel("")
        self.state.setObjectName("receiver_state")
        self.state.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("inbox")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.sessions = SessionPicker(repo)
        self.file_button = QPushButton("File under session")
        self.result = QLabel("")
        self.result.setObjectName("inbox_result")
        self.result.setWordWrap(True)

        form = QFormLayout()
        form.addRow(self.enabled)
        form.addRow("AE title", self.ae_title)
        form.addRow("Listen on", self.address)
        form.addRow("Port", self.port)
        form.addRow("Scanners allowed", self.allowed)
        form.addRow(self.apply_button)
        form.addRow(self.state)
        filing = QHBoxLayout()
        filing.addWidget(self.sessions, 1)
        filing.addWidget(self.file_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addWidget(QLabel("Inbox"))
        layout.addWidget(self.table, 1)
        layout.addLayout(filing)
        layout.addWidget(self.result)

        self.apply_button.clicked.connect(self.apply)
        self.file_button.clicked.connect(self.file_selected)
        self.table.itemSelectionChanged.connect(self._suggest_session)
        self.refresh()
        if settings.enabled:
            self.start(settings)
        else:
            self.state.setText("Off: scanners cannot send images here.")

    # -- the receiving node --------------------------------------------------------------------
    def form_settings(self) -> ReceiverSettings:
        titles = tuple(t.strip() for t in self.allowed.text().split(",") if t.strip())
        return ReceiverSettings(
            enabled=self.enabled.isChecked(),
            ae_title=self.ae_title.text(),
            address=self.address.text(),
            port=self.port.value(),
            allowed_calling_ae_titles=titles,
        )

    def apply(self) -> bool:
        """Save the settings and start, restart or stop the node to match them."""
        try:
            receiver = self.form_settings()
            save_settings(dataclasses.replace(load_settings(), receiver=receiver))
        except (NodeError, OSError) as exc:
            self.state.setText(f"Not saved: {exc}")
            return False
        self.stop()
        if receiver.enabled:
            return self.start(receiver)
        self.state.setText("Off: scanners cannot send images here.")
        return True

    def start(self, settings: ReceiverSettings) -> bool:
        self.receiver = Receiver(settings, self._relay.received.emit, inbox=self.inbox)
        try:
            self.receiver.start()
        except ReceiverError as exc:
            self.receiver = None
            self.state.setText(f"Not receiving: {exc}")
            return False
        # The node must not outlive the panel: its port would stay taken.
        self.destroyed.connect(lambda *_args, rx=self.receiver: rx.stop())
        who = ", ".join(settings.allowed_calling_ae_titles)
        self.state.setText(
            f"Receiving as {settings.ae_title} on {settings.address}:{self.receiver.port} "
            f"from {who}"
        )
        return True

    def stop(self) -> None:
        if self.receiver is not None:
            self.receiver.stop()
            self.receiver = None

    # -- the inbox -----------------------------------------------------------------------------
    def refresh(self) -> None:
        self.images = read_inbox(self.inbox)
        self.table.setRowCount(len(self.images))
        for r, im in enumerate(self.images):
            cells = (im.patient_id, im.patient_name, im.sender, im.description, im.path.name)
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.file_button.setEnabled(bool(self.images))

    def selected(self) -> list[InboxImage]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.images[r] for r in rows]

    def _suggest_session(self) -> None:
        """The latest session of the patient the image is of, when the store knows them."""
        chosen = self.selected()
        if not chosen:
            return
        patient = self.repo.patient_by_mrn(chosen[0].patient_id) if chosen[0].patient_id else None
        if patient is not None:
            rows = self.repo.sessions_of(patient.id)
            if rows:
                self.sessions.reload()
                self.sessions.select(rows[0].session.id)

    def file_selected(self) -> list[str]:
        """Bring the chosen images into the chosen session through its door; each leaves the
        inbox once the store holds it (attached, or held back with the reason). Returns what
        happened, one line per image."""
        session_id = self.sessions.session_id()
        chosen = self.selected()
        if session_id is None or not chosen:
            self.result.setText("Choose images in the inbox and a session.")
            return []
        lines = self.file_into([im.path for im in chosen], session_id)
        self.result.setText("\n".join(lines))
        self.refresh()
        return lines

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.stop()
        super().closeEvent(event)
