"""Sessions in the store: their fields, their plan, signing, amendment and the patient's timeline.

A signed session is read-only for good. To change it, `amend` makes the next version: a new
draft row that `amends` the old one and starts as a copy of its fields, images and plan. The old
row stays as it was, superseded, so the chart can always show what was signed.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from prolo_planner.core.plan import Side
from prolo_planner.store import origins
from prolo_planner.store.plan_rows import PreparedPlan, anaesthetic_from_json
from prolo_planner.store.records import (
    DoneSummary,
    InvalidValue,
    NotFound,
    PacsOrigin,
    PlanSaved,
    ReadOnlySession,
    Session,
    SessionState,
    TimelineRow,
    check_pain,
    iso_datetime,
)

_COLUMNS = (
    "s.id, s.patient_id, s.started_at, s.region, s.side, s.clinician, s.pain_before,"
    " s.pain_after, s.notes, s.state, s.version, s.amends, s.signed_at, s.signed_by, s.uid,"
    " s.signed_over"
)
_SUPERSEDED = "EXISTS (SELECT 1 FROM sessions n WHERE n.amends = s.id)"
_SET_ASIDE = (
    "EXISTS (SELECT 1 FROM pacs_records r WHERE r.session_id = s.id AND r.set_aside_at IS NOT NULL)"
)


def clean_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "started_at":
            value = iso_datetime(value)
        elif key in ("pain_before", "pain_after"):
            value = check_pain(key.replace("_", " "), value)
        elif key == "side":
            try:
                value = Side(value).value
            except ValueError:
                allowed = ", ".join(s.value for s in Side)
                raise InvalidValue(f"side: one of {allowed}, got {value!r}") from None
        elif key in ("region", "clinician", "notes"):
            if not isinstance(value, str):
                raise InvalidValue(f"{key}: expected text, got {value!r}")
        else:
            raise InvalidValue(f"a session has no field {key!r} that can be changed")
        out[key] = value
    return out


def _row(row: Any) -> Session:
    return Session(
        id=row["id"],
        patient_id=row["patient_id"],
        started_at=row["started_at"],
        region=row["region"],
        side=Side(row["side"]) if row["side"] in Side.__members__.values() else Side.UNSPECIFIED,
        clinician=row["clinician"],
        pain_before=row["pain_before"],
        pain_after=row["pain_after"],
        notes=row["notes"],
        state=SessionState(row["state"]),
        version=row["version"],
        amends=row["amends"],
        signed_at=row["signed_at"],
        signed_by=row["signed_by"],
        uid=row["uid"],
        signed_over=_texts(row["signed_over"]),
    )


def _texts(stored: str | None) -> tuple[str, ...]:
    """A JSON list of texts as a tuple; anything else (a damaged row) as nothing."""
    try:
        value = json.loads(stored or "[]")
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def get(conn: sqlite3.Connection, session_id: int) -> Session:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM sessions s WHERE s.id = ?", (session_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no session #{session_id} in the store")
    return _row(row)


def successor(conn: sqlite3.Connection, session_id: int) -> int | None:
    """The id of the version that amends this one, if any."""
    row = conn.execute("SELECT id FROM sessions WHERE amends = ?", (session_id,)).fetchone()
    return None if row is None else int(row[0])


def insert(
    conn: sqlite3.Connection, patient_id: int, fields: Mapping[str, Any], now: str
) -> Session:
    values = clean_fields(fields)
    values.setdefault("started_at", iso_datetime(_local_now()))
    values["uid"] = new_uid()
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    try:
        cur = conn.execute(
            f"INSERT INTO sessions (patient_id, {names}, created_at, updated_at)"
            f" VALUES (?, {marks}, ?, ?)",
            (patient_id, *values.values(), now, now),
        )
    except sqlite3.IntegrityError:
        raise NotFound(f"no patient #{patient_id} in the store") from None
    return get(conn, int(cur.lastrowid or 0))


def new_uid() -> str:
    """A new session version's uid (uuid4 hex): every store that holds the version knows it so."""
    return uuid.uuid4().hex


def _local_now() -> _dt.datetime:
    return _dt.datetime.now().replace(microsecond=0)


def why_read_only(conn: sqlite3.Connection, session: Session) -> str | None:
    """Why the session cannot be changed, in words for the window's notice; None if it can."""
    later = successor(conn, session.id)
    if later is not None:
        version = get(conn, later).version
        return f"replaced by version {version} (session #{later}); open that one to change it"
    pulled = conn.execute(
        "SELECT node, conflict_with, set_aside_at FROM pacs_records WHERE session_id = ?",
        (session.id,),
    ).fetchone()
    if pulled is not None and pulled["conflict_with"] is not None:
        return (
            f"it amends the same version as session #{pulled['conflict_with']}: a conflict to "
            "resolve (Session > Resolve conflict)"
        )
    if pulled is not None and pulled["set_aside_at"] is not None:
        return "set aside when a conflict was resolved; kept for review"
    if pulled is not None and not session.is_signed:
        return (
            f"a copy of a draft pulled from {pulled['node']}; it is changed where it was made "
            "(carry it forward into a new session to plan on it here)"
        )
    if session.is_signed:
        by = f" by {session.signed_by}" if session.signed_by else ""
        when = (session.signed_at or "")[:16].replace("T", " ")
        return f"signed on {when} UTC{by}; amend it to make changes"
    return None


def check_editable(conn: sqlite3.Connection, session: Session) -> None:
    reason = why_read_only(conn, session)
    if reason is not None:
        raise ReadOnlySession(reason, session.id)


def update(
    conn: sqlite3.Connection, session_id: int, changes: Mapping[str, Any], now: str
) -> tuple[Session, list[str]]:
    """The session after the change, and the names of the fields whose value changed."""
    old = get(conn, session_id)
    check_editable(conn, old)
    values = clean_fields(changes)
    changed = [k for k, v in values.items() if _value_of(old, k) != v]
    if changed:
        sets = ", ".join(f"{k} = ?" for k in changed)
        conn.execute(
            f"UPDATE sessions SET {sets}, updated_at = ? WHERE id = ?",
            (*(values[k] for k in changed), now, session_id),
        )
    return get(conn, session_id), changed


def _value_of(session: Session, name: str) -> Any:
    value = getattr(session, name)
    return value.value if isinstance(value, Side) else value


# -- plans ----------------------------------------------------------------------------------------
#: The totals kept beside each plan for the timeline: planned (step 3) and done (step 9).
_SUMMARY_COLUMNS = (
    "site_count",
    "site_names",
    "total_ml",
    "dextrose_g",
    "anaesthetic_mg",
    "recorded",
    "done_sites",
    "not_done_sites",
    "given_ml",
    "given_dextrose_g",
    "given_anaesthetic_mg",
    "complications",
)


def plan_document(conn: sqlite3.Connection, session_id: int) -> tuple[str, int, str] | None:
    """(document JSON, revision, saved_at) of the session's plan, or None if none was saved."""
    row = conn.execute(
        "SELECT document, revision, saved_at FROM plans WHERE session_id = ?", (session_id,)
    ).fetchone()
    return None if row is None else (row[0], int(row[1]), row[2])


def store_plan(
    conn: sqlite3.Connection, session_id: int, prepared: PreparedPlan, now: str
) -> PlanSaved:
    """Write the plan document if it differs from the stored one."""
    text, summary = prepared.text, prepared.summary
    stored = plan_document(conn, session_id)
    if stored is not None and stored[0] == text:
        return PlanSaved(changed=False, revision=stored[1], saved_at=stored[2])
    revision = 1 if stored is None else stored[1] + 1
    columns = ", ".join(("session_id", "document", "format_version", "revision", "saved_at"))
    columns += ", " + ", ".join(_SUMMARY_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns.split(", ")[1:])
    values = (
        session_id,
        text,
        prepared.format_version,
        revision,
        now,
        summary.site_count,
        summary.site_names_json,
        summary.total_ml,
        summary.dextrose_g,
        summary.anaesthetic_json,
        *prepared.record.row(),
    )
    conn.execute(
        f"INSERT INTO plans ({columns}) VALUES ({', '.join('?' for _ in values)})"
        f" ON CONFLICT (session_id) DO UPDATE SET {updates}",
        values,
    )
    conn.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (now, session_id))
    return PlanSaved(changed=True, revision=revision, saved_at=now)


# -- signing and amendment ------------------------------------------------------------------------
def sign(
    conn: sqlite3.Connection,
    session_id: int,
    who: str,
    now: str,
    signed_over: tuple[str, ...] = (),
) -> Session:
    session = get(conn, session_id)
    check_editable(conn, session)
    conn.execute(
        "UPDATE sessions SET state = 'signed', signed_at = ?, signed_by = ?, updated_at = ?,"
        " signed_over = ? WHERE id = ?",
        (now, who, now, json.dumps(list(signed_over)), session_id),
    )
    return get(conn, session_id)


def amend(conn: sqlite3.Connection, session_id: int, now: str) -> Session:
    """A new draft version of a signed session, with a copy of its fields, images and plan."""
    old = get(conn, session_id)
    later = successor(conn, session_id)
    if later is not None:
        raise ReadOnlySession(
            f"session #{session_id} was already amended: amend the latest version (#{later})"
        )
    if not old.is_signed:
        raise ReadOnlySession(f"session #{session_id} is a draft: change it directly")
    cur = conn.execute(
        "INSERT INTO sessions (patient_id, started_at, region, side, clinician, pain_before,"
        " pain_after, notes, state, version, amends, created_at, updated_at, uid)"
        " SELECT patient_id, started_at, region, side, clinician, pain_before, pain_after, notes,"
        " 'draft', version + 1, id, ?, ?, ? FROM sessions WHERE id = ?",
        (now, now, new_uid(), session_id),
    )
    new_id = int(cur.lastrowid or 0)
    conn.execute(
        "INSERT INTO session_images (session_id, sha256, added_at)"
        " SELECT ?, sha256, added_at FROM session_images WHERE session_id = ?",
        (new_id, session_id),
    )
    summary = ", ".join(_SUMMARY_COLUMNS)
    conn.execute(
        f"INSERT INTO plans (session_id, document, format_version, revision, saved_at, {summary})"
        f" SELECT ?, document, format_version, 1, ?, {summary} FROM plans WHERE session_id = ?",
        (new_id, now, session_id),
    )
    return get(conn, new_id)


def versions(conn: sqlite3.Connection, session_id: int) -> list[Session]:
    """Every version of the session this one belongs to, first to latest."""
    first = get(conn, session_id)
    while first.amends is not None:
        first = get(conn, first.amends)
    chain = [first]
    while (later := successor(conn, chain[-1].id)) is not None:
        chain.append(get(conn, later))
    return chain


# -- the timeline ---------------------------------------------------------------------------------
def timeline(
    conn: sqlite3.Connection, patient_id: int, *, include_superseded: bool = False
) -> list[TimelineRow]:
    """The patient's sessions, latest first, with their stored plan totals."""
    where = "s.patient_id = ?"
    if not include_superseded:
        where += f" AND NOT {_SUPERSEDED} AND NOT {_SET_ASIDE}"
    rows = conn.execute(
        f"SELECT {_COLUMNS}, {_SUPERSEDED} AS superseded,"
        f" {', '.join('p.' + c for c in _SUMMARY_COLUMNS)}"
        f" FROM sessions s LEFT JOIN plans p ON p.session_id = s.id WHERE {where}"
        " ORDER BY s.started_at DESC, s.version DESC",
        (patient_id,),
    ).fetchall()
    pulled = origins.of_patient(conn, patient_id)
    return [timeline_row(r, pulled.get(r["id"])) for r in rows]


def timeline_row(row: Any, origin: PacsOrigin | None = None) -> TimelineRow:
    return TimelineRow(
        session=_row(row),
        site_count=row["site_count"] or 0,
        site_names=tuple(json.loads(row["site_names"] or "[]")),
        total_ml=row["total_ml"] or 0.0,
        dextrose_g=row["dextrose_g"] or 0.0,
        anaesthetic_mg=MappingProxyType(anaesthetic_from_json(row["anaesthetic_mg"])),
        superseded=bool(row["superseded"]),
        origin=origin,
        done=_done(row),
    )


def _done(row: Any) -> DoneSummary | None:
    """What the plan's procedure record says was done; None without a record."""
    if not row["recorded"]:
        return None
    return DoneSummary(
        sites=row["done_sites"] or 0,
        not_done=row["not_done_sites"] or 0,
        given_ml=row["given_ml"] or 0.0,
        dextrose_g=row["given_dextrose_g"] or 0.0,
        anaesthetic_mg=MappingProxyType(anaesthetic_from_json(row["given_anaesthetic_mg"])),
        complications=row["complications"] or "",
    )
