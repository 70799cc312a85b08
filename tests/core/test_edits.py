"""Reversible plan edits: each applies, reverts to an equal plan, and refuses what does not fit."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prolo_planner.core.edits import (
    AddAnnotation,
    AddImage,
    Compound,
    EditError,
    MissingId,
    RemoveAnnotations,
    RemoveImage,
    ReplaceAnnotation,
    ReplaceImage,
    SetPlanFields,
    copy_annotations,
    paste,
)
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    AvoidKind,
    AvoidZone,
    Caliper,
    ImagePlan,
    ImageRef,
    Injectate,
    ManualCalibration,
    NeedlePath,
    Plan,
    Target,
    TextNote,
    ZoneShape,
)


def lumbar_plan() -> Plan:
    """Two images; on the first two targets, the first with two needle paths."""
    im1 = ImagePlan(
        ImageRef("/scans/lumbar_long.dcm", frame_count=30), region="lumbar_spine", id="im1"
    )
    im2 = ImagePlan(ImageRef("/scans/lumbar_short.dcm"), region="lumbar_spine", id="im2")
    annotations = (
        Target("im1", Point(318.5, 262.0), name="L4-L5 interspinous ligament", id="t1"),
        Caliper("im1", Point(10, 10), Point(10, 200), frame=3, id="c1"),
        NeedlePath("im1", Point(250, 30), "t1", id="p1"),
        Target("im1", Point(402.0, 248.5), name="L5-S1 interspinous ligament", id="t2"),
        NeedlePath("im1", Point(470, 31), "t1", approach="out-of-plane", id="p2"),
        AvoidZone(
            "im1",
            ZoneShape.ELLIPSE,
            (Point(300, 330), Point(420, 392)),
            kind=AvoidKind.SPINAL_CANAL,
            name="spinal canal and dura",
            id="z1",
        ),
        NeedlePath("im1", Point(500, 30), "t2", frame=5, id="p3"),
        TextNote("im2", Point(5, 5), Point(50, 50), "probe marker left", id="n1"),
    )
    return Plan((im1, im2), annotations, 72.5, "Lumbar, session 2", id="plan1")


def ids(plan: Plan) -> list[str]:
    return [a.id for a in plan.annotations]


# -- adding -------------------------------------------------------------------------------------
def test_add_annotation_appends_and_reverts_to_the_same_plan():
    plan = lumbar_plan()
    target = Target("im2", Point(20, 30), name="iliolumbar ligament at iliac crest", id="t9")
    edit = AddAnnotation(target)
    after = edit.apply(plan)
    assert ids(after) == ids(plan) + ["t9"]
    assert after.annotation("t9") is target
    assert edit.revert(after) == plan
    assert edit.text == "Add target 'iliolumbar ligament at iliac crest'"
    assert edit.ids == {"t9"}


def test_add_annotation_at_an_index():
    plan = lumbar_plan()
    edit = AddAnnotation(Caliper("im1", Point(0, 0), Point(3, 4), id="c9"), index=1)
    after = edit.apply(plan)
    assert ids(after)[:3] == ["t1", "c9", "c1"]
    assert edit.revert(after) == plan


def test_add_refuses_a_duplicate_id_a_missing_image_or_target_naming_the_id():
    plan = lumbar_plan()
    with pytest.raises(EditError, match="'t1' is already"):
        AddAnnotation(Target("im1", Point(1, 1), id="t1")).apply(plan)
    with pytest.raises(MissingId, match="image 'gone'") as err:
        AddAnnotation(Target("gone", Point(1, 1))).apply(plan)
    assert err.value.id == "gone" and isinstance(err.value, KeyError)
    with pytest.raises(MissingId, match="target 'nope'"):
        AddAnnotation(NeedlePath("im1", Point(1, 1), "nope")).apply(plan)
    with pytest.raises(EditError, match="must end on a target"):
        AddAnnotation(NeedlePath("im1", Point(1, 1), "c1")).apply(plan)
    with pytest.raises(EditError, match="different images"):
        AddAnnotation(NeedlePath("im2", Point(1, 1), "t1")).apply(plan)


# -- removing -----------------------------------------------------------------------------------
def test_removing_a_target_removes_its_paths_and_undo_restores_them_in_place():
    plan = lumbar_plan()
    edit = RemoveAnnotations.of(plan, ["t1"])
    assert edit.ids == {"t1", "p1", "p2"}
    assert edit.text == "Delete target 'L4-L5 interspinous ligament' and its 2 needle paths"
    after = edit.apply(plan)
    assert ids(after) == ["c1", "t2", "z1", "p3", "n1"]
    restored = edit.revert(after)
    assert restored == plan
    assert ids(restored) == ids(plan)


def test_removing_scattered_annotations_restores_every_position():
    plan = lumbar_plan()
    edit = RemoveAnnotations.of(plan, ["n1", "c1", "p3", "z1"])
    after = edit.apply(plan)
    assert ids(after) == ["t1", "p1", "t2", "p2"]
    assert ids(edit.revert(after)) == ids(plan)
    assert edit.text == "Delete 4 annotations"


def test_removing_a_path_alone_keeps_its_target():
    plan = lumbar_plan()
    edit = RemoveAnnotations.of(plan, ["p3"])
    assert ids(edit.apply(plan)) == ["t1", "c1", "p1", "t2", "p2", "z1", "n1"]
    assert edit.text == "Delete needle path"


def test_remove_names_a_missing_id_and_refuses_a_changed_annotation():
    plan = lumbar_plan()
    with pytest.raises(MissingId, match="annotation 'zz'"):
        RemoveAnnotations.of(plan, ["t1", "zz"])
    edit = RemoveAnnotations.of(plan, ["c1"])
    moved = ReplaceAnnotation.of(plan, "c1", a=Point(99, 99)).apply(plan)
    with pytest.raises(EditError, match="'c1' has changed"):
        edit.apply(moved)
    after = edit.apply(plan)
    with pytest.raises(EditError, match="already in the plan"):
        edit.revert(plan)
    assert edit.revert(after) == plan


def test_reverting_an_add_refuses_while_paths_still_lead_to_the_target():
    plan = lumbar_plan()
    target = Target("im2", Point(1, 2), id="t9")
    add = AddAnnotation(target)
    with_path = AddAnnotation(NeedlePath("im2", Point(0, 0), "t9", id="p9")).apply(add.apply(plan))
    with pytest.raises(EditError, match="'p9' still leads to target 't9'"):
        add.revert(with_path)


# -- replacing ----------------------------------------------------------------------------------
def test_moving_a_target_moves_its_paths_end_and_reverts():
    plan = lumbar_plan()
    edit = ReplaceAnnotation.of(plan, "t1", position=Point(330.0, 270.0))
    assert edit.text == "Move target 'L4-L5 interspinous ligament'"
    after = edit.apply(plan)
    assert after.path_end(after.annotation("p1")) == Point(330.0, 270.0)
    assert ids(after) == ids(plan)
    assert edit.revert(after) == plan


def test_changing_a_property_is_called_a_change():
    plan = lumbar_plan()
    target = plan.annotation("t1")
    assert isinstance(target, Target)
    edit = ReplaceAnnotation(
        target, dataclasses.replace(target, injectate=Injectate(volume_ml=2.0))
    )
    assert edit.text == "Change target 'L4-L5 interspinous ligament'"
    assert edit.revert(edit.apply(plan)) == plan


def test_a_drag_merges_into_one_step_keeping_first_before_and_last_after():
    plan = lumbar_plan()
    steps = []
    current = plan
    for x in (320.0, 325.0, 331.0, 340.0):
        step = ReplaceAnnotation.of(current, "t1", gesture="drag-1", position=Point(x, 262.0))
        current = step.apply(current)
        steps.append(step)
    merged = steps[0]
    for step in steps[1:]:
        merged = merged.merge_with(step)
        assert merged is not None
    assert isinstance(merged, ReplaceAnnotation)
    assert merged.before == plan.annotation("t1")
    assert merged.after == current.annotation("t1")
    assert merged.revert(current) == plan
    assert merged.apply(plan) == current


def test_only_steps_of_one_gesture_on_one_annotation_merge():
    plan = lumbar_plan()
    first = ReplaceAnnotation.of(plan, "t1", gesture="g", position=Point(1, 1))
    after = first.apply(plan)
    same_drag = ReplaceAnnotation.of(after, "t1", gesture="g", position=Point(2, 2))
    assert first.merge_with(same_drag) is not None
    assert (
        first.merge_with(ReplaceAnnotation.of(after, "t1", gesture="h", position=Point(2, 2)))
        is None
    )
    assert (
        first.merge_with(ReplaceAnnotation.of(after, "t2", gesture="g", position=Point(2, 2)))
        is None
    )
    no_gesture = ReplaceAnnotation.of(plan, "t1", position=Point(1, 1))
    assert no_gesture.merge_with(ReplaceAnnotation.of(after, "t1", position=Point(2, 2))) is None
    # A step that does not start where the first ended is not the same drag.
    assert (
        first.merge_with(ReplaceAnnotation.of(plan, "t1", gesture="g", position=Point(3, 3)))
        is None
    )
    back = first.merge_with(
        ReplaceAnnotation.of(after, "t1", gesture="g", position=Point(318.5, 262.0))
    )
    assert back is not None and back.is_noop


def test_replace_keeps_id_and_kind_and_the_path_target_image_rule():
    plan = lumbar_plan()
    target = plan.annotation("t1")
    with pytest.raises(ValueError, match="keeps the annotation's id"):
        ReplaceAnnotation(target, dataclasses.replace(target, id="other"))
    with pytest.raises(ValueError, match="keeps the annotation's id and kind"):
        ReplaceAnnotation(target, Caliper("im1", Point(0, 0), Point(1, 1), id="t1"))
    with pytest.raises(EditError, match="cannot leave the image of its needle path"):
        ReplaceAnnotation.of(plan, "t1", image_id="im2").apply(plan)
    with pytest.raises(MissingId, match="target 'zz'"):
        ReplaceAnnotation.of(plan, "p1", target_id="zz").apply(plan)
    with pytest.raises(MissingId, match="annotation 'zz'"):
        ReplaceAnnotation.of(plan, "zz", position=Point(1, 1))
    stale = ReplaceAnnotation.of(plan, "t1", position=Point(5, 5))
    gone = RemoveAnnotations.of(plan, ["t1"]).apply(plan)
    with pytest.raises(MissingId, match="'t1'"):
        stale.apply(gone)


# -- images -------------------------------------------------------------------------------------
def test_add_and_remove_image_with_all_its_annotations():
    plan = lumbar_plan()
    image = ImagePlan(ImageRef("/scans/hip.dcm"), region="hip", id="im3")
    add = AddImage(image, index=0)
    after = add.apply(plan)
    assert [im.id for im in after.images] == ["im3", "im1", "im2"]
    assert add.revert(after) == plan
    assert add.text == "Add image 'hip.dcm'"

    remove = RemoveImage.of(plan, "im1")
    assert remove.ids == {"im1", "t1", "c1", "p1", "t2", "p2", "z1", "p3"}
    without = remove.apply(plan)
    assert [im.id for im in without.images] == ["im2"] and ids(without) == ["n1"]
    assert remove.revert(without) == plan
    assert remove.text == "Remove image 'lumbar_long.dcm'"
    with pytest.raises(EditError, match="already in the plan"):
        AddImage(plan.images[0]).apply(plan)
    with pytest.raises(EditError, match="still carries annotations"):
        AddImage(plan.images[1]).revert(plan)
    with pytest.raises(MissingId, match="image 'zz'"):
        RemoveImage.of(plan, "zz")


def test_replace_image_calibrates_merges_and_reverts():
    plan = lumbar_plan()
    edit = ReplaceImage.of(
        plan, "im2", manual_calibration=ManualCalibration(Point(600, 40), Point(600, 440), 40.0)
    )
    assert edit.text == "Calibrate image 'lumbar_short.dcm'"
    after = edit.apply(plan)
    assert after.image("im2").manual_calibration is not None
    assert edit.revert(after) == plan
    first = ReplaceImage.of(plan, "im1", gesture="skin", skin_line=(Point(0, 20), Point(640, 22)))
    mid = first.apply(plan)
    second = ReplaceImage.of(mid, "im1", gesture="skin", skin_line=(Point(0, 20), Point(640, 30)))
    merged = first.merge_with(second)
    assert isinstance(merged, ReplaceImage)
    end = second.apply(mid)
    assert merged.revert(end) == plan and merged.apply(plan) == end
    assert (
        ReplaceImage.of(plan, "im1", key_frames=(4,)).text
        == "Mark key frames of image 'lumbar_long.dcm'"
    )
    assert (
        ReplaceImage.of(plan, "im1", region="hip", side="left").text
        == "Change image 'lumbar_long.dcm'"
    )


# -- the plan's own fields ----------------------------------------------------------------------
def test_set_plan_fields_reverts_merges_and_refuses_unknown_fields():
    plan = lumbar_plan()
    edit = SetPlanFields.of(plan, patient_weight_kg=80.0)
    assert edit.text == "Set patient weight"
    after = edit.apply(plan)
    assert after.patient_weight_kg == 80.0 and after.annotations is plan.annotations
    assert edit.revert(after) == plan
    with pytest.raises(ValueError, match="not a plan field: images"):
        SetPlanFields.of(plan, images=())
    typing1 = SetPlanFields.of(plan, gesture="title", title="Lumbar, s")
    mid = typing1.apply(plan)
    typing2 = SetPlanFields.of(mid, gesture="title", title="Lumbar, session 3")
    merged = typing1.merge_with(typing2)
    assert merged is not None and merged.revert(typing2.apply(mid)) == plan
    with pytest.raises(EditError, match="title has changed"):
        typing2.apply(plan)
    assert SetPlanFields.of(plan, title="x", note="y").text == "Edit plan"


# -- compound, copy and paste -------------------------------------------------------------------
def test_copy_to_another_frame_keeps_paths_to_uncopied_targets_on_the_same_image():
    plan = lumbar_plan()
    copies = copy_annotations(plan, ["p1", "c1", "t2", "p3"], "im1", 7, offset=(5.0, -2.0))
    assert {a.id for a in copies}.isdisjoint(ids(plan))
    assert [type(a).__name__ for a in copies] == ["Caliper", "Target", "NeedlePath", "NeedlePath"]
    caliper, target2, path1, path3 = copies
    assert all(a.frame == 7 and a.image_id == "im1" for a in copies)
    assert caliper.a == Point(15, 8) and caliper.b == Point(15, 198)
    assert target2.position == Point(407.0, 246.5)
    assert path1.target_id == "t1"  # t1 not copied: same image, stays linked to the original
    assert path3.target_id == target2.id  # its target came along: linked to the copy
    edit = paste(copies)
    assert edit.text == "Paste 4 annotations"
    after = edit.apply(plan)
    assert ids(after) == ids(plan) + [a.id for a in copies]
    assert edit.revert(after) == plan


def test_copy_to_another_image_drops_paths_whose_target_stays_behind():
    plan = lumbar_plan()
    copies = copy_annotations(plan, ["t1", "p1", "p3", "z1"], "im2", None)
    kinds = [type(a).__name__ for a in copies]
    assert kinds == ["Target", "AvoidZone", "NeedlePath"]  # p3 led to t2, which stayed behind
    target, _, path = copies
    assert isinstance(path, NeedlePath) and path.target_id == target.id
    assert all(a.image_id == "im2" and a.frame is None for a in copies)
    after = paste(copies).apply(plan)
    assert after.path_end(path) == Point(318.5, 262.0)
    with pytest.raises(MissingId, match="'zz'"):
        copy_annotations(plan, ["zz"], "im2", None)
    single = paste(copy_annotations(plan, ["n1"], "im2", None))
    assert single.text == "Paste text 'probe marker left'"


def test_a_compound_that_fails_midway_leaves_the_plan_untouched():
    plan = lumbar_plan()
    good = AddAnnotation(Caliper("im1", Point(0, 0), Point(1, 1), id="c9"))
    bad = AddAnnotation(Caliper("nowhere", Point(0, 0), Point(1, 1)))
    with pytest.raises(MissingId, match="image 'nowhere'"):
        Compound((good, bad), "Paste 2 annotations").apply(plan)
    assert ids(plan) == ["t1", "c1", "p1", "t2", "p2", "z1", "p3", "n1"]
    assert Compound((good,), "x").ids == {"c9"}


# -- any sequence of edits undoes back to the start -----------------------------------------
@st.composite
def edit_sequences(draw: st.DrawFn) -> tuple[Plan, list]:
    plan = lumbar_plan()
    start, edits = plan, []
    for n in range(draw(st.integers(1, 12))):
        choice = draw(st.sampled_from(["add", "remove", "move", "paste", "image", "fields"]))
        present = ids(plan)
        if choice == "add":
            edit = AddAnnotation(
                Target("im2", Point(n, n), id=f"new{n}"),
                draw(st.none() | st.integers(0, len(present))),
            )
        elif choice == "remove" and present:
            edit = RemoveAnnotations.of(
                plan, draw(st.lists(st.sampled_from(present), min_size=1, max_size=3))
            )
        elif choice == "move" and present:
            x = draw(st.floats(0, 640, allow_nan=False))
            annotation = plan.annotation(draw(st.sampled_from(present)))
            field = {
                "Target": "position",
                "NeedlePath": "entry",
                "Caliper": "a",
                "AvoidZone": "points",
                "TextNote": "text_at",
            }[type(annotation).__name__]
            value = (Point(x, 1), Point(x, 9)) if field == "points" else Point(x, x)
            edit = ReplaceAnnotation.of(plan, annotation.id, **{field: value})
        elif choice == "paste" and present:
            chosen = draw(st.lists(st.sampled_from(present), min_size=1, max_size=4))
            edit = paste(
                copy_annotations(
                    plan,
                    chosen,
                    draw(st.sampled_from(["im1", "im2"])),
                    draw(st.none() | st.integers(0, 9)),
                )
            )
        elif choice == "image":
            edit = ReplaceImage.of(plan, "im1", key_frames=(n,))
        else:
            edit = SetPlanFields.of(plan, note=f"note {n}")
        plan = edit.apply(plan)
        edits.append(edit)
    return start, edits


@settings(max_examples=60, deadline=None)
@given(edit_sequences())
def test_any_edit_sequence_reverts_to_the_original_plan(case):
    start, edits = case
    plan = start
    states = [plan]
    for edit in edits:
        plan = edit.apply(plan)
        states.append(plan)
    for edit, before in zip(reversed(edits), reversed(states[:-1]), strict=True):
        plan = edit.revert(plan)
        assert plan == before
    assert ids(plan) == ids(start)
