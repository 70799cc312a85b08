"""Points and distances in image pixel coordinates.

Convention: x is the column, y the row, both floats. Pixel (c, r) covers the square
[c, c+1) x [r, r+1), so its centre is (c + 0.5, r + 0.5). This matches Qt's scene
coordinates for a pixmap item placed at the origin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float

    def pixel(self) -> tuple[int, int]:
        """The (column, row) of the pixel this point falls in."""
        return math.floor(self.x), math.floor(self.y)


def pixel_distance(a: Point, b: Point) -> float:
    return math.hypot(b.x - a.x, b.y - a.y)
