"""Editing leases: one Prolo Planner window at a time edits a session; others open it read-only.

A lease is a row naming its holder (instance id, pid, host, user) with a heartbeat time the
holder renews every few seconds. It is taken inside the caller's BEGIN IMMEDIATE transaction,
so two windows asking at once are served one after the other. A lease whose heartbeat is older
than STALE_AFTER_S, or whose holder's process on this host has died, is taken over: a crashed
window must not lock its session for good.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import uuid
from typing import Any

from prolo_planner.store.records import Lease, LeaseHolder, SessionLocked

STALE_AFTER_S = 30.0
HEARTBEAT_EVERY_S = 5.0


def new_instance_id() -> str:
    return uuid.uuid4().hex


def this_host() -> str:
    return socket.gethostname()


def _holder(row: Any) -> LeaseHolder:
    return LeaseHolder(
        session_id=row["session_id"],
        instance_id=row["instance_id"],
        pid=row["pid"],
        host=row["host"],
        user=row["user"],
        acquired_at=row["acquired_at"],
        heartbeat_at=row["heartbeat_at"],
    )


def holder(conn: sqlite3.Connection, session_id: int) -> LeaseHolder | None:
    row = conn.execute(
        "SELECT * FROM editing_leases WHERE session_id = ?", (session_id,)
    ).fetchone()
    return None if row is None else _holder(row)


def process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    except OSError:
        return True  # cannot tell: trust the heartbeat
    return True


def is_stale(h: LeaseHolder, now: float, host: str) -> bool:
    if now - h.heartbeat_at > STALE_AFTER_S:
        return True
    return h.host == host and not process_alive(h.pid)


def live_holder_other_than(
    conn: sqlite3.Connection, session_id: int, instance_id: str, now: float, host: str
) -> LeaseHolder | None:
    """The holder that keeps `instance_id` from changing the session, if any."""
    h = holder(conn, session_id)
    if h is None or h.instance_id == instance_id or is_stale(h, now, host):
        return None
    return h


def take(
    conn: sqlite3.Connection,
    session_id: int,
    instance_id: str,
    user: str,
    now: float,
    host: str,
) -> Lease:
    """Take (or renew) the lease; raises SessionLocked naming the live holder."""
    h = holder(conn, session_id)
    taken_over = None
    if h is not None and h.instance_id != instance_id:
        if not is_stale(h, now, host):
            raise SessionLocked(h.describe(host), h)
        taken_over = h
    acquired = h.acquired_at if h is not None and h.instance_id == instance_id else now
    conn.execute(
        "INSERT INTO editing_leases (session_id, instance_id, pid, host, user, acquired_at,"
        " heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET"
        " instance_id = excluded.instance_id, pid = excluded.pid, host = excluded.host,"
        " user = excluded.user, acquired_at = excluded.acquired_at,"
        " heartbeat_at = excluded.heartbeat_at",
        (session_id, instance_id, os.getpid(), host, user, acquired, now),
    )
    return Lease(session_id, instance_id, taken_over)


def heartbeat(conn: sqlite3.Connection, lease: Lease, now: float) -> bool:
    """Renew the lease; False if it was lost (taken over after this window stalled)."""
    cur = conn.execute(
        "UPDATE editing_leases SET heartbeat_at = ? WHERE session_id = ? AND instance_id = ?",
        (now, lease.session_id, lease.instance_id),
    )
    return cur.rowcount == 1


def release(conn: sqlite3.Connection, lease: Lease) -> None:
    conn.execute(
        "DELETE FROM editing_leases WHERE session_id = ? AND instance_id = ?",
        (lease.session_id, lease.instance_id),
    )


def drop(conn: sqlite3.Connection, session_id: int) -> None:
    """Remove the session's lease, whoever holds it (the session was signed)."""
    conn.execute("DELETE FROM editing_leases WHERE session_id = ?", (session_id,))


def release_all(conn: sqlite3.Connection, instance_id: str) -> None:
    conn.execute("DELETE FROM editing_leases WHERE instance_id = ?", (instance_id,))
