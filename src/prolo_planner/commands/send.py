"""`prolo-planner send`: send DICOM files, or a session's images, to a PACS (C-STORE)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from prolo_planner.commands.echo import add_node_options, calling_ae_title, chosen_node
from prolo_planner.net.nodes import Node, NodeError
from prolo_planner.report.session_send import NOT_SENT, session_exports, session_files


def add_send_parser(sub: argparse._SubParsersAction) -> None:
    send = sub.add_parser(
        "send", help="send DICOM files or a session to a PACS (C-STORE, or STOW-RS for DICOMweb)"
    )
    add_node_options(send)
    send.add_argument(
        "--session",
        type=int,
        metavar="ID",
        help="the images of this session, and its plan as DICOM objects (Secondary Captures, "
        "structured report, presentation states)",
    )
    send.add_argument(
        "--images-only",
        action="store_true",
        help="with --session: the images only, not the plan's DICOM objects",
    )
    send.add_argument("files", nargs="*", type=Path, metavar="FILE", help="DICOM files to send")


def run_send(
    node_name: str | None,
    to: str | None,
    session_id: int | None,
    files: list[Path],
    *,
    calling_aet: str | None = None,
    data_dir: Path | None = None,
    images_only: bool = False,
    url: str | None = None,
) -> int:
    import tempfile

    from prolo_planner.store.records import StoreError

    if (session_id is None) == (not files):
        print("prolo-planner: send either --session ID or FILE..., not both", file=sys.stderr)
        return 2
    try:
        node = chosen_node(node_name, to, url)
        calling = calling_ae_title(calling_aet)
        skipped: list[str] = []
        names = {p: p.name for p in files}
        if session_id is not None:
            names, skipped = session_files(session_id, data_dir)
    except (NodeError, StoreError) as exc:
        print(f"prolo-planner: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="prolo-send-") as folder:
        exports: dict[Path, str] = {}
        if session_id is not None and not images_only:
            exports, notes = session_exports(session_id, data_dir, Path(folder))
            skipped += notes
        everything = {**names, **exports}
        return _send(node, calling, session_id, everything, set(exports), skipped, data_dir)


def _send(
    node: Node,
    calling: str,
    session_id: int | None,
    names: dict[Path, str],
    plan_objects: set[Path],
    skipped: list[str],
    data_dir: Path | None,
) -> int:
    from prolo_planner.net.queue import QueuedFile, QueueState, SendQueue
    from prolo_planner.net.send import SendResult, read_header
    from prolo_planner.store.repository import Repository

    for note in skipped:
        print(note, file=sys.stderr if note.startswith(NOT_SENT) else sys.stdout)
    if not names:
        print(f"prolo-planner: session #{session_id} has no DICOM images to send", file=sys.stderr)
        return 1
    total = len(names)
    done = 0

    def show(_done: int, _total: int, row: QueuedFile, result: SendResult) -> None:
        nonlocal done
        done += 1
        where = f"[{done}/{total}]"
        if result.ok:
            print(f"{where} sent {row.name} ({result.message})", flush=True)
        elif row.state is QueueState.WAITING:
            print(
                f"{where} NOT sent {row.name}: {result.message}; kept in the queue (#{row.id}), "
                "sent by `prolo-planner queue --retry` or an open window",
                flush=True,
            )
        else:
            print(
                f"{where} NOT sent {row.name}: {result.message}; kept in the queue (#{row.id}) "
                f"as refused, `prolo-planner queue --drop {row.id}` removes it",
                flush=True,
            )

    # A file that is no DICOM object cannot be queued: said at once, the others go on.
    sendable: dict[Path, str] = {}
    for path, name in names.items():
        header = read_header(path)
        if isinstance(header, SendResult):
            done += 1
            print(f"[{done}/{total}] NOT sent {name}: {header.message}", flush=True)
        else:
            sendable[path] = name
    # Through the store's queue: what cannot be delivered now is kept there, not lost.
    rows: list[QueuedFile] = []
    if sendable:
        with Repository.open(data_dir) as repo:
            queue = SendQueue.of(repo, calling_ae=calling, audit_sent=False)
            queued = queue.add(node, list(sendable), session_id=session_id, names=sendable)
            of_plan = {
                q.id for q, path in zip(queued, sendable, strict=True) if path in plan_objects
            }
            rows = queue.send_now([q.id for q in queued], show)
    sent = sum(r.state is QueueState.SENT for r in rows)
    if session_id is not None and sent:
        objects = sum(r.state is QueueState.SENT and r.id in of_plan for r in rows)
        what = f"{sent - objects} image(s)" + (f" and {objects} plan object(s)" if objects else "")
        _record_export(session_id, data_dir, f"sent {what} to {node}")
    summary = f"{sent} of {total} file(s) sent to {node}"
    unsent = [note for note in skipped if note.startswith(NOT_SENT)]
    if unsent:
        summary += f"; {len(unsent)} object(s) of the plan could not be made and were not sent"
    kept = len(rows) - sent
    if kept:
        summary += f"; {kept} kept in the queue (`prolo-planner queue` lists them)"
    if sent < total or unsent:
        print(f"prolo-planner: {summary}", file=sys.stderr)
        return 1
    print(summary)
    return 0


def _record_export(session_id: int, data_dir: Path | None, detail: str) -> None:
    from prolo_planner.store.repository import Repository

    with Repository.open(data_dir) as repo:
        repo.record_export(session_id, detail)
