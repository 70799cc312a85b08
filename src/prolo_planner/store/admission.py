"""The door of a session: every image brought to a session, whatever brought it (File > Open,
drag and drop, the command line, a folder or DICOMDIR, the receiver, a PACS retrieve), is checked
here against the session's patient before it is linked to the session.

- A file naming the session's patient (ID with its issuer, name, birth date: core.identity) is
  attached.
- A file naming another patient is held back for this session, with the reasons; attaching it
  anyway is the clinician's explicit decision, audited, and holds for this session only.
- A file naming nobody (a video, a frame grab, an anonymised file) is the clinician's to say:
  UNIDENTIFIED until they answer (confirm), then attached, or held. A yes is remembered with the
  file (its patient), so the same file is not asked about again for the same patient.
Every decision leaves an audit entry in the same transaction as the change.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from prolo_planner.core.identity import PatientIdentity, differences
from prolo_planner.store import audit, images, patients
from prolo_planner.store.image_library import ImageLibrary
from prolo_planner.store.records import (
    Admission,
    Admitted,
    AuditAction,
    HeldImage,
    Patient,
    Session,
    StoredImage,
    file_name,
)

#: The reason a file the clinician said is not the session patient's is held with.
NOT_CONFIRMED = "the file names no patient, and it was not confirmed as {name}'s"


def admit(
    conn: sqlite3.Connection,
    stored: StoredImage,
    path: Path,
    facts: images.FileFacts,
    session: Session,
    origin: str,
    who: str,
    now: str,
) -> Admission:
    """Attach the stored file to the session if it is the session patient's, else hold it (or
    leave it UNIDENTIFIED for the clinician); inside the caller's write transaction."""
    patient = patients.get(conn, session.patient_id)
    where = f"{path.name} ({origin})" if origin else path.name
    if facts.identity.is_checkable:
        found = differences(patient.identity, facts.identity)
        if found:
            hold(conn, session, stored, found, origin, who, now)
            return Admission(stored, Admitted.HELD, found)
        if stored.patient_id is None:
            images.set_patient(conn, stored.sha256, patient.id)
        _attach(conn, session, stored.sha256, who, now, f"{where}: patient matches")
        return Admission(stored, Admitted.ATTACHED)
    if stored.patient_id == patient.id:
        _attach(conn, session, stored.sha256, who, now, f"{where}: confirmed earlier as theirs")
        return Admission(stored, Admitted.ATTACHED)
    if stored.patient_id is not None:
        other = patients.get(conn, stored.patient_id)
        why = (f"the file was confirmed earlier as {other.display_name}'s ({other.mrn})",)
        hold(conn, session, stored, why, origin, who, now)
        return Admission(stored, Admitted.HELD, why)
    return Admission(stored, Admitted.UNIDENTIFIED)


def confirm(
    conn: sqlite3.Connection,
    stored: StoredImage,
    session: Session,
    belongs: bool,
    origin: str,
    who: str,
    now: str,
) -> Admission:
    """The clinician's answer for a file that names nobody: it is the session patient's (filed
    under them and attached), or it is not (held for this session)."""
    patient = patients.get(conn, session.patient_id)
    if not belongs:
        why = (NOT_CONFIRMED.format(name=patient.display_name),)
        hold(conn, session, stored, why, origin, who, now)
        return Admission(stored, Admitted.HELD, why)
    images.set_patient(conn, stored.sha256, patient.id)
    detail = f"{stored.name}: names no patient; confirmed by the clinician as {patient.mrn}'s"
    _attach(conn, session, stored.sha256, who, now, detail)
    return Admission(stored, Admitted.ATTACHED)


def _attach(
    conn: sqlite3.Connection, session: Session, sha256: str, who: str, now: str, detail: str
) -> None:
    images.link(conn, session.id, sha256, now)
    conn.execute(
        "UPDATE held_images SET resolution = 'attached', resolved_at = ?, resolved_by = ?"
        " WHERE session_id = ? AND sha256 = ? AND resolution = ''",
        (now, who, session.id, sha256),
    )
    audit.append(
        conn,
        now,
        who,
        AuditAction.IMPORTED,
        session_id=session.id,
        patient_id=session.patient_id,
        detail=detail,
    )


def may_link(conn: sqlite3.Connection, session: Session, sha256: str) -> bool:
    """Whether a library image found in the session's plan is the session patient's: linked to
    the session already, filed under the patient, or naming them."""
    row = conn.execute("SELECT * FROM images WHERE sha256 = ?", (sha256,)).fetchone()
    if row is None:
        return False
    linked = conn.execute(
        "SELECT 1 FROM session_images WHERE session_id = ? AND sha256 = ?", (session.id, sha256)
    ).fetchone()
    if linked is not None or row["patient_id"] == session.patient_id:
        return True
    file = PatientIdentity(
        row["file_patient_id"], row["file_issuer"], row["file_patient_name"], row["file_birth_date"]
    )
    patient = patients.get(conn, session.patient_id)
    return file.is_checkable and not differences(patient.identity, file)


# -- the images held back from a session -------------------------------------------------------
def hold(
    conn: sqlite3.Connection,
    session: Session,
    stored: StoredImage,
    reasons: tuple[str, ...],
    origin: str,
    who: str,
    now: str,
) -> None:
    """Hold the file back from the session with the reasons (again, if it was dismissed)."""
    conn.execute(
        "INSERT INTO held_images (session_id, sha256, reasons, origin, held_at, held_by)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, sha256) DO UPDATE SET"
        " reasons = excluded.reasons, origin = excluded.origin, held_at = excluded.held_at,"
        " held_by = excluded.held_by, resolution = '', resolved_at = NULL, resolved_by = NULL",
        (session.id, stored.sha256, json.dumps(list(reasons)), origin, now, who),
    )
    audit.append(
        conn,
        now,
        who,
        AuditAction.IMPORTED,
        session_id=session.id,
        patient_id=session.patient_id,
        detail=f"{stored.name} ({origin or 'brought in'}): held, not attached: "
        + "; ".join(reasons),
    )


def held(conn: sqlite3.Connection, session_id: int, library: ImageLibrary) -> list[HeldImage]:
    """The images held back from this session and not resolved yet, oldest first."""
    rows = conn.execute(
        "SELECT h.session_id, h.reasons, h.origin, h.held_at, i.* FROM held_images h"
        " JOIN images i ON i.sha256 = h.sha256"
        " WHERE h.session_id = ? AND h.resolution = '' ORDER BY h.held_at, i.sha256",
        (session_id,),
    ).fetchall()
    return [
        HeldImage(
            session_id=row["session_id"],
            image=images.row_image(row, library),
            reasons=tuple(json.loads(row["reasons"])),
            origin=row["origin"],
            held_at=row["held_at"],
        )
        for row in rows
    ]


def attach_anyway(
    conn: sqlite3.Connection,
    session: Session,
    stored: StoredImage,
    patient: Patient,
    reasons: tuple[str, ...],
    who: str,
    now: str,
) -> None:
    """The clinician's explicit decision: this held file goes into this session (and this one
    only: the file stays filed under nobody else, and another session asks again)."""
    images.link(conn, session.id, stored.sha256, now)
    _resolve(conn, session, stored.sha256, "attached", who, now)
    audit.append(
        conn,
        now,
        who,
        AuditAction.IMPORTED,
        session_id=session.id,
        patient_id=patient.id,
        detail=f"{stored.name}: attached to this session by the clinician's decision, despite: "
        + "; ".join(reasons),
    )


def attached_anyway(conn: sqlite3.Connection, session_id: int) -> set[str]:
    """The images held back from this session that the clinician attached anyway."""
    rows = conn.execute(
        "SELECT sha256 FROM held_images WHERE session_id = ? AND resolution = 'attached'",
        (session_id,),
    ).fetchall()
    return {row["sha256"] for row in rows}


def hold_again(conn: sqlite3.Connection, session: Session, sha256: str, who: str, now: str) -> None:
    """An image attached anyway that the clinician took out of the plan again (deleted, or the
    attach undone) leaves the session and is held back again, with the reasons it was held
    for: it is no longer sent, exported or pulled with the session."""
    row = conn.execute("SELECT original_path FROM images WHERE sha256 = ?", (sha256,)).fetchone()
    name = file_name(row["original_path"]) if row is not None else sha256[:12]
    conn.execute(
        "DELETE FROM session_images WHERE session_id = ? AND sha256 = ?", (session.id, sha256)
    )
    _resolve(conn, session, sha256, "", who, now)
    _edited(
        conn,
        session,
        who,
        now,
        f"{name}: taken out of the plan again; it leaves the session and is held back",
    )


def dismiss(
    conn: sqlite3.Connection, session: Session, stored: StoredImage, who: str, now: str
) -> None:
    """The held file stays out of the session (it is kept in the library)."""
    _resolve(conn, session, stored.sha256, "dismissed", who, now)
    _edited(
        conn, session, who, now, f"{stored.name}: held image dismissed, kept out of the session"
    )


def _resolve(
    conn: sqlite3.Connection, session: Session, sha256: str, resolution: str, who: str, now: str
) -> None:
    """Record what became of a held image ('attached', 'dismissed'; '' holds it again)."""
    conn.execute(
        "UPDATE held_images SET resolution = ?, resolved_at = ?, resolved_by = ?"
        " WHERE session_id = ? AND sha256 = ?",
        (resolution, now if resolution else None, who if resolution else None, session.id, sha256),
    )


def _edited(conn: sqlite3.Connection, session: Session, who: str, now: str, detail: str) -> None:
    audit.append(
        conn,
        now,
        who,
        AuditAction.EDITED,
        session_id=session.id,
        patient_id=session.patient_id,
        detail=detail,
    )
