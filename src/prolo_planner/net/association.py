"""Opening a DICOM association to a node, and saying in words why one could not be opened.

pynetdicom only logs why a connection failed; the clinician needs the reason on screen ("no
answer from PACS@10.0.0.5:104: connection refused"). A refused association carries its reason
in the A-ASSOCIATE-RJ, caught here as it arrives; a connection that never opened is probed once
more with a plain socket, only after the failure, to learn what the operating system says.
"""

from __future__ import annotations

import contextlib
import socket
import time
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.presentation import PresentationContext

from prolo_planner.net.nodes import DicomNode

#: A-ASSOCIATE-RJ reasons (PS3.8 9.3.4), by (source, reason), in the clinic's words.
_REJECT_REASONS = {
    (1, 1): "no reason given",
    (1, 2): "application context not supported",
    (1, 3): "our AE title (the calling AE title) is not on its list",
    (1, 7): "the called AE title is not the PACS's own",
    (2, 1): "no reason given",
    (2, 2): "protocol version not supported",
    (3, 1): "temporary congestion",
    (3, 2): "local limit exceeded",
}
MAX_CONTEXTS = 128  # PS3.8: presentation context IDs are odd numbers 1..255
#: Associations the peer aborted (pynetdicom's is_aborted is also true when we gave up).
_peer_aborted: weakref.WeakKeyDictionary[Association, bool] = weakref.WeakKeyDictionary()


class NetError(Exception):
    """A DICOM network operation that failed, in words the clinician can act on.
    `retryable` says whether trying again later may work (the PACS down or busy)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class AssociationError(NetError):
    """No association with the node: nothing listening, refused, or aborted."""


def _connection_problem(host: str, port: int, timeout: float) -> str:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return "the connection was closed before the PACS answered"
    except ConnectionRefusedError:
        return "connection refused"
    except TimeoutError:
        return f"no response within {timeout:g} s"
    except socket.gaierror:
        return f"unknown host {host!r}"
    except OSError as exc:
        return (exc.strerror or str(exc)).lower()


def _reject_reason(result: int, source: int, diagnostic: int) -> str:
    words = _REJECT_REASONS.get((source, diagnostic), f"reason {source}/{diagnostic}")
    kind = "for now" if result == 0x02 else "permanently"
    return f"{words} ({kind})"


def new_ae(calling_ae: str, timeout: float) -> AE:
    ae = AE(ae_title=calling_ae)
    ae.connection_timeout = timeout
    ae.acse_timeout = timeout
    ae.dimse_timeout = timeout
    ae.network_timeout = timeout
    return ae


@contextlib.contextmanager
def associate(
    node: DicomNode,
    contexts: Sequence[PresentationContext],
    *,
    calling_ae: str,
    timeout: float,
    ext_neg: list[Any] | None = None,
    handlers: list[Any] | None = None,
) -> Iterator[Association]:
    """An established association with `node`, released when the block ends.

    Raises AssociationError when there is none, its message naming the node and the reason.
    """
    if len(contexts) > MAX_CONTEXTS:
        raise ValueError(f"{len(contexts)} presentation contexts; at most {MAX_CONTEXTS}")
    ae = new_ae(calling_ae, timeout)
    ae.requested_contexts = list(contexts)
    seen: dict[str, Any] = {}

    def on_acse(event: Any) -> None:
        primitive = event.primitive
        if type(primitive).__name__ == "A_ASSOCIATE" and primitive.result == 0x00:
            seen["accepted"] = True

    def on_pdu(event: Any) -> None:
        # Read off the PDUs as they arrive: a peer that rejects and hangs up at once may close
        # the connection before pynetdicom's ACSE looks at the rejection, and an abort can
        # arrive in the middle of an operation.
        pdu, kind = event.pdu, type(event.pdu).__name__
        if kind == "A_ASSOCIATE_RJ":
            seen["rejected"] = (pdu.result, pdu.source, pdu.reason_diagnostic)
        elif kind == "A_ABORT_RQ":
            seen["aborted"] = True
            _peer_aborted[event.assoc] = True

    def on_open(event: Any) -> None:
        seen["connected"] = True

    bound = [
        (evt.EVT_ACSE_RECV, on_acse),
        (evt.EVT_PDU_RECV, on_pdu),
        (evt.EVT_CONN_OPEN, on_open),
        *(handlers or []),
    ]
    started = time.monotonic()
    try:
        assoc = ae.associate(
            node.host, node.port, ae_title=node.ae_title, ext_neg=ext_neg, evt_handlers=bound
        )
    except OSError as exc:  # pynetdicom looks the host up before connecting
        ae.shutdown()
        problem = f"unknown host {node.host!r}" if isinstance(exc, socket.gaierror) else exc
        raise AssociationError(
            f"no answer from {node.address}: {problem}", retryable=True
        ) from None
    if not assoc.is_established:
        ae.shutdown()
        raise _failure(node, assoc, seen, timeout, time.monotonic() - started)
    try:
        yield assoc
    finally:
        if assoc.is_established:
            assoc.release()
        ae.shutdown()


def _failure(
    node: DicomNode, assoc: Association, seen: dict[str, Any], timeout: float, waited: float
) -> NetError:
    rejected = seen.get("rejected")
    if rejected is not None:
        return AssociationError(
            f"{node.address} refused the association: {_reject_reason(*rejected)}",
            retryable=rejected[0] == 0x02,
        )
    if seen.get("accepted") and not assoc.accepted_contexts:
        kinds = sorted(
            {str(getattr(cx.abstract_syntax, "name", "")) for cx in assoc.rejected_contexts}
        )
        return AssociationError(f"{node.address} does not take {' or '.join(kinds)} objects")
    if not seen.get("connected"):
        problem = _connection_problem(node.host, node.port, timeout)
        return AssociationError(f"no answer from {node.address}: {problem}", retryable=True)
    if seen.get("aborted"):
        return AssociationError(f"{node.address} aborted the association", retryable=True)
    if waited < timeout * 0.9:
        return AssociationError(
            f"no answer from {node.address}: it closed the connection without answering",
            retryable=True,
        )
    return AssociationError(
        f"no answer from {node.address}: connected, but no association within {timeout:g} s",
        retryable=True,
    )


def still_open(assoc: Association) -> bool:
    """Whether the association can carry another request: established, and not aborted by the
    peer (noticed here the moment the abort arrives, before pynetdicom's own flag changes)."""
    return bool(assoc.is_established) and not _peer_aborted.get(assoc)


def connection_lost(node: DicomNode, assoc: Association, doing: str) -> NetError:
    """Why an operation got no reply: the peer broke the association off, or fell silent."""
    if _peer_aborted.get(assoc):
        return NetError(f"{node.address} broke off the association while {doing}", retryable=True)
    return NetError(
        f"{node.address} stopped answering while {doing} (connection lost or no reply in time)",
        retryable=True,
    )
