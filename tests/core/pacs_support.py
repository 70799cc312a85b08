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
    refers to the files it retrieved). `ref.frame_count` stays: it is the image's."""
    doc = plan_to_document(plan)
    for key in ("saved_at", "app_version"):
        doc.pop(key)
    for image in doc["plan"]["images"]:
        image["ref"] = {"frame_count": image["ref"].get("frame_count", 1)}
    return doc


def session_fields(session: Session) -> dict[str, Any]:
    return {name: getattr(session, name) for name in SESSION_FIELDS}
