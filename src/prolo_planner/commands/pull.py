"""`prolo-planner pull`: a patient's plans from a PACS into the store, as their sessions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from prolo_planner.commands.echo import add_node_options, calling_ae_title, chosen_node
from prolo_planner.net.nodes import NodeError


def add_pull_parser(sub: argparse._SubParsersAction) -> None:
    pull = sub.add_parser(
        "pull",
        help="pull a patient's plans from a PACS into the store (C-FIND and C-GET or C-MOVE, "
        "or QIDO-RS and WADO-RS)",
    )
    add_node_options(pull)
    pull.add_argument(
        "--patient", required=True, metavar="ID", help="the patient's ID (the clinic's MRN)"
    )


def run_pull(
    node_name: str | None,
    to: str | None,
    url: str | None,
    patient_id: str,
    *,
    calling_aet: str | None = None,
    data_dir: Path | None = None,
) -> int:
    """Pull and print what became of each version; 1 when anything was skipped or is in
    conflict, 2 when nothing could be asked."""
    import dataclasses

    from prolo_planner.net.association import NetError
    from prolo_planner.net.nodes import load_settings
    from prolo_planner.pacs.pull import pull
    from prolo_planner.store.records import StoreError
    from prolo_planner.store.repository import Repository

    try:
        node = chosen_node(node_name, to, url)
        settings = dataclasses.replace(
            load_settings(), calling_ae_title=calling_ae_title(calling_aet)
        )
    except NodeError as exc:
        print(f"prolo-planner: {exc}", file=sys.stderr)
        return 2

    def show(done: int, total: int, what: str) -> None:
        print(f"[{done}/{total}] {what}" if total else what, flush=True)

    try:
        with Repository.open(data_dir) as repo:
            report = pull(repo, node, patient_id, settings=settings, progress=show)
    except (NetError, StoreError, ValueError) as exc:
        print(f"prolo-planner: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, NetError) else 2
    for filed in report.filed:
        print(f"{filed.outcome.value}: session #{filed.session.id}, {filed.detail}")
    for foreign in report.foreign:
        values = "; ".join(m.describe() for m in foreign.measurements) or "no measurements"
        who = foreign.manufacturer or "another viewer"
        print(f"read-only: {who} report of {foreign.content_date or 'no date'}: {values}")
    for line in report.skipped:
        print(f"skipped: {line}", file=sys.stderr)
    for filed in report.conflicts:
        print(f"CONFLICT: session #{filed.session.id}: {filed.detail}", file=sys.stderr)
    bad = report.skipped or report.conflicts or report.cancelled
    print(report.summary(), file=sys.stderr if bad else sys.stdout)
    return 1 if bad else 0
