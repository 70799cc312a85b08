"""Find on PACS: a patient's plans on a node of the clinic (DIMSE or DICOMweb), pulled into the
store as their sessions, with progress and Cancel; what was filed, skipped or is in conflict is
listed for the clinician, and other viewers' measurements are shown read-only."""

from __future__ import annotations

import threading

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.catalog import region_name
from prolo_planner.net.nodes import NetworkSettings, Node, NodeError, load_settings
from prolo_planner.net.retrieve import ReportFound
from prolo_planner.pacs.pull import FoundPlan, PullReport, preview, pull
from prolo_planner.store.pacs_records import PullOutcome
from prolo_planner.store.records import Patient
from prolo_planner.store.repository import Repository
from prolo_planner.ui.exports.background import Task

COLUMNS = ("Session", "Region", "Version", "State", "Clinician", "Sites", "Here")
#: What became of each version, in the colours the timeline uses for the same news.
OUTCOME_COLOUR = {
    PullOutcome.NEW: QColor(60, 150, 80),
    PullOutcome.UPDATED: QColor(60, 150, 80),
    PullOutcome.ALREADY_HERE: QColor(128, 128, 134),
    PullOutcome.CONFLICT: QColor(200, 60, 40),
}
SKIPPED_COLOUR = QColor(178, 98, 0)
READ_ONLY_COLOUR = QColor(40, 100, 170)
#: What the Here column says pulling would do.
OUTLOOK_WORDS = {
    PullOutcome.NEW: "new",
    PullOutcome.UPDATED: "newer on the PACS",
    PullOutcome.ALREADY_HERE: "here",
    PullOutcome.CONFLICT: "CONFLICT: another amendment is here",
}


def shown_date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:8]}" if len(text) == 8 and text.isdigit() else text


class PacsPullDialog(QDialog):
    """Find the patient's plans on a node, then pull them in; one job at a time, cancellable."""

    #: The pull filed something for this patient (Patient): the lists show it.
    pulled = Signal(object)

    def __init__(
        self,
        repo: Repository,
        patient_id: str = "",
        parent: QWidget | None = None,
        settings: NetworkSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("pacs_pull_dialog")
        self.setWindowTitle("Find on PACS")
        self.repo = repo
        self.task: Task | None = None
        self._busy = False
        self.cancel = threading.Event()
        self.found: list[ReportFound] = []
        self.plans: list[FoundPlan] = []
        self.report: PullReport | None = None
        problem = ""
        try:
            self.settings = settings or load_settings()
        except NodeError as exc:
            self.settings, problem = NetworkSettings(), str(exc)
        self.nodes = QComboBox()
        self.nodes.setObjectName("pacs_pull_node")
        for node in self.settings.nodes:
            self.nodes.addItem(str(node))
        self.patient = QLineEdit(patient_id)
        self.patient.setObjectName("pacs_pull_patient")
        self.patient.setPlaceholderText("the patient's ID, as on the PACS")
        self.find_button = QPushButton("Find")
        self.find_button.setObjectName("pacs_find_button")
        self.find_button.setDefault(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("pacs_found")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.pull_button = QPushButton("Pull into the store")
        self.pull_button.setObjectName("pacs_pull_button")
        self.pull_button.setToolTip(
            "Every plan of the patient found above becomes one of their sessions here, with "
            "its images; a session already here is recognised, not duplicated"
        )
        self.pull_button.setEnabled(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("pacs_cancel_button")
        self.cancel_button.setEnabled(False)
        self.close_button = QPushButton("Close")
        self.progress = QProgressBar()
        self.progress.setObjectName("pacs_progress")
        self.progress.setTextVisible(True)
        self.status = QLabel(problem or ("" if self.settings.nodes else _NO_NODE))
        self.status.setObjectName("pacs_status")
        self.status.setWordWrap(True)
        self.results = QListWidget()
        self.results.setObjectName("pacs_results")
        self.results.setWordWrap(True)
        self.results.setAlternatingRowColors(True)

        ask = QHBoxLayout()
        ask.addWidget(self.patient, 1)
        ask.addWidget(self.find_button)
        form = QFormLayout()
        form.addRow("Node", self.nodes)
        form.addRow("Patient ID", ask)
        bottom = QHBoxLayout()
        bottom.addWidget(self.pull_button)
        bottom.addWidget(self.progress, 1)
        bottom.addWidget(self.cancel_button)
        closing = QHBoxLayout()
        closing.addStretch(1)
        closing.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Reports of the patient on the node:"))
        layout.addWidget(self.table, 2)
        layout.addLayout(bottom)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 3)
        layout.addLayout(closing)

        self.find_button.clicked.connect(self.find)
        self.patient.returnPressed.connect(self.find)
        self.pull_button.clicked.connect(self.start_pull)
        self.cancel_button.clicked.connect(self.request_cancel)
        self.close_button.clicked.connect(self.close)
        self.resize(820, 620)

    @property
    def busy(self) -> bool:
        """A find or pull whose answer has not been shown yet (its thread may still be ending
        after it handed the answer over)."""
        return self._busy

    def chosen_node(self) -> Node | None:
        i = self.nodes.currentIndex()
        return self.settings.nodes[i] if 0 <= i < len(self.settings.nodes) else None

    def _working(self, on: bool, what: str) -> None:
        self._busy = on
        self.find_button.setEnabled(not on)
        self.pull_button.setEnabled(not on and bool(self.found))
        self.cancel_button.setEnabled(on)
        self.nodes.setEnabled(not on)
        self.patient.setEnabled(not on)
        if on:
            self.cancel.clear()
            self.progress.setRange(0, 0)  # busy until the first count arrives
            self.status.setText(what)

    # -- finding ----------------------------------------------------------------------------
    def find(self) -> Task | None:
        node, patient_id = self.chosen_node(), self.patient.text().strip()
        if node is None or self.busy:
            return None
        if not patient_id:
            self.status.setText("Type the patient's ID.")
            return None
        repo, settings, cancel = self.repo, self.settings, self.cancel
        self._working(True, f"Asking {node} for the plans of {patient_id}…")
        self.task = Task(
            lambda progress: preview(
                repo, node, patient_id, settings=settings, progress=progress, cancel=cancel
            ),
            self,
            "pacs-find",
        )
        self.task.progress.connect(self._progress)
        self.task.finished.connect(self._found)
        self.task.failed.connect(self._failed)
        return self.task.start()

    def _found(self, plans: list[FoundPlan]) -> None:
        self.plans = sorted(plans, key=lambda p: (p.started_at, p.version or 0), reverse=True)
        self.found = [p.found for p in self.plans]
        self.table.setRowCount(len(self.plans))
        for r, p in enumerate(self.plans):
            self._fill_row(r, p)
        self.table.resizeColumnsToContents()
        self._working(False, "")
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        ours = [p for p in self.plans if p.kind == "plan"]
        new = [p for p in ours if p.outlook not in (None, PullOutcome.ALREADY_HERE)]
        others = len(self.plans) - len(ours)
        text = f"{len(ours)} plan{'s' if len(ours) != 1 else ''} of the patient found"
        text += f", {len(new)} not here yet" if new else ", all here already" if ours else ""
        if others:
            text += f"; {others} other report{'s' if others != 1 else ''}"
        self.status.setText(text + "." + (" Pull them into the store?" if new else ""))
        self.pull_button.setEnabled(bool(new) or any(p.kind == "other viewer" for p in self.plans))

    def _fill_row(self, r: int, p: FoundPlan) -> None:
        f = p.found
        if p.kind == "plan":
            version = "" if p.version is None else f"v{p.version}"
            here = p.problem or (OUTLOOK_WORDS[p.outlook] if p.outlook else "")
            cells = (
                p.started_at[:16].replace("T", " "),
                region_name(p.region),
                version,
                p.state,
                p.clinician,
                "" if p.sites is None else str(p.sites),
                here,
            )
            colour: QColor | None = None  # new: the table's own colour
            if p.problem or p.outlook is None:
                colour = SKIPPED_COLOUR
            elif p.outlook is not PullOutcome.NEW:
                colour = OUTCOME_COLOUR[p.outlook]
        else:
            what = f.manufacturer or f.series_description or "another viewer"
            when = shown_date(f.content_date) or "no date"
            if p.kind == "other viewer":
                here = "read-only: " + ("; ".join(p.measurements) or "no measurements")
                colour = READ_ONLY_COLOUR
            else:
                here, colour = f"cannot be pulled: {p.problem}", SKIPPED_COLOUR
            cells = (when, "", "", f"{what} report", "", "", here)
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(cells[-1] if c == len(cells) - 1 else text)
            if colour is not None:
                item.setForeground(QBrush(colour))
            self.table.setItem(r, c, item)

    # -- pulling ----------------------------------------------------------------------------
    def start_pull(self) -> Task | None:
        node, patient_id = self.chosen_node(), self.patient.text().strip()
        if node is None or self.busy or not self.found:
            return None
        repo, settings, found, cancel = self.repo, self.settings, list(self.found), self.cancel
        self._working(True, f"Pulling from {node}…")
        self.results.clear()
        self.task = Task(
            lambda progress: pull(
                repo,
                node,
                patient_id,
                settings=settings,
                progress=progress,
                cancel=cancel,
                found=found,
            ),
            self,
            "pacs-pull",
        )
        self.task.progress.connect(self._progress)
        self.task.finished.connect(self._pulled)
        self.task.failed.connect(self._failed)
        return self.task.start()

    def request_cancel(self) -> None:
        """Stop after the object on its way (what was filed stays, whole)."""
        if self.busy:
            self.cancel.set()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling after the object on its way…")

    def _progress(self, done: int, total: int, what: str) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        if not self.cancel.is_set():
            self.status.setText(what[:1].upper() + what[1:] + "…")

    def _pulled(self, report: PullReport) -> None:
        self.report = report
        self._working(False, "")
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        summary = report.summary()[:1].upper() + report.summary()[1:] + "."
        self.status.setText(summary)
        self._line(summary, QColor(self.palette().text().color()))
        for filed in report.filed:
            text = (
                f"{filed.outcome.value.capitalize()}: session #{filed.session.id}, {filed.detail}"
            )
            self._line(text, OUTCOME_COLOUR[filed.outcome])
        for line in report.skipped:
            self._line(f"Skipped: {line}", SKIPPED_COLOUR)
        for foreign in report.foreign:
            values = "; ".join(m.describe() for m in foreign.measurements) or "no measurements"
            who = foreign.manufacturer or "another viewer"
            when = shown_date(foreign.content_date) or "no date"
            self._line(f"Read-only, {who} report of {when}: {values}", READ_ONLY_COLOUR)
        if report.patient is not None and (report.filed or report.foreign):
            self.pulled.emit(report.patient)
        if not report.cancelled:
            self.find()  # the list now says what is here

    def _line(self, text: str, colour: QColor) -> None:
        item = QListWidgetItem(text)
        item.setForeground(QBrush(colour))
        item.setToolTip(text)
        self.results.addItem(item)

    def result_lines(self) -> list[str]:
        return [self.results.item(i).text() for i in range(self.results.count())]

    def _failed(self, reason: str) -> None:
        self._working(False, "")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(f"Not done: {reason}")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.cancel.set()  # a pull running on stops after the object on its way
        super().closeEvent(event)


_NO_NODE = "No PACS yet: add one under Export > DICOM nodes."


def patient_id_for(patient: Patient | None, typed: str) -> str:
    """The ID to look for: the chosen patient's, else what was typed in the search field when
    it looks like an ID (one word)."""
    if patient is not None:
        return patient.mrn
    text = typed.strip()
    return text if text and " " not in text else ""
