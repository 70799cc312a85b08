"""Hostile and damaged files, each a case an attacker or bad luck produced (issue 15).

Small on disk, huge in what they declare: a deflated dataset that inflates to gigabytes, JPEG
and RLE frames and a PNG declaring 20000 x 20000 or more, a cine whose header counts 100,000
frames, a region spacing of 1e300 cm. Built byte by byte where no encoder would write them.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.filebase import DicomBytesIO
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    RLELossless,
)
from tests.data.dicom import factory

_MB = 1 << 20


def _zero_blocks(megabytes: int) -> bytes:
    """Raw deflate blocks that inflate to `megabytes` MB of zeros: one 1 MB block repeated (a
    full flush makes each block stand alone)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return (c.compress(bytes(_MB)) + c.flush(zlib.Z_FULL_FLUSH)) * megabytes


def _dataset_bytes(ds: Dataset) -> bytes:
    """A dataset encoded explicit VR little endian, without file meta."""
    out = io.BytesIO()
    pydicom.dcmwrite(out, ds, implicit_vr=False, little_endian=True, enforce_file_format=False)
    return out.getvalue()


def deflate_bomb(path: Path, inflated_mb: int = 3200) -> Path:
    """A deflated-syntax DICOM of about inflated_mb kB on disk whose dataset inflates to
    inflated_mb MB: a grey cine of inflated_mb frames of 1 MB of zeros."""
    ds = factory.base_dataset(1024, 1024, inflated_mb, DeflatedExplicitVRLittleEndian)
    factory.set_grey_pixels(ds)
    meta = io.BytesIO()
    meta.write(b"\0" * 128 + b"DICM")
    pydicom.filewriter.write_file_meta_info(meta, ds.file_meta, enforce_standard=True)
    del ds.file_meta
    header = _dataset_bytes(ds) + struct.pack(
        "<HH2sHL", 0x7FE0, 0x0010, b"OB", 0, inflated_mb * _MB
    )
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    blocks = _zero_blocks(inflated_mb)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    path.write_bytes(meta.getvalue() + head + blocks + tail)
    return path


def _tiny_jpeg() -> bytes:
    ok, buf = cv2.imencode(
        ".jpg", np.full((8, 8, 3), 128, np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 50]
    )
    assert ok
    return buf.tobytes()


def with_jpeg_size(jpeg: bytes, columns: int, rows: int) -> bytes:
    """The JPEG with its start-of-frame header claiming columns x rows."""
    data = bytearray(jpeg)
    at = data.find(b"\xff\xc0")
    assert at > 0
    data[at + 5 : at + 9] = struct.pack(">HH", rows, columns)
    return bytes(data)


def jpeg_declaring(
    path: Path, columns: int = 20000, rows: int = 20000, dicom_too: bool = True
) -> Path:
    """A single-frame JPEG Baseline DICOM of about 1 kB whose frame claims columns x rows; the
    DICOM header claims the same (dicom_too) or a modest 64 x 48."""
    frame = with_jpeg_size(_tiny_jpeg(), columns, rows)
    ds = factory.base_dataset(
        rows if dicom_too else 48, columns if dicom_too else 64, 1, JPEGBaseline8Bit
    )
    factory.set_colour_pixels(ds, "YBR_FULL_422")
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return factory.write(ds, path)


def rle_declaring(path: Path, columns: int = 65535, rows: int = 65535) -> Path:
    """An RLE Lossless grey DICOM of under a kilobyte declaring columns x rows."""
    segment = b"\x81\x00" * 64  # runs of 128 zeros: far too few for the size declared
    header = struct.pack("<16L", 1, 64, *([0] * 14))
    ds = factory.base_dataset(rows, columns, 1, RLELossless)
    factory.set_grey_pixels(ds)
    ds.PixelData = encapsulate([header + segment])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return factory.write(ds, path)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(path: Path, columns: int = 20000, rows: int = 20000) -> Path:
    """A grey PNG of columns x rows of zeros: a few hundred kB that decode to rows x columns
    bytes (400 MB for the default; OpenCV and Pillow allocate all of it and more)."""
    ihdr = struct.pack(">IIBBBBB", columns, rows, 8, 0, 0, 0, 0)
    row = bytes(columns + 1)  # filter byte 0, then the row
    rows_per_block = max(1, _MB // len(row))
    raw_block = row * rows_per_block
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(raw_block) + c.flush(zlib.Z_FULL_FLUSH)
    blocks, remainder = divmod(rows, rows_per_block)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    last = c.compress(row * remainder) + c.flush(zlib.Z_FINISH)
    adler = 1
    for _ in range(blocks):
        adler = zlib.adler32(raw_block, adler)
    adler = zlib.adler32(row * remainder, adler)
    body = b"\x78\xda" + block * blocks + last + struct.pack(">I", adler)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", body)
        + _png_chunk(b"IEND", b"")
    )
    return path


def lying_frame_count(
    path: Path, held: int = 50, declared: int = 100_000, encapsulated: bool = True
) -> Path:
    """A cine of `held` frames whose Number of Frames says `declared`."""
    if encapsulated:
        factory.ybr_jpeg_cine(path, frames=held, rows=48, columns=64, has_bot=False)
    else:
        factory.rgb_cine(path, frames=held, rows=48, columns=64)
    ds = pydicom.dcmread(path)
    ds.NumberOfFrames = declared
    ds.save_as(path)
    return path


def truncated_cine(path: Path, frames: int = 20, keep: float = 0.6) -> Path:
    """A JPEG cine with its offset table, cut after `keep` of its bytes."""
    whole = factory.ybr_jpeg_cine(path.with_suffix(".whole.dcm"), frames=frames)
    factory.chopped(whole, path, int(whole.stat().st_size * keep))
    whole.unlink()
    return path


def implausible_spacing(path: Path, delta_cm: float = 1e300) -> Path:
    """A grey still whose one ultrasound region has a spacing of delta_cm per pixel."""
    factory.grey_cine(path, frames=1, rows=40, columns=50)
    ds = pydicom.dcmread(path)
    factory.add_regions(ds, [factory.region(0, 0, 49, 39, delta_cm, delta_cm)])
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(path)
    return path


# -- files whose libraries talk: what they print must not reach stderr ---------------------------
def png_with_bad_crc(path: Path) -> Path:
    """A PNG whose text chunk has a wrong CRC: libpng prints "libpng warning: tEXt: CRC error"
    on file descriptor 2 and decodes it all the same."""
    ok, png = cv2.imencode(".png", np.full((8, 8), 90, np.uint8))
    assert ok
    data = png.tobytes()
    body = b"Comment\x00scanner grab"
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + b"\0\0\0\0"
    path.write_bytes(data[:33] + chunk + data[33:])  # after the signature and IHDR
    return path


def jpeg_with_extraneous_bytes(path: Path) -> Path:
    """A JPEG with stray bytes before its scan: libjpeg prints "Corrupt JPEG data: 3 extraneous
    bytes before marker 0xda" and decodes it all the same."""
    ok, jpeg = cv2.imencode(".jpg", np.full((16, 16, 3), 90, np.uint8))
    assert ok
    data = jpeg.tobytes()
    at = data.find(b"\xff\xda")
    path.write_bytes(data[:at] + b"\0\0\0" + data[at:])
    return path


def explicit_meta_implicit_data(path: Path) -> Path:
    """File meta says Explicit VR Little Endian, the dataset is implicit: pydicom warns
    "Expected explicit VR, but found implicit VR" and reads it."""
    factory.grey_cine(path, frames=1, syntax=pydicom.uid.ImplicitVRLittleEndian)
    ds = pydicom.dcmread(path)
    meta = ds.file_meta
    del ds.file_meta
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, True
    pydicom.filewriter.write_dataset(body, ds)
    head = io.BytesIO()
    head.write(b"\0" * 128 + b"DICM")
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    pydicom.filewriter.write_file_meta_info(head, meta, enforce_standard=True)
    path.write_bytes(head.getvalue() + body.getvalue())
    return path
