"""Measurements from another viewer's TID 1500 report (OHIF, a scanner, another workstation),
read with highdicom, to be shown read-only beside the plan: never turned into a plan."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import highdicom as hd
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError


class ForeignReportError(Exception):
    """The SR is not a TID 1500 measurement report that can be read."""


@dataclass(frozen=True, slots=True)
class ForeignMeasurement:
    """One value as the other viewer labelled it."""

    label: str  # the group's tracking identifier or finding, e.g. "Lesion 1"
    name: str  # the measurement's concept, e.g. "Length"
    value: float
    unit: str  # UCUM, e.g. "mm"
    sop_instance_uid: str  # the image it was measured on, "" if the report does not say

    def describe(self) -> str:
        label = f"{self.label}: " if self.label else ""
        return f"{label}{self.name} {self.value:g} {self.unit}".strip()


@dataclass(frozen=True, slots=True)
class ForeignReport:
    """Another viewer's report: who made it, when, and its measurements."""

    sop_instance_uid: str
    manufacturer: str
    description: str
    content_date: str
    measurements: tuple[ForeignMeasurement, ...]


def read_foreign_report(source: Dataset | Path | str) -> ForeignReport:
    ds = source
    if not isinstance(ds, Dataset):
        try:
            ds = pydicom.dcmread(Path(source))
        except (InvalidDicomError, OSError, ValueError) as exc:
            raise ForeignReportError(f"cannot be read as DICOM ({exc})") from None
    try:
        report = hd.sr.MeasurementReport.from_sequence([ds], copy=False)
        groups: list = [
            *report.get_planar_roi_measurement_groups(),
            *report.get_image_measurement_groups(),
        ]
        found: list[ForeignMeasurement] = []
        for group in groups:
            label = str(group.tracking_identifier or "")
            if not label and group.finding_type is not None:
                label = str(group.finding_type.meaning)
            image = _image_of(group)
            for m in group.get_measurements():
                if m.value is None:
                    continue
                found.append(
                    ForeignMeasurement(
                        label,
                        str(m.name.meaning),
                        float(m.value),
                        str(m.unit.value) if m.unit is not None else "",
                        image,
                    )
                )
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
        raise ForeignReportError(f"not a TID 1500 measurement report ({exc})") from None
    return ForeignReport(
        sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
        manufacturer=str(ds.get("Manufacturer", "")),
        description=str(ds.get("SeriesDescription", "")),
        content_date=str(ds.get("ContentDate", "")),
        measurements=tuple(found),
    )


def _image_of(group: object) -> str:
    roi = getattr(group, "roi", None)
    refs = list(getattr(roi, "ContentSequence", []) or []) if roi is not None else []
    if not refs:
        refs = list(getattr(group, "source_images", []) or [])
    for ref in refs:
        uid = getattr(ref, "referenced_sop_instance_uid", None)
        if uid:
            return str(uid)
    return ""
