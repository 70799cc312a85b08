"""What a session sends to the PACS: its DICOM images from the library, and its plan as DICOM
objects. Shared by `prolo-planner send` and the window's send queue."""

from __future__ import annotations

from pathlib import Path


def session_files(session_id: int, data_dir: Path | None) -> tuple[dict[Path, str], list[str]]:
    """The session's DICOM images in the library (with the names they were imported under),
    and notes on what cannot be sent as it is."""
    from prolo_planner.store.repository import Repository

    with Repository.open(data_dir) as repo:
        repo.session(session_id)  # NotFound, in words, for a session that does not exist
        stored = repo.images_of(session_id)
    files = {im.library_path: Path(im.original_path).name for im in stored if im.kind == "dicom"}
    kinds = {"video": "a video", "image": "a still image"}
    skipped = [
        f"skipped {Path(im.original_path).name}: {kinds.get(im.kind, im.kind)}, not DICOM"
        for im in stored
        if im.kind != "dicom"
    ]
    return files, skipped


def session_exports(
    session_id: int, data_dir: Path | None, folder: Path
) -> tuple[dict[Path, str], list[str]]:
    """The session's plan as DICOM objects to send beside its images (SC of each key image,
    the TID 1500 SR, presentation states), written into `folder`; and what is not sent, each
    line starting "not sent:" (NOT_SENT) with the reason, or "note:"."""
    from prolo_planner.export.errors import ExportError
    from prolo_planner.report.session_export import DICOM_FORMATS, export_session
    from prolo_planner.store.repository import Repository

    notes: list[str] = []
    missing: list[str] = []
    with Repository.open(data_dir) as repo:
        if not repo.load_plan(session_id).annotations:
            return {}, []  # nothing planned yet: only the images go
        try:
            files = export_session(
                repo, session_id, DICOM_FORMATS, folder, notes=notes, missing=missing, audit=False
            )
        except ExportError as exc:
            return {}, [f"{NOT_SENT} the plan: {exc}"]
    lines = [f"{NOT_SENT} {m}" for m in missing] + [f"note: {n}" for n in notes]
    return {p: p.name for p in files}, lines


#: How a line of session_files/session_exports says that something of the session is not sent.
NOT_SENT = "not sent:"
