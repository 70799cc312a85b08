"""Carry forward: a prior session's sites (names, kinds, injectate) copied into today's plan,
unplaced or at the same positions, as one undo step, each site once; the dialog; and placing an
unplaced one by a click. (The rule without a display: tests/core/test_carry_forward.py.)"""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from prolo_planner.core.carry_forward import (
    CarryMode,
    carry_forward,
    image_choices,
    unplaced_targets,
)
from prolo_planner.core.edits import RemoveAnnotations
from prolo_planner.core.plan import NeedlePath, Plan, SiteStatus, Target
from prolo_planner.core.safety import WarningCode
from prolo_planner.imaging.open import open_image
from prolo_planner.ui.annotation_layer import AnnotationLayer
from prolo_planner.ui.plan_controller import PlanController
from prolo_planner.ui.sessions.carry_forward import CarryForwardDialog, PlaceTargetTool
from prolo_planner.ui.viewer_pane import ViewerPane
from tests.ui.sessions_support import demo_fixture, store_dir_fixture  # noqa: F401


@pytest.fixture
def plans(demo) -> tuple[Plan, PlanController]:
    """Last session's plan, and today's with its targets taken out (a fresh start)."""
    prior = demo.repo.load_plan(demo.second)
    today = demo.repo.load_plan(demo.today)
    bare = today.with_annotations(
        a for a in today.annotations if not isinstance(a, Target | NeedlePath)
    )
    return prior, PlanController(bare)


def _essentials(t: Target) -> tuple:
    return (t.name, t.kind, t.side, t.injectate)


def test_unplaced_copies_keep_names_kinds_and_injectate_as_one_undo_step(plans):
    prior, controller = plans
    today_image = controller.plan.images[0]
    choice = image_choices(prior, controller.plan)[0]
    assert choice.in_today and choice.image.id == today_image.id
    before = controller.plan
    controller.push(carry_forward(prior, controller.plan, CarryMode.UNPLACED, choice).edit)
    copies = controller.plan.targets()
    assert [_essentials(t) for t in copies] == [_essentials(t) for t in prior.targets()]
    assert all(t.position is None and t.image_id == today_image.id for t in copies)
    assert all(t.status is SiteStatus.PLANNED for t in copies)  # last time's were injected
    assert {t.id for t in copies}.isdisjoint({t.id for t in prior.targets()})
    assert unplaced_targets(controller.plan) == copies
    assert not any(isinstance(a, NeedlePath) for a in controller.plan.annotations)
    # Listed apart from the totals, and the warnings list them as not placed yet.
    codes = [w.code for w in controller.warnings]
    assert codes.count(WarningCode.TARGET_NOT_PLACED) == len(copies)
    assert controller.undo_stack.count() == 1
    assert controller.undo_stack.text(0) == "Carry forward 4 sites unplaced"
    controller.undo()
    assert controller.plan == before


def test_same_positions_with_needle_paths_on_todays_image(plans):
    prior, controller = plans
    choice = image_choices(prior, controller.plan)[0]
    controller.push(carry_forward(prior, controller.plan, CarryMode.SAME_POSITIONS, choice).edit)
    copies = controller.plan.targets()
    assert [t.position for t in copies] == [t.position for t in prior.targets()]
    paths = [a for a in controller.plan.annotations if isinstance(a, NeedlePath)]
    prior_paths = [a for a in prior.annotations if isinstance(a, NeedlePath)]
    assert len(paths) == len(prior_paths) > 0
    by_name = {t.id: t.name for t in copies}
    prior_names = {t.id: t.name for t in prior.targets()}
    assert sorted((by_name[p.target_id], p.entry) for p in paths) == sorted(
        (prior_names[p.target_id], p.entry) for p in prior_paths
    )
    assert all(controller.plan.path_end(p) is not None for p in paths)


def test_only_the_ticked_targets_onto_a_prior_image_added_to_today(plans):
    prior, controller = plans
    choices = image_choices(prior, controller.plan)
    prior_only = [c for c in choices if not c.in_today]
    # The clip is today's; the long-axis still and the transverse view are offered from before.
    assert len(prior_only) == 2
    long_axis = next(c for c in prior_only if c.image.id == prior.targets()[0].image_id)
    wanted = [t.id for t in prior.targets()[:2]]
    n_images = len(controller.plan.images)
    controller.push(
        carry_forward(prior, controller.plan, CarryMode.SAME_POSITIONS, long_axis, wanted).edit
    )
    plan = controller.plan
    assert len(plan.images) == n_images + 1
    added = plan.images[-1]
    assert added.id != long_axis.image.id and added.ref == long_axis.image.ref
    assert [t.name for t in plan.targets()] == [t.name for t in prior.targets()[:2]]
    assert all(t.image_id == added.id for t in plan.targets())
    controller.undo()
    assert len(controller.plan.images) == n_images  # the image goes with the one undo


def test_nothing_ticked_says_so(plans):
    prior, controller = plans
    choice = image_choices(prior, controller.plan)[0]
    result = carry_forward(prior, controller.plan, CarryMode.UNPLACED, choice, [])
    assert result.edit is None and result.nothing_chosen
    assert result.message() == "Nothing carried forward: no site was ticked"


def test_frames_are_kept_only_where_the_image_has_them(plans):
    prior, controller = plans
    on_frame = replace(prior.targets()[0], frame=30)
    prior = prior.with_annotations(
        on_frame if a.id == on_frame.id else a for a in prior.annotations
    )
    clip = image_choices(prior, controller.plan)[0]  # today's clip: 50 frames
    edit = carry_forward(prior, controller.plan, CarryMode.SAME_POSITIONS, clip, [on_frame.id]).edit
    assert edit.edits[0].annotation.frame == 30
    short = replace(clip, image=replace(clip.image, ref=replace(clip.image.ref, frame_count=10)))
    edit = carry_forward(
        prior, controller.plan, CarryMode.SAME_POSITIONS, short, [on_frame.id]
    ).edit
    assert edit.edits[0].annotation.frame is None


def test_dialog_leaves_sites_already_planned_today_unticked(qtbot, demo):
    prior = demo.repo.load_plan(demo.second)
    today = demo.repo.load_plan(demo.today)
    kept = today.targets()[0]
    today = today.with_annotations(
        a
        for a in today.annotations
        if not (
            isinstance(a, Target | NeedlePath)
            and kept.id not in (a.id, getattr(a, "target_id", ""))
        )
    )
    dialog = CarryForwardDialog(prior, today, "the session of 2026-02-21")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    ticked = {prior.annotation(i).name for i in dialog.chosen_ids()}
    assert kept.name not in ticked
    assert ticked == {t.name for t in prior.targets()} - {kept.name}
    # The site already planned is greyed, says why, and cannot be ticked.
    row = next(
        dialog.targets.item(i)
        for i in range(dialog.targets.count())
        if dialog.targets.item(i).text().startswith(kept.name)
    )
    assert row.text() == f"{kept.name} (midline) — already in today's plan: not added again"
    assert not row.flags() & Qt.ItemFlag.ItemIsEnabled
    assert dialog.note.text() == (
        "3 sites to carry forward; 1 already in today's plan (greyed) will not be added again"
    )
    assert dialog.mode is CarryMode.UNPLACED and not dialog.image.isEnabled()
    # On its round indicator: the button is wider than what answers a click.
    qtbot.mouseClick(
        dialog.same, Qt.MouseButton.LeftButton, pos=QPoint(8, dialog.same.height() // 2)
    )
    assert dialog.mode is CarryMode.SAME_POSITIONS and dialog.image.isEnabled()
    dialog.image.setCurrentIndex(0)
    result = dialog.result(today.images[0].id)
    assert result.edit is not None and len(result.carried) == 3
    for i in range(dialog.targets.count()):
        dialog.targets.item(i).setCheckState(Qt.CheckState.Unchecked)
    # Nothing ticked: the dialog says so, and its button cannot be pressed.
    assert dialog.note.text() == "No site ticked: tick the sites to carry forward."
    assert not dialog.ok.isEnabled()
    assert dialog.result().message() == "Nothing carried forward: no site was ticked"


def test_carrying_forward_into_a_plan_that_has_the_sites_adds_none_and_says_why(qtbot, demo):
    """Issue 10: carry forward duplicated sites already in today's plan and doubled the
    totals. Today's demo draft plans the four sites the second session treated."""
    prior = demo.repo.load_plan(demo.second)
    controller = PlanController(demo.repo.load_plan(demo.today))
    before = controller.plan
    dialog = CarryForwardDialog(prior, before, "the session of 2026-02-21")
    qtbot.addWidget(dialog)
    assert dialog.chosen_ids() == [] and not dialog.ok.isEnabled()
    assert dialog.note.text() == (
        "Every site of that session is already in today's plan: nothing to carry."
    )
    # Even asked for by id, each site is skipped with its reason, and nothing is pushed.
    choice = image_choices(prior, before)[0]
    result = carry_forward(
        prior, before, CarryMode.UNPLACED, choice, [t.id for t in prior.targets()]
    )
    assert result.edit is None and result.carried == ()
    assert result.message() == (
        "Nothing carried forward. not carried: "
        + "; ".join(f"{t.name} (midline), already in today's plan" for t in prior.targets())
    )


def test_placing_an_unplaced_target_by_clicking_the_image(qtbot, plans):
    prior, controller = plans
    choice = image_choices(prior, controller.plan)[0]
    controller.push(carry_forward(prior, controller.plan, CarryMode.UNPLACED, choice).edit)
    target = unplaced_targets(controller.plan)[0]
    image = controller.plan.images[0]
    pane = ViewerPane()
    qtbot.addWidget(pane)
    pane.resize(800, 600)
    pane.show()
    source = open_image(image.ref.path)
    pane.set_source(source)
    layer = AnnotationLayer(pane.view, controller)
    layer.show_image(image.id, source.frame_count)
    pane.frame_changed.connect(layer.set_frame)
    qtbot.waitUntil(lambda: pane.view.frame is not None)
    pane.cine.seek(12)
    done = []
    tool = PlaceTargetTool(
        controller, target.id, lambda: image.id, lambda: pane.cine.index, lambda: done.append(1)
    )
    pane.view.set_tool(tool)
    at = pane.view.viewport_point(QPointF(300.0, 200.0)).toPoint()
    qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    placed = controller.plan.annotation(target.id)
    assert abs(placed.position.x - 300.0) <= 1.0 and abs(placed.position.y - 200.0) <= 1.0
    assert placed.frame == 12 and done == [1]
    assert target.id in layer.shown_ids() and controller.selection == {target.id}
    assert len(unplaced_targets(controller.plan)) == 3
    controller.undo()
    assert controller.plan.annotation(target.id).position is None
    source.close()
    # Nothing is placed when the target has gone meanwhile.
    controller.push(RemoveAnnotations.of(controller.plan, [target.id]))
    tool.release(placed.position, Qt.KeyboardModifier.NoModifier)
    assert controller.plan.find(target.id) is None
