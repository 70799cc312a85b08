"""A drop-down of the store's sessions, patient by patient, to choose what to export or send."""

from __future__ import annotations

import datetime as _dt

from PySide6.QtWidgets import QComboBox, QWidget

from prolo_planner.core.catalog import region_name
from prolo_planner.store.records import Patient, Session
from prolo_planner.store.repository import Repository


def session_text(patient: Patient, session: Session) -> str:
    """'DEMO, Alex (DEMO-0001): #2 2026-02-21 Lumbar spine, signed'."""
    when = _dt.datetime.fromisoformat(session.started_at).strftime("%Y-%m-%d")
    state = "signed" if session.is_signed else "draft"
    where = region_name(session.region) or "no region"
    return f"{patient.display_name} ({patient.mrn}): #{session.id} {when} {where}, {state}"


#: Patients listed when no patient is chosen: a clinic's store holds thousands, and a
#: drop-down of every session of every patient took 98 s to fill at 10,000 patients.
MAX_PATIENTS_LISTED = 40


class SessionPicker(QComboBox):
    """Filled lazily: on first opening, or with the patient of the session selected."""

    def __init__(self, repo: Repository, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.repo = repo
        self.setMinimumContentsLength(40)
        self._loaded = False

    def showPopup(self) -> None:  # noqa: N802 - Qt override
        if not self._loaded:
            self.reload()
        super().showPopup()

    def reload(self, patient_id: int | None = None) -> None:
        """Sessions latest first within each patient: one patient's, or the first patients'."""
        chosen = self.session_id()
        self.clear()
        patients = (
            [self.repo.patient(patient_id)]
            if patient_id is not None
            else self.repo.patients_with_sessions()[:MAX_PATIENTS_LISTED]
        )
        for patient in patients:
            for row in self.repo.sessions_of(patient.id):
                self.addItem(session_text(patient, row.session), row.session.id)
        self._loaded = True
        index = self.findData(chosen) if chosen is not None else -1
        if index >= 0:
            self.setCurrentIndex(index)

    def session_id(self) -> int | None:
        value = self.currentData()
        return int(value) if value is not None else None

    def select(self, session_id: int) -> bool:
        index = self.findData(session_id)
        if index < 0:
            try:
                patient_id = self.repo.session(session_id).patient_id
            except (KeyError, LookupError):
                return False
            self.reload(patient_id)
            index = self.findData(session_id)
        if index >= 0:
            self.setCurrentIndex(index)
        return index >= 0
