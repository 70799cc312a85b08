"""Filing session versions pulled from a PACS: new, recognised, revised, and conflicting
amendments kept apart for the clinician, never merged."""

from __future__ import annotations

import dataclasses

import pytest

from prolo_planner.store.pacs_records import PulledSession, PullOutcome
from prolo_planner.store.records import InvalidValue, ReadOnlySession
from prolo_planner.store.repository import Repository
from tests.core.store_support import make_plan


@pytest.fixture
def repo(tmp_path):
    with Repository.open(tmp_path / "data") as r:
        yield r


def pulled(uid: str, version: int = 1, amends: str = "", **fields) -> PulledSession:
    base = PulledSession(
        uid=uid,
        version=version,
        started_at="2026-03-14T09:30:00",
        amends_uid=amends,
        region="lumbar_spine",
        side="midline",
        clinician="Dr B",
        pain_before=6,
        pain_after=3,
        notes="from room B",
        state="signed",
        signed_at="2026-03-14T10:00:00.00Z",
        signed_by="dr_b",
        sr_instance_uid=f"2.25.{int(uid, 16)}",
        plan_digest="d" * 64,
        made_at="2026-03-14T10:00:01",
        node="PACS@10.0.0.5:104",
    )
    return dataclasses.replace(base, **fields)


def test_a_pulled_version_is_filed_once_with_its_fields(repo: Repository) -> None:
    patient = repo.create_patient("P-1", "DOE^Jo")
    first = pulled("a" * 32)
    filed = repo.file_pulled(patient.id, first, make_plan(ids="one"))
    assert filed.outcome is PullOutcome.NEW
    s = filed.session
    assert (s.uid, s.version, s.state.value, s.signed_by, s.pain_before, s.notes) == (
        "a" * 32,
        1,
        "signed",
        "dr_b",
        6,
        "from room B",
    )
    assert repo.load_plan(s.id) == make_plan(ids="one")
    origin = repo.origin(s.id)
    assert origin is not None and origin.node == "PACS@10.0.0.5:104"
    (row,) = repo.sessions_of(patient.id)
    assert row.origin is not None and row.origin.sr_instance_uid == first.sr_instance_uid
    # Pulled again: recognised by its uid, nothing new.
    again = repo.file_pulled(patient.id, first, make_plan(ids="one"))
    assert again.outcome is PullOutcome.ALREADY_HERE and again.session.id == s.id
    assert len(repo.sessions_of(patient.id, include_superseded=True)) == 1


def test_a_version_made_here_is_recognised_when_it_comes_back(repo: Repository) -> None:
    patient = repo.create_patient("P-1", "DOE^Jo")
    mine = repo.create_session(patient.id, plan=make_plan())
    back = repo.file_pulled(patient.id, pulled(mine.uid, state="draft"), make_plan(ids="x"))
    assert back.outcome is PullOutcome.ALREADY_HERE and back.session.id == mine.id
    assert repo.load_plan(mine.id) == make_plan()  # ours, untouched


def test_a_pulled_draft_is_read_only_and_follows_its_author_to_signed(repo: Repository) -> None:
    patient = repo.create_patient("P-1", "DOE^Jo")
    draft = pulled("b" * 32, state="draft", signed_at=None, signed_by=None, made_at="2026-03-14T9")
    filed = repo.file_pulled(patient.id, draft, make_plan(sites=1))
    assert "a copy of a draft pulled from" in (repo.read_only_reason(filed.session.id) or "")
    with pytest.raises(ReadOnlySession):
        repo.save_plan(filed.session.id, make_plan(sites=3))
    signed = dataclasses.replace(
        draft, state="signed", signed_by="dr_b", sr_instance_uid="2.25.77", made_at="2026-03-15"
    )
    update = repo.file_pulled(patient.id, signed, make_plan(sites=2))
    assert update.outcome is PullOutcome.UPDATED and update.session.id == filed.session.id
    assert update.session.is_signed and len(repo.load_plan(filed.session.id).targets()) == 2
    # The older draft arriving late changes nothing back.
    late = repo.file_pulled(patient.id, draft, make_plan(sites=1))
    assert late.outcome is PullOutcome.ALREADY_HERE
    assert len(repo.load_plan(filed.session.id).targets()) == 2


def test_an_amendment_links_to_the_version_it_amends(repo: Repository) -> None:
    patient = repo.create_patient("P-1", "DOE^Jo")
    v1 = repo.file_pulled(patient.id, pulled("c" * 32), make_plan()).session
    v2 = repo.file_pulled(patient.id, pulled("d" * 32, 2, amends="c" * 32), make_plan(sites=3))
    assert v2.outcome is PullOutcome.NEW and v2.session.amends == v1.id
    assert [s.id for s in repo.versions(v1.id)] == [v1.id, v2.session.id]
    (row,) = repo.sessions_of(patient.id)  # the course shows the latest version
    assert row.session.id == v2.session.id


def test_two_amendments_of_one_version_are_a_conflict_never_merged(repo: Repository) -> None:
    """A amended session 1 here; B amended it too and sent it. B's arrives second."""
    patient = repo.create_patient("P-1", "DOE^Jo")
    v1 = repo.file_pulled(patient.id, pulled("e" * 32), make_plan()).session
    mine = repo.amend(v1.id)
    repo.save_plan(mine.id, make_plan(sites=4))
    theirs = repo.file_pulled(patient.id, pulled("f" * 32, 2, amends="e" * 32), make_plan(sites=1))
    assert theirs.outcome is PullOutcome.CONFLICT
    assert theirs.session.amends is None  # not linked: the course is not silently re-routed
    assert f"session #{mine.id}" in theirs.detail
    assert repo.conflict(mine.id) == (repo.session(theirs.session.id), repo.session(mine.id))
    assert "conflict to resolve" in (repo.read_only_reason(theirs.session.id) or "")
    rows = {r.session.id: r for r in repo.sessions_of(patient.id)}
    assert set(rows) == {mine.id, theirs.session.id}  # both shown
    assert rows[theirs.session.id].origin.conflict_with == mine.id
    assert len(repo.load_plan(mine.id).targets()) == 4  # neither plan touched
    assert len(repo.load_plan(theirs.session.id).targets()) == 1
    log = repo.audit_log(session_id=theirs.session.id)
    assert "CONFLICT" in log[-1].detail

    # The clinician continues with theirs: it takes the place of mine, which is set aside.
    kept = repo.resolve_conflict(theirs.session.id)
    assert kept.amends == v1.id and repo.session(mine.id).amends is None
    assert [r.session.id for r in repo.sessions_of(patient.id)] == [kept.id]
    assert "set aside" in (repo.read_only_reason(mine.id) or "")
    assert repo.conflict(mine.id) is None
    # Pulling again brings no new conflict: both versions are known here.
    assert (
        repo.file_pulled(patient.id, pulled("f" * 32, 2, amends="e" * 32), make_plan()).outcome
        is PullOutcome.ALREADY_HERE
    )


def test_keeping_the_version_here_sets_the_pulled_one_aside(repo: Repository) -> None:
    patient = repo.create_patient("P-1", "DOE^Jo")
    v1 = repo.file_pulled(patient.id, pulled("1" * 32), make_plan()).session
    mine = repo.amend(v1.id)
    theirs = repo.file_pulled(patient.id, pulled("2" * 32, 2, amends="1" * 32), make_plan())
    repo.resolve_conflict(mine.id)
    assert [r.session.id for r in repo.sessions_of(patient.id)] == [mine.id]
    assert repo.session(mine.id).amends == v1.id
    assert repo.origin(theirs.session.id).set_aside_at is not None


def test_a_damaged_record_is_refused_by_field(repo: Repository) -> None:
    patient = repo.create_patient("P-1", "DOE^Jo")
    for bad, words in (
        (dict(uid="../../x"), "session uid"),
        (dict(version=0), "session version"),
        (dict(pain_before=11), "pain before"),
        (dict(started_at="yesterday"), "started_at"),
        (dict(state="final"), "session state"),
    ):
        with pytest.raises(InvalidValue, match=words):
            record = dataclasses.replace(pulled("3" * 32), **bad)
            repo.file_pulled(patient.id, record, make_plan())
    assert repo.sessions_of(patient.id) == []
