"""The store's SQLite file: where it lives, how it is opened, and its transactions.

One file, data folder / prolo-planner.sqlite3, in WAL mode so a reader never waits for the
autosave and two windows can share it. Write transactions start with BEGIN IMMEDIATE: they take
the write lock up front, so two writers queue (busy_timeout) instead of failing when one tries
to upgrade a read lock. synchronous=NORMAL survives an app crash, the risk autosave is about;
signing asks for FULL, so a signature also survives a power cut.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from prolo_planner.files import PRIVATE_FILE_MODE, private_dir
from prolo_planner.store import migrations
from prolo_planner.store.records import StoreError

log = logging.getLogger(__name__)

DB_NAME = "prolo-planner.sqlite3"
BUSY_TIMEOUT_MS = 10_000


def _private_file(path: Path) -> None:
    fd = os.open(path, os.O_CREAT | os.O_RDWR, PRIVATE_FILE_MODE)
    os.close(fd)
    os.chmod(path, PRIVATE_FILE_MODE)


def resolve_data_dir(data_dir: Path | str | None) -> Path:
    if data_dir is not None:
        return private_dir(Path(data_dir).expanduser())
    from prolo_planner.paths import data_dir as default_data_dir

    return default_data_dir()


class Database:
    """One connection to the store, shared by the threads of one app instance.

    `read()` gives a consistent snapshot; `write()` one atomic change. Either may be nested in a
    `write()` of the same thread and then joins it.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, data_dir: Path) -> None:
        self._conn = conn
        self.path = path
        self.data_dir = data_dir
        self._lock = threading.RLock()
        self._depth = 0
        self._writing = False
        self.closed = False
        #: Whether this connection ever wrote: one that only read closes without writing, so a
        #: read-only command never waits for (or fails on) another process's write.
        self.wrote = False

    @classmethod
    def open(cls, data_dir: Path | str | None = None, *, migrate: bool = True) -> Database:
        """Open (creating if needed) the store of `data_dir` (default: the app's data folder)
        and bring its schema up to date. Raises NewerStoreError for a newer store."""
        folder = resolve_data_dir(data_dir)
        path = folder / DB_NAME
        try:
            _private_file(path)
            conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the session store {path}: {exc}") from None
        try:
            _configure(conn, path)
            if migrate:
                migrations.migrate(conn, backup_dir=folder / "backups")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{path} is not a readable session store: {exc}") from None
        except BaseException:
            conn.close()
            raise
        for suffix in ("-wal", "-shm"):
            # SQLite gives these its database file's mode; make sure of it all the same.
            with contextlib.suppress(OSError):
                os.chmod(f"{path}{suffix}", PRIVATE_FILE_MODE)
        return cls(conn, path, folder)

    # -- transactions ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN")
            self._depth = 1
            try:
                yield self._conn
            finally:
                self._depth = 0
                if self._conn.in_transaction:  # a read-only transaction: commit just ends it
                    self._conn.execute("COMMIT")

    @contextlib.contextmanager
    def write(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One atomic change. `durable` syncs the commit to disk (synchronous=FULL) so it also
        survives a power cut; used for signatures."""
        with self._lock:
            if self._depth:
                if not self._writing:
                    raise RuntimeError("a write cannot start inside a read transaction")
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            if durable:
                self._conn.execute("PRAGMA synchronous = FULL")
            self.wrote = True
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._depth, self._writing = 1, True
                try:
                    yield self._conn
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:  # also when COMMIT itself failed
                        self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise StoreError(
                        f"the session store is busy in another Prolo Planner window: {exc}"
                    ) from exc
                raise
            finally:
                self._depth, self._writing = 0, False
                if durable:
                    self._conn.execute("PRAGMA synchronous = NORMAL")

    # -- maintenance ----------------------------------------------------------------------------
    @property
    def version(self) -> int:
        with self._lock:
            return migrations.store_version(self._conn)

    def integrity_check(self) -> list[str]:
        """'ok' alone when the file is sound, else SQLite's list of problems."""
        with self._lock:
            return [row[0] for row in self._conn.execute("PRAGMA integrity_check")]

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file (on close, and for backups)."""
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            if self.wrote:  # optimize may write statistics: only for a connection that wrote
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("PRAGMA optimize")
            self._conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _configure(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    # Before anything writes to the file: a newer store is refused untouched.
    migrations.check_not_newer(conn)
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        # Network folders cannot share WAL memory: still safe, only readers may wait.
        log.warning("%s: journal mode %s, not WAL (a network folder?)", path, mode)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.row_factory = sqlite3.Row
