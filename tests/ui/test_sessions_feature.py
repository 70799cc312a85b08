"""Sessions in the main window: the Session menu and Patients dock, opening a session editable
or read-only with the reason, autosave, signing, amending, compare and carry forward, two
windows on one session, and what `make run` opens when started without files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from PySide6.QtCore import Qt

from prolo_planner.core.carry_forward import unplaced_targets
from prolo_planner.core.edits import ReplaceAnnotation
from prolo_planner.core.geometry import Point
from prolo_planner.store.records import SessionState
from prolo_planner.store.repository import Repository
from prolo_planner.ui.main_window import MainWindow
from prolo_planner.ui.sessions.carry_forward import CarryForwardDialog
from prolo_planner.ui.sessions.feature import SessionsFeature, install_sessions
from prolo_planner.ui.sessions.startup import Opened, latest_draft, open_on_start
from tests.conftest import pydicom_file
from tests.ui.sessions_support import demo_fixture, store_dir_fixture  # noqa: F401


def _window(qtbot, repo: Repository) -> tuple[MainWindow, SessionsFeature]:
    window = MainWindow()
    qtbot.addWidget(window)
    feature = install_sessions(window, repo)
    feature.confirm = lambda _title, _question: True
    feature.confirm_sign = lambda _parent, _session, _unresolved: True
    window.show()
    return window, feature


def _move_first_target(window: MainWindow, dx: float) -> Point:
    c = window.plan
    t = c.plan.targets()[0]
    moved = Point(t.position.x + dx, t.position.y)
    c.push(ReplaceAnnotation.of(c.plan, t.id, position=moved))
    return moved


def test_menu_and_dock_are_installed(qtbot, demo):
    window, feature = _window(qtbot, demo.repo)
    menu = window.menu("Session")
    texts = [a.text().replace("&", "") for a in menu.actions() if a.text()]
    assert texts[:10] == [
        "Patients…",
        "Find on PACS…",
        "New session",
        "Import images into this session…",
        "Procedure record…",
        "Sign…",
        "Amend…",
        "Resolve conflict…",
        "Compare with previous…",
        "Carry forward…",
    ]
    assert window.findChild(SessionsFeature, "sessions_feature") is feature
    assert feature.dock.objectName() == "patients_dock" and feature.dock.isVisible()
    assert window.dockWidgetArea(feature.dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    # Nothing open yet: nothing to sign.
    feature._update_actions()
    assert not feature.actions["sign"].isEnabled()


def test_choosing_a_patient_shows_the_timeline_and_opening_edits_with_autosave(
    qtbot, demo, store_dir
):
    window, feature = _window(qtbot, demo.repo)
    feature.patients.select_patient(demo.result.patient.id)
    assert feature.timeline.patient.id == demo.result.patient.id
    assert feature.timeline.table.rowCount() == 3
    opened = feature.open_session(demo.today)
    assert opened.lease is not None and not window.plan.read_only
    assert [t.id for t in window.plan.plan.targets()] == [
        t.id for t in demo.repo.load_plan(demo.today).targets()
    ]
    assert "DEMO, Alex" in window.windowTitle() and "2026-03-14 09:30" in window.windowTitle()
    assert not window.banner.isVisible()
    assert window.current_image_id() == window.plan.plan.images[0].id
    moved = _move_first_target(window, 11.0)
    with qtbot.waitSignal(feature.saved, timeout=3000):
        pass
    with Repository.open(store_dir) as other:
        assert other.load_plan(demo.today).targets()[0].position == moved
    # The pain after the treatment, typed in the panel, goes to the store and the timeline.
    feature.form.pain_after.setValue(1)
    assert demo.repo.session(demo.today).pain_after == 1
    row = feature.timeline.row_of(demo.today)
    assert feature.timeline.table.item(row, feature.timeline.column("Pain after")).text() == "1"


def test_a_signed_session_opens_read_only_with_the_reason_and_refuses_edits(qtbot, demo):
    window, feature = _window(qtbot, demo.repo)
    opened = feature.open_session(demo.second)
    assert opened.read_only and window.plan.read_only
    assert window.banner.isVisible()
    assert "signed on" in window.banner.text() and "amend it" in window.banner.text()
    assert feature.form.notice.isVisibleTo(feature.form) and feature.form.read_only
    before = window.plan.plan
    t = before.targets()[0]
    window.plan.push(ReplaceAnnotation.of(before, t.id, position=Point(1, 1)))
    assert window.plan.plan == before
    assert demo.repo.plan_revision(demo.second) == 1
    feature._update_actions()
    assert feature.actions["amend"].isEnabled() and not feature.actions["sign"].isEnabled()


def test_sign_then_amend_keeps_the_signed_version(qtbot, demo):
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    moved = _move_first_target(window, 5.0)
    signed = feature.sign()  # saves what is pending first
    assert signed is not None and signed.state is SessionState.SIGNED
    assert demo.repo.load_plan(demo.today).targets()[0].position == moved
    assert window.plan.read_only and "signed on" in window.banner.text()
    assert demo.repo.lease_holder(demo.today) is None
    amended = feature.amend()
    assert amended is not None and amended.version == 2 and amended.amends == demo.today
    assert feature.session.id == amended.id and not window.plan.read_only
    moved_again = _move_first_target(window, 5.0)
    feature.autosave.save_now()
    assert demo.repo.load_plan(amended.id).targets()[0].position == moved_again
    assert demo.repo.load_plan(demo.today).targets()[0].position == moved  # kept as signed
    assert [r.session.id for r in feature.timeline.rows][0] == amended.id


def test_compare_with_previous_from_the_open_session(qtbot, demo):
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    compare = feature.review.compare_with_previous()
    qtbot.addWidget(compare)
    assert compare is not None and compare.isVisible()
    assert compare.prior_controller.plan == demo.repo.load_plan(demo.second)
    assert "DEMO, Alex" in compare.windowTitle()
    assert compare.ghosts  # last session's sites, faint on today's image
    # Editing today's plan in the main window shows in the compare view.
    moved = _move_first_target(window, 7.0)
    assert compare.current_controller.plan.targets()[0].position == moved
    feature.open_session(demo.first)  # another session: the compare view goes
    assert feature.review.compare_window is None and not compare.isVisible()


def test_a_new_session_then_carry_forward_unplaced_and_place_one(qtbot, demo):
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    feature.sign()
    session = feature.new_session(
        demo.result.patient.id,
        started_at="2026-04-04T10:00",
        region="lumbar_spine",
        side="midline",
        pain_before=2,
    )
    assert session is not None and feature.session.id == session.id
    assert window.plan.plan.patient_weight_kg == 72.0  # from the patient
    assert window.plan.plan.targets() == ()
    prior = demo.repo.load_plan(demo.today)
    # Today has no image yet: the dialog offers last session's clip, at the same positions.
    dialog = CarryForwardDialog(prior, window.plan.plan, "the session of 2026-03-14")
    qtbot.addWidget(dialog)
    assert not dialog.unplaced.isEnabled() and dialog.same.isChecked()
    assert feature.review.carry_forward(dialog=dialog)
    plan = window.plan.plan
    assert [t.name for t in plan.targets()] == [t.name for t in prior.targets()]
    assert [t.position for t in plan.targets()] == [t.position for t in prior.targets()]
    assert len(plan.images) == 1 and plan.images[0].ref.sha256 == prior.images[0].ref.sha256
    feature.autosave.save_now()
    assert [t.name for t in demo.repo.load_plan(session.id).targets()] == [
        t.name for t in prior.targets()
    ]
    window.plan.undo()  # one step takes it all back
    assert window.plan.plan.targets() == () and window.plan.plan.images == ()


def test_unplaced_targets_are_placed_from_the_session_menu(qtbot, demo):
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    c = window.plan
    c.push(
        ReplaceAnnotation.of(c.plan, c.plan.targets()[0].id, position=None)
    )  # as if carried forward unplaced
    target = unplaced_targets(c.plan)[0]
    feature.review.fill_place_menu()
    actions = feature.place_menu.actions()
    assert [a.text() for a in actions] == [target.name]
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: window.pane.view.frame is not None)
    view = window.pane.view
    tool_before = view.tool
    actions[0].trigger()
    assert view.tool is not tool_before  # the next click places the target
    at = view.viewport_point(view.centre).toPoint()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    placed = c.plan.annotation(target.id)
    assert placed.position is not None
    assert (
        abs(placed.position.x - view.centre.x()) < 2
        and abs(placed.position.y - view.centre.y()) < 2
    )
    assert view.tool is tool_before  # the previous tool is back
    assert not unplaced_targets(c.plan)


def test_two_windows_on_one_session_the_second_is_read_only_with_a_notice(qtbot, demo, store_dir):
    first, first_feature = _window(qtbot, demo.repo)
    first_feature.open_session(demo.today)
    other_repo = Repository.open(store_dir, who="dr_other")
    second, second_feature = _window(qtbot, other_repo)
    opened = second_feature.open_session(demo.today)
    assert opened.read_only and second.plan.read_only
    text = second.banner.text()
    assert text.startswith("Read only: open for editing in another Prolo Planner window since")
    assert "user dr_test" in text
    # Its edits are refused; the first window's edits are saved as usual.
    before = second.plan.plan
    second.plan.push(ReplaceAnnotation.of(before, before.targets()[0].id, position=Point(2, 2)))
    assert second.plan.plan == before
    moved = _move_first_target(first, 3.0)
    first_feature.autosave.save_now()
    assert other_repo.load_plan(demo.today).targets()[0].position == moved
    second_feature.close()
    first_feature.close()


def test_another_plan_in_the_window_leaves_the_session_saved(qtbot, demo):
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    moved = _move_first_target(window, 4.0)
    window.new_plan()
    assert feature.session is None and feature.autosave is None
    assert demo.repo.load_plan(demo.today).targets()[0].position == moved
    assert demo.repo.lease_holder(demo.today) is None


def test_closing_the_window_saves_and_frees_the_session(qtbot, demo, store_dir):
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    moved = _move_first_target(window, 6.0)
    window.close()
    qtbot.waitUntil(lambda: demo.repo.db.closed, timeout=3000)
    with Repository.open(store_dir) as other:
        assert other.load_plan(demo.today).targets()[0].position == moved
        assert other.lease_holder(demo.today) is None


def test_start_without_files_opens_the_demo_on_an_empty_store(qtbot, tmp_path):
    repo = Repository.open(tmp_path / "new")
    window, feature = _window(qtbot, repo)
    result = open_on_start(feature)
    assert result.opened is Opened.DEMO
    patient = repo.patient_by_mrn("DEMO-0001")
    rows = repo.sessions_of(patient.id)
    assert result.session_id == rows[0].session.id and not rows[0].session.is_signed
    assert feature.session.id == result.session_id and not window.plan.read_only
    assert len(window.plan.plan.targets()) == 4
    assert feature.timeline.table.rowCount() == 3
    qtbot.waitUntil(lambda: window.pane.view.frame is not None)  # the clip is on screen
    feature.close()
    # The next start opens the same draft, and adds nothing.
    repo = Repository.open(tmp_path / "new")
    window2, feature2 = _window(qtbot, repo)
    again = open_on_start(feature2)
    assert again == replace(result, opened=Opened.LATEST_DRAFT)
    assert len(repo.search_patients("")) == 1
    feature2.close()


def test_start_with_no_draft_shows_the_patients(qtbot, demo):
    demo.repo.sign(demo.today)
    assert latest_draft(demo.repo) is None
    window, feature = _window(qtbot, demo.repo)
    feature.dock.hide()
    result = open_on_start(feature)
    assert result.opened is Opened.NOTHING and feature.session is None
    assert feature.dock.isVisible()


@pytest.mark.parametrize("amend", [False, True])
def test_latest_draft_skips_replaced_versions(demo, amend):
    if amend:
        new = demo.repo.amend(demo.second)
        demo.repo.update_session(new.id, notes="amended last")
        assert latest_draft(demo.repo) == new.id
    else:
        assert latest_draft(demo.repo) == demo.today


def _dicom_of(tmp_path, patient_id: str, name: str, birth: str):
    ds = pydicom.dcmread(pydicom_file("examples_rgb_color.dcm"))
    ds.PatientID, ds.PatientName, ds.PatientBirthDate = patient_id, name, birth
    out = tmp_path / f"{patient_id}.dcm"
    ds.save_as(out)
    return out


def test_importing_images_into_the_open_session(qtbot, demo, tmp_path):
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    asked: list[list[str]] = []

    def whose(_parent, patient, names) -> bool:
        asked.append(list(names))
        return patient.mrn == "DEMO-0001"

    feature.door.ask_whose = whose
    feature.held.confirm = lambda _parent, _held, _session: True
    ours = _dicom_of(tmp_path, "DEMO-0001", "DEMO^Alex", "19710520")
    theirs = _dicom_of(tmp_path, "OTHER-7", "OTHER^Person", "19500101")
    still = tmp_path / "grab.png"
    assert cv2.imwrite(str(still), np.full((60, 80, 3), 90, np.uint8))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    before = len(window.plan.plan.images)
    result = feature.import_files([ours, theirs, still, broken])
    assert len(result.added) == 2 and len(result.held) == 1 and len(result.problems) == 1
    assert asked == [["grab.png"]]  # the still names nobody: asked once
    assert result.problems[0].path.name == "broken.png"
    plan = window.plan.plan
    assert len(plan.images) == before + 2
    library = str(demo.repo.library.root)
    assert all(plan.image(i).ref.path.startswith(library) for i in result.added)
    assert {plan.image(i).ref.name for i in result.added} == {"DEMO-0001.dcm", "grab.png"}
    linked = {i.sha256 for i in demo.repo.images_of(demo.today)}
    assert {plan.image(i).ref.sha256 for i in result.added} <= linked
    # The other patient's file is listed with the reason, not filed.
    (line,) = feature.held.lines()
    assert line.startswith("OTHER-7.dcm (Session > Import): patient ID OTHER-7 in the file")
    assert feature.dock.isVisible() and feature.held.isVisibleTo(feature.panel)
    # Attaching it is the clinician's decision, asked and audited, for this session.
    feature.held.attach_button.click()
    assert len(window.plan.plan.images) == before + 3
    assert feature.held.lines() == [] and not feature.held.isVisibleTo(feature.panel)
    assert "by the clinician's decision" in demo.repo.audit_log(session_id=demo.today)[-1].detail
    feature.autosave.save_now()
    other_sha = {i.name: i.sha256 for i in demo.repo.images_of(demo.today)}["OTHER-7.dcm"]
    window.plan.undo()  # the attachment undone: held again, no longer the session's
    feature.autosave.save_now()
    (line,) = feature.held.lines()
    assert line.startswith("OTHER-7.dcm (Session > Import): patient ID OTHER-7 in the file")
    assert other_sha not in {i.sha256 for i in demo.repo.images_of(demo.today)}
    window.plan.undo()  # the import was one step, the attachment another
    assert len(window.plan.plan.images) == before


def test_the_held_list_belongs_to_its_session(qtbot, demo, tmp_path):
    """Issue 10: the held-back list outlived its session, one click from filing the image
    under the next patient. Now it shows the open session's own list, or none."""
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    feature.import_files([pydicom_file("examples_ybr_color.dcm")])
    assert len(feature.held.lines()) == 1
    other = demo.repo.create_patient("X-9", "OTHER^Olga")
    hers = demo.repo.create_session(other.id)
    feature.open_session(hers.id)
    assert feature.held.lines() == [] and not feature.held.isVisibleTo(feature.panel)
    window.new_plan()  # the window leaves the session: no session, no list
    feature.open_session(demo.today)
    assert len(feature.held.lines()) == 1  # still held for today's session
    assert feature.held.attach_button.isEnabled()
    feature.sign()  # signed: still listed, but nothing can be attached to it any more
    assert len(feature.held.lines()) == 1 and not feature.held.attach_button.isEnabled()


def test_library_images_show_the_clinicians_file_name_not_the_hash(qtbot, demo):
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    library = demo.repo.library.root
    assert window.images[0].path.is_relative_to(library)  # the hash-named copy is what opened
    captions = [window.thumbnails.item(r).text().split("\n")[0] for r in range(len(window.images))]
    originals = [demo.repo.image(im.ref.sha256).original_path for im in window.plan.plan.images]
    assert captions == [Path(p).name for p in originals]
    assert "lumbar_long_axis_clip.mp4" in captions
    row = captions.index("lumbar_long_axis_clip.mp4")
    window.show_image(row)
    assert "  File: lumbar_long_axis_clip.mp4" in window.metadata.plain_text().splitlines()


def test_no_text_names_an_image_by_the_librarys_hash(qtbot, demo):
    """Issue 10: "Remove image '798b8abf...'": the image panel, undo texts, warnings and the
    status bar named images by the library's content hash."""
    import re

    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    hexes = re.compile(r"[0-9a-f]{12,}")
    image = window.plan.plan.images[0]
    assert image.ref.sha256[2:14] in image.ref.path  # the file open is a hash-named copy
    # Uncalibrated on purpose: the warning names the image.
    window.workspace.clear_manual_calibration(image.id)
    window.show_image(0)
    texts = [window.image_properties.name.text(), window.edit_actions.act_undo.text()]
    texts += [
        window.warnings_panel.list.item(i).text() for i in range(window.warnings_panel.list.count())
    ]
    asked = []
    window.confirm_remove = lambda name, n: asked.append((name, n)) or True
    window.close_current_image()
    texts += [window.statusBar().currentMessage(), window.edit_actions.act_undo.text()]
    assert asked == [("lumbar_long_axis_clip.mp4", 9)]
    assert "Remove image 'lumbar_long_axis_clip.mp4'" in window.edit_actions.act_undo.text()
    assert any("lumbar_long_axis_clip.mp4" in t for t in texts[2:-2])  # a warning names it
    assert [t for t in texts if hexes.search(t)] == []


def test_signing_shows_what_is_unresolved_and_the_report_prints_it(qtbot, demo, tmp_path):
    """Issue 10: a plan with a path through an artery (a danger not acknowledged) and three
    targets not placed signed with only "A signed session is read-only"."""
    from prolo_planner.core.edits import AddAnnotation
    from prolo_planner.core.plan import AvoidKind, AvoidZone, NeedlePath, ZoneShape
    from prolo_planner.report.session_export import export_session
    from prolo_planner.ui.sessions.sign_dialog import SignDialog
    from tests.core.test_report_pdf import pdf_text

    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    c = window.plan
    first, *others = c.plan.targets()
    path = next(
        a for a in c.plan.annotations if isinstance(a, NeedlePath) and a.target_id == first.id
    )
    mid = Point((path.entry.x + first.position.x) / 2, (path.entry.y + first.position.y) / 2)
    artery = AvoidZone(
        first.image_id,
        ZoneShape.ELLIPSE,
        (Point(mid.x - 6, mid.y - 6), Point(mid.x + 6, mid.y + 6)),
        kind=AvoidKind.ARTERY,
        name="segmental artery",
    )
    c.push(AddAnnotation(artery))
    for t in others:
        c.push(ReplaceAnnotation.of(c.plan, t.id, position=None))
    asked: list[tuple[str, ...]] = []

    def answer(_parent, _session, items) -> bool:
        asked.append(tuple(items))
        return False  # the clinician reads the list and does not sign

    feature.confirm_sign = answer
    assert feature.sign() is None and not demo.repo.session(demo.today).is_signed
    (items,) = asked
    assert len(items) == 4
    assert items[0].startswith("Danger not acknowledged: ")
    assert "segmental artery" in items[0]
    assert all(i.endswith("is carried forward and not placed on an image yet") for i in items[1:])
    assert all(t.name in " ".join(items) for t in others)
    # The dialog: nothing signs until the list is confirmed.
    dialog = SignDialog(demo.repo.session(demo.today), items)
    qtbot.addWidget(dialog)
    assert dialog.lines() == list(items) and not dialog.sign_button.isEnabled()
    dialog.confirm.setChecked(True)
    assert dialog.sign_button.isEnabled() and dialog.sign_button.text() == "Sign over these"
    # Confirmed: the signature keeps the list, the audit log and the report say it.
    feature.confirm_sign = lambda _parent, _session, _items: True
    signed = feature.sign()
    assert signed is not None and signed.signed_over == items
    assert "signed over 4 unresolved" in demo.repo.audit_log(session_id=demo.today)[-1].detail
    (pdf,) = export_session(demo.repo, demo.today, ["pdf"], tmp_path)
    flat = " ".join(pdf_text(pdf, layout=False).split())
    assert "Signed over, unresolved when the plan was signed:" in flat
    assert "segmental artery" in flat.split("Signed over")[1]


def test_saving_is_one_idea_in_a_session(qtbot, demo, tmp_path):
    """Issue 10: the session autosaved, yet Ctrl+S opened "Save plan as" with the patient's name
    in the file name. In a session Ctrl+S saves it now; a plan file is exported on purpose,
    suggested under a name without the patient's; nothing asks about unsaved work."""
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    suggested: list[Path] = []
    window.plan_files.choose_save_path = lambda _p, s: suggested.append(s) or None
    window.plan_files.ask_unsaved = lambda *_a: pytest.fail("a session asks nothing on leaving")
    moved = _move_first_target(window, 4.0)
    window.plan_files.act_save.trigger()  # Ctrl+S
    assert suggested == []  # no file dialog
    assert demo.repo.load_plan(demo.today).targets()[0].position == moved
    assert window.statusBar().currentMessage() == "Saved (the session is saved as you work)"
    texts = [a.text().replace("&", "") for a in window.menu("File").actions()]
    assert "Save" in texts and "Export plan file…" in texts and "Save plan as…" not in texts
    window.plan_files.act_export.trigger()  # Ctrl+Shift+S
    (name,) = [p.name for p in suggested]
    assert name == "plan 2026-03-14.prolo.json"
    assert not any(word in name for word in ("DEMO", "Alex", "0001"))
    window.plan_files.choose_save_path = lambda _p, _s: tmp_path / "copy.prolo.json"
    assert window.plan_files.save_as()
    assert (tmp_path / "copy.prolo.json").is_file()
    assert window.workspace.file_path is None  # the session is still where the plan lives
    _move_first_target(window, 2.0)
    assert window.plan_files.new_plan()  # File > New plan leaves the session: saved, not asked
    assert window.plan_files.session_saver is None
