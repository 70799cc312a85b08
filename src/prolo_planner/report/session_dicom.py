"""The DICOM objects of a session export: Secondary Captures of the key images, annotated cines,
the TID 1500 SR and presentation states, each written atomically (0600), plain or de-identified.

Objects are made as they are and de-identified afterwards with one key, so an SR's references
(remapped by the same keyed hash) still name the de-identified Secondary Captures it points at.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from prolo_planner.export import presentation_state as ps_module
from prolo_planner.export import secondary_capture as sc_module
from prolo_planner.export import structured_report as sr_module
from prolo_planner.export.deidentify import PseudonymKey, deidentify_header
from prolo_planner.export.dicom_writing import NewSeries, write_dicom
from prolo_planner.export.errors import ExportError
from prolo_planner.export.patient_study import PatientStudy
from prolo_planner.report.plan_images import KeyImage, PlanImages

#: Called as the export goes: (steps done, steps in all, what is being made).
Progress = Callable[[int, int, str], None]


def slug(text: str) -> str:
    stem = Path(text).stem if "." in text else text
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:60] or "image"


class ExportJob:
    """One export run: the files written and what the clinician should know."""

    def __init__(self, out_dir: Path, total: int, progress: Progress | None) -> None:
        self.out_dir = out_dir
        self.files: list[Path] = []
        self.notes: list[str] = []
        self.done, self.total, self.progress = 0, total, progress

    def step(self, what: str) -> None:
        if self.progress is not None:
            self.progress(self.done, self.total, what)
        self.done += 1

    def wrote(self, path: Path) -> Path:
        self.files.append(path)
        return path


def person_name(text: str) -> str:
    """A name typed as free text ('Dr Demo') as a DICOM person name: one family-name component,
    unless it already has DICOM's ^ separators."""
    text = text.strip()
    return text if not text or "^" in text else f"{text}^"


class _Series:
    """One new series per study (a plan's images may come from several) and export kind."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.by_study: dict[str, NewSeries] = {}
        self.count: defaultdict[str, int] = defaultdict(int)

    def next(self, study_uid: str, number: int) -> NewSeries:
        series = self.by_study.setdefault(study_uid, NewSeries(self.description, number))
        self.count[study_uid] += 1
        return dataclasses.replace(series, instance_number=self.count[study_uid])


def _origin(images: PlanImages, image_id: str, fallback: PatientStudy) -> Dataset | PatientStudy:
    return images.dataset(image_id) or fallback


def _study_of(origin: Dataset | PatientStudy) -> str:
    if isinstance(origin, PatientStudy):
        return origin.study_instance_uid
    return str(origin.get("StudyInstanceUID", ""))


def _write(
    job: ExportJob, ds: Dataset, name: str, key: PseudonymKey | None, masked: bool = False
) -> Dataset:
    if key is not None:
        ds = deidentify_header(ds, key).dataset
        if "ContentSequence" in ds and "ReferencedPerformedProcedureStepSequence" not in ds:
            # SR Document Series: type 2, so present and empty once the profile removed it.
            ds.ReferencedPerformedProcedureStepSequence = []
        if "BurnedInAnnotation" in ds:
            # Whether the pixels still show who the patient is: not once the banner is masked.
            ds.BurnedInAnnotation = "NO" if masked else "YES"
    job.wrote(write_dicom(ds, job.out_dir / name))
    return ds


def _secondary_capture(
    images: PlanImages,
    k: KeyImage,
    fallback: PatientStudy,
    series: _Series,
    key: PseudonymKey | None,
) -> tuple[Dataset, bool]:
    masked = key is not None and bool(images.banner(k.image))
    pixels = images.annotated(k, masked=masked)
    origin = _origin(images, k.image.id, fallback)
    ds = sc_module.secondary_capture(
        pixels,
        origin,
        frame=k.frame if isinstance(origin, Dataset) else None,
        series=series.next(_study_of(origin), 901),
        compression=sc_module.PixelCompression.RLE,
        lossy=None if isinstance(origin, Dataset) else _video_is_lossy(images, k),
    )
    return ds, masked


def _video_is_lossy(images: PlanImages, k: KeyImage) -> bool:
    # A video's frames went through its codec: lossy unless it is a lossless one.
    codec = images.sources[k.image.id].info.codec.upper()
    return codec not in ("FFV1", "PNG", "BMP", "TIFF")


def secondary_captures(
    job: ExportJob,
    images: PlanImages,
    keys: Sequence[KeyImage],
    fallback: PatientStudy,
    stem: str,
    key: PseudonymKey | None,
) -> dict[str, Dataset]:
    series = _Series(sc_module.SERIES_DESCRIPTION)
    made: dict[str, Dataset] = {}
    for n, k in enumerate(keys, start=1):
        job.step(f"Secondary Capture of {k.caption}")
        ds, masked = _secondary_capture(images, k, fallback, series, key)
        _write(job, ds, f"{stem}_sc{n}.dcm", key, masked)
        made.setdefault(k.image.id, ds)  # as made: the SR refers to it before de-identifying
        if key is not None and not masked:
            job.notes.append(f"{k.caption}: no burned-in banner found to mask")
    return made


def cines(
    job: ExportJob, images: PlanImages, fallback: PatientStudy, stem: str, key: PseudonymKey | None
) -> None:
    series = _Series(sc_module.SERIES_DESCRIPTION + " cine")
    n = 0
    for im in images.plan.images:
        source = images.sources.get(im.id)
        if source is None or source.frame_count < 2:
            continue
        n += 1
        name = images.names[im.id]
        job.step(f"annotated cine of {name}")
        frames = np.stack(
            [
                images.annotated(KeyImage(im, f, name, source.frame_count), masked=key is not None)
                for f in range(source.frame_count)
            ]
        )
        origin = _origin(images, im.id, fallback)
        ds = sc_module.cine_secondary_capture(
            frames,
            origin,
            frame_time_ms=source.timing.nominal_ms,
            series=series.next(_study_of(origin), 902),
            compression=sc_module.PixelCompression.RLE,
            lossy=None if isinstance(origin, Dataset) else True,
        )
        _write(job, ds, f"{stem}_cine{n}.dcm", key, masked=bool(images.banner(im)))


def structured_report(
    job: ExportJob,
    images: PlanImages,
    keys: Sequence[KeyImage],
    fallback: PatientStudy,
    stem: str,
    key: PseudonymKey | None,
    observer: str,
    verified_by: str | None,
    made: dict[str, Dataset],
) -> None:
    """The TID 1500 SR. Objects are de-identified after they are made, with one key, so the
    SR's references (remapped by the same keyed hash) still name the de-identified SCs."""
    refer: dict[str, Dataset] = {}
    series = _Series(sc_module.SERIES_DESCRIPTION)
    for im in images.plan.images:
        ds = images.dataset(im.id)
        if ds is not None:
            refer[im.id] = ds
        elif im.id in made:
            refer[im.id] = made[im.id]
        elif im.id in images.sources:
            # The SR must point at a DICOM image: a video or still gets an SC of its own.
            k = next(k for k in keys if k.image.id == im.id)
            sc, masked = _secondary_capture(images, k, fallback, series, key)
            _write(job, sc, f"{stem}_sr-evidence-{slug(k.name)}.dcm", key, masked)
            refer[im.id] = sc
    try:
        sr = sr_module.measurement_report(
            images.plan,
            images.measurements,
            refer,
            observer="" if key is not None else person_name(observer),
            verified_by=None if key is not None or not verified_by else person_name(verified_by),
        )
    except ExportError as exc:
        job.notes.append(f"no structured report: {exc}")
        return
    _write(job, sr, f"{stem}_sr.dcm", key)


def presentation_states(
    job: ExportJob, images: PlanImages, stem: str, key: PseudonymKey | None
) -> None:
    n = 0
    for im in images.plan.images:
        job.step(f"presentation state of {images.names[im.id]}")
        ds = images.dataset(im.id)
        if ds is None:
            if im.id in images.sources:
                job.notes.append(
                    f"{images.names[im.id]}: no presentation state (it needs a DICOM image to "
                    "lie on; the Secondary Capture carries its annotations)"
                )
            continue
        if not images.plan.on_image(im.id) and im.skin_line is None:
            continue
        n += 1
        pr = ps_module.presentation_state(images.plan, im.id, ds, images.measurements)
        _write(job, pr, f"{stem}_pr{n}.dcm", key)
