"""C-STORE: send DICOM files to a node, in their own transfer syntax or, when refused, uncompressed.

For every kind of object and transfer syntax in the batch two presentation contexts are
proposed: the file's own syntax (JPEG Baseline for most ultrasound cine) and plain little
endian (explicit, implicit). A PACS that refuses the compressed one gets the file decompressed
by pydicom, same SOP Instance UID: a change of transfer syntax is not a new image. Each file
gets its own result; one bad file never stops the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    JPEG2000,
    JPEG2000MC,
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSNearLossless,
)
from pynetdicom.association import Association
from pynetdicom.presentation import PresentationContext, build_context

from prolo_planner.net.association import (
    MAX_CONTEXTS,
    NetError,
    associate,
    connection_lost,
    still_open,
)
from prolo_planner.net.nodes import DicomNode, DicomWebNode, Node, load_settings

DEFAULT_TIMEOUT_S = 30.0
PLAIN = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
#: Lossy syntaxes, and the method a decompressed copy must name (PS3.3 C.7.6.1.1.5).
_LOSSY_METHOD = {
    JPEGBaseline8Bit: "ISO_10918_1",
    JPEGExtended12Bit: "ISO_10918_1",
    JPEGLSNearLossless: "ISO_14495_1",
    JPEG2000: "ISO_15444_1",
    JPEG2000MC: "ISO_15444_1",
}


class SendOutcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SendResult:
    """What became of one file."""

    path: Path
    outcome: SendOutcome
    #: In words, without the file's name: "sent as JPEG Baseline (Process 1)", or why not.
    message: str
    #: The DIMSE status the node answered, None when it never got that far.
    status: int | None = None
    sop_instance_uid: str = ""
    #: The transfer syntax the file went out in.
    transfer_syntax: str = ""
    #: Trying again later may work (the node was down or busy); False for a file it refused.
    retryable: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome is SendOutcome.SENT


#: Called after each file: (files done, files in all, that file's result).
SendProgress = Callable[[int, int, SendResult], None]


@dataclass(frozen=True, slots=True)
class FileHeader:
    """What a file must say of itself before it can be sent."""

    index: int
    path: Path
    sop_class: UID
    sop_instance: str
    syntax: UID


def send_to(
    node: Node,
    paths: Iterable[Path | str],
    progress: SendProgress | None = None,
    *,
    calling_ae: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[SendResult]:
    """Send the files to either kind of node: C-STORE, or STOW-RS for a DICOMweb node. One
    result per file, in order; never raises for a network problem or a bad file."""
    if isinstance(node, DicomWebNode):
        from prolo_planner.net import dicomweb

        return dicomweb.store_files(node, paths, progress, timeout=timeout)
    return send_files(node, paths, progress, calling_ae=calling_ae, timeout=timeout)


def send_files(
    node: DicomNode,
    paths: Iterable[Path | str],
    progress: SendProgress | None = None,
    *,
    calling_ae: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[SendResult]:
    """Send the files to `node`; one result per file, in the order given. Never raises for a
    network problem or a bad file: each result says what happened."""
    calling_ae = calling_ae or load_settings().calling_ae_title
    files = [Path(p) for p in paths]
    results: dict[int, SendResult] = {}

    def report(index: int, result: SendResult) -> None:
        results[index] = result
        if progress is not None:
            progress(len(results), len(files), result)

    headers = []
    for i, path in enumerate(files):
        header = read_header(path, i)
        if isinstance(header, SendResult):
            report(i, header)
        else:
            headers.append(header)
    for batch, contexts in _batches(headers):
        try:
            with associate(node, contexts, calling_ae=calling_ae, timeout=timeout) as assoc:
                for h in batch:
                    report(h.index, _send_one(assoc, node, h))
        except NetError as exc:
            for h in batch:
                if h.index not in results:
                    report(h.index, _failed(h.path, str(exc), h, retryable=exc.retryable))
    return [results[i] for i in range(len(files))]


def _failed(
    path: Path,
    message: str,
    header: FileHeader | None = None,
    *,
    status: int | None = None,
    retryable: bool = False,
) -> SendResult:
    uid = header.sop_instance if header else ""
    return SendResult(path, SendOutcome.FAILED, message, status, uid, retryable=retryable)


def read_header(path: Path, index: int = 0) -> FileHeader | SendResult:
    """The file's SOP class, instance and transfer syntax, or a failed result saying why not."""
    too_large = _deflated_beyond_limit(path)
    if too_large:
        return _failed(path, too_large)
    try:
        ds = dcmread(path, stop_before_pixels=True, force=True)
    except FileNotFoundError:
        return _failed(path, "file not found")
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError) as exc:
        return _failed(path, f"not a readable DICOM file ({exc})")
    sop_class, sop_instance = ds.get("SOPClassUID"), ds.get("SOPInstanceUID")
    if not sop_class or not sop_instance:
        return _failed(path, "not a DICOM object (no SOP class or instance UID)")
    return FileHeader(index, path, UID(str(sop_class)), str(sop_instance), _syntax_of(ds))


def _deflated_beyond_limit(path: Path) -> str:
    """Why a deflated file is not read (pydicom inflates it whole, in memory), or ''."""
    from prolo_planner.imaging.dicom_layout import deflated_problem

    return deflated_problem(path)


def _syntax_of(ds: Dataset) -> UID:
    meta = getattr(ds, "file_meta", None)
    if meta is not None and meta.get("TransferSyntaxUID"):
        return UID(str(meta.TransferSyntaxUID))
    implicit, little = getattr(ds, "original_encoding", (True, True))
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little else ExplicitVRBigEndian


def _is_plain(syntax: UID) -> bool:
    return not syntax.is_compressed and syntax.is_little_endian


def _batches(
    headers: Sequence[FileHeader],
) -> Iterable[tuple[list[FileHeader], list[PresentationContext]]]:
    """Files grouped so that each association proposes at most MAX_CONTEXTS contexts."""
    batch: list[FileHeader] = []
    wanted: dict[tuple[str, str], PresentationContext] = {}
    for h in headers:
        need: dict[tuple[str, str], PresentationContext] = {
            (h.sop_class, "plain"): build_context(h.sop_class, list(PLAIN))
        }
        if not _is_plain(h.syntax):
            need[(h.sop_class, h.syntax)] = build_context(h.sop_class, [h.syntax])
        new = {k: v for k, v in need.items() if k not in wanted}
        if batch and len(wanted) + len(new) > MAX_CONTEXTS:
            yield batch, list(wanted.values())
            batch, wanted, new = [], {}, need
        batch.append(h)
        wanted.update(new)
    if batch:
        yield batch, list(wanted.values())


def _send_one(assoc: Association, node: DicomNode, h: FileHeader) -> SendResult:
    if not still_open(assoc):
        return _failed(h.path, str(connection_lost(node, assoc, "sending")), h, retryable=True)
    mine = [cx for cx in assoc.accepted_contexts if cx.abstract_syntax == h.sop_class]
    accepted = {UID(cx.transfer_syntax[0]) for cx in mine}
    plain = [s for s in PLAIN if s in accepted]
    as_is = h.syntax in accepted or (_is_plain(h.syntax) and plain)
    if not as_is and not plain:
        return _failed(
            h.path, f"{node.address} does not take {h.sop_class.name} objects", h, retryable=False
        )
    try:
        ds = dcmread(h.path, force=True)
        if not getattr(ds, "file_meta", None) or "TransferSyntaxUID" not in ds.file_meta:
            ds.file_meta = getattr(ds, "file_meta", None) or FileMetaDataset()
            ds.file_meta.TransferSyntaxUID = h.syntax
        if not as_is:
            to_plain(ds)
    except Exception as exc:  # a decoder's own error: the file, not the network, is at fault
        return _failed(h.path, f"cannot be decompressed to send ({exc})", h)
    sent_as = h.syntax if h.syntax in accepted else plain[0]
    try:
        reply = assoc.send_c_store(ds)
    except (ValueError, AttributeError, RuntimeError) as exc:
        if not still_open(assoc):  # the peer went away between two files
            return _failed(h.path, str(connection_lost(node, assoc, "sending")), h, retryable=True)
        return _failed(h.path, f"cannot be sent ({exc})", h)  # pydicom cannot encode it
    if "Status" not in reply:
        return _failed(h.path, str(connection_lost(node, assoc, "sending")), h, retryable=True)
    status = int(reply.Status)
    comment = str(reply.get("ErrorComment", "") or "").strip()
    return _judge(h, node, status, comment, sent_as)


def _judge(h: FileHeader, node: DicomNode, status: int, comment: str, sent_as: UID) -> SendResult:
    extra = f" ({comment})" if comment else ""
    if status == 0x0000 or status in (0xB000, 0xB006, 0xB007):
        note = "" if status == 0 else f", with warning 0x{status:04X}{extra}"
        return SendResult(
            h.path,
            SendOutcome.SENT,
            f"sent as {sent_as.name}{note}",
            status,
            h.sop_instance,
            str(sent_as),
        )
    words, retryable = status_words(status)
    return _failed(
        h.path,
        f"{node.address} refused it: {words} (status 0x{status:04X}){extra}",
        h,
        status=status,
        retryable=retryable,
    )


def status_words(status: int) -> tuple[str, bool]:
    """A C-STORE failure status in words, and whether trying again later may work."""
    if status & 0xFF00 == 0xA700:
        return "out of resources (disk full or busy)", True
    if status & 0xFF00 == 0xA900:
        return "the data set does not match its SOP class", False
    if status & 0xF000 == 0xC000:
        return "cannot understand the file", False
    known = {
        0x0110: ("processing failure", True),
        0x0111: ("it already holds this SOP instance", False),
        0x0117: ("invalid object instance", False),
        0x0122: ("this kind of object (SOP class) is not supported", False),
        0x0124: ("not authorised", False),
        0x0213: ("resource limitation", True),
        0xFE00: ("cancelled", True),
    }
    return known.get(status, ("failure", False))


def to_plain(ds: Dataset) -> Dataset:
    """Rewrite `ds` in place as Explicit VR Little Endian: decompressed (colour as RGB) or, for
    big endian, with its words swapped. The SOP Instance UID is kept."""
    syntax = UID(str(ds.file_meta.TransferSyntaxUID))
    if syntax.is_compressed:
        ds.decompress(generate_instance_uid=False)
        method = _LOSSY_METHOD.get(syntax)
        if method is not None:
            # The pixels went through a lossy codec once; a decompressed copy must still say so.
            ds.LossyImageCompression = "01"
            if "LossyImageCompressionMethod" not in ds:
                ds.LossyImageCompressionMethod = method
    elif not syntax.is_little_endian:
        _swap_big_endian_words(ds)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.set_original_encoding(False, True)  # what pynetdicom checks the file meta against
    return ds


_WORD = {"OW": "u2", "OF": "u4", "OL": "u4", "OD": "u8", "OV": "u8"}


def _swap_big_endian_words(ds: Dataset) -> None:
    """pydicom decodes numbers by VR, but keeps O* values as the file's raw bytes: those must
    be swapped by hand for little endian (explicit '>'/'<' dtypes: right on any host)."""
    for elem in ds.iterall():
        width = _WORD.get(elem.VR)
        if width is None or not isinstance(elem.value, bytes | bytearray):
            continue
        if elem.tag == 0x7FE00010 and int(ds.get("BitsAllocated", 16)) > 16:
            width = "u4"
        raw = bytes(elem.value)
        usable = len(raw) - len(raw) % int(width[1])
        elem.value = np.frombuffer(raw[:usable], ">" + width).astype("<" + width).tobytes()
