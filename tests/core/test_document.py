"""The plan document: applies and reverts edits, announces changes, and knows when it is saved."""

from __future__ import annotations

import pytest

from prolo_planner.core.document import Change, ChangeKind, PlanDocument, changes_between
from prolo_planner.core.edits import (
    AddAnnotation,
    EditError,
    RemoveAnnotations,
    RemoveImage,
    ReplaceAnnotation,
    ReplaceImage,
    SetPlanFields,
    copy_annotations,
    paste,
)
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import Caliper, Target
from tests.core.test_edits import lumbar_plan


class Recorder:
    def __init__(self) -> None:
        self.changes: list[Change] = []

    def __call__(self, change: Change) -> None:
        self.changes.append(change)


def open_document() -> tuple[PlanDocument, Recorder]:
    doc = PlanDocument(lumbar_plan())
    heard = Recorder()
    doc.connect(heard)
    return doc, heard


def test_change_kinds_are_declared_up_front():
    assert [k.value for k in PlanDocument.CHANGE_KINDS] == [
        "removed",
        "images",
        "added",
        "changed",
        "plan",
    ]


def test_adding_and_undoing_announce_added_then_removed():
    doc, heard = open_document()
    edit = AddAnnotation(Target("im2", Point(3, 4), id="t9"))
    assert doc.apply(edit) == (Change(ChangeKind.ADDED, frozenset({"t9"})),)
    assert doc.revert(edit) == (Change(ChangeKind.REMOVED, frozenset({"t9"})),)
    assert heard.changes == [
        Change(ChangeKind.ADDED, frozenset({"t9"})),
        Change(ChangeKind.REMOVED, frozenset({"t9"})),
    ]
    assert doc.plan == lumbar_plan()


def test_removing_a_target_announces_its_paths_too():
    doc, heard = open_document()
    doc.apply(RemoveAnnotations.of(doc.plan, ["t1"]))
    assert heard.changes == [Change(ChangeKind.REMOVED, frozenset({"t1", "p1", "p2"}))]


def test_moving_a_target_announces_the_paths_that_end_on_it():
    doc, heard = open_document()
    doc.apply(ReplaceAnnotation.of(doc.plan, "t1", position=Point(300, 300)))
    assert heard.changes == [Change(ChangeKind.CHANGED, frozenset({"t1", "p1", "p2"}))]
    heard.changes.clear()
    doc.apply(ReplaceAnnotation.of(doc.plan, "p3", entry=Point(1, 1)))
    assert heard.changes == [Change(ChangeKind.CHANGED, frozenset({"p3"}))]


def test_removing_an_image_announces_annotations_before_the_image_and_undo_the_reverse():
    doc, heard = open_document()
    edit = RemoveImage.of(doc.plan, "im2")
    doc.apply(edit)
    assert heard.changes == [
        Change(ChangeKind.REMOVED, frozenset({"n1"})),
        Change(ChangeKind.IMAGES, frozenset({"im2"})),
    ]
    heard.changes.clear()
    doc.revert(edit)
    assert heard.changes == [
        Change(ChangeKind.IMAGES, frozenset({"im2"})),
        Change(ChangeKind.ADDED, frozenset({"n1"})),
    ]


def test_image_and_plan_field_changes():
    doc, heard = open_document()
    doc.apply(ReplaceImage.of(doc.plan, "im1", region="sacroiliac_pelvis"))
    doc.apply(SetPlanFields.of(doc.plan, title="Sacroiliac", patient_weight_kg=70.0))
    assert heard.changes == [
        Change(ChangeKind.IMAGES, frozenset({"im1"})),
        Change(ChangeKind.PLAN, frozenset({"title", "patient_weight_kg"})),
    ]


def test_a_paste_announces_every_added_annotation_at_once():
    doc, heard = open_document()
    copies = copy_annotations(doc.plan, ["t1", "p1"], "im2", 0)
    doc.apply(paste(copies))
    assert heard.changes == [Change(ChangeKind.ADDED, frozenset(a.id for a in copies))]


def test_listeners_choose_kinds_and_can_disconnect():
    doc = PlanDocument(lumbar_plan())
    plan_only, everything = Recorder(), Recorder()
    doc.connect(plan_only, kinds=[ChangeKind.PLAN])
    disconnect = doc.connect(everything)
    doc.apply(SetPlanFields.of(doc.plan, note="after session"))
    doc.apply(AddAnnotation(Caliper("im1", Point(0, 0), Point(0, 9), id="c9")))
    assert [c.kind for c in plan_only.changes] == [ChangeKind.PLAN]
    assert [c.kind for c in everything.changes] == [ChangeKind.PLAN, ChangeKind.ADDED]
    disconnect()
    doc.apply(SetPlanFields.of(doc.plan, note="again"))
    assert len(everything.changes) == 2 and len(plan_only.changes) == 2
    with pytest.raises(ValueError):
        doc.connect(plan_only, kinds=["colour"])  # type: ignore[list-item]


def test_an_edit_that_does_not_fit_changes_nothing_and_says_nothing():
    doc, heard = open_document()
    before = doc.plan
    with pytest.raises(EditError):
        doc.apply(AddAnnotation(Target("im1", Point(1, 1), id="t1")))
    assert doc.plan is before and doc.revision == 0 and heard.changes == []


def test_a_broken_listener_does_not_silence_the_others():
    doc = PlanDocument(lumbar_plan())

    def broken(change: Change) -> None:
        raise RuntimeError("view crashed")

    heard = Recorder()
    doc.connect(broken)
    doc.connect(heard)
    with pytest.raises(RuntimeError, match="view crashed"):
        doc.apply(SetPlanFields.of(doc.plan, title="x"))
    assert heard.changes == [Change(ChangeKind.PLAN, frozenset({"title"}))]
    assert doc.plan.title == "x"


def test_revision_and_unsaved_mark_follow_undo_and_redo():
    doc = PlanDocument(lumbar_plan())
    assert not doc.is_modified and doc.revision == 0
    move = ReplaceAnnotation.of(doc.plan, "t1", position=Point(1, 2))
    doc.apply(move)
    assert doc.is_modified and doc.revision == 1
    doc.revert(move)  # undo back to the opened plan
    assert not doc.is_modified and doc.revision == 2
    doc.apply(move)  # redo
    doc.mark_clean()  # saved
    assert not doc.is_modified and doc.clean_revision == 3
    doc.revert(move)
    assert doc.is_modified
    doc.apply(move)
    assert not doc.is_modified
    # A new edit after undoing past the save: modified, even though as many steps were taken.
    doc.revert(move)
    doc.apply(SetPlanFields.of(doc.plan, title="other"))
    assert doc.is_modified


def test_a_drag_that_ends_where_it_began_leaves_the_plan_unmodified():
    doc = PlanDocument(lumbar_plan())
    there = ReplaceAnnotation.of(doc.plan, "c1", gesture="g", a=Point(50, 50))
    doc.apply(there)
    back = ReplaceAnnotation.of(doc.plan, "c1", gesture="g", a=Point(10, 10))
    doc.apply(back)
    assert doc.revision == 2 and not doc.is_modified
    merged = there.merge_with(back)
    assert merged is not None and merged.is_noop  # the undo stack can drop it


def test_changes_between_ignores_identical_values_rebuilt():
    plan = lumbar_plan()
    assert changes_between(plan, lumbar_plan()) == ()
