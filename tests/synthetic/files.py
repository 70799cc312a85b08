"""Writing synthetic ultrasound as files: DICOM with a Sequence of Ultrasound Regions, mp4, PNG."""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, encapsulate_extended
from pydicom.filewriter import dcmwrite
from pydicom.uid import ExplicitVRLittleEndian, JPEGBaseline8Bit

from tests.synthetic.scanner import (
    US_IMAGE_STORAGE,
    US_MULTIFRAME_IMAGE_STORAGE,
    PixelEncoding,
    SyntheticScanner,
)


def _uid(*parts: object) -> str:
    """A UID derived from `parts`, so regenerated samples keep their identity."""
    name = "prolo-planner-synthetic:" + "/".join(str(p) for p in parts)
    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, name).int}"  # a UUID-derived OID, PS3.5 B.2


def ultrasound_regions(scanner: SyntheticScanner) -> list[Dataset]:
    """Sequence of Ultrasound Regions items matching the drawn depth scales."""
    items = []
    for view, lay in zip(scanner.exam.views, scanner.layouts, strict=True):
        x0, y0, x1, y1 = lay.region
        item = Dataset()
        item.RegionSpatialFormat = 1  # 2D
        item.RegionDataType = 1  # tissue
        item.RegionFlags = 0
        item.RegionLocationMinX0, item.RegionLocationMinY0 = x0, y0
        item.RegionLocationMaxX1, item.RegionLocationMaxY1 = x1, y1
        item.ReferencePixelX0, item.ReferencePixelY0 = lay.skin_x - x0, lay.skin_y - y0
        item.PhysicalUnitsXDirection = item.PhysicalUnitsYDirection = 3  # cm
        item.ReferencePixelPhysicalValueX = item.ReferencePixelPhysicalValueY = 0.0
        item.PhysicalDeltaX = item.PhysicalDeltaY = lay.mm_per_px / 10.0
        item.TransducerFrequency = round(view.probe.frequency_mhz * 1000)  # kHz
        items.append(item)
    return items


def _header(scanner: SyntheticScanner, encoding: PixelEncoding, frame_count: int) -> Dataset:
    e, view = scanner.exam, scanner.exam.views[0]
    multi = frame_count > 1
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = (
        JPEGBaseline8Bit if encoding is PixelEncoding.YBR_FULL_422_JPEG else ExplicitVRLittleEndian
    )
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.SOPClassUID = US_MULTIFRAME_IMAGE_STORAGE if multi else US_IMAGE_STORAGE
    ds.SOPInstanceUID = _uid(e.patient.patient_id, e.seed, e.series_number, encoding, "sop")
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = e.study_date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = e.study_time
    ds.AccessionNumber = ""
    ds.Modality = "US"
    ds.Manufacturer = e.manufacturer
    ds.InstitutionName = "Synthetic Clinic (fictitious)"
    ds.ReferringPhysicianName = ""
    ds.StationName = "SYNTH-US1"
    ds.StudyDescription = e.description
    ds.SeriesDescription = " / ".join(v.scene.value for v in e.views)
    ds.ManufacturerModelName = e.model_name
    ds.PatientName = e.patient.name
    ds.PatientID = e.patient.patient_id
    ds.PatientBirthDate = e.patient.birth_date
    ds.PatientSex = e.patient.sex
    ds.BodyPartExamined = e.body_part
    ds.DeviceSerialNumber = "SYN000001"
    ds.SoftwareVersions = "prolo-planner synthetic 1"
    ds.TransducerData = [view.probe.model, view.probe.kind.value]
    ds.ProcessingFunction = "MSK"
    ds.StudyInstanceUID = _uid(e.patient.patient_id, e.study_date, "study")
    ds.SeriesInstanceUID = _uid(e.patient.patient_id, e.seed, e.series_number, "series")
    ds.StudyID = "1"
    ds.SeriesNumber = e.series_number
    ds.InstanceNumber = 1
    if e.laterality:  # type 2C: only for a paired body part
        ds.Laterality = e.laterality
    ds.PatientOrientation = ""
    ds.BurnedInAnnotation = "YES"
    ds.SequenceOfUltrasoundRegions = ultrasound_regions(scanner)
    colour = encoding is not PixelEncoding.MONOCHROME2
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = {
        PixelEncoding.RGB: "RGB",
        PixelEncoding.MONOCHROME2: "MONOCHROME2",
        PixelEncoding.YBR_FULL_422_JPEG: "YBR_FULL_422",
    }[encoding]
    if colour:
        ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = e.rows, e.columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.LossyImageCompression = "00"
    if multi:
        frame_time = 1000.0 / e.frame_rate
        ds.NumberOfFrames = frame_count
        ds.FrameIncrementPointer = 0x00181063  # FrameTime
        ds.FrameTime = f"{frame_time:.4g}"
        ds.CineRate = round(e.frame_rate)
        ds.RecommendedDisplayFrameRate = round(e.frame_rate)
        ds.EffectiveDuration = f"{frame_count * frame_time / 1000:.4g}"
        ds.ActualFrameDuration = round(frame_time)
    return ds


def _as_channels(frame: np.ndarray, channels: int) -> np.ndarray:
    if channels == 1 and frame.ndim == 3:
        return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    if channels == 3 and frame.ndim == 2:
        return np.repeat(frame[..., None], 3, axis=2)
    return frame


def encode_jpeg_422(rgb: np.ndarray, quality: int = 90) -> bytes:
    """One RGB frame as a baseline JPEG with 4:2:2 chroma (what DICOM calls YBR_FULL_422)."""
    params = [
        cv2.IMWRITE_JPEG_QUALITY,
        quality,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422,
    ]
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise ValueError("OpenCV could not encode the frame as JPEG")
    return buf.tobytes()


def write_ultrasound_dicom(
    path: Path | str,
    scanner: SyntheticScanner,
    encoding: PixelEncoding,
    frame_count: int = 1,
    *,
    jpeg_quality: int = 90,
) -> Path:
    """Write `frame_count` frames as Ultrasound (Multi-frame) Image Storage.

    Frames are rendered one at a time: uncompressed pixels are streamed to the file, JPEG
    frames are held compressed only, so even a long cine needs little memory.
    """
    path = Path(path)
    ds = _header(scanner, encoding, frame_count)
    frames = scanner.frames(frame_count)
    if encoding is PixelEncoding.YBR_FULL_422_JPEG:
        jpegs = [encode_jpeg_422(_as_channels(f, 3), jpeg_quality) for f in frames]
        compressed = sum(len(j) for j in jpegs)
        ratio = frame_count * ds.Rows * ds.Columns * 3 / compressed
        ds.LossyImageCompression = "01"
        ds.LossyImageCompressionRatio = f"{ratio:.4g}"
        ds.LossyImageCompressionMethod = "ISO_10918_1"
        if compressed + 8 * (len(jpegs) + 1) < 2**32 - 1:
            ds.PixelData = encapsulate(jpegs, has_bot=True)
        else:  # a basic offset table holds 32-bit offsets only
            ds.PixelData, ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths = (
                encapsulate_extended(jpegs)
            )
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
        dcmwrite(path, ds, enforce_file_format=True)
        return path
    channels = int(ds.SamplesPerPixel)
    nbytes = frame_count * ds.Rows * ds.Columns * channels
    with path.open("wb") as f:
        dcmwrite(f, ds, enforce_file_format=True)
        # Pixel Data is the last element: append it frame by frame (explicit VR LE, OB).
        f.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OB", 0, nbytes + nbytes % 2))
        for frame in frames:
            f.write(np.ascontiguousarray(_as_channels(frame, channels)).tobytes())
        if nbytes % 2:
            f.write(b"\0")
    return path


def write_mp4(path: Path | str, frames: Iterable[np.ndarray], fps: float) -> Path:
    """An MPEG-4 Part 2 (mp4v) clip, as a scanner's video export would give: no calibration."""
    path = Path(path)
    writer: cv2.VideoWriter | None = None
    try:
        for frame in frames:
            rgb = _as_channels(frame, 3)
            if writer is None:
                fourcc = cv2.VideoWriter.fourcc(*"mp4v")
                writer = cv2.VideoWriter(str(path), fourcc, fps, (rgb.shape[1], rgb.shape[0]))
                if not writer.isOpened():
                    raise OSError(f"{path}: OpenCV cannot write mp4v video")
            writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    finally:
        if writer is not None:
            writer.release()
    return path


def write_png(path: Path | str, frame: np.ndarray) -> Path:
    """A PNG frame grab: the pixels only, the depth scale burned in, no calibration."""
    path = Path(path)
    bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR) if frame.ndim == 3 else frame
    if not cv2.imwrite(str(path), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f"{path}: OpenCV could not write the PNG")
    return path
