"""Does the node answer? C-ECHO for a DIMSE node, a QIDO-RS ping for a DICOMweb node: the Test
button of a node in the preferences and `prolo-planner echo`."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pynetdicom.presentation import build_context

from prolo_planner.net.association import NetError, associate
from prolo_planner.net.nodes import DicomWebNode, Node, load_settings
from prolo_planner.net.sop_classes import VERIFICATION

DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class EchoResult:
    node: Node
    ok: bool
    #: What to show: "PACS@10.0.0.5:104 answered in 12 ms", or why it did not.
    message: str
    status: int | None = None
    elapsed_ms: float = 0.0


def echo(
    node: Node, *, calling_ae: str | None = None, timeout: float = DEFAULT_TIMEOUT_S
) -> EchoResult:
    """Send a C-ECHO to the node (a QIDO-RS ping to a DICOMweb node). Never raises for a network
    problem: the result says it."""
    if isinstance(node, DicomWebNode):
        from prolo_planner.net import dicomweb

        return dicomweb.echo(node, timeout=timeout)
    calling_ae = calling_ae or load_settings().calling_ae_title
    started = time.perf_counter()
    try:
        with associate(
            node, [build_context(VERIFICATION)], calling_ae=calling_ae, timeout=timeout
        ) as assoc:
            reply = assoc.send_c_echo()
    except NetError as exc:
        return EchoResult(node, False, str(exc), elapsed_ms=_ms(started))
    elapsed = _ms(started)
    status = int(reply.Status) if "Status" in reply else None
    if status is None:
        return EchoResult(
            node, False, f"{node.address} did not answer the echo in time", elapsed_ms=elapsed
        )
    if status != 0x0000:
        return EchoResult(
            node,
            False,
            f"{node.address} answered the echo with status 0x{status:04X}",
            status,
            elapsed,
        )
    return EchoResult(node, True, f"{node.address} answered in {elapsed:.0f} ms", status, elapsed)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
