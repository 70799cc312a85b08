"""`prolo-planner export`: a session's key images, PDF report and DICOM objects into a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FORMATS_HELP = (
    "comma-separated: png, jpeg, pdf, sc (Secondary Capture of each key image), cine "
    "(annotated multi-frame SC), sr (TID 1500 report), pr (presentation state); "
    "default png,pdf,sc,sr,pr"
)


def add_export_parser(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser(
        "export", help="export a session: annotated images, PDF report, DICOM SC/SR/PR"
    )
    export.add_argument(
        "--session", type=int, required=True, metavar="ID", help="session to export"
    )
    export.add_argument("--format", default="png,pdf,sc,sr,pr", metavar="LIST", help=FORMATS_HELP)
    export.add_argument(
        "--deidentify",
        action="store_true",
        help="for teaching: pseudonyms, shifted dates, no names or notes, burned-in banner masked",
    )
    export.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write to")


def run_export(
    session_id: int,
    formats: str,
    out: Path,
    *,
    deidentify: bool = False,
    data_dir: Path | None = None,
) -> int:
    from prolo_planner.export.errors import ExportError
    from prolo_planner.imaging.errors import ImageLoadError
    from prolo_planner.report.session_export import export_session, parse_formats
    from prolo_planner.store.records import StoreError
    from prolo_planner.store.repository import Repository

    try:
        wanted = parse_formats(formats)
    except ValueError as exc:
        print(f"prolo-planner: --format: {exc}", file=sys.stderr)
        return 2
    notes: list[str] = []

    def show(done: int, total: int, what: str) -> None:
        if what != "done":
            print(f"[{done + 1}/{total}] {what}", file=sys.stderr, flush=True)

    try:
        with Repository.open(data_dir) as repo:
            files = export_session(
                repo, session_id, wanted, out, deidentify=deidentify, progress=show, notes=notes
            )
    except (ExportError, StoreError, ImageLoadError, OSError) as exc:
        print(f"prolo-planner: session #{session_id} not exported: {exc}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for path in files:
        print(f"wrote {path}")
    if not files:
        print(f"prolo-planner: session #{session_id}: nothing to write", file=sys.stderr)
        return 1
    print(f"{len(files)} file(s) written to {out}")
    return 0
