"""How large a file's declared contents may be before anything is allocated for them.

A header is only a claim: a 1 kB JPEG can declare 20000x20000 pixels, a 742-byte RLE file
65535x65535, a 1 MB deflated dataset several gigabytes once inflated. Each reader compares what
a file declares with these ceilings before it allocates, and refuses with one line naming the
limit. The defaults fit any real ultrasound file with room to spare (the largest frames are
4K screen grabs, 3840x2160; the longest cines a few thousand frames); a clinic with unusual
files raises them in read-limits.json in the config folder.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, fields, replace
from pathlib import Path

log = logging.getLogger(__name__)

FORMAT = "prolo-planner/read-limits"
FORMAT_VERSION = "1.0"
FILE_NAME = "read-limits.json"


@dataclass(frozen=True, slots=True)
class ReadLimits:
    #: Pixels of one frame or still (4096 x 4096): a decoded 16-bit colour frame stays under
    #: 100 MB, and the display path's conversions under half a gigabyte.
    max_frame_pixels: int = 4096 * 4096
    #: Frames of one cine: 55 minutes at 30 fps.
    max_frames: int = 100_000
    #: Bytes a deflated DICOM dataset may inflate to (the deflated syntax is rare and small).
    max_inflated_bytes: int = 512 << 20
    #: Bytes of a still image file, which is read whole to be decoded.
    max_still_file_bytes: int = 256 << 20

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{f.name}: expected a whole number above 0, got {value!r}")

    def frame_size_problem(self, columns: int, rows: int) -> str | None:
        """Why a frame of columns x rows is refused, or None when it is within the limit."""
        if columns * rows <= self.max_frame_pixels:
            return None
        return (
            f"image size {columns} x {rows} ({_mega(columns * rows)} megapixels) is more than "
            f"the {_mega(self.max_frame_pixels)} megapixels allowed ({FILE_NAME}: "
            "max_frame_pixels)"
        )


def _mega(pixels: int) -> str:
    return f"{pixels / 1e6:.1f}"


_lock = threading.Lock()
_current: ReadLimits | None = None


def read_limits() -> ReadLimits:
    """The limits in force: read-limits.json of the config folder, read once per process."""
    global _current
    with _lock:
        if _current is None:
            _current = _load()
        return _current


def set_read_limits(limits: ReadLimits | None) -> None:
    """Use these limits for the rest of the process (None: read the file again when asked)."""
    global _current
    with _lock:
        _current = limits


def limits_file() -> Path:
    from prolo_planner.paths import config_dir

    return config_dir() / FILE_NAME


def _load() -> ReadLimits:
    defaults = ReadLimits()
    try:
        path = limits_file()
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return defaults
    except (OSError, ValueError) as exc:
        log.warning("%s: cannot be read (%s); default read limits used", FILE_NAME, exc)
        return defaults
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        log.warning("%s: not a %s file; default read limits used", path, FORMAT)
        return defaults
    chosen = {}
    for f in fields(ReadLimits):
        if f.name not in data:
            continue
        try:
            replace(defaults, **{f.name: data[f.name]})
        except ValueError as exc:
            log.warning("%s: %s; its default %d used", path, exc, getattr(defaults, f.name))
            continue
        chosen[f.name] = data[f.name]
    return replace(defaults, **chosen)
