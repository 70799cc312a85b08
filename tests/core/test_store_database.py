"""The store's file: where it lives, its pragmas, its permissions, and what it refuses."""

from __future__ import annotations

import sqlite3
import stat

import pytest

from prolo_planner.store import migrations
from prolo_planner.store.database import DB_NAME, Database
from prolo_planner.store.records import NewerStoreError, StoreError
from prolo_planner.store.repository import Repository


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_default_location_is_the_data_folder_of_prolo_planner_home(private_home):
    with Database.open() as db:
        assert db.path == private_home / "data" / DB_NAME
        assert db.path.is_file()


def test_pragmas_wal_foreign_keys_busy_timeout_and_synchronous(tmp_path):
    with Database.open(tmp_path / "store") as db, db.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST


def test_signing_commits_with_synchronous_full_and_returns_to_normal(tmp_path):
    db = Database.open(tmp_path)
    seen = []
    with db.write(durable=True) as conn:
        seen.append(conn.execute("PRAGMA synchronous").fetchone()[0])
    with db.write() as conn:
        seen.append(conn.execute("PRAGMA synchronous").fetchone()[0])
    db.close()
    assert seen == [2, 1]  # FULL, then NORMAL


def test_folder_and_every_file_are_private(tmp_path):
    folder = tmp_path / "new" / "store"
    repo = Repository.open(folder)
    patient = repo.create_patient("P-1", "PRIVATE^Pat")
    repo.create_session(patient.id)
    assert _mode(folder) == 0o700
    db = folder / DB_NAME
    for path in (db, db.with_name(DB_NAME + "-wal"), db.with_name(DB_NAME + "-shm")):
        assert path.exists(), path
        assert _mode(path) == 0o600, path
    repo.close()


def test_an_existing_store_with_loose_permissions_is_tightened(tmp_path):
    Database.open(tmp_path).close()
    (tmp_path / DB_NAME).chmod(0o644)
    tmp_path.chmod(0o755)
    Database.open(tmp_path).close()
    assert _mode(tmp_path / DB_NAME) == 0o600
    assert _mode(tmp_path) == 0o700


def test_a_store_from_a_newer_version_is_refused_untouched(tmp_path):
    path = tmp_path / DB_NAME
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 3}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(NewerStoreError) as caught:
        Database.open(tmp_path)
    message = str(caught.value)
    assert f"store version {migrations.LATEST + 3}" in message
    assert f"reads up to {migrations.LATEST}" in message
    assert "newer Prolo Planner" in message
    assert path.read_bytes() == before
    assert not (tmp_path / "backups").exists()


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"this is a text file, not SQLite" * 100)
    with pytest.raises(StoreError, match="not a readable session store"):
        Database.open(tmp_path)


def test_a_failed_write_rolls_back_entirely(tmp_path):
    repo = Repository.open(tmp_path)
    repo.create_patient("A-1", "ONE^Ann")
    with pytest.raises(RuntimeError), repo.db.write() as conn:
        conn.execute("INSERT INTO patients (mrn, name, created_at) VALUES ('A-2', 'TWO^Bo', 'now')")
        raise RuntimeError("power cut")
    assert [p.mrn for p in repo.search_patients("")] == ["A-1"]
    repo.close()


def test_nested_writes_join_the_outer_transaction_and_reads_cannot_write(tmp_path):
    db = Database.open(tmp_path)
    with pytest.raises(RuntimeError, match="inside a read"), db.read(), db.write():
        pass
    with db.write() as outer:
        outer.execute("CREATE TABLE t (x)")
        with db.write() as inner:
            inner.execute("INSERT INTO t VALUES (1)")
        with db.read() as reader:
            assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    assert db.integrity_check() == ["ok"]
    db.close()
