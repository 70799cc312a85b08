"""The procedure record in the window: entered in a few clicks from the plan's defaults, kept in
the store, caught when incomplete at signing, and shown on the course view."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QDialog

from prolo_planner.core.plan import Complication, Consent, SiteStatus, SkinPrep
from prolo_planner.core.procedure import missing_fields
from prolo_planner.store.records import SessionState
from prolo_planner.store.repository import Repository
from prolo_planner.ui.main_window import MainWindow
from prolo_planner.ui.sessions.feature import SessionsFeature, install_sessions
from prolo_planner.ui.sessions.procedure_dialog import Column, ProcedureDialog
from tests.ui.sessions_support import demo_fixture, store_dir_fixture  # noqa: F401


def _window(qtbot, repo: Repository) -> tuple[MainWindow, SessionsFeature]:
    window = MainWindow()
    qtbot.addWidget(window)
    feature = install_sessions(window, repo)
    feature.confirm = lambda _title, _question: True
    feature.confirm_sign = lambda _parent, _session, _unresolved: True
    window.show()
    return window, feature


def _routine(dialog: ProcedureDialog) -> None:
    """What the clinician clicks in a routine session: consent, time-out, skin preparation,
    'tip seen' once for every site, no complications, pain after."""
    dialog.consent.setCurrentIndex(dialog.consent.findData(Consent.WRITTEN))
    dialog.time_out.setCurrentIndex(dialog.time_out.findData(True))
    dialog.skin_prep.setCurrentIndex(dialog.skin_prep.findData(SkinPrep.CHLORHEXIDINE))
    dialog.all_seen.click()
    dialog.complication_boxes[None].setChecked(True)
    dialog.pain_after.setValue(2)


def test_a_routine_session_is_recorded_in_a_few_clicks(qtbot, demo):
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    seen: list[ProcedureDialog] = []

    def answer(dialog: ProcedureDialog) -> bool:
        seen.append(dialog)
        # Started from the plan and from session 2's record: sites done as planned, the
        # indication carried over, the attestations still the clinician's to give.
        assert [row.status for row in dialog.rows] == [SiteStatus.INJECTED] * 4
        assert dialog.indication.text().startswith("Chronic low back pain over L3-L5")
        assert dialog.consent.currentData() is None and dialog.time_out.currentData() is None
        assert "consent (written or verbal)" in dialog.missing.text()
        _routine(dialog)
        assert dialog.missing_now() == [], dialog.missing_now()
        assert dialog.missing.text() == "Complete: ready to sign."
        return True

    feature.ask_record = answer
    result = feature.record_procedure()
    assert result is not None and len(seen) == 1
    plan = window.plan.plan
    assert plan.procedure is not None and missing_fields(plan) == []
    assert all(t.status is SiteStatus.INJECTED for t in plan.targets())
    # One undo step takes the whole record back.
    window.plan.undo()
    assert window.plan.plan.procedure is None
    window.plan.redo()
    feature.autosave.save_now()
    stored = demo.repo.load_plan(demo.today)
    assert stored.procedure == plan.procedure
    assert demo.repo.session(demo.today).pain_after == 2
    # The course view shows what was done beside what was planned.
    row = next(r for r in feature.timeline.rows if r.session.id == demo.today)
    assert row.done is not None and row.done.complications == "none"
    cell = feature.timeline.table.item(
        feature.timeline.row_of(demo.today), feature.timeline.column("Given")
    )
    # 4 sites at 12.5 % as planned: 5.0 mL, 0.625 g of dextrose.
    assert cell is not None and cell.text() == "5.0 mL · 0.62 g"


def test_signing_an_incomplete_record_asks_for_the_fields_by_name(qtbot, demo):
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    asked: list[list[str]] = []

    def half(dialog: ProcedureDialog) -> bool:
        dialog.time_out.setCurrentIndex(dialog.time_out.findData(True))
        return True

    feature.ask_record = half
    feature.record_procedure()
    # Signing: the missing fields are named, the clinician is taken back to the record.
    dialogs: list[ProcedureDialog] = []

    def fill(missing: list[str]) -> bool:
        asked.append(missing)
        return True

    def complete(dialog: ProcedureDialog) -> bool:
        dialogs.append(dialog)
        _routine(dialog)
        return True

    feature.ask_missing = fill
    feature.ask_record = complete
    signed = feature.sign()
    assert asked and "consent (written or verbal)" in asked[0]
    assert "pain after" in asked[0] and "time-out" not in asked[0]
    assert len(dialogs) == 1
    assert signed is not None and signed.state is SessionState.SIGNED

    # The store refuses it too: an incomplete record cannot be signed by any door.
    amended = demo.repo.amend(demo.today)
    plan = demo.repo.load_plan(amended.id)
    assert plan.procedure is not None
    demo.repo.save_plan(amended.id, replace(plan, procedure=replace(plan.procedure, consent=None)))
    from prolo_planner.store.records import StoreError

    try:
        demo.repo.sign(amended.id)
    except StoreError as exc:
        assert "consent (written or verbal)" in str(exc)
    else:
        raise AssertionError("an incomplete record was signed")


def test_declining_to_fill_in_does_not_sign(qtbot, demo):
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)
    feature.ask_record = lambda dialog: (
        dialog.time_out.setCurrentIndex(dialog.time_out.findData(True)) or True
    )
    feature.record_procedure()
    feature.ask_missing = lambda missing: False
    assert feature.sign() is None
    assert not demo.repo.session(demo.today).is_signed


def test_a_site_not_done_says_why_and_the_chart_shows_it(qtbot, demo):
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.today)

    def one_skipped(dialog: ProcedureDialog) -> bool:
        _routine(dialog)
        row = dialog.rows[3]
        row.done.setCurrentIndex(row.done.findData(SiteStatus.SKIPPED))
        assert not row.volume.isEnabled() and row.reason.isEnabled()
        assert "why L4-L5 interspinous ligament was not done" in dialog.missing_now()
        row.reason.setCurrentIndex(1)  # patient declined
        dialog.complication_boxes[Complication.BLEEDING].setChecked(True)
        assert not dialog.complication_boxes[None].isChecked()  # none and bleeding exclude
        return True

    feature.ask_record = one_skipped
    feature.record_procedure()
    plan = window.plan.plan
    assert [t.status for t in plan.targets()][3] is SiteStatus.SKIPPED
    assert plan.procedure is not None and plan.procedure.complications == (Complication.BLEEDING,)
    feature.autosave.save_now()
    feature.timeline.refresh()
    row = next(r for r in feature.timeline.rows if r.session.id == demo.today)
    assert row.done is not None and (row.done.sites, row.done.not_done) == (3, 1)
    point = next(p for p in feature.timeline.chart.points if p.session_id == demo.today)
    assert point.given_ml == row.done.given_ml and point.complications == "bleeding"
    tip = feature.timeline.chart.tooltip_at(feature.timeline.chart.column_x(2))
    assert "given" in tip and "bleeding" in tip


def test_a_signed_record_opens_read_only(qtbot, demo):
    window, feature = _window(qtbot, demo.repo)
    feature.open_session(demo.second)
    shown: list[ProcedureDialog] = []

    def look(dialog: ProcedureDialog) -> bool:
        shown.append(dialog)
        assert dialog.indication.isReadOnly() and not dialog.consent.isEnabled()
        return False

    feature.ask_record = look
    assert feature.record_procedure() is None and len(shown) == 1
    rows = shown[0].rows
    assert rows[2].volume.value() == 2.0  # 0.5 mL more than planned, as demo.py records
    assert shown[0].sites.horizontalHeaderItem(1).text() == Column.DONE.value
    assert QDialog  # the dialog class is a QDialog (exec'd by the window)
