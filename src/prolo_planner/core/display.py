"""Brightness and contrast of a displayed frame: the one mapping screen and exports share."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class DisplaySettings:
    """A window over 8-bit pixel values: `level` is its centre, `width` its span.

    The default (level 127.5, width 255) shows pixels as stored. Dragging right widens the
    window (less contrast), dragging down raises the level (darker), as in PACS viewers.
    """

    level: float = 127.5
    width: float = 255.0

    MIN_WIDTH = 1.0
    MAX_WIDTH = 1024.0

    @property
    def is_identity(self) -> bool:
        return self.level == 127.5 and self.width == 255.0

    #: A right drag's sensitivity. Across: the window narrows or widens by this factor per
    #: screen pixel (about 2x over 280 px). Down: the level moves by this share of the
    #: window's width per pixel (a tenth of it over 100 px). Relative to the window, so a
    #: narrow window is fine-tuned as easily as the full one, and 120 px of drag never washes
    #: the image out (it did at one grey level per pixel).
    WIDTH_GAIN_PER_PX = 0.0025
    LEVEL_SHARE_PER_PX = 0.001

    def dragged(self, dx_px: float, dy_px: float) -> DisplaySettings:
        """The window after a right drag of (dx, dy) screen pixels from these settings:
        right widens it (less contrast), down raises the level (darker), as in PACS viewers."""
        width = self.width * math.exp(dx_px * self.WIDTH_GAIN_PER_PX)
        return self.adjusted(dy_px * self.LEVEL_SHARE_PER_PX * self.width, width - self.width)

    def adjusted(self, d_level: float, d_width: float) -> DisplaySettings:
        width = min(max(self.width + d_width, self.MIN_WIDTH), self.MAX_WIDTH)
        level = min(max(self.level + d_level, -256.0), 512.0)
        return DisplaySettings(level, width)

    def lut(self) -> np.ndarray:
        """256-entry uint8 lookup table of this window."""
        values = np.arange(256, dtype=np.float32)
        low = self.level - self.width / 2.0
        out = (values - low) * (255.0 / self.width)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def apply_display(frame: np.ndarray, settings: DisplaySettings) -> np.ndarray:
    """The frame as displayed: uint8, same shape. Returns the input itself at the default."""
    if settings.is_identity:
        return frame
    return settings.lut()[frame]
