"""The session store's API: patients, search, sessions, plans, signing, amendment and audit."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from prolo_planner.core.dose import session_dose
from prolo_planner.core.plan import Anaesthetic, Side
from prolo_planner.store.records import (
    AuditAction,
    InvalidValue,
    NotFound,
    ReadOnlySession,
    SessionState,
)
from prolo_planner.store.repository import Repository
from tests.core.store_support import make_plan


@pytest.fixture
def repo(tmp_path):
    r = Repository.open(tmp_path / "store", who="dr_test")
    yield r
    r.close()


# -- patients -------------------------------------------------------------------------------------
def test_patient_round_trip_and_validation(repo):
    p = repo.create_patient(" H-001 ", "MÜLLER^Jürgen", "19600229", "m", 81.5)
    assert (p.mrn, p.name, p.birth_date, p.sex, p.weight_kg) == (
        "H-001",
        "MÜLLER^Jürgen",
        "1960-02-29",
        "M",
        81.5,
    )
    assert p.display_name == "MÜLLER, Jürgen"
    assert repo.patient(p.id) == p
    assert repo.patient_by_mrn("H-001") == p
    with pytest.raises(InvalidValue, match="already in the store"):
        repo.create_patient("H-001", "OTHER^Person")
    # A date of the right shape that the calendar has not: the message says why, not the shape.
    with pytest.raises(InvalidValue, match="'1960-02-30' is not a date: February 1960 has 29 days"):
        repo.create_patient("H-002", "X^Y", "1960-02-30")
    with pytest.raises(InvalidValue, match="'19680230' is not a date: February 1968 has 29 days"):
        repo.create_patient("H-002", "X^Y", "19680230")
    with pytest.raises(InvalidValue, match="there is no month 13"):
        repo.create_patient("H-002", "X^Y", "1970-13-01")
    with pytest.raises(InvalidValue, match="April 2024 has 30 days"):
        repo.create_patient("H-002", "X^Y", "2024-04-31")
    with pytest.raises(InvalidValue, match="expected YYYY-MM-DD"):
        repo.create_patient("H-002", "X^Y", "1970-2-3")
    with pytest.raises(InvalidValue, match="weight"):
        repo.create_patient("H-003", "X^Y", weight_kg=0)
    with pytest.raises(InvalidValue, match="name"):
        repo.create_patient("H-004", "^ ")
    with pytest.raises(NotFound):
        repo.patient(999)
    assert repo.update_patient(p.id, weight_kg=79.0).weight_kg == 79.0


def test_search_by_any_word_of_name_or_id_ignoring_case_and_accents(repo):
    muller = repo.create_patient("H-001", "MÜLLER^Jürgen")
    smith = repo.create_patient("A-77", "SMITH-JONES^Ann^Marie")
    mills = repo.create_patient("M-5", "MILLS^Anna")

    def ids(q: str) -> list[int]:
        return [p.id for p in repo.search_patients(q)]

    assert ids("muller") == [muller.id]
    assert ids("JÜR") == [muller.id]
    assert ids("jones") == [smith.id]
    assert ids("ann") == [mills.id, smith.id]  # by name: MILLS before SMITH-JONES
    assert ids("ann smi") == [smith.id]  # every word must match
    assert ids("mar") == [smith.id]  # a middle name counts too
    assert ids("m") == [mills.id, muller.id, smith.id]
    assert ids("a-7") == [smith.id]
    assert ids("a77") == [smith.id]  # the ID without its punctuation
    assert ids("h-001") == [muller.id]
    assert ids("zzz") == []
    assert ids("") == [mills.id, muller.id, smith.id]
    renamed = repo.update_patient(mills.id, name="BROWN^Anna")
    assert ids("mills") == [] and ids("brown") == [renamed.id]


# -- sessions -------------------------------------------------------------------------------------
def test_session_fields_are_validated_and_updated(repo):
    p = repo.create_patient("P-1", "TEST^Pat")
    s = repo.create_session(
        p.id,
        started_at=dt.datetime(2026, 3, 14, 10, 30),
        region="knee",
        side="left",
        clinician="Dr A",
        pain_before=8,
        notes="first",
    )
    assert (s.started_at, s.side, s.state, s.version) == (
        "2026-03-14T10:30:00",
        Side.LEFT,
        SessionState.DRAFT,
        1,
    )
    for bad in (
        {"pain_before": 11},
        {"pain_after": -1},
        {"pain_after": 2.5},
        {"side": "up"},
        {"started_at": "last tuesday"},
        {"colour": "red"},
    ):
        with pytest.raises(InvalidValue):
            repo.update_session(s.id, **bad)
    s2 = repo.update_session(s.id, pain_after=3, notes="better")
    assert (s2.pain_before, s2.pain_after, s2.notes) == (8, 3, "better")
    with pytest.raises(NotFound):
        repo.create_session(12345)


def test_save_plan_is_idempotent_and_load_returns_the_same_plan(repo):
    p = repo.create_patient("P-1", "TEST^Pat")
    s = repo.create_session(p.id)
    assert repo.load_plan(s.id).annotations == ()
    plan = make_plan(sites=3)
    first = repo.save_plan(s.id, plan)
    again = repo.save_plan(s.id, plan)
    assert (first.changed, first.revision) == (True, 1)
    assert (again.changed, again.revision, again.saved_at) == (False, 1, first.saved_at)
    loaded = repo.load_plan(s.id)
    assert loaded == plan
    assert loaded.annotations == plan.annotations
    third = repo.save_plan(s.id, make_plan(sites=4))
    assert (third.changed, third.revision) == (True, 2)
    assert len(repo.load_plan(s.id).targets()) == 4


def test_timeline_totals_are_the_dose_of_the_saved_plan(repo):
    p = repo.create_patient("P-1", "TEST^Pat")
    older = repo.create_session(p.id, started_at="2026-01-05T09:00", pain_before=7, pain_after=5)
    newer = repo.create_session(p.id, started_at="2026-02-02T09:00", pain_before=4)
    plan = make_plan(sites=5, volume_ml=1.2)
    repo.save_plan(older.id, plan)
    rows = repo.sessions_of(p.id)
    assert [r.session.id for r in rows] == [newer.id, older.id]  # latest first
    assert rows[0].site_count == 0 and rows[0].total_ml == 0
    row = rows[1]
    dose = session_dose(plan.targets())
    assert row.site_count == 5
    assert row.site_names == tuple(f"site {i}" for i in range(5))
    assert math.isclose(row.total_ml, dose.total_ml) and math.isclose(row.total_ml, 6.0)
    assert math.isclose(row.dextrose_g, dose.dextrose_g)
    assert row.anaesthetic_mg == {Anaesthetic.LIDOCAINE: pytest.approx(30.0)}  # 6 mL x 0.5 %
    assert (row.session.pain_before, row.session.pain_after) == (7, 5)


# -- signing and amendment ------------------------------------------------------------------------
def test_a_signed_session_is_read_only_and_an_amendment_keeps_it(repo):
    p = repo.create_patient("P-1", "TEST^Pat")
    s = repo.create_session(p.id, region="hip", pain_before=6)
    plan = make_plan(sites=2)
    repo.save_plan(s.id, plan)
    statements: list[str] = []
    repo.db._conn.set_trace_callback(statements.append)
    signed = repo.sign(s.id, who="dr_sign")
    repo.db._conn.set_trace_callback(None)
    # The signature is synced to disk: synchronous FULL around its transaction.
    assert statements[:2] == ["PRAGMA synchronous = FULL", "BEGIN IMMEDIATE"]
    assert statements[-2:] == ["COMMIT", "PRAGMA synchronous = NORMAL"]
    assert signed.state is SessionState.SIGNED and signed.signed_by == "dr_sign"
    assert signed.signed_at
    with pytest.raises(ReadOnlySession, match="signed"):
        repo.save_plan(s.id, make_plan(sites=5))
    with pytest.raises(ReadOnlySession):
        repo.update_session(s.id, pain_after=2)
    with pytest.raises(ReadOnlySession):
        repo.sign(s.id)
    assert "amend it" in repo.read_only_reason(s.id)
    with pytest.raises(ReadOnlySession, match="amend it"):
        repo.take_lease(s.id)
    opened = repo.open_session(s.id)
    assert opened.read_only and opened.lease is None and "signed" in opened.read_only_reason

    amended = repo.amend(s.id, who="dr_amend")
    assert (amended.version, amended.amends, amended.state) == (2, s.id, SessionState.DRAFT)
    assert (amended.region, amended.pain_before) == ("hip", 6)
    assert repo.load_plan(amended.id) == plan
    repo.save_plan(amended.id, make_plan(sites=3))
    # The signed version is exactly as it was.
    assert repo.load_plan(s.id) == plan
    assert repo.session(s.id) == signed
    assert "replaced by version 2" in repo.read_only_reason(s.id)
    with pytest.raises(ReadOnlySession, match="already amended"):
        repo.amend(s.id)
    with pytest.raises(ReadOnlySession, match="draft"):
        repo.amend(amended.id)
    assert [v.id for v in repo.versions(s.id)] == [s.id, amended.id]
    assert [v.id for v in repo.versions(amended.id)] == [s.id, amended.id]
    current = repo.sessions_of(p.id)
    assert [(r.session.id, r.site_count) for r in current] == [(amended.id, 3)]
    everything = repo.sessions_of(p.id, include_superseded=True)
    assert [(r.session.id, r.superseded) for r in everything] == [(amended.id, False), (s.id, True)]


# -- audit ----------------------------------------------------------------------------------------
def test_audit_log_records_who_did_what(repo):
    p = repo.create_patient("P-1", "TEST^Pat")
    s = repo.create_session(p.id)
    for n in range(1, 6):  # autosave: five saves in a row are one edit entry
        repo.save_plan(s.id, make_plan(sites=n))
    repo.update_session(s.id, pain_after=2, who="dr_other")
    repo.sign(s.id, who="dr_sign")
    new = repo.amend(s.id)
    repo.record_export(new.id, "PDF report to /tmp/x.pdf")
    log = repo.audit_log(patient_id=p.id)
    assert [(e.action, e.who, e.session_id) for e in log] == [
        (AuditAction.CREATED, "dr_test", None),
        (AuditAction.CREATED, "dr_test", s.id),
        (AuditAction.EDITED, "dr_test", s.id),
        (AuditAction.EDITED, "dr_other", s.id),
        (AuditAction.SIGNED, "dr_sign", s.id),
        (AuditAction.AMENDED, "dr_test", new.id),
        (AuditAction.EXPORTED, "dr_test", new.id),
    ]
    assert log[2].detail.startswith("plan revision 1: 1 sites")
    assert log[3].detail == "fields: pain_after"
    assert f"amends session #{s.id}" in log[5].detail
    assert all(e.at.endswith("Z") for e in log)
    assert [e.id for e in repo.audit_log(session_id=new.id)] == [log[5].id, log[6].id]


def test_the_default_who_is_the_os_user(tmp_path):
    import getpass

    with Repository.open(tmp_path) as r:
        r.create_patient("P-1", "TEST^Pat")
        (entry,) = r.audit_log()
    assert entry.who == getpass.getuser()
