"""Builders of small real DICOM files for the tests: cines, palettes, regions, broken copies.

Each builder writes a genuine Part 10 file (or a bare dataset) with pydicom and OpenCV's
encoders, so the reader under test meets the same bytes a scanner or PACS would send.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, encapsulate_extended
from pydicom.pixels import pack_bits
from pydicom.uid import (
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    generate_uid,
)

US_MULTIFRAME = UID("1.2.840.10008.5.1.4.1.1.3.1")
US_IMAGE = UID("1.2.840.10008.5.1.4.1.1.6.1")
SC_IMAGE = UID("1.2.840.10008.5.1.4.1.1.7")
#: Sampling factors for OpenCV's JPEG writer: 4:2:2 (the YBR_FULL_422 of DICOM) and 4:2:0.
SAMPLING_422 = 0x211111
SAMPLING_420 = 0x221111


def ultrasound_rgb(rows: int, columns: int, index: int, seed: int = 7) -> np.ndarray:
    """A synthetic colour B-mode frame: speckle, a bright line that moves with `index`."""
    rng = np.random.default_rng(seed + index)
    y = np.linspace(0, 1, rows, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, columns, dtype=np.float32)[None, :]
    grey = 60 + 80 * np.exp(-(((y - 0.3 - 0.01 * index) / 0.03) ** 2)) + 40 * x
    grey = grey + rng.normal(0, 18, (rows, columns)).astype(np.float32)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    rgb[: rows // 8, : columns // 3, 0] += 90  # an orange banner, so colour matters
    rgb[: rows // 8, : columns // 3, 1] += 40
    return np.clip(rgb, 0, 255).astype(np.uint8)


def base_dataset(
    rows: int,
    columns: int,
    frames: int = 1,
    syntax: str = ExplicitVRLittleEndian,
    sop_class: str = US_MULTIFRAME,
) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientName = "Test^Synthetic"
    ds.PatientID = "PP-0001"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyDate = "20240102"
    ds.StudyTime = "101500"
    ds.StudyDescription = "Lumbar spine prolotherapy"
    ds.Modality = "US"
    ds.Manufacturer = "Prolo Test Devices"
    ds.ManufacturerModelName = "Synth 1"
    ds.Rows, ds.Columns = rows, columns
    if frames > 1:
        ds.NumberOfFrames = frames
        ds.FrameTime = 33.3
        ds.FrameIncrementPointer = (0x0018, 0x1063)
    return ds


def set_colour_pixels(ds: Dataset, photometric: str, planar: int = 0) -> None:
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = photometric
    ds.PlanarConfiguration = planar
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0


def set_grey_pixels(
    ds: Dataset, bits: int = 8, signed: bool = False, photometric: str = "MONOCHROME2"
) -> None:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8 if bits <= 8 else 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = int(signed)


def write(ds: Dataset, path: Path, meta: bool = True, **kwargs: object) -> Path:
    if meta:
        ds.save_as(path, enforce_file_format=True, **kwargs)
    else:
        ds.save_as(path, **kwargs)
    return path


def jpeg_frames(
    frames: Sequence[np.ndarray], sampling: int = SAMPLING_422, quality: int = 90
) -> list[bytes]:
    params = [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, sampling]
    out = []
    for rgb in frames:
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
        assert ok
        out.append(buf.tobytes())
    return out


def ybr_jpeg_cine(
    path: Path,
    frames: int = 12,
    rows: int = 96,
    columns: int = 128,
    sampling: int = SAMPLING_422,
    fragments_per_frame: int = 1,
    has_bot: bool = True,
    extended: bool = False,
    encoded: list[bytes] | None = None,
) -> Path:
    """A YBR_FULL_422 JPEG Baseline cine as ultrasound scanners write them."""
    if encoded is None:
        encoded = jpeg_frames([ultrasound_rgb(rows, columns, i) for i in range(frames)], sampling)
    ds = base_dataset(rows, columns, frames, JPEGBaseline8Bit)
    set_colour_pixels(ds, "YBR_FULL_422")
    ds.LossyImageCompression = "01"
    if extended:
        data, offsets, lengths = encapsulate_extended(encoded)
        ds.PixelData = data
        ds.ExtendedOffsetTable = offsets
        ds.ExtendedOffsetTableLengths = lengths
    else:
        ds.PixelData = encapsulate(encoded, fragments_per_frame, has_bot=has_bot)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return write(ds, path)


def rgb_cine(
    path: Path, frames: int = 12, rows: int = 96, columns: int = 128, planar: int = 0
) -> Path:
    """An uncompressed RGB cine, planar configuration 0 or 1."""
    arr = np.stack([ultrasound_rgb(rows, columns, i) for i in range(frames)])
    ds = base_dataset(rows, columns, frames)
    set_colour_pixels(ds, "RGB", planar)
    stored = arr if planar == 0 else arr.transpose(0, 3, 1, 2)
    ds.PixelData = np.ascontiguousarray(stored).tobytes()
    return write(ds, path)


def grey_frames(
    rows: int, columns: int, frames: int, bits: int, signed: bool, seed: int = 3
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lo = -(1 << (bits - 1)) if signed else 0
    hi = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    dtype = (np.int8 if signed else np.uint8) if bits <= 8 else (np.int16 if signed else np.uint16)
    base = np.linspace(lo, hi, rows * columns).reshape(rows, columns)
    out = [np.clip(base + rng.normal(0, (hi - lo) / 20, base.shape), lo, hi) for _ in range(frames)]
    return np.stack(out).astype(dtype)


def grey_cine(
    path: Path,
    frames: int = 4,
    rows: int = 40,
    columns: int = 50,
    bits: int = 8,
    signed: bool = False,
    photometric: str = "MONOCHROME2",
    window: tuple[float, float] | None = None,
    rescale: tuple[float, float] | None = None,
    syntax: str = ExplicitVRLittleEndian,
    compress: str | None = None,
) -> Path:
    arr = grey_frames(rows, columns, frames, bits, signed)
    ds = base_dataset(rows, columns, frames, syntax)
    set_grey_pixels(ds, bits, signed, photometric)
    if window:
        ds.WindowCenter, ds.WindowWidth = window
    if rescale:
        ds.RescaleSlope, ds.RescaleIntercept = rescale
    little = UID(syntax).is_little_endian
    ds.PixelData = arr.astype(arr.dtype.newbyteorder("<" if little else ">")).tobytes()
    if compress:
        ds.compress(compress, arr if frames > 1 else arr[0], generate_instance_uid=False)
    return write(ds, path)


def palette_image(
    path: Path,
    frames: int = 2,
    rows: int = 30,
    columns: int = 40,
    index_bits: int = 8,
    segmented: bool = False,
) -> Path:
    """PALETTE COLOR with 16-bit LUT entries (full 16-bit range), 8- or 16-bit indices.

    `segmented` writes the Segmented Palette Color LUTs (PS3.3 C.7.9.2): a discrete start
    value, then a linear segment to the end value.
    """
    entries = 1 << index_bits if index_bits <= 12 else 4096
    ramp = np.linspace(0, 65535, entries)
    lut = {
        "Red": ramp,
        "Green": ramp[::-1],
        "Blue": 65535 * (0.5 + 0.5 * np.sin(np.linspace(0, 6, entries))),
    }
    rng = np.random.default_rng(11)
    dtype = np.uint8 if index_bits <= 8 else np.uint16
    arr = rng.integers(0, entries, (frames, rows, columns)).astype(dtype)
    ds = base_dataset(rows, columns, frames)
    set_grey_pixels(ds, index_bits, False, "PALETTE COLOR")
    for colour, values in lut.items():
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [entries % 65536, 0, 16])
        if segmented:
            first, last = round(values[0]), round(values[-1])
            segments = np.array([0, 1, first, 1, entries - 1, last], dtype="<u2")
            setattr(ds, f"Segmented{colour}PaletteColorLookupTableData", segments.tobytes())
        else:
            data = np.round(values).astype("<u2").tobytes()
            setattr(ds, f"{colour}PaletteColorLookupTableData", data)
    ds.PixelData = arr.tobytes()
    return write(ds, path)


def bit_packed(path: Path, frames: int = 3, rows: int = 3, columns: int = 5) -> Path:
    """1-bit frames whose boundaries fall inside bytes (15 bits per frame)."""
    rng = np.random.default_rng(5)
    arr = rng.integers(0, 2, (frames, rows, columns)).astype(np.uint8)
    ds = base_dataset(rows, columns, frames)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 1
    ds.HighBit = 0
    ds.PixelRepresentation = 0
    ds.PixelData = pack_bits(arr)
    return write(ds, path)


def big_endian_ow_odd(path: Path, frames: int = 3, rows: int = 3, columns: int = 3) -> Path:
    """8-bit RGB in explicit big endian stored as OW with odd-length frames (pairs swapped)."""
    arr = np.stack([ultrasound_rgb(rows, columns, i) for i in range(frames)])
    raw = arr.tobytes() + (b"\x00" if arr.size % 2 else b"")
    swapped = np.frombuffer(raw, ">u2").byteswap().tobytes()
    ds = base_dataset(rows, columns, frames, ExplicitVRBigEndian)
    set_colour_pixels(ds, "RGB")
    ds.PixelData = swapped
    ds["PixelData"].VR = "OW"
    return write(ds, path, implicit_vr=False, little_endian=False)


def add_regions(ds: Dataset, regions: Sequence[dict[str, object]]) -> None:
    items = []
    for spec in regions:
        item = Dataset()
        for keyword, value in spec.items():
            setattr(item, keyword, value)
        items.append(item)
    ds.SequenceOfUltrasoundRegions = items


def region(
    x0: int, y0: int, x1: int, y1: int, dx_cm: float, dy_cm: float, **more: object
) -> dict[str, object]:
    spec: dict[str, object] = {
        "RegionSpatialFormat": 1,
        "RegionDataType": 1,
        "RegionFlags": 0,
        "RegionLocationMinX0": x0,
        "RegionLocationMinY0": y0,
        "RegionLocationMaxX1": x1,
        "RegionLocationMaxY1": y1,
        "PhysicalUnitsXDirection": 3,
        "PhysicalUnitsYDirection": 3,
        "PhysicalDeltaX": dx_cm,
        "PhysicalDeltaY": dy_cm,
    }
    spec.update(more)
    return spec


def with_changes(source: Path, path: Path, **changes: object) -> Path:
    """A copy of a real file with header attributes changed (None deletes one)."""
    ds = pydicom.dcmread(source)
    for keyword, value in changes.items():
        if keyword == "TransferSyntaxUID":
            ds.file_meta.TransferSyntaxUID = value
        elif value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    ds.save_as(path)
    return path


def chopped(source: Path, path: Path, keep: int) -> Path:
    """The first `keep` bytes of a real file (negative: all but the last -keep)."""
    data = source.read_bytes()
    path.write_bytes(data[:keep])
    return path
