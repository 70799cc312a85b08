"""De-identified copies of DICOM images for teaching: PS3.15 basic profile, consistent pseudonyms,
and the burned-in patient banner of ultrasound images masked.

Pseudonyms, new UIDs and the date shift come from a keyed hash (HMAC-SHA256) of the original
values under a PseudonymKey: with one key, the same patient always gets the same pseudonym and
date shift, and the same UID always maps to the same new UID, so two images of one study stay
one study; without the key nobody can go back. Dates are shifted by whole days per patient (so
intervals between sessions survive), or emptied on request.
"""

from __future__ import annotations

import base64
import copy
import datetime as _dt
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    UltrasoundImageStorage,
    UltrasoundMultiFrameImageStorage,
)

from prolo_planner import __version__
from prolo_planner.export.deidentify_iods import (
    FILE_META,
    NEEDS_A_DATE,
    PALETTE,
    TOP_LEVEL_ONLY,
    allowed_for,
)
from prolo_planner.export.deidentify_profile import (
    ACTIONS,
    TABLE_EDITION,
    Action,
    DateHandling,
    options_used,
    profile_code,
)
from prolo_planner.export.dicom_writing import (
    TYPE2_PATIENT_STUDY,
    old_date_or_time,
    write_dicom,
)
from prolo_planner.export.errors import ExportError
from prolo_planner.export.patient_study import apply_body
from prolo_planner.imaging.dicom_frames import EncapsulatedFrames, NativeFrames
from prolo_planner.imaging.dicom_header import ultrasound_regions
from prolo_planner.imaging.dicom_layout import read_header
from prolo_planner.imaging.dicom_pixels import Presentation, decode_frame, to_display
from prolo_planner.imaging.errors import ImageLoadError

_SINGLE_FRAME_US = frozenset({UltrasoundImageStorage, "1.2.840.10008.5.1.4.1.1.6"})
#: Dates move back by 1 to this many days: far enough that a date no longer points at a visit.
MAX_SHIFT_DAYS = 3650
_DICOM_ROOT = "1.2.840.10008."  # UIDs the standard defines (classes, syntaxes): never remapped
_PALETTE = (
    tuple(
        f"{colour}PaletteColorLookupTable{part}"
        for colour in ("Red", "Green", "Blue")
        for part in ("Descriptor", "Data")
    )
    + tuple(f"Segmented{c}PaletteColorLookupTableData" for c in ("Red", "Green", "Blue"))
    + ("PaletteColorLookupTableUID",)
)


@dataclass(frozen=True, slots=True)
class PseudonymKey:
    """The clinic's secret for pseudonyms: keep it to de-identify more images consistently."""

    secret: bytes = field(repr=False)

    @classmethod
    def generate(cls) -> PseudonymKey:
        return cls(secrets.token_bytes(32))

    @classmethod
    def from_hex(cls, text: str) -> PseudonymKey:
        return cls(bytes.fromhex(text.strip()))

    def hex(self) -> str:
        return self.secret.hex()

    def _digest(self, purpose: str, value: str) -> bytes:
        return hmac.new(self.secret, f"{purpose}\0{value}".encode(), hashlib.sha256).digest()

    def uid(self, original: str) -> str:
        """The new UID of an original one: a 2.25 UID of a (version 4 form) UUID."""
        return f"2.25.{uuid.UUID(bytes=self._digest('uid', original)[:16], version=4).int}"

    def pseudonym(self, patient: str) -> str:
        """A short code for one patient, the same every time under this key."""
        return base64.b32encode(self._digest("patient", patient)[:5]).decode()

    def day_shift(self, patient: str) -> int:
        """Days this patient's dates move back (1 to MAX_SHIFT_DAYS)."""
        return 1 + int.from_bytes(self._digest("days", patient)[:4], "big") % MAX_SHIFT_DAYS


@dataclass(frozen=True, slots=True)
class Rectangle:
    """Pixels x0 <= column < x1, y0 <= row < y1 to black out."""

    x0: int
    y0: int
    x1: int
    y1: int


@dataclass(frozen=True, slots=True)
class Deidentified:
    dataset: Dataset
    pseudonym: str
    masked: tuple[Rectangle, ...] = ()
    #: What the clinician should know: e.g. burned-in text that was not masked.
    notes: tuple[str, ...] = ()


# -- the header ---------------------------------------------------------------------------------
def patient_identity(ds: Dataset) -> str:
    """Who the images are of, as the pseudonym's input: ID and issuer, else name and birth date.

    An export of several objects uses one identity for all of them (Deidentifier), the one its
    patient is known by, so a source with an Issuer of Patient ID cannot split one export into
    two pseudonymous patients.
    """
    pid = str(ds.get("PatientID", "") or "").strip()
    if pid:
        return f"id:{pid}|{ds.get('IssuerOfPatientID', '') or ''}"
    return f"name:{ds.get('PatientName', '') or ''}|{ds.get('PatientBirthDate', '') or ''}"


class Deidentifier:
    """One export's de-identification: one key, one patient (so one pseudonym and one date shift
    for every object it writes) and one choice of dates.

    Each object keeps only what its IOD needs (deidentify_iods.allowed_for); each kept attribute
    the PS3.15 table names is treated as deidentify_profile.ACTIONS says; private attributes,
    overlays and curves go.
    """

    def __init__(
        self,
        key: PseudonymKey,
        identity: str,
        dates: DateHandling = DateHandling.SHIFT,
        own_texts: Iterable[str] = (),
    ) -> None:
        self.key, self.identity, self.dates = key, identity, dates
        self.pseudonym = key.pseudonym(identity)
        self.shift_days = key.day_shift(identity)
        self.own_texts = frozenset(own_texts) | _own_texts()

    @property
    def patient_id(self) -> str:
        return f"ANON-{self.pseudonym}"

    @property
    def patient_name(self) -> str:
        return f"ANONYMIZED^{self.pseudonym}"

    def uid(self, value: str) -> str:
        """The new UID of an original one (UIDs the standard defines stay)."""
        value = str(value).strip()
        if not value or value.startswith(_DICOM_ROOT):
            return value
        return self.key.uid(value)

    def study_id(self, study_instance_uid: str) -> str:
        return f"S{self.key.pseudonym('study ' + str(study_instance_uid))[:7]}"

    def shifted_date(self, value: str) -> str:
        """A DA or DT moved back by this patient's days ('' when it is not a date)."""
        text = str(value).strip()
        if len(text) < 8 or not text[:8].isdigit():
            return ""  # not a date we can move: dropping it is the safe side
        try:
            day = _dt.datetime.strptime(text[:8], "%Y%m%d").date()
        except ValueError:
            return ""
        moved = day - _dt.timedelta(days=self.shift_days)
        return moved.strftime("%Y%m%d") + text[8:]  # a DT keeps its time and offset

    def header(self, ds: Dataset, *, masked: bool = False) -> Dataset:
        """A de-identified copy of the dataset (its pixel data, if kept, copied unchanged)."""
        out = Dataset()
        sop_class = str(ds.get("SOPClassUID", ""))
        study = self.study_id(str(ds.get("StudyInstanceUID", "")))
        needed = NEEDS_A_DATE.get(sop_class, frozenset())
        _Cleaner(self, allowed_for(sop_class), study, needed).copy_into(ds, out)
        if str(out.get("PhotometricInterpretation", "")) != "PALETTE COLOR":
            for keyword in PALETTE & set(out.dir()):
                del out[keyword]
        if hasattr(ds, "file_meta"):
            out.file_meta = FileMetaDataset()
            _Cleaner(self, FILE_META, study).copy_into(ds.file_meta, out.file_meta)
            if "SOPInstanceUID" in out:
                out.file_meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
            if "TransferSyntaxUID" not in out.file_meta:
                out.file_meta.TransferSyntaxUID = _syntax_read(ds)
        declare(out, self.dates, masked=masked)
        return out

    def image_file(
        self,
        path: Path,
        full: Dataset,
        destination: Path | str,
        rectangles: Sequence[Rectangle] | None = None,
        body: tuple[str, str] | None = None,
        frame_time_ms: float | None = None,
    ) -> Deidentified:
        """Write the de-identified copy of the image `full` (read from `path`), its banner (or
        `rectangles`) masked; `body` its body part and laterality (patient_study.body_site),
        `frame_time_ms` the time between its frames where the file does not say. The copy is a
        new object: it says what the standard asks where the scanner did not. Raises
        ExportError."""
        out = self.header(full)
        _conform(out, frame_time_ms)
        out.PatientName, out.PatientID = self.patient_name, self.patient_id
        if body is not None:
            apply_body(out, body)
        wanted = tuple(banner_rectangles(full) if rectangles is None else rectangles)
        notes: list[str] = []
        masked: tuple[Rectangle, ...] = ()
        if wanted and "PixelData" in full:
            _mask_pixels(path, out, wanted)
            masked = wanted
            out.BurnedInAnnotation = "NO"
            declare(out, self.dates, masked=True)
        elif str(full.get("BurnedInAnnotation", "")).upper() == "YES":
            notes.append(
                "burned-in text was not masked: no ultrasound banner found and no area given"
            )
        write_dicom(out, destination)
        return Deidentified(out, self.pseudonym, masked, tuple(notes))


def deidentify_header(
    ds: Dataset, key: PseudonymKey, dates: DateHandling = DateHandling.SHIFT
) -> Deidentified:
    """A de-identified copy of one dataset, its patient read from its own header."""
    deid = Deidentifier(key, patient_identity(ds), dates)
    return Deidentified(deid.header(ds), deid.pseudonym)


class _Cleaner:
    def __init__(
        self,
        deid: Deidentifier,
        allowed: frozenset[str],
        study: str,
        needs_a_date: frozenset[str] = frozenset(),
    ) -> None:
        self.deid, self.allowed, self.study = deid, allowed, study
        self.needs_a_date = needs_a_date

    def copy_into(self, source: Dataset, out: Dataset, depth: int = 0) -> None:
        for elem in source:
            tag = elem.tag
            if tag.is_private or _overlay_or_curve(tag.group, tag.element):
                continue
            if elem.keyword not in self.allowed:
                continue  # an allow-list: what nobody listed cannot leak
            if depth and elem.keyword in TOP_LEVEL_ONLY:
                continue
            action = ACTIONS.get(elem.keyword)
            if action is None and profile_code(tag) is not None:
                continue  # named by the table but without a decision: the safe side
            kept = self._kept(elem, action, depth)
            if kept is not None:
                out.add(kept)

    def _kept(self, elem: DataElement, action: Action | None, depth: int) -> DataElement | None:
        if elem.VR == "SQ":
            if action is Action.EMPTY:
                return DataElement(elem.tag, "SQ", [])
            if action not in (None, Action.CLEAN_ITEMS):
                return None
            items = []
            for item in elem.value:
                clean = Dataset()
                self.copy_into(item, clean, depth + 1)
                items.append(clean)
            return DataElement(elem.tag, "SQ", items)
        value = copy.deepcopy(elem.value)
        if elem.VR in ("DA", "TM"):
            value = _map_values(value, old_date_or_time)  # ACR-NEMA's 1997.04.24, 14:04:38
            elem = DataElement(elem.tag, elem.VR, value)
        if elem.VR == "CS":
            value = _map_values(value, _code_string)  # a scanner's "ABDOM/RAD" is no CS
        if action is None or action is Action.REVIEWED_TEXT:
            return DataElement(elem.tag, elem.VR, value)
        if action is Action.EMPTY:
            return DataElement(elem.tag, elem.VR, "")
        if action is Action.DUMMY:
            dummy = "ANONYMIZED^" if elem.VR == "PN" else "ANONYMIZED"
            return DataElement(elem.tag, elem.VR, dummy)
        if action is Action.PATIENT_NAME:
            return DataElement(elem.tag, elem.VR, self.deid.patient_name)
        if action is Action.PATIENT_ID:
            return DataElement(elem.tag, elem.VR, self.deid.patient_id)
        if action is Action.STUDY_ID:
            return DataElement(elem.tag, elem.VR, self.study)
        if action is Action.UID:
            return DataElement(elem.tag, elem.VR, _map_values(value, self.deid.uid))
        if action is Action.OWN_TEXT:
            return elem if str(elem.value or "") in self.deid.own_texts else None
        if action in (Action.DATE, Action.TIME):
            return self._date_or_time(elem, action)
        return None

    def _date_or_time(self, elem: DataElement, action: Action) -> DataElement | None:
        if self.deid.dates is DateHandling.SHIFT:
            if action is Action.TIME:
                # Whole-day shifts keep the time of day; it says nothing once the date moved.
                return DataElement(elem.tag, elem.VR, copy.deepcopy(elem.value))
            return DataElement(elem.tag, elem.VR, _map_values(elem.value, self.deid.shifted_date))
        if elem.keyword in self.needs_a_date:  # type 1: a dummy that points at no visit
            dummy = {"DA": "19000101", "TM": "000000", "DT": "19000101000000"}
            return DataElement(elem.tag, elem.VR, dummy.get(elem.VR, ""))
        if (profile_code(elem.tag) or "X").startswith("X"):
            return None
        return DataElement(elem.tag, elem.VR, "")


def _conform(ds: Dataset, frame_time_ms: float | None) -> None:
    """What a scanner left out or wrote in a form the standard does not allow, for a copy that
    must pass dciodvfy: type 2 attributes present, several frames in a multi-frame class."""
    for keyword in (*TYPE2_PATIENT_STUDY, "PatientOrientation"):
        if keyword not in ds:
            setattr(ds, keyword, "")
    frames = int(ds.get("NumberOfFrames") or 1)
    if frames > 1 and str(ds.get("SOPClassUID", "")) in _SINGLE_FRAME_US:
        ds.SOPClassUID = UltrasoundMultiFrameImageStorage
        if hasattr(ds, "file_meta"):
            ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    if frames > 1 and "FrameIncrementPointer" not in ds:
        if "FrameTime" not in ds and "FrameTimeVector" not in ds:
            ds.FrameTime = f"{frame_time_ms or 1000.0 / 30:.6g}"
        ds.FrameIncrementPointer = 0x00181063 if "FrameTime" in ds else 0x00181065


def _code_string(value: str) -> str:
    """A CS value as the standard allows it: capitals, digits, space and underscore."""
    return re.sub(r"[^A-Z0-9 _]", "_", value.upper())


def _syntax_read(ds: Dataset) -> UID:
    """The transfer syntax a dataset without a meta header was read in."""
    implicit, little = getattr(ds, "original_encoding", (None, None))
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRBigEndian if little is False else ExplicitVRLittleEndian


def _own_texts() -> frozenset[str]:
    """Descriptions Prolo Planner writes into its own objects: kept by Clean Descriptors."""
    from prolo_planner.export import presentation_state, secondary_capture, structured_report

    sc = secondary_capture.SERIES_DESCRIPTION
    return frozenset(
        {
            sc,
            sc + " cine",
            secondary_capture.DERIVATION,
            presentation_state.SERIES_DESCRIPTION,
            structured_report.SERIES_DESCRIPTION,
        }
    )


def _map_values(value: Any, fn: Callable[[str], str]) -> Any:
    """fn on a value, or on each of a multi-valued element's values."""
    if isinstance(value, str | bytes) or value is None:
        return fn(str(value or ""))
    try:
        return [fn(str(v)) for v in value]
    except TypeError:
        return fn(str(value))


def _overlay_or_curve(group: int, element: int) -> bool:
    if 0x5000 <= group <= 0x50FF and group % 2 == 0:
        return True  # curves (retired) can hold anything
    return 0x6000 <= group <= 0x60FF and group % 2 == 0


def declare(ds: Dataset, dates: DateHandling, masked: bool) -> None:
    """Say what was done, as PS3.15 asks: the profile, and the options used."""
    ds.PatientIdentityRemoved = "YES"
    used = options_used(dates, masked)
    # LO: 64 characters at most.
    ds.DeidentificationMethod = f"PS3.15-{TABLE_EDITION} allow-list, Prolo Planner {__version__}"
    items = []
    for option in used:
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator = option.code, "DCM"
        item.CodeMeaning = option.meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = items
    ds.LongitudinalTemporalInformationModified = (
        "MODIFIED" if dates is DateHandling.SHIFT else "REMOVED"
    )


# -- the pixels ---------------------------------------------------------------------------------
def banner_rectangles(ds: Dataset) -> tuple[Rectangle, ...]:
    """The ultrasound banner: every row above the topmost ultrasound region (where the scanner
    burns in the patient's name and ID). None when the file has no regions or none below row 0.

    The topmost region, not strictly the first item: in a dual view both start at the same row,
    and a region listed first but lower must not let the banner above the other survive.
    """
    rows, columns = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
    regions, _ = ultrasound_regions(ds)
    tops = [r.min_y0 for r in regions if r.max_y1 >= r.min_y0 and r.max_x1 >= r.min_x0]
    if not tops or rows == 0:
        return ()
    top = min(max(0, min(tops)), rows)
    return (Rectangle(0, 0, columns, top),) if top > 0 else ()


def mask(frames: np.ndarray, rectangles: Iterable[Rectangle], black: int = 0) -> np.ndarray:
    """A copy of frames (N x H x W [x 3]) with the rectangles set to `black`."""
    out = np.array(frames, copy=True)
    height, width = out.shape[1], out.shape[2]
    for r in rectangles:
        x0, x1 = max(0, r.x0), min(width, r.x1)
        y0, y1 = max(0, r.y0), min(height, r.y1)
        if x0 < x1 and y0 < y1:
            out[:, y0:y1, x0:x1, ...] = black
    return out


def deidentify_file(
    source: Path | str,
    destination: Path | str,
    key: PseudonymKey,
    *,
    dates: DateHandling = DateHandling.SHIFT,
    rectangles: Sequence[Rectangle] | None = None,
    identity: str | None = None,
) -> Deidentified:
    """Write a de-identified copy of a DICOM image.

    `rectangles` None masks the ultrasound banner (banner_rectangles); an explicit list masks
    those instead (empty: no masking). Masked pixels are written uncompressed; BurnedInAnnotation
    becomes NO only when something was masked. `identity` is the export's patient (default: the
    file's own). Raises ExportError.
    """
    path = Path(source)
    try:
        full = pydicom.dcmread(path)
    except Exception as exc:  # pydicom raises many kinds on damaged files
        raise ExportError(f"{path.name}: cannot be read as DICOM ({exc})") from None
    deid = Deidentifier(key, identity or patient_identity(full), dates)
    return deid.image_file(path, full, destination, rectangles)


def _mask_pixels(path: Path, out: Dataset, rectangles: Sequence[Rectangle]) -> None:
    """Decode every frame with the viewer's decoders, mask, and store them uncompressed."""
    try:
        header, layout, stream_size = read_header(path)
        frames = (
            EncapsulatedFrames(path, layout, stream_size)
            if layout.is_encapsulated
            else NativeFrames(path, layout)
        )
        decoded = [decode_frame(layout, frames.read(i)) for i in range(layout.frame_count)]
        photometric = decoded[0][1]
        bits_allocated, bits_stored = layout.bits_allocated, layout.bits_stored
        if photometric == "PALETTE COLOR":
            # Index 0 need not be black: the masked copy keeps the colours shown, as RGB.
            shown = Presentation.from_dataset(header, layout)
            stack = np.stack([to_display(arr, photometric, shown) for arr, _ in decoded])
            photometric, bits_allocated, bits_stored = "RGB", 8, 8
            for keyword in _PALETTE:
                if keyword in out:
                    del out[keyword]
        else:
            stack = np.stack([arr for arr, _ in decoded])
    except ImageLoadError as exc:
        raise ExportError(
            f"{path.name}: pixels cannot be read to mask them ({exc.reason})"
        ) from None
    except Exception as exc:  # a frame's decoder failing: same words for the clinician
        raise ExportError(f"{path.name}: pixels cannot be decoded to mask them ({exc})") from None
    black = (1 << bits_stored) - 1 if photometric == "MONOCHROME1" else 0
    pixels = mask(stack, rectangles, black)
    out.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    out.PhotometricInterpretation = photometric
    if pixels.ndim == 4:
        out.SamplesPerPixel = 3
        out.PlanarConfiguration = 0
    out.BitsAllocated, out.BitsStored, out.HighBit = bits_allocated, bits_stored, bits_stored - 1
    out.PixelData = np.ascontiguousarray(pixels).tobytes()
    out["PixelData"].VR = "OB" if bits_allocated <= 8 else "OW"
