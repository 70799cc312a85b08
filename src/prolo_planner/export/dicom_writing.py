"""What every DICOM object Prolo Planner writes shares: equipment, new series, references, files."""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import platform
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import dcmwrite
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from prolo_planner import __version__
from prolo_planner.core.geometry import Point
from prolo_planner.files import write_bytes_atomic

MANUFACTURER = "Prolo Planner"
MODEL_NAME = "Prolo Planner"
SOFTWARE_VERSION = __version__
#: UTF-8, so patient names from the store keep their accents.
CHARACTER_SET = "ISO_IR 192"
_UUID_HEX = re.compile(r"^[0-9a-f]{32}$")
_SINGLE_FRAME_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.6.1",  # Ultrasound Image Storage
        "1.2.840.10008.5.1.4.1.1.6",  # its retired predecessor
        "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image Storage
    }
)


def new_uid() -> str:
    """A fresh UID in the 2.25 (UUID) form, like the scanners' and the sample images'."""
    return str(generate_uid(prefix=None))


def derived_uid(*parts: str) -> str:
    """A UID that is the same whenever the parts are: 2.25 form of a name-based (v5) UUID."""
    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_OID, chr(0).join(parts)).int}"


@dataclass(frozen=True, slots=True)
class NewSeries:
    """The series an export starts: the source's study, a new series of Prolo Planner's own."""

    description: str
    number: int = 901
    instance_number: int = 1
    uid: str = field(default_factory=new_uid)


@dataclass(frozen=True, slots=True)
class SourceImage:
    """The DICOM image an export derives from or points at, and which of its frames (0-based)."""

    sop_class_uid: str
    sop_instance_uid: str
    frame_count: int = 1
    frames: tuple[int, ...] = ()  # empty: the whole image

    @classmethod
    def of(cls, ds: Dataset, frames: Iterable[int] = ()) -> SourceImage:
        return cls(
            sop_class_uid=str(ds.SOPClassUID),
            sop_instance_uid=str(ds.SOPInstanceUID),
            frame_count=int(ds.get("NumberOfFrames") or 1),
            frames=tuple(frames),
        )

    def frame_numbers(self) -> list[int] | None:
        """DICOM's 1-based Referenced Frame Numbers; None for a single frame or the whole cine,
        and for an image of a single-frame SOP class (a scanner may put several frames in an
        Ultrasound Image Storage object; a reference to it may not name one)."""
        if self.frame_count <= 1 or not self.frames:
            return None
        if self.sop_class_uid in _SINGLE_FRAME_CLASSES:
            return None
        return [f + 1 for f in self.frames]

    def source_image_item(self) -> Dataset:
        """A Source Image Sequence (0008,2112) item: this image, as what the export came from."""
        item = Dataset()
        item.ReferencedSOPClassUID = self.sop_class_uid
        item.ReferencedSOPInstanceUID = self.sop_instance_uid
        numbers = self.frame_numbers()
        if numbers is not None:
            item.ReferencedFrameNumber = numbers if len(numbers) > 1 else numbers[0]
        purpose = Dataset()
        code = codes.DCM.SourceImageForImageProcessingOperation
        purpose.CodeValue = code.value
        purpose.CodingSchemeDesignator = code.scheme_designator
        purpose.CodeMeaning = code.meaning
        item.PurposeOfReferenceCodeSequence = [purpose]
        return item


def ellipse_axes(a: Point, b: Point) -> tuple[Point, ...]:
    """A DICOM ELLIPSE (SR SCOORD and PS graphic alike) of the plan's box (corner, opposite
    corner): the major axis end points, then the minor axis end points."""
    cx, cy = (a.x + b.x) / 2, (a.y + b.y) / 2
    rx, ry = abs(b.x - a.x) / 2, abs(b.y - a.y) / 2
    across = (Point(cx - rx, cy), Point(cx + rx, cy))
    down = (Point(cx, cy - ry), Point(cx, cy + ry))
    return across + down if rx >= ry else down + across


#: Patient and General Study attributes of type 2: present, if empty, in every object we make.
TYPE2_PATIENT_STUDY = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
)
_OLD_DATE = re.compile(r"^(\d{4})[.\-/](\d{2})[.\-/](\d{2})$")  # ACR-NEMA's 1997.04.24
_OLD_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?$")  # and its 14:04:38


def as_reference(ds: Dataset) -> Dataset:
    """The header of a source image as the objects made from it copy it: without its pixels,
    with the type 2 patient and study attributes a scanner left out present (empty), and dates
    and times of the old ACR-NEMA form in DICOM's."""
    out = Dataset()
    for elem in ds:
        if elem.tag != 0x7FE00010:
            out.add(elem)
    if hasattr(ds, "file_meta"):
        out.file_meta = ds.file_meta
    for keyword in TYPE2_PATIENT_STUDY:
        if keyword not in out:
            setattr(out, keyword, "")
    for elem in out:
        if elem.VR in ("DA", "TM") and isinstance(elem.value, str) and elem.value:
            elem.value = old_date_or_time(elem.value)
    return out


def old_date_or_time(value: str) -> str:
    """An ACR-NEMA date (1997.04.24) or time (14:04:38) in DICOM's form; others unchanged."""
    text = str(value).strip()
    old = _OLD_DATE.match(text)
    if old:
        return "".join(old.groups())
    old = _OLD_TIME.match(text)
    if old:
        return f"{old[1]}{old[2]}{old[3] or '00'}"
    return str(value)


def now() -> _dt.datetime:
    """The local time, to the second: content and creation times of an export."""
    return _dt.datetime.now().replace(microsecond=0)


def device_serial_number() -> str:
    """This workstation, as the equipment that made the object, without naming its host."""
    return hashlib.sha256(platform.node().encode()).hexdigest()[:16].upper()


def tracking_uid(annotation_id: str) -> str:
    """A DICOM UID for an annotation id: a uuid4 hex id maps both ways (2.25.<its integer>)."""
    if _UUID_HEX.match(annotation_id):
        return f"2.25.{int(annotation_id, 16)}"
    return derived_uid("prolo-planner annotation", annotation_id)


def set_equipment(ds: Dataset) -> None:
    """General Equipment: Prolo Planner made this object."""
    ds.Manufacturer = MANUFACTURER
    ds.ManufacturerModelName = MODEL_NAME
    ds.SoftwareVersions = SOFTWARE_VERSION
    ds.DeviceSerialNumber = device_serial_number()


def to_bytes(ds: Dataset) -> bytes:
    """The object as a DICOM Part 10 file."""
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def write_dicom(ds: Dataset, path: Path | str) -> Path:
    """Write a Part 10 file atomically (a reader never sees half of it), readable by this user."""
    return write_bytes_atomic(Path(path), to_bytes(ds))
