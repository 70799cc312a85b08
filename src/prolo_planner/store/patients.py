"""Patients in the store: creating, reading, updating, and finding them by any word of name or ID.

Search looks up `patient_terms`, one row per word of the name and per form of the ID, folded
(case and accents do not matter: "muller" finds MÜLLER^Jürgen). A query word matches terms that
start with it through the terms' primary-key index, so a search costs the same at 10 patients
and at 10,000.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Mapping
from typing import Any

from prolo_planner.core.identity import fold
from prolo_planner.store.records import InvalidValue, NotFound, Patient, iso_date

__all__ = ["fold"]  # search folds text as core.identity compares names

SEXES = ("M", "F", "O", "")
_COLUMNS = "id, mrn, name, birth_date, sex, weight_kg, issuer"
_WORD_SPLIT = re.compile(r"[\s^,;]+")
_TERM_END = "\U0010ffff"  # sorts after every character: 'abc' <= term < 'abc' + this


def search_terms(mrn: str, name: str) -> set[str]:
    terms = {w for w in _WORD_SPLIT.split(fold(name)) if w}
    for word in list(terms):  # "smith-jones" is also found as "jones"
        terms.update(p for p in re.split(r"[-'.]", word) if p)
    id_folded = fold(mrn.strip())
    if id_folded:
        terms.add(id_folded)
        compact = re.sub(r"[^0-9a-z]", "", id_folded)
        if compact:
            terms.add(compact)  # "demo0001" finds DEMO-0001
    return terms


def write_terms(conn: sqlite3.Connection, patient_id: int, mrn: str, name: str) -> None:
    conn.execute("DELETE FROM patient_terms WHERE patient_id = ?", (patient_id,))
    conn.executemany(
        "INSERT INTO patient_terms (term, patient_id) VALUES (?, ?)",
        [(t, patient_id) for t in sorted(search_terms(mrn, name))],
    )


def _row(row: Any) -> Patient:
    return Patient(
        id=row["id"],
        mrn=row["mrn"],
        name=row["name"],
        birth_date=row["birth_date"],
        sex=row["sex"],
        weight_kg=row["weight_kg"],
        issuer=row["issuer"],
    )


def clean_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Validated patient fields, ready for SQL."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "mrn":
            value = str(value).strip()
            if not value:
                raise InvalidValue("patient ID: must not be empty")
        elif key == "issuer":
            value = str(value or "").strip()
            if len(value) > 64:
                raise InvalidValue("issuer of the patient ID: at most 64 characters")
        elif key == "name":
            value = str(value).strip()
            if not value.strip("^ "):
                raise InvalidValue("name: must not be empty")
        elif key == "birth_date":
            value = iso_date(str(value or ""))
        elif key == "sex":
            value = str(value or "").strip().upper()[:1]
            if value not in SEXES:
                raise InvalidValue(f"sex: M, F, O or empty, got {fields[key]!r}")
        elif key == "weight_kg":
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise InvalidValue(f"weight: a number of kg, got {value!r}")
                if not math.isfinite(value) or not 0 < value < 700:
                    raise InvalidValue(f"weight: more than 0 and less than 700 kg, got {value}")
                value = float(value)
        else:
            raise InvalidValue(f"a patient has no field {key!r}")
        out[key] = value
    return out


def insert(conn: sqlite3.Connection, fields: Mapping[str, Any], now: str) -> Patient:
    values = clean_fields(fields)
    if by_mrn(conn, values["mrn"]) is not None:
        raise InvalidValue(f"patient ID {values['mrn']!r} is already in the store")
    cur = conn.execute(
        "INSERT INTO patients (mrn, name, birth_date, sex, weight_kg, issuer, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            values["mrn"],
            values["name"],
            values.get("birth_date", ""),
            values.get("sex", ""),
            values.get("weight_kg"),
            values.get("issuer", ""),
            now,
        ),
    )
    patient_id = int(cur.lastrowid or 0)
    write_terms(conn, patient_id, values["mrn"], values["name"])
    return get(conn, patient_id)


def update(conn: sqlite3.Connection, patient_id: int, changes: Mapping[str, Any]) -> Patient:
    old = get(conn, patient_id)
    values = clean_fields(changes)
    if "mrn" in values and values["mrn"] != old.mrn:
        other = by_mrn(conn, values["mrn"])
        if other is not None:
            raise InvalidValue(f"patient ID {values['mrn']!r} belongs to {other.display_name}")
    if values:
        sets = ", ".join(f"{k} = ?" for k in values)
        conn.execute(f"UPDATE patients SET {sets} WHERE id = ?", (*values.values(), patient_id))
    new = get(conn, patient_id)
    if (new.mrn, new.name) != (old.mrn, old.name):
        write_terms(conn, patient_id, new.mrn, new.name)
    return new


def get(conn: sqlite3.Connection, patient_id: int) -> Patient:
    row = conn.execute(f"SELECT {_COLUMNS} FROM patients WHERE id = ?", (patient_id,)).fetchone()
    if row is None:
        raise NotFound(f"no patient #{patient_id} in the store")
    return _row(row)


def by_mrn(conn: sqlite3.Connection, mrn: str) -> Patient | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM patients WHERE mrn = ?", (mrn.strip(),)).fetchone()
    return _row(row) if row is not None else None


def search(conn: sqlite3.Connection, query: str, limit: int = 50) -> list[Patient]:
    """Patients with, for every word of the query, a word of name or ID starting with it,
    sorted by name. An empty query lists patients by name."""
    words = sorted({w for w in _WORD_SPLIT.split(fold(query)) if w})
    if not words:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM patients ORDER BY name COLLATE NOCASE, id LIMIT ?", (limit,)
        ).fetchall()
        return [_row(r) for r in rows]
    match = " INTERSECT ".join(
        ["SELECT patient_id FROM patient_terms WHERE term >= ? AND term < ?"] * len(words)
    )
    params: list[Any] = []
    for w in words:
        params += [w, w + _TERM_END]
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM patients WHERE id IN ({match})"
        " ORDER BY name COLLATE NOCASE, id LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [_row(r) for r in rows]


def with_sessions(conn: sqlite3.Connection) -> list[Patient]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM patients p WHERE EXISTS"
        " (SELECT 1 FROM sessions s WHERE s.patient_id = p.id)"
        " ORDER BY name COLLATE NOCASE, id"
    ).fetchall()
    return [_row(r) for r in rows]
