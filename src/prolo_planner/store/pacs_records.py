"""Session versions that came from a PACS: filing a pulled version, recognising one already here,
and keeping concurrent amendments apart as a conflict for the clinician.

A version is known everywhere by its uid (sessions.uid). Pulling it again finds that uid and
writes nothing; a later revision of a pulled draft (its author signed it since) replaces the
copy; a version that amends one which already has another successor here is filed as a conflict
(`conflict_with`), unlinked, never merged. See docs/adr/0005.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from prolo_planner.core.plan import Side
from prolo_planner.store import audit, images, sessions
from prolo_planner.store.origins import COLUMNS, get
from prolo_planner.store.plan_rows import PreparedPlan
from prolo_planner.store.records import (
    AuditAction,
    InvalidValue,
    PacsOrigin,
    Session,
    SessionState,
    check_pain,
    iso_datetime,
)


@dataclass(frozen=True, slots=True)
class PulledSession:
    """One session version as its SR on the PACS carries it."""

    uid: str
    version: int
    started_at: str
    amends_uid: str = ""
    region: str = ""
    side: str = Side.UNSPECIFIED.value
    clinician: str = ""
    pain_before: int | None = None
    pain_after: int | None = None
    notes: str = ""
    state: str = SessionState.DRAFT.value
    signed_at: str | None = None
    signed_by: str | None = None
    # Which SR carried it, from where.
    sr_instance_uid: str = ""
    sr_series_uid: str = ""
    sr_study_uid: str = ""
    plan_digest: str = ""
    made_at: str = ""
    node: str = ""

    def checked(self) -> PulledSession:
        """Itself, or InvalidValue naming the field a damaged or hostile record got wrong."""
        if not self.uid or not all(c in "0123456789abcdef" for c in self.uid) or len(self.uid) > 64:
            raise InvalidValue(f"session uid: expected hex text, got {self.uid!r}")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise InvalidValue(f"session version: a whole number from 1, got {self.version!r}")
        iso_datetime(self.started_at)
        check_pain("pain before", self.pain_before)
        check_pain("pain after", self.pain_after)
        sessions.clean_fields({"side": self.side, "region": self.region, "notes": self.notes})
        if self.state not in (SessionState.DRAFT.value, SessionState.SIGNED.value):
            raise InvalidValue(f"session state: draft or signed, got {self.state!r}")
        return self


class PullOutcome(StrEnum):
    NEW = "new"  # filed as a new version here
    UPDATED = "updated"  # a later revision of a pulled copy: the copy now shows it
    ALREADY_HERE = "already here"  # the same version (this store's own, or pulled before)
    CONFLICT = "conflict"  # amends a version that already has another successor here


@dataclass(frozen=True, slots=True)
class Filed:
    outcome: PullOutcome
    session: Session
    #: In words, for the pull's report: "version 2 of 2026-03-14: conflict with session #5".
    detail: str = ""


def session_by_uid(conn: sqlite3.Connection, uid: str) -> Session | None:
    row = conn.execute("SELECT id FROM sessions WHERE uid = ?", (uid,)).fetchone()
    return None if row is None else sessions.get(conn, int(row[0]))


def known_sr_uids(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT sr_instance_uid FROM pacs_records WHERE sr_instance_uid != ''")
    return {r[0] for r in rows}


def _later_revision(new: PulledSession, old: PacsOrigin, old_session: Session) -> bool:
    """Whether `new` is a later state of the same version than the copy here: signed beats
    draft, then the later SR wins."""
    if old_session.is_signed and new.state != SessionState.SIGNED.value:
        return False
    if new.state == SessionState.SIGNED.value and not old_session.is_signed:
        return True
    return new.made_at > old.made_at


@dataclass(frozen=True, slots=True)
class Decision:
    """What filing a pulled version would do, worked out without writing."""

    outcome: PullOutcome
    #: The version here it is (already here, updated).
    existing: Session | None = None
    #: The version here it amends (new), or competes with (conflict).
    amends: int | None = None
    conflict_with: int | None = None
    note: str = ""


def label_of(pulled: PulledSession) -> str:
    state = "signed" if pulled.state == SessionState.SIGNED.value else "draft"
    who = f", {pulled.clinician}" if pulled.clinician else ""
    return f"session of {pulled.started_at[:10]}, version {pulled.version} ({state}{who})"


def decide(conn: sqlite3.Connection, patient_id: int | None, pulled: PulledSession) -> Decision:
    """New, already here, a later revision of the copy here, or a conflict."""
    existing = session_by_uid(conn, pulled.uid)
    if existing is not None:
        if patient_id is not None and existing.patient_id != patient_id:
            raise InvalidValue(
                f"{label_of(pulled)}: this store files it under another patient "
                f"(session #{existing.id})"
            )
        origin = get(conn, existing.id)
        # Made here (no SR it came from), or this very SR again.
        if origin is None or origin.sr_instance_uid in ("", pulled.sr_instance_uid):
            return Decision(PullOutcome.ALREADY_HERE, existing)
        later = sessions.successor(conn, existing.id)
        if later is None and _later_revision(pulled, origin, existing):
            return Decision(PullOutcome.UPDATED, existing, conflict_with=origin.conflict_with)
        return Decision(PullOutcome.ALREADY_HERE, existing)
    if pulled.amends_uid:
        before = session_by_uid(conn, pulled.amends_uid)
        if before is None:
            return Decision(
                PullOutcome.NEW, note="the version it amends is not on the PACS or not pulled"
            )
        other = sessions.successor(conn, before.id)
        if other is not None:
            return Decision(PullOutcome.CONFLICT, conflict_with=other)
        return Decision(PullOutcome.NEW, amends=before.id)
    return Decision(PullOutcome.NEW)


def file_pulled(
    conn: sqlite3.Connection,
    patient_id: int,
    pulled: PulledSession,
    prepared: PreparedPlan,
    who: str,
    now: str,
) -> Filed:
    """File one pulled version under the patient, inside the caller's write transaction."""
    pulled.checked()
    d = decide(conn, patient_id, pulled)
    label = label_of(pulled)
    if d.outcome is PullOutcome.ALREADY_HERE:
        assert d.existing is not None
        return Filed(d.outcome, d.existing, f"{label}, already here as session #{d.existing.id}")
    if d.outcome is PullOutcome.UPDATED:
        assert d.existing is not None
        _replace(conn, d.existing.id, pulled, prepared, now)
        _record(conn, d.existing.id, pulled, now, d.conflict_with)
        session = sessions.get(conn, d.existing.id)
        audit.append(
            conn,
            now,
            who,
            AuditAction.IMPORTED,
            session_id=session.id,
            patient_id=patient_id,
            detail=f"pulled from {pulled.node}: {label} as its author last sent it",
        )
        return Filed(d.outcome, session, f"{label}: now as its author last sent it")
    session = _insert(conn, patient_id, pulled, d.amends, now)
    sessions.store_plan(conn, session.id, prepared, now)
    for sha in prepared.image_sha256s:
        if conn.execute("SELECT 1 FROM images WHERE sha256 = ?", (sha,)).fetchone():
            images.link(conn, session.id, sha, now)
    _record(conn, session.id, pulled, now, d.conflict_with)
    detail = f"pulled from {pulled.node}: {label}"
    if d.conflict_with is not None:
        detail += (
            f"; CONFLICT: it amends the same version as session #{d.conflict_with}; kept apart "
            "for the clinician to resolve"
        )
    note = f"; {d.note}" if d.note else ""
    audit.append(
        conn,
        now,
        who,
        AuditAction.IMPORTED,
        session_id=session.id,
        patient_id=patient_id,
        detail=detail + note,
    )
    if d.conflict_with is not None:
        return Filed(
            PullOutcome.CONFLICT,
            session,
            f"{label}: amends the same version as session #{d.conflict_with}",
        )
    return Filed(PullOutcome.NEW, session, f"{label}{note}")


def _insert(
    conn: sqlite3.Connection, patient_id: int, p: PulledSession, amends: int | None, now: str
) -> Session:
    cur = conn.execute(
        "INSERT INTO sessions (patient_id, started_at, region, side, clinician, pain_before,"
        " pain_after, notes, state, version, amends, signed_at, signed_by, uid, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            patient_id,
            iso_datetime(p.started_at),
            p.region,
            p.side,
            p.clinician,
            p.pain_before,
            p.pain_after,
            p.notes,
            p.state,
            p.version,
            amends,
            p.signed_at,
            p.signed_by,
            p.uid,
            now,
            now,
        ),
    )
    return sessions.get(conn, int(cur.lastrowid or 0))


def _replace(
    conn: sqlite3.Connection, session_id: int, p: PulledSession, prepared: PreparedPlan, now: str
) -> None:
    conn.execute(
        "UPDATE sessions SET started_at = ?, region = ?, side = ?, clinician = ?,"
        " pain_before = ?, pain_after = ?, notes = ?, state = ?, signed_at = ?, signed_by = ?,"
        " updated_at = ? WHERE id = ?",
        (
            iso_datetime(p.started_at),
            p.region,
            p.side,
            p.clinician,
            p.pain_before,
            p.pain_after,
            p.notes,
            p.state,
            p.signed_at,
            p.signed_by,
            now,
            session_id,
        ),
    )
    sessions.store_plan(conn, session_id, prepared, now)
    for sha in prepared.image_sha256s:
        if conn.execute("SELECT 1 FROM images WHERE sha256 = ?", (sha,)).fetchone():
            images.link(conn, session_id, sha, now)


def _record(
    conn: sqlite3.Connection,
    session_id: int,
    p: PulledSession,
    now: str,
    conflict_with: int | None,
) -> None:
    conn.execute(
        f"INSERT INTO pacs_records ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)"
        " ON CONFLICT (session_id) DO UPDATE SET sr_instance_uid = excluded.sr_instance_uid,"
        " sr_series_uid = excluded.sr_series_uid, sr_study_uid = excluded.sr_study_uid,"
        " plan_digest = excluded.plan_digest, made_at = excluded.made_at, node = excluded.node,"
        " pulled_at = excluded.pulled_at",
        (
            session_id,
            p.sr_instance_uid,
            p.sr_series_uid,
            p.sr_study_uid,
            p.plan_digest,
            p.made_at,
            p.node,
            now,
            p.amends_uid,
            conflict_with,
        ),
    )


# -- resolving a conflict ------------------------------------------------------------------------
def conflict_pair(conn: sqlite3.Connection, session_id: int) -> tuple[Session, Session] | None:
    """(the pulled version in conflict, the version here it competes with), for either one."""
    row = conn.execute(
        "SELECT session_id, conflict_with FROM pacs_records WHERE conflict_with IS NOT NULL"
        " AND set_aside_at IS NULL AND (session_id = ? OR conflict_with = ?)",
        (session_id, session_id),
    ).fetchone()
    if row is None:
        return None
    return sessions.get(conn, row["session_id"]), sessions.get(conn, row["conflict_with"])


def resolve(conn: sqlite3.Connection, keep_id: int, who: str, now: str) -> Session:
    """Continue the course with `keep_id`, one of a conflicting pair; the other is set aside
    (kept, read-only, out of the timeline). Keeping the pulled one links it in place of the
    version here, which is set aside in turn."""
    pair = conflict_pair(conn, keep_id)
    if pair is None:
        raise InvalidValue(f"session #{keep_id} is not in a conflict")
    pulled, here = pair
    if keep_id == pulled.id:
        predecessor = here.amends
        conn.execute("UPDATE sessions SET amends = NULL WHERE id = ?", (here.id,))
        conn.execute("UPDATE sessions SET amends = ? WHERE id = ?", (predecessor, pulled.id))
        conn.execute(
            "UPDATE pacs_records SET conflict_with = NULL WHERE session_id = ?", (pulled.id,)
        )
        _set_aside(conn, here, now)
        kept, dropped = pulled, here
    else:
        _set_aside(conn, pulled, now)
        kept, dropped = here, pulled
    audit.append(
        conn,
        now,
        who,
        AuditAction.EDITED,
        session_id=kept.id,
        patient_id=kept.patient_id,
        detail=(
            f"conflict resolved: the course continues with session #{kept.id}; "
            f"session #{dropped.id} set aside, kept for review"
        ),
    )
    return sessions.get(conn, kept.id)


def _set_aside(conn: sqlite3.Connection, session: Session, now: str) -> None:
    conn.execute(
        "INSERT INTO pacs_records (session_id, sr_instance_uid, pulled_at, set_aside_at)"
        " VALUES (?, '', ?, ?) ON CONFLICT (session_id) DO UPDATE SET"
        " set_aside_at = excluded.set_aside_at, conflict_with = NULL",
        (session.id, now, now),
    )
