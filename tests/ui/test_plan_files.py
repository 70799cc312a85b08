"""File > New / Open / Save plan: the unsaved mark, the prompt before unsaved work is lost, a
plan whose image moved, and a plan from a newer Prolo Planner refused with its own reason."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from PySide6.QtGui import QCloseEvent

from prolo_planner.core.edits import ReplaceImage
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import Target
from prolo_planner.store.plan_file import load_plan
from prolo_planner.ui.plan_files import UnsavedChoice
from tests.ui.plan_window_support import LUMBAR, add, make_window, open_images


def test_the_unsaved_mark_follows_saving_and_undo(qtbot, tmp_path) -> None:
    w = make_window(qtbot)
    assert w.windowTitle() == "Prolo Planner"  # nothing open, nothing to save
    open_images(qtbot, w, LUMBAR)
    assert w.windowTitle() == "Prolo Planner — Untitled plan *"
    path = tmp_path / "lumbar.prolo.json"
    w.plan_files.choose_save_path = lambda _parent, suggested: (
        path if suggested.name == f"plan {dt.date.today().isoformat()}.prolo.json" else None
    )
    w.plan_files.act_save.trigger()  # no file yet: Save asks where, as Save as does
    assert path.is_file() and w.windowTitle() == "Prolo Planner — lumbar"

    target = add(w, Target(w.current_image_id(), Point(300, 250)))
    assert w.windowTitle() == "Prolo Planner — lumbar *"
    w.edit_actions.act_undo.trigger()
    assert w.windowTitle() == "Prolo Planner — lumbar"  # back to what was saved
    w.edit_actions.act_redo.trigger()
    assert w.windowTitle() == "Prolo Planner — lumbar *"
    w.plan_files.act_save.trigger()
    assert w.windowTitle() == "Prolo Planner — lumbar"
    assert load_plan(path).find(target.id) == target


def test_unsaved_work_is_asked_about_before_it_is_lost(qtbot, tmp_path) -> None:
    answers = [UnsavedChoice.CANCEL, UnsavedChoice.CANCEL, UnsavedChoice.SAVE]
    w = make_window(qtbot, answers)
    open_images(qtbot, w, LUMBAR)
    # Images merely opened are not work: a new plan comes without a question.
    assert w.plan_files.new_plan() and w.prompts == []
    target = add(w, Target(w.current_image_id(), Point(300, 250), name="L4-L5"))

    assert not w.plan_files.new_plan()  # Cancel: the plan stays
    assert w.plan.plan.find(target.id) == target and w.prompts == ["Untitled plan"]
    event = QCloseEvent()
    w.closeEvent(event)  # Cancel again: the window stays open
    assert not event.isAccepted() and w.isVisible()

    saved_to = tmp_path / "kept.prolo.json"
    w.plan_files.choose_save_path = lambda _parent, _suggested: saved_to
    assert w.plan_files.new_plan()  # Save: written, then the new plan
    assert load_plan(saved_to).find(target.id) == target
    assert w.plan.plan.annotations == () and len(w.plan.plan.images) == 1
    assert len(w.prompts) == 3


def test_discarding_closes_the_window(qtbot) -> None:
    w = make_window(qtbot, [UnsavedChoice.DISCARD])
    open_images(qtbot, w, LUMBAR)
    add(w, Target(w.current_image_id(), Point(300, 250)))
    assert w.close()
    assert w.prompts == ["Untitled plan"]


def test_a_moved_image_is_located_and_the_plan_points_to_its_new_place(qtbot, tmp_path) -> None:
    moved = tmp_path / "scans"
    moved.mkdir()
    original = tmp_path / "lumbar.dcm"
    shutil.copy(LUMBAR, original)
    w = make_window(qtbot)
    open_images(qtbot, w, original)
    target = add(w, Target(w.current_image_id(), Point(300, 250), name="L4-L5"))
    plan_path = tmp_path / "plan.prolo.json"
    assert w.plan_files.save_as(plan_path)
    new_place = moved / "lumbar.dcm"
    original.rename(new_place)

    fresh = make_window(qtbot)
    asked: list[str] = []

    def locate(_parent, image, folder: Path) -> Path:
        asked.append(image.ref.path)
        assert folder == tmp_path
        return new_place

    fresh.plan_files.locate_image = locate
    assert fresh.plan_files.open_plan(plan_path)
    assert asked == [str(original)]
    image = fresh.plan.plan.images[0]
    assert image.ref.path == str(new_place)
    assert fresh.images[0].path == new_place and fresh.current_image_id() == image.id
    assert fresh.workspace.layer.shown_ids() == {target.id}
    # The new place is a change of the plan (one undo step), to be saved.
    assert fresh.plan.undo_stack.text(0) == "Change image 'lumbar.dcm'"
    assert fresh.windowTitle() == "Prolo Planner — plan *"


def test_an_image_not_located_is_reported_and_its_annotations_kept(qtbot, tmp_path) -> None:
    original = tmp_path / "lumbar.dcm"
    shutil.copy(LUMBAR, original)
    w = make_window(qtbot)
    open_images(qtbot, w, original)
    target = add(w, Target(w.current_image_id(), Point(300, 250)))
    plan_path = tmp_path / "plan.prolo.json"
    assert w.plan_files.save_as(plan_path)
    original.unlink()

    fresh = make_window(qtbot)  # its locate dialog is cancelled
    assert fresh.plan_files.open_plan(plan_path)
    assert fresh.plan.plan.find(target.id) == target and fresh.thumbnails.count() == 0
    lines = fresh.messages.lines()
    assert any("lumbar.dcm" in line and "1 annotation(s) are kept" in line for line in lines)


def test_a_plan_from_a_newer_major_version_is_refused_with_its_reason(qtbot, tmp_path) -> None:
    w = make_window(qtbot)
    open_images(qtbot, w, LUMBAR)
    target = add(w, Target(w.current_image_id(), Point(300, 250)))
    newer = tmp_path / "newer.prolo.json"
    doc = json.loads((Path(__file__).parents[1] / "data/plans/plan-1.0.json").read_text())
    doc["format_version"] = "2.0"
    newer.write_text(json.dumps(doc))
    assert not w.plan_files.open_plan(newer)
    assert w.errors == [
        (
            "Cannot open the plan",
            f"{newer}: made by a newer Prolo Planner (format 2.0); this version reads 1.x",
        )
    ]
    assert w.plan.plan.find(target.id) == target  # the plan open stays as it was


def test_read_only_plans_refuse_edits_and_say_why(qtbot, tmp_path) -> None:
    w = make_window(qtbot)
    open_images(qtbot, w, LUMBAR)
    image_id = w.current_image_id()
    target = add(w, Target(image_id, Point(300, 250)))
    plan = w.plan.plan
    w.set_plan(plan, read_only=True, read_only_reason="signed on 2026-03-01", title="Session 2")
    assert w.banner.isVisible() and "signed on 2026-03-01" in w.banner.text()
    assert w.windowTitle() == "Prolo Planner — Session 2 (read only)"
    assert not w.tool_bar.tool_actions["target"].isEnabled()
    assert w.tool_bar.tool_actions["select"].isEnabled()
    assert not w.properties.isEnabled() and not w.warnings_panel.weight.isEnabled()
    w.plan.select([target.id])
    assert not w.edit_actions.act_delete.isEnabled()
    w.plan.delete()
    assert w.plan.plan == plan
    w.plan.push(ReplaceImage.of(w.plan.plan, image_id, region="hip"))
    assert w.plan.plan == plan and "read only" in w.statusBar().currentMessage()
    assert not w.plan_files.needs_saving()
