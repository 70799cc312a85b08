"""DICOM Secondary Capture of annotated images: one key frame, or a whole annotated cine.

The SC keeps the source's patient and study (or the session's, for a video or a still), starts a
series of its own, says the annotations are burned in, keeps every pixel (uncompressed or RLE)
and points back at the source image and frame it was made from.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from enum import StrEnum

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    RLELossless,
    SecondaryCaptureImageStorage,
)

from prolo_planner.export.dicom_writing import (
    CHARACTER_SET,
    NewSeries,
    SourceImage,
    new_uid,
    now,
    set_equipment,
)
from prolo_planner.export.errors import ExportError
from prolo_planner.export.patient_study import PatientStudy

SERIES_DESCRIPTION = "Prolo Planner annotated"
DERIVATION = "Planning annotations (targets, needle paths, avoid zones) burned in by Prolo Planner"
#: A capture of a video or still as it is, so a plan drawn on it can point at DICOM pixels.
CAPTURE_DERIVATION = "Video or still image captured as it is by Prolo Planner, no annotations"


class PixelCompression(StrEnum):
    """Both keep every pixel: an SC of a plan must show exactly what the clinician saw."""

    NONE = "uncompressed"
    RLE = "RLE lossless"


Origin = Dataset | PatientStudy


def secondary_capture(
    pixels: np.ndarray,
    origin: Origin,
    *,
    frame: int | None = None,
    series: NewSeries | None = None,
    compression: PixelCompression = PixelCompression.NONE,
    lossy: bool | None = None,
    created: _dt.datetime | None = None,
    uid: str | None = None,
    body: tuple[str, str] | None = None,
    refer_to_source: bool = True,
    derivation: str = DERIVATION,
) -> Dataset:
    """A single-frame SC of one annotated frame (HxW grey or HxWx3 RGB, uint8).

    `origin` is the source image's DICOM header (its patient and study are kept, and the SC
    points at it and at `frame` unless `refer_to_source` is False), or a PatientStudy for a video
    or a still. `lossy` says whether the pixels went through lossy compression before (None: as
    the source header says). `uid` is its SOP Instance UID (export.uids; default a new one),
    `body` its Body Part Examined and Laterality (patient_study.body_site; default the origin's).
    """
    arr = _checked(pixels, frames=False)
    ds = _common(
        SecondaryCaptureImageStorage,
        arr[np.newaxis],
        origin,
        series,
        lossy,
        created,
        frames=() if frame is None else (frame,),
        uid=uid,
        body=body,
        refer_to_source=refer_to_source,
        derivation=derivation,
    )
    return _with_pixels(ds, arr[np.newaxis], compression)


def cine_secondary_capture(
    frames: np.ndarray | Sequence[np.ndarray],
    origin: Origin,
    *,
    source_frames: Sequence[int] | None = None,
    frame_time_ms: float | None = None,
    series: NewSeries | None = None,
    compression: PixelCompression = PixelCompression.NONE,
    lossy: bool | None = None,
    created: _dt.datetime | None = None,
    uid: str | None = None,
    body: tuple[str, str] | None = None,
    refer_to_source: bool = True,
    derivation: str = DERIVATION,
) -> Dataset:
    """A Multi-frame True Color SC of an annotated cine (N x H x W x 3 RGB, uint8).

    `source_frames` are the 0-based source frames the frames show (default: 0..N-1);
    `frame_time_ms` defaults to the source's Frame Time.
    """
    try:
        stacked = np.asarray(frames)
    except ValueError:
        raise ExportError("the cine's frames differ in size") from None
    arr = _checked(stacked, frames=True)
    if arr.ndim == 3:  # grey frames: the true-colour SC holds them as equal R, G and B
        arr = np.repeat(arr[..., np.newaxis], 3, axis=3)
    count = arr.shape[0]
    shown = tuple(range(count)) if source_frames is None else tuple(source_frames)
    if len(shown) != count:
        raise ExportError(f"{count} frames given but {len(shown)} source frame numbers")
    if frame_time_ms is None and isinstance(origin, Dataset):
        frame_time_ms = _float(origin.get("FrameTime"))
    if frame_time_ms is None or not frame_time_ms > 0:
        raise ExportError("a cine export needs the time between frames (Frame Time)")
    ds = _common(
        MultiFrameTrueColorSecondaryCaptureImageStorage,
        arr,
        origin,
        series,
        lossy,
        created,
        frames=shown,
        uid=uid,
        body=body,
        refer_to_source=refer_to_source,
        derivation=derivation,
    )
    ds.NumberOfFrames = count
    # Cine module: frames are evenly spaced in time, so Frame Time drives playback.
    ds.FrameIncrementPointer = 0x00181063
    ds.FrameTime = f"{frame_time_ms:.6g}"
    ds.CineRate = max(1, round(1000.0 / frame_time_ms))
    return _with_pixels(ds, arr, compression)


# -- building ---------------------------------------------------------------------------------
def _checked(pixels: np.ndarray, frames: bool) -> np.ndarray:
    arr = np.asarray(pixels)
    if arr.dtype != np.uint8:
        raise ExportError(f"annotated frames are 8-bit (uint8), got {arr.dtype}")
    grey, colour = (3, 4) if frames else (2, 3)
    if not (arr.ndim == grey or (arr.ndim == colour and arr.shape[-1] == 3)):
        what = "N x H x W (x 3)" if frames else "H x W (x 3)"
        raise ExportError(f"annotated frames must be {what}, got shape {arr.shape}")
    if 0 in arr.shape:
        raise ExportError("an annotated frame has no pixels")
    return np.ascontiguousarray(arr)


def _common(
    sop_class: str,
    arr: np.ndarray,
    origin: Origin,
    series: NewSeries | None,
    lossy: bool | None,
    created: _dt.datetime | None,
    frames: tuple[int, ...],
    uid: str | None = None,
    body: tuple[str, str] | None = None,
    refer_to_source: bool = True,
    derivation: str = DERIVATION,
) -> Dataset:
    series = series or NewSeries(SERIES_DESCRIPTION)
    when = created or now()
    date, time = when.strftime("%Y%m%d"), when.strftime("%H%M%S")
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.SpecificCharacterSet = CHARACTER_SET
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = uid or new_uid()
    ds.InstanceCreationDate, ds.InstanceCreationTime = date, time
    ds.ImageType = ["DERIVED", "SECONDARY"]

    source = origin if isinstance(origin, Dataset) else None
    patient_study = (
        origin if isinstance(origin, PatientStudy) else PatientStudy.from_dataset(origin)
    )
    patient_study.apply_to(ds)

    # General Series: a new series of Prolo Planner's, in the source's study.
    ds.Modality = _modality(source)
    ds.SeriesInstanceUID = series.uid
    ds.SeriesNumber = series.number
    ds.SeriesDescription = series.description
    ds.SeriesDate, ds.SeriesTime = date, time
    patient_study.with_body(body).apply_body_to(ds)

    set_equipment(ds)
    # SC Equipment: made on a workstation, from images of this modality.
    ds.ConversionType = "WSD"
    ds.SecondaryCaptureDeviceManufacturer = ds.Manufacturer
    ds.SecondaryCaptureDeviceManufacturerModelName = ds.ManufacturerModelName
    ds.SecondaryCaptureDeviceSoftwareVersions = ds.SoftwareVersions

    # General Image and SC Image.
    ds.InstanceNumber = series.instance_number
    ds.PatientOrientation = ""
    ds.ContentDate, ds.ContentTime = date, time
    ds.DateOfSecondaryCapture, ds.TimeOfSecondaryCapture = date, time
    ds.BurnedInAnnotation = "YES"
    ds.DerivationDescription = derivation
    if source is not None and refer_to_source:
        ds.SourceImageSequence = [SourceImage.of(source, frames).source_image_item()]
    _lossy_history(ds, source, lossy)

    # Image Pixel.
    ds.Rows, ds.Columns = int(arr.shape[1]), int(arr.shape[2])
    colour = arr.ndim == 4
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = "RGB" if colour else "MONOCHROME2"
    if colour:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    return ds


def _with_pixels(ds: Dataset, arr: np.ndarray, compression: PixelCompression) -> Dataset:
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    single = arr[0] if arr.shape[0] == 1 else arr
    if compression is PixelCompression.RLE:
        ds.compress(RLELossless, single, generate_instance_uid=False)
    else:
        ds.PixelData = arr.tobytes()
        ds["PixelData"].VR = "OB"
    return ds


def _modality(source: Dataset | None) -> str:
    modality = str(source.get("Modality", "")) if source is not None else ""
    return modality or "OT"


def _lossy_history(ds: Dataset, source: Dataset | None, lossy: bool | None) -> None:
    """Once lossy, always lossy: say so when the source's pixels were lossy compressed."""
    was_lossy = lossy
    if was_lossy is None:
        was_lossy = source is not None and str(source.get("LossyImageCompression", "")) == "01"
    if not was_lossy:
        ds.LossyImageCompression = "00"
        return
    ds.LossyImageCompression = "01"
    if source is not None and source.get("LossyImageCompressionMethod"):
        ds.LossyImageCompressionMethod = source.LossyImageCompressionMethod
        if source.get("LossyImageCompressionRatio"):
            ds.LossyImageCompressionRatio = source.LossyImageCompressionRatio


def _float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
