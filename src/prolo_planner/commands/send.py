"""`prolo-planner send`: send DICOM files, or a session's images, to a PACS (C-STORE)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from prolo_planner.commands.echo import add_node_options, calling_ae_title, chosen_node
from prolo_planner.net.nodes import DicomNode, NodeError
from prolo_planner.report.session_send import NOT_SENT, session_exports, session_files


def add_send_parser(sub: argparse._SubParsersAction) -> None:
    send = sub.add_parser("send", help="send DICOM files or a session's images to a PACS (C-STORE)")
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
) -> int:
    import tempfile

    from prolo_planner.store.records import StoreError

    if (session_id is None) == (not files):
        print("prolo-planner: send either --session ID or FILE..., not both", file=sys.stderr)
        return 2
    try:
        node = chosen_node(node_name, to)
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
    node: DicomNode,
    calling: str,
    session_id: int | None,
    names: dict[Path, str],
    plan_objects: set[Path],
    skipped: list[str],
    data_dir: Path | None,
) -> int:
    from prolo_planner.net.send import SendResult, send_files

    for note in skipped:
        print(note, file=sys.stderr if note.startswith(NOT_SENT) else sys.stdout)
    if not names:
        print(f"prolo-planner: session #{session_id} has no DICOM images to send", file=sys.stderr)
        return 1

    def show(done: int, total: int, result: SendResult) -> None:
        name = names.get(result.path, result.path.name)
        if result.ok:
            print(f"[{done}/{total}] sent {name} ({result.message})", flush=True)
        else:
            print(f"[{done}/{total}] NOT sent {name}: {result.message}", flush=True)

    results = send_files(node, list(names), show, calling_ae=calling)
    sent = sum(r.ok for r in results)
    if session_id is not None and sent:
        objects = sum(r.ok for r in results if r.path in plan_objects)
        what = f"{sent - objects} image(s)" + (f" and {objects} plan object(s)" if objects else "")
        _record_export(session_id, data_dir, f"sent {what} to {node}")
    summary = f"{sent} of {len(results)} file(s) sent to {node}"
    unsent = [note for note in skipped if note.startswith(NOT_SENT)]
    if unsent:
        summary += f"; {len(unsent)} object(s) of the plan could not be made and were not sent"
    if sent < len(results) or unsent:
        print(f"prolo-planner: {summary}", file=sys.stderr)
        return 1
    print(summary)
    return 0


def _record_export(session_id: int, data_dir: Path | None, detail: str) -> None:
    from prolo_planner.store.repository import Repository

    with Repository.open(data_dir) as repo:
        repo.record_export(session_id, detail)
