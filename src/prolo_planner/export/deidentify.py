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
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import ExplicitVRLittleEndian

from prolo_planner import __version__
from prolo_planner.export.deidentify_profile import KEPT_UIDS, PROFILE, Action
from prolo_planner.export.dicom_writing import write_dicom
from prolo_planner.export.errors import ExportError
from prolo_planner.imaging.dicom_frames import EncapsulatedFrames, NativeFrames
from prolo_planner.imaging.dicom_header import ultrasound_regions
from prolo_planner.imaging.dicom_layout import read_header
from prolo_planner.imaging.dicom_pixels import Presentation, decode_frame, to_display
from prolo_planner.imaging.errors import ImageLoadError

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


class DateHandling(StrEnum):
    SHIFT = "shifted"  # Retain Longitudinal Temporal Information, Modified Dates Option
    REMOVE = "removed"


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
    """Who the images are of, as the pseudonym's input: ID and issuer, else name and birth date."""
    pid = str(ds.get("PatientID", "") or "").strip()
    if pid:
        return f"id:{pid}|{ds.get('IssuerOfPatientID', '') or ''}"
    return f"name:{ds.get('PatientName', '') or ''}|{ds.get('PatientBirthDate', '') or ''}"


def deidentify_header(
    ds: Dataset, key: PseudonymKey, dates: DateHandling = DateHandling.SHIFT
) -> Deidentified:
    """A de-identified copy of the dataset's header (pixel data, if any, is copied unchanged)."""
    out = copy.deepcopy(ds)
    identity = patient_identity(ds)
    code = key.pseudonym(identity)
    study = f"S{key.pseudonym('study ' + str(ds.get('StudyInstanceUID', '')))[:7]}"
    cleaner = _Cleaner(key, dates, code, key.day_shift(identity), study)
    cleaner.clean(out)
    if hasattr(out, "file_meta"):
        cleaner.clean(out.file_meta)
        if "SOPInstanceUID" in out:
            out.file_meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
        if "SourceApplicationEntityTitle" in out.file_meta:
            del out.file_meta.SourceApplicationEntityTitle
    _declare(out, dates, masked=False)
    return Deidentified(out, code)


class _Cleaner:
    def __init__(
        self, key: PseudonymKey, dates: DateHandling, code: str, shift_days: int, study: str
    ) -> None:
        self.key, self.dates, self.code, self.shift = key, dates, code, shift_days
        self.study = study

    def clean(self, ds: Dataset) -> None:
        for elem in list(ds):
            tag = elem.tag
            if tag.is_private or _overlay_or_curve(tag.group, tag.element):
                del ds[tag]
                continue
            code, action = PROFILE.get(elem.keyword, ("", None))
            if action is None:
                action = self._by_vr(elem)
            if action is not None:
                self._apply(ds, elem, code, action)
            elif elem.VR == "SQ":
                for item in elem.value:
                    self.clean(item)

    def _by_vr(self, elem: DataElement) -> Action | None:
        """Attributes the table does not list: names, dates and instance UIDs by their VR."""
        if elem.VR == "PN":
            return Action.REMOVE  # any person's name identifies someone
        if elem.VR in ("DA", "DT"):
            return Action.DATE
        if elem.VR == "UI" and elem.keyword not in KEPT_UIDS:
            return Action.UID
        return None

    def _apply(self, ds: Dataset, elem: DataElement, code: str, action: Action) -> None:
        if action is Action.REMOVE:
            del ds[elem.tag]
        elif action is Action.EMPTY:
            elem.value = [] if elem.VR == "SQ" else ""
        elif action is Action.DUMMY:
            elem.value = "ANONYMIZED" if elem.VR != "PN" else "ANONYMIZED^"
        elif action is Action.PATIENT_NAME:
            elem.value = f"ANONYMIZED^{self.code}"
        elif action is Action.PATIENT_ID:
            elem.value = f"ANON-{self.code}"
        elif action is Action.STUDY_ID:
            elem.value = self.study
        elif action is Action.UID:
            elem.value = _map_values(elem.value, self._uid)
        elif action is Action.CLEAN_ITEMS:
            for item in elem.value:
                self.clean(item)
        elif action in (Action.DATE, Action.TIME):
            if self.dates is DateHandling.SHIFT:
                if action is Action.DATE:
                    elem.value = _map_values(elem.value, self._shifted)
                # Whole-day shifts keep the time of day; it says nothing once the date moved.
            elif code.startswith("X") or not code:
                del ds[elem.tag]
            else:
                elem.value = ""

    def _uid(self, value: str) -> str:
        value = str(value).strip()
        if not value or value.startswith(_DICOM_ROOT):
            return value
        return self.key.uid(value)

    def _shifted(self, value: str) -> str:
        text = str(value).strip()
        if len(text) < 8 or not text[:8].isdigit():
            return ""  # not a date we can move: dropping it is the safe side
        try:
            day = _dt.datetime.strptime(text[:8], "%Y%m%d").date()
        except ValueError:
            return ""
        moved = day - _dt.timedelta(days=self.shift)
        return moved.strftime("%Y%m%d") + text[8:]  # a DT keeps its time and offset


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
    return 0x6000 <= group <= 0x60FF and group % 2 == 0 and element in (0x3000, 0x4000)


def _declare(ds: Dataset, dates: DateHandling, masked: bool) -> None:
    """Say what was done, as PS3.15 asks: the profile, and the options used."""
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = f"DICOM PS3.15 basic profile (Prolo Planner {__version__})"
    used = [codes.DCM.BasicApplicationConfidentialityProfile]
    if dates is DateHandling.SHIFT:
        used.append(codes.DCM.RetainLongitudinalTemporalInformationModifiedDatesOption)
    if masked:
        used.append(codes.DCM.CleanPixelDataOption)
    items = []
    for code in used:
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator = code.value, code.scheme_designator
        item.CodeMeaning = code.meaning
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
) -> Deidentified:
    """Write a de-identified copy of a DICOM image.

    `rectangles` None masks the ultrasound banner (banner_rectangles); an explicit list masks
    those instead (empty: no masking). Masked pixels are written uncompressed; BurnedInAnnotation
    becomes NO only when something was masked. Raises ExportError.
    """
    path = Path(source)
    try:
        full = pydicom.dcmread(path)
    except Exception as exc:  # pydicom raises many kinds on damaged files
        raise ExportError(f"{path.name}: cannot be read as DICOM ({exc})") from None
    result = deidentify_header(full, key, dates)
    out = result.dataset
    wanted = tuple(banner_rectangles(full) if rectangles is None else rectangles)
    notes: list[str] = []
    masked: tuple[Rectangle, ...] = ()
    if wanted and "PixelData" in full:
        _mask_pixels(path, out, wanted)
        masked = wanted
        out.BurnedInAnnotation = "NO"
        _declare(out, dates, masked=True)
    elif str(full.get("BurnedInAnnotation", "")).upper() == "YES":
        notes.append("burned-in text was not masked: no ultrasound banner found and no area given")
    write_dicom(out, destination)
    return Deidentified(out, result.pseudonym, masked, tuple(notes))


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
