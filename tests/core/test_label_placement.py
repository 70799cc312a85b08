"""Label placement, one algorithm for the screen and the exports: beside what a label names,
inside the image, off every other label, marker and the scale bar; a leader line when moved;
its key alone when it fits nowhere whole. Measured over many generated plans. No Qt."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from prolo_planner.core.geometry import Point
from prolo_planner.core.label_placement import (
    EDGE_GAP,
    LABEL_GAP,
    AlongSegment,
    AtPoint,
    AtSpot,
    Fit,
    LabelRequest,
    LabelSpace,
    Obstacles,
    drawn_box,
    overlaps,
    place_labels,
    point_box_distance,
    rough_measure,
    segment_crosses_box,
)
from prolo_planner.core.legend import legend_keys, letters, site_numbers
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.measure import measure_plan
from prolo_planner.core.overlay import MARKER_ARMS, overlay_for
from prolo_planner.core.overlay_primitives import Colour, Label, Placement, TargetMarker
from prolo_planner.core.plan import NeedlePath, Target
from prolo_planner.core.safety import check_plan
from tests.label_plans import GeneratedPlan, generated_plan

WHITE = Colour(255, 255, 255)
PLANS = 400


def request(text: str, anchor, rank: int = 1, key: str = "", annotation_id: str = "a"):
    return LabelRequest(annotation_id, text, anchor, WHITE, 13.0, rank, key=key, badge=bool(key))


# -- one label at a time ------------------------------------------------------------------------
def test_a_label_sits_right_of_its_marker_when_it_can() -> None:
    space = LabelSpace(image_size=(640, 480))
    (placed,) = place_labels([request("L4-L5", AtPoint(Point(100, 100), 13.5))], Obstacles(), space)
    assert placed.fit is Fit.FULL and placed.label.placement is Placement.RIGHT
    assert placed.label.leader is None
    assert placed.box[0] == pytest.approx(100 + 13.5 + 4.0)  # reach and gap
    assert drawn_box(placed.label, space) == pytest.approx(placed.box)


def test_a_moved_label_draws_a_leader_line_from_its_marker() -> None:
    # Notes already left, right, above and below the marker at (300, 200): the target's label
    # cannot sit beside it and moves out, with a leader line from the marker's edge.
    space = LabelSpace(image_size=(640, 480))
    around = [
        request("x" * 12, AtSpot(Point(300 + dx, 200 + dy)), rank=0, annotation_id=f"n{i}")
        for i, (dx, dy) in enumerate(((110, 0), (-110, 0), (0, 36), (0, -36)))
    ]
    target = request("L4-L5 interspinous", AtPoint(Point(300, 200), 13.5), key="1")
    markers = (("a", Point(300, 200), 13.5),)
    placed = place_labels([*around, target], Obstacles(markers=markers), space)
    label = placed[-1]
    assert label.fit is Fit.FULL
    assert label.label.leader == Point(300, 200) and label.label.leader_gap == 13.5
    assert label.label.key == "1"  # the badge shows the site's number
    boxes = [p.box for p in placed]
    assert not any(overlaps(a, b) for a, b in itertools.combinations(boxes, 2))
    # The leader crosses none of the other labels.
    end = Point(
        min(max(300, label.box[0]), label.box[2]), min(max(200, label.box[1]), label.box[3])
    )
    assert not any(segment_crosses_box(Point(300, 200), end, b) for b in boxes[:-1])


def test_a_label_with_no_room_shows_its_key_and_then_nothing() -> None:
    # A 60 x 40 image: the long name fits nowhere; its key does.
    space = LabelSpace(image_size=(60, 40))
    long = request(
        "L3-L4 interspinous ligament · 30.0 mm deep", AtPoint(Point(30, 20), 5.0), key="7"
    )
    (placed,) = place_labels([long], Obstacles(), space)
    assert placed.fit is Fit.KEY_ONLY
    assert (placed.label.text, placed.label.key) == ("", "7")
    # No key: it is left out rather than drawn over the edge.
    (hidden,) = place_labels(
        [request("a long label that cannot fit", AtSpot(Point(30, 20)))], Obstacles(), space
    )
    assert hidden.fit is Fit.HIDDEN and hidden.label is None


def test_keep_out_is_never_covered_and_burned_in_text_only_when_nothing_else_fits() -> None:
    at = AtPoint(Point(200, 200), 13.5)
    right = (220.0, 180.0, 400.0, 220.0)
    placed = place_labels(
        [request("L5-S1", at)], Obstacles(), LabelSpace((640, 480), keep_out=(right,))
    )
    assert not overlaps(placed[0].box, right)
    avoid = place_labels(
        [request("L5-S1", at)], Obstacles(), LabelSpace((640, 480), avoid=(right,))
    )
    assert not overlaps(avoid[0].box, right)
    # Burned-in text everywhere: covering it is better than hiding the label.
    everywhere = (0.0, 0.0, 640.0, 480.0)
    crowded = place_labels(
        [request("L5-S1", at)], Obstacles(), LabelSpace((640, 480), avoid=(everywhere,))
    )
    assert crowded[0].fit is Fit.FULL and crowded[0].label.placement is Placement.RIGHT


def test_a_path_label_sits_beside_the_middle_of_its_line() -> None:
    a, b = Point(100, 100), Point(100, 300)  # vertical: beside it, to the right first
    (placed,) = place_labels(
        [request("32.1 mm · 60°", AlongSegment(a, b))], Obstacles(), LabelSpace((640, 480))
    )
    assert placed.label.placement is Placement.RIGHT
    assert placed.box[0] > 100 and placed.box[1] < 200 < placed.box[3]


def test_segments_cross_boxes_as_drawn() -> None:
    box = (10.0, 10.0, 20.0, 20.0)
    assert segment_crosses_box(Point(0, 15), Point(30, 15), box)
    assert not segment_crosses_box(Point(0, 0), Point(30, 5), box)
    assert segment_crosses_box(Point(15, 15), Point(15, 16), box)  # inside counts


def test_rough_measure_is_never_smaller_than_a_real_font() -> None:
    # DejaVu Sans Bold 13 px, measured: "L3-L4 interspinous ligament" is 197 px, "W" 12.
    w, h = rough_measure("L3-L4 interspinous ligament", "", 13.0)
    assert w >= 197 + 8 and h >= 15 + 4
    assert rough_measure("", "12", 13.0)[0] >= 2 * 8.3 + 6


# -- the keys the legend lists --------------------------------------------------------------------
def test_keys_number_sites_and_letter_the_rest() -> None:
    g = generated_plan(7, targets=(3, 3))
    plan = g.plan
    keys = legend_keys(plan, g.image.id)
    numbers = site_numbers(plan)
    for a in plan.annotations:
        if isinstance(a, Target):
            assert keys[a.id] == str(numbers[a.id])
        elif isinstance(a, NeedlePath):
            assert keys[a.id] == str(numbers[a.target_id])  # the path shares its target's
        else:
            assert keys[a.id].isalpha()
    lettered = [keys[a.id] for a in plan.annotations if not isinstance(a, Target | NeedlePath)]
    assert lettered == [letters(n) for n in range(1, len(lettered) + 1)]
    assert (letters(1), letters(26), letters(27), letters(28)) == ("A", "Z", "AA", "AB")


# -- many generated plans -------------------------------------------------------------------------
def overlay(g: GeneratedPlan):
    calibrations = {g.image.id: g.calibration}
    measurements = measure_plan(g.plan, calibrations)
    warnings = check_plan(g.plan, calibrations, ClinicLimits(), measurements)
    space = LabelSpace(
        image_size=g.size,
        px_per_screen_px=g.k,
        keep_out=(g.scale_bar,),
        avoid=g.burned_in,
    )
    drawn = overlay_for(
        g.plan, g.image.id, None, g.calibration, measurements, warnings, labels=space
    )
    return drawn, space


def test_over_many_generated_plans_no_label_overlaps_another_or_leaves_the_image() -> None:
    """400 random plans, up to 12 sites with their paths, zones, calipers, angles and notes,
    on images from 480 x 360 to 1024 x 768, drawn from 0.6x to 1.6x: the rules hold in every
    one; and labels are shown whole, beside what they name, as often as there is room."""
    fits: Counter[str] = Counter()
    usual: Counter[str] = Counter()
    for seed in range(PLANS):
        g = generated_plan(seed)
        drawn, space = overlay(g)
        labels = [p for p in drawn if isinstance(p, Label)]
        boxes = [drawn_box(label, space) for label in labels]
        w, h = g.size
        k = g.k
        edge = EDGE_GAP * k - 1e-6
        for box in boxes:
            assert box[0] >= edge and box[1] >= edge, (seed, box)
            assert box[2] <= w - edge and box[3] <= h - edge, (seed, box)
            assert not overlaps(box, g.scale_bar), (seed, box)
        gap = LABEL_GAP * k - 1e-6
        for (a, la), (b, lb) in itertools.combinations(zip(boxes, labels, strict=True), 2):
            assert not overlaps((a[0] - gap, a[1] - gap, a[2] + gap, a[3] + gap), b), (
                seed,
                la.text,
                lb.text,
            )
        for marker in (p for p in drawn if isinstance(p, TargetMarker)):
            reach = (marker.radius + MARKER_ARMS) * k
            for box in boxes:
                assert point_box_distance(marker.centre, box) >= reach - 1e-6, seed
        # Every annotation has a label to show, and the skin line its "skin".
        wanted = len(g.plan.annotations) + (g.image.skin_line is not None)
        counts = Counter(
            "key only" if not label.text else "moved" if label.leader else "beside"
            for label in labels
        )
        counts["hidden"] = wanted - len(labels)
        fits.update(counts)
        if w >= 640 and k <= 1.0 and wanted <= 16:
            usual.update(counts)
    total = sum(fits.values())
    assert fits["hidden"] <= 0.03 * total, fits
    assert fits["beside"] + fits["moved"] >= 0.7 * total, fits
    # A plan of usual size on an image shown at least 1:1: whole labels, mostly beside.
    assert usual["beside"] + usual["moved"] >= 0.92 * sum(usual.values()), usual
    assert usual["beside"] >= 0.7 * sum(usual.values()), usual


def test_a_usual_plan_names_its_targets_whole() -> None:
    """Plans of up to 4 sites on a 640 x 480 image or larger, at 1:1 or larger: every target
    is labelled, and (the catalog's long names near a corner aside) whole."""
    whole = keys = 0
    for seed in range(200):
        g = generated_plan(seed, targets=(1, 4))
        if g.size[0] < 640 or g.k > 1.0:
            continue
        drawn, _ = overlay(g)
        targets = {a.id for a in g.plan.annotations if isinstance(a, Target)}
        labels = [p for p in drawn if isinstance(p, Label) and p.annotation_id in targets]
        assert len(labels) == len(targets), seed
        whole += sum(1 for label in labels if label.text)
        keys += sum(1 for label in labels if not label.text)
    assert keys <= 0.05 * (whole + keys), (whole, keys)
