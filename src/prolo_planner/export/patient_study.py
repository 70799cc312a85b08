"""Whose images and which visit an exported DICOM object belongs to: its patient and study.

A DICOM source brings its own patient and study, which every export keeps so the PACS files the
export beside the source. A video or a frame grab has none: the patient comes from the session
store, and the study is the session (visit), with a Study Instance UID derived from the patient
and the session's start, so every export of one session lands in one study.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass

from pydicom.dataset import Dataset

from prolo_planner.core.plan import Side
from prolo_planner.export.dicom_writing import as_reference, derived_uid, new_uid
from prolo_planner.store.records import Patient, Session

#: The Patient and General Study attributes a PatientStudy carries, by DICOM keyword.
_FIELDS = {
    "patient_name": "PatientName",
    "patient_id": "PatientID",
    "issuer_of_patient_id": "IssuerOfPatientID",
    "patient_birth_date": "PatientBirthDate",
    "patient_sex": "PatientSex",
    "study_instance_uid": "StudyInstanceUID",
    "study_date": "StudyDate",
    "study_time": "StudyTime",
    "accession_number": "AccessionNumber",
    "referring_physician_name": "ReferringPhysicianName",
    "study_id": "StudyID",
    "study_description": "StudyDescription",
}
_SEXES = frozenset({"M", "F", "O"})
#: Catalog region id -> DICOM Body Part Examined (PS3.16 Annex L defined terms).
BODY_PARTS = {
    "lumbar_spine": "LSPINE",
    "cervical_spine": "CSPINE",
    "thoracic_spine_ribs": "TSPINE",
    # dciodvfy knows no "SIJ": the pelvis, unpaired; the side stays in each target of the SR.
    "sacroiliac_pelvis": "PELVIS",
    "hip": "HIP",
    "shoulder": "SHOULDER",
    "elbow": "ELBOW",
    "wrist_hand": "HAND",
    "knee": "KNEE",
    "ankle_foot": "ANKLE",
}
#: Body parts that come in pairs: their series must say which side (or that it is unknown).
PAIRED = frozenset(
    {"HIP", "SHOULDER", "ELBOW", "HAND", "WRIST", "KNEE", "ANKLE", "FOOT", "ARM", "LEG"}
    | {"THIGH", "FOREARM", "KNEE", "CLAVICLE", "SCAPULA", "FINGER", "TOE", "UPRARM", "LOWLEG"}
)
#: PS3.16 Annex L Body Part Examined defined terms a musculoskeletal ultrasound header may carry.
KNOWN_BODY_PARTS = (
    frozenset(BODY_PARTS.values())
    | PAIRED
    | frozenset({"SPINE", "PELVIS", "NECK", "CHEST", "ABDOMEN", "BREAST", "HEAD", "SACRUM"})
    | frozenset({"COCCYX", "RIB", "SSPINE", "WHOLEBODY", "EXTREMITY", "HEART", "THYROID"})
)
_LATERALITY = {Side.LEFT: "L", Side.RIGHT: "R"}


def body_site(region: str, side: Side, source: Dataset | None = None) -> tuple[str, str]:
    """Body Part Examined and Laterality (R, L or "") of an export of one image.

    The image's own header where it says (a defined term; laterality R or L), else what the
    clinician said of the image (its region and side). An unpaired part (the spine) has no
    laterality, whatever side of it was treated: DICOM's Laterality is of paired parts only.
    """
    part = _text(source, "BodyPartExamined").upper() if source is not None else ""
    if part not in KNOWN_BODY_PARTS:
        part = BODY_PARTS.get(region, "")
    laterality = ""
    if source is not None:
        said = _text(source, "Laterality") or _text(source, "ImageLaterality")
        laterality = said if said in ("R", "L") else ""
    if not laterality:
        laterality = _LATERALITY.get(side, "")
    if part and part not in PAIRED:
        laterality = ""
    return part, laterality


@dataclass(frozen=True, slots=True)
class PatientStudy:
    """The patient and study of an export, as DICOM text (dates YYYYMMDD, times HHMMSS)."""

    patient_name: str
    patient_id: str
    study_instance_uid: str
    patient_birth_date: str = ""
    patient_sex: str = ""
    study_date: str = ""
    study_time: str = ""
    accession_number: str = ""
    referring_physician_name: str = ""
    study_id: str = ""
    study_description: str = ""
    issuer_of_patient_id: str = ""
    #: Series-level, for the export's new series: the body part and side the images show.
    body_part: str = ""
    laterality: str = ""  # R, L or "" (not paired, or not known)

    @classmethod
    def from_dataset(cls, ds: Dataset) -> PatientStudy:
        """The source image's own patient and study (kept as they are, even when empty; old
        ACR-NEMA dates in DICOM's form)."""
        ds = as_reference(ds)
        values = {field: _text(ds, keyword) for field, keyword in _FIELDS.items()}
        if not values["study_instance_uid"]:
            # Derived, not random: the exports of this image stay in one study, run after run.
            sop = _text(ds, "SOPInstanceUID")
            values["study_instance_uid"] = (
                derived_uid("prolo-planner study of", sop) if sop else new_uid()
            )
        part, laterality = body_site("", Side.UNSPECIFIED, ds)
        return cls(**values, body_part=part, laterality=laterality)

    @classmethod
    def from_session(
        cls, patient: Patient, session: Session, study_instance_uid: str | None = None
    ) -> PatientStudy:
        """The store's patient, and the session as the study (for videos and stills)."""
        started = _dt.datetime.fromisoformat(session.started_at)
        # Derived from the visit, so every export of the session lands in one study.
        uid = study_instance_uid or derived_uid(
            "prolo-planner session study", patient.mrn, started.isoformat()
        )
        side = "" if session.side is Side.UNSPECIFIED else session.side.value
        what = " ".join(part for part in (session.region.replace("_", " "), side) if part)
        return cls(
            patient_name=patient.name,
            patient_id=patient.mrn,
            study_instance_uid=uid,
            patient_birth_date=patient.birth_date.replace("-", ""),
            patient_sex=patient.sex if patient.sex in _SEXES else "",
            issuer_of_patient_id=patient.issuer,
            study_date=started.strftime("%Y%m%d"),
            study_time=started.strftime("%H%M%S"),
            study_id=started.strftime("%y%m%d%H%M"),  # the visit's start: same for amendments
            study_description=f"Prolotherapy session ({what})" if what else "Prolotherapy session",
            body_part=(body := body_site(session.region, session.side))[0],
            laterality=body[1],
        )

    def apply_to(self, ds: Dataset) -> None:
        """Write the Patient and General Study attributes (type 2 ones even when empty)."""
        for field, keyword in _FIELDS.items():
            value = getattr(self, field)
            if value or keyword not in ("IssuerOfPatientID", "StudyDescription"):
                setattr(ds, keyword, value)
            elif keyword in ds:
                del ds[keyword]

    def apply_body_to(self, ds: Dataset) -> None:
        """Body Part Examined and Laterality of a new series (apply_body)."""
        apply_body(ds, (self.body_part, self.laterality))

    def with_body(self, body: tuple[str, str] | None) -> PatientStudy:
        """The same patient and study with another body part and laterality (body_site)."""
        if body is None:
            return self
        return dataclasses.replace(self, body_part=body[0], laterality=body[1])


def apply_body(ds: Dataset, body: tuple[str, str]) -> None:
    """Write Body Part Examined and Laterality (body_site). Laterality is there, empty, when
    the part is paired (or unknown) but the side is not said (General Series type 2C); an
    unpaired part has none."""
    part, laterality = body
    if part:
        ds.BodyPartExamined = part
    if not part or part in PAIRED:
        ds.Laterality = laterality
    elif "Laterality" in ds:
        del ds.Laterality


def _text(ds: Dataset | None, keyword: str) -> str:
    if ds is None:
        return ""
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()
