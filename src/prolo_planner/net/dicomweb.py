"""DICOMweb nodes: STOW-RS to send, QIDO-RS to find (and to ping), WADO-RS to retrieve, through
dicomweb-client, with basic or bearer authentication and TLS verification.

Every failure becomes a NetError in the clinic's words, saying whether trying again later may
work: the node down or busy (connection refused, a timeout, HTTP 5xx, 429) may; a certificate
that is not trusted, credentials refused (401, 403) or a request refused (other 4xx) do not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import requests
from dicomweb_client import DICOMwebClient
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from prolo_planner.net.association import NetError
from prolo_planner.net.echo import EchoResult
from prolo_planner.net.nodes import AuthKind, DicomWebNode
from prolo_planner.net.send import SendOutcome, SendProgress, SendResult, read_header

DEFAULT_TIMEOUT_S = 30.0
#: QIDO-RS attribute tags (PS3.18 F.2) as the JSON model names them.
_TAGS = {
    "StudyInstanceUID": "0020000D",
    "SeriesInstanceUID": "0020000E",
    "SOPInstanceUID": "00080018",
    "SOPClassUID": "00080016",
    "PatientID": "00100020",
    "PatientName": "00100010",
    "Modality": "00080060",
    "SeriesDescription": "0008103E",
    "Manufacturer": "00080070",
    "ContentDate": "00080023",
    "ContentTime": "00080033",
    "InstanceNumber": "00200013",
    "StudyDate": "00080020",
}


def client(node: DicomWebNode, timeout: float = DEFAULT_TIMEOUT_S) -> DICOMwebClient:
    """A dicomweb-client for the node: its authentication, TLS verification (the system's
    trusted certificates, or the node's CA bundle), and no proxy for a loopback address."""
    session = requests.Session()
    # A server may close a kept-alive connection between two requests (an idle timeout): a
    # GET on it is asked once more on a new connection. Nothing else is retried here.
    once = Retry(total=1, connect=1, read=1, status=0, other=0, allowed_methods=frozenset({"GET"}))
    session.mount("http://", HTTPAdapter(max_retries=once))
    session.mount("https://", HTTPAdapter(max_retries=once))
    if node.auth is AuthKind.BASIC:
        session.auth = (node.username, node.password)
    elif node.auth is AuthKind.BEARER:
        session.headers["Authorization"] = f"Bearer {node.token}"
    session.verify = node.ca_bundle or node.verify_tls
    if node.host in ("127.0.0.1", "localhost", "::1"):
        session.trust_env = False  # a machine-wide http_proxy must not be asked for loopback
    web = DICOMwebClient(node.url, session=session, timeout=timeout)
    # No retries inside a request (dicomweb-client's default waits up to half a minute): the
    # queue has its own back-off, and a pull says at once that the node is down.
    web.set_http_retry_params(retry=False)
    return web


def problem(node: DicomWebNode, exc: BaseException, doing: str) -> NetError:
    """What went wrong talking to the node, in words, and whether a retry may help."""
    where = node.url
    if isinstance(exc, requests.exceptions.SSLError):
        return NetError(
            f"{where}: its TLS certificate is not trusted ({_short(exc)}); give the clinic's CA "
            "certificate in the node's settings, or check the address"
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        return NetError(f"no answer from {where} while {doing}: {_short(exc)}", retryable=True)
    if isinstance(exc, requests.exceptions.Timeout):
        return NetError(f"no answer from {where} while {doing} (timed out)", retryable=True)
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        code = exc.response.status_code
        if code in (401, 403):
            return NetError(
                f"{where} refused our credentials while {doing} (HTTP {code}): check the user "
                "name and password, or the token, in the node's settings"
            )
        if code == 404:
            return NetError(f"{where}: no DICOMweb service there (HTTP 404 while {doing})")
        retry = code >= 500 or code == 429
        return NetError(f"{where} answered HTTP {code} while {doing}", retryable=retry)
    if isinstance(exc, requests.exceptions.RequestException | OSError):
        return NetError(f"{where}: {doing} failed: {_short(exc)}", retryable=True)
    return NetError(f"{where}: {doing} failed: {exc}")


def _short(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out"):
        if marker in text:
            return marker.lower()
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "certificate verify failed"
    return text if len(text) < 160 else text[:157] + "..."


def _call(node: DicomWebNode, doing: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (requests.exceptions.RequestException, OSError) as exc:
        raise problem(node, exc, doing) from None
    except ValueError as exc:  # an answer that is not DICOM JSON or multipart
        raise NetError(f"{node.url}: {doing}: the answer is not DICOMweb ({exc})") from None


# -- echo: a QIDO-RS ping -------------------------------------------------------------------------
def echo(node: DicomWebNode, *, timeout: float = 10.0) -> EchoResult:
    """Ask the node for one study (QIDO-RS): it answers, we are let in, and it speaks DICOMweb.
    Never raises for a network problem: the result says it."""
    started = time.perf_counter()
    try:
        _call(node, "searching", lambda: client(node, timeout).search_for_studies(limit=1))
    except NetError as exc:
        return EchoResult(node, False, str(exc), elapsed_ms=_ms(started))
    elapsed = _ms(started)
    return EchoResult(node, True, f"{node.url} answered in {elapsed:.0f} ms", 200, elapsed)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


# -- STOW-RS --------------------------------------------------------------------------------------
def store_files(
    node: DicomWebNode,
    paths: Iterable[Path | str],
    progress: SendProgress | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[SendResult]:
    """STOW-RS each file as it is (its own transfer syntax); one result per file, in order.
    Never raises: once the node is found down, the remaining files are not tried."""
    files = [Path(p) for p in paths]
    web = client(node, timeout)
    results: list[SendResult] = []
    down: NetError | None = None
    for path in files:
        result = _store_one(node, web, path) if down is None else None
        if result is None:
            assert down is not None
            result = SendResult(path, SendOutcome.FAILED, str(down), retryable=True)
        elif not result.ok and result.retryable and result.status is None:
            down = NetError(result.message, retryable=True)
        results.append(result)
        if progress is not None:
            progress(len(results), len(files), result)
    return results


def _store_one(node: DicomWebNode, web: DICOMwebClient, path: Path) -> SendResult:
    header = read_header(path)
    if isinstance(header, SendResult):
        return header
    try:
        ds = dcmread(path, force=True)
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        return SendResult(path, SendOutcome.FAILED, f"not a readable DICOM file ({exc})")
    syntax = str(header.syntax)
    try:
        answer = _call(node, "sending", lambda: web.store_instances([ds]))
    except NetError as exc:
        status = _http_status(str(exc))
        return SendResult(
            path, SendOutcome.FAILED, str(exc), status, header.sop_instance, syntax, exc.retryable
        )
    failed = answer.get("FailedSOPSequence") if isinstance(answer, Dataset) else None
    if failed:
        reason = int(failed[0].get("FailureReason", 0) or 0)
        return SendResult(
            path,
            SendOutcome.FAILED,
            f"{node.url} refused it (failure reason 0x{reason:04X})",
            reason,
            header.sop_instance,
            syntax,
            retryable=reason & 0xFF00 == 0xA700,
        )
    return SendResult(
        path,
        SendOutcome.SENT,
        f"stored by STOW-RS as {header.syntax.name}",
        200,
        header.sop_instance,
        syntax,
    )


def _http_status(message: str) -> int | None:
    marker = "HTTP "
    if marker in message:
        digits = message.split(marker, 1)[1][:3]
        if digits.isdigit():
            return int(digits)
    return None


# -- QIDO-RS --------------------------------------------------------------------------------------
def search_instances(
    node: DicomWebNode,
    filters: dict[str, str],
    fields: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[dict[str, str]]:
    """Instances matching `filters` (keyword -> value), each as {keyword: text} of `fields`."""
    web = client(node, timeout)
    wanted = list(dict.fromkeys([*fields, "StudyInstanceUID", "SeriesInstanceUID"]))
    found = _call(
        node,
        "searching",
        lambda: web.search_for_instances(
            search_filters=dict(filters), fields=wanted, get_remaining=True
        ),
    )
    return [{k: _value(item, k) for k in wanted} for item in found or []]


def _value(item: dict[str, Any], keyword: str) -> str:
    element = item.get(_TAGS.get(keyword, ""), {})
    values = element.get("Value") or []
    if not values:
        return ""
    first = values[0]
    if isinstance(first, dict):  # a person name: its alphabetic form
        return str(first.get("Alphabetic", ""))
    return str(first)


# -- WADO-RS --------------------------------------------------------------------------------------
def retrieve_instance(
    node: DicomWebNode,
    study: str,
    series: str,
    instance: str,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    web: DICOMwebClient | None = None,
) -> Dataset:
    """One instance as the node stores it (any transfer syntax, not transcoded)."""
    web = web or client(node, timeout)
    return _call(
        node,
        "retrieving",
        lambda: web.retrieve_instance(
            study, series, instance, media_types=(("application/dicom", "*"),)
        ),
    )
