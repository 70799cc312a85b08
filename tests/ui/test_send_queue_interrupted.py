"""A send a crash interrupted: the panel says so, sends it again as soon as the app is back (no
15-minute wait), and Remove acts on it. A real storescp."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from prolo_planner.net.queue import Backoff, QueueState, SendQueue
from prolo_planner.store.repository import Repository
from prolo_planner.ui.exports.send_queue import SendQueuePanel, result_text
from tests.conftest import pydicom_file
from tests.core.test_net_queue import _unused_pid
from tests.net_servers import OUR_AE, Storescp


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repository]:
    with Repository.open(tmp_path / "data") as r:
        yield r


def _interrupt(repo: Repository, ids: list[int]) -> None:
    """What a window killed mid-send leaves: rows 'sending', claimed by a process now gone."""
    queue = SendQueue(repo.db)
    with repo.db.write() as conn:
        conn.executemany(
            "UPDATE send_queue SET state = 'sending', claimed_by = 'crashed', claimed_at = ?,"
            " claimed_pid = ?, claimed_host = ? WHERE id = ?",
            [(time.time(), _unused_pid(), queue.host, i) for i in ids],
        )


def test_an_interrupted_send_goes_as_soon_as_the_app_is_back(qtbot, repo, tmp_path) -> None:
    pacs = Storescp(tmp_path / "pacs").start()
    try:
        queue = SendQueue.of(repo, calling_ae=OUR_AE)
        (item,) = queue.add(pacs.node, [pydicom_file("MR_small.dcm")])
        _interrupt(repo, [item.id])
        (row,) = queue.files()
        assert "interrupted" in result_text(row, time.time())
        started = time.monotonic()
        panel = SendQueuePanel(repo, backoff=Backoff(first_s=600.0), idle_s=60, timeout=5)
        qtbot.addWidget(panel)
        try:
            qtbot.waitUntil(
                lambda: [r.state for r in panel.rows()] == [QueueState.SENT], timeout=20_000
            )
            assert time.monotonic() - started < 60  # "within a minute after restart"
        finally:
            panel.stop()
        pacs.received(row.sop_instance_uid)
    finally:
        pacs.stop()


def test_remove_and_retry_act_on_interrupted_sends(qtbot, repo, tmp_path) -> None:
    node = Storescp(tmp_path / "pacs").node  # down: nothing is delivered in this test
    queue = SendQueue.of(repo, calling_ae=OUR_AE)
    rows = queue.add(node, [pydicom_file("MR_small.dcm"), pydicom_file("CT_small.dcm")])
    panel = SendQueuePanel(repo, backoff=Backoff(first_s=600.0), idle_s=60, timeout=5)
    qtbot.addWidget(panel)
    panel.worker.stop(timeout=10)  # the buttons alone, no background sending
    _interrupt(repo, [r.id for r in rows])
    try:
        panel.refresh()
        assert "interrupted" in panel.table.item(0, 4).text()
        panel.table.selectRow(0)
        assert panel.remove() == 1
        assert [r.name for r in panel.rows()] == ["CT_small.dcm"]
        panel.table.selectRow(0)
        assert panel.retry() == 1
        (row,) = panel.rows()
        assert row.state in (QueueState.WAITING, QueueState.SENDING) and not row.interrupted
    finally:
        panel.stop()
