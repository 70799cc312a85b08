"""Query and retrieve: the patient's prior studies on the PACS (C-FIND), fetched into the store.

Retrieval uses C-GET: the PACS sends the images back on the same association, so it needs no
route to this workstation (C-MOVE would need one, and a port open here). Every image received
goes through the same door as a file the clinician opens: into the session named through its
patient check (held back when it is another patient's), or, with no session, filed under its
patient by PatientID;
reports, presentation states and PDFs, which the store does not file as images, are kept in
the data folder's `retrieved` folder for review.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import build_role, evt
from pynetdicom.presentation import PresentationContext, build_context

from prolo_planner.files import private_dir
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.net.association import NetError, associate, connection_lost
from prolo_planner.net.inbound import write_received
from prolo_planner.net.nodes import DicomNode, load_settings
from prolo_planner.net.sop_classes import (
    COMPRESSED,
    IMAGE_STORAGE,
    OTHER_MODALITY_SYNTAXES,
    OUR_IMAGES,
    REVIEW_OBJECTS,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    UNCOMPRESSED,
)
from prolo_planner.store.records import Admission, DicomImport, StoreError

DEFAULT_TIMEOUT_S = 60.0
RETRIEVED_DIR = "retrieved"
_PENDING = (0xFF00, 0xFF01)


@dataclass(frozen=True, slots=True)
class StudyFound:
    """One study on the PACS, as its C-FIND answer describes it."""

    study_instance_uid: str
    patient_id: str
    patient_name: str
    study_date: str  # DICOM YYYYMMDD, "" if the PACS does not say
    study_time: str
    description: str
    accession_number: str
    modalities: tuple[str, ...]
    instance_count: int | None


def find_studies(
    node: DicomNode,
    patient_id: str,
    *,
    calling_ae: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[StudyFound]:
    """The patient's studies on `node`, newest first. Raises NetError (in words) when the
    node cannot be asked or refuses the query."""
    patient_id = _exact_patient_id(patient_id)
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.PatientID = patient_id
    for keyword in (
        "PatientName", "PatientBirthDate", "StudyInstanceUID", "StudyDate", "StudyTime",
        "StudyDescription", "AccessionNumber", "ModalitiesInStudy",
        "NumberOfStudyRelatedInstances",
    ):  # fmt: skip
        setattr(query, keyword, "")
    found: list[StudyFound] = []
    calling_ae = calling_ae or load_settings().calling_ae_title
    with associate(
        node,
        [build_context(STUDY_ROOT_FIND)],
        calling_ae=calling_ae,
        timeout=timeout,
    ) as assoc:
        for status, identifier in assoc.send_c_find(query, STUDY_ROOT_FIND):
            if "Status" not in status:
                raise _lost(node, assoc, "answering the query", calling_ae)
            code = int(status.Status)
            if code in _PENDING and identifier is not None:
                found.append(_study(identifier))
            elif code not in _PENDING and code != 0x0000:
                raise NetError(f"{node.address} refused the query (status 0x{code:04X})")
    # The PACS matched on PatientID; a PACS that ignores the key must not leak other patients.
    mine = [s for s in found if s.patient_id in ("", patient_id)]
    return sorted(mine, key=lambda s: (s.study_date, s.study_time), reverse=True)


def _exact_patient_id(patient_id: str) -> str:
    text = (patient_id or "").strip()
    if not text:
        raise ValueError("a patient ID is needed to look for prior studies")
    if any(c in text for c in "*?\\") or len(text) > 64:
        raise ValueError(f"patient ID {patient_id!r}: one exact ID, without * ? or \\")
    return text


def _study(ds: Dataset) -> StudyFound:
    count = ds.get("NumberOfStudyRelatedInstances")
    modalities = ds.get("ModalitiesInStudy") or ()
    if isinstance(modalities, str):
        modalities = (modalities,)
    return StudyFound(
        study_instance_uid=str(ds.get("StudyInstanceUID", "")),
        patient_id=str(ds.get("PatientID", "")),
        patient_name=str(ds.get("PatientName", "")),
        study_date=str(ds.get("StudyDate", "")),
        study_time=str(ds.get("StudyTime", "")),
        description=str(ds.get("StudyDescription", "")),
        accession_number=str(ds.get("AccessionNumber", "")),
        modalities=tuple(str(m) for m in modalities if m),
        instance_count=int(count) if count not in (None, "") else None,
    )


# -- retrieve -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FetchResult:
    study_instance_uid: str
    #: Each image received without a session: filed under its patient (or held as a mismatch).
    imported: tuple[DicomImport, ...]
    #: Objects kept as files, not images: reports, presentation states, PDFs.
    kept: tuple[Path, ...]
    #: What went wrong, in words; empty when every object of the study arrived.
    problems: tuple[str, ...]
    #: Each image received for a session: attached, held back or asked about (admission.py).
    admitted: tuple[Admission, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


#: Called as objects arrive: (objects received so far, objects in the study if known, else 0).
FetchProgress = Callable[[int, int], None]


def fetch_study(
    node: DicomNode,
    study_instance_uid: str,
    repo: Any,
    *,
    session_id: int | None = None,
    calling_ae: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    progress: FetchProgress | None = None,
) -> FetchResult:
    """Retrieve one study with C-GET and import its images into `repo` (a Repository): through
    the door of `session_id` if given (Repository.admit), else under their patient. Raises
    NetError when nothing could be retrieved."""
    kinds = IMAGE_STORAGE + REVIEW_OBJECTS
    contexts = retrieval_contexts()
    roles = [build_role(kind, scp_role=True) for kind in kinds]
    # The folder's name is what the store records as where each image came from.
    incoming = Path(
        tempfile.mkdtemp(
            prefix=f".retrieved-from-{_safe(node.ae_title)}-", dir=private_dir(repo.data_dir)
        )
    )
    received: list[Path] = []
    total = [0]
    problems: list[str] = []

    def on_store(event: Any) -> int:
        try:
            received.append(write_received(event, incoming))
        except OSError as exc:
            problems.append(f"an object could not be written: {exc.strerror or exc}")
            return 0xA700  # out of resources: the PACS counts it as a failed sub-operation
        if progress is not None:
            progress(len(received), total[0])
        return 0x0000

    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = study_instance_uid
    calling_ae = calling_ae or load_settings().calling_ae_title
    try:
        with associate(
            node,
            contexts,
            calling_ae=calling_ae,
            timeout=timeout,
            ext_neg=roles,
            handlers=[(evt.EVT_C_STORE, on_store)],
        ) as assoc:
            final = None
            for status, _identifier in assoc.send_c_get(query, STUDY_ROOT_GET):
                if "Status" not in status:
                    raise _lost(node, assoc, "sending the study", calling_ae)
                final = status
                if int(status.Status) in _PENDING:
                    total[0] = sum(
                        int(status.get(k, 0) or 0)
                        for k in (
                            "NumberOfRemainingSuboperations", "NumberOfCompletedSuboperations",
                            "NumberOfFailedSuboperations", "NumberOfWarningSuboperations",
                        )
                    )  # fmt: skip
        problems += _final_problems(node, final)
        return _file_received(study_instance_uid, received, repo, session_id, problems)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)


def retrieval_contexts() -> list[PresentationContext]:
    """What a C-GET association proposes. A PACS sends each image in a context of exactly its
    own syntax or must transcode it, and some cannot (Debian's Orthanc has no JPEG 2000
    encoder), so each compressed syntax gets a context of its own: every one for the kinds
    this app is about, the usual few for other modalities; within the limit of 128."""
    contexts = [build_context(STUDY_ROOT_GET)]
    for kind in IMAGE_STORAGE:
        syntaxes = COMPRESSED if kind in OUR_IMAGES else OTHER_MODALITY_SYNTAXES
        contexts += [build_context(kind, [syntax]) for syntax in syntaxes]
        contexts.append(build_context(kind, list(UNCOMPRESSED)))
    contexts += [build_context(kind, list(UNCOMPRESSED)) for kind in REVIEW_OBJECTS]
    return contexts


def _lost(node: DicomNode, assoc: Any, doing: str, calling_ae: str) -> NetError:
    error = connection_lost(node, assoc, doing)
    if "broke off" in str(error):  # what a PACS does with a caller it does not know (Orthanc)
        return NetError(
            f"{error}: is this workstation's AE title {calling_ae} on its list of known nodes?"
        )
    return error


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def _final_problems(node: DicomNode, final: Dataset | None) -> list[str]:
    if final is None:
        return [f"{node.address} did not answer the retrieve"]
    code = int(final.Status)
    if code == 0x0000:
        return []
    failed = int(final.get("NumberOfFailedSuboperations", 0) or 0)
    if code == 0xB000 or failed:
        return [f"{node.address} could not send {failed} object(s) of the study"]
    if code == 0xA701 or code == 0xA702:
        return [f"{node.address} is out of resources (status 0x{code:04X})"]
    if code & 0xF000 == 0xC000:
        return [f"{node.address} could not process the retrieve (status 0x{code:04X})"]
    return [f"{node.address} refused the retrieve (status 0x{code:04X})"]


def _file_received(
    study_uid: str, received: list[Path], repo: Any, session_id: int | None, problems: list[str]
) -> FetchResult:
    imported: list[DicomImport] = []
    admitted: list[Admission] = []
    kept: list[Path] = []
    keep_dir = repo.data_dir / RETRIEVED_DIR
    for path in received:
        try:
            if session_id is None:
                imported.append(repo.import_dicom(path))
            else:
                admitted.append(repo.admit(path, session_id, origin="PACS retrieve"))
        except ImageLoadError:  # a report or presentation state: no pixels to view
            private_dir(keep_dir)
            target = keep_dir / path.name
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            shutil.move(path, target)
            kept.append(target)
        except StoreError as exc:
            problems.append(f"{path.name}: {exc}")
    return FetchResult(study_uid, tuple(imported), tuple(kept), tuple(problems), tuple(admitted))
