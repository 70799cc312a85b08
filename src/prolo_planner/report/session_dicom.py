"""The DICOM objects of a plan export: Secondary Captures of the key images, annotated cines, the
TID 1500 SR and presentation states, each written atomically (0600), plain or de-identified.

Every object's UIDs derive from the plan version (export.uids), so exporting or sending the same
version again names the same objects. A de-identified export passes every object through one
Deidentifier (one pseudonym, one date shift); objects that refer to the source images (the SR,
the presentation states) come with de-identified copies of those images, so nothing it writes
points at an object it does not contain. What could not be made is said in `job.missing`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from prolo_planner.export import plan_record
from prolo_planner.export import presentation_state as ps_module
from prolo_planner.export import secondary_capture as sc_module
from prolo_planner.export import structured_report as sr_module
from prolo_planner.export.deidentify import Deidentifier
from prolo_planner.export.dicom_writing import NewSeries, write_dicom
from prolo_planner.export.errors import ExportError
from prolo_planner.export.patient_study import PatientStudy, body_site
from prolo_planner.export.uids import (
    PlanVersion,
    capture_series_uid,
    capture_uid,
    export_uid,
    predecessor_reference,
    series_uid,
)
from prolo_planner.report.plan_images import KeyImage, PlanImages

#: Called as the export goes: (steps done, steps in all, what is being made).
Progress = Callable[[int, int, str], None]


def slug(text: str) -> str:
    stem = Path(text).stem if "." in text else text
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:60] or "image"


class ExportJob:
    """One export run: the files written, what the clinician should know, what is missing."""

    def __init__(self, out_dir: Path, total: int, progress: Progress | None) -> None:
        self.out_dir = out_dir
        self.files: list[Path] = []
        self.notes: list[str] = []
        #: Objects asked for that could not be made, each with the reason.
        self.missing: list[str] = []
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


@dataclasses.dataclass
class DicomExport:
    """What every DICOM object of one export shares."""

    job: ExportJob
    images: PlanImages
    fallback: PatientStudy  # the patient and study of videos and stills
    stem: str
    version: PlanVersion
    deid: Deidentifier | None = None
    #: The previous version's plan, for the SR's Predecessor Documents Sequence.
    predecessor: PlanVersion | None = None
    #: The session the plan belongs to, for the SR's session record (plan_record.SESSION_KEYS);
    #: None outside a session (a plan file).
    session_record: dict | None = None
    observer: str = ""
    verified_by: str | None = None
    #: De-identified exports: write de-identified copies of the source images (for the SR and
    #: presentation states, which refer to them).
    with_sources: bool = False
    #: Secondary Captures made so far, by image id (the first key frame of each).
    made: dict[str, Dataset] = dataclasses.field(default_factory=dict)
    #: De-identified source copies written, by image id.
    sources: dict[str, Path] = dataclasses.field(default_factory=dict)
    _counts: dict[tuple[str, str], int] = dataclasses.field(default_factory=dict)

    # -- shared --------------------------------------------------------------------------------
    def origin(self, image_id: str) -> Dataset | PatientStudy:
        return self.images.dataset(image_id) or self.fallback

    def series(self, kind: str, description: str, number: int, study: str) -> NewSeries:
        """The series of this kind in this study (a plan's images may come from several)."""
        count = self._counts.get((kind, study), 0) + 1
        self._counts[(kind, study)] = count
        uid = series_uid(self.version.plan_id, kind, study)
        return NewSeries(description, number, count, uid)

    def body(self, image_id: str) -> tuple[str, str]:
        image = self.images.plan.image(image_id)
        return body_site(image.region, image.side, self.images.dataset(image_id))

    def masked(self, image_id: str) -> bool:
        return self.deid is not None and bool(self.images.banner(self.images.plan.image(image_id)))

    def write(self, ds: Dataset, name: str, masked: bool = False) -> Dataset:
        if self.deid is not None:
            ds = self.deid.header(ds, masked=masked)
            if "ContentSequence" in ds and "ReferencedPerformedProcedureStepSequence" not in ds:
                # SR Document Series: type 2, so present and empty once the profile removed it.
                ds.ReferencedPerformedProcedureStepSequence = []
            if "BurnedInAnnotation" in ds:
                # Whether the pixels still show who the patient is: not once the banner is masked.
                ds.BurnedInAnnotation = "NO" if masked else "YES"
        self.job.wrote(write_dicom(ds, self.job.out_dir / name))
        return ds

    def refers_to_sources(self) -> bool:
        """Whether objects may point at the source images: always, unless a de-identified export
        leaves them out."""
        return self.deid is None or self.with_sources

    # -- the de-identified source images ---------------------------------------------------------
    def source_copies(self) -> None:
        """De-identified copies of the plan's DICOM images, banner masked, for the objects that
        point at them."""
        assert self.deid is not None
        n = 0
        for im in self.images.plan.images:
            header = self.images.dataset(im.id)
            source = self.images.sources.get(im.id)
            if header is None or source is None:
                continue
            n += 1
            name = self.images.names[im.id]
            self.job.step(f"de-identified copy of {name}")
            path = Path(source.info.path)
            try:
                full = pydicom.dcmread(path)
                result = self.deid.image_file(
                    path,
                    full,
                    self.job.out_dir / f"{self.stem}_source{n}.dcm",
                    body=self.body(im.id),
                    frame_time_ms=source.timing.nominal_ms,
                )
            except (ExportError, OSError, ValueError) as exc:
                self.job.missing.append(f"de-identified copy of {name}: {exc}")
                continue
            self.sources[im.id] = self.job.wrote(self.job.out_dir / f"{self.stem}_source{n}.dcm")
            self.job.notes += [f"{name}: {note}" for note in result.notes]

    # -- Secondary Captures ----------------------------------------------------------------------
    def secondary_capture(self, k: KeyImage) -> tuple[Dataset, bool]:
        images = self.images
        masked = self.masked(k.image.id)
        pixels = images.annotated(k, masked=masked)
        origin = self.origin(k.image.id)
        study = _study_of(origin)
        ds = sc_module.secondary_capture(
            pixels,
            origin,
            frame=k.frame if isinstance(origin, Dataset) else None,
            series=self.series("sc", sc_module.SERIES_DESCRIPTION, 901, study),
            compression=sc_module.PixelCompression.RLE,
            lossy=None if isinstance(origin, Dataset) else _video_is_lossy(images, k.image.id),
            uid=export_uid(self.version, "sc", k.image.id, str(k.frame)),
            body=self.body(k.image.id),
            refer_to_source=self.refers_to_sources(),
        )
        return ds, masked

    def secondary_captures(self, keys: list[KeyImage]) -> None:
        for n, k in enumerate(keys, start=1):
            self.job.step(f"Secondary Capture of {k.caption}")
            ds, masked = self.secondary_capture(k)
            self.write(ds, f"{self.stem}_sc{n}.dcm", masked)
            self.made.setdefault(k.image.id, ds)  # as made: the SR refers to it
            if self.deid is not None and not masked:
                self.job.notes.append(f"{k.caption}: no burned-in banner found to mask")

    def cines(self) -> None:
        images = self.images
        n = 0
        for im in images.plan.images:
            source = images.sources.get(im.id)
            if source is None or source.frame_count < 2:
                continue
            n += 1
            name = images.names[im.id]
            self.job.step(f"annotated cine of {name}")
            masked = self.masked(im.id)
            frames = np.stack(
                [
                    images.annotated(KeyImage(im, f, name, source.frame_count), masked=masked)
                    for f in range(source.frame_count)
                ]
            )
            origin = self.origin(im.id)
            try:
                ds = sc_module.cine_secondary_capture(
                    frames,
                    origin,
                    frame_time_ms=source.timing.nominal_ms,
                    series=self.series(
                        "cine", sc_module.SERIES_DESCRIPTION + " cine", 902, _study_of(origin)
                    ),
                    compression=sc_module.PixelCompression.RLE,
                    lossy=None if isinstance(origin, Dataset) else True,
                    uid=export_uid(self.version, "cine", im.id),
                    body=self.body(im.id),
                    refer_to_source=self.refers_to_sources(),
                )
            except ExportError as exc:
                self.job.missing.append(f"annotated cine of {name}: {exc}")
                continue
            self.write(ds, f"{self.stem}_cine{n}.dcm", masked)

    # -- captures of videos and stills ----------------------------------------------------------
    def capture(self, image_id: str) -> Dataset:
        """The video or still itself as DICOM, without annotations: every frame, lossless (RLE),
        in the session's study. The SR points at it, and another workstation that pulls the
        plan gets the image back from it. Named by the file's content and study
        (export.uids.capture_uid), so every version of every plan showing it names one object."""
        images = self.images
        im = images.plan.image(image_id)
        source = images.sources[image_id]
        name = images.names[image_id]
        study = self.fallback.study_instance_uid
        frames = [
            images.frame(KeyImage(im, f, name, source.frame_count))
            for f in range(source.frame_count)
        ]
        series = NewSeries("Prolo Planner source capture", 900, 1, capture_series_uid(study))
        common = {
            "series": series,
            "compression": sc_module.PixelCompression.RLE,
            "uid": capture_uid(im.ref.sha256 or im.id, study),
            "body": self.body(image_id),
            "derivation": sc_module.CAPTURE_DERIVATION,
            "lossy": _video_is_lossy(images, image_id),
        }
        if len(frames) == 1:
            ds = sc_module.secondary_capture(frames[0], self.fallback, **common)
        else:
            ds = sc_module.cine_secondary_capture(
                np.stack(frames),
                self.fallback,
                frame_time_ms=source.timing.nominal_ms,
                **common,
            )
        n = sum(1 for f in self.job.files if "_capture" in f.name) + 1
        self.job.wrote(write_dicom(ds, self.job.out_dir / f"{self.stem}_capture{n}.dcm"))
        return ds

    # -- the report --------------------------------------------------------------------------
    def structured_report(self, keys: list[KeyImage]) -> None:
        """The TID 1500 SR, referring to the source images (or their de-identified copies) and
        to a capture of each video or still; a plain export also carries the session record
        (export.plan_record) with the whole plan."""
        images = self.images
        refer: dict[str, Dataset] = {}
        captured: set[str] = set()
        for im in images.plan.images:
            ds = images.dataset(im.id)
            if ds is not None:
                refer[im.id] = ds
            elif im.id in images.sources and self.deid is None:
                try:
                    refer[im.id] = self.capture(im.id)
                except ExportError as exc:
                    self.job.missing.append(f"capture of {images.names[im.id]}: {exc}")
                    continue
                captured.add(im.id)
            elif im.id in self.made:
                refer[im.id] = self.made[im.id]
            elif im.id in images.sources:
                # A de-identified SR points at an SC of the video or still, banner masked (the
                # same object, and UID, as its first key frame's SC).
                k = next(k for k in keys if k.image.id == im.id)
                sc, masked = self.secondary_capture(k)
                self.write(sc, f"{self.stem}_sr-evidence-{slug(k.name)}.dcm", masked)
                self.made[im.id] = refer[im.id] = sc
        plan = images.plan
        first = next(iter(refer.values()), None)
        study = str(first.get("StudyInstanceUID", "")) if first is not None else ""
        predecessor = None
        if self.predecessor is not None and self.deid is None:
            # A de-identified export contains no earlier version: it names none.
            predecessor = predecessor_reference(
                study,
                series_uid(plan.id, "sr", study),
                export_uid(self.predecessor, "sr"),
            )
        try:
            sr = sr_module.measurement_report(
                plan,
                images.measurements,
                refer,
                series=dataclasses.replace(
                    self.series("sr", sr_module.SERIES_DESCRIPTION, 903, study),
                    instance_number=self.version.version,
                ),
                observer="" if self.deid is not None else person_name(self.observer),
                verified_by=(
                    None
                    if self.deid is not None or not self.verified_by
                    else person_name(self.verified_by)
                ),
                uid=export_uid(self.version, "sr"),
                predecessor=predecessor,
                anonymous_device=self.deid is not None,
            )
        except ExportError as exc:
            self.job.missing.append(f"structured report: {exc}")
            return
        if self.deid is None:
            recorded = [
                plan_record.RecordedImage(
                    image_id=image_id,
                    sop_class_uid=str(ds.SOPClassUID),
                    sop_instance_uid=str(ds.SOPInstanceUID),
                    study_instance_uid=str(ds.get("StudyInstanceUID", "")),
                    series_instance_uid=str(ds.get("SeriesInstanceUID", "")),
                    name=images.names[image_id],
                    capture=image_id in captured,
                )
                for image_id, ds in refer.items()
            ]
            plan_record.add_record(
                sr,
                plan_record.record_document(
                    plan,
                    recorded,
                    self.session_record,
                    self.version.plan_id,
                    self.version.version,
                    self.version.digest,
                ),
            )
        self.write(sr, f"{self.stem}_sr.dcm")

    # -- presentation states -----------------------------------------------------------------
    def presentation_states(self) -> None:
        images = self.images
        n = 0
        for im in images.plan.images:
            name = images.names[im.id]
            self.job.step(f"presentation state of {name}")
            ds = images.dataset(im.id)
            if ds is None:
                if im.id in images.sources:
                    self.job.missing.append(
                        f"presentation state of {name}: it needs a DICOM image to lie on (a "
                        "video or a still has none); the Secondary Capture carries its "
                        "annotations"
                    )
                continue
            if not images.plan.on_image(im.id) and im.skin_line is None:
                continue
            why_not = ps_module.no_presentation_state(ds)
            if why_not:
                self.job.missing.append(f"presentation state of {name}: {why_not}")
                continue
            n += 1
            try:
                pr = ps_module.presentation_state(
                    images.plan,
                    im.id,
                    ds,
                    images.measurements,
                    series=self.series(
                        "pr", ps_module.SERIES_DESCRIPTION, 904, str(ds.get("StudyInstanceUID"))
                    ),
                    uid=export_uid(self.version, "pr", im.id),
                    body=self.body(im.id),
                )
            except ExportError as exc:
                self.job.missing.append(f"presentation state of {name}: {exc}")
                continue
            self.write(pr, f"{self.stem}_pr{n}.dcm")


def _study_of(origin: Dataset | PatientStudy) -> str:
    if isinstance(origin, PatientStudy):
        return origin.study_instance_uid
    return str(origin.get("StudyInstanceUID", ""))


def _video_is_lossy(images: PlanImages, image_id: str) -> bool:
    # A video's frames went through its codec: lossy unless it is a lossless one.
    codec = images.sources[image_id].info.codec.upper()
    return codec not in ("FFV1", "PNG", "BMP", "TIFF")
