"""`send` queues and delivers through the store; what a PACS that is down did not take stays in
the queue; `prolo-planner queue` lists it without writing, --retry sends it once the PACS is
back, --drop takes it off. A real storescp, down and then up on the same port."""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat
from pathlib import Path

import pydicom
import pytest

from prolo_planner.cli import main
from prolo_planner.net.queue import QueueState, SendQueue
from prolo_planner.store import demo
from prolo_planner.store.database import DB_NAME
from prolo_planner.store.repository import Repository
from tests.conftest import pydicom_file
from tests.net_servers import OUR_AE, Storescp


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _queue(data: Path) -> list:
    with Repository.open(data) as repo:
        return SendQueue(repo.db).files()


def test_a_file_the_pacs_did_not_take_is_kept_listed_and_sent_later(tmp_path: Path, capsys):
    data = tmp_path / "data"
    pacs = Storescp(tmp_path / "pacs")  # not started: the PACS is down
    original = tmp_path / "elsewhere" / "US.dcm"
    original.parent.mkdir()
    original.write_bytes(pydicom_file("US1_UNCR.dcm").read_bytes())
    base = ["--data-dir", str(data)]

    assert main([*base, "send", "--to", pacs.node.address, "--calling-aet", OUR_AE,
                 str(original)]) == 1  # fmt: skip
    out = capsys.readouterr()
    assert "[1/1] NOT sent US.dcm: no answer from" in out.out
    assert "kept in the queue (#1), sent by `prolo-planner queue --retry`" in out.out
    assert out.err.strip() == (
        f"prolo-planner: 0 of 1 file(s) sent to {pacs.node.address}; 1 kept in the queue "
        "(`prolo-planner queue` lists them)"
    )
    original.unlink()  # kept in the outbox: the original may go
    outbox = data / "outbox"
    (copy,) = [p for p in outbox.rglob("*") if p.is_file()]
    assert _mode(outbox) == 0o700 and _mode(copy.parent) == 0o700 and _mode(copy) == 0o600

    # Listing writes nothing: it answers while another window holds the store's write lock.
    writer = sqlite3.connect(data / DB_NAME, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        assert main([*base, "queue"]) == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 1 and listed[0].startswith(f"#1     US.dcm to {pacs.node.address}: ")
    assert "waiting (tried 1x, last: no answer from" in listed[0]

    uid = pydicom.dcmread(copy).SOPInstanceUID
    pacs.start()
    try:
        assert main([*base, "queue", "--retry", "--calling-aet", OUR_AE]) == 0
        out = capsys.readouterr().out
        assert f"[1/1] #1 US.dcm to {pacs.node.address}: sent (" in out
        assert out.splitlines()[-1] == "1 of 1 file(s) sent"
        pacs.received(uid)
    finally:
        pacs.stop()
    assert not copy.exists()  # sent: the outbox copy is gone
    assert main([*base, "queue"]) == 0
    assert capsys.readouterr().out.strip() == "the send queue is empty: every file was sent"
    assert main([*base, "queue", "--all"]) == 0
    assert ": sent " in capsys.readouterr().out


def test_drop_takes_files_off_and_unknown_ids_are_refused(tmp_path: Path, capsys):
    data = tmp_path / "data"
    down = Storescp(tmp_path / "pacs").node
    base = ["--data-dir", str(data)]
    files = [str(pydicom_file(n)) for n in ("MR_small.dcm", "CT_small.dcm")]
    assert main([*base, "send", "--to", down.address, "--calling-aet", OUR_AE, *files]) == 1
    capsys.readouterr()
    assert main([*base, "queue", "--drop", "7"]) == 2
    assert capsys.readouterr().err.strip() == "prolo-planner: no file waiting in the queue as #7"
    assert main([*base, "queue", "--drop", "1"]) == 0
    assert capsys.readouterr().out.strip() == f"dropped #1 MR_small.dcm to {down.address}"
    assert [q.name for q in _queue(data)] == ["CT_small.dcm"]
    assert main([*base, "queue", "--drop"]) == 0
    assert _queue(data) == []


def test_a_sessions_plan_objects_wait_in_the_outbox_for_the_pacs(tmp_path: Path, capsys):
    """The plan's SC, SR and PR are written to a temporary folder to be sent: queued, they are
    copied into the outbox, so a PACS that is down gets them later all the same."""
    data = tmp_path / "data"
    with Repository.open(data) as repo:
        demo.fill_demo(repo, today=dt.date(2026, 3, 14))
    pacs = Storescp(tmp_path / "pacs")
    base = ["--data-dir", str(data)]
    argv = [*base, "send", "--to", pacs.node.address, "--calling-aet", OUR_AE, "--session", "1"]
    assert main(argv) == 1
    capsys.readouterr()
    waiting = _queue(data)
    assert len(waiting) == 4 and {q.state for q in waiting} == {QueueState.WAITING}
    assert sum(1 for q in waiting if "outbox" in q.path.parts) == 3
    pacs.start()
    try:
        assert main([*base, "queue", "--retry", "--calling-aet", OUR_AE]) == 0
        kinds = sorted(str(pydicom.dcmread(p).SOPClassUID.name) for p in pacs.folder.iterdir())
    finally:
        pacs.stop()
    assert kinds == [
        "Color Softcopy Presentation State Storage",
        "Comprehensive SR Storage",
        "Secondary Capture Image Storage",
        "Ultrasound Image Storage",
    ]
    with Repository.open(data) as repo:
        assert repo.audit_log(session_id=1)[-1].detail == f"sent 4 files to {pacs.node.address}"


@pytest.mark.parametrize("command", [["queue"], ["queue", "--all"]])
def test_listing_an_empty_store(tmp_path: Path, capsys, command: list[str]):
    assert main(["--data-dir", str(tmp_path), *command]) == 0
    assert "the send queue is empty" in capsys.readouterr().out
