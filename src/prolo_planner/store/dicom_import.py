"""Filing an imported DICOM file under its patient: matched by PatientID, created if new.

The same ID with another name or birth date, or a file of another patient than the session it
was meant for, is a PatientMismatch: the file stays in the library, linked to no patient or
session, and the clinician decides. Two people are never merged silently.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from prolo_planner.store import audit, images, patients, sessions
from prolo_planner.store.records import (
    AuditAction,
    DicomImport,
    InvalidValue,
    StoredImage,
    iso_date,
)


def patient_fields(facts: images.FileFacts) -> dict[str, Any]:
    """A new patient as the file's header describes them."""
    try:
        birth = iso_date(facts.birth_date)
    except InvalidValue:
        birth = ""  # a malformed date in a header is no reason to refuse the file
    sex = facts.sex.upper()[:1]
    return {
        "mrn": facts.patient_id,
        "name": facts.patient_name or facts.patient_id,
        "birth_date": birth,
        "sex": sex if sex in patients.SEXES else "",
    }


def file_under_patient(
    conn: sqlite3.Connection,
    stored: StoredImage,
    path: Path,
    facts: images.FileFacts,
    session_id: int | None,
    who: str,
    now: str,
) -> DicomImport:
    """Match (or create) the file's patient, link the file, and log it; inside the caller's
    write transaction."""
    patient, created, mismatch = None, False, None
    if facts.patient_id:
        patient = patients.by_mrn(conn, facts.patient_id)
        if patient is None:
            patient = patients.insert(conn, patient_fields(facts), now)
            created = True
            audit.append(
                conn,
                now,
                who,
                AuditAction.CREATED,
                patient_id=patient.id,
                detail=f"patient {patient.mrn}, from {path.name}",
            )
        else:
            mismatch = images.mismatch_with_id(path, facts, patient)
    if session_id is not None and mismatch is None:
        session_patient = patients.get(conn, sessions.get(conn, session_id).patient_id)
        mismatch = images.mismatch_with_session(path, facts, patient, session_patient)
    detail = images.describe_file(path, stored)
    if mismatch is not None:
        detail += "; held, patient does not match: " + "; ".join(mismatch.differences)
        audit.append(conn, now, who, AuditAction.IMPORTED, detail=detail)
        return DicomImport(stored, None, created, mismatch)
    if patient is not None:
        images.set_patient(conn, stored.sha256, patient.id)
    if session_id is not None:
        images.link(conn, session_id, stored.sha256, now)
        if patient is None:  # a file without PatientID: the session says whose it is
            patient = patients.get(conn, sessions.get(conn, session_id).patient_id)
    audit.append(
        conn,
        now,
        who,
        AuditAction.IMPORTED,
        session_id=session_id,
        patient_id=patient.id if patient else None,
        detail=detail,
    )
    return DicomImport(stored, patient, created, None)
