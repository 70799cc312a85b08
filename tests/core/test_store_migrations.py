"""Every earlier store version upgrades to the current one with its data intact.

Two ways to an old store: built here by running migration steps 1..k and filling it with rows
valid at version k, and read from the dumps in tests/data/stores/ (made once, when version k
was the latest, and never regenerated). The dumps also catch an edit of a released step: the
schema a step makes today must equal the schema it made then.
Writing the dump of a new version: `python -m tests.core.test_store_migrations` (writes only
the dumps that are missing).
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest

from prolo_planner.core.dose import session_dose
from prolo_planner.core.plan import Anaesthetic, SiteStatus
from prolo_planner.store import migrations
from prolo_planner.store.database import DB_NAME, Database
from prolo_planner.store.plan_file import plan_to_document
from prolo_planner.store.records import AuditAction, SessionState
from prolo_planner.store.repository import Repository
from tests.conftest import TEST_DATA
from tests.core.store_support import make_plan

DUMPS = Path(__file__).resolve().parents[1] / "data" / "stores"
EARLIER = list(range(1, migrations.LATEST))
T0 = "2025-06-01T08:00:00.000Z"

PLAN_SIGNED = make_plan(sites=3, volume_ml=2.0, ids="signed", title="signed at v1")
PLAN_DRAFT = make_plan(sites=1, volume_ml=0.5, ids="draft", title="draft")


def _doc(plan) -> str:
    return json.dumps(plan_to_document(plan))


def fill(conn: sqlite3.Connection, version: int) -> None:
    """Rows a store at `version` could hold, written with that version's columns only."""
    x = conn.execute
    x("BEGIN")
    if version >= 6:  # the rows below name no uid: each session gets its own at the end
        x("DROP INDEX sessions_uid")
    x(
        "INSERT INTO patients (id, mrn, name, birth_date, sex, weight_kg, created_at) VALUES"
        " (1, 'H-001', 'MÜLLER^Jürgen', '1960-02-29', 'M', 81.5, ?),"
        " (2, 'A-77', 'SMITH-JONES^Ann', '', '', NULL, ?)",
        (T0, T0),
    )
    x(
        "INSERT INTO sessions (id, patient_id, started_at, region, side, clinician, pain_before,"
        " pain_after, notes, state, signed_at, created_at, updated_at) VALUES"
        " (1, 1, '2025-06-01T09:00:00', 'knee', 'left', 'Dr A', 8, 5, 'first', 'signed', ?, ?, ?),"
        " (2, 1, '2025-06-22T09:00:00', 'knee', 'left', 'Dr A', 5, NULL, '', 'draft', NULL, ?, ?)",
        (T0, T0, T0, T0, T0),
    )
    x(
        "INSERT INTO images (sha256, library_path, original_path, kind, size_bytes, frame_count,"
        " sop_instance_uid, file_patient_id, file_patient_name, patient_id, imported_at) VALUES"
        " (?, 'library/ab/cd.dcm', '/media/usb/IM1', 'dicom', 1234, 30, '1.2.3', 'H-001',"
        " 'MULLER^JURGEN', 1, ?)",
        ("ab" * 32, T0),
    )
    x("INSERT INTO session_images (session_id, sha256, added_at) VALUES (1, ?, ?)", ("ab" * 32, T0))
    x(
        "INSERT INTO plans (session_id, document, format_version, revision, saved_at) VALUES"
        " (1, ?, '1.0', 7, ?), (2, ?, '1.0', 1, ?)",
        (_doc(PLAN_SIGNED), T0, _doc(PLAN_DRAFT), T0),
    )
    if version >= 2:
        x("UPDATE sessions SET signed_by = 'dr_a' WHERE id = 1")
        x(
            "INSERT INTO audit_log (at, who, action, session_id, patient_id, detail) VALUES"
            " (?, 'dr_a', 'exported', 1, 1, 'PDF report')",
            (T0,),
        )
        # A draft amendment of session 1: version 2 brought amendments.
        x(
            "INSERT INTO sessions (id, patient_id, started_at, region, side, clinician,"
            " pain_before, pain_after, notes, state, signed_at, signed_by, version, amends,"
            " created_at, updated_at) VALUES (3, 1, '2025-06-01T09:00:00', 'knee', 'left',"
            " 'Dr A', 8, 4, 'first, corrected', 'draft', NULL, NULL, 2, 1, ?, ?)",
            (T0, T0),
        )
        x(
            "INSERT INTO plans (session_id, document, format_version, revision, saved_at)"
            " VALUES (3, ?, '1.0', 1, ?)",
            (_doc(PLAN_DRAFT), T0),
        )
    if version >= 3:  # the totals a version 3 app stored when it saved these plans
        x(
            'UPDATE plans SET site_count = 3, site_names = \'["site 0","site 1","site 2"]\','
            " total_ml = 6.0, dextrose_g = 0.9, anaesthetic_mg = '{\"lidocaine\": 30.0}'"
            " WHERE session_id = 1"
        )
        x(
            "UPDATE plans SET site_count = 1, site_names = '[\"site 0\"]', total_ml = 0.5,"
            " dextrose_g = 0.075, anaesthetic_mg = '{\"lidocaine\": 2.5}'"
            " WHERE session_id IN (2, 3)"
        )
    if version >= 4:  # the search terms a version 4 app wrote with each patient
        from prolo_planner.store.patients import write_terms

        for patient_id, mrn, name in x("SELECT id, mrn, name FROM patients").fetchall():
            write_terms(conn, patient_id, mrn, name)
    if version >= 5:  # a file of session 1 waiting for the PACS, tried once
        x(
            "INSERT INTO send_queue (id, node_name, ae_title, host, port, file_path, file_name,"
            " sha256, sop_instance_uid, session_id, state, attempts, next_attempt_at,"
            " last_error, queued_at, queued_by) VALUES (1, 'PACS', 'PACS', '10.0.0.5', 104,"
            " 'library/ab/cd.dcm', 'IM1', ?, '1.2.3', 1, 'waiting', 1, 1748764800.0,"
            " 'no answer', ?, 'dr_a')",
            ("ab" * 32, T0),
        )
    if version >= 6:  # and one a crashed app was sending (the sender's process is known at 7)
        x(
            "INSERT INTO send_queue (id, node_name, ae_title, host, port, file_path, file_name,"
            " sha256, sop_instance_uid, session_id, state, attempts, next_attempt_at,"
            " claimed_by, claimed_at, last_error, queued_at, queued_by) VALUES"
            " (2, 'PACS', 'PACS', '10.0.0.5', 104, 'outbox/ef/01.dcm', 'SR.dcm', ?, '1.2.4',"
            " 1, 'sending', 0, 1748764800.0, 'f00d', 1748764800.0, '', ?, 'dr_a')",
            ("ef" * 32, T0),
        )
        x("UPDATE sessions SET uid = lower(hex(randomblob(16)))")
        x("CREATE UNIQUE INDEX sessions_uid ON sessions (uid)")
    x("COMMIT")


def build(path: Path, version: int) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    migrations.migrate(conn, upto=version)
    assert migrations.store_version(conn) == version
    fill(conn, version)
    conn.close()


def load_dump(path: Path, version: int) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript((DUMPS / f"store-v{version}.sql").read_text(encoding="utf-8"))
    assert migrations.store_version(conn) == version
    conn.close()


def write_dump(version: int, folder: Path = DUMPS) -> Path:
    built = folder / f".build-v{version}.sqlite3"
    built.unlink(missing_ok=True)
    build(built, version)
    conn = sqlite3.connect(built)
    lines = [
        f"-- A Prolo Planner session store at version {version}, made by"
        " tests/core/test_store_migrations.py. Never regenerate it.",
        *conn.iterdump(),
        f"PRAGMA user_version = {version};",
        "",
    ]
    conn.close()
    built.unlink()
    out = folder / f"store-v{version}.sql"
    out.write_text("\n".join(lines), encoding="utf-8")
    return out


def _schema(path: Path) -> set[tuple]:
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    conn.close()
    return {(t, n, tb, " ".join((s or "").split())) for t, n, tb, s in rows}


# -- tests ---------------------------------------------------------------------------------------
def test_steps_are_numbered_one_by_one():
    assert [s.version for s in migrations.STEPS] == list(range(1, migrations.LATEST + 1))
    assert migrations.LATEST >= 2


def test_there_is_a_dump_of_every_earlier_version():
    assert sorted(p.name for p in DUMPS.glob("store-v*.sql")) == [
        f"store-v{v}.sql" for v in EARLIER
    ]


@pytest.mark.parametrize("version", EARLIER)
def test_released_steps_still_make_the_schema_they_made(tmp_path, version):
    from_dump, from_steps = tmp_path / "dump.sqlite3", tmp_path / "steps.sqlite3"
    load_dump(from_dump, version)
    build(from_steps, version)
    assert _schema(from_steps) == _schema(from_dump)


@pytest.mark.parametrize("source", ["steps", "dump"])
@pytest.mark.parametrize("version", EARLIER)
def test_an_earlier_store_upgrades_with_its_data_intact(tmp_path, version, source):
    folder = tmp_path / "store"
    folder.mkdir()
    (build if source == "steps" else load_dump)(folder / DB_NAME, version)

    repo = Repository.open(folder)
    assert repo.db.version == migrations.LATEST
    assert repo.db.integrity_check() == ["ok"]
    with repo.db.read() as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    (backup,) = (folder / "backups").glob(f"prolo-planner-v{version}-*.sqlite3")
    assert migrations.store_version(sqlite3.connect(backup)) == version

    # Patients, and search by words that only the version 4 terms can find.
    muller = repo.patient(1)
    assert (muller.mrn, muller.name, muller.birth_date, muller.weight_kg) == (
        "H-001",
        "MÜLLER^Jürgen",
        "1960-02-29",
        81.5,
    )
    assert [p.id for p in repo.search_patients("jurgen")] == [1]
    assert [p.id for p in repo.search_patients("jones")] == [2]
    # Sessions, plans and images.
    first = repo.session(1)
    assert (first.state, first.pain_before, first.pain_after, first.notes) == (
        SessionState.SIGNED,
        8,
        5,
        "first",
    )
    assert first.signed_by == ("dr_a" if version >= 2 else None)
    assert repo.load_plan(1) == PLAN_SIGNED and repo.load_plan(2) == PLAN_DRAFT
    assert repo.plan_revision(1) == 7
    assert [i.original_path for i in repo.images_of(1)] == ["/media/usb/IM1"]
    # Timeline totals, worked out from the plans by version 3 where they were not stored.
    rows = {r.session.id: r for r in repo.sessions_of(1, include_superseded=True)}
    signed = rows[1]
    dose = session_dose(PLAN_SIGNED.targets())
    assert signed.site_count == 3 and math.isclose(signed.total_ml, dose.total_ml)
    assert signed.anaesthetic_mg == {Anaesthetic.LIDOCAINE: pytest.approx(30.0)}
    assert all(t.status in (SiteStatus.PLANNED, SiteStatus.INJECTED) for t in PLAN_SIGNED.targets())
    assert rows[2].site_names == ("site 0",) and math.isclose(rows[2].dextrose_g, 0.075)
    # No plan before format 1.3 records what was done (step 9).
    assert all(r.done is None for r in rows.values())
    # Amendments (from version 2) and the audit log (backfilled for version 1 rows).
    log = repo.audit_log()
    if version == 1:
        assert [(e.action, e.session_id) for e in log] == [
            (AuditAction.CREATED, None),
            (AuditAction.CREATED, None),
            (AuditAction.CREATED, 1),
            (AuditAction.CREATED, 2),
            (AuditAction.SIGNED, 1),
        ]
        assert {e.who for e in log} == {migrations.BEFORE_THE_LOG}
        assert log[-1].at == T0
        assert [r.session.id for r in repo.sessions_of(1)] == [2, 1]
    else:
        assert [(e.action, e.who) for e in log] == [(AuditAction.EXPORTED, "dr_a")]
        assert rows[1].superseded and not rows[3].superseded
        assert [s.id for s in repo.versions(3)] == [1, 3]
    # Every session version got a uid of its own (version 6), which an amendment does not share.
    uids = [repo.session(i).uid for i in (1, 2)]
    assert all(len(u) == 32 for u in uids) and len(set(uids)) == 2
    if version >= 5:
        from prolo_planner.net.queue import QueueState, SendQueue

        queued = SendQueue.of(repo).files()
        assert (queued[0].node.address, queued[0].name, queued[0].attempts) == (
            "PACS@10.0.0.5:104",
            "IM1",
            1,
        )
        assert queued[0].state is QueueState.WAITING and not queued[0].interrupted
        # What a crashed app was sending is an interrupted send, open to the next sender.
        assert [(q.name, q.state, q.interrupted) for q in queued[1:]] == (
            [("SR.dcm", QueueState.SENDING, True)] if version >= 6 else []
        )
    # Version 8: no issuer known, nothing held, nothing signed over.
    assert muller.issuer == "" and repo.held_images(2) == []
    assert repo.session(1).signed_over == ()
    # And the upgraded store works on: a new session, signed.
    new = repo.create_session(2, region="hip")
    repo.save_plan(new.id, make_plan(sites=2))
    repo.sign(new.id)
    repo.close()


def test_step_9_sums_up_a_stored_record(tmp_path):
    """What a stored plan records as done is worked out when the store is upgraded."""
    from prolo_planner.store.plan_file import load_plan

    folder = tmp_path / "store"
    folder.mkdir()
    build(folder / DB_NAME, 8)
    recorded = load_plan(TEST_DATA / "plans" / "plan-1.3.json")
    conn = sqlite3.connect(folder / DB_NAME, isolation_level=None)
    conn.execute("UPDATE plans SET document = ? WHERE session_id = 2", (_doc(recorded),))
    conn.close()
    with Repository.open(folder) as repo:
        rows = {r.session.id: r for r in repo.sessions_of(1, include_superseded=True)}
    done = rows[2].done
    assert rows[1].done is None and done is not None
    # The sample: two sites injected (2.0 mL of 15 % lidocaine 0.2 %, 1.0 mL of 20 % procaine
    # 0.5 %), one not done, a vasovagal episode. By hand: 3.0 mL, 0.3 + 0.2 = 0.5 g dextrose,
    # 2.0 x 0.2 x 10 = 4 mg lidocaine, 1.0 x 0.5 x 10 = 5 mg procaine.
    assert (done.sites, done.not_done, done.complications) == (2, 1, "vasovagal")
    assert done.given_ml == pytest.approx(3.0) and done.dextrose_g == pytest.approx(0.5)
    assert done.anaesthetic_mg == {
        Anaesthetic.LIDOCAINE: pytest.approx(4.0),
        Anaesthetic.PROCAINE: pytest.approx(5.0),
    }


def test_a_crash_inside_a_step_leaves_the_version_before(tmp_path):
    path = tmp_path / DB_NAME
    build(path, 1)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    broken = migrations.Step(2, "broken", migrations.STEPS[1].sql + "\nSELECT no_such_function();")
    with pytest.raises(sqlite3.OperationalError):
        migrations.apply_step(conn, broken)
    assert migrations.store_version(conn) == 1
    columns = [r[1] for r in conn.execute("PRAGMA table_info(sessions)")]
    assert "amends" not in columns
    conn.close()
    with Database.open(tmp_path) as db:
        assert db.version == migrations.LATEST


if __name__ == "__main__":
    for v in EARLIER:
        if not (DUMPS / f"store-v{v}.sql").exists():
            print("wrote", write_dump(v))
