"""Where each frame's bytes lie in a DICOM file, so one frame is read without touching the rest."""

from __future__ import annotations

import struct
import threading
import zlib
from dataclasses import dataclass
from math import ceil
from pathlib import Path

import numpy as np

from prolo_planner.imaging.dicom_layout import PixelLayout
from prolo_planner.imaging.errors import ImageLoadError

ITEM = (0xFFFE, 0xE000)
SEQUENCE_DELIMITER = (0xFFFE, 0xE0DD)
#: First bytes of a compressed frame: JPEG and JPEG-LS (SOI), JPEG 2000 codestream (SOC+SIZ),
#: JP2 file box. Used to group fragments into frames when the offset table is empty.
FRAME_START_MARKERS = (b"\xff\xd8", b"\xff\x4f\xff\x51", b"\x00\x00\x00\x0c")


class NativeFrames:
    """Frames of uncompressed pixel data: frame i starts i frame lengths after the value."""

    def __init__(self, path: Path, layout: PixelLayout) -> None:
        self._path = path
        self._layout = layout

    def read(self, index: int) -> bytes:
        """Frame `index` as a buffer holding exactly one frame, in the file's byte order."""
        layout = self._layout
        bits = layout.frame_bits
        start_bit = index * bits
        first = layout.value_offset + start_bit // 8
        end = layout.value_offset + ceil((start_bit + bits) / 8)
        # Explicit big endian files may store 8-bit pixels as OW: bytes are swapped in pairs
        # counted from the value's start, so read whole pairs and swap them back.
        swap_pairs = (
            not layout.is_little_endian and layout.bits_allocated == 8 and layout.pixel_vr == "OW"
        )
        lead = (first - layout.value_offset) % 2 if swap_pairs else 0
        read_from = first - lead
        read_to = end + (end - read_from) % 2 if swap_pairs else end
        data = self._read_range(read_from, read_to - read_from)
        if len(data) < read_to - read_from:
            # A short final odd byte only misses the swap's padding; anything else is missing.
            if not (swap_pairs and len(data) >= end - read_from):
                raise ImageLoadError(
                    self._path,
                    f"truncated: frame {index + 1} ends at byte {read_from + len(data)} "
                    f"of {end} expected",
                )
            data = data + b"\x00"
        if swap_pairs:
            data = np.frombuffer(data, dtype="<u2").byteswap().tobytes()
            data = data[lead : lead + end - first]
        if layout.bits_allocated == 1 and start_bit % 8:
            # Bit-packed frames need not start on a byte boundary: realign to bit 0.
            unpacked = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")
            realigned = unpacked[start_bit % 8 : start_bit % 8 + bits]
            data = np.packbits(realigned, bitorder="little").tobytes()
        return data

    def _read_range(self, offset: int, length: int) -> bytes:
        if self._layout.deflated_from is not None:
            return inflated_range(self._path, self._layout.deflated_from, offset, length)
        with self._path.open("rb") as f:
            f.seek(offset)
            return f.read(length)


def inflated_range(path: Path, deflated_from: int, start: int, length: int) -> bytes:
    """Bytes [start, start+length) of a deflated dataset, inflating as a stream.

    Deflate cannot seek, so every frame inflates from the start; memory stays bounded by the
    chunk size whatever the file's length. The deflated syntax is rare and never used for cines.
    """
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    wanted = bytearray()
    pos = 0
    with path.open("rb") as f:
        f.seek(deflated_from)
        while len(wanted) < length and not inflater.eof:
            chunk = inflater.unconsumed_tail or f.read(1 << 20)
            if not chunk:
                break
            try:
                out = inflater.decompress(chunk, 1 << 22)
            except zlib.error as exc:
                raise ImageLoadError(path, f"corrupt deflated data ({exc})") from None
            lo, hi = max(start - pos, 0), min(start + length - pos, len(out))
            if lo < hi:
                wanted += out[lo:hi]
            pos += len(out)
    return bytes(wanted)


@dataclass(frozen=True, slots=True)
class Fragment:
    """One item of encapsulated pixel data: where its value starts, its length, what is there."""

    offset: int
    length: int
    available: int
    head: bytes = b""


class EncapsulatedFrames:
    """Frames of compressed pixel data, each made of one or more fragment items.

    The Extended or Basic Offset Table tells where frames start when it is consistent;
    otherwise the fragment items are walked once, at open, reading only their 8-byte headers.
    """

    def __init__(self, path: Path, layout: PixelLayout, stream_size: int) -> None:
        self._path = path
        self._layout = layout
        self._frame_count = layout.frame_count
        self._lock = threading.Lock()
        self._end = stream_size
        if layout.value_length is not None:
            self._end = min(stream_size, layout.value_offset + layout.value_length)
        with path.open("rb") as f:
            f.seek(layout.value_offset)
            header = f.read(8)
            if len(header) < 8:
                raise ImageLoadError(path, "truncated: the file ends where its pixel data begins")
            tag, bot_length = _item_header(header)
            if tag != ITEM or bot_length % 4 or bot_length == 0xFFFFFFFF:
                raise ImageLoadError(
                    path, "corrupt compressed pixel data: the Basic Offset Table item is missing"
                )
            table = f.read(bot_length)
        if len(table) < bot_length:
            raise ImageLoadError(path, "truncated: the file ends inside the Basic Offset Table")
        #: Offset of the first fragment item; every offset table counts from here.
        self._first = layout.value_offset + 8 + bot_length
        self._frames: list[tuple[Fragment, ...]] | None = None
        self._stop = ""
        self._extended = self._valid_extended(layout.extended_offsets)
        self._basic = self._valid_basic(struct.unpack(f"<{bot_length // 4}L", table))
        if self._extended is None and self._basic is None and self._frame_count > 1:
            self._frames = self._scan()

    @property
    def indexed_by(self) -> str:
        """How frames are found: for the metadata panel and for tests."""
        if self._frames is not None:
            return "fragment scan"
        return "extended offset table" if self._extended is not None else "basic offset table"

    # -- open time ------------------------------------------------------------------------
    def _valid_extended(
        self, table: tuple[tuple[int, ...], tuple[int, ...]] | None
    ) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        if table is None:
            return None
        offsets, lengths = table
        if len(offsets) != self._frame_count or len(lengths) != self._frame_count:
            return None
        if any(b <= a for a, b in zip(offsets, offsets[1:], strict=False)):
            return None
        if self._first + offsets[-1] + 8 + lengths[-1] > self._end:
            return None
        return offsets, lengths

    def _valid_basic(self, offsets: tuple[int, ...]) -> tuple[int, ...] | None:
        if self._frame_count == 1:
            return (0,)  # one frame is every fragment up to the delimiter; no table needed
        if len(offsets) != self._frame_count or offsets[0] != 0:
            return None
        if any(b <= a for a, b in zip(offsets, offsets[1:], strict=False)):
            return None
        # Offsets past the end are kept when the file is merely cut short: the frames it
        # still holds show, the missing ones say the file is truncated.
        if self._layout.value_length is not None and self._first + offsets[-1] + 8 > self._end:
            return None
        return offsets

    def _scan(self) -> list[tuple[Fragment, ...]]:
        """Walk every fragment item's header and group the fragments into frames."""
        fragments: list[Fragment] = []
        self._stop = f"the file ends at byte {self._end}"
        with self._path.open("rb") as f:
            pos = self._first
            while pos + 8 <= self._end:
                f.seek(pos)
                header = f.read(12)
                if len(header) < 8:
                    break
                tag, length = _item_header(header)
                if tag == SEQUENCE_DELIMITER:
                    self._stop = "the pixel data ends"
                    break
                if tag != ITEM or length == 0xFFFFFFFF:
                    self._stop = f"damaged fragment item at byte {pos}"
                    break
                available = max(0, min(length, self._end - pos - 8))
                fragments.append(Fragment(pos + 8, length, available, header[8:12]))
                pos += 8 + length
        if len(fragments) == self._frame_count or not fragments:
            return [(frag,) for frag in fragments]
        if fragments[0].head.startswith(FRAME_START_MARKERS):
            frames: list[list[Fragment]] = []
            for frag in fragments:
                if not frames or frag.head.startswith(FRAME_START_MARKERS):
                    frames.append([])
                frames[-1].append(frag)
            return [tuple(frame) for frame in frames]
        # No recognisable frame starts (RLE): one fragment per frame, as the standard says.
        return [(frag,) for frag in fragments]

    def present(self) -> tuple[int, bool]:
        """How many frames, from the first, lie wholly in the file, and whether the pixel data
        ends there as it should (False: the file is cut short or damaged). A walk over item
        headers only, so cheap enough for every open."""
        if self._frames is not None:
            whole = 0
            for frame in self._frames:
                if any(frag.available < frag.length for frag in frame):
                    break
                whole += 1
            return whole, self._stop == "the pixel data ends" and whole == len(self._frames)
        if self._extended is not None:
            return self._frame_count, True  # validated at open: the last frame is in the file
        assert self._basic is not None
        starts = self._basic
        whole = 0
        while whole + 1 < len(starts) and self._first + starts[whole + 1] <= self._end:
            whole += 1
        if whole + 1 < len(starts):
            return whole, False  # frame `whole + 1` starts past the end of the file
        ends_cleanly = self._last_frame_is_whole(self._first + starts[-1])
        if ends_cleanly is None:  # the table points at no fragment: walk the items instead
            with self._lock:
                if self._frames is None:
                    self._frames = self._scan()
            return self.present()
        return whole + int(ends_cleanly), ends_cleanly

    def _last_frame_is_whole(self, pos: int) -> bool | None:
        """Whether the fragments from `pos` all lie in the file up to the sequence delimiter
        (or to the very end of the file); None when `pos` is not a fragment item."""
        first = True
        with self._path.open("rb") as f:
            while pos + 8 <= self._end:
                f.seek(pos)
                tag, length = _item_header(f.read(8))
                if tag == SEQUENCE_DELIMITER and not first:
                    return True
                if tag != ITEM or length == 0xFFFFFFFF:
                    return None if first else False
                if pos + 8 + length > self._end:
                    return False
                pos += 8 + length
                first = False
        return not first and pos == self._end

    # -- frame time -----------------------------------------------------------------------
    def read(self, index: int) -> bytes:
        """The compressed bytes of frame `index` (its fragments joined)."""
        if self._frames is None and self._extended is not None:
            offset, length = self._extended[0][index], self._extended[1][index]
            return self._read_fragments([Fragment(self._first + offset + 8, length, length)], index)
        if self._frames is None and self._basic is not None:
            try:
                return self._read_from_basic_table(index)
            except _OffsetTableMismatch:
                with self._lock:
                    if self._frames is None:
                        self._frames = self._scan()
        assert self._frames is not None
        if index >= len(self._frames):
            prefix = "truncated: " if self._stop.startswith("the file ends") else ""
            raise ImageLoadError(
                self._path,
                f"{prefix}frame {index + 1} is missing: {self._stop} after "
                f"{len(self._frames)} of {self._frame_count} frames",
            )
        return self._read_fragments(self._frames[index], index)

    def _read_from_basic_table(self, index: int) -> bytes:
        assert self._basic is not None
        pos = self._first + self._basic[index]
        last = index + 1 >= len(self._basic)
        stop = self._end if last else self._first + self._basic[index + 1]
        parts: list[bytes] = []
        if pos + 8 > self._end:
            raise ImageLoadError(
                self._path,
                f"truncated: frame {index + 1} is missing (the file ends at byte {self._end})",
            )
        with self._path.open("rb") as f:
            while pos < stop:
                f.seek(pos)
                header = f.read(8)
                if len(header) < 8:
                    if parts and last:
                        break  # the last frame's fragments all arrived; only the delimiter is cut
                    raise ImageLoadError(
                        self._path,
                        f"truncated: frame {index + 1} is missing (the file ends at byte "
                        f"{self._end})",
                    )
                tag, length = _item_header(header)
                if tag == SEQUENCE_DELIMITER and last:
                    break
                if tag != ITEM or length == 0xFFFFFFFF:
                    raise _OffsetTableMismatch
                value = f.read(length)
                if len(value) < length:
                    raise ImageLoadError(
                        self._path,
                        f"truncated: frame {index + 1} ends at byte {pos + 8 + len(value)} "
                        f"of {pos + 8 + length} expected",
                    )
                parts.append(value)
                pos += 8 + length
        if pos != stop and not last:
            raise _OffsetTableMismatch
        if not parts:
            raise ImageLoadError(self._path, f"frame {index + 1} has no compressed data")
        return b"".join(parts)

    def _read_fragments(
        self, fragments: list[Fragment] | tuple[Fragment, ...], index: int
    ) -> bytes:
        parts: list[bytes] = []
        with self._path.open("rb") as f:
            for frag in fragments:
                f.seek(frag.offset)
                value = f.read(frag.length) if frag.available == frag.length else b""
                if len(value) < frag.length:
                    raise ImageLoadError(
                        self._path,
                        f"truncated: frame {index + 1} ends at byte "
                        f"{frag.offset + frag.available} of {frag.offset + frag.length} expected",
                    )
                parts.append(value)
        return b"".join(parts)


class _OffsetTableMismatch(Exception):
    """The Basic Offset Table points somewhere that is not a fragment item."""


def _item_header(header: bytes) -> tuple[tuple[int, int], int]:
    group, element, length = struct.unpack("<HHL", header[:8])
    return (group, element), length
