"""Pixel-to-millimetre calibration of an image, with where it came from.

Ultrasound DICOM carries calibration per region (Sequence of Ultrasound Regions); other
modalities carry PixelSpacing; videos and frame grabs are calibrated by the clinician.
Each region is its own patient space: a distance gets millimetres only when both ends lie in
one space (a region, with any region nested in it at the same spacing), never across the two
halves of a dual view, whatever their spacing. The calibration in force for an image (the
file's or the clinician's, with the probe geometry and skin line) is made by
core/image_calibration.py; depth along the beam is core/probe.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from prolo_planner.core.geometry import Point, pixel_distance, segment_crosses_polygon
from prolo_planner.core.plan import ProbeShape
from prolo_planner.core.probe import ON_SURFACE, Origin, ProbeGeometry, SkinLine

#: Relative tolerance under which two spacings count as the same.
SPACING_TOLERANCE = 1e-6
#: Millimetres per pixel any image of a body can have: from 1 micrometre (biomicroscopy at
#: 50 MHz resolves tens) to 10 mm (a whole-body overview). Outside it a spacing is a damaged
#: or hostile header, e.g. a region spacing of 1e300 cm, and gives no millimetres.
PLAUSIBLE_MM_PER_PX = (0.001, 10.0)


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
    #: ReferencePixelX0/Y0 (0018,6020/6022), relative to the region's top-left corner; with
    #: ReferencePixelPhysicalValueY (0018,602A, in the region's units) they place depth zero,
    #: the transducer face, on the probe's centre beam.
    reference_pixel_y0: float | None = None
    reference_physical_y0: float | None = None
    reference_pixel_x0: float | None = None


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
    #: Image row (fractional) where ultrasound depth is zero, when the file says (its reference
    #: pixel and physical value). A convex probe's sector starts below its region's top.
    depth_zero_y: float | None = None
    #: Image column of the file's reference pixel: the centre beam of a convex probe.
    reference_x: float | None = None
    #: The probe geometry in force (core/image_calibration.py sets it); None in a file's own
    #: calibration before it is resolved.
    probe: ProbeGeometry | None = None

    def contains(self, p: Point) -> bool:
        return self.x0 <= p.x < self.x1 + 1 and self.y0 <= p.y < self.y1 + 1

    @property
    def area(self) -> int:
        return (self.x1 - self.x0 + 1) * (self.y1 - self.y0 + 1)

    @property
    def depth_origin_y(self) -> float:
        """The row of depth zero on the centre beam: the geometry's, else the file's, else the
        region's top."""
        if self.probe is not None:
            return self.probe.zero_y
        return self.y0 if self.depth_zero_y is None else self.depth_zero_y

    @property
    def spacing(self) -> tuple[float, float]:
        return self.mm_per_px_x, self.mm_per_px_y

    def encloses(self, other: CalibratedRegion) -> bool:
        return (
            self.x0 <= other.x0
            and self.y0 <= other.y0
            and other.x1 <= self.x1
            and other.y1 <= self.y1
        )

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


#: Why no millimetres between two points of separate regions (DOMAIN.md: two scans).
ACROSS_REGIONS = (
    "the points lie in different regions (separate scans, like the halves of a dual view): "
    "no distance between them is real"
)


@dataclass(frozen=True, slots=True)
class Depth:
    """A point's depth along the beam below depth zero, or why it has none.

    `value` is in mm when `mm` is True, else in pixels (with `problem` saying why no mm);
    None when there is no depth to give (`problem` says why: above the face, outside the
    regions...). `above` marks a point above the face or the skin line: outside the tissue.
    """

    value: float | None
    mm: bool
    problem: str | None = None
    above: bool = False


@dataclass(frozen=True, slots=True)
class Calibration:
    source: CalibrationSource
    regions: tuple[CalibratedRegion, ...] = ()
    #: Why regions of the file were clamped or not used, for the provenance display.
    notes: tuple[str, ...] = ()
    detail: str = ""
    #: TransducerType (0018,6031) as the file gives it ("CURVED LINEAR", "LINEAR", ...).
    transducer_type: str = ""
    #: The clinician's skin line in force: depth zero along each beam where drawn.
    skin_line: SkinLine | None = None
    _by_area: tuple[CalibratedRegion, ...] = field(init=False, repr=False, compare=False)
    _space: dict[CalibratedRegion, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Smallest region first, so a nested region wins over the one around it.
        by_area = tuple(sorted(self.regions, key=lambda r: r.area))
        object.__setattr__(self, "_by_area", by_area)
        object.__setattr__(self, "_space", _spaces(by_area))

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
        if not (_plausible(mm_per_px_x) and _plausible(mm_per_px_y)):
            reason = (
                f"{source.value}: spacing {mm_per_px_x:g} x {mm_per_px_y:g} mm/px is outside "
                f"any image of a body ({_plausible_range()}), not used"
            )
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
            if not (_plausible(10.0 * r.delta_x) and _plausible(10.0 * r.delta_y)):
                notes.append(
                    f"{label}: PhysicalDeltaX/Y {r.delta_x:g} x {r.delta_y:g} cm per pixel is "
                    f"outside any ultrasound image ({_plausible_range()}), not used"
                )
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
                    x0,
                    y0,
                    x1,
                    y1,
                    10.0 * r.delta_x,
                    10.0 * r.delta_y,
                    label,
                    _depth_zero(r),
                    _reference_x(r),
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

    def same_space(self, a: CalibratedRegion, b: CalibratedRegion) -> bool:
        """Whether two regions are one patient space: the same region, or one nested in the
        other at the same spacing (a colour box on its B-mode)."""
        return a is b or a == b or self._space.get(a, -1) == self._space.get(b, -2)

    def region_of(self, points: Iterable[Point]) -> CalibratedRegion | str:
        """The one region (space) all points lie in, or the reason there is none."""
        pts = list(points)
        if not pts:
            raise ValueError("a measurement needs at least one point")
        if not self.regions:
            return "image not calibrated"
        found = [self.region_at(p) for p in pts]
        if any(r is None for r in found):
            return "a point lies outside the calibrated regions"
        first = found[0]
        assert first is not None
        for r in found[1:]:
            assert r is not None
            if not self.same_space(first, r):
                return ACROSS_REGIONS
        return first

    def region_of_path(
        self, entry: Point, end: Point, others: Iterable[Point] = ()
    ) -> CalibratedRegion | str:
        """The region of a needle path (its end, the target, and `others` such as a zone's
        points). The entry may lie outside every region, even outside the image, on the skin
        beside the probe's end: then the path borrows its target's region, provided it passes
        through no region of another space on its way."""
        region = self.region_of([end, *others])
        if isinstance(region, str):
            return region
        at_entry = self.region_at(entry)
        if at_entry is not None:
            return region if self.same_space(region, at_entry) else ACROSS_REGIONS
        for other in self.regions:
            if self.same_space(region, other):
                continue
            box = (
                Point(other.x0, other.y0),
                Point(other.x1 + 1, other.y0),
                Point(other.x1 + 1, other.y1 + 1),
                Point(other.x0, other.y1 + 1),
            )
            if segment_crosses_polygon(entry, end, box):
                return ACROSS_REGIONS
        return region

    def measure(self, a: Point, b: Point) -> Distance:
        px = pixel_distance(a, b)
        region = self.region_of([a, b])
        if isinstance(region, str):
            if region.startswith("a point"):
                region = "an end lies outside the calibrated regions"
            return Distance(px, None, region)
        mm = math.hypot((b.x - a.x) * region.mm_per_px_x, (b.y - a.y) * region.mm_per_px_y)
        return Distance(px, mm)

    def depth(self, p: Point, region: CalibratedRegion | None = None) -> Depth:
        """Depth of p along its beam below the skin line if drawn, else below the face.

        `region` measures a point that lies outside every region (a needle entry beside the
        probe) with that region's spacing and geometry.
        """
        if not self.regions:
            return self._pixel_depth(p)
        region = region or self.region_at(p)
        if region is None:
            return Depth(None, False, "the point lies outside the calibrated regions")
        probe = region.probe or _file_probe(region)
        spacing = region.spacing
        if self.skin_line is not None:
            value = probe.skin_depth(p, self.skin_line, spacing)
            if value is None:
                return Depth(None, False, "the beam through the point never meets the skin line")
            where = "the skin line"
        else:
            value = probe.face_depth(p, spacing)
            where = "the transducer face"
        if value < -ON_SURFACE:
            return Depth(None, False, f"the point lies above {where}: outside the tissue", True)
        return Depth(max(value, 0.0), True)

    def _pixel_depth(self, p: Point) -> Depth:
        # Uncalibrated: pixels straight down from the skin line when drawn, else from the top.
        problem = "image not calibrated"
        if self.skin_line is None:
            return Depth(max(p.y, 0.0), False, problem)
        probe = ProbeGeometry(ProbeShape.LINEAR, 0.0, 0.0, 0.0)
        value = probe.skin_depth(p, self.skin_line, (1.0, 1.0))
        if value is None:
            return Depth(None, False, "the beam through the point never meets the skin line")
        if value < -ON_SURFACE:
            why = "the point lies above the skin line: outside the tissue"
            return Depth(None, False, why, True)
        return Depth(max(value, 0.0), False, problem)

    def mm_at(self, p: Point) -> tuple[float, float] | None:
        """Millimetres of p across from its region's left edge and its depth along the beam
        (None where p lies above the face or the skin line)."""
        region = self.region_at(p)
        if region is None:
            return None
        depth = self.depth(p, region)
        across = (p.x - region.x0) * region.mm_per_px_x
        return across, (depth.value if depth.value is not None and depth.mm else math.nan)

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

    def file_regions_differ(self, file_calibration: Calibration) -> bool:
        """Whether this calibration's spacing is not the file's own (a manual one): the probe
        geometry and skin line in force do not count."""

        def spacing(c: Calibration) -> list[tuple[int, int, int, int, float, float]]:
            return [(r.x0, r.y0, r.x1, r.y1, r.mm_per_px_x, r.mm_per_px_y) for r in c.regions]

        return self.source is not file_calibration.source or spacing(self) != spacing(
            file_calibration
        )

    def describe_lines(self) -> list[str]:
        """Every region and note, for the metadata panel and `info`."""
        lines = [self.provenance()]
        if len(self.regions) > 1:
            lines += [f"  {r.describe()}" for r in self.regions]
        if self.regions:
            lines += [f"  note: {n}" for n in self.notes]
        return lines


def _depth_zero(r: UltrasoundRegion) -> float | None:
    """The image row of depth zero: ReferencePixelY0 is where ReferencePixelPhysicalValueY
    lies, so zero is PhysicalValueY / PhysicalDeltaY rows above it (both in the region's
    units, centimetres here)."""
    if r.reference_pixel_y0 is None or not math.isfinite(r.reference_pixel_y0):
        return None
    physical_cm = r.reference_physical_y0 or 0.0
    if not math.isfinite(physical_cm):
        return None
    zero = r.min_y0 + r.reference_pixel_y0 - physical_cm / r.delta_y
    # A reference far outside the region is a vendor's oddity, not a depth origin to trust.
    return zero if r.min_y0 <= zero <= r.max_y1 else None


def _reference_x(r: UltrasoundRegion) -> float | None:
    """The image column of the reference pixel, when it lies inside the region."""
    if r.reference_pixel_x0 is None or not math.isfinite(r.reference_pixel_x0):
        return None
    x = r.min_x0 + r.reference_pixel_x0
    return x if r.min_x0 <= x <= r.max_x1 else None


def _spaces(by_area: tuple[CalibratedRegion, ...]) -> dict[CalibratedRegion, int]:
    """Number each region's patient space: a region enclosed by a larger one of the same
    spacing shares its space; any other region is a space of its own."""
    space: dict[CalibratedRegion, int] = {}
    for n, region in enumerate(reversed(by_area)):  # largest first
        outer = next(
            (other for other in space if other.encloses(region) and other.same_spacing(region)),
            None,
        )
        space[region] = space[outer] if outer is not None else n
    return space


def _file_probe(region: CalibratedRegion) -> ProbeGeometry:
    """A region not resolved by core/image_calibration: straight down from its depth zero."""
    if region.depth_zero_y is not None:
        return ProbeGeometry(
            ProbeShape.LINEAR,
            region.reference_x if region.reference_x is not None else (region.x0 + region.x1) / 2,
            region.depth_zero_y,
            region.depth_zero_y,
            zero_from=Origin.FILE,
        )
    return ProbeGeometry(ProbeShape.LINEAR, (region.x0 + region.x1) / 2, region.y0, region.y0)


def _positive(v: float) -> bool:
    return isinstance(v, int | float) and math.isfinite(v) and v > 0


def _plausible(mm_per_px: float) -> bool:
    low, high = PLAUSIBLE_MM_PER_PX
    return low <= mm_per_px <= high


def _plausible_range() -> str:
    low, high = PLAUSIBLE_MM_PER_PX
    return f"{low:g} to {high:g} mm per pixel"


def _unit_name(code: int) -> str:
    try:
        return RegionUnits(code).name.lower()
    except ValueError:
        return f"code {code}"
