"""The session store's API: patients, sessions, plans, images, leases and the audit log.

Every method is one transaction. Slow work (copying an image, encoding a plan) happens before
the transaction starts, so the write lock is held for milliseconds and an autosave never makes
another window wait. Each change that matters to the chart leaves an audit entry, written in the
same transaction as the change itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prolo_planner.core.plan import ImagePlan, ImageRef, Plan, ProcedureRecord
from prolo_planner.core.procedure import missing_fields
from prolo_planner.store import (
    admission,
    audit,
    dicom_import,
    images,
    locks,
    origins,
    pacs_records,
    patients,
    sessions,
)
from prolo_planner.store.database import Database
from prolo_planner.store.image_library import ImageLibrary
from prolo_planner.store.plan_rows import PreparedPlan, prepare, stored_document_plan
from prolo_planner.store.records import (
    Admission,
    AuditAction,
    AuditEntry,
    DicomImport,
    HeldImage,
    IncompleteRecord,
    InvalidValue,
    Lease,
    LeaseHolder,
    NotFound,
    PacsOrigin,
    Patient,
    PlanSaved,
    ReadOnlySession,
    Session,
    SessionLocked,
    StoredImage,
    StoreError,
    TimelineRow,
    current_user,
    utc_now,
)


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """A session as a window opens it: editable with a lease, or read-only with the reason."""

    session: Session
    plan: Plan
    lease: Lease | None
    read_only_reason: str | None = None

    @property
    def read_only(self) -> bool:
        return self.lease is None


class Repository:
    def __init__(
        self,
        db: Database,
        *,
        who: str | None = None,
        instance_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.who = who or current_user()
        self.instance_id = instance_id or locks.new_instance_id()
        self.library = ImageLibrary(db.data_dir)
        self.host = locks.this_host()
        self._clock = clock

    @classmethod
    def open(cls, data_dir: Path | str | None = None, **kwargs: Any) -> Repository:
        """The store of `data_dir` (default: the app's data folder), created or upgraded."""
        return cls(Database.open(data_dir), **kwargs)

    @property
    def data_dir(self) -> Path:
        return self.db.data_dir

    def close(self) -> None:
        """Hand back this window's leases and close the file. Leases are only ever taken by a
        write: a repository that only read closes without writing."""
        if self.db.closed:
            return
        if self.db.wrote:
            with self.db.write() as conn:
                locks.release_all(conn, self.instance_id)
        self.db.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- patients -----------------------------------------------------------------------------
    def create_patient(
        self,
        mrn: str,
        name: str,
        birth_date: str = "",
        sex: str = "",
        weight_kg: float | None = None,
        *,
        issuer: str = "",
        who: str | None = None,
    ) -> Patient:
        fields = {
            "mrn": mrn,
            "name": name,
            "birth_date": birth_date,
            "sex": sex,
            "weight_kg": weight_kg,
            "issuer": issuer,
        }
        with self.db.write() as conn:
            now = utc_now()
            patient = patients.insert(conn, fields, now)
            self._log(
                conn,
                AuditAction.CREATED,
                who,
                patient_id=patient.id,
                detail=f"patient {patient.mrn}",
                at=now,
            )
        return patient

    def update_patient(self, patient_id: int, *, who: str | None = None, **changes: Any) -> Patient:
        with self.db.write() as conn:
            old = patients.get(conn, patient_id)
            new = patients.update(conn, patient_id, changes)
            changed = [k for k in changes if getattr(old, k) != getattr(new, k)]
            if changed:
                self._log(
                    conn,
                    AuditAction.EDITED,
                    who,
                    patient_id=patient_id,
                    detail="patient: " + ", ".join(changed),
                )
        return new

    def patient(self, patient_id: int) -> Patient:
        with self.db.read() as conn:
            return patients.get(conn, patient_id)

    def patient_by_mrn(self, mrn: str) -> Patient | None:
        with self.db.read() as conn:
            return patients.by_mrn(conn, mrn)

    def search_patients(self, query: str, limit: int = 50) -> list[Patient]:
        """Patients with a word of name or ID starting with each word of `query`, by name."""
        with self.db.read() as conn:
            return patients.search(conn, query, limit)

    def patients_with_sessions(self) -> list[Patient]:
        with self.db.read() as conn:
            return patients.with_sessions(conn)

    # -- sessions -----------------------------------------------------------------------------
    def create_session(
        self, patient_id: int, *, plan: Plan | None = None, who: str | None = None, **fields: Any
    ) -> Session:
        """A new draft session (fields: started_at, region, side, clinician, pain_before,
        pain_after, notes), with its plan if given."""
        prepared = prepare(plan, self.data_dir) if plan is not None else None
        with self.db.write() as conn:
            now = utc_now()
            patients.get(conn, patient_id)
            session = sessions.insert(conn, patient_id, fields, now)
            self._log(
                conn,
                AuditAction.CREATED,
                who,
                session_id=session.id,
                patient_id=patient_id,
                detail=_describe_session(session),
                at=now,
            )
            if prepared is not None:
                self._store_plan(conn, session, prepared, now, who, log_edit=False)
        return session

    def session(self, session_id: int) -> Session:
        with self.db.read() as conn:
            return sessions.get(conn, session_id)

    def update_session(self, session_id: int, *, who: str | None = None, **changes: Any) -> Session:
        """Change a draft's fields; refused for a signed session or one open elsewhere."""
        with self.db.write() as conn:
            self._check_lease(conn, session_id)
            now = utc_now()
            session, changed = sessions.update(conn, session_id, changes, now)
            if changed:
                self._log(
                    conn,
                    AuditAction.EDITED,
                    who,
                    session_id=session_id,
                    patient_id=session.patient_id,
                    detail="fields: " + ", ".join(changed),
                    at=now,
                )
        return session

    def sessions_of(
        self, patient_id: int, *, include_superseded: bool = False
    ) -> list[TimelineRow]:
        """The patient's timeline, latest first: one row per session (its latest version
        unless include_superseded), with sites and totals stored when the plan was saved."""
        with self.db.read() as conn:
            patients.get(conn, patient_id)
            return sessions.timeline(conn, patient_id, include_superseded=include_superseded)

    def versions(self, session_id: int) -> list[Session]:
        with self.db.read() as conn:
            return sessions.versions(conn, session_id)

    def read_only_reason(self, session_id: int) -> str | None:
        """Why this window may not change the session now, or None if it may."""
        with self.db.read() as conn:
            reason = sessions.why_read_only(conn, sessions.get(conn, session_id))
            if reason is None:
                h = locks.live_holder_other_than(
                    conn, session_id, self.instance_id, self._clock(), self.host
                )
                reason = h.describe(self.host) if h is not None else None
            return reason

    def open_session(self, session_id: int) -> OpenedSession:
        """Open a session for editing (taking its lease) or, when it cannot be, read-only."""
        try:
            lease: Lease | None = self.take_lease(session_id)
            reason = None
        except ReadOnlySession as exc:  # signed, amended, or open in another window
            lease, reason = None, exc.reason
        return OpenedSession(self.session(session_id), self.load_plan(session_id), lease, reason)

    # -- plans --------------------------------------------------------------------------------
    def save_plan(self, session_id: int, plan: Plan, *, who: str | None = None) -> PlanSaved:
        """Store the session's plan (the autosave target). Saving an unchanged plan writes
        nothing. Refused for a signed session, and while another window holds the lease."""
        prepared = prepare(plan, self.data_dir)
        with self.db.write() as conn:
            session = sessions.get(conn, session_id)
            sessions.check_editable(conn, session)
            self._check_lease(conn, session_id)
            return self._store_plan(conn, session, prepared, utc_now(), who, log_edit=True)

    def load_plan(self, session_id: int) -> Plan:
        """The session's plan (empty if none was saved), image paths resolved in the library;
        an image found again by content where its recorded path has gone."""
        with self.db.read() as conn:
            sessions.get(conn, session_id)
            stored = sessions.plan_document(conn, session_id)
        if stored is None:
            return Plan()
        plan = stored_document_plan(stored[0], f"session #{session_id}", base_dir=self.data_dir)
        return plan.with_images(self._found_again(im) for im in plan.images)

    def plan_revision(self, session_id: int) -> int:
        with self.db.read() as conn:
            stored = sessions.plan_document(conn, session_id)
            return 0 if stored is None else stored[1]

    def _store_plan(
        self,
        conn: Any,
        session: Session,
        prepared: PreparedPlan,
        now: str,
        who: str | None,
        *,
        log_edit: bool,
    ) -> PlanSaved:
        # Images attached anyway that were in the plan before this save: one taken out again
        # (deleted, or the attach undone) leaves the session below.
        anyway = admission.attached_anyway(conn, session.id)
        before = self._stored_image_sha256s(conn, session.id) if anyway else set()
        saved = sessions.store_plan(conn, session.id, prepared, now)
        summary = prepared.summary
        if saved.changed:
            # Images of the plan that are in the library and are the patient's (an image carried
            # forward from a prior session) belong to the session; any other came in by no
            # door and stays unlinked (an export of the plan then refuses to mix patients).
            for sha in prepared.image_sha256s:
                if admission.may_link(conn, session, sha):
                    images.link(conn, session.id, sha, now)
            # Another patient's image the clinician took out of the plan again is no longer
            # sent or exported with the session: it is held back again, with its reasons.
            for sha in sorted((anyway & before) - set(prepared.image_sha256s)):
                admission.hold_again(conn, session, sha, who or self.who, now)
            if log_edit:
                detail = (
                    f"plan revision {saved.revision}: {summary.site_count} sites, "
                    f"{summary.total_ml:g} mL"
                )
                audit.edited(conn, now, who or self.who, session.id, session.patient_id, detail)
        return saved

    def _stored_image_sha256s(self, conn: Any, session_id: int) -> set[str]:
        """The library images of the session's stored plan (none when no plan is stored)."""
        stored = sessions.plan_document(conn, session_id)
        if stored is None:
            return set()
        plan = stored_document_plan(stored[0], f"session #{session_id}", base_dir=self.data_dir)
        return {im.ref.sha256 for im in plan.images if im.ref.sha256}

    def _found_again(self, image: ImagePlan) -> ImagePlan:
        ref = image.ref
        if ref.sha256 and not ref.name:  # saved before images had names in the plan
            with contextlib.suppress(StoreError):
                ref = dataclasses.replace(ref, name=self.image(ref.sha256).name)
        if ref.sha256 and not Path(ref.path).is_file():
            found = self.library.find(ref.sha256)
            if found is not None:
                ref = dataclasses.replace(ref, path=str(found))
        return image if ref == image.ref else dataclasses.replace(image, ref=ref)

    # -- signing and amendment ----------------------------------------------------------------
    def sign(
        self,
        session_id: int,
        *,
        who: str | None = None,
        signed_over: tuple[str, ...] | list[str] = (),
    ) -> Session:
        """Sign the session: read-only from now on. Synced to disk before it returns.
        `signed_over`: what was unresolved and the clinician signed over, in words; kept with
        the session (the report prints it) and in the audit log."""
        who = who or self.who
        over = tuple(str(t) for t in signed_over)
        with self.db.write(durable=True) as conn:
            self._check_lease(conn, session_id)
            missing = _record_missing(conn, session_id)
            if missing:  # checked in the signing transaction: no save slips in between
                raise IncompleteRecord(missing)
            now = utc_now()
            session = sessions.sign(conn, session_id, who, now, over)
            locks.drop(conn, session_id)  # nobody edits a signed session: no lease to keep
            detail = f"version {session.version}"
            if over:
                detail += f"; signed over {len(over)} unresolved: " + "; ".join(over)
            self._log(
                conn,
                AuditAction.SIGNED,
                who,
                session_id=session_id,
                patient_id=session.patient_id,
                detail=detail,
                at=now,
            )
        return session

    def previous_record(self, session_id: int) -> ProcedureRecord | None:
        """The procedure record of the patient's latest earlier session that has one (its
        indication, skin preparation and instructions start a new record)."""
        session = self.session(session_id)
        rows = self.sessions_of(session.patient_id)
        earlier = sorted(
            (r for r in rows if r.done is not None and r.session.started_at < session.started_at),
            key=lambda r: (r.session.started_at, r.session.version),
        )
        for row in reversed(earlier):
            record = self.load_plan(row.session.id).procedure
            if record is not None:
                return record
        return None

    def record_missing(self, session_id: int) -> list[str]:
        """The required fields of the session's procedure record that are empty, by name (with
        its pain scores); [] when it is complete, or when the session has no record (a plan
        alone is signed as a plan)."""
        with self.db.read() as conn:
            return _record_missing(conn, session_id)

    def amend(self, session_id: int, *, who: str | None = None) -> Session:
        """A new draft version of a signed session, copying its fields, images and plan; the
        signed version is kept as it was and linked from the new one."""
        with self.db.write() as conn:
            now = utc_now()
            new = sessions.amend(conn, session_id, now)
            self._log(
                conn,
                AuditAction.AMENDED,
                who,
                session_id=new.id,
                patient_id=new.patient_id,
                detail=f"version {new.version}, amends session #{session_id}",
                at=now,
            )
        return new

    # -- sessions from a PACS (docs/adr/0005) -------------------------------------------------
    def file_pulled(
        self,
        patient_id: int,
        pulled: pacs_records.PulledSession,
        plan: Plan,
        *,
        who: str | None = None,
    ) -> pacs_records.Filed:
        """File a session version pulled from a PACS under the patient: new, a later revision of
        a copy here, already here, or a conflict (amending a version that already has another
        successor here), all in one transaction. Its images must be in the library already."""
        prepared = prepare(plan, self.data_dir)
        with self.db.write() as conn:
            patients.get(conn, patient_id)
            return pacs_records.file_pulled(
                conn, patient_id, pulled, prepared, who or self.who, utc_now()
            )

    def origin(self, session_id: int) -> PacsOrigin | None:
        """Where a pulled session version came from; None for one made here."""
        with self.db.read() as conn:
            return origins.get(conn, session_id)

    def outlook(
        self, patient_id: int | None, pulled: pacs_records.PulledSession
    ) -> pacs_records.Decision:
        """What filing this pulled version would do, without filing it."""
        with self.db.read() as conn:
            return pacs_records.decide(conn, patient_id, pulled)

    def pulled_from(self, sr_instance_uids: Iterable[str]) -> dict[str, Session]:
        """The versions here pulled from these SRs, by SR uid."""
        wanted = list(dict.fromkeys(sr_instance_uids))
        out: dict[str, Session] = {}
        with self.db.read() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = conn.execute(
                    "SELECT sr_instance_uid, session_id FROM pacs_records WHERE sr_instance_uid"
                    f" IN ({', '.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                for uid, session_id in rows:
                    out[uid] = sessions.get(conn, session_id)
        return out

    def known_sr_uids(self) -> set[str]:
        """The SRs on a PACS that session versions here were pulled from."""
        with self.db.read() as conn:
            return pacs_records.known_sr_uids(conn)

    def session_by_uid(self, uid: str) -> Session | None:
        with self.db.read() as conn:
            return pacs_records.session_by_uid(conn, uid)

    def conflict(self, session_id: int) -> tuple[Session, Session] | None:
        """(pulled version, version here) when the session is one of a conflicting pair."""
        with self.db.read() as conn:
            return pacs_records.conflict_pair(conn, session_id)

    def resolve_conflict(self, keep_id: int, *, who: str | None = None) -> Session:
        """Continue the course with `keep_id`; the other version of the pair is set aside."""
        with self.db.write() as conn:
            return pacs_records.resolve(conn, keep_id, who or self.who, utc_now())

    def images_with_uids(self, sop_instance_uids: Iterable[str]) -> dict[str, StoredImage]:
        """Stored images by SOP Instance UID (the first stored of each), for what is here."""
        wanted = list(dict.fromkeys(u for u in sop_instance_uids if u))
        found: dict[str, StoredImage] = {}
        with self.db.read() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = conn.execute(
                    "SELECT sha256, sop_instance_uid FROM images WHERE sop_instance_uid IN"
                    f" ({', '.join('?' * len(chunk))}) ORDER BY imported_at",
                    chunk,
                ).fetchall()
                for sha, uid in rows:
                    if uid not in found:
                        found[uid] = images.get(conn, sha, self.library)
        return found

    # -- images -------------------------------------------------------------------------------
    def import_image(self, path: Path | str, *, who: str | None = None) -> StoredImage:
        """Copy any image file (DICOM, video, still) into the library, filed under no patient and
        no session: bringing it into a session is `admit`'s. Raises ImageLoadError for a file
        the viewer cannot open."""
        path = Path(path)
        facts = images.read_facts(path)
        file = self.library.add(path)
        with self.db.write() as conn:
            now = utc_now()
            stored = images.record(conn, file, path, facts, self.library, now)
            self._log(
                conn, AuditAction.IMPORTED, who, detail=images.describe_file(path, stored), at=now
            )
        return stored

    def import_dicom(self, path: Path | str, *, who: str | None = None) -> DicomImport:
        """Import a DICOM file under its patient, matched by PatientID (created if new), outside
        any session (a prior study fetched from the PACS).

        The same ID with another name, birth date or issuer is returned as a mismatch: the file
        is kept in the library but linked to no patient, for the clinician to decide.
        """
        path = Path(path)
        facts = images.read_facts(path)
        if facts.kind != "dicom":
            raise InvalidValue(f"{path.name}: not a DICOM file; import it into a session")
        file = self.library.add(path)
        with self.db.write() as conn:
            now = utc_now()
            stored = images.record(conn, file, path, facts, self.library, now)
            filed = dicom_import.file_under_patient(conn, stored, path, facts, who or self.who, now)
            return dataclasses.replace(filed, image=images.get(conn, stored.sha256, self.library))

    # -- the door of a session (admission.py) ----------------------------------------------------
    def admit(
        self,
        path: Path | str,
        session_id: int,
        *,
        origin: str = "",
        who: str | None = None,
    ) -> Admission:
        """Bring an image file into a session: copied into the library, then attached if it is
        the session patient's, held back with the reasons if it names another patient, or
        UNIDENTIFIED (see confirm_unidentified) if it names nobody. `origin` says what brought
        it ("File > Open", "receiver"...), for the held list and the audit log.
        Raises ImageLoadError for a file that cannot be opened, ReadOnlySession for a signed
        session."""
        path = Path(path)
        facts = images.read_facts(path)
        file = self.library.add(path)
        with self.db.write() as conn:
            now = utc_now()
            session = sessions.get(conn, session_id)
            sessions.check_editable(conn, session)
            stored = images.record(conn, file, path, facts, self.library, now)
            done = admission.admit(conn, stored, path, facts, session, origin, who or self.who, now)
            return dataclasses.replace(done, image=images.get(conn, stored.sha256, self.library))

    def confirm_unidentified(
        self,
        session_id: int,
        sha256: str,
        belongs: bool,
        *,
        origin: str = "",
        who: str | None = None,
    ) -> Admission:
        """The clinician's answer for a file that names no patient: it is the session patient's
        (attached, and remembered with the file) or it is not (held for this session)."""
        with self.db.write() as conn:
            now = utc_now()
            session = sessions.get(conn, session_id)
            sessions.check_editable(conn, session)
            stored = images.get(conn, sha256, self.library)
            if stored.file_identity.is_checkable:
                raise InvalidValue(f"{stored.name} names its patient: it is checked, not asked")
            done = admission.confirm(conn, stored, session, belongs, origin, who or self.who, now)
            return dataclasses.replace(done, image=images.get(conn, sha256, self.library))

    def held_images(self, session_id: int) -> list[HeldImage]:
        """The images held back from this session, not attached or dismissed yet."""
        with self.db.read() as conn:
            return admission.held(conn, session_id, self.library)

    def attach_held(self, session_id: int, sha256: str, *, who: str | None = None) -> StoredImage:
        """The clinician's explicit decision to attach an image held back from this session
        (for this session only), audited with the reasons it was held for."""
        with self.db.write() as conn:
            now = utc_now()
            session = sessions.get(conn, session_id)
            sessions.check_editable(conn, session)
            found = [h for h in admission.held(conn, session_id, self.library)]
            entry = next((h for h in found if h.image.sha256 == sha256), None)
            if entry is None:
                raise NotFound(f"no image held back from session #{session_id} by that name")
            patient = patients.get(conn, session.patient_id)
            admission.attach_anyway(
                conn, session, entry.image, patient, entry.reasons, who or self.who, now
            )
            return entry.image

    def dismiss_held(self, session_id: int, sha256: str, *, who: str | None = None) -> None:
        """Keep a held image out of the session (it stays in the library)."""
        with self.db.write() as conn:
            session = sessions.get(conn, session_id)
            stored = images.get(conn, sha256, self.library)
            admission.dismiss(conn, session, stored, who or self.who, utc_now())

    def in_library(self, path: Path | str) -> bool:
        """Whether the file is a copy in this store's image library."""
        return inside(Path(path), self.library.root)

    def image(self, sha256: str) -> StoredImage:
        with self.db.read() as conn:
            return images.get(conn, sha256, self.library)

    def images_of(self, session_id: int) -> list[StoredImage]:
        with self.db.read() as conn:
            return images.of_session(conn, session_id, self.library)

    def image_ref(self, stored: StoredImage) -> ImageRef:
        """How a plan refers to a stored image: its library file, UID and content hash, and
        the name the clinician knows it by."""
        return ImageRef(
            path=str(stored.library_path),
            sop_instance_uid=stored.sop_instance_uid,
            sha256=stored.sha256,
            frame_count=stored.frame_count,
            name=stored.name,
        )

    # -- editing leases -----------------------------------------------------------------------
    def take_lease(self, session_id: int) -> Lease:
        """This window's right to edit the session; SessionLocked (with a reason to show)
        if another live window holds it."""
        with self.db.write() as conn:
            sessions.check_editable(conn, sessions.get(conn, session_id))
            return locks.take(
                conn, session_id, self.instance_id, self.who, self._clock(), self.host
            )

    def heartbeat(self, lease: Lease) -> bool:
        """Renew the lease (call every locks.HEARTBEAT_EVERY_S); False if it was lost."""
        with self.db.write() as conn:
            return locks.heartbeat(conn, lease, self._clock())

    def release(self, lease: Lease) -> None:
        with self.db.write() as conn:
            locks.release(conn, lease)

    def lease_holder(self, session_id: int) -> LeaseHolder | None:
        with self.db.read() as conn:
            return locks.holder(conn, session_id)

    def _log(
        self,
        conn: Any,
        action: AuditAction,
        who: str | None,
        *,
        at: str | None = None,
        session_id: int | None = None,
        patient_id: int | None = None,
        detail: str = "",
    ) -> None:
        audit.append(
            conn,
            at or utc_now(),
            who or self.who,
            action,
            session_id=session_id,
            patient_id=patient_id,
            detail=detail,
        )

    def _check_lease(self, conn: Any, session_id: int) -> None:
        h = locks.live_holder_other_than(
            conn, session_id, self.instance_id, self._clock(), self.host
        )
        if h is not None:
            raise SessionLocked(h.describe(self.host), h)

    # -- audit --------------------------------------------------------------------------------
    def audit_log(
        self, *, session_id: int | None = None, patient_id: int | None = None
    ) -> list[AuditEntry]:
        with self.db.read() as conn:
            return audit.entries(conn, session_id=session_id, patient_id=patient_id)

    def record_export(self, session_id: int, detail: str, *, who: str | None = None) -> None:
        """Note in the audit log that the session went out (a report, a PACS send)."""
        with self.db.write() as conn:
            session = sessions.get(conn, session_id)
            self._log(
                conn,
                AuditAction.EXPORTED,
                who,
                session_id=session_id,
                patient_id=session.patient_id,
                detail=detail,
            )


def inside(path: Path, folder: Path) -> bool:
    try:
        return os.path.commonpath([os.path.abspath(path), os.path.abspath(folder)]) == str(
            os.path.abspath(folder)
        )
    except ValueError:
        return False


def _describe_session(session: Session) -> str:
    bits: Iterable[str] = (session.started_at, session.region, session.side.value)
    return "session " + " ".join(b for b in bits if b)


def _record_missing(conn: sqlite3.Connection, session_id: int) -> list[str]:
    """Repository.record_missing on a connection (inside the signing transaction)."""
    session = sessions.get(conn, session_id)
    stored = sessions.plan_document(conn, session_id)
    if stored is None:
        return []
    plan = stored_document_plan(stored[0], f"session #{session_id}", base_dir=None)
    if plan.procedure is None:
        return []
    missing = [str(m) for m in missing_fields(plan)]
    if session.pain_before is None:
        missing.append("pain before")
    if session.pain_after is None:
        missing.append("pain after")
    return missing
