"""The receiving node and its inbox: settings (off by default; address, port, the scanners
allowed), Start and Stop, the images that arrived, and "File under session" into the store."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pydicom
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
from prolo_planner.net.nodes import NodeError, ReceiverSettings, load_settings, save_settings
from prolo_planner.net.receiver import INBOX_DIR, Receiver, ReceiverError
from prolo_planner.store.records import StoreError
from prolo_planner.store.repository import Repository
from prolo_planner.ui.exports.session_picker import SessionPicker

COLUMNS = ("Patient ID", "Patient", "From", "Image", "File")


@dataclass(frozen=True, slots=True)
class InboxImage:
    path: Path
    patient_id: str
    patient_name: str
    description: str
    sender: str


def read_inbox(folder: Path) -> list[InboxImage]:
    """What waits in the inbox, oldest first; a file that is not readable is listed as such."""
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.dcm"), key=lambda p: p.stat().st_mtime):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception as exc:  # listed, so the clinician sees it arrived damaged
            out.append(InboxImage(path, "", "", f"cannot be read: {exc}", ""))
            continue
        sender = str(ds.file_meta.get("SourceApplicationEntityTitle", "") or "").strip()
        what = " ".join(str(ds.get(k, "") or "") for k in ("Modality", "SeriesDescription"))
        out.append(
            InboxImage(
                path,
                str(ds.get("PatientID", "") or ""),
                str(ds.get("PatientName", "") or ""),
                what.strip(),
                sender,
            )
        )
    return out


class _Relay(QObject):
    received = Signal(object)


class ReceiverPanel(QWidget):
    def __init__(self, repo: Repository, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("receiver_panel")
        self.repo = repo
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
        """Import the chosen images into the store under the chosen session; each leaves the
        inbox once the store holds it. Returns what happened, one line per image."""
        session_id = self.sessions.session_id()
        chosen = self.selected()
        if session_id is None or not chosen:
            self.result.setText("Choose images in the inbox and a session.")
            return []
        lines: list[str] = []
        for im in chosen:
            try:
                done = self.repo.import_dicom(im.path, session_id)
            except (StoreError, ImageLoadError, OSError) as exc:  # it stays in the inbox
                lines.append(f"{im.path.name}: not filed: {exc}")
                continue
            im.path.unlink(missing_ok=True)
            if done.mismatch is not None:
                lines.append(f"held, not filed: {done.mismatch}")
            else:
                lines.append(f"{im.path.name}: filed under session #{session_id}")
        self.result.setText("\n".join(lines))
        self.refresh()
        return lines

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.stop()
        super().closeEvent(event)
