"""Moving annotations and their handles: the drag on screen and paste with an offset."""

from __future__ import annotations

from prolo_planner.core.dragging import moved, shifted
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    AngleMeasurement,
    AvoidZone,
    Caliper,
    ImagePlan,
    ImageRef,
    NeedlePath,
    Target,
    ZoneShape,
)


def test_whole_annotation_moves_every_point():
    angle = AngleMeasurement("im", Point(10, 10), Point(20, 10), Point(10, 30))
    out = moved(angle, None, 5, -2)
    assert (out.vertex, out.a, out.b) == (Point(15, 8), Point(25, 8), Point(15, 28))
    assert shifted(angle, 5, -2) == out
    assert shifted(angle, 0, 0) is angle


def test_a_named_handle_moves_only_its_point():
    caliper = Caliper("im", Point(0, 0), Point(10, 0))
    out = moved(caliper, "b", 0, 4)
    assert (out.a, out.b) == (Point(0, 0), Point(10, 4))


def test_a_target_moves_its_position_whichever_handle_and_unplaced_stays_unplaced():
    assert moved(Target("im", Point(1, 1)), "position", 2, 3).position == Point(3, 4)
    assert moved(Target("im", None), None, 2, 3).position is None


def test_a_needle_path_moves_its_entry_only():
    path = NeedlePath("im", Point(5, 5), "target-id")
    assert moved(path, "entry", 1, 1).entry == Point(6, 6)


def test_polygon_vertex_and_ellipse_side():
    polygon = AvoidZone("im", ZoneShape.POLYGON, (Point(0, 0), Point(10, 0), Point(5, 8)))
    assert moved(polygon, "points.2", 0, 2).points == (Point(0, 0), Point(10, 0), Point(5, 10))
    # Drawn from bottom-right to top-left: the "left" side is the second corner.
    ellipse = AvoidZone("im", ZoneShape.ELLIPSE, (Point(30, 40), Point(10, 20)))
    assert moved(ellipse, "left", -4, 9).points == (Point(30, 40), Point(6, 20))
    assert moved(ellipse, "bottom", 7, 3).points == (Point(30, 43), Point(10, 20))


def test_skin_line_ends_and_unknown_keys():
    image = ImagePlan(ImageRef("a.dcm"), skin_line=(Point(0, 80), Point(600, 80)))
    assert moved(image, "skin.1", 0, 5).skin_line == (Point(0, 80), Point(600, 85))
    caliper = Caliper("im", Point(0, 0), Point(10, 0))
    assert moved(caliper, "nonsense", 3, 3) == caliper
