"""Pulling a patient's plans from a PACS into the store, as that patient's sessions.

Find the patient's structured reports on the node; retrieve the ones not already here; read
each: a Prolo Planner plan with its session record becomes a candidate, another viewer's TID
1500 report is kept as read-only measurements, anything else (damaged, from a newer Prolo
Planner, another patient) is named with the reason and skipped. The images of every candidate
not already in the library are retrieved; a session whose images did not all arrive is named
and skipped whole, never imported half. The images enter the store through the import door
(patient matched, a mismatch held back); then each version is filed in its order (store
pacs_records): new, already here, a later revision of a pulled copy, or a conflict.
"""

from __future__ import annotations

import datetime as _dt
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from prolo_planner.core.plan import ImagePlan, Plan
from prolo_planner.export.foreign_report import (
    ForeignReport,
    ForeignReportError,
    read_foreign_report,
)
from prolo_planner.export.plan_record import PlanRecord, RecordError, read_record
from prolo_planner.export.sr_import import is_ours
from prolo_planner.files import private_dir
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.net.nodes import NetworkSettings, Node, load_settings
from prolo_planner.net.retrieve import InstanceRef, ReportFound
from prolo_planner.pacs.transport import fetch, find
from prolo_planner.store import images as store_images
from prolo_planner.store.dicom_import import patient_fields
from prolo_planner.store.pacs_records import Filed, PulledSession, PullOutcome
from prolo_planner.store.records import DicomImport, InvalidValue, Patient, StoreError
from prolo_planner.store.repository import Repository

log = logging.getLogger(__name__)

#: Called as the pull goes: (steps done, steps in all or 0 when not known yet, what is done).
PullProgress = Callable[[int, int, str], None]


class PullCancelled(Exception):
    """The clinician pressed Cancel; what was filed before stays, whole."""


@dataclass(frozen=True, slots=True)
class PlanOnPacs:
    """A Prolo Planner plan found on the PACS, read from its SR."""

    found: ReportFound
    record: PlanRecord
    session: PulledSession
    #: Who the SR says the patient is.
    patient_name: str = ""
    birth_date: str = ""  # DICOM YYYYMMDD
    sex: str = ""
    issuer: str = ""  # Issuer of Patient ID

    @property
    def label(self) -> str:
        s = self.session
        state = "signed" if s.state == "signed" else "draft"
        return f"session of {s.started_at[:10]}, version {s.version} ({state}, {s.clinician})"


@dataclass(slots=True)
class PullReport:
    """What a pull did, for the clinician: each version filed, each thing skipped and why."""

    node: str
    patient_id: str
    patient: Patient | None = None
    found: int = 0  # structured reports of the patient on the node
    filed: list[Filed] = field(default_factory=list)
    #: Named with the reason: damaged, newer, another patient, images that did not arrive.
    skipped: list[str] = field(default_factory=list)
    #: Other viewers' TID 1500 reports, shown read-only.
    foreign: list[ForeignReport] = field(default_factory=list)
    #: Reports whose version was pulled before: not retrieved again.
    pulled_before: int = 0
    #: Images filed by the pull (already-present ones are not retrieved again).
    images: int = 0
    cancelled: bool = False

    def count(self, outcome: PullOutcome) -> int:
        return sum(1 for f in self.filed if f.outcome is outcome)

    @property
    def conflicts(self) -> list[Filed]:
        return [f for f in self.filed if f.outcome is PullOutcome.CONFLICT]

    def summary(self) -> str:
        parts = [
            f"{self.found} report(s) of patient {self.patient_id} on {self.node}",
            f"{self.count(PullOutcome.NEW)} session version(s) new",
            f"{self.count(PullOutcome.UPDATED)} updated",
            f"{self.count(PullOutcome.ALREADY_HERE) + self.pulled_before} already here",
        ]
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} CONFLICT(S) to resolve")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        if self.foreign:
            parts.append(f"{len(self.foreign)} report(s) of other viewers (read-only)")
        if self.cancelled:
            parts.append("cancelled")
        return "; ".join(parts)


def find_plans(
    node: Node, patient_id: str, settings: NetworkSettings | None = None
) -> list[ReportFound]:
    """The patient's structured reports on the node (ours and other viewers'), oldest first."""
    return find(node, exact_patient_id(patient_id), settings or load_settings())


def exact_patient_id(patient_id: str) -> str:
    text = (patient_id or "").strip()
    if not text:
        raise ValueError("a patient ID is needed to look for plans on the PACS")
    if any(c in text for c in "*?\\") or len(text) > 64:
        raise ValueError(f"patient ID {patient_id!r}: one exact ID, without * ? or \\")
    return text


def pull(
    repo: Repository,
    node: Node,
    patient_id: str,
    *,
    settings: NetworkSettings | None = None,
    progress: PullProgress | None = None,
    cancel: threading.Event | None = None,
    found: Sequence[ReportFound] | None = None,
) -> PullReport:
    """Pull the patient's plans from the node into the store. Raises NetError when the node
    cannot be reached at all; everything else is in the report."""
    settings = settings or load_settings()
    patient_id = exact_patient_id(patient_id)
    report = PullReport(str(node), patient_id)

    def step(done: int, total: int, what: str) -> None:
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            raise PullCancelled
        if progress is not None:
            progress(done, total, what)

    work = Path(tempfile.mkdtemp(prefix=".pull-", dir=private_dir(repo.data_dir)))
    try:
        step(0, 0, f"finding plans of {patient_id} on {node}")
        reports = list(found) if found is not None else find(node, patient_id, settings)
        report.found = len(reports)
        known = repo.known_sr_uids()
        wanted = [r for r in reports if r.ref.sop_instance_uid not in known]
        already = report.pulled_before = len(reports) - len(wanted)
        total = max(1, len(wanted)) * 2
        step(0, total, f"retrieving {len(wanted)} report(s) ({already} pulled before)")
        got = fetch(
            node,
            [r.ref for r in wanted],
            work / "reports",
            settings,
            progress=lambda n, _t: step(n, total, "retrieving reports"),
            cancel=cancel,
        )
        if got.cancelled:
            raise PullCancelled
        plans = _read_reports(wanted, got.files, got.missing, patient_id, report)
        plans = _same_patient(repo, plans, report)
        _pull_images(repo, node, plans, work / "images", settings, report, step, cancel)
    except PullCancelled:
        report.cancelled = True
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report


# -- what Find shows ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FoundPlan:
    """One report of the patient on the PACS, as Find on PACS lists it before the pull."""

    found: ReportFound
    #: "plan" (ours), "other viewer", or "cannot be pulled" (with `problem`).
    kind: str
    started_at: str = ""
    region: str = ""
    version: int | None = None
    state: str = ""
    clinician: str = ""
    sites: int | None = None
    #: What pulling it would do (None for what is not pulled).
    outlook: PullOutcome | None = None
    problem: str = ""
    measurements: tuple[str, ...] = ()


def preview(
    repo: Repository,
    node: Node,
    patient_id: str,
    *,
    settings: NetworkSettings | None = None,
    found: Sequence[ReportFound] | None = None,
    progress: PullProgress | None = None,
    cancel: threading.Event | None = None,
) -> list[FoundPlan]:
    """Find the patient's reports and read each (the reports are small; their images are not
    retrieved): which session and version, and what pulling it would do here."""
    settings = settings or load_settings()
    patient_id = exact_patient_id(patient_id)
    reports = list(found) if found is not None else find(node, patient_id, settings)
    known = repo.pulled_from(r.ref.sop_instance_uid for r in reports)
    wanted = [r for r in reports if r.ref.sop_instance_uid not in known]
    work = Path(tempfile.mkdtemp(prefix=".preview-", dir=private_dir(repo.data_dir)))
    try:
        got = fetch(
            node,
            [r.ref for r in wanted],
            work,
            settings,
            progress=(lambda n, t: progress(n, t, "reading the reports")) if progress else None,
            cancel=cancel,
        )
        read = dict(
            (f.ref.sop_instance_uid, what)
            for f, what in read_reports(wanted, got.files, got.missing, patient_id)
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    patient = repo.patient_by_mrn(patient_id)
    out: list[FoundPlan] = []
    for f in reports:
        uid = f.ref.sop_instance_uid
        if uid in known:
            here = known[uid]
            out.append(
                FoundPlan(
                    f,
                    "plan",
                    started_at=here.started_at,
                    region=here.region,
                    version=here.version,
                    state=here.state.value,
                    clinician=here.clinician,
                    sites=len(repo.load_plan(here.id).targets()),
                    outlook=PullOutcome.ALREADY_HERE,
                )
            )
            continue
        what = read[uid]
        if isinstance(what, ForeignReport):
            values = tuple(m.describe() for m in what.measurements)
            out.append(FoundPlan(f, "other viewer", measurements=values))
        elif isinstance(what, PlanOnPacs):
            pulled = what.session
            try:
                outlook: PullOutcome | None = repo.outlook(
                    patient.id if patient else None, pulled
                ).outcome
                problem = ""
            except StoreError as exc:
                outlook, problem = None, str(exc)
            out.append(
                FoundPlan(
                    f,
                    "plan",
                    started_at=pulled.started_at,
                    region=pulled.region,
                    version=pulled.version,
                    state=pulled.state,
                    clinician=pulled.clinician,
                    sites=len(what.record.plan.targets()),
                    outlook=outlook,
                    problem=problem,
                )
            )
        else:
            out.append(FoundPlan(f, "cannot be pulled", problem=what))
    return out


# -- the reports ----------------------------------------------------------------------------------
def _read_reports(
    wanted: Sequence[ReportFound],
    files: dict[str, Path],
    missing: dict[str, str],
    patient_id: str,
    report: PullReport,
) -> list[PlanOnPacs]:
    plans: list[PlanOnPacs] = []
    for found, what in read_reports(wanted, files, missing, patient_id):
        if isinstance(what, PlanOnPacs):
            plans.append(what)
        elif isinstance(what, ForeignReport):
            report.foreign.append(what)
        else:
            report.skipped.append(f"{_name(found)}: {what}")
    return plans


def read_reports(
    wanted: Sequence[ReportFound],
    files: dict[str, Path],
    missing: dict[str, str],
    patient_id: str,
) -> list[tuple[ReportFound, PlanOnPacs | ForeignReport | str]]:
    """Each report retrieved, read: a plan of ours, another viewer's report, or why neither."""
    out: list[tuple[ReportFound, PlanOnPacs | ForeignReport | str]] = []
    for found in wanted:
        out.append((found, _read_one(found, files, missing, patient_id)))
    return out


def _read_one(
    found: ReportFound, files: dict[str, Path], missing: dict[str, str], patient_id: str
) -> PlanOnPacs | ForeignReport | str:
    uid = found.ref.sop_instance_uid
    path = files.get(uid)
    if path is None:
        return f"not retrieved ({missing.get(uid, 'not sent')})"
    try:
        ds = pydicom.dcmread(path)
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        return f"damaged, cannot be read as DICOM ({exc})"
    if str(ds.get("PatientID", "")) != patient_id:
        return f"belongs to patient {ds.get('PatientID', '?')}"
    if not is_ours(ds):
        try:
            return read_foreign_report(ds)
        except ForeignReportError as exc:
            return f"another viewer's report that cannot be read ({exc})"
    try:
        record = read_record(ds)
    except RecordError as exc:
        return str(exc)
    if record is None:
        return (
            "a Prolo Planner report without its session record (made by an early version, or "
            "the PACS dropped private elements): not imported, it would be half"
        )
    if record.session is None:
        return "a plan exported outside a session (a plan file)"
    try:
        session = _pulled(record, ds, found)
    except (InvalidValue, KeyError, TypeError, ValueError) as exc:
        return f"its session record is damaged ({exc})"
    return PlanOnPacs(
        found,
        record,
        session,
        str(ds.get("PatientName", "")),
        str(ds.get("PatientBirthDate", "")),
        str(ds.get("PatientSex", "")),
        str(ds.get("IssuerOfPatientID", "")),
    )


def _name(found: ReportFound) -> str:
    when = found.content_date
    when = f"{when[:4]}-{when[4:6]}-{when[6:8]}" if len(when) == 8 else "no date"
    what = found.series_description or found.manufacturer or "report"
    return f"{what} of {when} (SR {found.ref.sop_instance_uid})"


def _pulled(record: PlanRecord, ds: Dataset, found: ReportFound) -> PulledSession:
    s = dict(record.session or {})
    pulled = PulledSession(
        uid=str(s["uid"]),
        version=int(s.get("version", record.plan_version)),
        started_at=str(s["started_at"]),
        amends_uid=str(s.get("amends") or ""),
        region=str(s.get("region", "")),
        side=str(s.get("side", "unspecified")),
        clinician=str(s.get("clinician", "")),
        pain_before=s.get("pain_before"),
        pain_after=s.get("pain_after"),
        notes=str(s.get("notes", "")),
        state=str(s.get("state", "draft")),
        signed_at=s.get("signed_at"),
        signed_by=s.get("signed_by"),
        sr_instance_uid=found.ref.sop_instance_uid,
        sr_series_uid=found.ref.series_instance_uid,
        sr_study_uid=found.ref.study_instance_uid,
        plan_digest=record.plan_digest,
        made_at=_made_at(ds),
    )
    return pulled.checked()


def _made_at(ds: Dataset) -> str:
    date, time = str(ds.get("ContentDate", "")), str(ds.get("ContentTime", ""))
    if len(date) != 8 or not date.isdigit():
        return ""
    time = (time.split(".")[0] + "000000")[:6]
    try:
        return _dt.datetime.strptime(date + time, "%Y%m%d%H%M%S").isoformat()
    except ValueError:
        return ""


def _same_patient(
    repo: Repository, plans: list[PlanOnPacs], report: PullReport
) -> list[PlanOnPacs]:
    """The store's patient of that ID (created from the first report if new); reports whose
    patient's name or birth date differ from the store's are held back, never merged."""
    if not plans:
        report.patient = repo.patient_by_mrn(report.patient_id)
        return []
    patient = repo.patient_by_mrn(report.patient_id)
    kept: list[PlanOnPacs] = []
    for plan in plans:
        facts = _facts(plan)
        if patient is None:
            fields = patient_fields(facts)
            weight = plan.record.plan.patient_weight_kg
            patient = repo.create_patient(
                fields["mrn"],
                fields["name"],
                fields["birth_date"],
                fields["sex"],
                weight,
                who=None,
            )
        differences = store_images.differences(patient, facts)
        if differences:
            report.skipped.append(
                f"{plan.label}: held back, its patient does not match the store's "
                f"{patient.display_name} ({patient.mrn}): " + "; ".join(differences)
            )
            continue
        kept.append(plan)
    report.patient = patient
    return kept


def _facts(plan: PlanOnPacs) -> store_images.FileFacts:
    return store_images.FileFacts(
        kind="dicom",
        patient_id=plan.found.patient_id,
        patient_name=plan.patient_name or plan.found.patient_name,
        birth_date=plan.birth_date,
        sex=plan.sex,
        issuer=plan.issuer,
    )


# -- the images and the filing --------------------------------------------------------------------
def _pull_images(
    repo: Repository,
    node: Node,
    plans: list[PlanOnPacs],
    folder: Path,
    settings: NetworkSettings,
    report: PullReport,
    step: Callable[[int, int, str], None],
    cancel: threading.Event | None,
) -> None:
    needed: dict[str, InstanceRef] = {}
    for plan in plans:
        for im in plan.record.images:
            needed[im.sop_instance_uid] = InstanceRef(
                im.study_instance_uid, im.series_instance_uid, im.sop_instance_uid
            )
    here = repo.images_with_uids(needed)
    missing_refs = [ref for uid, ref in needed.items() if uid not in here]
    total = len(missing_refs) + len(plans)
    step(0, total, f"retrieving {len(missing_refs)} image(s) ({len(here)} already here)")
    got = fetch(
        node,
        missing_refs,
        folder,
        settings,
        progress=lambda n, _t: step(n, total, "retrieving images"),
        cancel=cancel,
    )
    if got.cancelled:
        raise PullCancelled
    imported: dict[str, DicomImport] = {}
    problems: dict[str, str] = dict(got.missing)
    for uid, path in got.files.items():
        try:
            imported[uid] = admit_image(repo, path)
        except (ImageLoadError, StoreError) as exc:
            problems[uid] = str(exc)
    report.images = sum(1 for i in imported.values() if i.mismatch is None)
    stored = {**here, **{uid: i.image for uid, i in imported.items() if i.mismatch is None}}
    for uid, i in imported.items():
        if i.mismatch is not None:
            problems[uid] = f"held back: {i.mismatch}"
    done = len(missing_refs)
    for plan in sorted(plans, key=lambda p: (p.session.version, p.session.made_at)):
        done += 1
        step(done, total, f"filing {plan.label}")
        absent = [
            f"{im.name} ({problems.get(im.sop_instance_uid, 'not retrieved')})"
            for im in plan.record.images
            if im.sop_instance_uid not in stored
        ]
        if absent:
            report.skipped.append(
                f"{plan.label}: {len(absent)} of {len(plan.record.images)} image(s) did not "
                "arrive, so it was not imported (nothing half): " + "; ".join(absent)
            )
            continue
        assert report.patient is not None
        plan_here = _plan_on(plan, stored)
        pulled = replace(plan.session, node=str(node))
        try:
            report.filed.append(repo.file_pulled(report.patient.id, pulled, plan_here))
        except StoreError as exc:
            report.skipped.append(f"{plan.label}: {exc}")


def admit_image(repo: Repository, path: Path) -> DicomImport:
    """Every image a pull brings enters the store here, through the store's door for images
    outside a session (Repository.import_dicom: filed under its patient by ID, another issuer,
    name or birth date held back, core.identity's rule); the session version it belongs to is
    filed after, only when all its images came in."""
    return repo.import_dicom(path)


def _plan_on(plan: PlanOnPacs, stored: dict) -> Plan:
    """The record's plan with each image pointing at its copy in this store's library."""
    by_image = {im.image_id: im for im in plan.record.images}
    images: list[ImagePlan] = []
    for im in plan.record.plan.images:
        here = stored[by_image[im.id].sop_instance_uid]
        ref = replace(
            im.ref,
            path=str(here.library_path),
            sop_instance_uid=by_image[im.id].sop_instance_uid,
            sha256=here.sha256,
        )
        images.append(replace(im, ref=ref))
    return plan.record.plan.with_images(images)
