"""One way to find and retrieve, whichever kind of node: DIMSE (C-FIND, C-GET or C-MOVE) or
DICOMweb (QIDO-RS, WADO-RS)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from prolo_planner.files import private_dir, write_bytes_atomic
from prolo_planner.net import dicomweb
from prolo_planner.net.association import NetError
from prolo_planner.net.inbound import file_name_for
from prolo_planner.net.nodes import DicomNode, DicomWebNode, NetworkSettings, Node
from prolo_planner.net.retrieve import (
    SR_CLASSES,
    InstanceRef,
    ReportFound,
    Retrieved,
    RetrieveProgress,
    find_reports,
    retrieve,
)

DEFAULT_TIMEOUT_S = 60.0


def find(
    node: Node, patient_id: str, settings: NetworkSettings, timeout: float = DEFAULT_TIMEOUT_S
) -> list[ReportFound]:
    """The patient's structured reports on the node, oldest first."""
    if isinstance(node, DicomWebNode):
        found = _find_web(node, patient_id, timeout)
    else:
        found = find_reports(
            node, patient_id, calling_ae=settings.calling_ae_title, timeout=timeout
        )
    return sorted(found, key=lambda r: (r.content_date, r.content_time, r.ref.sop_instance_uid))


def _find_web(node: DicomWebNode, patient_id: str, timeout: float) -> list[ReportFound]:
    fields = [
        "SOPInstanceUID", "SOPClassUID", "PatientID", "PatientName", "ContentDate",
        "ContentTime", "InstanceNumber", "SeriesDescription", "Manufacturer", "Modality",
    ]  # fmt: skip
    rows = dicomweb.search_instances(
        node, {"PatientID": patient_id, "Modality": "SR"}, fields, timeout=timeout
    )
    found = []
    for row in rows:
        if row.get("SOPClassUID") not in ("", *SR_CLASSES):
            continue
        if row.get("PatientID") not in ("", patient_id):  # a node that ignored the key
            continue
        number = row.get("InstanceNumber", "")
        found.append(
            ReportFound(
                ref=InstanceRef(
                    row["StudyInstanceUID"], row["SeriesInstanceUID"], row["SOPInstanceUID"]
                ),
                sop_class_uid=row["SOPClassUID"],
                patient_id=row.get("PatientID", "") or patient_id,
                patient_name=row.get("PatientName", ""),
                content_date=row.get("ContentDate", ""),
                content_time=row.get("ContentTime", ""),
                instance_number=int(number) if number.isdigit() else None,
                series_description=row.get("SeriesDescription", ""),
                manufacturer=row.get("Manufacturer", ""),
            )
        )
    return found


def fetch(
    node: Node,
    refs: Sequence[InstanceRef],
    folder: Path,
    settings: NetworkSettings,
    *,
    progress: RetrieveProgress | None = None,
    cancel: threading.Event | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Retrieved:
    """Retrieve the instances into `folder`. Raises NetError when the node cannot be reached
    at all; what did not arrive is in `missing`, by SOP Instance UID, with the reason."""
    if not refs:
        return Retrieved()
    private_dir(folder)
    if isinstance(node, DicomWebNode):
        return _fetch_web(node, refs, folder, progress, cancel, timeout)
    assert isinstance(node, DicomNode)
    return retrieve(
        node,
        refs,
        folder,
        calling_ae=settings.calling_ae_title,
        move_port=settings.retrieve_port,
        move_address=settings.retrieve_address,
        timeout=timeout,
        progress=progress,
        cancel=cancel,
    )


def _fetch_web(
    node: DicomWebNode,
    refs: Sequence[InstanceRef],
    folder: Path,
    progress: RetrieveProgress | None,
    cancel: threading.Event | None,
    timeout: float,
) -> Retrieved:
    from prolo_planner.export.dicom_writing import to_bytes

    got = Retrieved()
    web = dicomweb.client(node, timeout)
    for n, ref in enumerate(refs, start=1):
        if cancel is not None and cancel.is_set():
            got.cancelled = True
            break
        try:
            ds = dicomweb.retrieve_instance(
                node,
                ref.study_instance_uid,
                ref.series_instance_uid,
                ref.sop_instance_uid,
                web=web,
            )
        except NetError as exc:
            if exc.retryable and not got.files and n == 1:
                raise  # the node is not there at all: nothing to report per object
            got.missing[ref.sop_instance_uid] = str(exc)
            continue
        try:
            data = to_bytes(ds)
        except (ValueError, TypeError, AttributeError) as exc:
            got.missing[ref.sop_instance_uid] = f"not a DICOM object that can be kept ({exc})"
            continue
        got.files[ref.sop_instance_uid] = write_bytes_atomic(
            folder / file_name_for(ref.sop_instance_uid), data
        )
        if progress is not None:
            progress(len(got.files), len(refs))
    for ref in refs:
        if ref.sop_instance_uid not in got.files and not got.cancelled:
            got.missing.setdefault(ref.sop_instance_uid, f"{node.url} did not send it")
    return got
