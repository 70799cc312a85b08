"""Finding a patient: search by name or ID, a new patient, and DICOM files whose patient does not
match the store (shown to the clinician, never merged silently)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.store.records import DicomImport, Patient, PatientMismatch, StoreError
from prolo_planner.store.repository import Repository
from prolo_planner.ui.sessions.session_text import patient_line, patient_two_lines

#: Typing pauses this long before the store is asked: one query per word, not per key.
SEARCH_DELAY_MS = 150
SEARCH_LIMIT = 200
MISMATCH_COLOUR = QColor(255, 178, 0)


class NewPatientDialog(QDialog):
    """ID, name, birth date, sex and weight of a new patient; the store checks them."""

    def __init__(self, repo: Repository, parent: QWidget | None = None, mrn: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("New patient")
        self.setObjectName("new_patient_dialog")
        self.repo = repo
        self.patient: Patient | None = None
        self.mrn = QLineEdit(mrn)
        self.mrn.setPlaceholderText("the clinic's patient ID (MRN)")
        self.family = QLineEdit()
        self.family.setPlaceholderText("family name")
        self.given = QLineEdit()
        self.given.setPlaceholderText("given names")
        self.birth_date = QLineEdit()
        self.birth_date.setPlaceholderText("YYYY-MM-DD (optional)")
        self.sex = QComboBox()
        for text, value in (("—", ""), ("female", "F"), ("male", "M"), ("other", "O")):
            self.sex.addItem(text, value)
        self.weight = QDoubleSpinBox()
        self.weight.setRange(0.0, 699.0)
        self.weight.setDecimals(1)
        self.weight.setSuffix(" kg")
        self.weight.setSpecialValueText("unknown")  # 0 reads as not weighed yet
        self.weight.setToolTip("Needed for the anaesthetic dose limit (mg/kg)")
        self.problem = QLabel("")
        self.problem.setObjectName("new_patient_problem")
        self.problem.setStyleSheet(f"color: {MISMATCH_COLOUR.name()}")
        self.problem.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Patient ID", self.mrn)
        form.addRow("Family name", self.family)
        form.addRow("Given names", self.given)
        form.addRow("Birth date", self.birth_date)
        form.addRow("Sex", self.sex)
        form.addRow("Weight", self.weight)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add patient")
        buttons.accepted.connect(self.add)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def dicom_name(self) -> str:
        family = self.family.text().strip().upper()
        given = self.given.text().strip()
        return f"{family}^{given}" if given else family

    def add(self) -> Patient | None:
        """Create the patient; on a problem, say what it is and keep the dialog open."""
        weight = self.weight.value() or None
        try:
            self.patient = self.repo.create_patient(
                self.mrn.text(),
                self.dicom_name(),
                self.birth_date.text(),
                self.sex.currentData(),
                weight,
            )
        except StoreError as exc:
            self.problem.setText(str(exc))
            return None
        self.accept()
        return self.patient


class PatientList(QWidget):
    """Search field, matching patients, and the files held back because their patient differs."""

    patient_chosen = Signal(object)  # Patient
    #: A held-back file the clinician chose to attach anyway (sha256).
    mismatch_attach_requested = Signal(str)

    def __init__(self, repo: Repository, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patient_list")
        self.repo = repo
        self.search = QLineEdit()
        self.search.setObjectName("patient_search")
        self.search.setPlaceholderText("Name or patient ID")
        self.search.setToolTip("Search by name or patient ID: the start of any word")
        self.search.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setObjectName("patient_results")
        self.results.setAlternatingRowColors(True)
        # Long lines are cut with an ellipsis (the whole line is the tooltip), not scrolled.
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.count = QLabel("")
        self.count.setObjectName("patient_count")
        self.new_button = QPushButton("New patient…")
        self.new_button.clicked.connect(self.add_patient)

        self.mismatch_label = QLabel("Held back: the patient in the file does not match")
        self.mismatch_label.setStyleSheet(f"color: {MISMATCH_COLOUR.name()}")
        self.mismatches = QListWidget()
        self.mismatches.setObjectName("mismatch_list")
        self.mismatches.setWordWrap(True)
        self.attach_button = QPushButton("Attach to the open session anyway")
        self.attach_button.setToolTip(
            "Only when you are sure the file shows this patient (a typing error in the scanner)"
        )
        self.attach_button.clicked.connect(self._attach_chosen)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Keep the file apart; it stays in the image library")
        self.dismiss_button.clicked.connect(self._dismiss_chosen)
        mismatch_buttons = QHBoxLayout()
        mismatch_buttons.addWidget(self.attach_button)
        mismatch_buttons.addWidget(self.dismiss_button)
        self._mismatch_box = QWidget()
        box = QVBoxLayout(self._mismatch_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.mismatch_label)
        box.addWidget(self.mismatches)
        box.addLayout(mismatch_buttons)
        self._mismatch_box.hide()

        bottom = QHBoxLayout()
        bottom.addWidget(self.count, 1)
        bottom.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.results, 1)
        layout.addLayout(bottom)
        layout.addWidget(self._mismatch_box)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _text: self._timer.start())
        self.search.returnPressed.connect(self._choose_first)
        self.results.currentItemChanged.connect(lambda item, _old: self._chosen(item))
        self.run_search()

    # -- searching --------------------------------------------------------------------------
    def run_search(self) -> list[Patient]:
        self._timer.stop()
        query = self.search.text()
        found = self.repo.search_patients(query, limit=SEARCH_LIMIT)
        # Refilling is not choosing: the timeline keeps the patient it shows.
        current = self.results.currentItem()
        keep = current.data(Qt.ItemDataRole.UserRole).id if current is not None else None
        with QSignalBlocker(self.results):
            self.results.clear()
            for p in found:
                item = QListWidgetItem(patient_two_lines(p))
                item.setToolTip(patient_line(p))
                item.setData(Qt.ItemDataRole.UserRole, p)
                self.results.addItem(item)
                if p.id == keep:
                    self.results.setCurrentItem(item)
        if not found:
            self.count.setText("No patient matches" if query.strip() else "No patients yet")
        elif len(found) >= SEARCH_LIMIT:
            self.count.setText(f"First {SEARCH_LIMIT} matches: type more to narrow")
        else:
            self.count.setText(f"{len(found)} patient{'s' if len(found) != 1 else ''}")
        return found

    def shown_patients(self) -> list[Patient]:
        return [
            self.results.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.results.count())
        ]

    def select_patient(self, patient_id: int) -> None:
        for i in range(self.results.count()):
            if self.results.item(i).data(Qt.ItemDataRole.UserRole).id == patient_id:
                self.results.setCurrentRow(i)
                return

    def _choose_first(self) -> None:
        self.run_search()
        if self.results.count():
            self.results.setCurrentRow(0)

    def _chosen(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.patient_chosen.emit(item.data(Qt.ItemDataRole.UserRole))

    # -- a new patient ----------------------------------------------------------------------
    def new_patient_dialog(self) -> NewPatientDialog:
        text = self.search.text().strip()
        # A search that found nothing is often the ID the clinician is about to type again.
        mrn = text if text and not self.results.count() and " " not in text else ""
        return NewPatientDialog(self.repo, self, mrn=mrn)

    def add_patient(self) -> Patient | None:
        dialog = self.new_patient_dialog()
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.patient is None:
            return None
        self.patient_created(dialog.patient)
        return dialog.patient

    def patient_created(self, patient: Patient) -> None:
        self.search.setText(patient.mrn)
        self.run_search()
        self.select_patient(patient.id)

    # -- DICOM import -----------------------------------------------------------------------
    def import_dicom(
        self, paths: Iterable[Path], session_id: int | None = None
    ) -> tuple[list[DicomImport], list[str]]:
        """Import DICOM files (into a session if given): matched files are filed under their
        patient; mismatches are listed here for the clinician. Returns the imports and the
        problems (files that could not be read) in words."""
        done: list[DicomImport] = []
        problems: list[str] = []
        for path in paths:
            try:
                result = self.repo.import_dicom(path, session_id)
            except ImageLoadError as exc:
                problems.append(f"{Path(exc.path).name}: {exc.reason}")
                continue
            except StoreError as exc:
                problems.append(str(exc))
                continue
            done.append(result)
            if result.mismatch is not None:
                self.show_mismatch(result.mismatch, result.image.sha256)
        self.run_search()
        return done, problems

    def show_mismatch(self, mismatch: PatientMismatch, sha256: str) -> None:
        item = QListWidgetItem(str(mismatch))
        item.setData(Qt.ItemDataRole.UserRole, sha256)
        item.setForeground(MISMATCH_COLOUR)
        item.setToolTip(
            "Not merged: the file is kept in the library, linked to no patient.\n"
            + "\n".join(mismatch.differences)
        )
        self.mismatches.addItem(item)
        self.mismatches.setCurrentItem(item)
        self._mismatch_box.show()

    def mismatch_lines(self) -> list[str]:
        return [self.mismatches.item(i).text() for i in range(self.mismatches.count())]

    def _attach_chosen(self) -> None:
        item = self.mismatches.currentItem()
        if item is not None:
            self.mismatch_attach_requested.emit(item.data(Qt.ItemDataRole.UserRole))
            self._dismiss_chosen()

    def _dismiss_chosen(self) -> None:
        row = self.mismatches.currentRow()
        if row >= 0:
            self.mismatches.takeItem(row)
        self._mismatch_box.setVisible(self.mismatches.count() > 0)
