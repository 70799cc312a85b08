"""Label placement: off targets, zones and other labels; the least harm when nothing fits."""

from __future__ import annotations

from prolo_planner.core.geometry import Point
from prolo_planner.core.overlay_labels import LabelRoom, label_box
from prolo_planner.core.overlay_primitives import Placement


def test_first_free_place_is_taken():
    room = LabelRoom(label_size=12, marker_reach=8, image_size=(640, 480))
    at = Point(100, 100)
    chosen = room.beside_target(at, "t1", "L4-L5 interspinous", 10)
    assert chosen[1] is Placement.RIGHT
    assert room.placed == [label_box("L4-L5 interspinous", 12, chosen)]


def test_label_goes_left_when_right_would_hide_another_target():
    room = LabelRoom(
        label_size=12,
        marker_reach=8,
        image_size=(640, 480),
        targets=(("t1", Point(300, 100)), ("t2", Point(360, 100))),
    )
    assert room.beside_target(Point(300, 100), "t1", "supraspinous", 10)[1] is Placement.LEFT


def test_when_nothing_fits_the_label_covers_a_label_rather_than_hides_a_target():
    # A target at the image's left edge (no room left), another target right of it, and labels
    # already above and below: every choice costs something; hiding t2 must cost most.
    room = LabelRoom(
        label_size=12,
        marker_reach=8,
        image_size=(640, 480),
        targets=(("t1", Point(5, 100)), ("t2", Point(60, 100))),
    )
    room.take("x" * 20, 12, (Point(5, 70), Placement.CENTRE, (0.0, 0.0)))
    room.take("x" * 20, 12, (Point(5, 130), Placement.CENTRE, (0.0, 0.0)))
    chosen = room.beside_target(Point(5, 100), "t1", "a long target name", 10)
    assert chosen[1] is not Placement.RIGHT  # RIGHT would hide t2's marker
    box = label_box("a long target name", 12, chosen)
    assert not (box[0] - 8 <= 60 <= box[2] + 8 and box[1] - 8 <= 100 <= box[3] + 8)
