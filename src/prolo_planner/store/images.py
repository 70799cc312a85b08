"""Stored images: their rows, their sessions, and matching a DICOM file's patient to the store.

A DICOM file's patient is matched by PatientID. The same ID with another name, birth date or
issuer is a PatientMismatch for the clinician to resolve: the store never merges two people
silently (the comparison itself is core.identity's).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prolo_planner.core import identity
from prolo_planner.core.identity import PatientIdentity
from prolo_planner.store.image_library import ImageLibrary, LibraryFile
from prolo_planner.store.records import (
    NotFound,
    Patient,
    PatientMismatch,
    StoredImage,
)


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What the store records of an image file, read once when it is imported."""

    kind: str
    frame_count: int = 1
    sop_class_uid: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    sop_instance_uid: str = ""
    patient_id: str = ""
    patient_name: str = ""
    birth_date: str = ""  # as in the file (DICOM YYYYMMDD)
    sex: str = ""
    issuer: str = ""  # Issuer of Patient ID

    @property
    def identity(self) -> PatientIdentity:
        return PatientIdentity(self.patient_id, self.issuer, self.patient_name, self.birth_date)


def read_facts(path: Path) -> FileFacts:
    """Open the file as the viewer would (raising ImageLoadError if it cannot) and note its
    identity. Imported lazily: the store itself needs no image decoders."""
    from prolo_planner.imaging.errors import ImageLoadError
    from prolo_planner.imaging.open import open_image

    source = open_image(path)
    try:
        info = source.info
        if info.truncation:
            # The viewer shows what such a copy still has; the library keeps whole files only.
            raise ImageLoadError(path, f"{info.truncation}: not filed; import a whole copy")
        return FileFacts(
            kind=info.kind.value,
            frame_count=source.frame_count,
            sop_class_uid=info.sop_class_uid,
            study_instance_uid=info.study_instance_uid,
            series_instance_uid=info.series_instance_uid,
            sop_instance_uid=info.sop_instance_uid,
            patient_id=info.patient_id.strip(),
            patient_name=info.patient_name.strip(),
            birth_date=info.patient_birth_date.strip(),
            sex=info.patient_sex.strip(),
            issuer=info.issuer_of_patient_id.strip(),
        )
    finally:
        source.close()


def row_image(row: Any, library: ImageLibrary) -> StoredImage:
    return StoredImage(
        sha256=row["sha256"],
        library_path=library.absolute(row["library_path"]),
        original_path=row["original_path"],
        kind=row["kind"],
        size_bytes=row["size_bytes"],
        frame_count=row["frame_count"],
        sop_class_uid=row["sop_class_uid"],
        study_instance_uid=row["study_instance_uid"],
        series_instance_uid=row["series_instance_uid"],
        sop_instance_uid=row["sop_instance_uid"],
        file_patient_id=row["file_patient_id"],
        file_patient_name=row["file_patient_name"],
        file_birth_date=row["file_birth_date"],
        patient_id=row["patient_id"],
        imported_at=row["imported_at"],
        file_issuer=row["file_issuer"],
    )


def get(conn: sqlite3.Connection, sha256: str, library: ImageLibrary) -> StoredImage:
    row = conn.execute("SELECT * FROM images WHERE sha256 = ?", (sha256,)).fetchone()
    if row is None:
        raise NotFound(f"no image {sha256[:12]}... in the store")
    return row_image(row, library)


def record(
    conn: sqlite3.Connection,
    file: LibraryFile,
    original: Path,
    facts: FileFacts,
    library: ImageLibrary,
    now: str,
) -> StoredImage:
    """The image's row, added if this content is new (the first import's facts are kept)."""
    conn.execute(
        "INSERT INTO images (sha256, library_path, original_path, kind, size_bytes, frame_count,"
        " sop_class_uid, study_instance_uid, series_instance_uid, sop_instance_uid,"
        " file_patient_id, file_patient_name, file_birth_date, file_issuer, imported_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
        (
            file.sha256,
            library.relative(file.path),
            str(original),
            facts.kind,
            file.size_bytes,
            facts.frame_count,
            facts.sop_class_uid,
            facts.study_instance_uid,
            facts.series_instance_uid,
            facts.sop_instance_uid,
            facts.patient_id,
            facts.patient_name,
            facts.birth_date,
            facts.issuer,
            now,
        ),
    )
    return get(conn, file.sha256, library)


def describe_file(path: Path, stored: StoredImage) -> str:
    """How the audit log names an imported file."""
    return f"{path.name} ({stored.kind}, sha256 {stored.sha256[:12]})"


def set_patient(conn: sqlite3.Connection, sha256: str, patient_id: int) -> None:
    conn.execute("UPDATE images SET patient_id = ? WHERE sha256 = ?", (patient_id, sha256))


def link(conn: sqlite3.Connection, session_id: int, sha256: str, now: str) -> bool:
    """Attach the image to the session; False if it already was."""
    try:
        cur = conn.execute(
            "INSERT INTO session_images (session_id, sha256, added_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (session_id, sha256, now),
        )
    except sqlite3.IntegrityError:
        raise NotFound(f"no session #{session_id} or image {sha256[:12]}...") from None
    return cur.rowcount > 0


def of_session(
    conn: sqlite3.Connection, session_id: int, library: ImageLibrary
) -> list[StoredImage]:
    rows = conn.execute(
        "SELECT i.* FROM images i JOIN session_images l ON l.sha256 = i.sha256"
        " WHERE l.session_id = ? ORDER BY l.added_at, i.sha256",
        (session_id,),
    ).fetchall()
    return [row_image(r, library) for r in rows]


# -- patient matching ---------------------------------------------------------------------------
def differences(patient: Patient, facts: FileFacts) -> tuple[str, ...]:
    """What makes the file's patient another than the store's patient of the same ID."""
    return identity.differences(patient.identity, facts.identity, here="the store")


def mismatch_with_id(path: Path, facts: FileFacts, patient: Patient) -> PatientMismatch | None:
    """The file's patient against the store's patient of the same ID."""
    found = differences(patient, facts)
    if not found:
        return None
    return mismatch(path, facts, patient, found)


def mismatch(
    path: Path, facts: FileFacts, patient: Patient, found: tuple[str, ...]
) -> PatientMismatch:
    return PatientMismatch(
        file=path,
        file_patient_id=facts.patient_id,
        file_patient_name=facts.patient_name,
        file_birth_date=facts.birth_date,
        patient=patient,
        differences=found,
    )
