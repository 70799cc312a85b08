"""Recently shown frames kept in memory, bounded in bytes, with background prefetch for playback."""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.source import ImageSource

DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024

#: Evicted bytes after which freed memory is handed back to the operating system.
TRIM_AFTER_BYTES = 32 * 1024 * 1024


def _load_malloc_trim():  # type: ignore[no-untyped-def]
    # glibc keeps memory freed by one thread in that thread's arena: frames decoded by the
    # prefetch worker and evicted later stay held while the GUI thread allocates anew, which
    # measured ~105 MB above the cache budget. malloc_trim(0) returns it (about 1 ms a call).
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None


_malloc_trim = _load_malloc_trim()


@dataclass(frozen=True, slots=True)
class CacheStats:
    """How the cache is doing: for the benchmark, the log and tests."""

    hits: int
    misses: int
    #: Frames decoded by the background worker.
    prefetched: int
    frames: int
    bytes: int
    budget_bytes: int
    errors: int


class FrameCache:
    """Frames of one ImageSource, decoded on demand and kept least-recently-used first out.

    get() may be called from any thread. prefetch() hands indices to one daemon worker; each
    call replaces the previous request, so scrubbing never queues stale decodes. A frame is
    never decoded twice at once: a get() for a frame the worker is decoding waits for it.
    A frame that fails is remembered and its ImageLoadError raised again by get(). Cached
    arrays are read-only, shared by every caller. close() stops the worker; the source stays
    open (it belongs to whoever opened it).
    """

    def __init__(self, source: ImageSource, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        if budget_bytes < 0:
            raise ValueError("budget_bytes must be >= 0")
        self._source = source
        self._count = source.frame_count
        self._budget = budget_bytes
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._errors: dict[int, ImageLoadError] = {}
        self._decoding: set[int] = set()
        self._wanted: list[int] = []  # the current prefetch request, next index last
        self._wanted_set: frozenset[int] = frozenset()
        self._worker: threading.Thread | None = None
        self._closed = False
        self._hits = self._misses = self._prefetched = 0
        self._evicted_since_trim = 0

    @property
    def source(self) -> ImageSource:
        return self._source

    @property
    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                self._hits,
                self._misses,
                self._prefetched,
                len(self._frames),
                self._bytes,
                self._budget,
                len(self._errors),
            )

    def __contains__(self, index: object) -> bool:
        with self._lock:
            return index in self._frames

    def cached_indices(self) -> list[int]:
        """Cached frames, least recently used first."""
        with self._lock:
            return list(self._frames)

    # -- reading --------------------------------------------------------------------------
    def get(self, index: int) -> np.ndarray:
        """Frame `index`, decoded now if not cached. Raises ImageLoadError or IndexError."""
        if not 0 <= index < self._count:
            raise IndexError(f"frame {index} outside 0..{self._count - 1}")
        with self._changed:
            counted = False
            while True:
                frame = self._frames.get(index)
                if frame is not None:
                    self._frames.move_to_end(index)
                    if not counted:
                        self._hits += 1
                    return frame
                error = self._errors.get(index)
                if error is not None:
                    raise error
                if index not in self._decoding:
                    break
                if not counted:
                    # The worker is on it: wait rather than decode the same frame twice.
                    self._hits += 1
                    counted = True
                self._changed.wait()
            if not counted:
                self._misses += 1
            self._decoding.add(index)
        return self._decode(index)

    def prefetch(self, indices: Iterable[int]) -> None:
        """Decode these frames in the background, in order, replacing any earlier request."""
        wanted = [i for i in dict.fromkeys(indices) if 0 <= i < self._count]
        with self._changed:
            if self._closed:
                return
            self._wanted = wanted[::-1]
            self._wanted_set = frozenset(wanted)
            if self._worker is None and wanted:
                self._worker = threading.Thread(
                    target=self._work, name="frame-prefetch", daemon=True
                )
                self._worker.start()
            self._changed.notify_all()

    def clear(self) -> None:
        """Forget every frame and remembered error (e.g. after the file was replaced)."""
        with self._lock:
            self._frames.clear()
            self._errors.clear()
            self._bytes = 0

    def close(self) -> None:
        """Stop the worker and drop the frames. get() still works, without prefetch."""
        with self._changed:
            self._closed = True
            self._wanted = []
            self._changed.notify_all()
            worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=5)
        self.clear()

    # -- internals ------------------------------------------------------------------------
    def _decode(self, index: int, prefetching: bool = False) -> np.ndarray:
        """Decode outside the lock; the caller has put `index` into _decoding."""
        try:
            frame = self._source.frame(index)
        except ImageLoadError as exc:
            with self._changed:
                self._errors[index] = exc
                self._decoding.discard(index)
                self._changed.notify_all()
            raise
        except BaseException:
            with self._changed:
                self._decoding.discard(index)
                self._changed.notify_all()
            raise
        frame.flags.writeable = False
        with self._changed:
            self._decoding.discard(index)
            if prefetching:
                self._prefetched += 1
            self._store(index, frame, protect=self._wanted_set if prefetching else frozenset())
            self._changed.notify_all()
        return frame

    def _store(self, index: int, frame: np.ndarray, protect: frozenset[int]) -> None:
        size = frame.nbytes
        if size > self._budget:
            return  # larger than the whole budget: hand it out, keep nothing
        while self._bytes + size > self._budget and self._frames:
            oldest = next(iter(self._frames))
            if oldest in protect:
                # The cache is full of frames this prefetch asked for: stop fetching further
                # ahead rather than evict frames playback is about to show.
                self._wanted = []
                return
            evicted = self._frames.pop(oldest).nbytes
            self._bytes -= evicted
            self._evicted_since_trim += evicted
        self._frames[index] = frame
        self._bytes += size
        if self._evicted_since_trim >= TRIM_AFTER_BYTES and _malloc_trim is not None:
            self._evicted_since_trim = 0
            _malloc_trim(0)

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._closed and not self._next_wanted():
                    self._changed.wait()
                if self._closed:
                    return
                index = self._wanted.pop()
                self._decoding.add(index)
            try:
                self._decode(index, prefetching=True)
            except ImageLoadError:
                pass  # remembered in _errors; get() raises it
            except Exception as exc:  # a source breaking its contract must not kill the worker
                with self._changed:
                    self._errors[index] = ImageLoadError(
                        getattr(self._source.info, "path", "?"), f"frame {index + 1}: {exc}"
                    )
                    self._changed.notify_all()

    def _next_wanted(self) -> bool:
        """Drop requested frames already cached, failed or being decoded; True if any remain."""
        while self._wanted:
            index = self._wanted[-1]
            if index in self._frames or index in self._errors or index in self._decoding:
                self._wanted.pop()
                continue
            return True
        return False
