"""VideoSource on real clips written here with OpenCV: frame-accurate random access, bad files."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.open import open_image
from prolo_planner.imaging.source import SourceKind
from prolo_planner.imaging.video import VideoSource

ROWS, COLUMNS, CELL = 96, 128, 16
FRAMES = 40
FPS = 25.0
MARKER_RGB = (230, 40, 40)
BACKGROUND = 70

#: (container suffix, FourCC written, FourCC OpenCV reports back, lossless)
CODECS = [
    ("avi", "MJPG", "MJPG", False),
    ("mp4", "mp4v", "FMP4", False),
    ("mov", "mp4v", "FMP4", False),
    ("webm", "VP90", "VP90", False),
    ("webm", "VP80", "VP80", False),
    ("mkv", "FFV1", "ffv1", True),
]
IDS = [f"{fourcc}-{suffix}" for suffix, fourcc, _, _ in CODECS]


def pattern(index: int) -> np.ndarray:
    """RGB frame `index`: a red square in a cell that says which frame this is."""
    frame = np.full((ROWS, COLUMNS, 3), BACKGROUND, np.uint8)
    cells_across = COLUMNS // CELL
    row, col = divmod(index % (cells_across * (ROWS // CELL)), cells_across)
    frame[row * CELL : (row + 1) * CELL, col * CELL : (col + 1) * CELL] = MARKER_RGB
    return frame


def frame_number_shown(rgb: np.ndarray) -> int:
    """Which frame an RGB picture shows: the cell where red stands out most."""
    redness = rgb[:, :, 0].astype(np.int32) - rgb[:, :, 1].astype(np.int32)
    cells = redness.reshape(ROWS // CELL, CELL, COLUMNS // CELL, CELL).mean(axis=(1, 3))
    row, col = np.unravel_index(int(np.argmax(cells)), cells.shape)
    return int(row * (COLUMNS // CELL) + col)


def write_clip(path: Path, fourcc: str, frames: int = FRAMES) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), FPS, (COLUMNS, ROWS))
    assert writer.isOpened(), f"this OpenCV cannot write {fourcc} in {path.suffix}"
    for i in range(frames):
        writer.write(cv2.cvtColor(pattern(i), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def sequential_decode(path: Path) -> list[np.ndarray]:
    """Every frame in order, as OpenCV decodes them without seeking, in RGB."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[np.ndarray]]]:
    folder = tmp_path_factory.mktemp("clips")
    result = {}
    for (suffix, fourcc, _, _), name in zip(CODECS, IDS, strict=True):
        path = write_clip(folder / f"clip_{fourcc}.{suffix}", fourcc)
        result[name] = (path, sequential_decode(path))
    return result


@pytest.mark.parametrize(("suffix", "fourcc", "reported", "lossless"), CODECS, ids=IDS)
def test_every_writable_codec_opens_with_count_rate_and_codec(
    clips, suffix, fourcc, reported, lossless
):
    path, reference = clips[f"{fourcc}-{suffix}"]
    assert len(reference) == FRAMES
    source = VideoSource.open(path)
    info = source.info
    assert source.frame_count == info.frame_count == FRAMES
    assert info.kind is SourceKind.VIDEO
    assert (info.rows, info.columns, info.samples_per_pixel) == (ROWS, COLUMNS, 3)
    assert info.codec == reported
    assert info.frame_time_ms == pytest.approx(1000 / FPS)
    assert source.timing.frame_count == FRAMES
    assert source.timing.fps == pytest.approx(FPS)
    assert source.timing.duration_ms == pytest.approx(FRAMES * 1000 / FPS)
    extra = dict(info.extra)
    assert extra["Duration"] == "1.60 s"
    assert extra["Frame rate"] == "25 fps"
    assert extra["File size"].endswith("kB")
    assert not source.calibration.is_calibrated
    source.close()


@pytest.mark.parametrize(("suffix", "fourcc", "reported", "lossless"), CODECS, ids=IDS)
def test_random_access_returns_exactly_the_frame_a_sequential_decode_gives(
    clips, suffix, fourcc, reported, lossless
):
    path, reference = clips[f"{fourcc}-{suffix}"]
    source = VideoSource.open(path)
    # Backwards, forwards, far jumps, steps of one, short skips ahead, the same frame twice.
    order = [FRAMES - 1, 0, 17, 3, 33, 34, 35, 12, 12, 39, 1, 20, 19, 18, 25, 38, 2]
    for index in order:
        frame = source.frame(index)
        assert frame.dtype == np.uint8 and frame.shape == (ROWS, COLUMNS, 3)
        assert frame.flags.c_contiguous
        np.testing.assert_array_equal(frame, reference[index], err_msg=f"frame {index}")
        assert frame_number_shown(frame) == index
        # RGB, not OpenCV's BGR: the marker is red.
        centre = frame[CELL // 2 :: CELL, CELL // 2 :: CELL].reshape(-1, 3)
        marker = centre[np.argmax(centre[:, 0].astype(int) - centre[:, 2])]
        tolerance = 0 if lossless else 24
        assert np.abs(marker.astype(int) - MARKER_RGB).max() <= tolerance
        if lossless:
            np.testing.assert_array_equal(frame, pattern(index))
    source.close()


@pytest.mark.parametrize("name", ["MJPG-avi", "mp4v-mp4", "VP90-webm"])
def test_playing_through_in_order_and_skipping_ahead(clips, name):
    path, reference = clips[name]
    source = VideoSource.open(path)
    for index in [*range(FRAMES // 2), 25, 31, 32, FRAMES - 1]:
        np.testing.assert_array_equal(source.frame(index), reference[index])
    source.close()


def test_frame_is_the_callers_to_change(clips):
    path, reference = clips["FFV1-mkv"]
    source = VideoSource.open(path)
    first = source.frame(7)
    first[:] = 0
    np.testing.assert_array_equal(source.frame(7), reference[7])


def test_frames_from_several_threads_at_once(clips):
    path, reference = clips["mp4v-mp4"]
    source = VideoSource.open(path)
    failures: list[str] = []

    def read(start: int) -> None:
        for k in range(30):
            index = (start + k * 7) % FRAMES
            if not np.array_equal(source.frame(index), reference[index]):
                failures.append(f"frame {index}")

    threads = [threading.Thread(target=read, args=(s,)) for s in (0, 5, 11, 23)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_close_releases_and_a_later_frame_opens_again(clips):
    path, reference = clips["MJPG-avi"]
    source = VideoSource.open(path)
    np.testing.assert_array_equal(source.frame(5), reference[5])
    source.close()
    source.close()  # twice is harmless
    np.testing.assert_array_equal(source.frame(6), reference[6])
    source.close()


def test_index_outside_the_clip_is_an_index_error(clips):
    source = VideoSource.open(clips["MJPG-avi"][0])
    with pytest.raises(IndexError):
        source.frame(FRAMES)
    with pytest.raises(IndexError):
        source.frame(-1)


def test_open_image_dispatches_videos_here(clips):
    source = open_image(clips["VP90-webm"][0])
    assert isinstance(source, VideoSource)
    assert source.frame_count == FRAMES


# -- bad files -------------------------------------------------------------------------------
def test_garbage_with_a_video_suffix(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(ImageLoadError, match="not a video file") as caught:
        VideoSource.open(path)
    assert caught.value.path == path


def test_text_named_avi(tmp_path):
    path = tmp_path / "notes.avi"
    path.write_text("patient notes, not a video\n" * 20)
    with pytest.raises(ImageLoadError, match="not a video file"):
        VideoSource.open(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.webm"
    path.touch()
    with pytest.raises(ImageLoadError, match="empty file"):
        VideoSource.open(path)


def test_missing_file(tmp_path):
    with pytest.raises(ImageLoadError, match="cannot be read"):
        VideoSource.open(tmp_path / "gone.mp4")


@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_truncated_mp4_says_so(clips, tmp_path, fraction):
    data = clips["mp4v-mp4"][0].read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ImageLoadError, match="truncated MP4/MOV recording"):
        VideoSource.open(path)


def test_clip_with_no_frames(tmp_path):
    path = tmp_path / "nothing.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (COLUMNS, ROWS))
    writer.release()
    assert path.stat().st_size > 0
    with pytest.raises(ImageLoadError, match="no decodable video frame"):
        VideoSource.open(path)


@pytest.mark.parametrize("name", ["MJPG-avi", "VP90-webm", "FFV1-mkv"])
def test_cut_short_recording_gets_the_frame_count_that_decodes(clips, tmp_path, name):
    original = clips[name][0]
    data = original.read_bytes()
    path = tmp_path / f"cut{original.suffix}"
    path.write_bytes(data[: int(len(data) * 0.6)])
    # The header still promises every frame; fewer are there.
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == FRAMES
    capture.release()
    reference = sequential_decode(path)
    assert 0 < len(reference) < FRAMES

    source = VideoSource.open(path)
    assert source.frame_count == len(reference)
    last = len(reference) - 1
    for index in (last, 0, last // 2, last):
        np.testing.assert_array_equal(source.frame(index), reference[index])
        assert frame_number_shown(source.frame(index)) == index


def avi_frame_chunks(data: bytes) -> list[tuple[int, int]]:
    """(offset of payload, size) of each video chunk in an AVI's movi list."""
    movi = data.index(b"movi") + 4
    chunks, offset = [], movi
    while offset + 8 <= len(data):
        tag, size = (
            data[offset : offset + 4],
            int.from_bytes(data[offset + 4 : offset + 8], "little"),
        )
        if tag == b"idx1":
            break
        if tag[2:] in (b"dc", b"db"):
            chunks.append((offset + 8, size))
        offset += 8 + size + (size & 1)
    return chunks


def test_a_damaged_frame_mid_file_is_an_error_for_that_frame_only(clips, tmp_path):
    original, reference = clips["MJPG-avi"]
    data = bytearray(original.read_bytes())
    chunks = avi_frame_chunks(bytes(data))
    assert len(chunks) == FRAMES
    damaged = 20
    start, size = chunks[damaged]
    data[start : start + size] = bytes(size)
    path = tmp_path / "damaged.avi"
    path.write_bytes(bytes(data))

    source = VideoSource.open(path)
    assert source.frame_count == FRAMES
    np.testing.assert_array_equal(source.frame(damaged - 1), reference[damaged - 1])
    with pytest.raises(ImageLoadError, match=f"frame {damaged} of {FRAMES} could not be decoded"):
        source.frame(damaged)
    for index in (damaged + 1, damaged + 2, 5, FRAMES - 1):
        np.testing.assert_array_equal(source.frame(index), reference[index])


def test_a_name_that_looks_like_a_url(clips, tmp_path, monkeypatch):
    name = "scan:1 échographie.avi"
    (tmp_path / name).write_bytes(clips["MJPG-avi"][0].read_bytes())
    monkeypatch.chdir(tmp_path)
    source = VideoSource.open(name)
    assert source.frame_count == FRAMES
    np.testing.assert_array_equal(source.frame(9), clips["MJPG-avi"][1][9])
