"""Where the scanner burned text and marks into a frame (patient banner, settings, depth-scale
numbers, the orientation dot), so the overlay's labels and scale bar can keep off them.

Scanners draw these bright on the black around the ultrasound: a bright pixel whose
neighbourhood is mostly black is burned in; inside the speckle of the image the neighbourhood
is grey and nothing is found. Characters are joined into words, and the words' boxes returned.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from prolo_planner.core.calibration import Calibration, CalibrationSource

#: (left, top, right, bottom) in image pixels.
Box = tuple[float, float, float, float]

#: A burned-in pixel is at least this bright (the dimmest scanner text seen is about 150).
BRIGHT = 110
#: ... and the median of its neighbourhood at most this (black, with compression noise).
DARK_AROUND = 24
#: The neighbourhood's side, in pixels: a few lines of text, so that a block of them (a
#: scanner's settings, stacked) still has mostly black around it.
NEIGHBOURHOOD = 31
#: Taller than this (pixels) is not text: the edge of the image itself.
MAX_HEIGHT = 40


def burned_in_text(frame: np.ndarray, calibration: Calibration | None = None) -> tuple[Box, ...]:
    """Boxes of the text and marks burned into `frame` (uint8 HxW or HxWx3).

    Outside the ultrasound regions a DICOM file declares (its `calibration`) all that is
    bright is the scanner's; inside them, and in files without regions, text on black.
    """
    regions: Sequence[tuple[int, int, int, int]] = ()
    if calibration is not None and calibration.source is CalibrationSource.ULTRASOUND_REGIONS:
        regions = [(r.x0, r.y0, r.x1, r.y1) for r in calibration.regions]
    grey = frame.max(axis=2) if frame.ndim == 3 else frame
    grey = np.ascontiguousarray(grey, dtype=np.uint8)
    rows, columns = grey.shape
    bright = grey >= BRIGHT
    # Text on black: a bright pixel whose neighbourhood is mostly black. The median of a
    # half-size copy: as telling, four times faster.
    size = (max(1, columns // 2), max(1, rows // 2))
    half = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    around = cv2.medianBlur(half, NEIGHBOURHOOD // 2 | 1)
    around = cv2.resize(around, (columns, rows), interpolation=cv2.INTER_NEAREST)
    drawn = around <= DARK_AROUND
    if regions:
        # Outside a DICOM file's regions there is no ultrasound: whatever is bright there is
        # drawn, whatever lies under it (a banner's grey, a colour bar).
        outside = np.ones_like(drawn)
        for x0, y0, x1, y1 in regions:
            outside[max(0, y0) : max(0, y1 + 1), max(0, x0) : max(0, x1 + 1)] = False
        drawn |= outside
    marks = (bright & drawn).astype(np.uint8)
    if not marks.any():
        return ()
    # Letters into words: a few pixels across only, so that lines stacked close (a scanner's
    # settings) stay apart.
    words = cv2.dilate(marks, np.ones((1, 9), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(words, connectivity=8)
    boxes: list[Box] = []
    for x, y, w, h, _area in stats[1:count]:
        if h > MAX_HEIGHT:
            continue
        # The dilation grew each word by 4 across: give those back, less a pixel.
        boxes.append((float(x + 3), float(y), float(x + w - 3), float(y + h)))
    return tuple(boxes)
