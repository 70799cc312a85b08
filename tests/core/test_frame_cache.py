"""FrameCache over real DICOM cines: byte budget, LRU order, prefetch, threads, errors."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from prolo_planner.core.calibration import Calibration
from prolo_planner.imaging.dicom import DicomSource
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.frame_cache import FrameCache
from prolo_planner.imaging.source import FrameTiming, SourceInfo
from tests.conftest import pydicom_file
from tests.data.dicom import factory

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


class WatchedSource:
    """A real DicomSource that records every decode and catches the same frame decoded twice
    at once; `delay_s` slows decoding so the tests can race the worker."""

    def __init__(self, source: DicomSource, delay_s: float = 0.0) -> None:
        self._source = source
        self._delay = delay_s
        self._lock = threading.Lock()
        self.decoded: list[int] = []
        self.in_progress: set[int] = set()
        self.overlaps: list[int] = []

    @property
    def info(self) -> SourceInfo:
        return self._source.info

    @property
    def frame_count(self) -> int:
        return self._source.frame_count

    @property
    def timing(self) -> FrameTiming:
        return self._source.timing

    @property
    def calibration(self) -> Calibration:
        return self._source.calibration

    def frame(self, index: int) -> np.ndarray:
        with self._lock:
            if index in self.in_progress:
                self.overlaps.append(index)
            self.in_progress.add(index)
            self.decoded.append(index)
        try:
            if self._delay:
                time.sleep(self._delay)
            return self._source.frame(index)
        finally:
            with self._lock:
                self.in_progress.discard(index)

    def close(self) -> None:
        self._source.close()


@pytest.fixture(scope="module")
def cine() -> DicomSource:
    return DicomSource.open(pydicom_file("examples_ybr_color.dcm"))


@pytest.fixture(scope="module")
def reference(cine: DicomSource) -> list[np.ndarray]:
    return [cine.frame(i) for i in range(cine.frame_count)]


FRAME_BYTES = 240 * 320 * 3


def wait_until(condition, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def test_get_decodes_once_then_hits(cine: DicomSource, reference: list[np.ndarray]) -> None:
    watched = WatchedSource(cine)
    cache = FrameCache(watched)
    first = cache.get(3)
    assert np.array_equal(first, reference[3])
    assert cache.get(3) is first
    assert watched.decoded == [3]
    stats = cache.stats
    assert (stats.hits, stats.misses, stats.frames, stats.bytes) == (1, 1, 1, FRAME_BYTES)
    assert not first.flags.writeable  # shared with every caller, so nobody may paint on it


def test_byte_budget_is_respected_and_oldest_frames_go_first(cine: DicomSource) -> None:
    cache = FrameCache(cine, budget_bytes=5 * FRAME_BYTES + 100)
    for i in range(12):
        cache.get(i)
        assert cache.stats.bytes <= 5 * FRAME_BYTES + 100
    assert cache.cached_indices() == [7, 8, 9, 10, 11]
    assert cache.stats.frames == 5


def test_a_frame_used_again_is_kept_longer(cine: DicomSource) -> None:
    watched = WatchedSource(cine)
    cache = FrameCache(watched, budget_bytes=3 * FRAME_BYTES)
    for i in (0, 1, 2):
        cache.get(i)
    cache.get(0)  # now the most recent
    cache.get(3)  # evicts 1, the least recently used
    assert cache.cached_indices() == [2, 0, 3]
    assert 1 not in cache and 0 in cache
    cache.get(1)
    assert watched.decoded == [0, 1, 2, 3, 1]


def test_frame_larger_than_the_budget_is_returned_not_kept(
    cine: DicomSource, reference: list[np.ndarray]
) -> None:
    cache = FrameCache(cine, budget_bytes=FRAME_BYTES - 1)
    assert np.array_equal(cache.get(0), reference[0])
    assert cache.stats.frames == 0 and cache.stats.bytes == 0


def test_prefetch_fills_the_cache_in_the_background(
    cine: DicomSource, reference: list[np.ndarray]
) -> None:
    watched = WatchedSource(cine)
    cache = FrameCache(watched)
    cache.prefetch(range(10, 20))
    wait_until(lambda: cache.stats.prefetched == 10)
    assert sorted(cache.cached_indices()) == list(range(10, 20))
    for i in range(10, 20):
        assert np.array_equal(cache.get(i), reference[i])
    assert cache.stats.hits == 10 and cache.stats.misses == 0
    assert sorted(watched.decoded) == list(range(10, 20))
    assert all(t.name != "frame-prefetch" or t.daemon for t in threading.enumerate())
    cache.close()


def test_a_new_request_supersedes_the_old_one(cine: DicomSource) -> None:
    watched = WatchedSource(cine, delay_s=0.02)
    cache = FrameCache(watched)
    cache.prefetch(range(30))
    cache.prefetch([25, 26])
    wait_until(lambda: 25 in cache and 26 in cache)
    time.sleep(0.1)  # the worker would go on with the old request if it had kept it
    assert len(watched.decoded) <= 5
    assert {25, 26} <= set(watched.decoded)
    cache.close()


def test_prefetch_stops_rather_than_evict_frames_it_fetched_for_playback(
    cine: DicomSource,
) -> None:
    cache = FrameCache(cine, budget_bytes=4 * FRAME_BYTES)
    cache.prefetch(range(10))
    wait_until(lambda: cache.stats.frames == 4)
    time.sleep(0.1)
    assert cache.cached_indices() == [0, 1, 2, 3]
    cache.close()


def test_prefetch_errors_are_kept_and_raised_by_get(tmp_path: Path) -> None:
    good = factory.jpeg_frames([factory.ultrasound_rgb(48, 64, 0)])[0]
    encoded = [good, b"garbage, not a JPEG", good, good]
    path = factory.ybr_jpeg_cine(
        tmp_path / "cine.dcm", frames=4, rows=48, columns=64, encoded=encoded
    )
    cache = FrameCache(DicomSource.open(path))
    cache.prefetch(range(4))
    wait_until(lambda: cache.stats.prefetched + cache.stats.errors == 4)
    assert cache.stats.errors == 1
    with pytest.raises(ImageLoadError) as first:
        cache.get(1)
    with pytest.raises(ImageLoadError) as again:
        cache.get(1)
    assert again.value is first.value
    assert "frame 2 of 4 cannot be decoded" in first.value.reason
    # The worker survived the error and takes new requests.
    cache.clear()
    cache.prefetch([3])
    wait_until(lambda: 3 in cache)
    cache.close()


def test_get_errors_are_remembered_too(tmp_path: Path) -> None:
    encoded = [b"garbage"] * 2
    path = factory.ybr_jpeg_cine(tmp_path / "cine.dcm", frames=2, encoded=encoded)
    watched = WatchedSource(DicomSource.open(path))
    cache = FrameCache(watched)
    for _ in range(3):
        with pytest.raises(ImageLoadError):
            cache.get(0)
    assert watched.decoded == [0]


def test_concurrent_gets_and_prefetch_never_decode_a_frame_twice_at_once(
    cine: DicomSource, reference: list[np.ndarray]
) -> None:
    watched = WatchedSource(cine, delay_s=0.002)
    cache = FrameCache(watched, budget_bytes=8 * FRAME_BYTES)
    wrong: list[int] = []

    def viewer(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(40):
            i = rng.randrange(30)
            if not np.array_equal(cache.get(i), reference[i]):
                wrong.append(i)

    threads = [threading.Thread(target=viewer, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for start in range(0, 30, 3):
        cache.prefetch(range(start, start + 6))
        time.sleep(0.003)
    for t in threads:
        t.join()
    cache.close()
    assert not wrong
    assert watched.overlaps == []
    assert cache.stats.bytes <= 8 * FRAME_BYTES


def test_waiting_for_a_frame_the_worker_is_decoding(cine: DicomSource) -> None:
    watched = WatchedSource(cine, delay_s=0.1)
    cache = FrameCache(watched)
    cache.prefetch([7])
    wait_until(lambda: 7 in watched.in_progress)
    cache.get(7)  # waits for the worker instead of decoding again
    assert Counter(watched.decoded)[7] == 1
    cache.close()


def test_close_stops_the_worker(cine: DicomSource) -> None:
    cache = FrameCache(cine)
    cache.prefetch([0, 1])
    wait_until(lambda: 1 in cache)
    worker = cache._worker
    assert worker is not None and worker.is_alive()
    cache.close()
    assert not worker.is_alive()
    assert cache.stats.frames == 0
    cache.prefetch([2, 3])  # ignored after close
    time.sleep(0.05)
    assert 2 not in cache
    assert cache.get(2).shape == (240, 320, 3)  # still usable, without prefetch


def test_index_outside_the_cine(cine: DicomSource) -> None:
    cache = FrameCache(cine)
    with pytest.raises(IndexError):
        cache.get(30)
    cache.prefetch([-1, 30, 99])  # quietly ignored
    assert cache.stats.prefetched == 0
