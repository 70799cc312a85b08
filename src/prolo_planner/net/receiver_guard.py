"""Who the receiving node lets in, and how much it lets them send.

A dozen idle TCP connections, or callers it does not know, used to take every association
pynetdicom allows (ten, counted over every connection) so the listed scanner got "local limit
exceeded". Now:
- a connection that has not asked for an association within CONNECT_S is closed (ARTIM), and
  while PENDING_LIMIT such connections are open one is closed for each new one, the oldest of
  those that have sent nothing first: idle sockets cannot fill the server, and a scanner's
  connection, which asks at once, is the last to go;
- a caller not on the list is refused at its request, at once, holding nothing;
- each listed scanner has slots of its own (`associations_per_scanner`), refused beyond them
  with a transient "local limit exceeded", so one scanner (or someone using its AE title)
  cannot take another's slots; pynetdicom's own limit is set out of the way;
- an association silent for IDLE_S is dropped;
- a PDU larger than MAX_PDU_BYTES, a dataset larger than `max_dataset_mb`, or one that would
  take the inbox past `inbox_quota_mb` (or the disk below FREE_DISK_BYTES) closes the
  connection while it arrives;
- datasets stream to a file beside the inbox (its ".incoming" sibling, on the same disk) as they
  arrive (pynetdicom's chunked receive), never held in memory; a file cut off is deleted, a
  whole one renamed into the inbox.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pynetdicom import dimse_messages, evt
from pynetdicom.acse import ACSE
from pynetdicom.transport import AssociationSocket, RequestHandler, ThreadedAssociationServer

log = logging.getLogger(__name__)

#: Seconds a connection may take to ask for an association.
CONNECT_S = 5.0
#: Seconds an association may stay silent.
IDLE_S = 15.0
#: Connections at once that have not been given an association yet (a thread each).
PENDING_LIMIT = 64
#: How often pynetdicom looks at a connection that has no association yet. Its 1 ms made each
#: idle connection cost a thousand wake-ups a second; 20 ms delays a scanner's request by as
#: much, once. An association gets pynetdicom's own pace back.
PENDING_POLL_S = 0.02
#: No PDU of a sane peer comes near this: we offer 16 kB, a large association request is 20 kB.
MAX_PDU_BYTES = 1 << 20
#: The disk is never filled by the receiver past this much free space.
FREE_DISK_BYTES = 1 << 30
#: How often (in bytes received) the inbox quota and free disk are looked at during a transfer.
CHECK_EVERY_BYTES = 16 << 20


def spool_dir(inbox: Path) -> Path:
    """Where datasets arrive before they are whole: beside the inbox, so the inbox lists only
    whole files and a rename moves them in."""
    return inbox.with_name(inbox.name + ".incoming")


@dataclass(frozen=True, slots=True)
class ReceiverLimits:
    max_dataset_bytes: int
    inbox_quota_bytes: int
    per_scanner: int
    allowed: frozenset[str]


class Admission:
    """The receiver's book of connections: pending ones, associations per scanner, the inbox."""

    def __init__(self, limits: ReceiverLimits, inbox: Path) -> None:
        self.limits = limits
        self.inbox = inbox
        self.spool = spool_dir(inbox)
        self._lock = threading.Lock()
        #: Connections without an association: when they came, their socket, whether they
        #: have sent anything.
        self._pending: dict[Any, tuple[float, socket.socket, bool]] = {}
        self._per_scanner: dict[str, set[Any]] = {}
        self._inbox_bytes = 0
        self.refused = 0  # connections closed or refused by these rules, for tests and the log

    # -- connections ------------------------------------------------------------------------
    def opened(self, assoc: Any, raw: socket.socket) -> None:
        """A new connection: the oldest pending ones are closed while there are too many."""
        evicted: list[socket.socket] = []
        with self._lock:
            while len(self._pending) >= PENDING_LIMIT:
                # Silent ones first, then the oldest: (heard, came) sorts them so.
                first = min(self._pending, key=lambda a: (self._pending[a][2], self._pending[a][0]))
                evicted.append(self._pending.pop(first)[1])
            self._pending[assoc] = (time.monotonic(), raw, False)
            self.refused += len(evicted)
        for sock in evicted:
            _hang_up(sock)
        if evicted:
            log.info("receiver: closed %d idle connection(s) for a new one", len(evicted))

    def heard(self, assoc: Any) -> None:
        """The connection sent its first bytes."""
        with self._lock:
            came = self._pending.get(assoc)
            if came is not None and not came[2]:
                self._pending[assoc] = (came[0], came[1], True)

    def requested(self, assoc: Any, calling: str) -> bool:
        """The connection asks for an association: False when its scanner has no slot left.
        A caller not on the list is refused by pynetdicom itself."""
        with self._lock:
            self._pending.pop(assoc, None)
            if calling not in self.limits.allowed:
                return True
            taken = self._per_scanner.setdefault(calling, set())
            if len(taken) >= self.limits.per_scanner:
                self.refused += 1
                return False
            taken.add(assoc)
            return True

    def closed(self, assoc: Any) -> None:
        with self._lock:
            self._pending.pop(assoc, None)
            for taken in self._per_scanner.values():
                taken.discard(assoc)

    # -- sizes ------------------------------------------------------------------------------
    def measure_inbox(self) -> None:
        total = 0
        with contextlib.suppress(OSError), os.scandir(self.inbox) as it:
            for entry in it:
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
        with self._lock:
            self._inbox_bytes = total

    def stored(self, size: int) -> None:
        with self._lock:
            self._inbox_bytes += size

    def problem(self, incoming: int, *, disk: bool) -> str | None:
        """Why `incoming` more bytes may not be taken in, or None."""
        mb = 1 << 20
        if incoming > self.limits.max_dataset_bytes:
            return (
                f"a dataset larger than the {self.limits.max_dataset_bytes // mb} MB a received "
                "object may have"
            )
        with self._lock:
            used = self._inbox_bytes
        if used + incoming > self.limits.inbox_quota_bytes:
            return (
                f"the inbox is full ({used // mb} MB held, {self.limits.inbox_quota_bytes // mb}"
                " MB allowed)"
            )
        if disk:
            with contextlib.suppress(OSError):
                if shutil.disk_usage(self.inbox).free - incoming < FREE_DISK_BYTES:
                    return "the disk is nearly full"
        return None


def _hang_up(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _admission(assoc: Any) -> Admission | None:
    return getattr(getattr(assoc, "_server", None), "admission", None)


# -- pynetdicom, extended at its seams ---------------------------------------------------------
_ASSOCIATED_POLL_S = 0.001  # pynetdicom's own


class _GuardedACSE(ACSE):
    """Refuses a listed scanner beyond its slots before pynetdicom's own checks."""

    def _negotiate_as_acceptor(self) -> None:
        admission = _admission(self.assoc)
        calling = str(getattr(self.requestor.primitive, "calling_ae_title", "") or "").strip()
        if admission is not None and not admission.requested(self.assoc, calling):
            log.warning("receiver: %s asked for more than its associations at once", calling)
            self.send_reject(0x02, 0x03, 0x02)  # transient, local limit exceeded: try later
            evt.trigger(self.assoc, evt.EVT_REJECTED, {})
            self.assoc.kill()
            return
        super()._negotiate_as_acceptor()


class _GuardedSocket(AssociationSocket):
    """Counts what arrives on an association and hangs up on what is too large."""

    _incoming = 0
    _checked_at = 0

    def recv(self, nr_bytes: int) -> bytearray:
        admission = _admission(self.assoc)
        if admission is not None and nr_bytes > MAX_PDU_BYTES:
            return self._refuse(admission, f"a PDU of {nr_bytes} bytes")
        data = super().recv(nr_bytes)
        if admission is None:
            return data
        if not self.assoc.is_established:
            if data:
                admission.heard(self.assoc)
            return data
        self._incoming += len(data)
        disk = self._incoming - self._checked_at >= CHECK_EVERY_BYTES
        if disk:
            self._checked_at = self._incoming
        problem = admission.problem(self._incoming, disk=disk)
        return self._refuse(admission, problem) if problem else data

    def received_in_full(self) -> None:
        """A dataset arrived whole: the next one is counted from nothing."""
        self._incoming = self._checked_at = 0

    def _refuse(self, admission: Admission, why: str) -> bytearray:
        who = str(getattr(self.assoc.requestor, "ae_title", "") or "").strip() or "a caller"
        log.warning("receiver: connection from %s closed: %s", who, why)
        admission.refused += 1
        if self.socket is not None:
            _hang_up(self.socket)
        return bytearray()  # the transport closed: pynetdicom aborts the association


class _GuardedRequestHandler(RequestHandler):
    def _create_association(self) -> Any:
        assoc = super()._create_association()
        assoc.dul._run_loop_delay = PENDING_POLL_S
        assoc.acse = _GuardedACSE(assoc)
        assoc.dul.socket.__class__ = _GuardedSocket  # made with the client socket already
        admission = _admission(assoc)
        if admission is not None:
            admission.opened(assoc, self.request)
        return assoc


class GuardedServer(ThreadedAssociationServer):
    """pynetdicom's threaded server with an Admission deciding who comes in."""

    #: Connections the kernel holds until they are accepted: socketserver's 5 let a burst of
    #: attackers fill the queue, so the scanner's connection waited for a SYN retry (1 s, 3 s).
    request_queue_size = 128

    def __init__(self, *args: Any, admission: Admission, **kwargs: Any) -> None:
        self.admission = admission
        kwargs["request_handler"] = _GuardedRequestHandler
        super().__init__(*args, **kwargs)


def on_closed(event: Any) -> None:
    """EVT_CONN_CLOSE: hand back the slot, and delete a dataset cut off while it arrived."""
    admission = _admission(event.assoc)
    if admission is None:
        return
    admission.closed(event.assoc)
    for path in getattr(event.assoc, "_spooled", ()):
        with contextlib.suppress(OSError):
            Path(path).unlink()


def on_established(event: Any) -> None:
    event.assoc.dul._run_loop_delay = _ASSOCIATED_POLL_S
    admission = _admission(event.assoc)
    if admission is not None:
        admission.measure_inbox()  # files may have been filed away since the last association


def dataset_received(assoc: Any) -> None:
    sock = getattr(assoc.dul, "socket", None)
    if isinstance(sock, _GuardedSocket):
        sock.received_in_full()


# Where pynetdicom spools a dataset: the inbox's own folder for the receiver's associations (one
# rename away from the inbox, and counted against its disk), the temporary folder otherwise.
_NamedTemporaryFile = tempfile.NamedTemporaryFile


def _spool_file(*args: Any, **kwargs: Any) -> Any:
    assoc = getattr(threading.current_thread(), "assoc", None)  # the association's DUL thread
    admission = _admission(assoc)
    if admission is not None:
        kwargs.setdefault("dir", admission.spool)
    spooled = _NamedTemporaryFile(*args, **kwargs)
    if admission is not None and assoc is not None:
        assoc._spooled = [*getattr(assoc, "_spooled", ()), spooled.name]
    return spooled


dimse_messages.NamedTemporaryFile = _spool_file  # type: ignore[attr-defined]
