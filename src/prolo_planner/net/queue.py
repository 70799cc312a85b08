"""The send queue: files waiting for a DICOM node, kept in the session store until they are sent.

The queue is the store's, not a window's: `prolo-planner send` queues and delivers, `prolo-planner
queue` lists, retries and drops, and an open window delivers in the background what is due.
A file is queued with the node it goes to and is due at once. Sending claims the rows first
(naming the process, so two windows never send the same file twice), sends them, and records
each file's result as it comes: sent; waiting again after an exponential back-off when the node
is down or busy; or failed when the node refused the file itself, kept for the clinician to see
and retry. A claim whose process has gone (the app crashed mid-send) is an interrupted send:
taken up by the next sender at once, and open to Retry and Remove. Files from outside the data
folder are copied into its outbox when queued, so nothing is lost when the original goes away or
the app restarts before the PACS is back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from prolo_planner.files import copy_file_atomic, private_dir
from prolo_planner.net.nodes import (
    DicomNode,
    DicomWebNode,
    NetworkSettings,
    Node,
    NodeError,
    load_settings,
)
from prolo_planner.net.send import DEFAULT_TIMEOUT_S, SendResult, read_header, send_to
from prolo_planner.store import audit
from prolo_planner.store.database import Database
from prolo_planner.store.image_library import file_sha256
from prolo_planner.store.locks import new_instance_id, process_alive, this_host
from prolo_planner.store.records import AuditAction, InvalidValue, current_user, utc_now

log = logging.getLogger(__name__)

OUTBOX_DIR = "outbox"
#: A row left 'sending' by another computer (a shared store) longer than this belongs to an app
#: that crashed mid-send. On this computer the claiming process's death says so at once.
CLAIM_STALE_S = 15 * 60.0


class QueueState(StrEnum):
    WAITING = "waiting"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Wait first_s after the first failed attempt, then factor times longer each time, never
    more than max_s: a PACS down for the night is tried every half hour, not every second."""

    first_s: float = 30.0
    factor: float = 2.0
    max_s: float = 30 * 60.0

    def delay(self, attempts: int) -> float:
        return float(min(self.max_s, self.first_s * self.factor ** max(0, attempts - 1)))


@dataclass(frozen=True, slots=True)
class QueuedFile:
    id: int
    node: Node
    path: Path  # absolute: in the image library or the outbox
    name: str  # the file's name where it was queued from, for messages
    sha256: str
    sop_instance_uid: str
    session_id: int | None
    state: QueueState
    attempts: int
    next_attempt_at: float  # seconds since the epoch
    last_error: str
    last_status: int | None
    queued_at: str
    sent_at: str | None
    #: 'sending', but the process sending it has gone: the app crashed mid-send.
    interrupted: bool = False

    def describe(self) -> str:
        """One line for the queue panel, the `queue` command or the log."""
        where = f"{self.name} to {self.node}"
        if self.state is QueueState.SENT:
            return f"{where}: sent {self.sent_at}"
        if self.state is QueueState.FAILED:
            return f"{where}: failed: {self.last_error}"
        if self.interrupted:
            return f"{where}: interrupted (the app sending it stopped); sent again on the next try"
        if self.attempts and self.state is QueueState.WAITING:
            return f"{where}: waiting (tried {self.attempts}x, last: {self.last_error})"
        return f"{where}: {self.state.value}"


#: Called with each file's row as its result is recorded.
QueueProgress = Callable[[QueuedFile], None]
#: Called with each file's row and what became of it: (files done, files in all, row, result).
DeliveryProgress = Callable[[int, int, QueuedFile, SendResult], None]


class SendQueue:
    def __init__(
        self,
        db: Database,
        *,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
        who: str | None = None,
        instance_id: str | None = None,
        calling_ae: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        claim_stale_s: float = CLAIM_STALE_S,
        audit_sent: bool = True,
    ) -> None:
        self.db = db
        self.backoff = backoff or Backoff()
        self.who = who or current_user()
        self.instance_id = instance_id or new_instance_id()
        self.calling_ae = calling_ae
        self.timeout = timeout
        self.claim_stale_s = claim_stale_s
        #: Note what was sent in the audit log (False: the caller notes it in its own words).
        self.audit_sent = audit_sent
        self.host = this_host()
        self._clock = clock
        self.outbox = db.data_dir / OUTBOX_DIR
        #: The settings a DICOMweb row finds its credentials in (they are not copied into
        #: the store): read when needed, so a password changed in the preferences is used.
        self.settings: Callable[[], NetworkSettings] = load_settings

    @classmethod
    def of(cls, repo: Any, **kwargs: Any) -> SendQueue:
        """The queue of a Repository's store, logging as its user."""
        kwargs.setdefault("who", repo.who)
        kwargs.setdefault("instance_id", repo.instance_id)
        return cls(repo.db, **kwargs)

    # -- adding and looking ---------------------------------------------------------------------
    def add(
        self,
        node: Node,
        paths: Iterable[Path | str],
        *,
        session_id: int | None = None,
        names: Mapping[Path, str] | None = None,
    ) -> list[QueuedFile]:
        """Queue DICOM files for `node`, due now; `names` are what messages call them (default:
        the file's own name). All or none: a file that is not DICOM is refused (InvalidValue)
        before anything is queued."""
        files = [Path(p) for p in paths]
        names = names or {}
        headers = []
        for path in files:
            header = read_header(path)
            if isinstance(header, SendResult):
                raise InvalidValue(f"{names.get(path, path.name)}: {header.message}")
            headers.append(header)
        rows = [
            (*self._keep(path), names.get(path, path.name), h.sop_instance)
            for path, h in zip(files, headers, strict=True)
        ]
        now, stamp = self._clock(), utc_now()
        # A DICOMweb node is kept by its name and URL; its credentials stay in the settings.
        aet = node.ae_title if isinstance(node, DicomNode) else ""
        url = node.url if isinstance(node, DicomWebNode) else ""
        with self.db.write() as conn:
            ids = [
                conn.execute(
                    "INSERT INTO send_queue (node_name, ae_title, host, port, node_url,"
                    " file_path, file_name, sha256, sop_instance_uid, session_id,"
                    " next_attempt_at, queued_at, queued_by)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (node.name, aet, node.host, node.port, url, rel, name, sha, uid)
                    + (session_id, now, stamp, self.who),
                ).lastrowid
                for rel, sha, name, uid in rows
            ]
            return [self._get(conn, int(i or 0)) for i in ids]

    def files(
        self, *, session_id: int | None = None, states: Iterable[QueueState] | None = None
    ) -> list[QueuedFile]:
        """Queued files, oldest first: of one session, in some states, or all."""
        sql, params = "SELECT * FROM send_queue WHERE 1", list[Any]()
        if session_id is not None:
            sql += " AND session_id = ?"
            params.append(session_id)
        if states is not None:
            wanted = [QueueState(s).value for s in states]
            sql += f" AND state IN ({', '.join('?' * len(wanted))})"
            params += wanted
        with self.db.read() as conn:
            return [self._row(r) for r in conn.execute(sql + " ORDER BY id", params)]

    def pending_count(self) -> int:
        """Files not yet sent and not given up on."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT count(*) FROM send_queue WHERE state IN ('waiting', 'sending')"
            ).fetchone()
            return int(row[0])

    def next_due_at(self) -> float | None:
        """When the next waiting file is due (seconds since the epoch), None if none waits."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT min(next_attempt_at) FROM send_queue WHERE state = 'waiting'"
            ).fetchone()
            return None if row[0] is None else float(row[0])

    # -- sending --------------------------------------------------------------------------------
    def run_due(self, progress: QueueProgress | None = None) -> list[QueuedFile]:
        """Send every file that is due (and every interrupted send), node by node; return their
        rows afterwards."""

        def each(_done: int, _total: int, row: QueuedFile, _result: SendResult) -> None:
            if progress is not None:
                progress(row)

        return self._deliver(self._claim_due(), each)

    def send_now(
        self, ids: Iterable[int], progress: DeliveryProgress | None = None
    ) -> list[QueuedFile]:
        """Send these files now, whatever their back-off (those waiting, failed or interrupted;
        not one another process is sending, nor one sent); return their rows afterwards."""
        return self._deliver(self._claim(list(ids)), progress)

    def _deliver(
        self, claimed: list[QueuedFile], progress: DeliveryProgress | None
    ) -> list[QueuedFile]:
        by_node: dict[str, list[QueuedFile]] = {}
        for item in claimed:
            by_node.setdefault(item.node.address, []).append(item)
        done: list[QueuedFile] = []
        for items in by_node.values():
            sent: Counter[int] = Counter()
            # The same file may be queued twice for one node: results are matched in order.
            unrecorded: dict[Path, list[QueuedFile]] = {}
            for item in items:
                unrecorded.setdefault(item.path, []).append(item)

            def record(
                _done: int, _total: int, result: SendResult, unrecorded=unrecorded, sent=sent
            ) -> None:
                row = self._record(unrecorded[result.path].pop(0), result)
                done.append(row)
                if row.state is QueueState.SENT and row.session_id is not None:
                    sent[row.session_id] += 1
                if progress is not None:
                    progress(len(done), len(claimed), row, result)

            node = items[0].node
            send_to(
                node,
                [i.path for i in items],
                record,
                calling_ae=self.calling_ae,
                timeout=self.timeout,
            )
            self._log_sent(node, sent)
            self._tidy_outbox({i.path for i in items})
        return done

    def retry_now(self, ids: Iterable[int] | None = None) -> int:
        """Make failed, waiting or interrupted files due now (the clinician's Retry); returns
        how many. None: every file not sent and not being sent."""
        chosen = None if ids is None else set(ids)
        with self.db.write() as conn:
            rows = [
                r
                for r in self._unsent(conn)
                if (chosen is None or r.id in chosen) and self._idle(r)
            ]
            conn.executemany(
                "UPDATE send_queue SET state = 'waiting', next_attempt_at = ?, claimed_by = NULL,"
                " claimed_at = NULL, claimed_pid = NULL, claimed_host = NULL WHERE id = ?",
                [(self._clock(), r.id) for r in rows],
            )
        return len(rows)

    def forget(self, ids: Iterable[int]) -> int:
        """Take files off the queue (not one another process is sending right now, nor one
        sent); returns how many."""
        chosen = set(ids)
        with self.db.write() as conn:
            rows = [r for r in self._unsent(conn) if r.id in chosen and self._idle(r)]
            conn.executemany("DELETE FROM send_queue WHERE id = ?", [(r.id,) for r in rows])
        self._tidy_outbox({r.path for r in rows})
        return len(rows)

    def _unsent(self, conn: sqlite3.Connection) -> list[QueuedFile]:
        return [
            self._row(r)
            for r in conn.execute("SELECT * FROM send_queue WHERE state != 'sent' ORDER BY id")
        ]

    @staticmethod
    def _idle(row: QueuedFile) -> bool:
        """Not being sent by a live process at this moment."""
        return row.state is not QueueState.SENDING or row.interrupted

    # -- inside ---------------------------------------------------------------------------------
    def _keep(self, path: Path) -> tuple[str, str]:
        """Where the queue finds the file again: its place in the data folder, relative; a
        file from elsewhere is first copied into the outbox, named by its content."""
        sha = file_sha256(path)
        data = self.db.data_dir.resolve()
        with contextlib.suppress(ValueError):
            return path.resolve().relative_to(data).as_posix(), sha
        target = self.outbox / sha[:2] / f"{sha[2:]}.dcm"
        if not target.is_file():
            private_dir(target.parent)
            copy_file_atomic(path, target)
        return target.relative_to(self.db.data_dir).as_posix(), sha

    def _claim_due(self) -> list[QueuedFile]:
        now = self._clock()
        with self.db.write() as conn:
            due = conn.execute(
                "SELECT id FROM send_queue WHERE state = 'waiting' AND next_attempt_at <= ?"
                " ORDER BY id",
                (now,),
            ).fetchall()
            interrupted = [
                r.id
                for r in map(
                    self._row,
                    conn.execute(
                        "SELECT * FROM send_queue WHERE state = ?", (QueueState.SENDING.value,)
                    ),
                )
                if r.interrupted
            ]
            return self._take(conn, sorted({d[0] for d in due} | set(interrupted)))

    def _claim(self, ids: list[int]) -> list[QueuedFile]:
        with self.db.write() as conn:
            chosen = set(ids)
            rows = [r for r in self._unsent(conn) if r.id in chosen and self._idle(r)]
            return self._take(conn, [r.id for r in rows])

    def _take(self, conn: sqlite3.Connection, ids: list[int]) -> list[QueuedFile]:
        """Claim the rows for this process (inside the caller's write transaction)."""
        conn.executemany(
            "UPDATE send_queue SET state = 'sending', claimed_by = ?, claimed_at = ?,"
            " claimed_pid = ?, claimed_host = ? WHERE id = ?",
            [(self.instance_id, self._clock(), os.getpid(), self.host, i) for i in ids],
        )
        return [self._get(conn, i) for i in ids]

    def _record(self, item: QueuedFile, result: SendResult) -> QueuedFile:
        now = self._clock()
        attempts = item.attempts + 1
        if result.ok:
            state, due, error = QueueState.SENT, item.next_attempt_at, ""
        elif result.retryable:
            state, due, error = (
                QueueState.WAITING,
                now + self.backoff.delay(attempts),
                result.message,
            )
        else:
            state, due, error = QueueState.FAILED, item.next_attempt_at, result.message
        with self.db.write() as conn:
            conn.execute(
                "UPDATE send_queue SET state = ?, attempts = ?, next_attempt_at = ?,"
                " last_error = ?, last_status = ?, sent_at = ?, claimed_by = NULL,"
                " claimed_at = NULL, claimed_pid = NULL, claimed_host = NULL"
                " WHERE id = ? AND claimed_by = ?",
                (
                    state.value,
                    attempts,
                    due,
                    error,
                    result.status,
                    utc_now() if result.ok else None,
                    item.id,
                    self.instance_id,
                ),
            )
            row = self._get(conn, item.id)
        if result.ok:
            log.info("sent %s to %s", item.name, item.node)
        else:
            log.warning("not sent %s to %s: %s", item.name, item.node, result.message)
        return row

    def _log_sent(self, node: Node, sent: Counter[int]) -> None:
        if not sent or not self.audit_sent:
            return
        with self.db.write() as conn:
            for session_id, count in sent.items():
                patient = conn.execute(
                    "SELECT patient_id FROM sessions WHERE id = ?", (session_id,)
                ).fetchone()
                audit.append(
                    conn,
                    utc_now(),
                    self.who,
                    AuditAction.EXPORTED,
                    session_id=session_id,
                    patient_id=patient[0] if patient else None,
                    detail=f"sent {count} file{'s' if count != 1 else ''} to {node}",
                )

    def _tidy_outbox(self, paths: set[Path]) -> None:
        """Delete outbox copies no unsent row still needs (library files are never touched)."""
        for path in paths:
            if self.outbox not in path.parents:
                continue
            rel = path.relative_to(self.db.data_dir).as_posix()
            with self.db.read() as conn:
                needed = conn.execute(
                    "SELECT 1 FROM send_queue WHERE file_path = ? AND state != 'sent' LIMIT 1",
                    (rel,),
                ).fetchone()
            if needed is None:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def _get(self, conn: sqlite3.Connection, row_id: int) -> QueuedFile:
        return self._row(
            conn.execute("SELECT * FROM send_queue WHERE id = ?", (row_id,)).fetchone()
        )

    def _interrupted(self, r: Any) -> bool:
        """A 'sending' row whose sender is gone: its process ended on this computer, or (on a
        shared store) it has said nothing for CLAIM_STALE_S."""
        if r["state"] != QueueState.SENDING.value or r["claimed_by"] == self.instance_id:
            return False
        pid, host = r["claimed_pid"], r["claimed_host"]
        if pid is not None and host == self.host:
            return not process_alive(int(pid))
        return r["claimed_at"] is None or r["claimed_at"] < self._clock() - self.claim_stale_s

    def _node(self, r: Any) -> Node:
        name = r["node_name"] or "PACS"
        if not r["node_url"]:
            return DicomNode(name, r["ae_title"], r["host"], r["port"])
        try:
            settings = self.settings()
            configured = settings.node_with_url(r["node_url"])
            if configured is None:
                named = settings.node(name)
                configured = named if isinstance(named, DicomWebNode) else None
        except NodeError:
            configured = None
        # Renamed or removed in the preferences: still sent, without credentials.
        return configured or DicomWebNode(name, r["node_url"])

    def _row(self, r: Any) -> QueuedFile:
        return QueuedFile(
            id=r["id"],
            node=self._node(r),
            path=self.db.data_dir / Path(r["file_path"]),
            name=r["file_name"] or Path(r["file_path"]).name,
            sha256=r["sha256"],
            sop_instance_uid=r["sop_instance_uid"],
            session_id=r["session_id"],
            state=QueueState(r["state"]),
            attempts=r["attempts"],
            next_attempt_at=r["next_attempt_at"],
            last_error=r["last_error"],
            last_status=r["last_status"],
            queued_at=r["queued_at"],
            sent_at=r["sent_at"],
            interrupted=self._interrupted(r),
        )
