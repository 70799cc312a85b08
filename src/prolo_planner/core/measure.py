"""Measurements derived from a plan: path lengths, depths, angles and clearances, in mm.

Everything is computed afresh from the pixels and the image's calibration in force, as data. A
measurement is made in millimetres only when all of its points lie in one region's space (a
needle entry beside the probe borrows its target's region); then the pixels are scaled to
millimetres first, so angles and distances are right on images whose pixels are not square.
Otherwise it comes in pixels, with the calibration's reason. Depth runs along the beam
(core/probe.py) and is never negative: a target above the skin gets a NoValue with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from prolo_planner.core.calibration import CalibratedRegion, Calibration
from prolo_planner.core.geometry import (
    Point,
    angle_between,
    pixel_distance,
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
    ProbeShape,
    Target,
    ZoneShape,
)
from prolo_planner.core.probe import ProbeGeometry

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
class NoValue:
    """A measurement that has no number, and why (a target above the skin line, or outside
    every region): shown as a warning, never as a value."""

    name: str
    reason: str
    above: bool = False  # the point lies above the face or the skin line

    def text(self) -> str:
        return "above the skin" if self.above else "no depth"


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
    length: Measurement  # the whole path, skin entry to target
    depth: Measurement | None  # of the path's target below the skin (None: see no_depth)
    angle_deg: Measurement | None  # None when the path has no length
    zone_distances: tuple[ZoneDistance, ...] = ()
    #: Signed mm of the entry below the skin (negative above it); None without millimetres.
    entry_depth_mm: float | None = None

    @property
    def entry_below_skin(self) -> bool:
        return self.entry_depth_mm is not None and self.entry_depth_mm > ENTRY_ON_SKIN_MM

    def zone(self, zone_id: str) -> ZoneDistance | None:
        return next((z for z in self.zone_distances if z.zone_id == zone_id), None)


@dataclass(frozen=True, slots=True)
class PlanMeasurements:
    """Every derived measurement of a plan, looked up by annotation id."""

    paths: Mapping[str, PathGeometry]
    target_depths: Mapping[str, Measurement]
    calipers: Mapping[str, Measurement]
    angles: Mapping[str, Measurement]
    #: Targets with no depth to give, and why (above the skin line, outside the regions).
    no_depth: Mapping[str, NoValue] = field(default_factory=lambda: MappingProxyType({}))

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
#: A needle entry deeper than this below the skin (or the face) is flagged: the path then
#: starts inside the tissue and understates the needle length.
ENTRY_ON_SKIN_MM = 1.0

#: Spacing of pixel space, for measurements that have no millimetres.
PIXELS: Spacing = (1.0, 1.0)


def common_spacing(calibration: Calibration, points: Iterable[Point]) -> Spacing | str:
    """The spacing every point shares (all in one region's space), or the reason there is none."""
    region = calibration.region_of(points)
    return region if isinstance(region, str) else region.spacing


def to_mm(p: Point, spacing: Spacing) -> Point:
    """A pixel point scaled to millimetres (origin at the image's top-left corner)."""
    return Point(p.x * spacing[0], p.y * spacing[1])


def _probe(region: CalibratedRegion | str) -> ProbeGeometry:
    if isinstance(region, str) or region.probe is None:
        return ProbeGeometry(ProbeShape.LINEAR, 0.0, 0.0, 0.0)  # beams straight down
    return region.probe


def skin_entry(entry: Point, end: Point, calibration: Calibration) -> Point:
    """The needle entry moved straight down onto the skin when it lies above it (dropped in
    the banner, or in the air beside the probe's end); else unchanged."""
    region = calibration.region_of_path(entry, end)
    if isinstance(region, str):
        return entry
    surface = _probe(region).surface_y(entry.x, region.spacing, calibration.skin_line)
    if surface is None or entry.y >= surface:
        return entry
    return Point(entry.x, surface)


# -- one measurement at a time --------------------------------------------------------------
def path_length(entry: Point, end: Point, calibration: Calibration) -> Measurement:
    """The whole path from skin entry to target, the entry possibly beside the probe."""
    name = "needle path length"
    region = calibration.region_of_path(entry, end)
    if isinstance(region, str):
        return Measurement(name, pixel_distance(entry, end), Units.PX, region)
    sx, sy = region.spacing
    return Measurement(name, math.hypot((end.x - entry.x) * sx, (end.y - entry.y) * sy), Units.MM)


def target_depth(position: Point, calibration: Calibration) -> Measurement | NoValue:
    """Depth along the beam below the clinician's skin line, else below the transducer face.

    Depth zero is the skin line when drawn, else the face: the clinician's 0 tick, the file's
    reference pixel, the face found in the image, or (a guess) the region's top; never the
    image's top edge with its banner. A point above it gets no number, only the reason.
    """
    name = "target depth"
    depth = calibration.depth(position)
    if depth.value is None:
        reason = (depth.problem or "no depth").replace("the point", "the target")
        return NoValue(name, reason, depth.above)
    if depth.mm:
        return Measurement(name, depth.value, Units.MM)
    return Measurement(name, depth.value, Units.PX, depth.problem)


def needle_angle(entry: Point, end: Point, calibration: Calibration) -> Measurement | None:
    """Angle in degrees (0 to 90) between the path and the transducer face where the beam
    through the target meets it: 90 degrees minus the angle between needle and beam, which
    decides how well the needle reflects. None for a path of no length."""
    if entry == end:
        return None
    name = "needle angle to transducer face"
    region = calibration.region_of_path(entry, end)
    problem = region if isinstance(region, str) else None
    spacing = PIXELS if isinstance(region, str) else region.spacing
    beam = _probe(region).beam(end, spacing)
    needle = ((end.x - entry.x) * spacing[0], (end.y - entry.y) * spacing[1])
    to_beam = angle_between(needle, beam)
    to_beam = min(to_beam, 180.0 - to_beam)
    return Measurement(name, 90.0 - to_beam, Units.DEGREES, problem)


def entry_depth(entry: Point, end: Point, calibration: Calibration) -> float | None:
    """How far (mm) the needle entry lies below the skin line, or below the body surface the
    face presses when none is drawn (negative above it); None without millimetres."""
    region = calibration.region_of_path(entry, end)
    if isinstance(region, str):
        return None
    probe, spacing = _probe(region), region.spacing
    if calibration.skin_line is not None:
        return probe.skin_depth(entry, calibration.skin_line, spacing)
    return probe.surface_depth(entry, spacing)


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
    region = calibration.region_of_path(entry, end, _zone_extent(zone))
    name = zone.name or zone.kind.value
    if isinstance(region, str):
        return ZoneDistance(zone.id, name, None, crosses, px, region)
    mm = 0.0 if crosses else _zone_distance_in(entry, end, zone, region.spacing)
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


def measure_image(
    plan: Plan,
    image_id: str,
    calibration: Calibration,
    paths_memo: dict[str, tuple[tuple[object, ...], PathGeometry]] | None = None,
) -> PlanMeasurements:
    """The measurements of one image's annotations with that image's calibration in force
    (core/image_calibration.calibration_in_force: spacing, probe geometry and skin line).

    `paths_memo` (MeasureMemo's, for this image and calibration) keeps each path's geometry
    with the path, target and zones it was measured from: a path none of them changed for is
    not measured again (its clearance to every zone is the costly part)."""
    _require_in_force(plan, image_id, calibration)
    on_image = [a for a in plan.annotations if a.image_id == image_id]
    zones = [a for a in on_image if isinstance(a, AvoidZone) and zone_is_measurable(a)]
    depths: dict[str, Measurement] = {}
    no_depth: dict[str, NoValue] = {}
    paths: dict[str, PathGeometry] = {}
    calipers: dict[str, Measurement] = {}
    angles: dict[str, Measurement] = {}
    for a in on_image:
        if isinstance(a, Target) and a.position is not None:
            depth = target_depth(a.position, calibration)
            if isinstance(depth, NoValue):
                no_depth[a.id] = depth
            else:
                depths[a.id] = depth
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
        inputs = (a, target, *zones)
        known = paths_memo.get(a.id) if paths_memo is not None else None
        if (
            known is not None
            and len(known[0]) == len(inputs)
            and all(x is y for x, y in zip(known[0], inputs, strict=True))
        ):
            paths[a.id] = known[1]
            continue
        paths[a.id] = PathGeometry(
            path_id=a.id,
            target_id=target.id,
            length=path_length(a.entry, end, calibration),
            depth=depths.get(target.id),
            angle_deg=needle_angle(a.entry, end, calibration),
            zone_distances=tuple(
                zone_distance(a.entry, end, z, calibration) for z in zones if share_frames(a, z)
            ),
            entry_depth_mm=entry_depth(a.entry, end, calibration),
        )
        if paths_memo is not None:
            paths_memo[a.id] = (inputs, paths[a.id])
    return PlanMeasurements(
        MappingProxyType(paths),
        MappingProxyType(depths),
        MappingProxyType(calipers),
        MappingProxyType(angles),
        MappingProxyType(no_depth),
    )


def _require_in_force(plan: Plan, image_id: str, calibration: Calibration) -> None:
    """A calibration without the image's skin line is not the one in force: measuring with it
    would silently ignore the clinician's depth zero."""
    try:
        drawn = plan.image(image_id).skin_line
    except KeyError:
        return
    if drawn is not None and drawn[0] != drawn[1] and calibration.skin_line != drawn:
        raise ValueError(
            f"image {image_id}: the calibration given is not the one in force (its skin line "
            "is missing); make it with image_calibration.calibration_in_force"
        )


class MeasureMemo:
    """Each image's measurements from the last pass, kept by a view across edits: an image whose
    annotations (the very objects: the plan's values never change in place), the targets its
    paths end at, its record in the plan and its calibration are all as they were is not
    measured again. An edit touches one image; a plan of 500 marks over five images then
    measures one fifth of them."""

    def __init__(self) -> None:
        self._images: dict[str, tuple[tuple[object, ...], Calibration, PlanMeasurements]] = {}
        #: Per image: the calibration its paths were measured with, and each path's geometry.
        self._paths: dict[
            str, tuple[Calibration, dict[str, tuple[tuple[object, ...], PathGeometry]]]
        ] = {}

    def measure(
        self,
        plan: Plan,
        image_id: str,
        calibration: Calibration,
        on_image: list[Annotation] | None = None,
    ) -> PlanMeasurements:
        if on_image is None:
            on_image = [a for a in plan.annotations if a.image_id == image_id]
        ends = [plan.find(a.target_id) for a in on_image if isinstance(a, NeedlePath)]
        image = next((im for im in plan.images if im.id == image_id), None)
        inputs = (image, *on_image, *ends)
        known = self._images.get(image_id)
        if (
            known is not None
            and len(known[0]) == len(inputs)
            and all(a is b for a, b in zip(known[0], inputs, strict=True))
            and known[1] == calibration
        ):
            return known[2]
        kept = self._paths.get(image_id)
        if kept is None or kept[0] != calibration:
            kept = self._paths[image_id] = (calibration, {})
        found = measure_image(plan, image_id, calibration, kept[1])
        self._images[image_id] = (inputs, calibration, found)
        return found


def measure_plan(
    plan: Plan, calibrations: Mapping[str, Calibration], memo: MeasureMemo | None = None
) -> PlanMeasurements:
    """Every image's measurements; an image missing from `calibrations` counts as uncalibrated.

    `calibrations` maps an ImagePlan id to the calibration in force (calibration_in_force).
    `memo` (a view's, kept across edits) measures again only the images that changed.
    """
    paths: dict[str, PathGeometry] = {}
    depths: dict[str, Measurement] = {}
    no_depth: dict[str, NoValue] = {}
    calipers: dict[str, Measurement] = {}
    angles: dict[str, Measurement] = {}
    image_ids = dict.fromkeys(
        [im.id for im in plan.images] + [a.image_id for a in plan.annotations]
    )
    by_image: dict[str, list[Annotation]] = {}
    for a in plan.annotations:  # once, not once per image
        by_image.setdefault(a.image_id, []).append(a)
    for image_id in image_ids:
        calibration = calibrations.get(image_id)
        if calibration is None:
            calibration = Calibration.none(("no calibration known for this image",))
        one = (
            memo.measure(plan, image_id, calibration, by_image.get(image_id, []))
            if memo is not None
            else measure_image(plan, image_id, calibration)
        )
        paths.update(one.paths)
        depths.update(one.target_depths)
        no_depth.update(one.no_depth)
        calipers.update(one.calipers)
        angles.update(one.angles)
    return PlanMeasurements(
        MappingProxyType(paths),
        MappingProxyType(depths),
        MappingProxyType(calipers),
        MappingProxyType(angles),
        MappingProxyType(no_depth),
    )
