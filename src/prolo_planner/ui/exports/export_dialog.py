"""The Export dialog: which session, which formats and options, de-identified or not, where to;
then the progress and what was written."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtGui import QColor
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

from prolo_planner.report.images import ImageOptions
from prolo_planner.report.session_export import DEFAULT_FORMATS, ExportFormat, export_session
from prolo_planner.store.repository import Repository
from prolo_planner.ui.exports.background import Task
from prolo_planner.ui.exports.session_picker import SessionPicker

FORMAT_LABELS = {
    ExportFormat.PNG: "PNG images (annotated key frames)",
    ExportFormat.JPEG: "JPEG images",
    ExportFormat.PDF: "PDF session report",
    ExportFormat.SC: "DICOM Secondary Capture of each key image",
    ExportFormat.CINE: "DICOM annotated cine (multi-frame)",
    ExportFormat.SR: "DICOM structured report (TID 1500)",
    ExportFormat.PR: "DICOM presentation states",
}
NOTE_COLOUR = QColor(255, 190, 60)


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

        self.sessions = SessionPicker(repo)
        if session_id is not None:
            self.sessions.select(session_id)
        self.formats = {f: QCheckBox(FORMAT_LABELS[f]) for f in ExportFormat}
        for f, box in self.formats.items():
            box.setChecked(f in DEFAULT_FORMATS)
        self.banner = QCheckBox("Patient banner")
        self.scale_bar = QCheckBox("Millimetre scale bar")
        self.legend = QCheckBox("Legend of targets and zones")
        self.watermark = QCheckBox("“Planning image, not for diagnosis” watermark")
        for box in (self.banner, self.scale_bar, self.legend, self.watermark):
            box.setChecked(True)
        self.deidentify = QCheckBox("De-identify for teaching")
        self.deidentify.setToolTip(
            "Pseudonyms and shifted dates instead of the patient's identity; names of people "
            "and notes left out; the scanner's burned-in banner blacked out."
        )
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
            grid.addWidget(box, i % 4, i // 4)
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
        layout.addWidget(formats)
        layout.addWidget(options)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.buttons)
        self.resize(760, 560)

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
        notes: list[str] = []

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
            )
            self.notes = notes
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
        self.status.setText(f"{len(self.files)} file(s) written to {folder}")
        for path in self.files:
            self.results.addItem(path.name)
        for note in self.notes:
            item = QListWidgetItem(f"Note: {note}")
            item.setForeground(NOTE_COLOUR)
            self.results.addItem(item)

    def _failed(self, reason: str) -> None:
        self.export_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(f"Not exported: {reason}")
        item = QListWidgetItem(f"Not exported: {reason}")
        item.setForeground(Qt.GlobalColor.red)
        self.results.addItem(item)
