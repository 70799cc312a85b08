"""Export a plan: PNG/JPEG key images, the PDF report and the DICOM objects (Secondary Captures,
annotated cine, TID 1500 SR, presentation states), plain or de-identified.

One door for every export: a session of the store (export_session) and a plan file
(export_plan_file) both become an ExportSubject and go through export_plan. A DICOM image keeps
its own patient and study in every DICOM export; a video or a still, which has none, gets the
subject's patient and study. Every file is written atomically, 0600.

A de-identified export: one pseudonym and one date shift (from the subject's patient identity)
for every object; the plan's texts as the clinician approved them (core.text_review: catalog
names kept, typed text removed unless approved); file names of numbers, not of the clinician's
files; no weight; the burned-in banner masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pydicom.uid import ComprehensiveSRStorage, SecondaryCaptureImageStorage

from prolo_planner.core.identity import PatientIdentity, differences
from prolo_planner.core.plan import Plan
from prolo_planner.core.procedure import without_record_time
from prolo_planner.core.text_review import (
    PlanText,
    TextApproval,
    approved_plan,
    approved_session_notes,
    plan_texts,
)
from prolo_planner.export.deidentify import Deidentifier, PseudonymKey
from prolo_planner.export.deidentify_profile import DateHandling
from prolo_planner.export.dicom_writing import derived_uid
from prolo_planner.export.errors import ExportError
from prolo_planner.export.fhir_bundle import (
    DicomInstance,
    FhirContext,
    FhirImage,
    FhirRefused,
    bundle_key,
    procedure_bundle,
    write_bundle,
)
from prolo_planner.export.patient_study import PatientStudy
from prolo_planner.export.uids import PlanVersion, export_uid, series_uid
from prolo_planner.files import make_dirs_private
from prolo_planner.report.content import (
    REPORT_IMAGE_OPTIONS,
    PainEntry,
    pain_course,
    report_content,
)
from prolo_planner.report.header import ReportHeader
from prolo_planner.report.images import (
    DEFAULT_IMAGE_OPTIONS,
    ImageFormat,
    ImageOptions,
    key_image,
    write_image,
)
from prolo_planner.report.keyfile import load_or_create_key
from prolo_planner.report.note_pdf import NotePdf, NotePicture, write_note
from prolo_planner.report.pdf import write_report
from prolo_planner.report.plan_images import KeyImage, PlanImages
from prolo_planner.report.procedure_note import procedure_note
from prolo_planner.report.session_dicom import DicomExport, ExportJob, Progress, slug
from prolo_planner.store.records import Patient, Session, StoreError
from prolo_planner.store.repository import Repository


class ExportFormat(StrEnum):
    PNG = "png"
    JPEG = "jpeg"
    PDF = "pdf"
    SC = "sc"  # a Secondary Capture of each key image
    CINE = "cine"  # a Multi-frame True Color SC of each annotated cine
    SR = "sr"
    PR = "pr"
    #: The procedure note: PDF and plain text for the EHR.
    NOTE = "note"
    #: The procedure record as a FHIR R4 bundle (after the files it names).
    FHIR = "fhir"


DEFAULT_FORMATS = (
    ExportFormat.PNG,
    ExportFormat.PDF,
    ExportFormat.SC,
    ExportFormat.SR,
    ExportFormat.PR,
)
DICOM_FORMATS = (ExportFormat.SC, ExportFormat.SR, ExportFormat.PR)


def parse_formats(text: str | Iterable[str]) -> tuple[ExportFormat, ...]:
    """'png,pdf,sc' as formats, in the order given; 'jpg' is JPEG. ValueError names a bad one."""
    words = text.split(",") if isinstance(text, str) else list(text)
    out: list[ExportFormat] = []
    for word in (w.strip().lower() for w in words):
        if not word:
            continue
        word = "jpeg" if word == "jpg" else word
        try:
            out.append(ExportFormat(word))
        except ValueError:
            known = ", ".join(f.value for f in ExportFormat)
            raise ValueError(f"unknown export format {word!r} (known: {known})") from None
    if not out:
        raise ValueError("no export format given")
    return tuple(dict.fromkeys(out))


# -- what is exported ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ExportSubject:
    """A plan and everything its export takes from outside the plan: who and which visit."""

    plan: Plan
    header: ReportHeader
    #: The patient and study of videos and stills (a DICOM image brings its own).
    fallback: PatientStudy
    #: Image id -> the file's name as the clinician knows it.
    names: Mapping[str, str]
    label: str  # "session #3", "knee.prolo.json": for messages
    stem: str  # how the exported files begin: "session3", "knee"
    pain: tuple[PainEntry, ...] = ()
    observer: str = ""
    verified_by: str | None = None
    version: PlanVersion | None = None
    #: The version this one amends, for the SR's Predecessor Documents Sequence.
    predecessor: PlanVersion | None = None
    #: The session's fields for the SR's session record (export.plan_record); None outside
    #: a session.
    session_record: dict | None = None

    def plan_version(self, plan: Plan) -> PlanVersion:
        return self.version or PlanVersion.of(plan)


@dataclass(frozen=True, slots=True)
class Deidentification:
    """How to de-identify: the pseudonym key, the dates option, the texts approved (None: the
    default review, catalog names kept and typed text removed)."""

    key: PseudonymKey
    dates: DateHandling = DateHandling.SHIFT
    texts: TextApproval | None = None


@dataclass(slots=True)
class ExportResult:
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: What was asked for and could not be made, each with the reason.
    missing: list[str] = field(default_factory=list)
    #: De-identified exports: every text of the plan, and which were kept.
    texts: list[PlanText] = field(default_factory=list)
    kept_texts: list[PlanText] = field(default_factory=list)


def texts_to_review(subject: ExportSubject) -> list[PlanText]:
    """The texts a de-identified export of the subject would write, for the clinician."""
    return plan_texts(subject.plan, session_notes=subject.header.notes)


def export_plan(
    subject: ExportSubject,
    formats: Sequence[ExportFormat | str] = DEFAULT_FORMATS,
    out_dir: Path | str = ".",
    deidentify: Deidentification | None = None,
    *,
    options: ImageOptions = DEFAULT_IMAGE_OPTIONS,
    progress: Progress | None = None,
) -> ExportResult:
    """Export the subject's plan in each format into out_dir. Raises ExportError when nothing
    can be exported; what could not be made is in the result's `missing`."""
    wanted = parse_formats([str(f) for f in formats])
    plan, header, names = subject.plan, subject.header, dict(subject.names)
    if not plan.images and not plan.annotations:
        raise ExportError(f"{subject.label} has no plan to export")
    result = ExportResult()
    deid: Deidentifier | None = None
    stem = slug(subject.stem)
    version = subject.plan_version(plan)
    if deidentify is not None:
        texts = texts_to_review(subject)
        approval = deidentify.texts or TextApproval.default(texts)
        result.texts = texts
        result.kept_texts, _ = approval.split(texts)
        # Dates go through the header, shifted or removed: the record's time of day with them.
        plan = without_record_time(approved_plan(plan, approval))
        deid = Deidentifier(deidentify.key, header.identity, deidentify.dates)
        header = header.deidentified(
            deidentify.key, deidentify.dates, approved_session_notes(header.notes, approval)
        )
        # An original file name may carry the patient's name: de-identified files get numbers.
        names = {im.id: f"image {n}" for n, im in enumerate(plan.images, start=1)}
        visit = deidentify.key.pseudonym(f"export {plan.id}")[:6]
        stem = f"{deid.patient_id}-{visit}"
        # What the objects say changed with the approval: the UIDs follow (export.uids).
        version = PlanVersion.of(plan, version.version, [version.digest, "de-identified"])
    out = Path(out_dir)
    try:
        make_dirs_private(out)  # patient data: the folders the export makes are private
    except OSError as exc:
        raise ExportError(f"the folder {out} cannot be made: {exc.strerror or exc}") from None
    pain = subject.pain if deid is None else ()
    with PlanImages.open(plan, names=names) as images:
        refuse_mixed_patients(subject, images)
        job = ExportJob(out, _steps(images, wanted, deid is not None), progress)
        job.missing += images.problems
        dicom = DicomExport(
            job,
            images,
            subject.fallback,
            stem,
            version,
            deid,
            predecessor=subject.predecessor,
            session_record=subject.session_record,
            observer=subject.observer,
            verified_by=subject.verified_by,
            with_sources=deid is not None
            and bool({ExportFormat.SR, ExportFormat.PR} & set(wanted)),
        )
        _run(dicom, wanted, header=header, options=options, pain=pain)
        if ExportFormat.NOTE in wanted:
            _note(dicom, header, subject.plan)
        if ExportFormat.FHIR in wanted:
            _fhir(dicom, header, wanted, subject)
    job.step("done")
    result.files, result.notes, result.missing = job.files, job.notes, job.missing
    return result


def refuse_mixed_patients(subject: ExportSubject, images: PlanImages) -> None:
    """The second line of defence behind the session's door: an export whose images name
    another patient than the subject's (or, for a plan file, than each other) is refused before
    anything is written, naming the images and what differs."""
    f = subject.fallback
    ours = PatientIdentity(
        f.patient_id, f.issuer_of_patient_id, f.patient_name, f.patient_birth_date
    )
    found: list[str] = []
    for im in images.plan.images:
        ds = images.dataset(im.id)
        if ds is None:
            continue
        theirs = PatientIdentity(
            *(str(ds.get(k, "") or "") for k in _IDENTITY_KEYWORDS)  # type: ignore[arg-type]
        )
        if not theirs.is_checkable or not ours.is_checkable:
            continue
        differs = differences(ours, theirs, here=subject.label)
        if differs:
            name = images.names.get(im.id, im.ref.title)
            found.append(f"{name} is {theirs.describe()}: " + "; ".join(differs))
    if found:
        raise ExportError(
            f"{subject.label} not exported: its plan mixes patients. "
            + " ".join(found)
            + ". Take the image out of the plan (or export it from its own patient's session)."
        )


_IDENTITY_KEYWORDS = ("PatientID", "IssuerOfPatientID", "PatientName", "PatientBirthDate")


def _steps(images: PlanImages, wanted: Sequence[ExportFormat], deidentified: bool) -> int:
    keys = len(images.key_images())
    per = {
        ExportFormat.PNG: keys,
        ExportFormat.JPEG: keys,
        ExportFormat.PDF: 1,
        ExportFormat.SC: keys,
        ExportFormat.CINE: sum(s.frame_count > 1 for s in images.sources.values()),
        ExportFormat.SR: 1,
        ExportFormat.PR: len(images.plan.images),
        ExportFormat.NOTE: 1,
        ExportFormat.FHIR: 1,
    }
    sources = len(images.plan.images) if deidentified else 0
    return sum(per[f] for f in wanted) + sources + 1


def _run(
    dicom: DicomExport,
    wanted: Sequence[ExportFormat],
    *,
    header: ReportHeader,
    options: ImageOptions,
    pain: Sequence[PainEntry],
) -> None:
    job, images, stem = dicom.job, dicom.images, dicom.stem
    masked = dicom.deid is not None
    keys = images.key_images()
    if dicom.with_sources:
        dicom.source_copies()
    # SCs before the SR, which refers to them.
    for fmt in sorted(wanted, key=list(ExportFormat).index):
        if fmt in (ExportFormat.PNG, ExportFormat.JPEG):
            kind = ImageFormat.PNG if fmt is ExportFormat.PNG else ImageFormat.JPEG
            for k in keys:
                job.step(f"{kind.value.upper()} of {k.caption}")
                picture = key_image(images, k, header=header, options=options, masked=masked)
                name = f"{stem}_{slug(k.name)}_frame{k.frame + 1}{kind.suffix}"
                job.wrote(
                    write_image(job.out_dir / name, picture.pixels, kind, options.jpeg_quality)
                )
        elif fmt is ExportFormat.PDF:
            job.step("PDF report")
            content = report_content(images, header, pain=pain, masked=masked, texts_reviewed=True)
            job.wrote(write_report(content, job.out_dir / f"{stem}_report.pdf"))
        elif fmt is ExportFormat.SC:
            dicom.secondary_captures(keys)
        elif fmt is ExportFormat.CINE:
            dicom.cines()
        elif fmt is ExportFormat.SR:
            job.step("structured report")
            dicom.structured_report(keys)
        elif fmt is ExportFormat.PR:
            dicom.presentation_states()


# -- the procedure note and the FHIR bundle ----------------------------------------------------
def _note(dicom: DicomExport, header: ReportHeader, complete: Plan) -> None:
    """The procedure note, PDF and plain text, with the key images that show each needle."""
    job, images = dicom.job, dicom.images
    job.step("procedure note")
    if images.plan.procedure is None:
        job.missing.append(
            "procedure note: no procedure was recorded for this session (Session > Procedure "
            "record)"
        )
        return
    note = procedure_note(images.plan, header, images.names, complete=complete)
    pictures = []
    for shown in note.images:
        key = _plan_key_image(images, shown.image_id, shown.frame)
        if key is None:
            continue
        picture = key_image(
            images, key, options=REPORT_IMAGE_OPTIONS, masked=dicom.deid is not None
        )
        showing = f": needle at {', '.join(shown.sites)}" if shown.sites else ""
        pictures.append(NotePicture(shown.caption + showing, picture.pixels))
    stem = job.out_dir / f"{dicom.stem}_note"
    job.files += write_note(
        NotePdf(note, tuple(pictures)), stem.with_suffix(".pdf"), stem.with_suffix(".txt")
    )


def _plan_key_image(images: PlanImages, image_id: str, frame: int) -> KeyImage | None:
    source = images.sources.get(image_id)
    if source is None or not 0 <= frame < source.frame_count:
        return None
    image = images.plan.image(image_id)
    return KeyImage(image, frame, images.names[image_id], source.frame_count)


def _fhir(
    dicom: DicomExport,
    header: ReportHeader,
    wanted: Sequence[ExportFormat],
    subject: ExportSubject,
) -> None:
    """The FHIR bundle, naming the files and DICOM objects this export wrote beside it; a record
    that would not validate is refused, with the fields named, and nothing is written."""
    job, images = dicom.job, dicom.images
    job.step("FHIR bundle")
    plan = images.plan
    if plan.procedure is None:
        job.missing.append(
            "FHIR bundle: no procedure was recorded for this session (Session > Procedure record)"
        )
        return
    plain = dicom.deid is None
    note = procedure_note(plan, header, images.names, complete=subject.plan)
    pictures = []
    for shown in note.images:
        key = _plan_key_image(images, shown.image_id, shown.frame)
        png = ""
        if key is not None and ExportFormat.PNG in wanted:
            png = f"{dicom.stem}_{slug(key.name)}_frame{key.frame + 1}.png"
        instance = None
        if key is not None and plain and ExportFormat.SC in wanted:
            study = _study_of(images, subject, shown.image_id)
            instance = DicomInstance(
                SecondaryCaptureImageStorage,
                export_uid(dicom.version, "sc", shown.image_id, str(shown.frame)),
                series_uid(dicom.version.plan_id, "sc", study),
                study,
                "OT",
            )
        pictures.append(FhirImage(shown.caption, png, instance))
    sr = None
    if plain and ExportFormat.SR in wanted and plan.images:
        study = _study_of(images, subject, plan.images[0].id)
        sr = DicomInstance(
            ComprehensiveSRStorage,
            export_uid(dicom.version, "sr"),
            series_uid(dicom.version.plan_id, "sr", study),
            study,
            "SR",
        )
    family, _, given = header.patient_name.partition(", ")
    context = FhirContext(
        patient_id=header.patient_id,
        patient_family=family if plain else "",
        patient_given=tuple(given.split()) if plain else (),
        birth_date=header.birth_date,
        sex=header.sex,
        clinician=header.clinician,
        region=header.region,
        side=header.side,
        started_at=header.started_at,
        signed=header.signed,
        signed_by=header.signed_by,
        signed_at=header.signed_at,
        pain_before=header.pain_before,
        pain_after=header.pain_after,
        note_text=note.text(),
        note_pdf=f"{dicom.stem}_note.pdf" if ExportFormat.NOTE in wanted else "",
        key_images=tuple(pictures),
        sr=sr,
        key=bundle_key(dicom.version.digest, not plain),
        deidentified=not plain,
    )
    try:
        bundle = procedure_bundle(plan, context, complete=subject.plan)
    except FhirRefused as exc:
        job.missing.append(str(exc))
        return
    job.wrote(write_bundle(bundle, job.out_dir / f"{dicom.stem}_fhir.json"))


def _study_of(images: PlanImages, subject: ExportSubject, image_id: str) -> str:
    ds = images.dataset(image_id)
    if ds is not None and ds.get("StudyInstanceUID"):
        return str(ds.StudyInstanceUID)
    return subject.fallback.study_instance_uid


# -- a session of the store -------------------------------------------------------------------
def session_subject(repo: Repository, session_id: int) -> ExportSubject:
    """A session of the store as an export subject (its patient, visit, clinician, version)."""
    session = repo.session(session_id)
    patient = repo.patient(session.patient_id)
    plan = repo.load_plan(session_id)
    stored = {im.sha256: im.name for im in repo.images_of(session_id)}
    names = {im.id: im.ref.name or stored.get(im.ref.sha256, im.ref.title) for im in plan.images}
    predecessor = None
    before = None
    if session.amends is not None:
        try:
            before = repo.session(session.amends)
            predecessor = _session_version(repo, repo.load_plan(before.id), patient, before)
        except StoreError:
            predecessor = None  # the earlier version is gone: nothing to name
    return ExportSubject(
        plan=plan,
        header=ReportHeader.from_session(patient, session, plan.title),
        fallback=PatientStudy.from_session(patient, session),
        names=names,
        label=f"session #{session_id}",
        stem=f"session{session_id}",
        pain=pain_course(repo.sessions_of(patient.id), session_id),
        observer=session.clinician,
        verified_by=session.signed_by if session.is_signed else None,
        version=_session_version(repo, plan, patient, session),
        predecessor=predecessor,
        session_record=session_record(session, before),
    )


def session_record(session: Session, amends: Session | None) -> dict:
    """The session's fields as its SR's record carries them (export.plan_record.SESSION_KEYS):
    the store's ids are this workstation's, so the version it amends is named by its uid."""
    return {
        "uid": session.uid,
        "version": session.version,
        "amends": amends.uid if amends is not None else None,
        "started_at": session.started_at,
        "region": session.region,
        "side": session.side.value,
        "clinician": session.clinician,
        "pain_before": session.pain_before,
        "pain_after": session.pain_after,
        "notes": session.notes,
        "state": session.state.value,
        "signed_at": session.signed_at,
        "signed_by": session.signed_by,
    }


def _session_version(
    repo: Repository, plan: Plan, patient: Patient, session: Session
) -> PlanVersion:
    """The version of a session's plan, with what its objects say of the patient and session.
    A version pulled from a PACS is the version its author exported (the digest it recorded),
    so sending it again, or an amendment naming it, names the very objects on the PACS."""
    origin = repo.origin(session.id)
    if origin is not None and origin.plan_digest:
        return PlanVersion(plan.id, session.version, origin.plan_digest)
    context = [
        patient.mrn,
        patient.name,
        patient.birth_date,
        patient.sex,
        session.started_at,
        session.region,
        session.side.value,
        session.clinician,
        session.state.value,
        session.signed_by or "",
        # What the session record says beside the plan: a change of it is a new SR.
        str(session.pain_before),
        str(session.pain_after),
        session.notes,
        session.signed_at or "",
        session.uid,
    ]
    return PlanVersion.of(plan, session.version, context)


def export_session(
    repo: Repository,
    session_id: int,
    formats: Sequence[ExportFormat | str] = DEFAULT_FORMATS,
    out_dir: Path | str = ".",
    deidentify: bool = False,
    key: PseudonymKey | None = None,
    *,
    options: ImageOptions = DEFAULT_IMAGE_OPTIONS,
    progress: Progress | None = None,
    notes: list[str] | None = None,
    missing: list[str] | None = None,
    audit: bool = True,
    dates: DateHandling = DateHandling.SHIFT,
    texts: TextApproval | None = None,
) -> list[Path]:
    """Export the session's plan in each format into out_dir; the files written, in order.

    De-identified exports use `key` (default: the clinic's key in the data folder, made on first
    use), `dates` and the texts approved (`texts`; None: catalog names only). What the clinician
    should know is appended to `notes`, what could not be made (and why) to `missing`. Raises
    ExportError (or the store's NotFound) when nothing can be exported. The export is noted in
    the audit log unless `audit` is False (a send, which notes what it sent).
    """
    subject = session_subject(repo, session_id)
    how = None
    if deidentify:
        how = Deidentification(key or load_or_create_key(repo.data_dir), dates, texts)
    result = export_plan(subject, formats, out_dir, how, options=options, progress=progress)
    if notes is not None:
        notes += result.notes
    if missing is not None:
        missing += result.missing
    elif notes is not None:
        notes += result.missing
    if result.files and audit:
        what = ", ".join(f.value for f in parse_formats([str(f) for f in formats]))
        detail = f"exported {what} ({len(result.files)} files) to {out_dir}"
        try:
            repo.record_export(session_id, detail + (", de-identified" if deidentify else ""))
        except StoreError as exc:  # the files are written; a busy store must not undo that
            if notes is not None:
                notes.append(f"the export was not noted in the audit log: {exc}")
    return result.files


# -- a plan file -----------------------------------------------------------------------------
def plan_file_subject(path: Path | str) -> ExportSubject:
    """A plan file (docs/plan-format.md) as an export subject: its patient and study are those
    of its first DICOM image; a plan of videos and stills only has no patient but the plan."""
    from pydicom import dcmread

    from prolo_planner.store.plan_file import PlanFileError, read_plan_file

    path = Path(path)
    try:
        plan = read_plan_file(path).plan
    except PlanFileError as exc:
        raise ExportError(str(exc)) from None
    names = {im.id: im.ref.title for im in plan.images}
    first = None
    for im in plan.images:
        try:
            first = dcmread(im.ref.path, stop_before_pixels=True)
            break
        except Exception:  # noqa: BLE001 - a video, a still, or a file not there: the next
            continue
    if first is not None:
        header = ReportHeader.from_dataset(first, plan.title)
        fallback = PatientStudy.from_dataset(first)
    else:
        header = ReportHeader(patient_name="", patient_id="", identity=f"plan:{plan.id}")
        fallback = PatientStudy(
            patient_name="",
            patient_id="",
            study_instance_uid=derived_uid("prolo-planner plan study", plan.id),
        )
    return ExportSubject(
        plan=plan,
        header=header,
        fallback=fallback,
        names=names,
        label=path.name,
        stem=path.name.split(".")[0],
    )


def export_plan_file(
    path: Path | str,
    formats: Sequence[ExportFormat | str] = DEFAULT_FORMATS,
    out_dir: Path | str = ".",
    deidentify: Deidentification | None = None,
    *,
    options: ImageOptions = DEFAULT_IMAGE_OPTIONS,
    progress: Progress | None = None,
) -> ExportResult:
    """Export a plan file and its images, without a session store, as a session is."""
    subject = plan_file_subject(path)
    return export_plan(subject, formats, out_dir, deidentify, options=options, progress=progress)
