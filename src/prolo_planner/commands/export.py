"""`prolo-planner export`: a session's (or a plan file's) key images, PDF report and DICOM objects
into a folder, plain or de-identified."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prolo_planner.core.text_review import PlanText, TextApproval
    from prolo_planner.report.session_export import Deidentification, ExportSubject

FORMATS_HELP = (
    "comma-separated: png, jpeg, pdf, sc (Secondary Capture of each key image), cine "
    "(annotated multi-frame SC), sr (TID 1500 report), pr (presentation state), note (the "
    "procedure note, PDF and text), fhir (the procedure record as a FHIR R4 bundle); "
    "default png,pdf,sc,sr,pr"
)
DEIDENTIFY_HELP = (
    "for teaching: DICOM PS3.15 basic profile by allow-list with the Clean Pixel Data (burned-in "
    "banner masked), Clean Graphics, Clean Structured Content and Clean Descriptors options; "
    "pseudonyms from the clinic's key; the plan's texts are printed, and typed text is left out "
    "unless --keep-text"
)


def add_export_parser(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser(
        "export", help="export a session or a plan file: annotated images, PDF, DICOM SC/SR/PR"
    )
    what = export.add_mutually_exclusive_group(required=True)
    what.add_argument("--session", type=int, metavar="ID", help="session to export")
    what.add_argument(
        "--plan",
        type=Path,
        metavar="FILE",
        help="a plan file (.prolo.json) to export with its images, without the session store",
    )
    export.add_argument("--format", default="png,pdf,sc,sr,pr", metavar="LIST", help=FORMATS_HELP)
    export.add_argument("--deidentify", action="store_true", help=DEIDENTIFY_HELP)
    export.add_argument(
        "--dates",
        choices=("shift", "remove"),
        default="shift",
        help="with --deidentify: 'shift' (PS3.15 Retain Longitudinal Temporal Information, "
        "Modified Dates option: every date of the patient moved back by the same days, the "
        "default) or 'remove' (no dates)",
    )
    export.add_argument(
        "--keep-text",
        action="store_true",
        help="with --deidentify: keep the typed text printed in the review too (names typed by "
        "hand, labels, notes); catalog names are kept either way",
    )
    export.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write to")


def run_export(
    session_id: int | None,
    formats: str,
    out: Path,
    *,
    deidentify: bool = False,
    data_dir: Path | None = None,
    plan_file: Path | None = None,
    dates: str = "shift",
    keep_text: bool = False,
) -> int:
    """0 when everything asked for was written; 1 when something is missing (each named) or
    nothing was written; 2 for a usage error."""
    from prolo_planner.export.errors import ExportError
    from prolo_planner.imaging.errors import ImageLoadError
    from prolo_planner.report.session_export import (
        export_plan,
        parse_formats,
        plan_file_subject,
        session_subject,
    )
    from prolo_planner.store.records import StoreError
    from prolo_planner.store.repository import Repository

    try:
        wanted = parse_formats(formats)
    except ValueError as exc:
        print(f"prolo-planner: --format: {exc}", file=sys.stderr)
        return 2
    if (dates != "shift" or keep_text) and not deidentify:
        print("prolo-planner: --dates and --keep-text go with --deidentify", file=sys.stderr)
        return 2
    what = f"session #{session_id}" if plan_file is None else str(plan_file)

    def show(done: int, total: int, step: str) -> None:
        if step != "done":
            print(f"[{done + 1}/{total}] {step}", file=sys.stderr, flush=True)

    try:
        if plan_file is not None:
            # A plan file needs no session store: only the clinic's key, in the data folder.
            from prolo_planner import paths

            subject = plan_file_subject(plan_file)
            how = _how(subject, deidentify, dates, keep_text, Path(data_dir or paths.data_dir()))
            result = export_plan(subject, wanted, out, how, progress=show)
        else:
            assert session_id is not None
            with Repository.open(data_dir) as repo:
                subject = session_subject(repo, session_id)
                how = _how(subject, deidentify, dates, keep_text, repo.data_dir)
                result = export_plan(subject, wanted, out, how, progress=show)
                if result.files:
                    detail = f"exported {', '.join(f.value for f in wanted)} "
                    detail += f"({len(result.files)} files) to {out}"
                    repo.record_export(
                        session_id, detail + (", de-identified" if deidentify else "")
                    )
    except (ExportError, StoreError, ImageLoadError, OSError) as exc:
        print(f"prolo-planner: {what} not exported: {exc}", file=sys.stderr)
        return 1
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    for path in result.files:
        print(f"wrote {path}")
    for gone in result.missing:
        print(f"missing: {gone}", file=sys.stderr)
    if not result.files:
        print(f"prolo-planner: {what}: nothing to write", file=sys.stderr)
        return 1
    summary = f"{len(result.files)} file(s) written to {out}"
    if result.missing:
        print(f"prolo-planner: {summary}; {len(result.missing)} missing", file=sys.stderr)
        return 1
    print(summary)
    return 0


def _how(
    subject: ExportSubject, deidentify: bool, dates: str, keep_text: bool, data_dir: Path
) -> Deidentification | None:
    """The de-identification asked for, after printing the texts the clinician must see."""
    if not deidentify:
        return None
    from prolo_planner.core.text_review import TextApproval
    from prolo_planner.export.deidentify_profile import DateHandling
    from prolo_planner.report.keyfile import load_or_create_key
    from prolo_planner.report.session_export import Deidentification, texts_to_review

    texts = texts_to_review(subject)
    approval = TextApproval.of(texts) if keep_text else TextApproval.default(texts)
    _print_review(texts, approval)
    return Deidentification(
        load_or_create_key(data_dir),
        DateHandling.SHIFT if dates == "shift" else DateHandling.REMOVE,
        approval,
    )


def _print_review(texts: list[PlanText], approval: TextApproval) -> None:
    """The texts of the plan and what becomes of each, before anything is written."""
    if not texts:
        print("texts: the plan has no text of its own", file=sys.stderr)
        return
    print("texts of the plan in this de-identified export:", file=sys.stderr)
    for t in texts:
        verdict = "kept   " if approval.keeps(t.key, t.text) else "REMOVED"
        print(f"  {verdict} {t.where} ({t.origin.value}): {t.text!r}", file=sys.stderr)
    if any(not approval.keeps(t.key, t.text) for t in texts):
        print("  (typed text is left out; --keep-text keeps it)", file=sys.stderr)
