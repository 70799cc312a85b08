"""The size a compressed frame declares of itself, read from its first bytes before decoding.

A decoder allocates what the codestream's own header declares, whatever the DICOM header says:
a frame whose JPEG header claims 65535 x 65535 costs gigabytes before it fails. So the
codestream's size is read first (JPEG and JPEG-LS start-of-frame, JPEG 2000 SIZ, PNG IHDR, BMP
header) and compared with what the file is allowed to hold.
"""

from __future__ import annotations

import struct

#: JPEG start-of-frame markers (baseline, extended, progressive, lossless, hierarchical and
#: arithmetic variants) and JPEG-LS's SOF55; all store height then width after the precision.
_SOF_MARKERS = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}
)
#: Markers without a length field.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_J2K_SIZ = b"\xff\x4f\xff\x51"
#: How far into a JP2 file the codestream is looked for (its boxes come first).
_J2K_SEARCH = 1 << 16


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(columns, rows) of a JPEG or JPEG-LS codestream's first frame header, None if none."""
    if not data.startswith(b"\xff\xd8"):
        return None
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None  # not a marker where one must be: damaged
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _SOF_MARKERS:
            if pos + 9 > end:
                return None
            rows, columns = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return columns, rows
        if marker in (0xD9, 0xDA) or length < 2:
            return None  # end of image, or scan data before any frame header
        pos += 2 + length
    return None


def j2k_size(data: bytes) -> tuple[int, int] | None:
    """(columns, rows) of a JPEG 2000 codestream's SIZ segment (also inside a JP2 file)."""
    at = data.find(_J2K_SIZ, 0, _J2K_SEARCH)
    if at < 0 or at + 24 > len(data):
        return None
    x_siz, y_siz, x_offset, y_offset = struct.unpack(">IIII", data[at + 8 : at + 24])
    return max(0, x_siz - x_offset), max(0, y_siz - y_offset)


def png_size(data: bytes) -> tuple[int, int] | None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR" or len(data) < 24:
        return None
    columns, rows = struct.unpack(">II", data[16:24])
    return columns, rows


def bmp_size(data: bytes) -> tuple[int, int] | None:
    if not data.startswith(b"BM") or len(data) < 26:
        return None
    (header,) = struct.unpack("<I", data[14:18])
    if header == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        columns, rows = struct.unpack("<HH", data[18:22])
        return columns, rows
    columns, rows = struct.unpack("<ii", data[18:26])
    return abs(columns), abs(rows)  # negative height: stored top-down


def still_size(data: bytes) -> tuple[int, int] | None:
    """(columns, rows) a PNG, JPEG or BMP file declares; None for others (TIFF: Pillow says)."""
    for reader in (png_size, jpeg_size, bmp_size):
        size = reader(data)
        if size is not None:
            return size
    return None


#: Transfer syntaxes whose frames are JPEG or JPEG-LS, and JPEG 2000 (HTJ2K too).
JPEG_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.51",
        "1.2.840.10008.1.2.4.57",
        "1.2.840.10008.1.2.4.70",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.4.81",
    }
)
J2K_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.4.201",
        "1.2.840.10008.1.2.4.202",
        "1.2.840.10008.1.2.4.203",
    }
)


def frame_size(data: bytes, transfer_syntax: str) -> tuple[int, int] | None:
    """(columns, rows) a compressed DICOM frame declares; None for RLE (sized by the DICOM
    header alone) or a codestream whose header cannot be found."""
    if transfer_syntax in JPEG_SYNTAXES:
        return jpeg_size(data)
    if transfer_syntax in J2K_SYNTAXES:
        return j2k_size(data)
    return None
