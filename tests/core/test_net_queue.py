"""The send queue against a real storescp that is down, then started: retries with back-off,
nothing lost across a restart or a crash mid-send."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from pydicom import dcmread

from prolo_planner.net.queue import Backoff, QueueState, SendQueue
from prolo_planner.net.queue_worker import QueueWorker
from prolo_planner.store.records import AuditAction, InvalidValue
from prolo_planner.store.repository import Repository
from tests.conftest import pydicom_file
from tests.net_servers import OUR_AE, SilentPacs, Storescp, worker_command

US_CINE = "examples_ybr_color.dcm"
SHORT = Backoff(first_s=0.3, factor=2.0, max_s=1.0)


def _queue(repo: Repository, **kw) -> SendQueue:
    kw.setdefault("backoff", SHORT)
    return SendQueue.of(repo, calling_ae=OUR_AE, timeout=5, **kw)


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_backoff_grows_and_stops_growing():
    b = Backoff(first_s=30, factor=2, max_s=600)
    assert [b.delay(n) for n in (1, 2, 3, 4, 5, 6, 7)] == [30, 60, 120, 240, 480, 600, 600]


def test_a_down_pacs_is_retried_with_backoff_until_it_is_up(tmp_path):
    server = Storescp(tmp_path / "pacs", accept_all=True)  # not started: the PACS is down
    repo = Repository.open(tmp_path / "data")
    patient = repo.create_patient("204", "PLA")
    session = repo.create_session(patient.id)
    cine = repo.admit(pydicom_file(US_CINE), session.id).image
    queue = _queue(repo)
    (item,) = queue.add(server.node, [cine.library_path], session_id=session.id)
    assert item.state is QueueState.WAITING and item.path == cine.library_path
    assert queue.next_due_at() <= time.time()

    before = time.time()
    (tried,) = queue.run_due()
    assert tried.state is QueueState.WAITING and tried.attempts == 1
    assert tried.last_error == f"no answer from {server.node.address}: connection refused"
    assert before + 0.3 <= tried.next_attempt_at <= time.time() + 0.3
    assert queue.run_due() == []  # not due yet: nothing is tried
    _wait_for(lambda: time.time() >= tried.next_attempt_at)
    (again,) = queue.run_due()
    assert again.attempts == 2 and again.next_attempt_at - time.time() > 0.3  # 0.6 s now

    server.start()
    try:
        _wait_for(lambda: time.time() >= again.next_attempt_at)
        seen = []
        (sent,) = queue.run_due(seen.append)
        assert seen == [sent]
        assert sent.state is QueueState.SENT and sent.attempts == 3 and sent.sent_at
        received = dcmread(server.received(cine.sop_instance_uid))
        assert received.PixelData == dcmread(cine.library_path).PixelData
    finally:
        server.stop()
    assert queue.pending_count() == 0 and queue.next_due_at() is None
    assert cine.library_path.is_file()  # the library's copy is the store's, never deleted
    exported = [
        e for e in repo.audit_log(session_id=session.id) if e.action is AuditAction.EXPORTED
    ]
    assert [e.detail for e in exported] == [f"sent 1 file to {server.node}"]
    repo.close()


def test_the_queue_survives_a_restart_and_the_original_going_away(tmp_path):
    server = Storescp(tmp_path / "pacs", accept_all=True)
    original = tmp_path / "export" / "key-image.dcm"
    original.parent.mkdir()
    shutil.copy(pydicom_file("SC_rgb_small_odd_jpeg.dcm"), original)
    data = tmp_path / "data"

    with Repository.open(data) as first:
        queue = _queue(first)
        (item,) = queue.add(server.node, [original])
        assert item.path.is_relative_to(data / "outbox")  # a copy the queue owns
        (tried,) = queue.run_due()
        assert tried.state is QueueState.WAITING
    original.unlink()  # e.g. an export folder cleaned up

    with Repository.open(data) as second:
        queue = _queue(second)
        (waiting,) = queue.files()
        assert (waiting.id, waiting.attempts, waiting.state) == (item.id, 1, QueueState.WAITING)
        assert "connection refused" in waiting.last_error
        server.start()
        try:
            assert queue.retry_now() == 1  # the clinician's Retry: due now, not after back-off
            (sent,) = queue.run_due()
            assert sent.state is QueueState.SENT
            received = dcmread(server.received(sent.sop_instance_uid))
        finally:
            server.stop()
        assert received.PixelData == dcmread(pydicom_file("SC_rgb_small_odd_jpeg.dcm")).PixelData
        assert not item.path.exists()  # the outbox copy goes once sent


def test_the_worker_sends_in_the_background_once_the_pacs_is_back(tmp_path):
    server = Storescp(tmp_path / "pacs")
    with Repository.open(tmp_path / "data") as repo:
        queue = _queue(repo)
        queue.add(server.node, [pydicom_file("MR_small.dcm"), pydicom_file(US_CINE)])
        seen = []
        worker = QueueWorker(queue, seen.append, idle_s=5)
        worker.start()
        try:
            _wait_for(lambda: len(seen) >= 2)  # both tried once, the PACS being down
            assert {r.state for r in seen} == {QueueState.WAITING}
            server.start()
            _wait_for(lambda: queue.pending_count() == 0)
        finally:
            worker.stop(10)
            server.stop()
        assert not worker.running
        assert [f.state for f in queue.files()] == [QueueState.SENT, QueueState.SENT]
        assert all(f.attempts >= 2 for f in queue.files())
        for f in queue.files():
            server.received(f.sop_instance_uid)


def test_a_file_the_pacs_refuses_is_kept_failed_not_retried(tmp_path):
    with Repository.open(tmp_path / "data") as repo:
        server = Storescp(tmp_path / "pacs").start()  # uncompressed only
        queue = _queue(repo)
        # A JPEG file whose pixels cannot be decoded cannot be decompressed to send: the
        # file, not the network, is at fault.
        broken = tmp_path / "broken.dcm"
        ds = dcmread(pydicom_file("SC_rgb_small_odd_jpeg.dcm"))
        ds.PixelData = ds.PixelData[:40] + b"\0" * (len(ds.PixelData) - 40)
        ds.save_as(broken)
        try:
            (item,) = queue.add(server.node, [broken])
            (failed,) = queue.run_due()
        finally:
            server.stop()
        assert failed.state is QueueState.FAILED and failed.attempts == 1
        assert failed.name == "broken.dcm"
        assert failed.last_error.startswith("cannot be decompressed to send")
        assert failed.describe().startswith(f"broken.dcm to {server.node}: failed: cannot be")
        assert queue.next_due_at() is None and queue.pending_count() == 0
        assert item.path.is_file()  # kept for the clinician to see and retry
        assert queue.forget([item.id]) == 1 and not item.path.exists()


def test_only_dicom_files_are_queued_all_or_none(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with Repository.open(tmp_path / "data") as repo:
        queue = _queue(repo)
        node = Storescp(tmp_path / "pacs").node
        with pytest.raises(InvalidValue, match="notes.txt: not a DICOM object"):
            queue.add(node, [pydicom_file("MR_small.dcm"), text])
        assert queue.files() == []


def test_a_send_cut_short_by_a_crash_is_sent_again(tmp_path):
    """A real Prolo Planner process is killed while sending to a PACS that hangs; the file, left
    'sending', is an interrupted send at once (its process is gone) and the next sender takes it
    up: no waiting for a claim to go stale."""
    data = tmp_path / "data"
    silent = SilentPacs()
    try:
        with Repository.open(data) as repo:
            (item,) = _queue(repo).add(silent.node, [pydicom_file("MR_small.dcm")])
        worker = subprocess.Popen(
            worker_command("send-due", str(data)), stdout=subprocess.PIPE, text=True
        )
        try:
            assert worker.stdout.readline().strip() == "sending"
            with Repository.open(data) as repo:
                _wait_for(lambda: _queue(repo).files()[0].state is QueueState.SENDING)
        finally:
            worker.kill()
            worker.wait(10)
    finally:
        silent.close()

    server = Storescp(tmp_path / "pacs", port=silent.port, ae_title="SILENT").start()
    try:
        with Repository.open(data) as repo:
            queue = _queue(repo)
            (left,) = queue.files()
            assert left.state is QueueState.SENDING and left.interrupted
            assert "interrupted" in left.describe()
            (sent,) = queue.run_due()
            assert (sent.id, sent.state) == (item.id, QueueState.SENT)
            server.received(sent.sop_instance_uid)
    finally:
        server.stop()


def test_retry_and_remove_act_on_an_interrupted_send_not_on_a_live_one(tmp_path):
    """Retry and Remove skipped every 'sending' row, so a send a crash interrupted could be
    neither retried nor removed for 15 minutes. A live sender's row is still left alone."""
    import os

    with Repository.open(tmp_path / "data") as repo:
        queue = _queue(repo)
        node = Storescp(tmp_path / "pacs").node
        a, b, c = queue.add(node, [pydicom_file("MR_small.dcm")] * 3)
        with repo.db.write() as conn:
            conn.execute(
                "UPDATE send_queue SET state = 'sending', claimed_by = 'gone', claimed_at = ?,"
                " claimed_pid = ?, claimed_host = ? WHERE id IN (?, ?)",
                (time.time(), _unused_pid(), queue.host, a.id, b.id),
            )
            conn.execute(
                "UPDATE send_queue SET state = 'sending', claimed_by = 'alive', claimed_at = ?,"
                " claimed_pid = ?, claimed_host = ? WHERE id = ?",
                (time.time(), os.getppid(), queue.host, c.id),
            )
        rows = {r.id: r for r in queue.files()}
        assert rows[a.id].interrupted and rows[b.id].interrupted and not rows[c.id].interrupted
        assert queue.retry_now([a.id, c.id]) == 1
        assert queue.forget([b.id, c.id]) == 1
        rows = {r.id: r for r in queue.files()}
        assert rows[a.id].state is QueueState.WAITING and rows[a.id].next_attempt_at <= time.time()
        assert b.id not in rows
        assert rows[c.id].state is QueueState.SENDING  # another window is sending it right now


def _unused_pid() -> int:
    """A pid no process has now."""
    import os

    pid = 2**22 - 7
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1
