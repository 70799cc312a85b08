"""Measurements derived from a plan: path lengths, depths, angles and clearances, in mm.

Everything is computed afresh from the pixels and the image's calibration, as data. A
measurement is made in millimetres only when all of its points lie in calibrated regions of one
spacing; then the pixels are scaled to millimetres first, so angles and distances are right on
images whose pixels are not square. Otherwise it comes in pixels, with the calibration's reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from prolo_planner.core.calibration import SPACING_TOLERANCE, Calibration
from prolo_planner.core.geometry import (
    Point,
    angle_between,
    point_line_distance,
    segment_crosses_ellipse,
    segment_crosses_polygon,
    segment_ellipse_distance,
    segment_polygon_distance,
)
from prolo_planner.core.plan import (
    AngleMeasurement,
    Annotation,
    AvoidZone,
    Caliper,
    NeedlePath,
    Plan,
    Target,
    ZoneShape,
)

SkinLine = tuple[Point, Point]
Spacing = tuple[float, float]  # mm per pixel across (x) and down (y)


class Units(StrEnum):
    MM = "mm"
    PX = "px"
    DEGREES = "deg"


@dataclass(frozen=True, slots=True)
class Measurement:
    """One derived value, like 3D Slicer's {name, value, units}; `problem` says why not in mm."""

    name: str
    value: float
    units: Units
    problem: str | None = None

    def text(self) -> str:
        if self.units is Units.DEGREES:
            return f"{self.value:.0f}°"
        if self.units is Units.MM:
            return f"{self.value:.1f} mm"
        return f"{self.value:.0f} px"


@dataclass(frozen=True, slots=True)
class ZoneDistance:
    """How close a needle path comes to one avoid zone; 0 when it touches or crosses it."""

    zone_id: str
    zone_name: str
    distance_mm: float | None
    crosses: bool
    distance_px: float = 0.0
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class PathGeometry:
    path_id: str
    target_id: str
    length: Measurement
    depth: Measurement  # of the path's target below the skin
    angle_deg: Measurement | None  # None when the path has no length
    zone_distances: tuple[ZoneDistance, ...] = ()

    def zone(self, zone_id: str) -> ZoneDistance | None:
        return next((z for z in self.zone_distances if z.zone_id == zone_id), None)


@dataclass(frozen=True, slots=True)
class PlanMeasurements:
    """Every derived measurement of a plan, looked up by annotation id."""

    paths: Mapping[str, PathGeometry]
    target_depths: Mapping[str, Measurement]
    calipers: Mapping[str, Measurement]
    angles: Mapping[str, Measurement]

    def path(self, path_id: str) -> PathGeometry | None:
        return self.paths.get(path_id)

    def of(self, annotation_id: str) -> tuple[Measurement, ...]:
        """The measurements shown for one annotation, for the property editor and labels."""
        if (geometry := self.paths.get(annotation_id)) is not None:
            return tuple(
                m for m in (geometry.length, geometry.depth, geometry.angle_deg) if m is not None
            )
        for table in (self.target_depths, self.calipers, self.angles):
            if (m := table.get(annotation_id)) is not None:
                return (m,)
        return ()


# -- millimetre space -----------------------------------------------------------------------
def common_spacing(calibration: Calibration, points: Iterable[Point]) -> Spacing | str:
    """The spacing every point shares, or the calibration's reason why there is none."""
    pts = list(points)
    if not pts:
        raise ValueError("a measurement needs at least one point")
    first = pts[0]
    for p in pts:
        # Calibration.measure holds the one rule for when two points share millimetres.
        problem = calibration.measure(first, p).problem
        if problem is not None:
            return problem
    region = calibration.region_at(first)
    assert region is not None  # measure() found no problem, so first lies in a region
    return region.mm_per_px_x, region.mm_per_px_y


def to_mm(p: Point, spacing: Spacing) -> Point:
    """A pixel point scaled to millimetres (origin at the image's top-left corner)."""
    return Point(p.x * spacing[0], p.y * spacing[1])


def _skin_problem(calibration: Calibration, skin: SkinLine, spacing: Spacing) -> str | None:
    # The skin lies on the transducer face, the top edge of the region, so a skin line drawn a
    # pixel or two above it (in no region) is read with the region's spacing; only a region of
    # another spacing (the other half of a dual view) makes it unusable.
    for p in skin:
        region = calibration.region_at(p)
        if region is not None and not (
            math.isclose(region.mm_per_px_x, spacing[0], rel_tol=SPACING_TOLERANCE)
            and math.isclose(region.mm_per_px_y, spacing[1], rel_tol=SPACING_TOLERANCE)
        ):
            return "skin line and target lie in regions of different spacing"
    return None


def _usable_skin(skin: SkinLine | None) -> SkinLine | None:
    # A skin line of two equal points has no direction: read as not drawn.
    return skin if skin is not None and skin[0] != skin[1] else None


# -- one measurement at a time --------------------------------------------------------------
def path_length(entry: Point, end: Point, calibration: Calibration) -> Measurement:
    d = calibration.measure(entry, end)
    if d.mm is not None:
        return Measurement("needle path length", d.mm, Units.MM)
    return Measurement("needle path length", d.pixels, Units.PX, d.problem)


def target_depth(
    position: Point, calibration: Calibration, skin_line: SkinLine | None = None
) -> Measurement:
    """Depth below the clinician's skin line, else below the transducer face.

    Ultrasound depth zero is the transducer face: the region's reference row when the file gives
    one (ReferencePixelY0: a convex probe's sector starts below its region's top), else the top
    row of the calibrated region holding the target; never the image's top edge with its banner.
    """
    name = "target depth"
    skin = _usable_skin(skin_line)
    spacing = common_spacing(calibration, [position])
    problem = None
    if isinstance(spacing, str):
        problem = (
            spacing
            if not calibration.is_calibrated
            else "the target lies outside the calibrated regions"
        )
    if skin is not None:
        if isinstance(spacing, tuple):
            problem = _skin_problem(calibration, skin, spacing)
            if problem is None:
                mm = point_line_distance(
                    to_mm(position, spacing), to_mm(skin[0], spacing), to_mm(skin[1], spacing)
                )
                return Measurement(name, mm, Units.MM)
        return Measurement(name, point_line_distance(position, *skin), Units.PX, problem)
    region = calibration.region_at(position)
    if region is not None and problem is None:
        depth_px = position.y - region.depth_origin_y
        return Measurement(name, depth_px * region.mm_per_px_y, Units.MM)
    # No millimetres: pixels below the image's top edge.
    return Measurement(name, max(0.0, position.y), Units.PX, problem)


def needle_angle(
    entry: Point, end: Point, calibration: Calibration, skin_line: SkinLine | None = None
) -> Measurement | None:
    """Angle in degrees (0 to 90) between the path and the transducer face.

    The face is the skin line when drawn, else the image's horizontal. None for a path of no
    length, whose direction is undefined.
    """
    if entry == end:
        return None
    name = "needle angle to transducer face"
    skin = _usable_skin(skin_line)
    face_a, face_b = skin if skin is not None else (Point(0.0, 0.0), Point(1.0, 0.0))
    spacing = common_spacing(calibration, [entry, end])
    problem = spacing if isinstance(spacing, str) else None
    if isinstance(spacing, tuple) and skin is not None:
        problem = _skin_problem(calibration, skin, spacing)
    if isinstance(spacing, tuple) and problem is None:
        entry, end = to_mm(entry, spacing), to_mm(end, spacing)
        face_a, face_b = to_mm(face_a, spacing), to_mm(face_b, spacing)
    angle = angle_between(
        (end.x - entry.x, end.y - entry.y), (face_b.x - face_a.x, face_b.y - face_a.y)
    )
    return Measurement(name, min(angle, 180.0 - angle), Units.DEGREES, problem)


def _zone_extent(zone: AvoidZone) -> tuple[Point, ...]:
    """The points that must be calibrated for a distance to the zone to be in mm."""
    if zone.shape is ZoneShape.ELLIPSE:
        (a, b) = zone.points
        cx, cy = (a.x + b.x) / 2, (a.y + b.y) / 2
        # The ellipse touches its box at these four points, so they bound it.
        return (Point(a.x, cy), Point(b.x, cy), Point(cx, a.y), Point(cx, b.y))
    return zone.points


def _zone_distance_in(entry: Point, end: Point, zone: AvoidZone, scale: Spacing) -> float:
    a, b = to_mm(entry, scale), to_mm(end, scale)
    pts = tuple(to_mm(p, scale) for p in zone.points)
    if zone.shape is ZoneShape.ELLIPSE:
        return segment_ellipse_distance(a, b, pts[0], pts[1])
    return segment_polygon_distance(a, b, pts)


def zone_is_measurable(zone: AvoidZone) -> bool:
    if zone.shape is ZoneShape.ELLIPSE:
        return len(zone.points) == 2
    return len(zone.points) >= 1


def zone_distance(
    entry: Point, end: Point, zone: AvoidZone, calibration: Calibration
) -> ZoneDistance:
    """Closest approach of the path entry-end to the zone; crossing is exact in any space."""
    if not zone_is_measurable(zone):
        raise ValueError(f"avoid zone {zone.id} has too few points")
    if zone.shape is ZoneShape.ELLIPSE:
        crosses = segment_crosses_ellipse(entry, end, zone.points[0], zone.points[1])
    else:
        crosses = segment_crosses_polygon(entry, end, zone.points)
    # Scaling keeps which points touch, so crossing is decided once, in pixels.
    px = 0.0 if crosses else _zone_distance_in(entry, end, zone, (1.0, 1.0))
    spacing = common_spacing(calibration, [entry, end, *_zone_extent(zone)])
    name = zone.name or zone.kind.value
    if isinstance(spacing, str):
        return ZoneDistance(zone.id, name, None, crosses, px, spacing)
    mm = 0.0 if crosses else _zone_distance_in(entry, end, zone, spacing)
    return ZoneDistance(zone.id, name, mm, crosses, px)


def caliper_distance(caliper: Caliper, calibration: Calibration) -> Measurement:
    d = calibration.measure(caliper.a, caliper.b)
    if d.mm is not None:
        return Measurement("caliper distance", d.mm, Units.MM)
    return Measurement("caliper distance", d.pixels, Units.PX, d.problem)


def angle_measurement(angle: AngleMeasurement, calibration: Calibration) -> Measurement | None:
    """The angle at the vertex in degrees (0 to 180); None while a ray has no length."""
    vertex, a, b = angle.vertex, angle.a, angle.b
    if a == vertex or b == vertex:
        return None
    spacing = common_spacing(calibration, [vertex, a, b])
    problem = spacing if isinstance(spacing, str) else None
    if isinstance(spacing, tuple):
        vertex, a, b = to_mm(vertex, spacing), to_mm(a, spacing), to_mm(b, spacing)
    value = angle_between((a.x - vertex.x, a.y - vertex.y), (b.x - vertex.x, b.y - vertex.y))
    return Measurement("angle", value, Units.DEGREES, problem)


# -- a whole plan ---------------------------------------------------------------------------
def share_frames(a: Annotation, b: Annotation) -> bool:
    """Whether two annotations of one image are ever shown on the same frame."""
    return a.frame is None or b.frame is None or a.frame == b.frame


def measure_image(plan: Plan, image_id: str, calibration: Calibration) -> PlanMeasurements:
    """The measurements of one image's annotations with that image's calibration."""
    try:
        skin = plan.image(image_id).skin_line
    except KeyError:
        skin = None
    on_image = [a for a in plan.annotations if a.image_id == image_id]
    zones = [a for a in on_image if isinstance(a, AvoidZone) and zone_is_measurable(a)]
    depths: dict[str, Measurement] = {}
    paths: dict[str, PathGeometry] = {}
    calipers: dict[str, Measurement] = {}
    angles: dict[str, Measurement] = {}
    for a in on_image:
        if isinstance(a, Target) and a.position is not None:
            depths[a.id] = target_depth(a.position, calibration, skin)
        elif isinstance(a, Caliper):
            calipers[a.id] = caliper_distance(a, calibration)
        elif isinstance(a, AngleMeasurement) and (m := angle_measurement(a, calibration)):
            angles[a.id] = m
    for a in on_image:
        if not isinstance(a, NeedlePath):
            continue
        target = plan.find(a.target_id)
        # A path ends at its target, which must be placed on the same image to measure it.
        if not isinstance(target, Target) or target.image_id != image_id or target.position is None:
            continue
        end = target.position
        paths[a.id] = PathGeometry(
            path_id=a.id,
            target_id=target.id,
            length=path_length(a.entry, end, calibration),
            depth=depths[target.id],
            angle_deg=needle_angle(a.entry, end, calibration, skin),
            zone_distances=tuple(
                zone_distance(a.entry, end, z, calibration) for z in zones if share_frames(a, z)
            ),
        )
    return PlanMeasurements(
        MappingProxyType(paths),
        MappingProxyType(depths),
        MappingProxyType(calipers),
        MappingProxyType(angles),
    )


def measure_plan(plan: Plan, calibrations: Mapping[str, Calibration]) -> PlanMeasurements:
    """Every image's measurements; an image missing from `calibrations` counts as uncalibrated.

    `calibrations` maps an ImagePlan id to the calibration in force (the file's, or the
    clinician's manual one).
    """
    paths: dict[str, PathGeometry] = {}
    depths: dict[str, Measurement] = {}
    calipers: dict[str, Measurement] = {}
    angles: dict[str, Measurement] = {}
    image_ids = dict.fromkeys(
        [im.id for im in plan.images] + [a.image_id for a in plan.annotations]
    )
    for image_id in image_ids:
        calibration = calibrations.get(image_id)
        if calibration is None:
            calibration = Calibration.none(("no calibration known for this image",))
        one = measure_image(plan, image_id, calibration)
        paths.update(one.paths)
        depths.update(one.target_depths)
        calipers.update(one.calipers)
        angles.update(one.angles)
    return PlanMeasurements(
        MappingProxyType(paths),
        MappingProxyType(depths),
        MappingProxyType(calipers),
        MappingProxyType(angles),
    )
