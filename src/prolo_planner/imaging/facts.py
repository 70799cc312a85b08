"""What an open image says and shows of its calibration: ImageFacts for calibration_in_force.

The header's calibration comes with the source; the fan is looked for in the pixels once per
source (a few frames of a cine, combined) and kept for as long as the source lives.
"""

from __future__ import annotations

import logging
import threading
import weakref

from prolo_planner.core.image_calibration import Box, ImageFacts
from prolo_planner.core.probe import FanFinding
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.fan import find_fan
from prolo_planner.imaging.source import ImageSource

log = logging.getLogger(__name__)

#: Frames of a cine combined to find the fan: enough that a dark frame does not hide it.
FAN_FRAMES = 4

_cache: weakref.WeakKeyDictionary[ImageSource, ImageFacts] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def image_facts(source: ImageSource) -> ImageFacts:
    """The source's calibration facts, the fan found once and then remembered."""
    with _lock:
        found = _cache.get(source)
    if found is not None:
        return found
    found = _read(source)
    with _lock:
        _cache[source] = found
    return found


def _read(source: ImageSource) -> ImageFacts:
    info, calibration = source.info, source.calibration
    boxes: list[Box] = [(r.x0, r.y0, r.x1, r.y1) for r in calibration.regions]
    if not boxes:
        # No regions: the clinician may calibrate by hand; the fan is looked for in the image.
        boxes = [(0, 0, info.columns - 1, info.rows - 1)]
    fans: list[tuple[Box, FanFinding]] = []
    count = source.frame_count
    indices = sorted({round(i * (count - 1) / max(FAN_FRAMES - 1, 1)) for i in range(FAN_FRAMES)})
    try:
        frames = [source.frame(i) for i in indices if 0 <= i < count]
    except (ImageLoadError, IndexError) as exc:
        log.info("no fan looked for in %s: %s", info.path, exc)
        frames = []
    for box in boxes:
        fan = find_fan(frames, box)
        if fan is not None:
            fans.append((box, fan))
    return ImageFacts(info.rows, info.columns, count, calibration, tuple(fans))
