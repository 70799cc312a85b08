"""Reading where a pulled session version came from (the pacs_records rows), for the timeline,
read-only reasons and the pull itself."""

from __future__ import annotations

import sqlite3
from typing import Any

from prolo_planner.store.records import PacsOrigin

COLUMNS = (
    "session_id, sr_instance_uid, sr_series_uid, sr_study_uid, plan_digest, made_at, node,"
    " pulled_at, amends_uid, conflict_with, set_aside_at"
)


def _row(r: Any) -> PacsOrigin:
    return PacsOrigin(
        session_id=r["session_id"],
        sr_instance_uid=r["sr_instance_uid"],
        sr_series_uid=r["sr_series_uid"],
        sr_study_uid=r["sr_study_uid"],
        plan_digest=r["plan_digest"],
        made_at=r["made_at"],
        node=r["node"],
        pulled_at=r["pulled_at"],
        amends_uid=r["amends_uid"],
        conflict_with=r["conflict_with"],
        set_aside_at=r["set_aside_at"],
    )


def get(conn: sqlite3.Connection, session_id: int) -> PacsOrigin | None:
    r = conn.execute(
        f"SELECT {COLUMNS} FROM pacs_records WHERE session_id = ?", (session_id,)
    ).fetchone()
    return None if r is None else _row(r)


def of_patient(conn: sqlite3.Connection, patient_id: int) -> dict[int, PacsOrigin]:
    columns = ", ".join("r." + c.strip() for c in COLUMNS.split(","))
    rows = conn.execute(
        f"SELECT {columns} FROM pacs_records r JOIN sessions s ON s.id = r.session_id"
        " WHERE s.patient_id = ?",
        (patient_id,),
    ).fetchall()
    return {r["session_id"]: _row(r) for r in rows}
