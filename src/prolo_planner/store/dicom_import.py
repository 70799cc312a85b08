"""Filing an imported DICOM file under its patient, outside any session: matched by PatientID,
created if new (a prior study fetched from the PACS with no session open).

The same ID with another name, birth date or issuer is a PatientMismatch: the file stays in the
library, linked to no patient, and the clinician decides. Two people are never merged silently.
Bringing a file into a session is admission.py's, which checks it against the session's patient.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from prolo_planner.store import audit, images, patients
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
        "issuer": facts.issuer[:64],
    }


def file_under_patient(
    conn: sqlite3.Connection,
    stored: StoredImage,
    path: Path,
    facts: images.FileFacts,
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
    detail = images.describe_file(path, stored)
    if mismatch is not None:
        detail += "; held, patient does not match: " + "; ".join(mismatch.differences)
        audit.append(conn, now, who, AuditAction.IMPORTED, detail=detail)
        return DicomImport(stored, None, created, mismatch)
    if patient is not None:
        images.set_patient(conn, stored.sha256, patient.id)
    audit.append(
        conn,
        now,
        who,
        AuditAction.IMPORTED,
        patient_id=patient.id if patient else None,
        detail=detail,
    )
    return DicomImport(stored, patient, created, None)
