"""Probe geometry: which way the beams run, where depth zero lies, and where each fact came from.

A linear probe's beams are parallel and run straight down the image: depth is the rows below
depth zero times the spacing. A curvilinear (convex) probe's beams radiate from a virtual apex
above the image, and its face is the arc of radius R around that apex: depth runs along the beam,
depth = distance(apex, point) - R (DOMAIN.md). A phased array's sector is the same with a small
face. Depth is never negative: a point above the face (or the clinician's skin line) lies
outside the tissue and gets a reason instead of a number.

Everything here works in a Cartesian plane whose units the caller picks: millimetres (pixels
scaled by the region's spacing) or pixels (spacing 1, 1) for an uncalibrated image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import ProbeShape

Spacing = tuple[float, float]  # mm per pixel across (x) and down (y); (1, 1) for pixels
SkinLine = tuple[Point, Point]

#: A point this far (mm, or px without calibration) above zero still counts as on it: the float
#: noise of a point dragged onto the face, far below a pixel.
ON_SURFACE = 1e-6


class Origin(StrEnum):
    """Where a fact of the geometry comes from, as the clinician reads it."""

    FILE = "the file's header"
    IMAGE = "found in the image"
    CLINICIAN = "set by the clinician"
    GUESS = "a guess"


@dataclass(frozen=True, slots=True)
class FanFinding:
    """What the pixels show of the probe (imaging/fan.py finds it in a frame).

    `centre_x` is the column of the centre beam; `face_y` the row where it meets the face (the
    top of the scanned area); `apex_y` the row of the virtual apex on the centre beam (None for
    a linear probe, whose sides are parallel); `half_angle_deg` half the fan's opening;
    `reach_px` how far (columns) the face reaches either side of the centre beam, which places
    its ends whatever the radius in force.
    """

    shape: ProbeShape
    centre_x: float
    face_y: float
    apex_y: float | None = None
    half_angle_deg: float | None = None
    reach_px: float | None = None

    def describe(self) -> str:
        if self.shape is ProbeShape.LINEAR or self.apex_y is None:
            return f"linear, face at row {self.face_y:.0f}"
        return (
            f"{self.shape.value}, apex at ({self.centre_x:.0f}, {self.apex_y:.0f}), "
            f"face at row {self.face_y:.0f}"
        )


@dataclass(frozen=True, slots=True)
class ProbeGeometry:
    """The geometry in force for one region, each part with its origin.

    For a radial probe (curvilinear or sector) the apex lies on the centre beam at
    (`centre_x`, `apex_y`), `zero_y - apex_y` pixels above depth zero: the face radius.
    """

    shape: ProbeShape
    centre_x: float
    zero_y: float
    apex_y: float
    half_angle_deg: float | None = None
    shape_from: Origin = Origin.GUESS
    zero_from: Origin = Origin.GUESS
    apex_from: Origin = Origin.GUESS
    #: How depth zero was found, in a few words ("ReferencePixelY0 36 of region 1", ...).
    zero_detail: str = ""

    @property
    def radial(self) -> bool:
        """Beams radiate from an apex above depth zero (else they run straight down)."""
        return self.shape is not ProbeShape.LINEAR and self.apex_y < self.zero_y

    @property
    def apex(self) -> Point:
        return Point(self.centre_x, self.apex_y)

    def radius(self, spacing: Spacing) -> float:
        """The face radius in the units of `spacing` (the centre beam runs straight down)."""
        return (self.zero_y - self.apex_y) * spacing[1] if self.radial else 0.0

    def beam(self, p: Point, spacing: Spacing) -> tuple[float, float]:
        """Unit vector, in the scaled plane, of the beam through p (down the image on a linear
        probe; away from the apex on a radial one). Straight down at the apex itself."""
        if not self.radial:
            return (0.0, 1.0)
        dx, dy = (p.x - self.centre_x) * spacing[0], (p.y - self.apex_y) * spacing[1]
        length = math.hypot(dx, dy)
        return (dx / length, dy / length) if length > 0 else (0.0, 1.0)

    def face_depth(self, p: Point, spacing: Spacing) -> float:
        """Signed depth of p along its beam below the face: negative above it."""
        if not self.radial:
            return (p.y - self.zero_y) * spacing[1]
        dx, dy = (p.x - self.centre_x) * spacing[0], (p.y - self.apex_y) * spacing[1]
        return math.hypot(dx, dy) - self.radius(spacing)

    def skin_depth(self, p: Point, skin: SkinLine, spacing: Spacing) -> float | None:
        """Signed depth of p along its beam below the skin line (extended both ways); None when
        the beam through p never meets the line in front of the probe."""
        sx, sy = spacing
        a = Point(skin[0].x * sx, skin[0].y * sy)
        b = Point(skin[1].x * sx, skin[1].y * sy)
        q = Point(p.x * sx, p.y * sy)
        if not self.radial:
            if a.x == b.x:
                return None  # a vertical skin line runs along the beams
            skin_y = a.y + (q.x - a.x) * (b.y - a.y) / (b.x - a.x)
            return q.y - skin_y
        apex = Point(self.centre_x * sx, self.apex_y * sy)
        # The beam apex + t (q - apex) meets the line a + u (b - a) where the cross product
        # of (crossing - a) with (b - a) is zero.
        rx, ry = q.x - apex.x, q.y - apex.y
        lx, ly = b.x - a.x, b.y - a.y
        denominator = rx * ly - ry * lx
        if denominator == 0 or (rx == 0 and ry == 0):
            return None
        t = ((a.x - apex.x) * ly - (a.y - apex.y) * lx) / denominator
        if t <= 0:
            return None  # the line crosses the beam behind the apex
        return math.hypot(rx, ry) * (1.0 - t)

    def surface_depth(self, p: Point, spacing: Spacing) -> float:
        """Signed distance of p below the body surface the face presses, for a needle entry
        that may lie beside the probe: within the fan the face itself; beyond the end of a
        curved face the skin, pressed in by the probe, runs on level with the face's end
        (the shallowest point the probe touches)."""
        if not self.radial or self.half_angle_deg is None:
            return self.face_depth(p, spacing)
        sx, sy = spacing
        dx, dy = (p.x - self.centre_x) * sx, (p.y - self.apex_y) * sy
        angle = math.degrees(math.atan2(abs(dx), dy))
        if angle <= self.half_angle_deg:
            return self.face_depth(p, spacing)
        end_depth = self.radius(spacing) * math.cos(math.radians(self.half_angle_deg))
        return dy - end_depth

    def surface_y(self, x: float, spacing: Spacing, skin: SkinLine | None = None) -> float | None:
        """The row where the body surface lies in column x: the skin line (extended) when
        drawn, else the face (its arc within the fan, level with its end beyond it). None for
        a vertical skin line."""
        sx, sy = spacing
        if skin is not None:
            a, b = skin
            if a.x == b.x:
                return None
            return a.y + (x - a.x) * (b.y - a.y) / (b.x - a.x)
        if not self.radial:
            return self.zero_y
        radius = self.radius(spacing)
        dx = (x - self.centre_x) * sx
        half = math.radians(self.half_angle_deg) if self.half_angle_deg is not None else None
        if abs(dx) < radius and (half is None or abs(dx) <= radius * math.sin(half)):
            return self.apex_y + math.sqrt(radius * radius - dx * dx) / sy
        if half is None:
            return None
        return self.apex_y + radius * math.cos(half) / sy

    def describe(self, spacing: Spacing | None = None) -> str:
        """'curvilinear (found in the image), face radius 53.9 mm (found in the image)'."""
        text = f"{self.shape.value} ({self.shape_from.value})"
        if self.radial:
            if spacing is not None:
                size = f"{self.radius(spacing):.1f} mm"
            else:
                size = f"{self.zero_y - self.apex_y:.0f} px"
            text += f", face radius {size} ({self.apex_from.value})"
        elif self.shape is not ProbeShape.LINEAR:
            text += ", face radius unknown: depth measured straight down"
        return text

    def describe_zero(self) -> str:
        """'Depth zero at row 96.0: the file's header (its reference pixel)'."""
        detail = f" ({self.zero_detail})" if self.zero_detail else ""
        return f"Depth zero at row {self.zero_y:.1f}: {self.zero_from.value}{detail}"


def linear_probe(zero_y: float, centre_x: float, zero_from: Origin, detail: str) -> ProbeGeometry:
    """A linear probe with its depth zero; its shape is a guess until someone says otherwise."""
    return ProbeGeometry(
        ProbeShape.LINEAR,
        centre_x,
        zero_y,
        zero_y,
        zero_from=zero_from,
        zero_detail=detail,
    )
