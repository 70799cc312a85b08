"""Export a session from the store: PNG/JPEG key images, the PDF report and the DICOM objects
(Secondary Captures, annotated cine, TID 1500 SR, presentation states), plain or de-identified.

A DICOM image keeps its own patient and study in every DICOM export; a video or a still, which
has none, gets the store's patient and the session as its study. The SR refers to a Secondary
Capture of a video or still, which is made (and written) for it; a presentation state needs a
DICOM image to lie on, so a video or still gets none. Every file is written atomically, 0600.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path

from pydicom.dataset import Dataset

from prolo_planner.export.deidentify import PseudonymKey
from prolo_planner.export.errors import ExportError
from prolo_planner.export.patient_study import PatientStudy
from prolo_planner.files import make_dirs_private
from prolo_planner.report.content import pain_course, report_content
from prolo_planner.report.header import ReportHeader
from prolo_planner.report.images import (
    DEFAULT_IMAGE_OPTIONS,
    ImageFormat,
    ImageOptions,
    key_image,
    write_image,
)
from prolo_planner.report.keyfile import load_or_create_key
from prolo_planner.report.pdf import write_report
from prolo_planner.report.plan_images import PlanImages
from prolo_planner.report.session_dicom import (
    ExportJob,
    Progress,
    cines,
    presentation_states,
    secondary_captures,
    slug,
    structured_report,
)
from prolo_planner.store.records import StoreError
from prolo_planner.store.repository import Repository


class ExportFormat(StrEnum):
    PNG = "png"
    JPEG = "jpeg"
    PDF = "pdf"
    SC = "sc"  # a Secondary Capture of each key image
    CINE = "cine"  # a Multi-frame True Color SC of each annotated cine
    SR = "sr"
    PR = "pr"


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
    audit: bool = True,
) -> list[Path]:
    """Export the session's plan in each format into out_dir; the files written, in order.

    De-identified exports use `key` (default: the clinic's key in the data folder, made on first
    use). What could not be made, and why, is appended to `notes`. Raises ExportError (or the
    store's NotFound) when nothing can be exported. The export is noted in the audit log unless
    `audit` is False (a send, which notes what it sent).
    """
    wanted = parse_formats([str(f) for f in formats])
    session = repo.session(session_id)
    patient = repo.patient(session.patient_id)
    plan = repo.load_plan(session_id)
    if not plan.images and not plan.annotations:
        raise ExportError(f"session #{session_id} has no plan to export")
    if deidentify and key is None:
        key = load_or_create_key(repo.data_dir)
    stored = {im.sha256: Path(im.original_path).name for im in repo.images_of(session_id)}
    names = {}
    for n, im in enumerate(plan.images, start=1):
        # An original file name may carry the patient's name: de-identified files get numbers.
        names[im.id] = (
            f"image {n}" if deidentify else stored.get(im.ref.sha256, Path(im.ref.path).name)
        )
    header = ReportHeader.from_session(patient, session, plan.title)
    if deidentify:
        assert key is not None
        header = header.deidentified(key)
        # Free text may name anyone: it stays out of de-identified objects.
        plan = dataclasses.replace(
            plan,
            title="",
            note="",
            annotations=tuple(
                dataclasses.replace(a, note="") if hasattr(a, "note") else a
                for a in plan.annotations
            ),
        )
    out = Path(out_dir)
    try:
        make_dirs_private(out)  # patient data: the folders the export makes are private
    except OSError as exc:
        raise ExportError(f"the folder {out} cannot be made: {exc.strerror or exc}") from None
    stem = f"session{session_id}" + ("-deidentified" if deidentify else "")
    pain = pain_course(repo.sessions_of(patient.id), session_id) if not deidentify else ()
    with PlanImages.open(plan, names=names) as images:
        job = ExportJob(out, _steps(images, wanted), progress)
        job.notes += images.problems
        _run(
            job,
            images,
            wanted,
            header=header,
            fallback=PatientStudy.from_session(patient, session),
            stem=stem,
            options=options,
            key=key if deidentify else None,
            pain=pain,
            observer=session.clinician,
            verified_by=session.signed_by if session.is_signed else None,
        )
    job.step("done")
    if notes is not None:
        notes += job.notes
    if job.files and audit:
        what = ", ".join(f.value for f in wanted)
        detail = f"exported {what} ({len(job.files)} files) to {out}"
        try:
            repo.record_export(session_id, detail + (", de-identified" if deidentify else ""))
        except StoreError as exc:  # the files are written; a busy store must not undo that
            job.notes.append(f"the export was not noted in the audit log: {exc}")
            if notes is not None:
                notes.append(job.notes[-1])
    return job.files


def _steps(images: PlanImages, wanted: Sequence[ExportFormat]) -> int:
    keys = len(images.key_images())
    per = {
        ExportFormat.PNG: keys,
        ExportFormat.JPEG: keys,
        ExportFormat.PDF: 1,
        ExportFormat.SC: keys,
        ExportFormat.CINE: sum(s.frame_count > 1 for s in images.sources.values()),
        ExportFormat.SR: 1,
        ExportFormat.PR: len(images.plan.images),
    }
    return sum(per[f] for f in wanted) + 1


def _run(
    job: ExportJob,
    images: PlanImages,
    wanted: Sequence[ExportFormat],
    *,
    header: ReportHeader,
    fallback: PatientStudy,
    stem: str,
    options: ImageOptions,
    key: PseudonymKey | None,
    pain: Sequence,
    observer: str,
    verified_by: str | None,
) -> None:
    masked = key is not None
    keys = images.key_images()
    made: dict[str, Dataset] = {}
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
            content = report_content(images, header, pain=pain, masked=masked)
            job.wrote(write_report(content, job.out_dir / f"{stem}_report.pdf"))
        elif fmt is ExportFormat.SC:
            made = secondary_captures(job, images, keys, fallback, stem, key)
        elif fmt is ExportFormat.CINE:
            cines(job, images, fallback, stem, key)
        elif fmt is ExportFormat.SR:
            job.step("structured report")
            structured_report(job, images, keys, fallback, stem, key, observer, verified_by, made)
        elif fmt is ExportFormat.PR:
            presentation_states(job, images, stem, key)
