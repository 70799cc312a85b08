"""The store's schema history: numbered steps, each run once, counted by PRAGMA user_version.

A step is SQL, a Python function, or both, run in one transaction that also sets user_version
to the step's number: a crash mid-step leaves the store at the version before it. A released
step never changes; a change to the schema is a new step at the end. A store whose version is
newer than the last step here was written by a newer Prolo Planner and is refused untouched.
tests/data/stores/ keeps a dump of a store at every earlier version, upgraded by the tests.
"""

from __future__ import annotations

import datetime as _dt
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from prolo_planner.store.records import NewerStoreError, StoreError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Step:
    version: int
    title: str
    sql: str = ""
    #: Runs after `sql`, in the same transaction: data that SQL alone cannot fill in.
    python: Callable[[sqlite3.Connection], None] | None = None


# -- 1: patients, sessions, images and plans (the first release) ------------------------------
_V1 = """
CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    mrn TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    birth_date TEXT NOT NULL DEFAULT '',
    sex TEXT NOT NULL DEFAULT '',
    weight_kg REAL CHECK (weight_kg IS NULL OR weight_kg > 0),
    created_at TEXT NOT NULL
);
CREATE INDEX patients_name ON patients (name COLLATE NOCASE);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    started_at TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT '',
    side TEXT NOT NULL DEFAULT 'unspecified',
    clinician TEXT NOT NULL DEFAULT '',
    pain_before INTEGER CHECK (pain_before BETWEEN 0 AND 10),
    pain_after INTEGER CHECK (pain_after BETWEEN 0 AND 10),
    notes TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'signed')),
    signed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX sessions_patient ON sessions (patient_id, started_at);

CREATE TABLE images (
    sha256 TEXT PRIMARY KEY,
    library_path TEXT NOT NULL,
    original_path TEXT NOT NULL,
    kind TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    frame_count INTEGER NOT NULL DEFAULT 1,
    sop_class_uid TEXT NOT NULL DEFAULT '',
    study_instance_uid TEXT NOT NULL DEFAULT '',
    series_instance_uid TEXT NOT NULL DEFAULT '',
    sop_instance_uid TEXT NOT NULL DEFAULT '',
    file_patient_id TEXT NOT NULL DEFAULT '',
    file_patient_name TEXT NOT NULL DEFAULT '',
    file_birth_date TEXT NOT NULL DEFAULT '',
    patient_id INTEGER REFERENCES patients (id),
    imported_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX images_sop ON images (sop_instance_uid);
CREATE INDEX images_patient ON images (patient_id);

CREATE TABLE session_images (
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    sha256 TEXT NOT NULL REFERENCES images (sha256),
    added_at TEXT NOT NULL,
    PRIMARY KEY (session_id, sha256)
) WITHOUT ROWID;
CREATE INDEX session_images_image ON session_images (sha256);

CREATE TABLE plans (
    session_id INTEGER PRIMARY KEY REFERENCES sessions (id),
    document TEXT NOT NULL,
    format_version TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    saved_at TEXT NOT NULL
);
"""

# -- 2: amendments and the audit log ------------------------------------------------------------
_V2 = """
ALTER TABLE sessions ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sessions ADD COLUMN amends INTEGER REFERENCES sessions (id);
ALTER TABLE sessions ADD COLUMN signed_by TEXT;
CREATE UNIQUE INDEX sessions_amends ON sessions (amends);

-- No foreign keys: the log must outlive anything it speaks of.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL
        CHECK (action IN ('created', 'edited', 'signed', 'amended', 'exported', 'imported')),
    session_id INTEGER,
    patient_id INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_session ON audit_log (session_id, id);
CREATE INDEX audit_patient ON audit_log (patient_id, id);
"""

BEFORE_THE_LOG = "(before the audit log)"


def _v2_backfill(conn: sqlite3.Connection) -> None:
    """What the store already held gets its 'created' and 'signed' entries, marked as such."""
    conn.execute(
        "INSERT INTO audit_log (at, who, action, patient_id, detail)"
        " SELECT created_at, ?, 'created', id, 'patient ' || mrn FROM patients ORDER BY id",
        (BEFORE_THE_LOG,),
    )
    conn.execute(
        "INSERT INTO audit_log (at, who, action, session_id, patient_id, detail)"
        " SELECT created_at, ?, 'created', id, patient_id, 'session' FROM sessions ORDER BY id",
        (BEFORE_THE_LOG,),
    )
    conn.execute(
        "INSERT INTO audit_log (at, who, action, session_id, patient_id, detail)"
        " SELECT signed_at, ?, 'signed', id, patient_id, 'version 1' FROM sessions"
        " WHERE state = 'signed' ORDER BY signed_at, id",
        (BEFORE_THE_LOG,),
    )


# -- 3: timeline totals kept beside each plan ------------------------------------------------------
_V3 = """
ALTER TABLE plans ADD COLUMN site_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE plans ADD COLUMN site_names TEXT NOT NULL DEFAULT '[]';
ALTER TABLE plans ADD COLUMN total_ml REAL NOT NULL DEFAULT 0;
ALTER TABLE plans ADD COLUMN dextrose_g REAL NOT NULL DEFAULT 0;
ALTER TABLE plans ADD COLUMN anaesthetic_mg TEXT NOT NULL DEFAULT '{}';
"""


def _v3_backfill(conn: sqlite3.Connection) -> None:
    """Totals of every plan saved so far, so the timeline never has to parse a plan."""
    from prolo_planner.store.plan_rows import plan_summary, stored_document_plan

    rows = conn.execute("SELECT session_id, document FROM plans").fetchall()
    for session_id, document in rows:
        try:
            plan = stored_document_plan(document, f"session {session_id}", base_dir=None)
        except StoreError as exc:  # kept as it is; the timeline shows 0 sites for it
            log.warning("plan of session %s not summarised: %s", session_id, exc)
            continue
        s = plan_summary(plan)
        conn.execute(
            "UPDATE plans SET site_count = ?, site_names = ?, total_ml = ?, dextrose_g = ?,"
            " anaesthetic_mg = ? WHERE session_id = ?",
            (
                s.site_count,
                s.site_names_json,
                s.total_ml,
                s.dextrose_g,
                s.anaesthetic_json,
                session_id,
            ),
        )


# -- 4: editing leases for two windows, and patient search by any word --------------------------
_V4 = """
CREATE TABLE editing_leases (
    session_id INTEGER PRIMARY KEY REFERENCES sessions (id),
    instance_id TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    user TEXT NOT NULL DEFAULT '',
    acquired_at REAL NOT NULL,
    heartbeat_at REAL NOT NULL
);

CREATE TABLE patient_terms (
    term TEXT NOT NULL,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    PRIMARY KEY (term, patient_id)
) WITHOUT ROWID;
CREATE INDEX patient_terms_patient ON patient_terms (patient_id);
"""


def _v4_backfill(conn: sqlite3.Connection) -> None:
    from prolo_planner.store.patients import write_terms

    for patient_id, mrn, name in conn.execute("SELECT id, mrn, name FROM patients").fetchall():
        write_terms(conn, patient_id, mrn, name)


# -- 5: the queue of files waiting to go to the PACS ---------------------------------------------
# The node is copied into each row: renaming or deleting a node in the preferences must not
# strand what is already waiting for it. file_path is relative to the data folder (the image
# library, or the outbox where files from elsewhere are copied), so nothing queued can vanish;
# file_name is the name the clinician knows the file by, for messages.
_V5 = """
CREATE TABLE send_queue (
    id INTEGER PRIMARY KEY,
    node_name TEXT NOT NULL DEFAULT '',
    ae_title TEXT NOT NULL,
    host TEXT NOT NULL,
    port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    file_path TEXT NOT NULL,
    file_name TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL,
    sop_instance_uid TEXT NOT NULL DEFAULT '',
    session_id INTEGER REFERENCES sessions (id),
    state TEXT NOT NULL DEFAULT 'waiting'
        CHECK (state IN ('waiting', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    claimed_by TEXT,
    claimed_at REAL,
    last_status INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    queued_at TEXT NOT NULL,
    queued_by TEXT NOT NULL DEFAULT '',
    sent_at TEXT
);
CREATE INDEX send_queue_due ON send_queue (state, next_attempt_at);
CREATE INDEX send_queue_session ON send_queue (session_id);
"""


# -- 6: sessions known across workstations: a uid per version, and what came from a PACS ---------
# A session version's uid names it in every store and in the SR that carries it to the PACS
# (docs/adr/0005): the same version pulled into another store keeps its uid, so a second pull
# recognises it. pacs_records says which SR a pulled version came from and from where; a
# version that amends the same predecessor as another one here is a conflict, kept apart
# (conflict_with) for the clinician to resolve, never merged. The send queue learns DICOMweb
# nodes.
_V6 = """
ALTER TABLE sessions ADD COLUMN uid TEXT NOT NULL DEFAULT '';

CREATE TABLE pacs_records (
    session_id INTEGER PRIMARY KEY REFERENCES sessions (id),
    sr_instance_uid TEXT NOT NULL,
    sr_series_uid TEXT NOT NULL DEFAULT '',
    sr_study_uid TEXT NOT NULL DEFAULT '',
    plan_digest TEXT NOT NULL DEFAULT '',
    made_at TEXT NOT NULL DEFAULT '',
    node TEXT NOT NULL DEFAULT '',
    pulled_at TEXT NOT NULL,
    amends_uid TEXT NOT NULL DEFAULT '',
    conflict_with INTEGER REFERENCES sessions (id),
    set_aside_at TEXT
);
CREATE INDEX pacs_records_sr ON pacs_records (sr_instance_uid);

-- A DICOMweb node is known by its URL (its credentials stay in the settings, not here).
ALTER TABLE send_queue ADD COLUMN node_url TEXT NOT NULL DEFAULT '';
"""


def _v6_backfill(conn: sqlite3.Connection) -> None:
    """Every session version already here gets its uid, then uids are unique for good."""
    import uuid

    for (session_id,) in conn.execute("SELECT id FROM sessions").fetchall():
        conn.execute("UPDATE sessions SET uid = ? WHERE id = ?", (uuid.uuid4().hex, session_id))
    conn.execute("CREATE UNIQUE INDEX sessions_uid ON sessions (uid)")


# -- 7: which process is sending a queued file ------------------------------------------------
# A row left 'sending' by an app that crashed was taken up again only after 15 minutes, and Retry
# and Remove skipped it. With the sender's process and host, a claim whose process is gone is
# known at once to be an interrupted send.
_V7 = """
ALTER TABLE send_queue ADD COLUMN claimed_pid INTEGER;
ALTER TABLE send_queue ADD COLUMN claimed_host TEXT;
"""


# -- 8: the identity an image is checked by, images held back per session, what was signed over --
# The issuer of the patient ID: the same ID from another authority is another patient. A file
# that does not match the session it was brought to is held back for that session alone, with
# the reasons, until the clinician attaches it anyway (audited) or dismisses it. signed_over: the
# problems the clinician saw and signed over (JSON list of texts), printed by the report.
_V8 = """
ALTER TABLE patients ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN file_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN signed_over TEXT NOT NULL DEFAULT '[]';

CREATE TABLE held_images (
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    sha256 TEXT NOT NULL REFERENCES images (sha256),
    reasons TEXT NOT NULL DEFAULT '[]',
    origin TEXT NOT NULL DEFAULT '',
    held_at TEXT NOT NULL,
    held_by TEXT NOT NULL DEFAULT '',
    resolution TEXT NOT NULL DEFAULT '' CHECK (resolution IN ('', 'attached', 'dismissed')),
    resolved_at TEXT,
    resolved_by TEXT,
    PRIMARY KEY (session_id, sha256)
) WITHOUT ROWID;
CREATE INDEX held_images_open ON held_images (session_id, resolution);
"""


# -- 9: what was done, beside each plan ----------------------------------------------------------
# The procedure record lives in the plan document (docs/plan-format.md, 1.3); the timeline and the
# pain chart show what was done beside what was planned without parsing a plan: whether a record
# exists, the sites injected and not done, what was given, and the complications in words ('' not
# stated, 'none', 'vasovagal, bleeding').
_V9 = """
ALTER TABLE plans ADD COLUMN recorded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE plans ADD COLUMN done_sites INTEGER NOT NULL DEFAULT 0;
ALTER TABLE plans ADD COLUMN not_done_sites INTEGER NOT NULL DEFAULT 0;
ALTER TABLE plans ADD COLUMN given_ml REAL NOT NULL DEFAULT 0;
ALTER TABLE plans ADD COLUMN given_dextrose_g REAL NOT NULL DEFAULT 0;
ALTER TABLE plans ADD COLUMN given_anaesthetic_mg TEXT NOT NULL DEFAULT '{}';
ALTER TABLE plans ADD COLUMN complications TEXT NOT NULL DEFAULT '';
"""


def _v9_backfill(conn: sqlite3.Connection) -> None:
    """What every plan saved so far records as done (a plan of before 1.3 records nothing)."""
    from prolo_planner.store.plan_rows import record_summary, stored_document_plan

    rows = conn.execute("SELECT session_id, document FROM plans").fetchall()
    for session_id, document in rows:
        try:
            plan = stored_document_plan(document, f"session {session_id}", base_dir=None)
        except StoreError as exc:  # kept as it is; the timeline shows no record for it
            log.warning("record of session %s not summarised: %s", session_id, exc)
            continue
        r = record_summary(plan)
        conn.execute(
            "UPDATE plans SET recorded = ?, done_sites = ?, not_done_sites = ?, given_ml = ?,"
            " given_dextrose_g = ?, given_anaesthetic_mg = ?, complications = ?"
            " WHERE session_id = ?",
            (*r.row(), session_id),
        )


STEPS: tuple[Step, ...] = (
    Step(1, "patients, sessions, images and plans", _V1),
    Step(2, "amendments and the audit log", _V2, _v2_backfill),
    Step(3, "timeline totals beside each plan", _V3, _v3_backfill),
    Step(4, "editing leases and patient search terms", _V4, _v4_backfill),
    Step(5, "the PACS send queue", _V5),
    Step(6, "session uids, sessions pulled from a PACS, DICOMweb in the queue", _V6, _v6_backfill),
    Step(7, "who is sending a queued file", _V7),
    Step(8, "patient ID issuers, images held per session, what was signed over", _V8),
    Step(9, "what was done, beside each plan", _V9, _v9_backfill),
)
LATEST = STEPS[-1].version


def store_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def statements(sql: str) -> Iterator[str]:
    """The statements of a step's SQL, one by one (executescript would commit the step's
    transaction before running them)."""
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer.strip()
            buffer = ""
    if buffer.strip() and not all(
        ln.strip().startswith("--") or not ln.strip() for ln in buffer.splitlines()
    ):
        raise ValueError(f"unfinished SQL statement: {buffer.strip()[:60]}")


def apply_step(conn: sqlite3.Connection, step: Step) -> bool:
    """Run one step if the store is at the version just before it; False if already done."""
    conn.execute("BEGIN IMMEDIATE")  # another window migrating at once waits here
    try:
        found = store_version(conn)
        if found >= step.version:
            conn.execute("ROLLBACK")
            return False
        if found != step.version - 1:
            raise StoreError(f"store version {found} cannot take step {step.version}")
        for statement in statements(step.sql):
            conn.execute(statement)
        if step.python is not None:
            step.python(conn)
        problems = conn.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise StoreError(f"step {step.version} broke {len(problems)} links: {problems[:3]}")
        conn.execute(f"PRAGMA user_version = {int(step.version)}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return True


def check_not_newer(conn: sqlite3.Connection) -> int:
    found = store_version(conn)
    if found > LATEST:
        raise NewerStoreError(
            f"this session store was written by a newer Prolo Planner (store version {found}; "
            f"this version reads up to {LATEST}). Update Prolo Planner to open it; it was left "
            "untouched."
        )
    return found


def migrate(
    conn: sqlite3.Connection, *, upto: int | None = None, backup_dir: Path | None = None
) -> int:
    """Bring the store up to `upto` (default: the latest version). Returns the version found.

    A store that holds data gets a backup copy in `backup_dir` before its first step runs.
    """
    found = check_not_newer(conn)
    target = LATEST if upto is None else upto
    pending = [s for s in STEPS if found < s.version <= target]
    if pending and found > 0 and backup_dir is not None:
        _backup(conn, backup_dir, found)
    for step in pending:
        if apply_step(conn, step):
            log.info("session store upgraded to version %d: %s", step.version, step.title)
    return found


def _backup(conn: sqlite3.Connection, folder: Path, version: int) -> Path:
    from prolo_planner.files import PRIVATE_FILE_MODE, private_dir

    private_dir(folder)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = folder / f"prolo-planner-v{version}-{stamp}.sqlite3"
    path.touch(mode=PRIVATE_FILE_MODE)
    target = sqlite3.connect(path)
    try:
        conn.backup(target)
    finally:
        target.close()
    path.chmod(PRIVATE_FILE_MODE)
    log.info("session store version %d backed up to %s before upgrading", version, path)
    return path
