"""The plan controller: edits through the undo stack, one drag one step, what changed, the saved
state, calibrations, measurements and warnings per revision, the selection and the clipboard."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from prolo_planner.core.calibration import Calibration, CalibrationSource
from prolo_planner.core.document import Change, ChangeKind
from prolo_planner.core.edits import AddAnnotation, EditError, ReplaceAnnotation, ReplaceImage
from prolo_planner.core.geometry import Point
from prolo_planner.core.image_calibration import ImageFacts
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.plan import (
    AvoidKind,
    AvoidZone,
    ImagePlan,
    ImageRef,
    ManualCalibration,
    NeedlePath,
    Plan,
    SiteStatus,
    Target,
    ZoneShape,
)
from prolo_planner.core.safety import WarningCode
from prolo_planner.imaging.facts import image_facts
from prolo_planner.imaging.open import open_image
from prolo_planner.ui.plan_controller import PASTE_NUDGE_PX, PlanController
from tests.conftest import SAMPLE_IMAGES

LUMBAR = SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm"


@pytest.fixture(scope="module")
def lumbar_facts() -> ImageFacts:
    source = open_image(LUMBAR)
    try:
        return image_facts(source)
    finally:
        source.close()


@pytest.fixture
def image() -> ImagePlan:
    return ImagePlan(ImageRef(str(LUMBAR)))


@pytest.fixture
def controller(qapp, image, lumbar_facts) -> PlanController:
    c = PlanController(Plan(images=(image,)))
    c.set_source_facts(image.id, lumbar_facts)
    return c


def add(c: PlanController, annotation):
    c.push(AddAnnotation(annotation))
    return annotation


def test_push_undo_redo_announce_what_changed(controller, image) -> None:
    heard: list[tuple[Change, ...]] = []
    controller.changed.connect(heard.append)
    t = add(controller, Target(image.id, Point(300, 250)))
    p = add(controller, NeedlePath(image.id, Point(220, 80), t.id))
    assert heard[-1] == (Change(ChangeKind.ADDED, frozenset({p.id})),)
    controller.push(ReplaceAnnotation.of(controller.plan, t.id, position=Point(320, 260)))
    # Moving a target redraws its path too.
    assert heard[-1] == (Change(ChangeKind.CHANGED, frozenset({t.id, p.id})),)
    assert controller.undo_stack.count() == 3 and controller.undo_stack.text(2) == "Move target"
    controller.undo()
    assert controller.plan.annotation(t.id).position == Point(300, 250)
    assert heard[-1] == (Change(ChangeKind.CHANGED, frozenset({t.id, p.id})),)
    controller.undo()
    controller.undo()
    assert controller.plan.annotations == ()
    controller.redo()
    controller.redo()
    controller.redo()
    assert controller.plan.annotation(t.id).position == Point(320, 260)
    assert len(heard) == 9  # three pushes, three undos, three redos


def test_an_edit_that_does_not_fit_changes_nothing(controller, image) -> None:
    t = Target("not-an-image", Point(1, 1))
    with pytest.raises(EditError):
        controller.push(AddAnnotation(t))
    assert controller.undo_stack.count() == 0 and controller.plan.annotations == ()
    assert controller.revision == 0


def test_one_gesture_is_one_undo_step(controller, image) -> None:
    t = add(controller, Target(image.id, Point(300, 250)))
    gesture = controller.begin_gesture()
    for x in range(301, 311):
        controller.push(
            ReplaceAnnotation.of(controller.plan, t.id, gesture, position=Point(x, 250))
        )
    assert controller.undo_stack.count() == 2
    controller.undo()
    assert controller.plan.annotation(t.id).position == Point(300, 250)
    controller.redo()
    assert controller.plan.annotation(t.id).position == Point(310, 250)
    # Another drag is another step, even with the same edits.
    other = controller.begin_gesture()
    assert other != gesture
    controller.push(ReplaceAnnotation.of(controller.plan, t.id, other, position=Point(0, 0)))
    assert controller.undo_stack.count() == 3


def test_a_gesture_that_returns_to_its_start_is_dropped(controller, image) -> None:
    t = add(controller, Target(image.id, Point(300, 250)))
    gesture = controller.begin_gesture()
    controller.push(ReplaceAnnotation.of(controller.plan, t.id, gesture, position=Point(350, 250)))
    controller.push(ReplaceAnnotation.of(controller.plan, t.id, gesture, position=Point(300, 250)))
    assert controller.undo_stack.count() == 1 and controller.undo_stack.index() == 1
    controller.undo()
    assert controller.plan.annotations == ()


def test_clean_and_modified_follow_the_saved_plan(controller, image, qtbot) -> None:
    clean: list[bool] = []
    modified: list[bool] = []
    controller.clean_changed.connect(clean.append)
    controller.modified_changed.connect(modified.append)
    t = add(controller, Target(image.id, Point(300, 250)))
    assert (controller.is_clean, controller.is_modified) == (False, True)
    controller.mark_saved()
    assert (controller.is_clean, controller.is_modified) == (True, False)
    controller.push(ReplaceAnnotation.of(controller.plan, t.id, name="L4-L5"))
    controller.push(ReplaceAnnotation.of(controller.plan, t.id, name=""))
    # Two steps away from the save, but the same plan: the stack is not clean, the plan is not
    # modified (the unsaved mark follows the plan).
    assert (controller.is_clean, controller.is_modified) == (False, False)
    controller.undo()
    controller.undo()
    assert controller.is_clean
    assert clean == [False, True, False, True]
    assert modified == [True, False, True, False, True, False]


def test_measurements_and_warnings_follow_the_plan_and_are_cached(controller, image) -> None:
    t = add(controller, Target(image.id, Point(300, 250), name="L4-L5"))
    p = add(controller, NeedlePath(image.id, Point(300, 70), t.id, needle_length_mm=50))
    first = controller.measurements
    assert controller.measurements is first  # same revision: computed once
    assert first.path(p.id).length.units.value == "mm"
    assert not [w for w in controller.warnings if w.code is WarningCode.PATH_CROSSES_ZONE]
    z = add(
        controller,
        AvoidZone(
            image.id,
            ZoneShape.ELLIPSE,
            (Point(280, 120), Point(320, 160)),
            kind=AvoidKind.ARTERY,
        ),
    )
    crossing = [w for w in controller.warnings if w.code is WarningCode.PATH_CROSSES_ZONE]
    assert [w.annotation_ids for w in crossing] == [(p.id, z.id)]
    assert controller.measurements is not first
    steep = [w for w in controller.warnings if w.code is WarningCode.IN_PLANE_TOO_STEEP]
    assert [w.annotation_ids for w in steep] == [(p.id,)]  # vertical: 90° to the probe face
    controller.set_limits(replace(ClinicLimits(), in_plane_max_angle_deg=90.0))
    assert not [w for w in controller.warnings if w.code is WarningCode.IN_PLANE_TOO_STEEP]


def test_a_manual_calibration_in_the_plan_wins_over_the_file(controller, image) -> None:
    t = add(controller, Target(image.id, Point(300, 250)))
    from_file = controller.measurements.target_depths[t.id].value
    assert controller.calibration(image.id).source is CalibrationSource.ULTRASOUND_REGIONS
    heard = []
    controller.changed.connect(heard.append)
    manual = ManualCalibration(Point(620, 100), Point(620, 200), 20.0)  # 0.2 mm per pixel
    controller.push(ReplaceImage.of(controller.plan, image.id, manual_calibration=manual))
    calibration = controller.calibration(image.id)
    assert calibration.source is CalibrationSource.MANUAL
    assert calibration.regions[0].x1 == 639 and calibration.regions[0].y1 == 479
    depth = controller.measurements.target_depths[t.id]
    # The file's depth zero (row 82) and the convex probe found in the image stay; the spacing
    # is the clinician's: along the beam from the apex, less the face radius, at 0.2 mm/px.
    probe = calibration.regions[0].probe
    along = math.hypot((300 - probe.centre_x) * 0.2, (250 - probe.apex_y) * 0.2)
    assert depth.value == pytest.approx(along - (82 - probe.apex_y) * 0.2)
    assert depth.value != from_file
    assert heard[-1] == (Change(ChangeKind.IMAGES, frozenset({image.id})),)
    controller.undo()
    assert controller.measurements.target_depths[t.id].value == from_file


def test_a_new_source_calibration_is_announced_and_remeasured(controller, image) -> None:
    t = add(controller, Target(image.id, Point(300, 250)))
    assert controller.measurements.target_depths[t.id].units.value == "mm"
    heard = []
    controller.calibration_changed.connect(heard.append)
    controller.set_source_facts(image.id, ImageFacts(480, 640, 1, Calibration.none()))
    assert heard == [image.id]
    assert controller.measurements.target_depths[t.id].units.value == "px"
    codes = {w.code for w in controller.warnings}
    assert WarningCode.IMAGE_NOT_CALIBRATED in codes


def test_selection_lives_here_and_forgets_what_was_deleted(controller, image) -> None:
    seen = []
    controller.selection_changed.connect(seen.append)
    t = add(controller, Target(image.id, Point(300, 250)))
    p = add(controller, NeedlePath(image.id, Point(220, 80), t.id))
    controller.select([t.id, "no-such-id"])
    assert controller.selection == {t.id}
    controller.toggle(p.id)
    assert controller.selection == {t.id, p.id}
    controller.toggle(t.id)
    assert controller.selection == {p.id}
    controller.select([t.id], add=True)
    assert controller.delete()  # the selection: the target, and its path with it
    assert controller.plan.annotations == () and controller.selection == frozenset()
    assert controller.undo_stack.text(2) == "Delete target and its needle path"
    controller.undo()
    assert controller.plan.annotations == (t, p)
    assert seen[-1] == frozenset()
    assert not controller.delete([])


def test_deleting_the_skin_line_by_its_image_id(controller, image) -> None:
    controller.push(
        ReplaceImage.of(controller.plan, image.id, skin_line=(Point(0, 70), Point(600, 80)))
    )
    controller.select([image.id])
    assert controller.delete()
    assert controller.plan.image(image.id).skin_line is None
    controller.undo()
    assert controller.plan.image(image.id).skin_line is not None


def test_target_status_for_several_targets_is_one_step(controller, image) -> None:
    a = add(controller, Target(image.id, Point(300, 250)))
    b = add(controller, Target(image.id, Point(400, 250)))
    controller.set_target_status([a.id, b.id], SiteStatus.INJECTED)
    assert {t.status for t in controller.plan.targets()} == {SiteStatus.INJECTED}
    assert controller.undo_stack.count() == 3
    controller.undo()
    assert {t.status for t in controller.plan.targets()} == {SiteStatus.PLANNED}


def test_paste_onto_another_frame_keeps_places_and_links(controller, image) -> None:
    t = add(controller, Target(image.id, Point(300, 250), frame=2, name="L4-L5"))
    p = add(controller, NeedlePath(image.id, Point(220, 80), t.id, frame=2))
    assert controller.copy([t.id, p.id]) == 2
    pasted = controller.paste(image.id, 7)
    copies = [controller.plan.annotation(i) for i in pasted]
    assert [type(a) for a in copies] == [Target, NeedlePath]
    assert [a.frame for a in copies] == [7, 7]
    assert copies[0].position == t.position and copies[1].target_id == copies[0].id
    assert controller.selection == set(pasted)
    controller.undo()
    assert controller.plan.annotations == (t, p)


def test_paste_in_place_is_nudged_so_the_copy_shows(controller, image) -> None:
    t = add(controller, Target(image.id, Point(300, 250)))
    controller.copy([t.id])
    (first,) = controller.paste(image.id, None)
    (second,) = controller.paste(image.id, None)
    n = PASTE_NUDGE_PX
    assert controller.plan.annotation(first).position == Point(300 + n, 250 + n)
    assert controller.plan.annotation(second).position == Point(300 + 2 * n, 250 + 2 * n)


def test_paste_survives_deleting_the_original_and_drops_a_lost_path(controller, image) -> None:
    t = add(controller, Target(image.id, Point(300, 250), name="L4-L5"))
    p = add(controller, NeedlePath(image.id, Point(220, 80), t.id))
    controller.copy([t.id])
    controller.delete([t.id])
    (pasted,) = controller.paste(image.id, None, offset=(0.0, 0.0))
    assert controller.plan.annotation(pasted).name == "L4-L5"
    # A path copied alone leads to the original target, which is gone: nothing to paste.
    controller.undo()
    controller.undo()  # the delete: target and path are back
    controller.copy([p.id])
    controller.delete([t.id])
    assert controller.paste(image.id, None) == ()


def test_load_starts_a_fresh_undo_history(controller, image) -> None:
    add(controller, Target(image.id, Point(300, 250)))
    resets = []
    controller.reset.connect(lambda: resets.append(True))
    other = Plan(images=(ImagePlan(ImageRef("other.dcm")),))
    controller.load(other)
    assert controller.plan is other and controller.undo_stack.count() == 0
    assert controller.is_clean and not controller.is_modified and resets == [True]
