"""Pixel-to-millimetre calibration of an image, with where it came from.

Ultrasound DICOM carries calibration per region (Sequence of Ultrasound Regions); other
modalities carry PixelSpacing; videos and frame grabs are calibrated by the clinician.
A distance gets millimetres only when both ends lie in calibrated regions of the same spacing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from prolo_planner.core.geometry import Point, pixel_distance

#: Relative tolerance under which two spacings count as the same.
SPACING_TOLERANCE = 1e-6


class CalibrationSource(StrEnum):
    ULTRASOUND_REGIONS = "DICOM ultrasound regions"
    PIXEL_SPACING = "DICOM Pixel Spacing"
    IMAGER_PIXEL_SPACING = "DICOM Imager Pixel Spacing"
    MANUAL = "manual (depth scale)"
    NONE = "none"


class RegionUnits(IntEnum):
    """PhysicalUnitsX/YDirection (0018,6024/6026) codes; only CM is a distance."""

    NONE = 0
    PERCENT = 1
    DB = 2
    CM = 3
    SECONDS = 4
    HERTZ = 5
    DB_PER_SECOND = 6
    CM_PER_SECOND = 7
    CM2 = 8
    CM2_PER_SECOND = 9
    CM3 = 0xA
    CM3_PER_SECOND = 0xB
    DEGREES = 0xC


#: RegionSpatialFormat (0018,6012) code of a 2D (tissue or colour flow) region.
SPATIAL_FORMAT_2D = 1


@dataclass(frozen=True, slots=True)
class UltrasoundRegion:
    """One item of the Sequence of Ultrasound Regions, as read from the file."""

    min_x0: int
    min_y0: int
    max_x1: int
    max_y1: int
    spatial_format: int
    units_x: int
    units_y: int
    delta_x: float
    delta_y: float
    data_type: int = 0
    #: ReferencePixelY0 (0018,6022), relative to the region's top; with
    #: ReferencePhysicalLocationY0 (0018,602A, cm) it places depth zero: the transducer face.
    reference_pixel_y0: float | None = None
    reference_physical_y0: float | None = None


@dataclass(frozen=True, slots=True)
class CalibratedRegion:
    """A rectangle of the image with one spacing. Bounds are inclusive pixel indices."""

    x0: int
    y0: int
    x1: int
    y1: int
    mm_per_px_x: float
    mm_per_px_y: float
    label: str = ""
    #: Image row (fractional) where ultrasound depth is zero, when the file says; else the
    #: region's top row. A convex probe's sector starts below its region's top.
    depth_zero_y: float | None = None

    @property
    def depth_origin_y(self) -> float:
        return self.y0 if self.depth_zero_y is None else self.depth_zero_y

    def contains(self, p: Point) -> bool:
        return self.x0 <= p.x < self.x1 + 1 and self.y0 <= p.y < self.y1 + 1

    @property
    def area(self) -> int:
        return (self.x1 - self.x0 + 1) * (self.y1 - self.y0 + 1)

    def same_spacing(self, other: CalibratedRegion) -> bool:
        return math.isclose(
            self.mm_per_px_x, other.mm_per_px_x, rel_tol=SPACING_TOLERANCE
        ) and math.isclose(self.mm_per_px_y, other.mm_per_px_y, rel_tol=SPACING_TOLERANCE)

    def describe(self) -> str:
        if math.isclose(self.mm_per_px_x, self.mm_per_px_y, rel_tol=SPACING_TOLERANCE):
            spacing = f"{self.mm_per_px_x:.4g} mm/px"
        else:
            spacing = f"{self.mm_per_px_x:.4g} x {self.mm_per_px_y:.4g} mm/px"
        where = f"x {self.x0}-{self.x1}, y {self.y0}-{self.y1}"
        return f"{self.label + ': ' if self.label else ''}{spacing} ({where})"


@dataclass(frozen=True, slots=True)
class Distance:
    """A measured distance: always pixels; millimetres only when the calibration allows."""

    pixels: float
    mm: float | None
    problem: str | None = None

    def text(self) -> str:
        if self.mm is not None:
            return f"{self.mm:.1f} mm"
        return f"{self.pixels:.0f} px"


@dataclass(frozen=True, slots=True)
class Calibration:
    source: CalibrationSource
    regions: tuple[CalibratedRegion, ...] = ()
    #: Why regions of the file were clamped or not used, for the provenance display.
    notes: tuple[str, ...] = ()
    detail: str = ""
    _by_area: tuple[CalibratedRegion, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Smallest region first, so a nested region wins over the one around it.
        object.__setattr__(self, "_by_area", tuple(sorted(self.regions, key=lambda r: r.area)))

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def none(cls, notes: Iterable[str] = ()) -> Calibration:
        return cls(CalibrationSource.NONE, (), tuple(notes))

    @classmethod
    def uniform(
        cls,
        rows: int,
        columns: int,
        mm_per_px_x: float,
        mm_per_px_y: float,
        source: CalibrationSource,
        detail: str = "",
    ) -> Calibration:
        """One spacing over the whole image (PixelSpacing, or a manual calibration)."""
        if not (_positive(mm_per_px_x) and _positive(mm_per_px_y)):
            reason = f"{source.value}: spacing {mm_per_px_x}, {mm_per_px_y} is not usable"
            return cls.none((reason,))
        region = CalibratedRegion(0, 0, columns - 1, rows - 1, mm_per_px_x, mm_per_px_y)
        return cls(source, (region,), (), detail)

    @classmethod
    def manual(cls, a: Point, b: Point, mm: float, rows: int, columns: int) -> Calibration:
        """The clinician clicked two ticks of the depth scale, `mm` apart (isotropic pixels)."""
        px = pixel_distance(a, b)
        if px <= 0 or not _positive(mm):
            raise ValueError("a manual calibration needs two distinct points and a distance > 0")
        spacing = mm / px
        detail = f"{mm:g} mm over {px:.1f} px"
        return cls.uniform(rows, columns, spacing, spacing, CalibrationSource.MANUAL, detail)

    @classmethod
    def from_ultrasound_regions(
        cls, regions: Iterable[UltrasoundRegion], rows: int, columns: int
    ) -> Calibration:
        """Calibration from the Sequence of Ultrasound Regions of an image of rows x columns.

        Only 2D regions whose both axes are in centimetres count; a region partly outside the
        image is clamped to it, one wholly outside or with an unusable spacing is rejected.
        """
        kept: list[CalibratedRegion] = []
        notes: list[str] = []
        for n, r in enumerate(regions, start=1):
            label = f"region {n}"
            if r.spatial_format != SPATIAL_FORMAT_2D:
                continue  # M-mode, Doppler and waveform axes are not distances
            if r.units_x != RegionUnits.CM or r.units_y != RegionUnits.CM:
                notes.append(
                    f"{label}: units {_unit_name(r.units_x)}/{_unit_name(r.units_y)} "
                    "are not centimetres, not used"
                )
                continue
            if not (_positive(r.delta_x) and _positive(r.delta_y)):
                notes.append(f"{label}: spacing {r.delta_x}, {r.delta_y} cm is not usable")
                continue
            if r.min_x0 > r.max_x1 or r.min_y0 > r.max_y1:
                notes.append(f"{label}: bounds are inverted, not used")
                continue
            x0, y0 = max(r.min_x0, 0), max(r.min_y0, 0)
            x1, y1 = min(r.max_x1, columns - 1), min(r.max_y1, rows - 1)
            if x0 > x1 or y0 > y1:
                notes.append(
                    f"{label}: lies outside the {columns}x{rows} image "
                    f"(x {r.min_x0}-{r.max_x1}, y {r.min_y0}-{r.max_y1}), not used"
                )
                continue
            if (x0, y0, x1, y1) != (r.min_x0, r.min_y0, r.max_x1, r.max_y1):
                notes.append(
                    f"{label}: extends past the {columns}x{rows} image "
                    f"(x {r.min_x0}-{r.max_x1}, y {r.min_y0}-{r.max_y1}), clamped"
                )
            kept.append(
                CalibratedRegion(
                    x0, y0, x1, y1, 10.0 * r.delta_x, 10.0 * r.delta_y, label, _depth_zero(r)
                )
            )
        if not kept:
            return cls.none(notes or ("no 2D region with distances in centimetres",))
        return cls(CalibrationSource.ULTRASOUND_REGIONS, tuple(kept), tuple(notes))

    # -- use ------------------------------------------------------------------------------
    @property
    def is_calibrated(self) -> bool:
        return bool(self.regions)

    def region_at(self, p: Point) -> CalibratedRegion | None:
        for region in self._by_area:
            if region.contains(p):
                return region
        return None

    def measure(self, a: Point, b: Point) -> Distance:
        px = pixel_distance(a, b)
        if not self.regions:
            return Distance(px, None, "image not calibrated")
        ra, rb = self.region_at(a), self.region_at(b)
        if ra is None or rb is None:
            return Distance(px, None, "an end lies outside the calibrated regions")
        if ra is not rb and not ra.same_spacing(rb):
            return Distance(px, None, "ends lie in regions of different spacing")
        mm = math.hypot((b.x - a.x) * ra.mm_per_px_x, (b.y - a.y) * ra.mm_per_px_y)
        return Distance(px, mm)

    def mm_at(self, p: Point) -> tuple[float, float] | None:
        """Millimetres of p across from its region's left edge and down from depth zero."""
        region = self.region_at(p)
        if region is None:
            return None
        depth = (p.y - region.depth_origin_y) * region.mm_per_px_y
        return (p.x - region.x0) * region.mm_per_px_x, depth

    def provenance(self) -> str:
        """One line for the clinician: where the millimetres come from, or why there are none."""
        if not self.regions:
            why = "; ".join(self.notes)
            return "Not calibrated" + (f" ({why})" if why else "")
        if len(self.regions) == 1:
            body = self.regions[0].describe()
        else:
            body = f"{len(self.regions)} regions"
        text = f"{self.source.value}: {body}"
        if self.detail:
            text += f", {self.detail}"
        return text

    def describe_lines(self) -> list[str]:
        """Every region and note, for the metadata panel and `info`."""
        lines = [self.provenance()]
        if len(self.regions) > 1:
            lines += [f"  {r.describe()}" for r in self.regions]
        if self.regions:
            lines += [f"  note: {n}" for n in self.notes]
        return lines


def _depth_zero(r: UltrasoundRegion) -> float | None:
    """The image row of depth zero: ReferencePixelY0 is where ReferencePhysicalLocationY0 lies."""
    if r.reference_pixel_y0 is None or not math.isfinite(r.reference_pixel_y0):
        return None
    physical_cm = r.reference_physical_y0 or 0.0
    if not math.isfinite(physical_cm):
        return None
    zero = r.min_y0 + r.reference_pixel_y0 - physical_cm / r.delta_y
    # A reference far outside the region is a vendor's oddity, not a depth origin to trust.
    return zero if r.min_y0 <= zero <= r.max_y1 else None


def _positive(v: float) -> bool:
    return isinstance(v, int | float) and math.isfinite(v) and v > 0


def _unit_name(code: int) -> str:
    try:
        return RegionUnits(code).name.lower()
    except ValueError:
        return f"code {code}"
