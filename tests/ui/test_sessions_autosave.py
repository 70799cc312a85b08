"""Autosave: every change lands in the store within two seconds without a Save button, a drag is
one save, a signed session or one open elsewhere is read-only with the reason, a lease taken
over turns the window read-only, and closing saves what is pending and frees the session."""

from __future__ import annotations

import shutil
import time
from dataclasses import replace

from prolo_planner.core.edits import AddImage, ReplaceAnnotation
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import ImagePlan, ImageRef, Target
from prolo_planner.store.repository import Repository
from prolo_planner.ui.plan_controller import PlanController
from prolo_planner.ui.sessions.autosave import MAX_DELAY_MS, AutosaveService
from tests.conftest import SAMPLE_IMAGES
from tests.ui.sessions_support import demo_fixture, store_dir_fixture  # noqa: F401


def _open(repo: Repository, session_id: int, **kw) -> tuple[PlanController, AutosaveService]:
    opened = repo.open_session(session_id)
    controller = PlanController(opened.plan)
    service = AutosaveService(
        repo, session_id, controller, opened.lease, opened.read_only_reason, **kw
    )
    return controller, service


def _move_first_target(controller: PlanController, dx: float, gesture: str | None = None) -> Point:
    t = controller.plan.targets()[0]
    moved = Point(t.position.x + dx, t.position.y)
    controller.push(ReplaceAnnotation.of(controller.plan, t.id, gesture, position=moved))
    return moved


def _stored_first_target(store_dir, session_id: int) -> Target:
    """What another process would read: a fresh connection to the store file."""
    with Repository.open(store_dir) as other:
        return other.load_plan(session_id).targets()[0]


def test_a_change_is_in_the_store_within_two_seconds_without_saving(qtbot, demo, store_dir):
    controller, service = _open(demo.repo, demo.today)
    assert not service.read_only and service.lease is not None
    revision = demo.repo.plan_revision(demo.today)
    moved = _move_first_target(controller, 7.0)
    assert service.pending and controller.is_modified
    # Scheduled well inside the promise, whatever else happens.
    assert 0 < service._timer.remainingTime() <= MAX_DELAY_MS < 2000
    with qtbot.waitSignal(service.saved, timeout=3000) as saved:
        pass
    assert saved.args[0].changed and saved.args[0].revision == revision + 1
    assert _stored_first_target(store_dir, demo.today).position == moved
    assert not service.pending and not controller.is_modified  # the unsaved mark is gone
    service.close()


def test_a_drag_is_saved_once_and_never_later_than_the_longest_wait(qtbot, demo):
    controller, service = _open(demo.repo, demo.today, delay_ms=400, max_delay_ms=900)
    revision = demo.repo.plan_revision(demo.today)
    saves = []
    service.saved.connect(saves.append)
    gesture = controller.begin_gesture()
    started = time.monotonic()
    last = None
    # Keep dragging for longer than the quiet time would ever allow: the save must not wait.
    while time.monotonic() - started < 1.3:
        last = _move_first_target(controller, 1.0, gesture)
        qtbot.wait(100)
        if saves:
            break
    assert saves, "a long drag postponed the save past the longest wait"
    assert (saves[0].revision, len(saves)) == (revision + 1, 1)
    qtbot.waitUntil(lambda: not service.pending, timeout=2000)
    assert demo.repo.load_plan(demo.today).targets()[0].position == last
    service.close()


def test_an_unchanged_plan_writes_nothing(qtbot, demo):
    controller, service = _open(demo.repo, demo.today)
    revision = demo.repo.plan_revision(demo.today)
    before = demo.repo.plan_revision(demo.today)
    moved = _move_first_target(controller, 3.0)
    _move_first_target(controller, -3.0)  # back where it was
    result = service.save_now()
    assert result is not None and not result.changed
    assert demo.repo.plan_revision(demo.today) == before == revision
    assert moved != controller.plan.targets()[0].position
    service.close()


def test_a_signed_session_is_read_only_with_the_reason_and_nothing_is_saved(qtbot, demo):
    controller, service = _open(demo.repo, demo.second)
    assert service.read_only and service.lease is None
    assert "signed on" in service.read_only_reason and "amend it" in service.read_only_reason
    revision = demo.repo.plan_revision(demo.second)
    _move_first_target(controller, 5.0)
    assert not service.pending
    assert service.save_now() is None
    assert demo.repo.plan_revision(demo.second) == revision
    service.close()


def test_a_second_window_on_the_same_session_is_read_only_with_a_notice(qtbot, demo, store_dir):
    _c1, first = _open(demo.repo, demo.today)
    with Repository.open(store_dir, who="dr_other") as other_repo:
        controller, second = _open(other_repo, demo.today)
        assert second.read_only and second.lease is None
        reason = second.read_only_reason
        assert reason.startswith("open for editing in another Prolo Planner window since")
        assert "user dr_test" in reason
        _move_first_target(controller, 5.0)
        assert second.save_now() is None
        second.close()
    first.close()
    # The first window gave the session back: a third opens it for editing.
    with Repository.open(store_dir) as third_repo:
        _c3, third = _open(third_repo, demo.today)
        assert not third.read_only
        third.close()


def test_a_lease_taken_over_turns_the_window_read_only_and_says_so(qtbot, demo, store_dir):
    controller, service = _open(demo.repo, demo.today, heartbeat_ms=50)
    assert service._heartbeat.isActive()
    # Another window that believes this one has been silent for a minute takes over.
    later = time.time() + 60
    with Repository.open(store_dir, who="dr_other", clock=lambda: later) as other:
        taken = other.take_lease(demo.today)
        assert taken.taken_over_from is not None
        _move_first_target(controller, 4.0)
        with qtbot.waitSignal(service.became_read_only, timeout=3000) as lost:
            pass
        assert "open for editing in another Prolo Planner window" in lost.args[0]
        assert "Changes since the last save were not stored" in lost.args[0]
        assert service.read_only and service.lease is None
        # The other window's work is not overwritten.
        assert (
            other.load_plan(demo.today).targets()[0] == demo.repo.load_plan(demo.today).targets()[0]
        )
        other.release(taken)
    service.close()


def test_a_lost_lease_nobody_else_holds_is_taken_back(qtbot, demo):
    _controller, service = _open(demo.repo, demo.today)
    demo.repo.release(service.lease)  # e.g. a sleep long enough for a cleanup to remove it
    assert service.heartbeat()
    assert demo.repo.lease_holder(demo.today).instance_id == demo.repo.instance_id
    service.close()
    assert demo.repo.lease_holder(demo.today) is None


def test_closing_saves_what_is_pending_and_frees_the_session(qtbot, demo, store_dir):
    controller, service = _open(demo.repo, demo.today, delay_ms=60_000, max_delay_ms=60_000)
    moved = _move_first_target(controller, 9.0)
    assert service.pending
    service.close()
    assert _stored_first_target(store_dir, demo.today).position == moved
    assert demo.repo.lease_holder(demo.today) is None
    service.close()  # twice is harmless
    _move_first_target(controller, 1.0)
    assert not service.pending  # a closed service saves nothing more


def test_an_image_opened_from_outside_is_copied_into_the_library(qtbot, demo, tmp_path):
    original = tmp_path / "scan.dcm"
    shutil.copy(SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm", original)
    controller, service = _open(demo.repo, demo.today)
    image = ImagePlan(ImageRef(str(original)), region="lumbar_spine")
    controller.push(AddImage(image))
    assert service.save_now().changed
    original.unlink()  # the file moves away: the session keeps its copy
    stored = demo.repo.load_plan(demo.today).image(image.id)
    library = demo.repo.library.root
    assert stored.ref.path.startswith(str(library)) and stored.ref.sha256
    assert stored.ref.sha256 in {i.sha256 for i in demo.repo.images_of(demo.today)}
    # The copy is made once; later saves reuse it.
    controller.push(
        ReplaceAnnotation.of(controller.plan, controller.plan.targets()[0].id, name="renamed")
    )
    assert service.save_now().changed
    assert demo.repo.load_plan(demo.today).image(image.id).ref == stored.ref
    service.close()


def test_following_a_replaced_workspace_of_the_same_session(qtbot, demo):
    controller, service = _open(demo.repo, demo.today)
    fresh = PlanController(replace(controller.plan, title="reopened"))
    service.set_controller(fresh)
    _move_first_target(controller, 2.0)  # the old workspace is no longer followed
    assert not service.pending
    moved = _move_first_target(fresh, 2.0)
    assert service.save_now().changed
    loaded = demo.repo.load_plan(demo.today)
    assert loaded.title == "reopened" and loaded.targets()[0].position == moved
    service.close()
