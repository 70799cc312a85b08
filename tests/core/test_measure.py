"""Distances, angles and clearances of a plan, in mm through the calibration, and their geometry."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prolo_planner.core.calibration import (
    ACROSS_REGIONS,
    Calibration,
    CalibrationSource,
    RegionUnits,
    UltrasoundRegion,
)
from prolo_planner.core.geometry import (
    Point,
    angle_between,
    ellipse_polygon,
    point_ellipse_distance,
    point_in_polygon,
    point_line_distance,
    point_segment_distance,
    segment_crosses_ellipse,
    segment_crosses_polygon,
    segment_ellipse_distance,
    segment_polygon_distance,
    segment_segment_distance,
    segments_intersect,
)
from prolo_planner.core.image_calibration import ImageFacts, calibration_in_force
from prolo_planner.core.measure import (
    Measurement,
    NoValue,
    Units,
    angle_measurement,
    caliper_distance,
    measure_plan,
    needle_angle,
    path_length,
    target_depth,
    zone_distance,
)
from prolo_planner.core.plan import (
    AngleMeasurement,
    AvoidKind,
    AvoidZone,
    Caliper,
    ImagePlan,
    ImageRef,
    NeedlePath,
    Plan,
    Target,
    ZoneShape,
)

P = Point
CM = int(RegionUnits.CM)


def region(x0, y0, x1, y1, mm_x, mm_y) -> UltrasoundRegion:
    """A 2D tissue region with spacing given in mm per pixel (the file stores cm)."""
    return UltrasoundRegion(x0, y0, x1, y1, 1, CM, CM, mm_x / 10, mm_y / 10)


#: A 640x480 scan: a 40-row text banner above one 2D region, 0.1 mm/px across, 0.2 mm/px down.
ANISO = Calibration.from_ultrasound_regions([region(0, 40, 639, 479, 0.1, 0.2)], 480, 640)
#: Square pixels of 0.1 mm over the whole image.
SQUARE = Calibration.uniform(480, 640, 0.1, 0.1, CalibrationSource.PIXEL_SPACING)
#: Dual view: the left half at 0.1 mm/px, the right half at 0.15 mm/px, both below a banner.
DUAL = Calibration.from_ultrasound_regions(
    [region(0, 40, 319, 479, 0.1, 0.1), region(320, 40, 639, 479, 0.15, 0.15)], 480, 640
)
NONE = Calibration.none()


# -- geometry: points and segments -----------------------------------------------------------
def test_point_segment_distance_perpendicular_beyond_an_end_and_degenerate():
    assert point_segment_distance(P(5, 3), P(0, 0), P(10, 0)) == pytest.approx(3.0)
    assert point_segment_distance(P(13, 4), P(0, 0), P(10, 0)) == pytest.approx(5.0)
    assert point_segment_distance(P(3, 4), P(0, 0), P(0, 0)) == pytest.approx(5.0)


def test_point_line_distance_is_perpendicular_past_the_drawn_ends():
    assert point_line_distance(P(50, 7), P(0, 0), P(1, 0)) == pytest.approx(7.0)
    # The line y = x: (4, 0) lies 4 / sqrt(2) from it.
    assert point_line_distance(P(4, 0), P(0, 0), P(1, 1)) == pytest.approx(4 / math.sqrt(2))
    with pytest.raises(ValueError):
        point_line_distance(P(1, 1), P(2, 2), P(2, 2))


@pytest.mark.parametrize(
    ("a", "b", "c", "d", "expected"),
    [
        ((0, 0), (10, 10), (0, 10), (10, 0), True),  # an X
        ((0, 0), (10, 0), (10, 0), (10, 5), True),  # touching at an end
        ((0, 0), (10, 0), (5, 0), (15, 0), True),  # collinear, overlapping
        ((0, 0), (4, 0), (5, 0), (15, 0), False),  # collinear, apart
        ((0, 0), (10, 0), (0, 1), (10, 1), False),  # parallel
        ((0, 0), (10, 0), (5, 1), (5, 8), False),  # a T that stops short
    ],
)
def test_segments_intersect(a, b, c, d, expected):
    assert segments_intersect(P(*a), P(*b), P(*c), P(*d)) is expected
    assert segments_intersect(P(*c), P(*d), P(*a), P(*b)) is expected


def test_segment_segment_distance_known_values():
    assert segment_segment_distance(P(0, 0), P(10, 0), P(5, 1), P(5, 8)) == pytest.approx(1.0)
    assert segment_segment_distance(P(0, 0), P(4, 0), P(7, 4), P(20, 4)) == pytest.approx(5.0)
    assert segment_segment_distance(P(0, 0), P(10, 10), P(0, 10), P(10, 0)) == 0.0


# Sub-pixel positions as the viewer produces them (hundredths of a pixel), not subnormal floats.
coord = st.integers(-5000, 5000).map(lambda n: n / 100)
points = st.builds(Point, coord, coord)
grid = st.integers(-20, 20)
grid_points = st.builds(Point, grid, grid)


def _sampled_distance(a, b, c, d, n=400):
    """The closest sampled point of a-b to segment c-d: an upper bound near the true distance."""
    return min(
        point_segment_distance(P(a.x + (b.x - a.x) * k / n, a.y + (b.y - a.y) * k / n), c, d)
        for k in range(n + 1)
    )


@settings(max_examples=200, deadline=None)
@given(points, points, points, points)
def test_segment_distance_is_symmetric_non_negative_and_matches_sampling(a, b, c, d):
    dist = segment_segment_distance(a, b, c, d)
    assert dist >= 0
    assert dist == pytest.approx(segment_segment_distance(c, d, a, b), abs=1e-9)
    assert dist == pytest.approx(segment_segment_distance(b, a, d, c), abs=1e-9)
    sampled = _sampled_distance(a, b, c, d)
    assert dist <= sampled + 1e-9
    # Samples are at most |ab| / 400 apart along a-b.
    assert sampled - dist <= math.hypot(b.x - a.x, b.y - a.y) / 400 + 1e-9


@settings(max_examples=300, deadline=None)
@given(grid_points, grid_points, grid_points, grid_points)
def test_segment_distance_is_zero_exactly_when_the_segments_meet(a, b, c, d):
    # Integer coordinates make the orientation tests exact, so "iff" can be asserted.
    assert (segment_segment_distance(a, b, c, d) == 0.0) is segments_intersect(a, b, c, d)


# -- geometry: polygons --------------------------------------------------------------------
SQUARE_ZONE = (P(10, 10), P(20, 10), P(20, 20), P(10, 20))
#: A U opening upwards: the notch x 13-17, y 0-15 is outside the polygon.
U_ZONE = (P(10, 0), P(13, 0), P(13, 15), P(17, 15), P(17, 0), P(20, 0), P(20, 20), P(10, 20))


def test_point_in_polygon_inside_outside_edge_and_concave_notch():
    assert point_in_polygon(P(15, 15), SQUARE_ZONE)
    assert point_in_polygon(P(10, 15), SQUARE_ZONE)  # on an edge
    assert not point_in_polygon(P(25, 15), SQUARE_ZONE)
    assert point_in_polygon(P(11, 5), U_ZONE)
    assert not point_in_polygon(P(15, 5), U_ZONE)  # in the notch


def test_segment_polygon_distance_inside_crossing_near_and_in_a_notch():
    assert segment_polygon_distance(P(12, 12), P(18, 18), SQUARE_ZONE) == 0.0  # wholly inside
    assert segment_crosses_polygon(P(12, 12), P(18, 18), SQUARE_ZONE)
    assert segment_polygon_distance(P(0, 15), P(30, 15), SQUARE_ZONE) == 0.0
    assert segment_polygon_distance(P(0, 0), P(30, 0), SQUARE_ZONE) == pytest.approx(10.0)
    # Down the middle of the U's notch: 2 mm from each arm, 5 above the bottom.
    assert segment_polygon_distance(P(15, -5), P(15, 10), U_ZONE) == pytest.approx(2.0)
    assert not segment_crosses_polygon(P(15, -5), P(15, 10), U_ZONE)
    assert segment_polygon_distance(P(15, -5), P(15, 16), U_ZONE) == 0.0


def test_polygon_of_one_or_two_points_is_a_point_or_segment():
    assert segment_polygon_distance(P(0, 0), P(10, 0), (P(5, 4),)) == pytest.approx(4.0)
    assert segment_polygon_distance(P(0, 0), P(10, 0), (P(5, 4), P(5, -4))) == 0.0


triangles = st.tuples(points, points, points)


@settings(max_examples=200, deadline=None)
@given(points, points, triangles)
def test_segment_polygon_distance_is_zero_on_crossing_and_never_above_edge_distances(a, b, tri):
    dist = segment_polygon_distance(a, b, tri)
    assert dist >= 0
    if segment_crosses_polygon(a, b, tri) or point_in_polygon(a, tri):
        assert dist == 0.0
    edges = [(tri[i], tri[(i + 1) % 3]) for i in range(3)]
    assert dist <= min(segment_segment_distance(a, b, c, d) for c, d in edges) + 1e-9


@settings(max_examples=200, deadline=None)
@given(grid_points, grid_points, st.tuples(grid_points, grid_points, grid_points))
def test_segment_polygon_distance_is_zero_exactly_when_they_meet(a, b, tri):
    assert (segment_polygon_distance(a, b, tri) == 0.0) is segment_crosses_polygon(a, b, tri)


# -- geometry: ellipses and angles ---------------------------------------------------------
def test_ellipse_polygon_points_lie_on_the_ellipse_whatever_the_corner_order():
    for corner, opposite in [(P(0, 0), P(40, 20)), (P(40, 20), P(0, 0)), (P(40, 0), P(0, 20))]:
        poly = ellipse_polygon(corner, opposite, 32)
        assert len(poly) == 32
        for p in poly:
            assert ((p.x - 20) / 20) ** 2 + ((p.y - 10) / 10) ** 2 == pytest.approx(1.0)


def test_point_ellipse_distance_on_the_axes_inside_and_for_a_circle():
    box = (P(0, 0), P(40, 20))  # centre (20, 10), semi-axes 20 and 10
    assert point_ellipse_distance(P(45, 10), *box) == pytest.approx(5.0)
    assert point_ellipse_distance(P(20, -3), *box) == pytest.approx(3.0)
    assert point_ellipse_distance(P(20, 10), *box) == 0.0
    assert point_ellipse_distance(P(39, 10), *box) == 0.0
    circle = (P(-10, -10), P(10, 10))
    assert point_ellipse_distance(P(30, 40), *circle) == pytest.approx(40.0)


def test_point_ellipse_distance_off_axis_matches_a_dense_polygon():
    box = (P(0, 0), P(40, 10))
    fine = ellipse_polygon(*box, 20000)
    for p in [P(45, 14), P(-3, -8), P(20.5, 30), P(41, 5.2)]:
        dense = min(point_segment_distance(p, fine[i], fine[i - 1]) for i in range(len(fine)))
        assert point_ellipse_distance(p, *box) == pytest.approx(dense, abs=1e-4)


def test_segment_short_of_an_ellipse_its_line_crosses_is_nearest_at_its_end():
    # The line y = 0.2 (x - 9) passes through a long flat ellipse near its right tip, for x
    # from 4.5 to 9.9; the segment stops at x = 3, before it, so its nearest point is that end.
    box = (P(-10, -1), P(10, 1))
    a, b = P(-40, 0.2 * -49), P(3, 0.2 * -6)
    assert not segment_crosses_ellipse(a, b, *box)
    dense = min(
        point_ellipse_distance(P(a.x + (b.x - a.x) * k / 4000, a.y + (b.y - a.y) * k / 4000), *box)
        for k in range(4001)
    )
    assert segment_ellipse_distance(a, b, *box) == pytest.approx(dense, abs=1e-6)
    assert segment_ellipse_distance(a, b, *box) == pytest.approx(point_ellipse_distance(b, *box))


@settings(max_examples=150, deadline=None)
@given(points, points, points, points)
def test_segment_ellipse_distance_is_exact_against_a_fine_polygon(a, b, corner, opposite):
    dist = segment_ellipse_distance(a, b, corner, opposite)
    assert dist >= 0
    if segment_crosses_ellipse(a, b, corner, opposite):
        assert dist == 0.0
    poly = ellipse_polygon(corner, opposite, 512)
    # The inscribed polygon lies inside the ellipse, at most r (1 - cos(pi/n)) from its edge.
    gap = (
        max(abs(opposite.x - corner.x), abs(opposite.y - corner.y))
        / 2
        * (1 - math.cos(math.pi / 512))
    )
    approx = segment_polygon_distance(a, b, poly)
    assert approx + 1e-9 >= dist
    assert approx - dist <= gap + 1e-6


def test_angle_between_vectors():
    assert angle_between((1, 0), (0, 1)) == pytest.approx(90.0)
    assert angle_between((1, 0), (-1, 0)) == pytest.approx(180.0)
    assert angle_between((2, 2), (1, 0)) == pytest.approx(45.0)
    assert angle_between((1, 1e-9), (1, 0)) == pytest.approx(math.degrees(1e-9))
    with pytest.raises(ValueError):
        angle_between((0, 0), (1, 0))


# -- measurements --------------------------------------------------------------------------
def test_path_length_in_mm_with_square_and_anisotropic_pixels():
    assert path_length(P(100, 100), P(130, 140), SQUARE).value == pytest.approx(5.0)
    m = path_length(P(100, 100), P(130, 140), ANISO)
    assert (m.units, m.problem) == (Units.MM, None)
    # 30 px across at 0.1 mm and 40 px down at 0.2 mm: 3 by 8 mm, not 50 px x 0.1.
    assert m.value == pytest.approx(math.hypot(3.0, 8.0))
    assert m.text() == "8.5 mm"


def test_path_length_uncalibrated_and_across_dual_view_regions_is_pixels_and_flagged():
    m = path_length(P(100, 100), P(130, 140), NONE)
    assert (m.value, m.units, m.problem) == (pytest.approx(50.0), Units.PX, "image not calibrated")
    assert m.text() == "50 px"
    across = path_length(P(300, 100), P(340, 130), DUAL)
    assert across.units is Units.PX
    assert across.value == pytest.approx(50.0)
    assert across.problem == ACROSS_REGIONS
    within = path_length(P(400, 100), P(430, 140), DUAL)
    assert within.value == pytest.approx(50 * 0.15)


def test_depth_without_skin_line_is_below_the_region_top_not_the_image_top():
    m = target_depth(P(200, 140), ANISO)
    # The transducer face is row 40, the region's top; 100 rows at 0.2 mm.
    assert (m.value, m.units) == (pytest.approx(20.0), Units.MM)
    right = target_depth(P(500, 140), DUAL)
    assert right.value == pytest.approx(100 * 0.15)


def skin(calibration: Calibration, a: Point, b: Point) -> Calibration:
    """The calibration with the clinician's skin line in force (as calibration_in_force)."""
    return replace(calibration, skin_line=(a, b))


def test_depth_below_a_drawn_skin_line_horizontal_and_tilted():
    assert target_depth(P(200, 140), skin(ANISO, P(0, 60), P(639, 60))).value == pytest.approx(
        80 * 0.2
    )
    # Depth runs along the beam: straight down on this linear probe. The tilted skin line from
    # (100, 50) to (300, 150) crosses the target's column 100 at row 50, 100 rows above it.
    m = target_depth(P(100, 150), skin(ANISO, P(100, 50), P(300, 150)))
    assert (m.value, m.units) == (pytest.approx(100 * 0.2), Units.MM)
    # At column 200 the line is at row 100: a target at row 150 there is 50 rows below it.
    assert target_depth(P(200, 150), skin(ANISO, P(100, 50), P(300, 150))).value == (
        pytest.approx(50 * 0.2)
    )


def test_a_target_above_the_skin_line_has_no_depth_only_the_reason():
    above = target_depth(P(200, 100), skin(ANISO, P(0, 120), P(639, 120)))
    assert isinstance(above, NoValue) and above.above
    assert "above the skin line" in above.reason
    on_it = target_depth(P(200, 120), skin(ANISO, P(0, 120), P(639, 120)))
    assert isinstance(on_it, Measurement) and on_it.value == 0.0


def test_skin_line_drawn_just_above_the_region_still_gives_mm():
    m = target_depth(P(200, 140), skin(ANISO, P(0, 38), P(639, 38)))  # two rows into the banner
    assert (m.value, m.units) == (pytest.approx(102 * 0.2), Units.MM)


def test_depth_uncalibrated_is_pixels_and_flagged_outside_regions_is_none():
    m = target_depth(P(200, 140), NONE)
    assert (m.value, m.units, m.problem) == (140.0, Units.PX, "image not calibrated")
    banner = target_depth(P(200, 10), ANISO)
    assert isinstance(banner, NoValue) and not banner.above
    assert "outside the calibrated regions" in banner.reason
    with_skin = target_depth(P(200, 140), skin(NONE, P(0, 60), P(639, 60)))
    assert (with_skin.value, with_skin.units) == (pytest.approx(80.0), Units.PX)


def test_a_skin_line_across_both_halves_is_read_along_the_targets_own_beam():
    m = target_depth(P(100, 200), skin(DUAL, P(100, 50), P(500, 50)))
    assert (m.value, m.units) == (pytest.approx(150 * 0.1), Units.MM)


def test_needle_angle_uses_mm_space_on_anisotropic_pixels():
    m = needle_angle(P(100, 100), P(200, 200), ANISO)
    assert m is not None and m.units is Units.DEGREES and m.problem is None
    # 10 mm across, 20 mm down: atan(2) = 63.4 degrees, not the 45 degrees of the pixels.
    assert m.value == pytest.approx(math.degrees(math.atan2(20, 10)))
    assert needle_angle(P(100, 100), P(200, 200), SQUARE).value == pytest.approx(45.0)
    px = needle_angle(P(100, 100), P(200, 200), NONE)
    assert px is not None and px.value == pytest.approx(45.0)
    assert px.problem == "image not calibrated"


def test_needle_angle_is_folded_to_0_to_90_and_measured_to_the_face_not_the_skin_line():
    down_left = needle_angle(P(200, 100), P(100, 200), SQUARE)
    assert down_left is not None and down_left.value == pytest.approx(45.0)
    # A tilted skin line does not turn the beams of a linear probe: they run straight down,
    # and visibility depends on the needle's angle to them.
    tilted = skin(SQUARE, P(0, 60), P(600, 160))
    along = needle_angle(P(100, 100), P(400, 100), tilted)
    assert along is not None and along.value == pytest.approx(0.0, abs=1e-9)
    vertical = needle_angle(P(100, 100), P(100, 300), tilted)
    assert vertical is not None and vertical.value == pytest.approx(90.0)
    assert needle_angle(P(5, 5), P(5, 5), SQUARE) is None


def zone(points, shape=ZoneShape.POLYGON, **kw) -> AvoidZone:
    return AvoidZone("img", shape, tuple(points), **kw)


def test_zone_distance_crossing_near_miss_and_far_in_mm():
    box = zone([P(200, 200), P(260, 200), P(260, 260), P(200, 260)], name="artery")
    crossing = zone_distance(P(230, 60), P(230, 300), box, ANISO)
    assert (crossing.crosses, crossing.distance_mm, crossing.problem) == (True, 0.0, None)
    # A vertical path 10 px left of the box: 10 px across at 0.1 mm = 1 mm.
    near = zone_distance(P(190, 60), P(190, 300), box, ANISO)
    assert not near.crosses
    assert near.distance_mm == pytest.approx(1.0)
    assert near.distance_px == pytest.approx(10.0)
    # A path stopping 10 px above the box: 10 px down at 0.2 mm = 2 mm.
    above = zone_distance(P(230, 60), P(230, 190), box, ANISO)
    assert above.distance_mm == pytest.approx(2.0)
    far = zone_distance(P(500, 60), P(500, 300), box, ANISO)
    assert far.distance_mm == pytest.approx(24.0)
    assert far.zone_name == "artery"


def test_zone_distance_to_an_ellipse_in_mm():
    # 100 x 50 px box at 0.1 x 0.2 mm/px: a circle of radius 5 mm centred at (25, 30) mm.
    circle = zone([P(200, 125), P(300, 175)], ZoneShape.ELLIPSE, kind=AvoidKind.NERVE)
    assert zone_distance(P(250, 60), P(250, 200), circle, ANISO).crosses
    # A vertical path at x 330 px = 33 mm: 8 mm from the centre, 3 mm from the circle.
    d = zone_distance(P(330, 60), P(330, 300), circle, ANISO)
    assert not d.crosses
    assert d.distance_mm == pytest.approx(3.0)
    assert d.distance_px == pytest.approx(30.0)
    assert d.zone_name == "nerve"  # unnamed: the kind names it


def test_zone_across_regions_of_different_spacing_has_no_mm_but_crossing_is_known():
    wide = zone([P(280, 200), P(360, 200), P(360, 240), P(280, 240)])
    d = zone_distance(P(300, 60), P(300, 300), wide, DUAL)
    assert d.crosses and d.distance_mm is None
    assert d.problem == ACROSS_REGIONS
    clear = zone_distance(P(100, 60), P(100, 300), wide, DUAL)
    assert clear.distance_mm is None and clear.distance_px == pytest.approx(180.0)


def test_caliper_and_angle_measurement_in_mm_space():
    cal = Caliper("img", P(100, 100), P(100, 150))
    assert caliper_distance(cal, ANISO).value == pytest.approx(10.0)
    assert caliper_distance(cal, NONE).units is Units.PX
    right = AngleMeasurement("img", vertex=P(100, 100), a=P(200, 100), b=P(200, 200))
    m = angle_measurement(right, ANISO)
    assert m is not None and m.problem is None
    assert m.value == pytest.approx(math.degrees(math.atan2(20, 10)))
    px = angle_measurement(right, NONE)
    assert px is not None and px.value == pytest.approx(45.0) and px.problem
    assert angle_measurement(AngleMeasurement("img", P(1, 1), P(1, 1), P(5, 5)), ANISO) is None


# -- a whole plan --------------------------------------------------------------------------
def _plan() -> tuple[Plan, dict[str, object]]:
    image = ImagePlan(ImageRef("lumbar.dcm"), region="lumbar_spine", id="img")
    target = Target("img", P(230, 240), name="L4-L5 interspinous", id="t1")
    unplaced = Target("img", None, name="iliolumbar", id="t2")
    path = NeedlePath("img", P(100, 40), "t1", frame=3, id="p1")
    lost = NeedlePath("img", P(100, 40), "t2", id="p2")
    canal = zone([P(240, 150), P(300, 150), P(300, 200), P(240, 200)], frame=3, id="z1")
    elsewhere = zone([P(240, 150), P(300, 150), P(300, 200), P(240, 200)], frame=4, id="z2")
    always = zone([P(400, 400), P(420, 420)], ZoneShape.ELLIPSE, id="z3")
    caliper = Caliper("img", P(10, 100), P(10, 200), id="c1")
    other_image = Caliper("us2", P(10, 100), P(10, 200), id="c2")
    annotations = (target, unplaced, path, lost, canal, elsewhere, always, caliper, other_image)
    return Plan(images=(image,), annotations=annotations), {"img": ANISO}


def test_measure_plan_links_paths_targets_and_same_frame_zones():
    plan, calibrations = _plan()
    m = measure_plan(plan, calibrations)
    geometry = m.path("p1")
    assert geometry is not None and geometry.target_id == "t1"
    assert geometry.length.value == pytest.approx(math.hypot(13.0, 40.0))
    assert geometry.depth == m.target_depths["t1"]
    assert geometry.depth.value == pytest.approx(200 * 0.2)
    # The zone on frame 4 never shows with the path on frame 3; the all-frames zone does.
    assert [z.zone_id for z in geometry.zone_distances] == ["z1", "z3"]
    assert geometry.zone("z2") is None
    assert m.path("p2") is None  # its target is not placed
    assert "t2" not in m.target_depths
    assert m.calipers["c1"].value == pytest.approx(20.0)
    # An image with no calibration given is measured in pixels.
    assert m.calipers["c2"].units is Units.PX
    assert [x.name for x in m.of("p1")] == [
        "needle path length",
        "target depth",
        "needle angle to transducer face",
    ]
    assert m.of("c1") == (m.calipers["c1"],)
    assert m.of("nothing") == ()


def test_measure_plan_uses_the_images_skin_line_through_the_calibration_in_force():
    plan, _ = _plan()
    image = replace(plan.images[0], skin_line=(P(0, 90), P(639, 90)))
    plan = plan.with_images([image])
    facts = ImageFacts(480, 640, 1, ANISO)
    m = measure_plan(plan, {"img": calibration_in_force(facts, image)})
    assert m.target_depths["t1"].value == pytest.approx(150 * 0.2)
    # A calibration that is not the one in force (the file's alone) is refused, loudly.
    with pytest.raises(ValueError, match="in force"):
        measure_plan(plan, {"img": ANISO})
