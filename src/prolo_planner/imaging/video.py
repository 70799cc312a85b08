"""Video clips (mp4, mov, avi, mkv, webm) as an ImageSource, with frame-accurate random access."""

from __future__ import annotations

import logging
import math
import os
import threading
from pathlib import Path

# FFmpeg prints its complaints about damaged files on stderr; the app reports each problem once,
# as an ImageLoadError. OpenCV reads this when its FFmpeg backend starts, on the first capture.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from prolo_planner.core.calibration import Calibration  # noqa: E402
from prolo_planner.imaging.errors import ImageLoadError  # noqa: E402
from prolo_planner.imaging.opencv_quiet import silence_opencv  # noqa: E402
from prolo_planner.imaging.read_limits import read_limits  # noqa: E402
from prolo_planner.imaging.source import FrameTiming, SourceInfo, SourceKind  # noqa: E402

# OpenCV's own warnings ("backend is generally available but can't be used") would only
# repeat what the ImageLoadError says.
silence_opencv()

log = logging.getLogger(__name__)

#: Reading forward up to this many frames beats a seek: OpenCV seeks to a keyframe at least 16
#: frames before the target and decodes forward from there, even in all-intra codecs (measured at
#: 800x600: a random seek 10-30 ms in mp4v/MJPG, a step to the next frame 0.7-1.5 ms).
FORWARD_READ_LIMIT = 16

#: Above this, CAP_PROP_FPS is nonsense (some containers report a timebase, e.g. 90000).
MAX_PLAUSIBLE_FPS = 1000.0

CODEC_NAMES = {
    "avc1": "H.264",
    "h264": "H.264",
    "x264": "H.264",
    "hev1": "HEVC (H.265)",
    "hvc1": "HEVC (H.265)",
    "hevc": "HEVC (H.265)",
    "fmp4": "MPEG-4 Part 2",
    "mp4v": "MPEG-4 Part 2",
    "xvid": "MPEG-4 Part 2 (Xvid)",
    "divx": "MPEG-4 Part 2 (DivX)",
    "mjpg": "Motion JPEG",
    "vp80": "VP8",
    "vp90": "VP9",
    "av01": "AV1",
    "ffv1": "FFV1 (lossless)",
    "mpg1": "MPEG-1",
    "mpg2": "MPEG-2",
}


class VideoSource:
    """One video file. Frames come out RGB uint8 HxWx3; calibration is manual (none at first).

    `open()` checks that the file decodes and repairs the frame count, then lets its decoder go;
    the first `frame()` opens one capture that is kept until `close()`, so importing a folder of
    many clips holds no decoders.
    """

    def __init__(self, path: Path, info: SourceInfo, timing: FrameTiming) -> None:
        self._path = path
        self._info = info
        self._timing = timing
        self._lock = threading.Lock()
        self._capture: cv2.VideoCapture | None = None
        #: Index the capture returns on its next read, or None when unknown (after a failure).
        self._next_index: int | None = None
        self._last: tuple[int, np.ndarray] | None = None

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str) -> VideoSource:
        """Open and validate a clip. Raises ImageLoadError naming the reason."""
        path = Path(path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ImageLoadError(path, f"cannot be read ({exc.strerror or exc})") from None
        if size == 0:
            raise ImageLoadError(path, "empty file (0 bytes)")
        try:
            return cls._validated(path, size)
        except cv2.error as exc:
            raise ImageLoadError(path, f"video cannot be decoded ({exc.err or exc})") from None

    @classmethod
    def _validated(cls, path: Path, size: int) -> VideoSource:
        capture = _open_capture(path)
        if capture is None:
            raise ImageLoadError(path, _why_unopenable(path))
        try:
            declared = (
                int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            )
            too_large = read_limits().frame_size_problem(*declared)
            if too_large:  # checked before the decoder allocates its first frame
                raise ImageLoadError(path, too_large)
            ok, first = capture.read()
            if not ok or first is None:
                codec = _fourcc(capture)
                raise ImageLoadError(
                    path,
                    "contains no decodable video frame"
                    + (f" (codec {codec})" if codec else "")
                    + ": it holds no frames, or the video data is damaged",
                )
            count = _verified_frame_count(capture, path)
            fps = capture.get(cv2.CAP_PROP_FPS)
            fourcc = _fourcc(capture)
        finally:
            capture.release()

        fps_ok = math.isfinite(fps) and 0 < fps <= MAX_PLAUSIBLE_FPS
        frame_time_ms = 1000.0 / fps if fps_ok else None
        timing = FrameTiming(count, frame_time_ms)
        rows, columns = first.shape[:2]
        extra: list[tuple[str, str]] = [
            ("Container", path.suffix.lstrip(".").upper() or "unknown"),
            ("Codec", _codec_label(fourcc)),
            ("Frame rate", f"{fps:.3g} fps" if fps_ok else "not stated (played at 30 fps)"),
            ("Duration", f"{timing.duration_ms / 1000:.2f} s"),
            ("File size", _size_text(size)),
        ]
        info = SourceInfo(
            path=path,
            kind=SourceKind.VIDEO,
            rows=rows,
            columns=columns,
            frame_count=count,
            samples_per_pixel=3,
            frame_time_ms=frame_time_ms,
            bits_stored=8,
            codec=fourcc,
            extra=tuple(extra),
        )
        return cls(path, info, timing)

    # -- ImageSource -------------------------------------------------------------------------
    @property
    def info(self) -> SourceInfo:
        return self._info

    @property
    def frame_count(self) -> int:
        return self._info.frame_count

    @property
    def timing(self) -> FrameTiming:
        return self._timing

    @property
    def calibration(self) -> Calibration:
        # No scale travels with a video: the clinician calibrates on the on-screen depth scale.
        return Calibration.none()

    @property
    def path(self) -> Path:
        return self._path

    def frame(self, index: int) -> np.ndarray:
        """Frame `index` (from 0) as RGB uint8 HxWx3, C-contiguous, the caller's to keep."""
        count = self._info.frame_count
        if not 0 <= index < count:
            raise IndexError(f"frame {index} outside 0..{count - 1}")
        with self._lock:
            if self._last is not None and self._last[0] == index:
                return self._last[1].copy()
            try:
                bgr = self._read(index)
            except cv2.error as exc:
                self._next_index = None
                raise ImageLoadError(
                    self._path, f"frame {index} cannot be decoded ({exc.err or exc})"
                ) from None
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            self._last = (index, rgb)
            return rgb.copy()

    def close(self) -> None:
        with self._lock:
            if self._capture is not None:
                self._capture.release()
            self._capture = None
            self._next_index = None
            self._last = None

    def __repr__(self) -> str:
        return f"VideoSource({str(self._path)!r}, frames={self.frame_count})"

    # -- decoding (lock held) ------------------------------------------------------------------
    def _read(self, index: int) -> np.ndarray:
        capture = self._ensure_capture()
        nxt = self._next_index
        # Playback and stepping ask for the next frame or one a little ahead: decode forward from
        # where the decoder stands instead of seeking.
        if nxt is not None and nxt <= index <= nxt + FORWARD_READ_LIMIT:
            ok = all(capture.grab() for _ in range(index - nxt))
            if ok:
                ok, bgr = capture.read()
                if ok and bgr is not None:
                    self._next_index = index + 1
                    return bgr
        # Seek, and once more on failure: a decoder that failed on damaged data may recover
        # from a fresh seek.
        for _attempt in range(2):
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, bgr = capture.read()
            if ok and bgr is not None:
                self._next_index = index + 1
                return bgr
        self._next_index = None
        raise ImageLoadError(
            self._path,
            f"frame {index} of {self._info.frame_count} could not be decoded "
            "(the video data is damaged there)",
        )

    def _ensure_capture(self) -> cv2.VideoCapture:
        if self._capture is None:
            capture = _open_capture(self._path)
            if capture is None:
                raise ImageLoadError(
                    self._path, "can no longer be opened (was the file moved, changed or deleted?)"
                )
            self._capture = capture
            self._next_index = 0
        return self._capture


# -- helpers ---------------------------------------------------------------------------------
def _open_capture(path: Path) -> cv2.VideoCapture | None:
    # Name the FFmpeg backend: letting OpenCV choose may hand a name with '%' to its image
    # sequence reader. An absolute path: FFmpeg reads 'scan:1.mp4' as a URL of protocol 'scan'.
    capture = cv2.VideoCapture(str(path.absolute()), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        capture.release()
        return None
    return capture


def _verified_frame_count(capture: cv2.VideoCapture, path: Path) -> int:
    """The number of frames that really decode.

    CAP_PROP_FRAME_COUNT comes from the container's header or is estimated from its duration; a
    recording cut short keeps the header's count. Trust it only when its last frame decodes and
    the one after does not; otherwise count by decoding.
    """
    stated = capture.get(cv2.CAP_PROP_FRAME_COUNT)
    n = int(stated) if math.isfinite(stated) and stated >= 1 else 0
    if n >= 1:
        capture.set(cv2.CAP_PROP_POS_FRAMES, n - 1)
        if capture.grab():
            if not capture.grab():
                return n
            # More frames than stated: keep counting from here.
            extra = 1
            while capture.grab():
                extra += 1
            log.info("%s: header states %d frames, %d decode", path, n, n + extra)
            return n + extra
    capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
    counted = 0
    while capture.grab():
        counted += 1
    if counted == 0:
        raise ImageLoadError(path, "contains no decodable video frame")
    if counted != n:
        log.info("%s: header states %d frames, %d decode", path, n, counted)
    return counted


def _fourcc(capture: cv2.VideoCapture) -> str:
    code = int(capture.get(cv2.CAP_PROP_FOURCC))
    if code <= 0:
        return ""
    text = code.to_bytes(4, "little").decode("latin-1")
    return text.strip("\x00 ") if text.isprintable() else f"0x{code:08x}"


def _codec_label(fourcc: str) -> str:
    if not fourcc:
        return "unknown"
    name = CODEC_NAMES.get(fourcc.lower())
    return f"{name} ({fourcc})" if name else fourcc


def _size_text(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{size / 1000:.1f} kB"


def _why_unopenable(path: Path) -> str:
    """A clinician's reason why FFmpeg would not open the file, from its first bytes."""
    try:
        with path.open("rb") as f:
            head = f.read(64)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if head[4:8] == b"ftyp":
        problem = _mp4_structure_problem(path)
        if problem:
            return problem
        return "MP4/MOV file holds no video track this build can decode, or is damaged"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI file is damaged or holds no video this build can decode"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "Matroska/WebM file is damaged or holds no video this build can decode"
    return f"not a video file: its content is no known video container (suffix '{path.suffix}')"


def _mp4_structure_problem(path: Path) -> str | None:
    """Why an MP4/MOV file is incomplete, from its top-level boxes (reads 16 bytes a box)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            offset, has_index = 0, False
            while offset + 8 <= size:
                f.seek(offset)
                header = f.read(16)
                box_size = int.from_bytes(header[:4], "big")
                if box_size == 1 and len(header) >= 16:
                    box_size = int.from_bytes(header[8:16], "big")
                elif box_size == 0:
                    box_size = size - offset  # the box runs to the end of the file
                if box_size < 8:
                    return "damaged MP4/MOV file: its structure is unreadable"
                if offset + box_size > size:
                    return (
                        f"truncated MP4/MOV recording: the file ends at byte {size} but its "
                        f"content runs to byte {offset + box_size} (was the copy interrupted?)"
                    )
                has_index = has_index or header[4:8] == b"moov"
                offset += box_size
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not has_index:
        return (
            "incomplete MP4/MOV recording: its index (moov) is missing, usually because the "
            "recording or the copy was interrupted"
        )
    return None
