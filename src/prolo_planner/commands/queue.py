"""`prolo-planner queue`: the files waiting for the PACS in the store's send queue; send them
again now, or drop them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from prolo_planner.commands.echo import calling_ae_title

if TYPE_CHECKING:  # pynetdicom is imported only when the command runs
    from prolo_planner.net.queue import QueuedFile, SendQueue


def add_queue_parser(sub: argparse._SubParsersAction) -> None:
    queue = sub.add_parser(
        "queue",
        help="list the files not yet sent to the PACS; --retry sends them now, --drop removes them",
    )
    action = queue.add_mutually_exclusive_group()
    action.add_argument(
        "--retry",
        action="store_true",
        help="send them now (the IDs given, else every file not sent), whatever their back-off",
    )
    action.add_argument(
        "--drop",
        action="store_true",
        help="take them off the queue (the IDs given, else every file not sent)",
    )
    queue.add_argument("--all", action="store_true", help="list the files already sent too")
    queue.add_argument("--calling-aet", metavar="AET", help="the AE title to call with")
    queue.add_argument("ids", nargs="*", type=int, metavar="ID", help="queue entries, as listed")


def run_queue(
    ids: list[int],
    *,
    retry: bool = False,
    drop: bool = False,
    show_all: bool = False,
    calling_aet: str | None = None,
    data_dir: Path | None = None,
) -> int:
    from prolo_planner.net.nodes import NodeError
    from prolo_planner.net.queue import QueueState, SendQueue
    from prolo_planner.store.records import StoreError
    from prolo_planner.store.repository import Repository

    try:
        calling = calling_ae_title(calling_aet) if retry else None
        with Repository.open(data_dir) as repo:
            queue = SendQueue.of(repo, calling_ae=calling)
            unsent = [r for r in queue.files() if r.state is not QueueState.SENT]
            chosen = [r for r in unsent if not ids or r.id in ids]
            unknown = sorted(set(ids) - {r.id for r in unsent})
            if unknown:
                listed = ", ".join(f"#{i}" for i in unknown)
                print(f"prolo-planner: no file waiting in the queue as {listed}", file=sys.stderr)
                return 2
            if retry:
                return _retry(queue, [r.id for r in chosen])
            if drop:
                return _drop(queue, chosen)
            return _list(queue.files() if show_all else unsent)
    except (NodeError, StoreError) as exc:
        print(f"prolo-planner: {exc}", file=sys.stderr)
        return 2


def _list(rows: list[QueuedFile]) -> int:
    """Read-only: prints the rows, writes nothing to the store."""
    if not rows:
        print("the send queue is empty: every file was sent")
        return 0
    for row in rows:
        print(f"#{row.id:<5} {row.describe()}")
    return 0


def _retry(queue: SendQueue, ids: list[int]) -> int:
    from prolo_planner.net.queue import QueueState
    from prolo_planner.net.send import SendResult

    if not ids:
        print("nothing to send: the queue holds no file that is not sent")
        return 0

    def show(done: int, total: int, row: QueuedFile, result: SendResult) -> None:
        outcome = f"sent ({result.message})" if result.ok else f"NOT sent: {result.message}"
        print(f"[{done}/{total}] #{row.id} {row.name} to {row.node}: {outcome}", flush=True)

    rows = queue.send_now(ids, show)
    sent = sum(r.state is QueueState.SENT for r in rows)
    busy = len(ids) - len(rows)
    summary = f"{sent} of {len(ids)} file(s) sent"
    if busy:
        summary += f"; {busy} being sent by another Prolo Planner right now"
    if sent < len(ids):
        kept = len(rows) - sent
        print(f"prolo-planner: {summary}; {kept} still in the queue", file=sys.stderr)
        return 1
    print(summary)
    return 0


def _drop(queue: SendQueue, rows: list[QueuedFile]) -> int:
    from prolo_planner.net.queue import QueueState

    if not rows:
        print("nothing to drop: the queue holds no file that is not sent")
        return 0
    idle = [r for r in rows if r.state is not QueueState.SENDING or r.interrupted]
    queue.forget([r.id for r in idle])
    for row in idle:
        print(f"dropped #{row.id} {row.name} to {row.node}")
    busy = len(rows) - len(idle)
    if busy:
        print(
            f"prolo-planner: {busy} file(s) are being sent by another Prolo Planner right now "
            "and were not dropped",
            file=sys.stderr,
        )
        return 1
    return 0
