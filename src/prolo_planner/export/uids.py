"""The UIDs of exported objects: the same plan version always gives the same UIDs.

DICOM objects are immutable and a PACS keeps the first copy of an instance UID it receives, so an
export must name its objects by what they are: the plan (its lineage id), its version and its
content, the kind of object and the image (and frame) it is of. Exporting or sending the same
version again then writes the same UIDs (the PACS ignores the duplicates); any change of the plan
or of what the objects say of it (a sign-off, a corrected name) is a new digest and so new UIDs.
An amendment is a new version: new objects, and its SR names the SR it replaces in the
Predecessor Documents Sequence (predecessor_reference).

    export_uid(version, "sc", image_id, str(frame))   Secondary Capture of one key frame
    export_uid(version, "cine", image_id)             annotated cine
    export_uid(version, "sr")                         the TID 1500 report
    export_uid(version, "pr", image_id)               presentation state of one image
    series_uid(version.plan_id, kind, study_uid)      the series of that kind in that study
    capture_uid(image sha256, study_uid)              a video or still itself, unannotated
    capture_series_uid(study_uid)                     the series of those captures

A de-identified export remaps every one of these through the pseudonym key, as it does the
sources' UIDs, so it too is stable under one key. (Issue 12's PACS round trip builds on this.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from pydicom.dataset import Dataset

from prolo_planner.core.plan import Plan
from prolo_planner.export.dicom_writing import derived_uid
from prolo_planner.store.plan_file import plan_to_document


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """Which plan, which version of it, and a digest of everything its objects say."""

    plan_id: str
    version: int
    digest: str

    @classmethod
    def of(cls, plan: Plan, version: int = 1, context: Iterable[str] = ()) -> PlanVersion:
        """`context`: what the objects carry beside the plan (patient, clinician, signed or
        not), so that a change of it also gives new UIDs."""
        document = plan_to_document(plan)
        # The plan itself, not when or by which app version its document was made.
        content = {k: v for k, v in document.items() if k not in ("saved_at", "app_version")}
        text = json.dumps([content, list(context)], sort_keys=True, default=str)
        return cls(plan.id, version, hashlib.sha256(text.encode()).hexdigest())


def export_uid(version: PlanVersion, kind: str, *parts: str) -> str:
    """The SOP Instance UID of one exported object of this plan version."""
    return derived_uid(
        "prolo-planner export", version.plan_id, str(version.version), version.digest, kind, *parts
    )


def series_uid(plan_id: str, kind: str, study_instance_uid: str) -> str:
    """One series per plan, kind of object and study: every version of a plan's report lands in
    one series of the study, each version its own instance."""
    return derived_uid("prolo-planner series", plan_id, kind, study_instance_uid)


def capture_uid(image_sha256: str, study_instance_uid: str) -> str:
    """The unannotated capture of a video or still (what the SR points at, and what another
    workstation pulls back): named by the file's content and the study, not by a plan version,
    so an amendment does not send the same pixels again (docs/adr/0005)."""
    return derived_uid("prolo-planner capture", image_sha256, study_instance_uid)


def capture_series_uid(study_instance_uid: str) -> str:
    return derived_uid("prolo-planner capture series", study_instance_uid)


def predecessor_reference(study_instance_uid: str, series_instance_uid: str, sr: str) -> Dataset:
    """An item of the Predecessor Documents Sequence: the previous version's SR (SOP Instance
    Reference with its study and series, PS3.3 Table C.17-3)."""
    from pydicom.uid import ComprehensiveSRStorage

    instance = Dataset()
    instance.ReferencedSOPClassUID = ComprehensiveSRStorage
    instance.ReferencedSOPInstanceUID = sr
    series = Dataset()
    series.SeriesInstanceUID = series_instance_uid
    series.ReferencedSOPSequence = [instance]
    item = Dataset()
    item.StudyInstanceUID = study_instance_uid
    item.ReferencedSeriesSequence = [series]
    return item
