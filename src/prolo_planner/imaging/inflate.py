"""The deflated transfer syntax as a stream: inflated as it is read, never whole in memory.

A deflated dataset cannot be read in place, and pydicom inflates all of it at once: a 1 MB file
of zeros becomes a gigabyte before its header is read. Here it is inflated in chunks as the
reader asks for bytes, memory bounded by the chunk size, and refused when it inflates past the
read limit.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path
from typing import BinaryIO

from prolo_planner.imaging.errors import ImageLoadError

_CHUNK = 1 << 20


class InflatedStream(io.RawIOBase):
    """A seekable, read-only view of the inflated bytes of a deflated dataset.

    Reading forward inflates as it goes; seeking backwards starts again from the top (pydicom
    only seeks back a few bytes, within the buffer kept for that). More than `limit` inflated
    bytes raise ImageLoadError.
    """

    def __init__(self, path: Path, deflated_from: int, limit: int) -> None:
        super().__init__()
        self._path = path
        self._from = deflated_from
        self._limit = limit
        self._file: BinaryIO = path.open("rb")
        self._restart()

    def _restart(self) -> None:
        self._file.seek(self._from)
        self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self._buffer = b""  # inflated bytes from _buffer_start on
        self._buffer_start = 0
        self._pos = 0
        self._eof = False

    # -- io.RawIOBase -------------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += self.inflated_size()
        if offset < 0:
            raise ValueError("negative seek position")
        if offset < self._buffer_start:
            self._restart()
        self._pos = offset
        return offset

    def readinto(self, target) -> int:  # type: ignore[no-untyped-def] # noqa: ANN001
        wanted = len(target)
        self._inflate_to(self._pos + wanted)
        start = self._pos - self._buffer_start
        chunk = self._buffer[start : start + wanted] if start >= 0 else b""
        target[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def close(self) -> None:
        self._file.close()
        super().close()

    # -- inflating ----------------------------------------------------------------------------
    def _inflate_to(self, end: int) -> None:
        """Inflate until the buffer reaches `end` (or the data ends), dropping what lies more
        than one chunk before the read position."""
        while self._buffer_start + len(self._buffer) < end and not self._eof:
            produced = self._buffer_start + len(self._buffer)
            if produced > self._limit:
                raise self._too_large()
            chunk = self._inflater.unconsumed_tail or self._file.read(_CHUNK)
            if not chunk:
                self._eof = True
                break
            try:
                out = self._inflater.decompress(chunk, _CHUNK)
            except zlib.error as exc:
                raise ImageLoadError(self._path, f"corrupt deflated data ({exc})") from None
            if self._inflater.eof:
                self._eof = True
            keep_from = min(max(0, self._pos - _CHUNK - self._buffer_start), len(self._buffer))
            self._buffer = self._buffer[keep_from:] + out
            self._buffer_start += keep_from

    def inflated_size(self) -> int:
        """The whole inflated length, counted in a pass of its own that keeps nothing."""
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        size = 0
        with self._path.open("rb") as f:
            f.seek(self._from)
            while not inflater.eof:
                if size > self._limit:
                    raise self._too_large()
                chunk = inflater.unconsumed_tail or f.read(_CHUNK)
                if not chunk:
                    break
                try:
                    size += len(inflater.decompress(chunk, _CHUNK))
                except zlib.error as exc:
                    raise ImageLoadError(self._path, f"corrupt deflated data ({exc})") from None
        return size

    def _too_large(self) -> ImageLoadError:
        return ImageLoadError(
            self._path,
            f"the deflated dataset inflates to more than {self._limit >> 20} MB "
            "(read-limits.json: max_inflated_bytes)",
        )
