"""Finding a patient's structured reports on a DIMSE node (C-FIND) and retrieving chosen
instances by UID, with C-GET or, for the many PACS that offer only that, C-MOVE.

C-GET brings the objects back on the same association. C-MOVE asks the PACS to open an
association of its own to this workstation: for the length of the retrieve a storage node
listens on the retrieve port (NetworkSettings.retrieve_port), takes only the PACS's own AE
title and only what was asked for, and stops again. Either way each object lands in a folder,
named by its UID; what did not arrive is named with the reason, and Cancel stops between
objects (the association is aborted, nothing half-written is kept).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE, build_role, evt
from pynetdicom.presentation import build_context

from prolo_planner.net.association import NetError, associate, connection_lost
from prolo_planner.net.inbound import write_received
from prolo_planner.net.nodes import DicomNode, RetrieveMethod
from prolo_planner.net.query import retrieval_contexts
from prolo_planner.net.sop_classes import (
    ACCEPTED_SYNTAXES,
    IMAGE_STORAGE,
    REVIEW_OBJECTS,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
)

DEFAULT_TIMEOUT_S = 60.0
_PENDING = (0xFF00, 0xFF01)
#: Structured report classes a plan (ours or another viewer's) may come in.
SR_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
    "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
    "1.2.840.10008.5.1.4.1.1.88.34",  # Comprehensive 3D SR
)


@dataclass(frozen=True, slots=True)
class InstanceRef:
    """One object on the PACS, by the UIDs a retrieve needs."""

    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str


@dataclass(frozen=True, slots=True)
class ReportFound:
    """A structured report of the patient, as a query describes it."""

    ref: InstanceRef
    sop_class_uid: str
    patient_id: str
    patient_name: str
    content_date: str  # YYYYMMDD, "" if not said
    content_time: str
    instance_number: int | None
    series_description: str
    manufacturer: str


@dataclass(slots=True)
class Retrieved:
    """What a retrieve brought: the files by SOP Instance UID, and what did not come, why."""

    files: dict[str, Path] = field(default_factory=dict)
    #: SOP Instance UID -> why it did not arrive.
    missing: dict[str, str] = field(default_factory=dict)
    cancelled: bool = False


#: Called as objects arrive: (objects so far, objects asked for).
RetrieveProgress = Callable[[int, int], None]


class Cancelled(Exception):
    """The clinician pressed Cancel."""


# -- C-FIND ---------------------------------------------------------------------------------------
def find_reports(
    node: DicomNode,
    patient_id: str,
    *,
    calling_ae: str,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[ReportFound]:
    """The patient's SR instances on the node: the patient's studies, their SR series, their
    instances; three queries on one association (UID lists where the PACS takes them)."""
    with associate(
        node, [build_context(STUDY_ROOT_FIND)], calling_ae=calling_ae, timeout=timeout
    ) as assoc:

        def ask(query: Dataset) -> list[Dataset]:
            return _find(node, assoc, query)

        studies = ask(_query("STUDY", PatientID=patient_id, StudyInstanceUID=""))
        study_uids = sorted(
            {str(s.get("StudyInstanceUID", "")) for s in studies if _same(s, patient_id)} - {""}
        )
        series: list[Dataset] = []
        for chunk in _chunks(study_uids):
            series += ask(
                _query(
                    "SERIES",
                    PatientID=patient_id,
                    StudyInstanceUID=chunk,
                    SeriesInstanceUID="",
                    Modality="SR",
                    SeriesDescription="",
                    Manufacturer="",
                )
            )
        wanted = {
            (str(s.get("StudyInstanceUID", "")), str(s.get("SeriesInstanceUID", ""))): s
            for s in series
            if str(s.get("Modality", "SR")) == "SR"
        }
        found: list[ReportFound] = []
        for item in _instances(node, ask, patient_id, sorted(wanted)):
            study = str(item.get("StudyInstanceUID", ""))
            # A PACS answering from its index alone may leave the class out: the series is SR.
            if str(item.get("SOPClassUID", "")) not in ("", *SR_CLASSES):
                continue
            parent = wanted.get((study, str(item.get("SeriesInstanceUID", ""))))
            if parent is None:
                continue
            found.append(_report(item, parent, study, patient_id))
    return found


def _instances(
    node: DicomNode,
    ask: Callable[[Dataset], list[Dataset]],
    patient_id: str,
    series: list[tuple[str, str]],
) -> list[Dataset]:
    """The instances of these (study, series): one query with UID lists, which most PACS
    answer (Orthanc in one round trip); a PACS that holds to strictly hierarchical queries
    (one study and one series above the IMAGE level) refuses it and is asked series by series."""
    keys = {
        "SOPInstanceUID": "",
        "SOPClassUID": "",
        "ContentDate": "",
        "ContentTime": "",
        "InstanceNumber": "",
        "PatientName": "",
    }
    if not series:
        return []
    if len(series) > 1:
        try:
            out: list[Dataset] = []
            for start in range(0, len(series), 100):
                chunk = series[start : start + 100]
                out += ask(
                    _query(
                        "IMAGE",
                        PatientID=patient_id,
                        StudyInstanceUID=_one_or_list(sorted({s for s, _ in chunk})),
                        SeriesInstanceUID=_one_or_list([se for _, se in chunk]),
                        **keys,
                    )
                )
            return out
        except NetError as exc:
            if "refused the query" not in str(exc):
                raise
    out = []
    for study, one in series:
        out += ask(
            _query(
                "IMAGE", PatientID=patient_id, StudyInstanceUID=study, SeriesInstanceUID=one, **keys
            )
        )
    return out


def _one_or_list(uids: list[str]) -> str | list[str]:
    return uids[0] if len(uids) == 1 else uids


def _query(level: str, **keys: object) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


def _chunks(uids: Sequence[str], size: int = 100) -> Iterable[str | list[str]]:
    for start in range(0, len(uids), size):
        chunk = list(uids[start : start + size])
        yield chunk[0] if len(chunk) == 1 else chunk


def _same(ds: Dataset, patient_id: str) -> bool:
    # The PACS matched on PatientID; one that ignores the key must not leak other patients.
    return str(ds.get("PatientID", "")) in ("", patient_id)


def _find(node: DicomNode, assoc: Any, query: Dataset) -> list[Dataset]:
    out: list[Dataset] = []
    for status, identifier in assoc.send_c_find(query, STUDY_ROOT_FIND):
        if "Status" not in status:
            raise connection_lost(node, assoc, "answering the query")
        code = int(status.Status)
        if code in _PENDING and identifier is not None:
            out.append(identifier)
        elif code not in _PENDING and code != 0x0000:
            raise NetError(f"{node.address} refused the query (status 0x{code:04X})")
    return out


def _report(item: Dataset, series: Dataset, study: str, patient_id: str) -> ReportFound:
    number = item.get("InstanceNumber")
    try:
        instance_number = int(number) if number not in (None, "") else None
    except (TypeError, ValueError):
        instance_number = None
    return ReportFound(
        ref=InstanceRef(
            study, str(item.get("SeriesInstanceUID", "")), str(item.get("SOPInstanceUID", ""))
        ),
        sop_class_uid=str(item.get("SOPClassUID", "")),
        patient_id=str(item.get("PatientID", "") or patient_id),
        patient_name=str(item.get("PatientName", "")),
        content_date=str(item.get("ContentDate", "")),
        content_time=str(item.get("ContentTime", "")),
        instance_number=instance_number,
        series_description=str(series.get("SeriesDescription", "")),
        manufacturer=str(series.get("Manufacturer", "")),
    )


# -- C-GET and C-MOVE -----------------------------------------------------------------------------
def retrieve(
    node: DicomNode,
    refs: Sequence[InstanceRef],
    folder: Path,
    *,
    calling_ae: str,
    move_port: int = 0,
    move_address: str = "0.0.0.0",
    timeout: float = DEFAULT_TIMEOUT_S,
    progress: RetrieveProgress | None = None,
    cancel: threading.Event | None = None,
) -> Retrieved:
    """Retrieve each instance into `folder` by the node's retrieve method. Raises NetError when
    the node cannot be reached at all; an object that does not come is in `missing`."""
    wanted = {r.sop_instance_uid for r in refs}
    got = Retrieved()
    lock = threading.Lock()

    def on_store(event: Any) -> int:
        uid = str(event.request.AffectedSOPInstanceUID)
        if cancel is not None and cancel.is_set():
            return 0xFE00  # cancelled: the PACS stops (C-GET) or counts it failed
        if uid not in wanted:
            return 0xA900  # not asked for: not taken
        try:
            path = write_received(event, folder)
        except OSError as exc:
            with lock:
                got.missing[uid] = f"could not be written here: {exc.strerror or exc}"
            return 0xA700
        with lock:
            got.files[uid] = path
            done = len(got.files)
        if progress is not None:
            progress(done, len(wanted))
        return 0x0000

    groups: dict[tuple[str, str], list[str]] = {}
    for r in refs:
        groups.setdefault((r.study_instance_uid, r.series_instance_uid), []).append(
            r.sop_instance_uid
        )

    def run(requests: list[tuple[Dataset, list[str]]]) -> None:
        if node.retrieve is RetrieveMethod.MOVE:
            _move(
                node, requests, on_store, got, calling_ae, move_port, move_address, timeout, cancel
            )
        else:
            _get(node, requests, on_store, got, calling_ae, timeout, cancel)

    if len(groups) > 1:
        # One request for everything (UID lists), which most PACS serve: one lookup, and for
        # C-MOVE one association back; what a strictly hierarchical PACS did not send is
        # asked for again series by series.
        everything = [u for uids in groups.values() for u in uids]
        studies, series = sorted({s for s, _ in groups}), [se for _, se in groups]
        try:
            run([(_identifier(studies, series, everything), everything)])
        except NetError as exc:
            if exc.retryable:  # the node went away: asking again series by series won't help
                raise
        if got.cancelled:
            return got
        groups = {k: [u for u in v if u not in got.files] for k, v in groups.items()}
        groups = {k: v for k, v in groups.items() if v}
        got.missing.clear()
    if groups:
        run([(_identifier([s], [se], uids), uids) for (s, se), uids in groups.items()])
    for uid in wanted - set(got.files):
        got.missing.setdefault(uid, f"{node.address} did not send it")
    return got


def _identifier(studies: list[str], series: list[str], uids: list[str]) -> Dataset:
    return _query(
        "IMAGE",
        StudyInstanceUID=_one_or_list(studies),
        SeriesInstanceUID=_one_or_list(series),
        SOPInstanceUID=_one_or_list(uids),
    )


def _get(
    node: DicomNode,
    requests: list[tuple[Dataset, list[str]]],
    on_store: Callable[[Any], int],
    got: Retrieved,
    calling_ae: str,
    timeout: float,
    cancel: threading.Event | None,
) -> None:
    roles = [build_role(kind, scp_role=True) for kind in IMAGE_STORAGE + REVIEW_OBJECTS]
    with associate(
        node,
        retrieval_contexts(),
        calling_ae=calling_ae,
        timeout=timeout,
        ext_neg=roles,
        handlers=[(evt.EVT_C_STORE, on_store)],
    ) as assoc:
        for identifier, uids in requests:
            for status, _ in assoc.send_c_get(identifier, STUDY_ROOT_GET):
                if cancel is not None and cancel.is_set():
                    got.cancelled = True
                    assoc.abort()
                    return
                if "Status" not in status:
                    # What a PACS that offers only C-MOVE does with a C-GET (Orthanc aborts).
                    lost = connection_lost(node, assoc, "sending the objects (C-GET)")
                    raise NetError(
                        f"{lost}; if it offers only C-MOVE, set the node to retrieve with "
                        "C-MOVE in the DICOM nodes",
                        retryable=lost.retryable,
                    )
                if int(status.Status) == 0x0124 or int(status.Status) & 0xFF00 == 0xA900:
                    raise NetError(
                        f"{node.address} refused C-GET (status 0x{int(status.Status):04X}); "
                        "if it offers only C-MOVE, set the node to retrieve with C-MOVE"
                    )
                _judge(node, status, uids, got)


def _move(
    node: DicomNode,
    requests: list[tuple[Dataset, list[str]]],
    on_store: Callable[[Any], int],
    got: Retrieved,
    calling_ae: str,
    port: int,
    address: str,
    timeout: float,
    cancel: threading.Event | None,
) -> None:
    # The storage node the PACS sends to: our AE title, the PACS's alone may call.
    ae = AE(ae_title=calling_ae)
    ae.require_calling_aet = [node.ae_title]
    ae.network_timeout = ae.acse_timeout = ae.dimse_timeout = timeout
    for kind in IMAGE_STORAGE + REVIEW_OBJECTS:
        ae.add_supported_context(kind, list(ACCEPTED_SYNTAXES))
    try:
        server = ae.start_server(
            (address, port),
            block=False,
            evt_handlers=[(evt.EVT_C_STORE, on_store)],
        )
    except OSError as exc:
        raise NetError(
            f"cannot listen on port {port} for the PACS to send to (C-MOVE): "
            f"{exc.strerror or exc}; another program may use it"
        ) from None
    try:
        with associate(
            node, [build_context(STUDY_ROOT_MOVE)], calling_ae=calling_ae, timeout=timeout
        ) as assoc:
            for identifier, uids in requests:
                for status, _ in assoc.send_c_move(identifier, calling_ae, STUDY_ROOT_MOVE):
                    if cancel is not None and cancel.is_set():
                        got.cancelled = True
                        assoc.abort()
                        return
                    if "Status" not in status:
                        raise connection_lost(node, assoc, "moving the objects")
                    if int(status.Status) == 0xA801:
                        raise NetError(
                            f"{node.address} does not know where to send to: add this "
                            f"workstation ({calling_ae}, port {port}) to its list of nodes"
                        )
                    _judge(node, status, uids, got)
    finally:
        if server is not None:
            server.shutdown()


def _judge(node: DicomNode, status: Dataset, uids: list[str], got: Retrieved) -> None:
    code = int(status.Status)
    if code in _PENDING or code == 0x0000:
        return
    if code in (0xA701, 0xA702):
        why = f"{node.address} is out of resources (status 0x{code:04X})"
    elif code == 0xFE00:
        why = "cancelled"
    elif code == 0xB000 or int(status.get("NumberOfFailedSuboperations", 0) or 0):
        why = f"{node.address} could not send it (status 0x{code:04X})"
    elif code & 0xF000 == 0xC000:
        why = f"{node.address} could not process the retrieve (status 0x{code:04X})"
    else:
        why = f"{node.address} refused the retrieve (status 0x{code:04X})"
    for uid in uids:
        if uid not in got.files:
            got.missing.setdefault(uid, why)
