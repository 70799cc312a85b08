"""Shared by the PACS tests: plans and sessions compared field by field, as the clinician sees
them, leaving out only where each workstation keeps its copy of an image file."""

from __future__ import annotations

from typing import Any

from prolo_planner.core.plan import Plan
from prolo_planner.store.plan_file import plan_to_document
from prolo_planner.store.records import Session

#: A session version's fields that travel with it (not the store's row ids).
SESSION_FIELDS = (
    "uid",
    "version",
    "started_at",
    "region",
    "side",
    "clinician",
    "pain_before",
    "pain_after",
    "notes",
    "state",
    "signed_at",
    "signed_by",
)


def plan_fields(plan: Plan) -> dict[str, Any]:
    """Everything docs/plan-format.md holds of a plan, except where its image files lie on this
    workstation (`ref.path`, the file's `sha256` and a video's missing UID: a pulled plan
    refers to the files it retrieved). `ref.frame_count` and `ref.name` stay: they are the
    image's."""
    doc = plan_to_document(plan)
    for key in ("saved_at", "app_version"):
        doc.pop(key)
    for image in doc["plan"]["images"]:
        ref = image["ref"]
        image["ref"] = {"frame_count": ref.get("frame_count", 1), "name": ref.get("name", "")}
    return doc


def session_fields(session: Session) -> dict[str, Any]:
    return {name: getattr(session, name) for name in SESSION_FIELDS}


# -- a course on the bundled images, of one patient --------------------------------------------
#: The demo patient, whom the lumbar sample images name (tests/synthetic/scanner.py).
PHANTOM = {"mrn": "DEMO-0001", "name": "DEMO^Alex", "birth_date": "1971-05-20", "sex": "O"}


def phantom_course(repo, today=None):
    """The demo's three sessions (two signed on the DICOM samples, a draft on the clip with a
    manual calibration), of the one patient the sample images name, so every object sent is of
    one patient. Returns the demo result."""
    import datetime as dt

    from prolo_planner.store import demo

    made = demo.fill_demo(repo, today=today or dt.date(2026, 3, 14))
    assert made.patient.mrn == PHANTOM["mrn"] and made.patient.name == PHANTOM["name"]
    return made


def send(data, node_address: str, session_id: int, *extra: str) -> int:
    from prolo_planner.cli import main

    return main(
        [
            "--data-dir",
            str(data),
            "send",
            "--to",
            node_address,
            "--session",
            str(session_id),
            *extra,
        ]
    )


def pull(data, *where: str, patient: str = PHANTOM["mrn"], calling: str = "") -> int:
    from prolo_planner.cli import main

    args = ["--data-dir", str(data), "pull", *where, "--patient", patient]
    if calling:
        args += ["--calling-aet", calling]
    return main(args)


def course_of(repo, mrn: str = PHANTOM["mrn"]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every session version of the patient, oldest first, as (session fields, plan fields)."""
    patient = repo.patient_by_mrn(mrn)
    assert patient is not None, f"no patient {mrn}"
    rows = repo.sessions_of(patient.id, include_superseded=True)
    rows.sort(key=lambda r: (r.session.started_at, r.session.version))
    return [(session_fields(r.session), plan_fields(repo.load_plan(r.session.id))) for r in rows]
