"""The overlay's display list: what each annotation draws, its labels' millimetres, warning colours,
frames, kinds, selection handles, ghosts and paint order. No Qt."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.geometry import Point
from prolo_planner.core.image_calibration import ImageFacts, calibration_in_force
from prolo_planner.core.label_placement import (
    BESIDE_GAP,
    LabelSpace,
    drawn_box,
    overlaps,
    point_box_distance,
)
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.measure import measure_plan, target_depth
from prolo_planner.core.overlay import (
    ALL_KINDS,
    MARKER_ARMS,
    annotation_points,
    ellipse_handles,
    overlay_for,
)
from prolo_planner.core.overlay_primitives import (
    Arc,
    Arrow,
    Dash,
    Ellipse,
    Handle,
    Label,
    Line,
    MarginOutline,
    OverlayStyle,
    Placement,
    Polygon,
    Polyline,
    Role,
    TargetMarker,
)
from prolo_planner.core.plan import (
    AngleMeasurement,
    AnnotationKind,
    Approach,
    AvoidKind,
    AvoidZone,
    Caliper,
    ImagePlan,
    ImageRef,
    NeedlePath,
    Plan,
    SiteStatus,
    Target,
    TextNote,
    ZoneShape,
)
from prolo_planner.core.safety import check_plan
from prolo_planner.imaging.facts import image_facts
from prolo_planner.imaging.open import open_image
from tests.conftest import SAMPLE_IMAGES

LUMBAR = SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm"
STYLE = OverlayStyle()


@pytest.fixture(scope="module")
def lumbar_facts() -> ImageFacts:
    """The real file's facts: one region x 91-605, y 60-459, the convex fan found in it."""
    source = open_image(LUMBAR)
    try:
        return image_facts(source)
    finally:
        source.close()


@pytest.fixture(scope="module")
def calibration(lumbar_facts: ImageFacts) -> Calibration:
    return lumbar_facts.calibration


@pytest.fixture
def image() -> ImagePlan:
    return ImagePlan(ImageRef(str(LUMBAR)))


def draw(plan: Plan, image: ImagePlan, calibration: Calibration, frame=None, **kw):
    # The calibration in force: the file's (or the one given) with the fan found in the image.
    source = open_image(LUMBAR)
    try:
        facts = replace(image_facts(source), calibration=calibration)
    finally:
        source.close()
    calibration = calibration_in_force(facts, image)
    calibrations = {image.id: calibration}
    measurements = measure_plan(plan, calibrations)
    warnings = check_plan(replace(plan, patient_weight_kg=70.0), calibrations, ClinicLimits())
    return overlay_for(plan, image.id, frame, calibration, measurements, warnings, **kw)


def in_force(calibration: Calibration, image: ImagePlan) -> Calibration:
    source = open_image(LUMBAR)
    try:
        return calibration_in_force(replace(image_facts(source), calibration=calibration), image)
    finally:
        source.close()


def of(primitives, annotation_id: str, kind: type | None = None) -> list:
    return [
        p
        for p in primitives
        if p.annotation_id == annotation_id and (kind is None or isinstance(p, kind))
    ]


def texts(primitives, annotation_id: str) -> list[str]:
    return [p.text for p in of(primitives, annotation_id, Label)]


def spacing(calibration: Calibration) -> float:
    return calibration.regions[0].mm_per_px_y


# -- each kind ----------------------------------------------------------------------------------
def test_a_target_is_a_marker_with_its_name_and_depth(image, calibration) -> None:
    t = Target(image.id, Point(300, 250), name="L4-L5 interspinous")
    drawn = draw(Plan((image,), (t,)), image, calibration)
    (marker,) = of(drawn, t.id, TargetMarker)
    assert marker.centre == Point(300, 250) and marker.status is SiteStatus.PLANNED
    assert marker.colour == STYLE.target
    # Below the transducer face along the beam: the label shows the measured depth.
    depth = target_depth(t.position, in_force(calibration, image))
    assert texts(drawn, t.id) == [f"L4-L5 interspinous · {depth.value:.1f} mm deep"]
    (label,) = of(drawn, t.id, Label)
    # Right of the marker (its circle, its crosshair's arms, a gap), by its site number.
    assert label.placement is Placement.RIGHT and label.leader is None
    assert label.anchor == Point(300 + STYLE.target_radius + MARKER_ARMS + BESIDE_GAP, 250)
    assert label.key == "1"
    assert label.box == STYLE.label_box  # a dark box: readable on bright and dark pixels


def test_a_target_status_shows_on_its_marker(image, calibration) -> None:
    done = Target(image.id, Point(300, 250), status=SiteStatus.INJECTED)
    skipped = Target(image.id, Point(200, 350), status=SiteStatus.SKIPPED)
    drawn = draw(Plan((image,), (done, skipped)), image, calibration)
    assert of(drawn, done.id, TargetMarker)[0].status is SiteStatus.INJECTED
    assert texts(drawn, done.id)[0].endswith(" ✓")
    marker = of(drawn, skipped.id, TargetMarker)[0]
    assert marker.status is SiteStatus.SKIPPED and marker.colour == STYLE.skipped
    assert texts(drawn, skipped.id)[0].endswith("(skipped)")


def test_a_target_not_placed_yet_draws_nothing(image, calibration) -> None:
    t = Target(image.id, None, name="L5-S1")
    assert draw(Plan((image,), (t,)), image, calibration) == ()


def test_neighbouring_targets_keep_their_labels_apart(image, calibration) -> None:
    left = Target(image.id, Point(300, 250), name="L4-L5 interspinous")
    right = Target(image.id, Point(420, 245), name="L5-S1")
    edge = Target(image.id, Point(600, 300), name="far right")
    drawn = draw(Plan((image,), (left, right, edge)), image, calibration, image_size=(640, 480))
    space = LabelSpace(image_size=(640, 480))
    boxes = {t.id: drawn_box(of(drawn, t.id, Label)[0], space) for t in (left, right, edge)}
    # Right of the left target is the right one's marker: its long label goes elsewhere, and
    # no label covers a marker or another label.
    assert of(drawn, left.id, Label)[0].placement is not Placement.RIGHT
    assert of(drawn, edge.id, Label)[0].placement is Placement.LEFT  # the image ends there
    reach = STYLE.target_radius + MARKER_ARMS
    for t in (left, right, edge):
        for box in boxes.values():
            assert point_box_distance(t.position, box) >= reach
    assert not overlaps(boxes[left.id], boxes[right.id])
    assert all(b[0] >= 0 and b[2] <= 640 for b in boxes.values())


def test_a_needle_path_runs_to_its_target_with_length_and_angle(image, calibration) -> None:
    t = Target(image.id, Point(300, 250))
    p = NeedlePath(image.id, Point(220, 80), t.id)
    drawn = draw(Plan((image,), (t, p)), image, calibration)
    (line,) = of(drawn, p.id, Line)
    assert (line.a, line.b) == (Point(220, 80), Point(300, 250))
    assert line.pen.dash is Dash.SOLID and line.role is Role.NEEDLE_PATH
    mm = math.hypot(80, 170) * spacing(calibration)
    # To the face where the target's beam meets it: 90 degrees less the needle's angle to the
    # beam, which on this convex probe runs from the apex found in the image.
    apex = in_force(calibration, image).regions[0].probe.apex
    beam = math.degrees(math.atan2(300 - apex.x, 250 - apex.y))
    to_beam = math.degrees(math.atan2(80, 170)) - beam
    assert texts(drawn, p.id)[0].splitlines()[0] == f"{mm:.1f} mm · {90 - to_beam:.0f}°"


def test_an_out_of_plane_path_is_dashed(image, calibration) -> None:
    t = Target(image.id, Point(300, 250))
    p = NeedlePath(image.id, Point(300, 70), t.id, approach=Approach.OUT_OF_PLANE)
    (line,) = of(draw(Plan((image,), (t, p)), image, calibration), p.id, Line)
    assert line.pen.dash is Dash.DASHED


def test_a_path_through_an_artery_is_red_and_says_so(image, calibration) -> None:
    t = Target(image.id, Point(300, 250), name="L4-L5")
    p = NeedlePath(image.id, Point(220, 70), t.id, needle_length_mm=50)
    artery = AvoidZone(
        image.id,
        ZoneShape.ELLIPSE,
        (Point(240, 130), Point(290, 170)),
        kind=AvoidKind.ARTERY,
        name="segmental artery",
    )
    drawn = draw(Plan((image,), (t, p, artery)), image, calibration)
    assert of(drawn, p.id, Line)[0].pen.colour == STYLE.danger
    assert texts(drawn, p.id)[0].splitlines()[1] == "⚠ crosses segmental artery"
    (ellipse,) = of(drawn, artery.id, Ellipse)
    assert ellipse.pen.colour == STYLE.danger  # the outline warns...
    assert ellipse.fill == STYLE.zone[AvoidKind.ARTERY].with_alpha(STYLE.zone_fill_alpha)  # ...the
    # fill still says what it is
    # Moved clear of the artery, but within its 3 mm margin: amber, with the distance.
    near = replace(p, entry=Point(300, 70))
    drawn = draw(Plan((image,), (t, near, artery)), image, calibration)
    gap_mm = (300 - 290) * spacing(calibration)
    assert of(drawn, p.id, Line)[0].pen.colour == STYLE.warning
    assert texts(drawn, p.id)[0].splitlines()[1] == f"⚠ {gap_mm:.1f} mm from segmental artery"
    # Far away and shallow: the path's own colour, one line of label.
    # In plane from beside the probe's end (on the skin line extended), shallow enough to see.
    far = replace(p, entry=Point(610, 60), needle_length_mm=80)
    drawn = draw(Plan((image,), (t, far, artery)), image, calibration)
    assert of(drawn, p.id, Line)[0].pen.colour == STYLE.needle_path
    assert len(texts(drawn, p.id)[0].splitlines()) == 1


@pytest.mark.parametrize("kind", list(AvoidKind))
def test_each_zone_kind_has_its_colour(image, calibration, kind: AvoidKind) -> None:
    z = AvoidZone(
        image.id, ZoneShape.POLYGON, (Point(200, 200), Point(260, 200), Point(230, 250)), kind=kind
    )
    (polygon,) = of(draw(Plan((image,), (z,)), image, calibration), z.id, Polygon)
    assert polygon.fill.a == STYLE.zone_fill_alpha  # translucent: the anatomy shows through
    assert polygon.fill.with_alpha(255) == STYLE.zone[kind] == polygon.pen.colour


def test_the_zone_colours_tell_the_kinds_apart() -> None:
    assert len(set(STYLE.zone.values())) == len(AvoidKind)
    assert STYLE.zone[AvoidKind.ARTERY].r > 200 and STYLE.zone[AvoidKind.VEIN].b > 200


def test_a_zone_margin_is_grown_by_its_millimetres(image, calibration) -> None:
    z = AvoidZone(
        image.id,
        ZoneShape.POLYGON,
        (Point(200, 200), Point(260, 200), Point(230, 250)),
        kind=AvoidKind.NERVE,
        name="L5 root",
        margin_mm=4.0,
    )
    drawn = draw(Plan((image,), (z,)), image, calibration)
    (margin,) = of(drawn, z.id, MarginOutline)
    assert margin.grow_x == pytest.approx(4.0 / calibration.regions[0].mm_per_px_x)
    assert margin.grow_y == pytest.approx(4.0 / calibration.regions[0].mm_per_px_y)
    assert margin.pen.dash is Dash.DASHED and margin.points == z.points
    (label,) = of(drawn, z.id, Label)
    # Above the zone grown by its margin: its box's bottom a gap above the margin's top.
    assert label.text == "L5 root" and label.placement is Placement.ABOVE
    assert label.anchor.y == pytest.approx(200 - margin.grow_y - BESIDE_GAP)
    assert label.key == "A"  # the image's first lettered item, as the legend lists it


def test_no_margin_is_drawn_without_millimetres(image) -> None:
    z = AvoidZone(image.id, ZoneShape.ELLIPSE, (Point(200, 200), Point(260, 240)))
    drawn = draw(Plan((image,), (z,)), image, Calibration.none())
    assert of(drawn, z.id, Ellipse) and not of(drawn, z.id, MarginOutline)


def test_a_caliper_label_carries_millimetres_or_flagged_pixels(image, calibration) -> None:
    inside = Caliper(image.id, Point(150, 300), Point(250, 300))
    outside = Caliper(image.id, Point(20, 100), Point(80, 100))  # the scanner's text column
    drawn = draw(Plan((image,), (inside, outside)), image, calibration)
    (line,) = of(drawn, inside.id, Line)
    assert line.end_ticks and line.role is Role.CALIPER
    assert texts(drawn, inside.id) == [f"{100 * spacing(calibration):.1f} mm"]
    assert texts(drawn, outside.id) == ["60 px ⚠"]
    drawn = draw(Plan((image,), (inside,)), image, Calibration.none())
    assert texts(drawn, inside.id) == ["100 px ⚠"]
    # "No millimetres" is told by the ⚠, not by painting everything amber.
    assert of(drawn, inside.id, Line)[0].pen.colour == STYLE.measurement


def test_an_angle_has_its_rays_arc_and_degrees(image, calibration) -> None:
    a = AngleMeasurement(image.id, Point(200, 300), Point(300, 200), Point(300, 300))
    drawn = draw(Plan((image,), (a,)), image, calibration)
    (rays,) = of(drawn, a.id, Polyline)
    assert rays.points == (Point(300, 200), Point(200, 300), Point(300, 300))
    assert of(drawn, a.id, Arc)[0].vertex == Point(200, 300)
    (label,) = of(drawn, a.id, Label)
    assert label.text == "45°"
    assert drawn_box(label, LabelSpace())[2] < 200  # outside the opening, which faces right


def test_a_text_note_has_its_arrow_and_text(image, calibration) -> None:
    n = TextNote(image.id, Point(400, 300), Point(470, 250), "facet joint")
    drawn = draw(Plan((image,), (n,)), image, calibration)
    (arrow,) = of(drawn, n.id, Arrow)
    assert (arrow.tail, arrow.tip) == (Point(470, 250), Point(400, 300))
    (label,) = of(drawn, n.id, Label)
    assert (label.text, label.anchor, label.placement) == (
        "facet joint",
        Point(470, 250),
        Placement.CENTRE,
    )


def test_the_skin_line_is_drawn_and_measured_from(image, calibration) -> None:
    skin_image = replace(image, skin_line=(Point(100, 100), Point(500, 100)))
    t = Target(image.id, Point(300, 250))
    drawn = draw(Plan((skin_image,), (t,)), skin_image, calibration)
    (line,) = of(drawn, image.id, Line)
    assert (line.a, line.b, line.role) == (Point(100, 100), Point(500, 100), Role.SKIN_LINE)
    # Straight below the skin line's row 100 would be 150 rows; along the convex probe's beam
    # the measured depth is what the label says.
    depth = target_depth(t.position, in_force(calibration, skin_image))
    assert depth.value != pytest.approx(150 * spacing(calibration), abs=0.05)
    assert texts(drawn, t.id) == [f"ligament · {depth.value:.1f} mm deep"]
    hidden = draw(
        Plan((skin_image,), (t,)),
        skin_image,
        calibration,
        style=replace(STYLE, show_skin_line=False),
    )
    assert not of(hidden, image.id)


# -- which annotations, and how ---------------------------------------------------------------
def test_annotations_of_other_frames_and_images_are_not_drawn(image, calibration) -> None:
    other = ImagePlan(ImageRef("other.dcm"))
    on_3 = Target(image.id, Point(100, 100), frame=3)
    on_all = Target(image.id, Point(200, 200))
    elsewhere = Target(other.id, Point(300, 300))
    plan = Plan((image, other), (on_3, on_all, elsewhere))
    ids = lambda drawn: {p.annotation_id for p in drawn}  # noqa: E731
    assert ids(draw(plan, image, calibration, frame=3)) == {on_3.id, on_all.id}
    assert ids(draw(plan, image, calibration, frame=4)) == {on_all.id}
    assert ids(draw(plan, image, calibration, frame=None)) == {on_3.id, on_all.id}


def test_hidden_kinds_are_not_drawn(image, calibration) -> None:
    t = Target(image.id, Point(300, 250))
    c = Caliper(image.id, Point(150, 300), Point(250, 300))
    plan = Plan((image,), (t, c))
    shown = draw(plan, image, calibration, visible_kinds=ALL_KINDS - {AnnotationKind.CALIPER})
    assert {p.annotation_id for p in shown} == {t.id}


def test_the_selection_gets_handles_and_a_wider_line(image, calibration) -> None:
    c = Caliper(image.id, Point(150, 300), Point(250, 300))
    z = AvoidZone(image.id, ZoneShape.ELLIPSE, (Point(200, 200), Point(260, 240)))
    plan = Plan((image,), (c, z))
    plain = draw(plan, image, calibration)
    assert not [p for p in plain if isinstance(p, Handle)]
    chosen = draw(plan, image, calibration, selected_ids={c.id, z.id})
    assert [(h.key, h.at) for h in of(chosen, c.id, Handle)] == [
        ("a", Point(150, 300)),
        ("b", Point(250, 300)),
    ]
    assert {h.key: h.at for h in of(chosen, z.id, Handle)} == ellipse_handles(*z.points)
    assert of(chosen, c.id, Line)[0].pen.width == STYLE.line_width + STYLE.selected_boost


def test_the_paint_order_puts_labels_over_lines_and_targets_over_labels(image, calibration):
    t = Target(image.id, Point(300, 250))
    p = NeedlePath(image.id, Point(220, 80), t.id)
    z = AvoidZone(image.id, ZoneShape.ELLIPSE, (Point(200, 200), Point(260, 240)))
    drawn = draw(Plan((image,), (t, p, z)), image, calibration, selected_ids={t.id})
    kinds = [type(q).__name__ for q in drawn]
    assert kinds[0] == "Ellipse"  # zones at the bottom, though added last
    first_label = kinds.index("Label")
    assert all(k != "Label" for k in kinds[:first_label])
    assert kinds[first_label:] == ["Label"] * 3 + ["TargetMarker", "Handle"]


def test_a_ghost_is_faint_and_has_no_handles(image, calibration) -> None:
    t = Target(image.id, Point(300, 250))
    c = Caliper(image.id, Point(150, 300), Point(250, 300))
    plan = Plan((image,), (t, c))
    ghost = draw(plan, image, calibration, style=replace(STYLE, ghost=True), selected_ids={c.id})
    assert not [p for p in ghost if isinstance(p, Handle)]
    assert of(ghost, t.id, TargetMarker)[0].colour.a < 255 * 0.5
    assert of(ghost, c.id, Line)[0].pen.colour.a < 255 * 0.5
    label = of(ghost, t.id, Label)[0]
    assert label.colour.g < STYLE.target.g and label.box.a < STYLE.label_box.a


def test_annotation_points_place_each_kind(image) -> None:
    t = Target(image.id, Point(300, 250))
    p = NeedlePath(image.id, Point(220, 80), t.id)
    plan = Plan((image,), (t, p))
    assert annotation_points(p, plan) == (Point(220, 80), Point(300, 250))
    z = AvoidZone(image.id, ZoneShape.ELLIPSE, (Point(200, 200), Point(260, 240)))
    assert set(annotation_points(z, plan)) == {
        Point(200, 220),
        Point(260, 220),
        Point(230, 200),
        Point(230, 240),
    }


def test_an_entry_beyond_the_image_end_is_dashed_until_it_enters_the_fan(
    image, calibration
) -> None:
    t = Target(image.id, Point(400, 250))
    p = NeedlePath(image.id, Point(700, 70), t.id)  # 60 columns right of the 640-wide image
    drawn = draw(Plan((image,), (t, p)), image, calibration, image_size=(640, 480))
    outside, inside = of(drawn, p.id, Line)
    assert (outside.a, outside.pen.dash) == (Point(700, 70), Dash.DASHED)
    assert (inside.b, inside.pen.dash) == (Point(400, 250), Dash.SOLID)
    crossing = outside.b
    assert inside.a == crossing
    # The needle comes into view where it crosses the convex fan's right side: on the path,
    # at the sector's half angle from the apex.
    assert (crossing.x - 700) * (250 - 70) == pytest.approx((crossing.y - 70) * (400 - 700))
    probe = in_force(calibration, image).regions[0].probe
    angle = math.degrees(math.atan2(crossing.x - probe.centre_x, crossing.y - probe.apex_y))
    assert angle == pytest.approx(probe.half_angle_deg + 0.5, abs=0.05)
    (label,) = of(drawn, p.id, Label)
    assert crossing.x <= 700 and 0 <= label.anchor.x <= 640  # the length beside what is seen
    # Out of plane the whole path is dashed already: one line.
    oop = replace(p, approach=Approach.OUT_OF_PLANE)
    drawn = draw(Plan((image,), (t, oop)), image, calibration, image_size=(640, 480))
    assert [line.pen.dash for line in of(drawn, p.id, Line)] == [Dash.DASHED]


def test_a_target_above_the_face_says_so_and_shows_no_depth(image, calibration) -> None:
    t = Target(image.id, Point(342, 70), name="misplaced")  # above the face's row 82
    drawn = draw(Plan((image,), (t,)), image, calibration)
    assert texts(drawn, t.id) == ["misplaced · above the skin ⚠"]
