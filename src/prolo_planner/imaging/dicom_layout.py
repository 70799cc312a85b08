"""Reading a DICOM header up to its pixels: where they are, how they are stored, and checks."""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from math import ceil
from pathlib import Path
from typing import BinaryIO, TypedDict

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.filereader import read_file_meta_info
from pydicom.pixels import get_decoder
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from prolo_planner.imaging import dicom_header
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.inflate import InflatedStream
from prolo_planner.imaging.read_limits import FILE_NAME, read_limits

DEFER_BYTES = 2 * 1024 * 1024
PHOTOMETRICS = frozenset(
    {
        "MONOCHROME1",
        "MONOCHROME2",
        "RGB",
        "YBR_FULL",
        "YBR_FULL_422",
        "YBR_RCT",
        "YBR_ICT",
        "PALETTE COLOR",
    }
)
_LONG_LENGTH_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UC", b"UR", b"UT", b"UN"}
_PIXEL_TAGS = {
    (0x7FE0, 0x0010): "",
    (0x7FE0, 0x0008): "floating-point pixel data (parametric map) is not supported",
    (0x7FE0, 0x0009): "floating-point pixel data (parametric map) is not supported",
}


class ImagePixelModule(TypedDict):
    """The checked Image Pixel module values that go into a PixelLayout."""

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    planar_configuration: int
    photometric: str
    frame_count: int


@dataclass(frozen=True, slots=True)
class PixelLayout:
    """How and where a file stores its pixels: all that reading and decoding a frame needs."""

    transfer_syntax: str
    is_encapsulated: bool
    is_little_endian: bool
    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    planar_configuration: int
    photometric: str
    frame_count: int
    #: Offset of the first byte of the Pixel Data value in the stream (the file, or the
    #: inflated dataset for the deflated syntax).
    value_offset: int
    #: None when the value has undefined length (encapsulated).
    value_length: int | None
    pixel_vr: str
    #: File offset where the deflated dataset starts; None unless the syntax is deflated.
    deflated_from: int | None = None
    #: Extended Offset Table (7FE0,0001) and its lengths (7FE0,0002), when the file has them.
    extended_offsets: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    #: What the header claims and the pixel data contradicts, each naming the attribute.
    warnings: tuple[str, ...] = ()

    @property
    def frame_bits(self) -> int:
        """Bits one native frame occupies (YBR_FULL_422 keeps two samples per pixel)."""
        samples = self.samples_per_pixel
        if self.photometric == "YBR_FULL_422" and samples == 3:
            samples = 2
        return self.rows * self.columns * samples * self.bits_allocated

    @property
    def native_bytes(self) -> int:
        """Bytes all native frames need together."""
        return ceil(self.frame_bits * self.frame_count / 8)


# -- reading ---------------------------------------------------------------------
def read_header(path: Path) -> tuple[Dataset, PixelLayout, int]:
    """The dataset up to its pixels, the pixels' layout, and the size of the stream holding them."""
    size = path.stat().st_size
    if size == 0:
        raise ImageLoadError(path, "empty file (0 bytes)")
    with path.open("rb") as f:
        head = f.read(132)
        part10 = len(head) >= 132 and head[128:132] == b"DICM"
        if not part10 and not _bare_dataset(head):
            raise ImageLoadError(
                path, "not a DICOM file (no 'DICM' marker, no DICOM data at start)"
            )
        if part10 and _meta_syntax(path) == DeflatedExplicitVRLittleEndian:
            # Before pydicom sees it: pydicom inflates a deflated dataset whole, in memory.
            return _read_deflated(path, _file_meta_end(f))
        f.seek(0)
        ds = _dcmread(path, f)
        syntax = _transfer_syntax(path, ds)
        return _layout(path, ds, syntax, f, size, None)


def _dcmread(path: Path, stream: BinaryIO | InflatedStream) -> Dataset:
    try:
        # Large values before the pixels (private blobs, ICC profiles) stay on disk.
        ds = pydicom.dcmread(stream, stop_before_pixels=True, force=True, defer_size=DEFER_BYTES)
    except ImageLoadError:
        raise
    except Exception as exc:
        raise ImageLoadError(path, f"not a readable DICOM file ({short_reason(exc)})") from None
    if len(ds) == 0:
        raise ImageLoadError(path, "not a DICOM file (no data elements)")
    return ds


def _meta_syntax(path: Path) -> str:
    """The Transfer Syntax UID of the file meta group, read alone; empty when unreadable."""
    try:
        meta = read_file_meta_info(path)
        return str(meta.get("TransferSyntaxUID", "") or "")
    except Exception:  # the full read that follows says what is wrong with the file
        return ""


def deflated_problem(path: Path) -> str:
    """For a file in the deflated syntax, why it may not be read whole (it inflates past the
    read limit, or its deflated data is corrupt); '' for any other file, or one within it."""
    try:
        with path.open("rb") as f:
            if (
                f.read(132)[128:132] != b"DICM"
                or _meta_syntax(path) != DeflatedExplicitVRLittleEndian
            ):
                return ""
            stream = InflatedStream(path, _file_meta_end(f), read_limits().max_inflated_bytes)
        with stream:
            stream.inflated_size()
    except ImageLoadError as exc:
        return exc.reason
    except OSError:
        return ""  # the reader that follows says what is wrong
    return ""


def _read_deflated(path: Path, deflated_from: int) -> tuple[Dataset, PixelLayout, int]:
    """The header of a deflated file, inflated as a stream up to the read limit."""
    stream = InflatedStream(path, deflated_from, read_limits().max_inflated_bytes)
    with stream:
        ds = _dcmread(path, stream)
        ds.file_meta = read_file_meta_info(path)
        pixels_at = stream.tell()
        size = stream.inflated_size()  # whether the pixel data is whole: cut files say so
        stream.seek(pixels_at)
        return _layout(path, ds, DeflatedExplicitVRLittleEndian, stream, size, deflated_from)


def _layout(
    path: Path,
    ds: Dataset,
    syntax: UID,
    stream: BinaryIO | InflatedStream,
    stream_size: int,
    deflated_from: int | None,
) -> tuple[Dataset, PixelLayout, int]:
    implicit, little = ds.original_encoding
    little = little is not False
    order = "<" if little else ">"
    pos = stream.tell()
    header = stream.read(8)
    tag = struct.unpack(f"{order}HH", header[:4]) if len(header) >= 4 else None
    if tag not in _PIXEL_TAGS or len(header) < 8:
        raise ImageLoadError(path, _why_no_pixels(ds, pos, stream_size))
    if _PIXEL_TAGS[tag]:
        raise ImageLoadError(path, _PIXEL_TAGS[tag])
    if not implicit and not (header[4:6].isalpha() and header[4:6].isupper()):
        # No VR where the transfer syntax puts one: the dataset is implicit whatever its file
        # meta claims (pydicom notices and reads it so, and so must the pixel data).
        implicit = True
    if implicit:
        (length,) = struct.unpack(f"{order}L", header[4:8])
        vr, value_offset = ("OW" if (_int(ds, "BitsAllocated") or 8) > 8 else "OB"), pos + 8
    elif header[4:6] in _LONG_LENGTH_VRS:
        extra = stream.read(4)
        if len(extra) < 4:
            raise ImageLoadError(path, "truncated: the file ends inside the Pixel Data header")
        (length,) = struct.unpack(f"{order}L", extra)
        vr, value_offset = header[4:6].decode("ascii"), pos + 12
    else:
        (length,) = struct.unpack(f"{order}H", header[6:8])
        vr, value_offset = header[4:6].decode("ascii", "replace"), pos + 8

    encapsulated = length == 0xFFFFFFFF
    if encapsulated and not syntax.is_encapsulated:
        if not getattr(ds, "file_meta", None) or "TransferSyntaxUID" not in ds.file_meta:
            raise ImageLoadError(
                path, "compressed pixel data in a file that names no transfer syntax"
            )
        raise ImageLoadError(
            path, f"pixel data has undefined length but {syntax.name} is uncompressed"
        )
    if syntax.is_encapsulated:
        _require_decoder(path, syntax)
    layout = PixelLayout(
        transfer_syntax=str(syntax),
        is_encapsulated=syntax.is_encapsulated,
        is_little_endian=syntax.is_little_endian,
        value_offset=value_offset,
        value_length=None if encapsulated else length,
        pixel_vr=vr,
        deflated_from=deflated_from,
        extended_offsets=_extended_offsets(ds) if encapsulated else None,
        **_image_pixel_module(path, ds),
    )
    if not layout.is_encapsulated:
        layout = _check_native_length(path, layout, stream_size)
    elif layout.frame_count > (stream_size - value_offset) // 8:
        # Each compressed frame needs at least an 8-byte item header.
        raise ImageLoadError(
            path, f"invalid Number of Frames {layout.frame_count}: more than the file can hold"
        )
    return ds, layout, stream_size


def _image_pixel_module(path: Path, ds: Dataset) -> ImagePixelModule:
    """The Image Pixel module, checked: a clinician reads which value is wrong."""

    def bad(what: str) -> ImageLoadError:
        return ImageLoadError(path, f"invalid {what}")

    rows, columns = _int(ds, "Rows"), _int(ds, "Columns")
    if rows is None or columns is None or not (0 < rows < 65536 and 0 < columns < 65536):
        raise bad(f"image size: Rows {text(ds, 'Rows')}, Columns {text(ds, 'Columns')}")
    samples = _int(ds, "SamplesPerPixel", 1)
    if samples not in (1, 3):
        raise bad(f"Samples per Pixel {text(ds, 'SamplesPerPixel')} (1 or 3 supported)")
    allocated = _int(ds, "BitsAllocated")
    if allocated not in (1, 8, 16, 32):
        raise bad(f"Bits Allocated {text(ds, 'BitsAllocated')}")
    stored = _int(ds, "BitsStored", allocated)
    if stored is None or not 1 <= stored <= allocated:
        raise bad(f"Bits Stored {text(ds, 'BitsStored')} (Bits Allocated {allocated})")
    representation = _int(ds, "PixelRepresentation", 0)
    if representation not in (0, 1):
        raise bad(f"Pixel Representation {text(ds, 'PixelRepresentation')}")
    planar = _int(ds, "PlanarConfiguration", 0) if samples == 3 else 0
    if planar not in (0, 1):
        raise bad(f"Planar Configuration {text(ds, 'PlanarConfiguration')}")
    limits = read_limits()
    too_large = limits.frame_size_problem(columns, rows)
    if too_large:
        raise ImageLoadError(path, too_large)
    frames = _int(ds, "NumberOfFrames", 1)
    if frames is None or frames < 1:
        raise bad(f"Number of Frames '{text(ds, 'NumberOfFrames')}'")
    if frames > limits.max_frames:
        raise bad(
            f"Number of Frames {frames}: more than the {limits.max_frames} allowed "
            f"({FILE_NAME}: max_frames)"
        )
    photometric = dicom_header.text(ds, "PhotometricInterpretation").upper()
    if not photometric:
        photometric = "MONOCHROME2" if samples == 1 else "RGB"  # a guess beats refusing
    if photometric not in PHOTOMETRICS:
        raise ImageLoadError(path, f"unsupported photometric interpretation {photometric}")
    needs_colour = photometric not in ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR")
    if needs_colour != (samples == 3):
        raise bad(f"Samples per Pixel {samples} for photometric interpretation {photometric}")
    if photometric == "PALETTE COLOR" and "RedPaletteColorLookupTableDescriptor" not in ds:
        raise ImageLoadError(path, "PALETTE COLOR image without a palette")
    if allocated == 1 and samples != 1:
        raise bad("Bits Allocated 1 for a colour image")
    return ImagePixelModule(
        rows=rows,
        columns=columns,
        samples_per_pixel=int(samples or 1),
        bits_allocated=int(allocated or 8),
        bits_stored=int(stored),
        pixel_representation=int(representation or 0),
        planar_configuration=int(planar or 0),
        photometric=photometric,
        frame_count=int(frames),
    )


def _check_native_length(path: Path, layout: PixelLayout, stream_size: int) -> PixelLayout:
    """The layout, checked against the file: a header that counts more frames than its pixel
    data holds is believed no further than the data (with a warning saying so)."""
    expected = layout.native_bytes
    held = _whole_frames_held(layout)
    value_in_file = stream_size - layout.value_offset >= (layout.value_length or 0)
    if held is not None and value_in_file:
        return replace(
            layout,
            frame_count=held,
            warnings=(
                f"Number of Frames (0028,0008) is {layout.frame_count} but the pixel data "
                f"holds {held}: {held} shown",
            ),
        )
    if stream_size - layout.value_offset < expected:
        raise ImageLoadError(
            path,
            f"truncated: pixel data ends at byte {stream_size} of "
            f"{layout.value_offset + expected} expected",
        )
    if layout.value_length is not None and layout.value_length < expected:
        # The file goes on, but with other elements: frames would be read from them.
        raise ImageLoadError(
            path,
            f"pixel data is {layout.value_length} bytes, {expected} expected for "
            f"{layout.frame_count} frame(s) of {layout.columns}x{layout.rows}",
        )
    return layout


def _whole_frames_held(layout: PixelLayout) -> int | None:
    """Frames a Pixel Data value shorter than the header's count holds, when it is exactly a
    whole number of them (at least one): a wrong Number of Frames, not a damaged value."""
    if layout.value_length is None or layout.frame_count <= 1:
        return None
    if layout.value_length >= layout.native_bytes:
        return None
    held, rest = divmod(layout.value_length * 8, layout.frame_bits)
    return held if held >= 1 and rest < 16 else None  # values are padded to an even length


def _transfer_syntax(path: Path, ds: Dataset) -> UID:
    """The file meta's transfer syntax, or the encoding pydicom found in a file without one."""
    meta = getattr(ds, "file_meta", None)
    value = dicom_header.text(meta, "TransferSyntaxUID") if meta else ""
    if value:
        syntax = UID(value)
        if not syntax.is_transfer_syntax:
            raise ImageLoadError(path, f"unsupported transfer syntax unknown ({syntax})")
        return syntax
    implicit, little = ds.original_encoding
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little is not False else ExplicitVRBigEndian


def _require_decoder(path: Path, syntax: UID) -> None:
    try:
        available = get_decoder(syntax).is_available
    except NotImplementedError:
        available = False
    if not available:
        raise ImageLoadError(path, f"unsupported transfer syntax {syntax.name} ({syntax})")


def _extended_offsets(ds: Dataset) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    try:
        offsets = ds.get("ExtendedOffsetTable")
        lengths = ds.get("ExtendedOffsetTableLengths")
        if not offsets or not lengths:
            return None
        return (
            tuple(int(v) for v in np.frombuffer(offsets, "<u8")),
            tuple(int(v) for v in np.frombuffer(lengths, "<u8")),
        )
    except Exception:  # a damaged table is ignored; the fragments are walked instead
        return None


def _why_no_pixels(ds: Dataset, pos: int, size: int) -> str:
    uid = dicom_header.text(ds, "SOPClassUID")
    if not uid and ds.file_meta:
        uid = dicom_header.text(ds.file_meta, "MediaStorageSOPClassUID")  # e.g. a DICOMDIR
    sop_class = dicom_header.sop_class_name(uid)
    image_like = "Rows" in ds or "Image Storage" in sop_class
    if image_like and pos >= size:
        return f"truncated: the file ends at byte {size}, before its pixel data"
    what = sop_class or dicom_header.text(ds, "Modality") or "unknown SOP class"
    return f"no image pixels ({what})"


def _file_meta_end(f: BinaryIO) -> int:
    """Offset just past the file meta group (explicit VR little endian, after the preamble)."""
    pos = 132
    while True:
        f.seek(pos)
        header = f.read(8)
        if len(header) < 8 or struct.unpack("<H", header[:2])[0] != 0x0002:
            return pos
        if header[4:6] in _LONG_LENGTH_VRS:
            (length,) = struct.unpack("<L", f.read(4))
            pos += 12 + length
        else:
            pos += 8 + struct.unpack("<H", header[6:8])[0]


def _bare_dataset(head: bytes) -> bool:
    # A dataset without preamble starts with a group 0002 or 0008 element, either byte order.
    return len(head) >= 8 and head[:2] in (b"\x08\x00", b"\x02\x00", b"\x00\x08", b"\x00\x02")


def _int(ds: Dataset, keyword: str, default: int | None = None) -> int | None:
    if keyword not in ds:
        return default
    value = dicom_header.number(ds, keyword)
    return int(value) if value is not None and value == int(value) else None


def text(ds: Dataset, keyword: str) -> str:
    """An attribute for an error message: its value, or "(missing)"."""
    return dicom_header.text(ds, keyword) or "(missing)"


def short_reason(exc: BaseException) -> str:
    """The first line of an exception's message, short enough for a notice."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return message if len(message) < 200 else message[:197] + "..."
