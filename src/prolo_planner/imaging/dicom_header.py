"""What a DICOM header says: patient, study, scanner, cine timing and millimetre calibration."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset
from pydicom.uid import UID

from prolo_planner.core.calibration import (
    SPATIAL_FORMAT_2D,
    Calibration,
    CalibrationSource,
    UltrasoundRegion,
)
from prolo_planner.imaging.source import FrameTiming, SourceInfo, SourceKind

if TYPE_CHECKING:  # dicom_layout reads the header with this module's helpers
    from prolo_planner.imaging.dicom_layout import PixelLayout

#: Attributes of a Sequence of Ultrasound Regions item that a distance calibration needs.
_REGION_FIELDS = {
    "min_x0": "RegionLocationMinX0",
    "min_y0": "RegionLocationMinY0",
    "max_x1": "RegionLocationMaxX1",
    "max_y1": "RegionLocationMaxY1",
    "units_x": "PhysicalUnitsXDirection",
    "units_y": "PhysicalUnitsYDirection",
    "delta_x": "PhysicalDeltaX",
    "delta_y": "PhysicalDeltaY",
}
#: Stands in for an unreadable item so the core numbers the remaining regions as the file does.
_SKIPPED_REGION = UltrasoundRegion(0, 0, -1, -1, 0, 0, 0, 0.0, 0.0)


def text(ds: Dataset, keyword: str) -> str:
    """An attribute as display text; empty when absent or unreadable (never raises)."""
    try:
        value = ds.get(keyword)
    except Exception:  # a damaged value must not stop the file from opening
        return ""
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def number(ds: Dataset, keyword: str, index: int = 0) -> float | None:
    """A numeric attribute (or one value of a multi-valued one) when present and finite."""
    try:
        value = ds.get(keyword)
        if value is None or value == "":
            return None
        if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
            value = value[index]
        result = float(value)
    except Exception:  # unparsable strings, empty multi-values, bytes in odd VRs
        return None
    return result if math.isfinite(result) else None


def source_info(path: Path, ds: Dataset, layout: PixelLayout, timing: FrameTiming) -> SourceInfo:
    sop_class = text(ds, "SOPClassUID")
    syntax = UID(layout.transfer_syntax)
    return SourceInfo(
        path=path,
        kind=SourceKind.DICOM,
        rows=layout.rows,
        columns=layout.columns,
        frame_count=layout.frame_count,
        samples_per_pixel=1 if layout.samples_per_pixel == 1 and not _palette(layout) else 3,
        frame_time_ms=timing.frame_time_ms,
        patient_name=text(ds, "PatientName"),
        patient_id=text(ds, "PatientID"),
        patient_birth_date=text(ds, "PatientBirthDate"),
        patient_sex=text(ds, "PatientSex"),
        issuer_of_patient_id=text(ds, "IssuerOfPatientID"),
        study_date=text(ds, "StudyDate"),
        study_time=text(ds, "StudyTime"),
        study_description=text(ds, "StudyDescription"),
        study_instance_uid=text(ds, "StudyInstanceUID"),
        series_instance_uid=text(ds, "SeriesInstanceUID"),
        sop_instance_uid=text(ds, "SOPInstanceUID"),
        series_number=_integer(ds, "SeriesNumber"),
        instance_number=_integer(ds, "InstanceNumber"),
        sop_class_uid=sop_class,
        sop_class_name=sop_class_name(sop_class),
        modality=text(ds, "Modality"),
        manufacturer=text(ds, "Manufacturer"),
        model_name=text(ds, "ManufacturerModelName"),
        transducer=transducer(ds),
        photometric_interpretation=layout.photometric,
        transfer_syntax_uid=str(syntax),
        transfer_syntax_name=syntax.name,
        bits_stored=layout.bits_stored,
        extra=tuple(_extra_lines(ds, layout)),
    )


def _integer(ds: Dataset, keyword: str) -> int | None:
    value = number(ds, keyword)
    return int(value) if value is not None else None


def sop_class_name(uid: str) -> str:
    if not uid:
        return ""
    name = UID(uid).name
    return "" if name == uid else name


def transducer(ds: Dataset) -> str:
    """TransducerData, TransducerType and the regions' transducer frequency, whichever exist."""
    parts = [text(ds, "TransducerData").replace("\\", " "), text(ds, "TransducerType")]
    for item in _regions(ds):
        khz = number(item, "TransducerFrequency")
        if khz:
            parts.append(f"{khz / 1000:g} MHz")
            break
    return ", ".join(p for p in parts if p)


def frame_timing(ds: Dataset, frame_count: int) -> FrameTiming:
    """FrameTime, else FrameTimeVector, else CineRate or RecommendedDisplayFrameRate."""
    if frame_count <= 1:
        return FrameTiming(frame_count, number(ds, "FrameTime"))
    frame_time = number(ds, "FrameTime")
    if frame_time and frame_time > 0:
        return FrameTiming(frame_count, frame_time)
    vector = _frame_time_vector(ds, frame_count)
    if vector:
        nominal = sum(vector[1:]) / (len(vector) - 1)
        return FrameTiming(frame_count, nominal if nominal > 0 else None, vector)
    for keyword in ("CineRate", "RecommendedDisplayFrameRate"):
        rate = number(ds, keyword)
        if rate and rate > 0:
            return FrameTiming(frame_count, 1000.0 / rate)
    return FrameTiming(frame_count)


def calibration(ds: Dataset, rows: int, columns: int) -> Calibration:
    """Ultrasound regions, else Pixel Spacing, else Imager Pixel Spacing, else none."""
    notes: list[str] = []
    probe = text(ds, "TransducerType")
    if "SequenceOfUltrasoundRegions" in ds:
        regions, notes = ultrasound_regions(ds)
        found = Calibration.from_ultrasound_regions(regions, rows, columns)
        if found.is_calibrated:
            return replace(found, notes=found.notes + tuple(notes), transducer_type=probe)
        notes = list(found.notes) + notes
    for keyword, source in (
        ("PixelSpacing", CalibrationSource.PIXEL_SPACING),
        ("ImagerPixelSpacing", CalibrationSource.IMAGER_PIXEL_SPACING),
    ):
        spacing = _spacing(ds, keyword)
        if spacing is None:
            continue
        row_mm, column_mm = spacing  # DICOM order: between rows (y), then between columns (x)
        detail = f"{keyword} {row_mm:g}\\{column_mm:g} mm"
        found = Calibration.uniform(rows, columns, column_mm, row_mm, source, detail)
        if found.is_calibrated:
            return replace(found, notes=found.notes + tuple(notes), transducer_type=probe)
        notes += found.notes
    return replace(Calibration.none(notes), transducer_type=probe)


def ultrasound_regions(ds: Dataset) -> tuple[list[UltrasoundRegion], list[str]]:
    """The Sequence of Ultrasound Regions as core values, and notes on unreadable items."""
    regions: list[UltrasoundRegion] = []
    notes: list[str] = []
    for n, item in enumerate(_regions(ds), start=1):
        spatial = number(item, "RegionSpatialFormat")
        values = {field: number(item, keyword) for field, keyword in _REGION_FIELDS.items()}
        missing = [_REGION_FIELDS[f] for f, v in values.items() if v is None]
        if spatial is None or (spatial == SPATIAL_FORMAT_2D and missing):
            absent = ", ".join((["RegionSpatialFormat"] if spatial is None else []) + missing)
            notes.append(f"region {n}: {absent} missing or unreadable, not used")
            regions.append(_SKIPPED_REGION)
            continue
        v = {f: (x if x is not None else 0.0) for f, x in values.items()}
        regions.append(
            UltrasoundRegion(
                min_x0=int(v["min_x0"]),
                min_y0=int(v["min_y0"]),
                max_x1=int(v["max_x1"]),
                max_y1=int(v["max_y1"]),
                spatial_format=int(spatial),
                units_x=int(v["units_x"]),
                units_y=int(v["units_y"]),
                delta_x=float(v["delta_x"]),
                delta_y=float(v["delta_y"]),
                data_type=int(number(item, "RegionDataType") or 0),
                reference_pixel_y0=number(item, "ReferencePixelY0"),
                # (0018,602A): the keyword pydicom knows; a misspelt one reads as absent.
                reference_physical_y0=number(item, "ReferencePixelPhysicalValueY"),
                reference_pixel_x0=number(item, "ReferencePixelX0"),
            )
        )
    return regions, notes


# -- helpers --------------------------------------------------------------------------------
def _palette(layout: PixelLayout) -> bool:
    return layout.photometric == "PALETTE COLOR"


def _regions(ds: Dataset) -> list[Dataset]:
    try:
        sequence = ds.get("SequenceOfUltrasoundRegions")
        return list(sequence) if sequence is not None else []
    except Exception:  # a damaged sequence reads as no regions; the file still opens
        return []


def _frame_time_vector(ds: Dataset, frame_count: int) -> tuple[float, ...]:
    try:
        values = ds.get("FrameTimeVector")
        vector = tuple(float(v) for v in values) if values is not None else ()
    except Exception:
        return ()
    if len(vector) != frame_count or not all(math.isfinite(v) and v >= 0 for v in vector):
        return ()
    return vector


def _spacing(ds: Dataset, keyword: str) -> tuple[float, float] | None:
    source: Any = ds
    if keyword == "PixelSpacing" and keyword not in ds:
        # Enhanced multi-frame objects keep it in the shared functional groups.
        try:
            source = ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
        except Exception:
            return None
    first, second = number(source, keyword, 0), number(source, keyword, 1)
    if first is None or second is None:
        return None
    return first, second


def _extra_lines(ds: Dataset, layout: PixelLayout) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    regions = _regions(ds)
    if regions:
        lines.append(("Ultrasound regions", str(len(regions))))
    for label, keyword, unit in (
        ("Cine rate", "CineRate", " fps"),
        ("Recommended display rate", "RecommendedDisplayFrameRate", " fps"),
        ("Body part", "BodyPartExamined", ""),
        ("Series", "SeriesDescription", ""),
        ("Institution", "InstitutionName", ""),
    ):
        value = text(ds, keyword)
        if value:
            lines.append((label, value + unit))
    if text(ds, "LossyImageCompression") == "01":
        ratio = text(ds, "LossyImageCompressionRatio")
        lines.append(("Lossy compression", f"yes (ratio {ratio})" if ratio else "yes"))
    sign = "signed " if layout.pixel_representation else ""
    lines.append(
        (
            "Pixel format",
            f"{layout.bits_stored} of {layout.bits_allocated} bits {sign}x "
            f"{layout.samples_per_pixel} sample(s)",
        )
    )
    return lines
