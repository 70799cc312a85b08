"""A session's own fields: a new session's region, side and pain before; and the open session's
pain before and after and notes, written to the store as they are typed."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from PySide6.QtCore import QDateTime, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.catalog import region_names
from prolo_planner.core.plan import Side
from prolo_planner.store.records import PAIN_MAX, Patient, Session, StoreError
from prolo_planner.store.repository import Repository
from prolo_planner.ui.sessions.session_text import patient_line
from prolo_planner.ui.theme import set_tone

#: Typing in the notes pauses this long before the store is written.
NOTES_DELAY_MS = 800


def pain_box() -> QSpinBox:
    """0 to 10, or '–' (not asked yet): the spin box's minimum stands for no score."""
    box = QSpinBox()
    box.setRange(-1, PAIN_MAX)
    box.setSpecialValueText("–")
    box.setValue(-1)
    box.setToolTip("Numeric rating scale, 0 (no pain) to 10 (worst imaginable)")
    return box


def pain_value(box: QSpinBox) -> int | None:
    return None if box.value() < 0 else box.value()


def region_box(selected: str = "") -> QComboBox:
    box = QComboBox()
    box.addItem("—", "")
    for region_id, name in region_names().items():
        box.addItem(name, region_id)
    i = box.findData(selected)
    box.setCurrentIndex(max(0, i))
    return box


def side_box(selected: Side = Side.UNSPECIFIED) -> QComboBox:
    box = QComboBox()
    for side in Side:
        box.addItem("—" if side is Side.UNSPECIFIED else side.value, side.value)
    box.setCurrentIndex(max(0, box.findData(selected.value)))
    return box


class NewSessionDialog(QDialog):
    """Today's session for a patient: when, where, who, and pain before."""

    def __init__(
        self,
        patient: Patient,
        parent: QWidget | None = None,
        *,
        region: str = "",
        side: Side = Side.UNSPECIFIED,
        clinician: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New session")
        self.setObjectName("new_session_dialog")
        self.when = QDateTimeEdit(QDateTime.currentDateTime())
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.when.setCalendarPopup(True)
        self.region = region_box(region)
        self.side = side_box(side)
        self.clinician = QLineEdit(clinician)
        self.pain_before = pain_box()
        form = QFormLayout()
        form.addRow("Patient", QLabel(patient_line(patient)))
        form.addRow("Date and time", self.when)
        form.addRow("Region", self.region)
        form.addRow("Side", self.side)
        form.addRow("Clinician", self.clinician)
        form.addRow("Pain before (0–10)", self.pain_before)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start session")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def fields(self) -> dict[str, Any]:
        when = self.when.dateTime().toPython()
        assert isinstance(when, _dt.datetime)
        return {
            "started_at": when.replace(second=0, microsecond=0),
            "region": self.region.currentData(),
            "side": self.side.currentData(),
            "clinician": self.clinician.text().strip(),
            "pain_before": pain_value(self.pain_before),
        }


class SessionForm(QWidget):
    """The open session's pain scores and notes; read-only when the session is."""

    #: The session's fields were written (the new Session).
    changed = Signal(object)
    #: A change could not be written (the reason).
    failed = Signal(str)

    def __init__(self, repo: Repository, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("session_form")
        self.repo = repo
        self.session: Session | None = None
        self.title = QLabel("No session open")
        self.title.setObjectName("session_form_title")
        self.title.setWordWrap(True)
        self.pain_before = pain_box()
        self.pain_after = pain_box()
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Session notes")
        self.notes.setMinimumHeight(60)
        self.notice = QLabel("")
        self.notice.setObjectName("session_read_only_notice")
        self.notice.setWordWrap(True)
        set_tone(self.notice, "warning")
        self.notice.hide()
        # One score a row: the form stays narrow beside the timeline on a small screen.
        form = QFormLayout()
        form.addRow("Pain before", self.pain_before)
        form.addRow("Pain after", self.pain_after)
        form.addRow(self.notes)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.notice)
        layout.addLayout(form)
        layout.addStretch(1)
        self._notes_timer = QTimer(self)
        self._notes_timer.setSingleShot(True)
        self._notes_timer.setInterval(NOTES_DELAY_MS)
        self._notes_timer.timeout.connect(self.write_notes)
        self.pain_before.valueChanged.connect(lambda _v: self._write(pain_before=None))
        self.pain_after.valueChanged.connect(lambda _v: self._write(pain_after=None))
        self.notes.textChanged.connect(self._notes_timer.start)
        self._filling = False
        self.show_session(None)

    def show_session(
        self, session: Session | None, title: str = "", read_only_reason: str | None = None
    ) -> None:
        self.write_notes()
        self.session = session
        self._filling = True
        try:
            self.pain_before.setValue(
                -1 if session is None or session.pain_before is None else session.pain_before
            )
            self.pain_after.setValue(
                -1 if session is None or session.pain_after is None else session.pain_after
            )
            self.notes.setPlainText(session.notes if session is not None else "")
        finally:
            self._filling = False
        self.title.setText(title or ("No session open" if session is None else ""))
        editable = session is not None and not read_only_reason
        for w in (self.pain_before, self.pain_after, self.notes):
            w.setEnabled(session is not None)
        self.pain_before.setReadOnly(not editable)
        self.pain_after.setReadOnly(not editable)
        self.notes.setReadOnly(not editable)
        self.notice.setText(f"Read-only: {read_only_reason}" if read_only_reason else "")
        self.notice.setVisible(bool(read_only_reason))

    def set_read_only(self, reason: str) -> None:
        self.show_session(self.session, self.title.text(), reason)

    @property
    def read_only(self) -> bool:
        return self.notes.isReadOnly()

    def write_notes(self) -> None:
        self._notes_timer.stop()
        if self.session is not None and self.notes.toPlainText() != self.session.notes:
            self._write(notes=None)

    def _write(self, **names: None) -> None:
        if self._filling or self.session is None or self.read_only:
            return
        values: dict[str, Any] = {
            "pain_before": pain_value(self.pain_before),
            "pain_after": pain_value(self.pain_after),
            "notes": self.notes.toPlainText(),
        }
        changes = {k: values[k] for k in names}
        try:
            self.session = self.repo.update_session(self.session.id, **changes)
        except StoreError as exc:
            self.failed.emit(str(exc))
            return
        self.changed.emit(self.session)
