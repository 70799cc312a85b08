"""Compare, without a display: like with like (the same file, else the same region, side and
probe orientation), ghosts through millimetres from the transducer face when the images differ,
and none (with the reason) when nothing matches or nothing is calibrated."""

from __future__ import annotations

from dataclasses import replace

import pytest

from prolo_planner.core.calibration import CalibratedRegion, Calibration, CalibrationSource
from prolo_planner.core.compare import (
    SAME_FILE,
    SAME_VIEW,
    ImageMatch,
    matching_image,
    millimetre_mapping,
    place_ghosts,
    same_spot,
)
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    ImagePlan,
    ImageRef,
    NeedlePath,
    Plan,
    ProbeOrientation,
    Side,
    Target,
)


def _image(name: str, region="lumbar_spine", side=Side.MIDLINE, axis=ProbeOrientation.LONG_AXIS):
    return ImagePlan(
        ImageRef(name, sha256=name * 2), region=region, side=side, probe_orientation=axis
    )


def _calibration(mm_per_px: float, face_x: float, face_y: float) -> Calibration:
    """One region over a 640 x 480 image, the transducer face's centre at (face_x, face_y)."""
    region = CalibratedRegion(
        0, 0, 639, 479, mm_per_px, mm_per_px, depth_zero_y=face_y, reference_x=face_x
    )
    return Calibration(CalibrationSource.ULTRASOUND_REGIONS, (region,))


LUMBAR = _image("lumbar")
TRANSVERSE = _image("transverse", axis=ProbeOrientation.SHORT_AXIS)
RIGHT_HIP = _image("hip", region="hip", side=Side.RIGHT)


def test_the_same_file_is_the_best_match_then_the_same_view():
    prior = Plan((TRANSVERSE, LUMBAR))
    assert matching_image(prior, replace(LUMBAR, id="today")) == ImageMatch(LUMBAR.id, SAME_FILE)
    other_file = _image("another long axis")
    assert matching_image(prior, other_file) == ImageMatch(LUMBAR.id, SAME_VIEW)
    # Nothing like a hip among lumbar views; an unsaid orientation matches nothing.
    assert matching_image(prior, RIGHT_HIP) is None
    unsaid = _image("x", axis=ProbeOrientation.UNSPECIFIED)
    assert matching_image(Plan((unsaid,)), _image("y", axis=ProbeOrientation.UNSPECIFIED)) is None


def test_millimetres_place_a_point_from_one_scale_onto_another():
    """Issue 10: lumbar targets at 0.16 mm/px were drawn at the same pixels on an image at
    0.51 mm/px. Worked by hand: 100 px right and 50 px down of the face at 0.16 mm/px is
    16 mm and 8 mm; at 0.5 mm/px that is 32 px and 16 px from the other face."""
    move = millimetre_mapping(_calibration(0.16, 342, 82), _calibration(0.5, 300, 40))
    assert move is not None
    moved = move(Point(442, 132))
    assert (moved.x, moved.y) == pytest.approx((332.0, 56.0))
    assert millimetre_mapping(Calibration.none(), _calibration(0.5, 300, 40)) is None


def _prior_with_target(image: ImagePlan) -> tuple[Plan, Target]:
    target = Target(image.id, Point(442, 132), name="L4-L5 supraspinous ligament")
    path = NeedlePath(image.id, Point(342, 82), target.id)
    return Plan((image,), (target, path)), target


def test_ghosts_keep_pixels_on_the_same_file_and_move_through_mm_on_another():
    prior, target = _prior_with_target(LUMBAR)
    same = place_ghosts(prior, LUMBAR.id, _calibration(0.16, 342, 82), LUMBAR, Calibration.none())
    assert same.plan.annotation(target.id).position == target.position
    other = _image("today's long axis")
    moved = place_ghosts(
        prior, LUMBAR.id, _calibration(0.16, 342, 82), other, _calibration(0.5, 300, 40)
    )
    ghost = moved.plan.annotation(target.id)
    assert (ghost.position.x, ghost.position.y) == pytest.approx((332.0, 56.0))
    entry = next(a for a in moved.plan.annotations if isinstance(a, NeedlePath)).entry
    assert (entry.x, entry.y) == pytest.approx((300.0, 40.0))  # the face: the face
    assert moved.note == (
        "Prior targets placed through millimetres from the transducer face "
        "(0.16 mm/px there, 0.5 mm/px here)"
    )


def test_no_ghosts_without_a_match_or_without_millimetres_and_the_note_says_why():
    prior, _ = _prior_with_target(LUMBAR)
    hip = place_ghosts(prior, LUMBAR.id, _calibration(0.16, 342, 82), RIGHT_HIP, Calibration.none())
    assert hip.plan is None
    assert hip.note == (
        "Prior targets not shown: the prior image (lumbar spine, midline, long axis) is not like "
        "today's (hip, right, long axis)"
    )
    other = _image("uncalibrated clip")
    flat = place_ghosts(prior, LUMBAR.id, _calibration(0.16, 342, 82), other, Calibration.none())
    assert flat.plan is None and "today's image is not calibrated" in flat.note


def test_same_spot_is_the_same_name_within_a_few_pixels():
    prior = Target("a", Point(100, 100), name="L4-L5")
    assert same_spot(prior, [Target("b", Point(104, 103), name="L4-L5")])
    assert not same_spot(prior, [Target("b", Point(104, 103), name="L3-L4")])
    assert not same_spot(prior, [Target("b", Point(120, 100), name="L4-L5")])
