"""The receiving node (C-STORE SCP) a scanner can push to; images land in the inbox.

Off until the clinician turns it on, and then deliberately narrow: it listens on one chosen
address (this computer only, by default), accepts associations only from the calling AE titles
listed (the clinic's scanners) and only image storage classes; idle connections, unlisted
callers, oversized objects and a full inbox are dealt with by receiver_guard, so the listed
scanner always gets through. Each image streams to a file in the inbox as it arrives and is
renamed to its SOP Instance UID, for the clinician to file under a patient and session;
nothing is filed automatically.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pynetdicom import AE, evt

from prolo_planner.files import private_dir
from prolo_planner.net import receiver_guard as guard
from prolo_planner.net.inbound import write_received
from prolo_planner.net.nodes import ReceiverSettings
from prolo_planner.net.sop_classes import ACCEPTED_SYNTAXES, IMAGE_STORAGE
from prolo_planner.store.records import utc_now

log = logging.getLogger(__name__)

INBOX_DIR = "inbox"


class ReceiverError(Exception):
    """The receiving node cannot start, in words (a port in use, no scanner listed)."""


@dataclass(frozen=True, slots=True)
class ReceivedImage:
    """One image that arrived in the inbox."""

    path: Path
    calling_ae_title: str
    sop_class_uid: str
    sop_instance_uid: str
    patient_id: str
    patient_name: str
    study_instance_uid: str
    received_at: str  # UTC, ISO with Z


#: Called from the receiver's network thread, once per image written to the inbox.
OnReceived = Callable[[ReceivedImage], None]


def inbox_dir() -> Path:
    from prolo_planner.paths import data_dir

    return data_dir() / INBOX_DIR


class Receiver:
    def __init__(
        self,
        settings: ReceiverSettings,
        on_received: OnReceived | None = None,
        *,
        inbox: Path | None = None,
    ) -> None:
        self.settings = settings
        self.on_received = on_received
        self.inbox = inbox
        self._server: guard.GuardedServer | None = None
        self._lock = threading.Lock()
        self.admission: guard.Admission | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        """The port it listens on (the one the system chose, for port 0)."""
        if self._server is None:
            raise ReceiverError("the receiving node is not running")
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Start listening. ReceiverError if no scanner is listed or the port is taken."""
        with self._lock:
            if self._server is not None:
                return
            s = self.settings
            if not s.allowed_calling_ae_titles:
                # An empty list would let pynetdicom accept anyone.
                raise ReceiverError(
                    "list the AE title of at least one scanner allowed to send images"
                )
            self.inbox = private_dir(self.inbox or inbox_dir())
            spool = private_dir(guard.spool_dir(self.inbox))
            for left in spool.iterdir():  # what a crash cut off while it arrived
                with contextlib.suppress(OSError):
                    left.unlink()
            limits = guard.ReceiverLimits(
                max_dataset_bytes=s.max_dataset_mb << 20,
                inbox_quota_bytes=s.inbox_quota_mb << 20,
                per_scanner=s.associations_per_scanner,
                allowed=frozenset(s.allowed_calling_ae_titles),
            )
            self.admission = guard.Admission(limits, self.inbox)
            self.admission.measure_inbox()
            ae = AE(ae_title=s.ae_title)
            ae.require_called_aet = True
            ae.require_calling_aet = list(s.allowed_calling_ae_titles)
            ae.acse_timeout = guard.CONNECT_S  # to ask for an association after connecting
            ae.network_timeout = guard.IDLE_S
            # The admission bounds the connections; pynetdicom's own count (every connection,
            # idle ones too, against ten; and threads of closed ones until they end) would
            # refuse the scanner first.
            ae.maximum_associations = 1 << 20
            for kind in IMAGE_STORAGE:
                ae.add_supported_context(kind, list(ACCEPTED_SYNTAXES))
            try:
                server = ae.make_server(
                    (s.address, s.port),
                    evt_handlers=[
                        (evt.EVT_C_STORE, self._on_store),
                        (evt.EVT_ESTABLISHED, guard.on_established),
                        (evt.EVT_CONN_CLOSE, guard.on_closed),
                    ],
                    server_class=guard.GuardedServer,
                    admission=self.admission,
                )
            except OSError as exc:
                raise ReceiverError(
                    f"cannot listen on {s.address}:{s.port}: {exc.strerror or exc}"
                ) from None
            threading.Thread(
                target=server.serve_forever, name=f"receiver-{s.ae_title}", daemon=True
            ).start()
            ae._servers.append(server)  # what start_server does: server.shutdown() expects it
            assert isinstance(server, guard.GuardedServer)
            self._server = server
            log.info(
                "receiving node %s listening on %s:%d for %s",
                s.ae_title,
                s.address,
                self.port,
                ", ".join(s.allowed_calling_ae_titles),
            )

    def stop(self) -> None:
        with self._lock:
            if self._server is None:
                return
            self._server.shutdown()
            self._server = None
            log.info("receiving node stopped")

    def __enter__(self) -> Receiver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_store(self, event: Any) -> int:
        assert self.inbox is not None and self.admission is not None
        guard.dataset_received(event.assoc)
        size = _received_size(event)
        problem = self.admission.problem(size, disk=True)
        if problem:
            log.warning("inbox: an image was not kept: %s", problem)
            return 0xA700  # out of resources: the scanner keeps the image and may resend
        try:
            path = write_received(event, self.inbox)
        except OSError as exc:
            log.error("inbox: an image could not be written: %s", exc)
            return 0xA700
        self.admission.stored(size)
        who = _who(path)
        image = ReceivedImage(
            path=path,
            calling_ae_title=str(event.assoc.requestor.ae_title).strip(),
            sop_class_uid=str(event.request.AffectedSOPClassUID),
            sop_instance_uid=str(event.request.AffectedSOPInstanceUID),
            patient_id=who.get("PatientID", ""),
            patient_name=who.get("PatientName", ""),
            study_instance_uid=who.get("StudyInstanceUID", ""),
            received_at=utc_now(),
        )
        log.info("inbox: %s from %s", path.name, image.calling_ae_title)
        if self.on_received is not None:
            try:
                self.on_received(image)
            except (
                Exception
            ):  # the image is safe in the inbox; a listener's bug is not the sender's
                log.exception("inbox: the listener failed on %s", path.name)
        return 0x0000


def _received_size(event: Any) -> int:
    with contextlib.suppress(AttributeError, OSError):
        return Path(event.dataset_path).stat().st_size
    return 0


def _who(path: Path) -> dict[str, str]:
    """The patient and study of a received file, read from its header only (a deflated one
    beyond the read limits is not read at all); empty when it cannot be read."""
    from pydicom import dcmread

    from prolo_planner.imaging.dicom_layout import deflated_problem

    if deflated_problem(path):
        return {}
    try:
        ds = dcmread(path, stop_before_pixels=True, force=True, defer_size=1 << 16)
        return {k: str(ds.get(k, "")) for k in ("PatientID", "PatientName", "StudyInstanceUID")}
    except Exception:  # kept as sent; the clinician sees what the viewer makes of it
        return {}
