"""Two windows on one store, and a window killed mid-autosave: real processes, real SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from prolo_planner.store import locks
from prolo_planner.store.records import SessionLocked
from prolo_planner.store.repository import Repository
from tests.core.store_support import REPO_ROOT, make_plan, revision_plan, worker_command


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        worker_command(*args),
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _expect_line(proc: subprocess.Popen, expected: str) -> None:
    line = proc.stdout.readline().strip()
    assert line == expected, f"worker said {line!r}; stderr: {proc.stderr.read()}"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream:
            stream.close()


@pytest.fixture
def store(tmp_path):
    repo = Repository.open(tmp_path / "store", who="parent")
    patient = repo.create_patient("SHARED-1", "SHARED^Sam")
    session = repo.create_session(patient.id)
    yield repo, session.id
    repo.close()


def test_two_processes_write_concurrently_and_respect_the_lease(store):
    repo, shared = store
    holder = _start("hold", str(repo.data_dir), str(shared))
    writers = []
    try:
        _expect_line(holder, "held")
        writers = [
            _start("writer", str(repo.data_dir), name, "25", str(shared))
            for name in ("alpha", "beta")
        ]
        # This process writes as well while the two workers run.
        mine = repo.create_session(repo.patient_by_mrn("SHARED-1").id)
        for rev in range(40):
            repo.save_plan(mine.id, make_plan(title=f"parent {rev}", sites=rev % 5))
        reports = []
        for w in writers:
            out, err = w.communicate(timeout=60)
            assert w.returncode == 0, err
            reports.append(json.loads(out))
    finally:
        for w in writers:
            _stop(w)
        holder.stdin.write("release\n")
        holder.stdin.flush()
        _expect_line(holder, "released")
        _stop(holder)
    # Every attempt on the leased session was refused; nothing of it was written.
    assert reports == [{"refused": 25}, {"refused": 25}]
    assert repo.plan_revision(shared) == 0
    # No write was lost.
    assert repo.db.integrity_check() == ["ok"]
    assert len(repo.search_patients("", limit=1000)) == 51
    for name in ("alpha", "beta"):
        found = repo.search_patients(name, limit=1000)
        assert len(found) == 25
        for patient in found:
            (row,) = repo.sessions_of(patient.id)
            i = int(patient.mrn.split("-")[1])
            assert repo.plan_revision(row.session.id) == 3
            assert repo.load_plan(row.session.id).title == f"{name} {i} rev 2"
            assert row.session.pain_before == i % 11
    assert repo.load_plan(mine.id).title == "parent 39"
    # Released: this window may edit it now.
    assert repo.take_lease(shared).taken_over_from is None


def test_a_killed_window_leaves_a_lease_that_is_taken_over(store):
    repo, shared = store
    holder = _start("hold", str(repo.data_dir), str(shared))
    try:
        _expect_line(holder, "held")
        with pytest.raises(SessionLocked) as caught:
            repo.take_lease(shared)
        since = time.strftime("%H:%M", time.localtime(caught.value.holder.acquired_at))
        assert caught.value.reason == (
            f"open for editing in another Prolo Planner window since {since} "
            f"(pid {holder.pid}, user holder)"
        )
        opened = repo.open_session(shared)
        assert opened.read_only and opened.read_only_reason == caught.value.reason
        with pytest.raises(SessionLocked, match=f"pid {holder.pid}"):
            repo.save_plan(shared, make_plan())
        with pytest.raises(SessionLocked):
            repo.update_session(shared, notes="mine")
        with pytest.raises(SessionLocked):
            repo.sign(shared)
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        _stop(holder)
    # The holder is dead, its heartbeat still fresh: taken over at once, by pid.
    lease = repo.take_lease(shared)
    assert lease.taken_over_from is not None and lease.taken_over_from.pid == holder.pid
    repo.save_plan(shared, make_plan(title="after the crash"))
    assert repo.load_plan(shared).title == "after the crash"


def test_a_lease_without_heartbeat_goes_stale(tmp_path):
    # Two windows of this process (alive, so only the heartbeat can free the lease).
    now = [1_000_000.0]
    folder = tmp_path / "store"
    a = Repository.open(folder, who="a", clock=lambda: now[0])
    b = Repository.open(folder, who="b", clock=lambda: now[0])
    session = a.create_session(a.create_patient("P-1", "TEST^Pat").id)
    lease = a.take_lease(session.id)
    assert a.take_lease(session.id).taken_over_from is None  # renewing is fine
    now[0] += locks.STALE_AFTER_S - 1
    assert a.heartbeat(lease)
    now[0] += locks.STALE_AFTER_S - 1
    with pytest.raises(SessionLocked):
        b.take_lease(session.id)
    assert b.read_only_reason(session.id).startswith("open for editing in another")
    now[0] += 2  # no heartbeat for longer than STALE_AFTER_S
    taken = b.take_lease(session.id)
    assert taken.taken_over_from.instance_id == a.instance_id
    assert not a.heartbeat(lease)  # a learns it lost the lease
    with pytest.raises(SessionLocked):
        a.save_plan(session.id, make_plan())
    b.close()  # closing hands the lease back
    assert a.take_lease(session.id).taken_over_from is None
    a.close()


@pytest.mark.parametrize("kill_after", [5, 23, 41])
def test_sigkill_during_autosave_keeps_the_last_committed_plan(tmp_path, kill_after):
    repo = Repository.open(tmp_path / "store")
    session = repo.create_session(repo.create_patient("P-1", "TEST^Pat").id)
    repo.close()
    worker = _start("autosave", str(repo.data_dir), str(session.id))
    last = 0
    try:
        while last < kill_after:
            line = worker.stdout.readline()
            assert line, f"the worker stopped: {worker.stderr.read()}"
            last = int(line)
        worker.send_signal(signal.SIGKILL)  # mid-save: it never waits between saves
        worker.wait(timeout=10)
    finally:
        _stop(worker)
    assert worker.returncode == -signal.SIGKILL
    with Repository.open(repo.data_dir) as after:
        assert after.db.integrity_check() == ["ok"]
        revision = after.plan_revision(session.id)
        # Every save printed was committed; at most one more got in before the kill.
        assert last <= revision <= last + 1
        plan = after.load_plan(session.id)
        assert plan == revision_plan(revision)
        assert plan.annotations == revision_plan(revision).annotations
        (row,) = after.sessions_of(session.patient_id)
        assert row.site_count == len(revision_plan(revision).targets())


def test_reading_commands_neither_wait_for_nor_make_a_write(tmp_path, capsys):
    """`sessions` while another process holds the write lock: it answers at once (it used to
    fail with "database is locked" after 10 s, because closing the store always wrote) and
    leaves the store's files exactly as they were."""
    import sqlite3

    from prolo_planner.cli import main
    from prolo_planner.store.database import DB_NAME

    with Repository.open(tmp_path) as repo:
        patient = repo.create_patient("RO-1", "READER^Rita")
        repo.create_session(patient.id, region="hip")
    files = [tmp_path / DB_NAME, tmp_path / f"{DB_NAME}-wal"]
    writer = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    try:
        writer.execute("PRAGMA busy_timeout = 0")
        writer.execute("BEGIN IMMEDIATE")  # another window in the middle of its autosave
        writer.execute("UPDATE patients SET name = 'WRITER^Wanda' WHERE mrn = 'RO-1'")
        before = [(f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.exists()]
        started = time.monotonic()
        assert main(["--data-dir", str(tmp_path), "sessions"]) == 0
        waited = time.monotonic() - started
        after = [(f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.exists()]
        out = capsys.readouterr()
        assert "READER, Rita" in out.out and "hip" in out.out  # the last committed state
        assert out.err == ""
        assert before == after
        assert waited < 5, f"sessions waited {waited:.1f} s for the writer"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
