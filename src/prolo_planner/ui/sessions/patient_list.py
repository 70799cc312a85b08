"""Finding a patient: search by name or ID, and a new patient. (Images whose patient does not
match the open session are held_images.py's.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
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

from prolo_planner.store.records import Patient, StoreError
from prolo_planner.store.repository import Repository
from prolo_planner.ui.sessions.session_text import patient_line, patient_two_lines
from prolo_planner.ui.theme import set_tone

if TYPE_CHECKING:  # Find on PACS (and the PACS stack behind it) loads when first opened
    from prolo_planner.ui.sessions.pacs_pull import PacsPullDialog

#: Typing pauses this long before the store is asked: one query per word, not per key.
SEARCH_DELAY_MS = 150
SEARCH_LIMIT = 200


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
        set_tone(self.problem, "warning")
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
        # Wide enough for every field's hint ("the clinic's patient ID (MRN)") whole.
        for field in (self.mrn, self.family, self.given, self.birth_date):
            hint = field.fontMetrics().horizontalAdvance(field.placeholderText())
            field.setMinimumWidth(hint + 24)

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
    """Search field and the matching patients."""

    patient_chosen = Signal(object)  # Patient

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
        # Long lines wrap at the list's width, neither cut nor scrolled sideways.
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setWordWrap(True)
        self.results.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.count = QLabel("")
        self.count.setObjectName("patient_count")
        self.new_button = QPushButton("New patient…")
        self.new_button.clicked.connect(self.add_patient)
        self.pacs_button = QPushButton("Find on PACS…")
        self.pacs_button.setObjectName("find_on_pacs")
        self.pacs_button.setToolTip(
            "Look for this patient's plans on the clinic's PACS and pull them in as sessions"
        )
        self.pacs_button.clicked.connect(self.find_on_pacs)
        self.pacs_dialog: PacsPullDialog | None = None

        # The count above the buttons: the list stays narrow in the strip under the image.
        bottom = QHBoxLayout()
        bottom.addWidget(self.pacs_button)
        bottom.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.count)
        layout.addLayout(bottom)

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

    # -- the PACS ---------------------------------------------------------------------------
    def find_on_pacs(self) -> PacsPullDialog:
        """The chosen patient's plans on the PACS (or the ID typed in the search field)."""
        from prolo_planner.ui.sessions.pacs_pull import PacsPullDialog, patient_id_for

        current = self.results.currentItem()
        patient = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        if self.pacs_dialog is not None:
            self.pacs_dialog.close()
        dialog = PacsPullDialog(self.repo, patient_id_for(patient, self.search.text()), self)
        dialog.pulled.connect(self._pulled)
        self.pacs_dialog = dialog
        dialog.show()
        dialog.raise_()
        return dialog

    def _pulled(self, patient: Patient) -> None:
        """Show the patient the pull filed sessions for (their timeline read again)."""
        self.search.setText(patient.mrn)
        self.run_search()
        with QSignalBlocker(self.results):
            self.select_patient(patient.id)
        # Chosen again even when already chosen: their timeline is read anew.
        self.patient_chosen.emit(self.repo.patient(patient.id))
