"""Query/Retrieve: find a patient's prior studies on the PACS (C-FIND) and fetch the chosen ones
(C-GET): with a session open, through its door (checked against its patient, held back when they
are another's); with none, into the store under their patient."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.net.nodes import NodeError, load_settings
from prolo_planner.net.query import FetchResult, StudyFound, fetch_study, find_studies
from prolo_planner.store.records import Admission, Admitted
from prolo_planner.store.repository import Repository
from prolo_planner.ui.exports.background import Task

COLUMNS = ("Date", "Description", "Modalities", "Images", "Patient", "Accession")


def study_date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text


class QueryRetrieveDialog(QDialog):
    def __init__(
        self,
        repo: Repository,
        patient_id: str = "",
        parent: QWidget | None = None,
        *,
        session_id: int | None = None,
        on_admitted: Callable[[Sequence[Admission], int], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("query_retrieve_dialog")
        self.setWindowTitle("Prior studies on the PACS")
        self.repo = repo
        #: The open session the images are brought to (its door), or None: under their patient.
        self.session_id = session_id
        self.on_admitted = on_admitted
        self.task: Task | None = None
        self.studies: list[StudyFound] = []
        self.fetched: list[FetchResult] = []
        try:
            settings = load_settings()
            self.known, self.calling = list(settings.nodes), settings.calling_ae_title
        except NodeError:
            self.known, self.calling = [], None
        self.nodes = QComboBox()
        for node in self.known:
            self.nodes.addItem(str(node))
        self.patient = QLineEdit(patient_id)
        self.patient.setPlaceholderText("the patient's ID, as on the PACS")
        self.find_button = QPushButton("Find studies")
        self.find_button.setDefault(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("studies_found")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.fetch_button = QPushButton("Fetch into the store")
        self.fetch_button.setEnabled(False)
        self.progress = QProgressBar()
        self.status = QLabel("" if self.known else "No DICOM node yet: add one under DICOM nodes.")
        self.status.setObjectName("query_status")
        self.status.setWordWrap(True)

        ask = QHBoxLayout()
        ask.addWidget(self.patient, 1)
        ask.addWidget(self.find_button)
        form = QFormLayout()
        form.addRow("PACS", self.nodes)
        form.addRow("Patient ID", ask)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.fetch_button)
        bottom.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.status)
        layout.addWidget(close)

        self.find_button.clicked.connect(self.find)
        self.patient.returnPressed.connect(self.find)
        self.fetch_button.clicked.connect(self.fetch)
        self.table.itemSelectionChanged.connect(
            lambda: self.fetch_button.setEnabled(bool(self.selected()) and not self._busy())
        )
        self.resize(760, 460)

    def _busy(self) -> bool:
        return self.task is not None and self.task.running

    def selected(self) -> list[StudyFound]:
        return [self.studies[i.row()] for i in self.table.selectionModel().selectedRows()]

    # -- C-FIND --------------------------------------------------------------------------------
    def find(self) -> Task | None:
        if not self.known:
            return None
        node, calling, patient_id = (
            self.known[self.nodes.currentIndex()],
            self.calling,
            (self.patient.text().strip()),
        )
        if not patient_id:
            self.status.setText("Type the patient's ID.")
            return None
        self.status.setText(f"Asking {node.address} for patient {patient_id}…")
        self.find_button.setEnabled(False)
        self.task = Task(
            lambda _p: find_studies(node, patient_id, calling_ae=calling), self, "c-find"
        )
        self.task.finished.connect(self._found)
        self.task.failed.connect(self._failed)
        return self.task.start()

    def _found(self, studies: list[StudyFound]) -> None:
        self.find_button.setEnabled(True)
        self.studies = list(studies)
        self.table.setRowCount(len(self.studies))
        for r, s in enumerate(self.studies):
            cells = (
                study_date(s.study_date),
                s.description,
                ", ".join(s.modalities),
                "" if s.instance_count is None else str(s.instance_count),
                f"{s.patient_name} ({s.patient_id})",
                s.accession_number,
            )
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.status.setText(
            f"{len(self.studies)} stud{'y' if len(self.studies) == 1 else 'ies'} found"
        )

    # -- C-GET ---------------------------------------------------------------------------------
    def fetch(self) -> Task | None:
        chosen = self.selected()
        if not chosen or not self.known:
            return None
        node, calling, repo = self.known[self.nodes.currentIndex()], self.calling, self.repo
        session_id = self.session_id

        def job(progress) -> list[FetchResult]:
            results = []
            for n, study in enumerate(chosen, start=1):

                def each(done: int, total: int, n=n) -> None:
                    progress(done, total, f"study {n} of {len(chosen)}")

                results.append(
                    fetch_study(
                        node,
                        study.study_instance_uid,
                        repo,
                        session_id=session_id,
                        calling_ae=calling,
                        progress=each,
                    )
                )
            return results

        self.fetch_button.setEnabled(False)
        self.find_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.status.setText("Fetching…")
        self.task = Task(job, self, "c-get")
        self.task.progress.connect(self._progress)
        self.task.finished.connect(self._fetched)
        self.task.failed.connect(self._failed)
        return self.task.start()

    def _progress(self, done: int, total: int, what: str) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.status.setText(f"Fetching {what}: {done} received")

    def _fetched(self, results: list[FetchResult]) -> None:
        self.fetched = list(results)
        self.find_button.setEnabled(True)
        self.fetch_button.setEnabled(bool(self.selected()))
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        admitted = [a for r in results for a in r.admitted]
        imported = sum(len(r.imported) for r in results)
        held = sum(1 for r in results for i in r.imported if i.mismatch is not None)
        kept = sum(len(r.kept) for r in results)
        problems = [p for r in results for p in r.problems]
        if self.session_id is not None:
            into = sum(1 for a in admitted if a.state is not Admitted.HELD)
            held = sum(1 for a in admitted if a.state is Admitted.HELD)
            text = f"{into} image(s) brought to the open session"
            if held:
                text += f", {held} held back: not this patient's"
            if self.on_admitted is not None and admitted:
                self.on_admitted(admitted, self.session_id)
        else:
            text = f"{imported} image(s) filed in the store"
        if held and self.session_id is None:
            text += f", {held} held for a patient that does not match"
        if kept:
            text += f", {kept} report(s) or presentation state(s) kept for review"
        self.status.setText(text + ("" if not problems else ". Problems: " + "; ".join(problems)))

    def _failed(self, reason: str) -> None:
        self.find_button.setEnabled(True)
        self.fetch_button.setEnabled(bool(self.selected()))
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(f"Not done: {reason}")
