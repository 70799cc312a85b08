"""The Export dialog: which session, which formats and options, de-identified or not, where to;
then the progress and what was written.

De-identified, it names the PS3.15 options it applies and lists every text of the plan that
would be written or burned in, for the clinician to approve: catalog names ticked, typed text
unticked; the export writes exactly the ticked texts."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.text_review import PlanText, TextApproval
from prolo_planner.export.deidentify_profile import ALWAYS, MODIFIED_DATES, DateHandling
from prolo_planner.report.images import ImageOptions
from prolo_planner.report.session_export import (
    DEFAULT_FORMATS,
    ExportFormat,
    export_session,
    session_subject,
    texts_to_review,
)
from prolo_planner.store.records import StoreError
from prolo_planner.store.repository import Repository
from prolo_planner.ui.exports.background import Task
from prolo_planner.ui.exports.session_picker import SessionPicker
from prolo_planner.ui.theme import tone_colour

FORMAT_LABELS = {
    ExportFormat.PNG: "PNG images (annotated key frames)",
    ExportFormat.JPEG: "JPEG images",
    ExportFormat.PDF: "PDF session report",
    ExportFormat.SC: "DICOM Secondary Capture of each key image",
    ExportFormat.CINE: "DICOM annotated cine (multi-frame)",
    ExportFormat.SR: "DICOM structured report (TID 1500)",
    ExportFormat.PR: "DICOM presentation states",
    ExportFormat.NOTE: "Procedure note (PDF and text for the EHR)",
    ExportFormat.FHIR: "FHIR R4 bundle of the procedure record",
}


def default_folder() -> Path:
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents or Path.home()) / "Prolo Planner exports"


class ExportDialog(QDialog):
    def __init__(
        self, repo: Repository, session_id: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("export_dialog")
        self.setWindowTitle("Export session")
        self.repo = repo
        self.task: Task | None = None
        self.files: list[Path] = []
        self.notes: list[str] = []
        self.missing: list[str] = []

        self.sessions = SessionPicker(repo)
        if session_id is not None:
            self.sessions.select(session_id)
        self.formats = {f: QCheckBox(FORMAT_LABELS[f]) for f in ExportFormat}
        for f, box in self.formats.items():
            box.setChecked(f in DEFAULT_FORMATS)
        self.banner = QCheckBox("Patient banner")
        self.scale_bar = QCheckBox("Millimetre scale bar")
        self.legend = QCheckBox("Legend of the numbers and letters on the image")
        self.watermark = QCheckBox("“Planning image, not for diagnosis” watermark")
        for box in (self.banner, self.scale_bar, self.legend, self.watermark):
            box.setChecked(True)
        self.deidentify = QCheckBox("De-identify for teaching")
        self.deidentify.setToolTip(
            "DICOM PS3.15: pseudonyms instead of the patient's identity, only what each object "
            "needs, the scanner's burned-in banner blacked out, and only the texts you approve."
        )
        self.review = self._review_box()
        self.deidentify.toggled.connect(self._deidentify_toggled)
        self.sessions.currentIndexChanged.connect(lambda *_: self.load_texts())
        self.sessions.currentIndexChanged.connect(lambda *_: self._record_formats())
        self.folder = QLineEdit(str(default_folder()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.results = QListWidget()
        self.results.setObjectName("export_results")

        formats = QGroupBox("Formats")
        grid = QGridLayout(formats)
        for i, box in enumerate(self.formats.values()):
            grid.addWidget(box, i % 5, i // 5)
        self._record_formats()
        options = QGroupBox("Images")
        row = QHBoxLayout(options)
        for box in (self.banner, self.scale_bar, self.legend, self.watermark):
            row.addWidget(box)
        where = QHBoxLayout()
        where.addWidget(self.folder, 1)
        where.addWidget(browse)
        form = QFormLayout()
        form.addRow("Session", self.sessions)
        form.addRow("Folder", where)
        form.addRow("", self.deidentify)

        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.review, 1)
        layout.addWidget(formats)
        layout.addWidget(options)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.buttons)
        self.review.setVisible(False)
        self.resize(760, 560)

    # -- de-identification: the options and the texts ----------------------------------------
    def _review_box(self) -> QGroupBox:
        box = QGroupBox("De-identification (DICOM PS3.15)")
        box.setObjectName("deidentification_review")
        applied = "\n".join(f"• {o.meaning}: {o.what}" for o in ALWAYS)
        self.profile_label = QLabel(applied)
        self.profile_label.setWordWrap(True)
        self.shift_dates = QCheckBox(f"{MODIFIED_DATES.meaning}: {MODIFIED_DATES.what}")
        self.shift_dates.setToolTip("Unticked: every date is removed instead.")
        self.shift_dates.setChecked(True)
        self.texts_label = QLabel(
            "Texts of the plan that will be written or burned in. Names from the region "
            "catalogs are kept; typed text is left out unless you tick it: it may name someone."
        )
        self.texts_label.setWordWrap(True)
        self.texts = QListWidget()
        self.texts.setObjectName("text_review")
        self.texts.itemChanged.connect(lambda *_: self._count_texts())
        self.texts_summary = QLabel("")
        catalog_only = QPushButton("Catalog names only")
        catalog_only.clicked.connect(lambda: self._tick(lambda t: t.kept_by_default))
        keep_all = QPushButton("Keep every text")
        keep_all.setToolTip("Only when you have read each one: typed text may name someone.")
        keep_all.clicked.connect(lambda: self._tick(lambda t: True))
        buttons = QHBoxLayout()
        buttons.addWidget(self.texts_summary, 1)
        buttons.addWidget(catalog_only)
        buttons.addWidget(keep_all)
        column = QVBoxLayout(box)
        column.addWidget(self.profile_label)
        column.addWidget(self.shift_dates)
        column.addWidget(self.texts_label)
        column.addWidget(self.texts, 1)
        column.addLayout(buttons)
        self.reviewed: list[PlanText] = []
        return box

    def _tick(self, keep) -> None:  # type: ignore[no-untyped-def]
        for row, text in enumerate(self.reviewed):
            self.texts.item(row).setCheckState(
                Qt.CheckState.Checked if keep(text) else Qt.CheckState.Unchecked
            )

    def _count_texts(self) -> None:
        kept, removed = self.approval().split(self.reviewed)
        self.texts_summary.setText(
            f"{len(kept)} text(s) will be written, {len(removed)} left out" if self.reviewed else ""
        )

    def _record_formats(self) -> None:
        """A session with a procedure record goes to the EHR too: its note and FHIR bundle are
        ticked; one without a record cannot make them (they are unticked and say why)."""
        session_id = self.sessions.session_id()
        recorded = False
        if session_id is not None:
            try:
                recorded = self.repo.load_plan(session_id).procedure is not None
            except StoreError:
                recorded = False
        for fmt in (ExportFormat.NOTE, ExportFormat.FHIR):
            box = self.formats[fmt]
            box.setChecked(recorded)
            box.setToolTip(
                ""
                if recorded
                else "No procedure recorded for this session (Session > Procedure record)"
            )

    def _deidentify_toggled(self, on: bool) -> None:
        self.review.setVisible(on)
        if on:
            self.resize(max(self.width(), 860), max(self.height(), 820))
            self.load_texts()

    def load_texts(self) -> None:
        """The texts of the chosen session, catalog names ticked, typed text not."""
        self.texts.clear()
        self.reviewed = []
        session_id = self.sessions.session_id()
        if session_id is None or not self.deidentify.isChecked():
            return
        try:
            self.reviewed = texts_to_review(session_subject(self.repo, session_id))
        except StoreError as exc:
            self.texts.addItem(f"The texts cannot be read: {exc}")
            return
        if not self.reviewed:
            self.texts.addItem("The plan has no text of its own.")
        for text in self.reviewed:
            item = QListWidgetItem(f"{text.where} ({text.origin.value}): {text.text}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if text.kept_by_default else Qt.CheckState.Unchecked
            )
            item.setData(Qt.ItemDataRole.UserRole, text.key)
            if not text.kept_by_default:
                item.setForeground(tone_colour("warning"))  # typed: read it before ticking it
            self.texts.addItem(item)
        self._count_texts()

    def approval(self) -> TextApproval:
        """Exactly the texts ticked, as they were shown."""
        kept = [
            text
            for row, text in enumerate(self.reviewed)
            if (item := self.texts.item(row)) is not None
            and item.checkState() == Qt.CheckState.Checked
        ]
        return TextApproval.of(kept)

    def chosen_formats(self) -> list[ExportFormat]:
        return [f for f, box in self.formats.items() if box.isChecked()]

    def image_options(self) -> ImageOptions:
        return ImageOptions(
            banner=self.banner.isChecked(),
            scale_bar=self.scale_bar.isChecked(),
            legend=self.legend.isChecked(),
            watermark=self.watermark.isChecked(),
        )

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Export into", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    # -- running -------------------------------------------------------------------------------
    def start(self) -> Task | None:
        """Export in the background; the results list fills when it is done."""
        session_id = self.sessions.session_id()
        formats = self.chosen_formats()
        if session_id is None or not formats or not self.folder.text().strip():
            self.status.setText(
                "Choose a session, at least one format and a folder."
                if session_id is None or not formats
                else "Choose a folder to export into."
            )
            return None
        repo, out = self.repo, Path(self.folder.text().strip()).expanduser()
        options, deidentify = self.image_options(), self.deidentify.isChecked()
        texts = self.approval() if deidentify else None
        dates = DateHandling.SHIFT if self.shift_dates.isChecked() else DateHandling.REMOVE
        notes: list[str] = []
        missing: list[str] = []

        def job(progress) -> list[Path]:
            # The store's connection is shared by the app's threads (it locks each use).
            files = export_session(
                repo,
                session_id,
                formats,
                out,
                deidentify,
                options=options,
                progress=progress,
                notes=notes,
                missing=missing,
                dates=dates,
                texts=texts,
            )
            self.notes = notes
            self.missing = missing
            return files

        self.results.clear()
        self.status.setText("Exporting…")
        self.progress.setRange(0, 0)
        self.export_button.setEnabled(False)
        self.task = Task(job, self, "export")
        self.task.progress.connect(self._progress)
        self.task.finished.connect(self._done)
        self.task.failed.connect(self._failed)
        return self.task.start()

    def _progress(self, done: int, total: int, what: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        if what != "done":
            self.status.setText(f"Making {what}…")

    def _done(self, files: list[Path]) -> None:
        self.files = list(files)
        self.export_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        folder = self.folder.text().strip()
        status = f"{len(self.files)} file(s) written to {folder}"
        if self.missing:
            status += f"; {len(self.missing)} could not be made (in red below)"
        self.status.setText(status)
        for gone in self.missing:
            item = QListWidgetItem(f"Not made: {gone}")
            item.setForeground(tone_colour("danger"))
            self.results.addItem(item)
        for path in self.files:
            self.results.addItem(path.name)
        for note in self.notes:
            item = QListWidgetItem(f"Note: {note}")
            item.setForeground(tone_colour("warning"))
            self.results.addItem(item)

    def _failed(self, reason: str) -> None:
        self.export_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(f"Not exported: {reason}")
        item = QListWidgetItem(f"Not exported: {reason}")
        item.setForeground(tone_colour("danger"))
        self.results.addItem(item)
