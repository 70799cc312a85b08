"""The metadata panel: patient, study, scanner, pixels, and where the millimetres come from."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.image_calibration import describe_geometry
from prolo_planner.imaging.source import SourceInfo, SourceKind

#: Shown for a field the file does not record, so a blank is never mistaken for "none".
NOT_RECORDED = "—"

Rows = list[tuple[str, list[tuple[str, str]]]]


def format_person_name(value: str) -> str:
    """DICOM 'Family^Given^Middle^Prefix^Suffix' as 'Family, Given Middle'."""
    if "^" not in value:
        return value.strip()
    parts = [p.strip() for p in value.split("=")[0].split("^")]
    family = parts[0]
    given = " ".join(p for p in parts[1:3] if p)
    name = f"{family}, {given}" if family and given else family or given
    prefix = parts[3] if len(parts) > 3 else ""
    suffix = parts[4] if len(parts) > 4 else ""
    return " ".join(p for p in (prefix, name, suffix) if p)


def format_date(value: str) -> str:
    """DICOM 'YYYYMMDD' as 'YYYY-MM-DD'; anything else as it is."""
    v = value.strip()
    if len(v) == 8 and v.isdigit():
        return f"{v[:4]}-{v[4:6]}-{v[6:]}"
    return v


def format_time(value: str) -> str:
    v = value.strip().split(".")[0]
    if len(v) >= 4 and v.isdigit():
        return ":".join(v[i : i + 2] for i in range(0, len(v), 2))
    return v


def describe_rows(
    info: SourceInfo, calibration: Calibration, file_calibration: Calibration, file_name: str = ""
) -> Rows:
    """The panel's content as (section, [(label, value)]) — the same words the tests read.
    `file_name` is shown instead of the file's own when that is a library copy's hash."""

    def value(v: str) -> str:
        return v.strip() or NOT_RECORDED

    patient = [
        ("Name", value(format_person_name(info.patient_name))),
        ("ID", value(info.patient_id)),
        ("Birth date", value(format_date(info.patient_birth_date))),
    ]
    if info.patient_sex:
        patient.append(("Sex", info.patient_sex))

    study_date = format_date(info.study_date)
    if info.study_time:
        study_date = f"{study_date} {format_time(info.study_time)}".strip()
    study = [("Date", value(study_date))]
    if info.study_description:
        study.append(("Description", info.study_description))
    if info.modality:
        study.append(("Modality", info.modality))

    scanner = " ".join(p for p in (info.manufacturer.strip(), info.model_name.strip()) if p)
    acquisition: list[tuple[str, str]] = []
    if info.kind is SourceKind.DICOM:
        acquisition += [
            ("Scanner", value(scanner)),
            ("Transducer", value(info.transducer)),
            ("SOP class", value(info.sop_class_name or info.sop_class_uid)),
        ]
    elif scanner:
        acquisition.append(("Scanner", scanner))

    image = [("File", file_name or info.path.name), ("Kind", _kind_text(info))]
    image.append(("Size", f"{info.columns} x {info.rows} px"))
    frames = str(info.frame_count) + (f" ({info.truncation})" if info.truncation else "")
    image.append(("Frames", frames))
    image += [("Warning", w) for w in info.warnings]
    if info.frame_count > 1 or info.frame_time_ms:
        image.append(("Frame time", _frame_time_text(info)))
    if info.photometric_interpretation:
        colour = info.photometric_interpretation
        if info.bits_stored and info.bits_stored != 8:
            colour += f", {info.bits_stored} bit"
        image.append(("Photometric", colour))
    if info.transfer_syntax_name or info.transfer_syntax_uid:
        image.append(("Transfer syntax", info.transfer_syntax_name or info.transfer_syntax_uid))
    if info.codec:
        image.append(("Codec", info.codec))
    # A source's own rows say more (a video names its codec in full): one row per name.
    image = [row for row in image if row[0] not in {label for label, _ in info.extra}]
    image += [(label, text) for label, text in info.extra]

    cal = [("In use", "\n".join(calibration.describe_lines()))]
    if calibration.file_regions_differ(file_calibration):
        cal.append(("From file", "\n".join(file_calibration.describe_lines())))
    geometry = describe_geometry(calibration)
    if geometry:
        cal.append(("Depth", "\n".join(geometry)))

    sections: Rows = [("Patient", patient), ("Study", study)]
    if acquisition:
        sections.append(("Acquisition", acquisition))
    sections += [("Image", image), ("Calibration", cal)]
    return sections


def _kind_text(info: SourceInfo) -> str:
    if info.kind is SourceKind.DICOM:
        return "DICOM cine loop" if info.frame_count > 1 else "DICOM still"
    if info.kind is SourceKind.VIDEO:
        return "video clip"
    return "still image (frame grab)"


def _frame_time_text(info: SourceInfo) -> str:
    if not info.frame_time_ms or info.frame_time_ms <= 0:
        return "not recorded (played at 30 fps)"
    fps = 1000.0 / info.frame_time_ms
    duration_s = info.frame_time_ms * info.frame_count / 1000.0
    return f"{info.frame_time_ms:.1f} ms ({fps:.1f} fps), {duration_s:.1f} s in all"


class MetadataPanel(QScrollArea):
    """Read-only, selectable text; rebuilt whenever the shown image or its calibration changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metadata_panel")
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        # Values wrap to the panel's width rather than hide behind a sideways scroll bar.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(260)
        self._sections: Rows = []
        self.show_nothing()

    def show_nothing(self) -> None:
        self._sections = []
        body = QWidget()
        layout = QVBoxLayout(body)
        hint = QLabel("No image open.\n\nFile > Open files… (Ctrl+O)\nor drop files here.")
        hint.setObjectName("metadata_hint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addStretch(1)
        self.setWidget(body)

    def show_image(
        self,
        info: SourceInfo,
        calibration: Calibration,
        file_calibration: Calibration,
        file_name: str = "",
    ) -> None:
        self._sections = describe_rows(info, calibration, file_calibration, file_name)
        body = QWidget()
        # One form for every section, so the labels of all sections share one column.
        form = QFormLayout(body)
        form.setContentsMargins(10, 4, 10, 10)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(3)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for title, rows in self._sections:
            header = QLabel(title)
            header.setObjectName("metadata_section")
            form.addRow(header)
            for label, text in rows:
                name = QLabel(label)
                name.setObjectName("metadata_label")
                val = QLabel(text)
                val.setObjectName("metadata_missing" if text == NOT_RECORDED else "metadata_value")
                val.setWordWrap(True)
                val.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                val.setTextFormat(Qt.TextFormat.PlainText)
                # A long unbroken word (a file name, a UID) is clipped, not widening the panel;
                # the tooltip holds it whole.
                val.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
                val.setMinimumWidth(60)
                if len(text) > 24:
                    val.setToolTip(text)
                form.addRow(name, val)
        self.setWidget(body)

    def sections(self) -> Rows:
        return self._sections

    def plain_text(self) -> str:
        """Everything shown, one 'label: value' a line, under section titles."""
        out: list[str] = []
        for title, rows in self._sections:
            out.append(title)
            out += [f"  {label}: {text}" for label, text in rows]
        return "\n".join(out)
