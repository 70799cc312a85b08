"""Who and which visit an exported image or report is about, as the chart prints it.

From the session store (patient and session), or from a DICOM image's header for a plan that is
in no session. A de-identified header keeps the same pseudonym, patient ID and date shift as the
de-identified DICOM objects made with the same key, and drops every name and free text.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass

from pydicom.dataset import Dataset

from prolo_planner.core.catalog import region_name
from prolo_planner.core.plan import Side
from prolo_planner.export.deidentify import PseudonymKey, patient_identity
from prolo_planner.export.deidentify_profile import DateHandling
from prolo_planner.store.records import Patient, Session, sex_text


def person_name(dicom_name: str) -> str:
    """'FAMILY, Given Middle' from DICOM's FAMILY^Given^Middle."""
    family, _, rest = str(dicom_name).partition("^")
    given = " ".join(p for p in rest.split("^") if p)
    return f"{family}, {given}" if given else family


@dataclass(frozen=True, slots=True)
class ReportHeader:
    patient_name: str  # as the chart writes it: "DEMO, Alex"
    patient_id: str
    birth_date: str = ""  # ISO YYYY-MM-DD
    sex: str = ""
    weight_kg: float | None = None
    session_id: int | None = None
    session_version: int = 1
    started_at: str = ""  # ISO datetime, the clinic's local time
    region: str = ""  # catalog region id
    side: Side = Side.UNSPECIFIED
    clinician: str = ""
    signed: bool = False
    signed_by: str = ""
    signed_at: str = ""  # UTC ISO
    #: What was unresolved when the clinician signed, and they signed over it.
    signed_over: tuple[str, ...] = ()
    pain_before: int | None = None
    pain_after: int | None = None
    notes: str = ""
    plan_title: str = ""
    #: The pseudonym, when the header was de-identified.
    pseudonym: str = ""
    #: The input of pseudonyms and date shifts (see export.deidentify.patient_identity).
    identity: str = ""

    @classmethod
    def from_session(cls, patient: Patient, session: Session, plan_title: str = "") -> ReportHeader:
        return cls(
            patient_name=patient.display_name,
            patient_id=patient.mrn,
            birth_date=patient.birth_date,
            sex=patient.sex,
            weight_kg=patient.weight_kg,
            session_id=session.id,
            session_version=session.version,
            started_at=session.started_at,
            region=session.region,
            side=session.side,
            clinician=session.clinician,
            signed=session.is_signed,
            signed_by=session.signed_by or "",
            signed_at=session.signed_at or "",
            signed_over=session.signed_over,
            pain_before=session.pain_before,
            pain_after=session.pain_after,
            notes=session.notes,
            plan_title=plan_title,
            # As export.deidentify.patient_identity reads the same patient from a DICOM header.
            identity=f"id:{patient.mrn}|",
        )

    @classmethod
    def from_dataset(cls, ds: Dataset, plan_title: str = "") -> ReportHeader:
        """A plan in no session: the patient and study of its first DICOM image."""
        date, time = str(ds.get("StudyDate", "") or ""), str(ds.get("StudyTime", "") or "")
        started = ""
        if len(date) == 8 and date.isdigit():
            started = f"{date[:4]}-{date[4:6]}-{date[6:]}"
            if len(time) >= 4 and time[:4].isdigit():
                started += f"T{time[:2]}:{time[2:4]}:00"
        birth = str(ds.get("PatientBirthDate", "") or "")
        weight = ds.get("PatientWeight")
        return cls(
            patient_name=person_name(str(ds.get("PatientName", "") or "")),
            patient_id=str(ds.get("PatientID", "") or ""),
            birth_date=f"{birth[:4]}-{birth[4:6]}-{birth[6:8]}" if len(birth) == 8 else "",
            sex=str(ds.get("PatientSex", "") or ""),
            weight_kg=float(weight) if weight not in (None, "") else None,
            started_at=started,
            plan_title=plan_title,
            identity=patient_identity(ds),
        )

    def deidentified(
        self, key: PseudonymKey, dates: DateHandling = DateHandling.SHIFT, notes: str = ""
    ) -> ReportHeader:
        """The same visit for teaching: the pseudonym and ID the DICOM exports get (from the same
        identity), dates moved back by the same days (or none), no session number, birth date,
        sex, weight or names of people; `notes` are the session notes the clinician approved."""
        code = key.pseudonym(self.identity)
        shift = _dt.timedelta(days=key.day_shift(self.identity))
        started = ""
        if self.started_at and dates is DateHandling.SHIFT:
            started = (_dt.datetime.fromisoformat(self.started_at) - shift).isoformat()
        return dataclasses.replace(
            self,
            patient_name=f"Anonymized {code}",
            patient_id=f"ANON-{code}",
            birth_date="",
            sex="",
            weight_kg=None,
            session_id=None,
            started_at=started,
            clinician="",
            signed_by="",
            signed_at="",
            # The items name images and sites by the clinician's words: only how many.
            signed_over=(
                (f"{len(self.signed_over)} unresolved item(s), listed in the identified report",)
                if self.signed_over
                else ()
            ),
            notes=notes,
            plan_title="",
            pseudonym=code,
        )

    # -- as text ---------------------------------------------------------------------------------
    @property
    def is_deidentified(self) -> bool:
        return bool(self.pseudonym)

    @property
    def when(self) -> str:
        """'2026-11-06 09:30', or '' when not known."""
        if not self.started_at:
            return ""
        return _dt.datetime.fromisoformat(self.started_at).strftime("%Y-%m-%d %H:%M")

    @property
    def where(self) -> str:
        """'Lumbar spine, midline'."""
        side = "" if self.side is Side.UNSPECIFIED else self.side.value
        return ", ".join(p for p in (region_name(self.region), side) if p)

    @property
    def patient_line(self) -> str:
        bits = [self.patient_name or "(no name)", f"ID {self.patient_id or '(none)'}"]
        if self.birth_date:
            bits.append(f"born {self.birth_date}")
        if self.sex:
            bits.append(sex_text(self.sex))
        if self.is_deidentified:
            bits.append("de-identified")
        return " · ".join(bits)

    @property
    def session_line(self) -> str:
        # A plan in no session (or a de-identified one) is dated by its images' study.
        what = "Study" if self.session_id is None else f"Session #{self.session_id}"
        if self.session_version > 1:
            what += f" (version {self.session_version})"
        bits = [what]
        if self.when:
            bits.append(self.when)
        if self.where:
            bits.append(self.where)
        if self.clinician:
            bits.append(self.clinician)
        return " · ".join(bits)

    @property
    def state_text(self) -> str:
        if not self.signed:
            return "Draft, not signed"
        if self.signed_by:
            return f"Signed by {self.signed_by}" + (
                f" on {self.signed_at[:10]}" if self.signed_at else ""
            )
        return "Signed"
