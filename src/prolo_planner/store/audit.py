"""The audit log: who created, edited, signed, amended, exported or imported what, and when.

Append-only: rows are added, never changed or removed. Autosave would write an 'edited' entry
every few seconds, so an edit is logged once per stretch of work: not again while the latest
entry of the session is an edit by the same person less than EDIT_QUIET_S seconds old.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from typing import Any

from prolo_planner.store.records import AuditAction, AuditEntry

EDIT_QUIET_S = 15 * 60


def append(
    conn: sqlite3.Connection,
    at: str,
    who: str,
    action: AuditAction,
    *,
    session_id: int | None = None,
    patient_id: int | None = None,
    detail: str = "",
) -> None:
    conn.execute(
        "INSERT INTO audit_log (at, who, action, session_id, patient_id, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (at, who, action.value, session_id, patient_id, detail),
    )


def edited(
    conn: sqlite3.Connection, at: str, who: str, session_id: int, patient_id: int, detail: str
) -> bool:
    """Log an edit unless this person's edit of this session was just logged. True if logged."""
    last = conn.execute(
        "SELECT at, who, action FROM audit_log WHERE session_id = ? ORDER BY id DESC LIMIT 1",
        (session_id,),
    ).fetchone()
    if (
        last is not None
        and last["action"] == AuditAction.EDITED
        and last["who"] == who
        and _seconds_between(last["at"], at) < EDIT_QUIET_S
    ):
        return False
    append(
        conn,
        at,
        who,
        AuditAction.EDITED,
        session_id=session_id,
        patient_id=patient_id,
        detail=detail,
    )
    return True


def _seconds_between(earlier: str, later: str) -> float:
    try:
        a = _dt.datetime.fromisoformat(earlier.replace("Z", "+00:00"))
        b = _dt.datetime.fromisoformat(later.replace("Z", "+00:00"))
    except ValueError:
        return float("inf")
    return (b - a).total_seconds()


def entries(
    conn: sqlite3.Connection,
    *,
    session_id: int | None = None,
    patient_id: int | None = None,
    limit: int = 1000,
) -> list[AuditEntry]:
    """Entries oldest first, of one session, one patient, or the whole store."""
    where, params = [], []
    if session_id is not None:
        where.append("session_id = ?")
        params.append(session_id)
    if patient_id is not None:
        where.append("patient_id = ?")
        params.append(patient_id)
    sql = "SELECT * FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = conn.execute(sql + " ORDER BY id LIMIT ?", (*params, limit)).fetchall()
    return [_entry(r) for r in rows]


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        who=row["who"],
        action=AuditAction(row["action"]),
        session_id=row["session_id"],
        patient_id=row["patient_id"],
        detail=row["detail"],
    )
