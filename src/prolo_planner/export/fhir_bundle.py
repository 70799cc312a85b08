"""The procedure record as a FHIR R4 bundle for the EHR, validated before it is written.

One `Procedure` (code, body sites with laterality, performer, indication, complications,
follow-up, the note and the guidance images as its report) and one `MedicationAdministration` per
planned site, `partOf` the Procedure: completed with what was given (a `Medication` with its
ingredients, strengths and lot), the needle (`Device`), the approach and the site (a
`BodyStructure` with its laterality coded), or not-done with the reason. Beside them the
`Patient`, the `Practitioner`, the note (`DocumentReference`: the plain text inline, the PDF by
name), the guidance (`DiagnosticReport` with the key images as `Media` and the DICOM objects as
an `ImagingStudy`), and the pain scores before and after (`Observation`).

The bundle is a `collection`: entries are named `urn:uuid:` from the plan version, so exporting
the same version again gives the same bundle. It is validated with `fhir.resources` (R4B, whose
Procedure, MedicationAdministration and the rest are those of R4); a record with a required field
empty, or a bundle the library refuses, is refused with the field named, and nothing is written.
Codes are SNOMED CT, LOINC, UCUM and DICOM's as pydicom's code dictionary holds them.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.sr.codedict import codes

from prolo_planner.core.plan import (
    Anaesthetic,
    Complication,
    Plan,
    Side,
    SiteStatus,
    Target,
    TargetKind,
)
from prolo_planner.core.procedure import (
    GUIDANCE_STATEMENT,
    missing_fields,
    needle_text,
    reason_words,
    site_label,
    solution_text,
)
from prolo_planner.export.errors import ExportError
from prolo_planner.files import write_bytes_atomic

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
DICOM_UID = "urn:dicom:uid"
#: Local codes of this app, for what no standard code says.
LOCAL = "urn:prolo-planner:codes"
BODY_STRUCTURE_EXT = "http://hl7.org/fhir/StructureDefinition/procedure-targetBodyStructure"
BODY_SITE_EXT = "http://hl7.org/fhir/StructureDefinition/bodySite"
_NAMESPACE = uuid.UUID("5b0c9f1e-6f5e-4b8a-9f57-3c1f0e2d7a41")


def _sct(code: Any) -> dict[str, str]:
    return {"system": SNOMED, "code": str(code.value), "display": str(code.meaning)}


LATERALITY: dict[Side, dict[str, str]] = {
    Side.LEFT: _sct(codes.SCT.Left),
    Side.RIGHT: _sct(codes.SCT.Right),
    Side.BILATERAL: _sct(codes.SCT.Bilateral),
    Side.MIDLINE: _sct(codes.SCT.Midline),
}
#: The catalogs' regions (core/catalog) as SNOMED CT body structures (DICOM CID 4031 codes).
REGION: dict[str, dict[str, str]] = {
    "lumbar_spine": _sct(codes.SCT.LumbarSpine),
    "cervical_spine": _sct(codes.SCT.CervicalSpine),
    "thoracic_spine_ribs": _sct(codes.SCT.ThoracicSpine),
    "sacroiliac_pelvis": _sct(codes.SCT.SacroiliacJoint),
    "hip": _sct(codes.SCT.HipJoint),
    "shoulder": _sct(codes.SCT.Shoulder),
    "elbow": _sct(codes.SCT.ElbowJoint),
    "wrist_hand": _sct(codes.SCT.WristJoint),
    "knee": _sct(codes.SCT.Knee),
    "ankle_foot": _sct(codes.SCT.AnkleJoint),
}
TARGET_STRUCTURE: dict[TargetKind, dict[str, str]] = {
    TargetKind.LIGAMENT: _sct(codes.SCT.Ligament),
    TargetKind.TENDON: _sct(codes.SCT.Tendon),
}
COMPLICATION: dict[Complication, dict[str, str]] = {
    Complication.VASOVAGAL: _sct(codes.SCT.VasovagalSyncope),
    Complication.BLEEDING: _sct(codes.SCT.InjectionSiteHemorrhage),
    Complication.PARAESTHESIA: _sct(codes.SCT.InjectionSiteParesthesia),
}
NO_COMPLICATIONS = {"system": DCM, "code": "111492", "display": "No complications"}
ANAESTHETIC_CODE: dict[Anaesthetic, dict[str, str]] = {
    Anaesthetic.LIDOCAINE: _sct(codes.SCT.Lidocaine),
}
PROCEDURE_CODE = {
    "coding": [
        {"system": LOCAL, "code": "us-guided-prolotherapy", "display": "Prolotherapy injection"},
        _sct(codes.SCT.UltrasonicGuidanceProcedure),
    ],
    "text": "Ultrasound-guided prolotherapy injection",
}
NOTE_TYPE = {"system": LOINC, "code": "28570-0", "display": "Procedure note"}
PAIN_CODE = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
GENDER = {"M": "male", "F": "female", "O": "other"}


class FhirRefused(ExportError):
    """The record cannot go to the EHR as it is: `fields` names what to complete or correct."""

    def __init__(self, fields: Sequence[str], lead: str = "") -> None:
        self.fields = tuple(fields)
        said = "; ".join(self.fields)
        super().__init__(f"the FHIR bundle was not written: {lead}{said}")


@dataclass(frozen=True, slots=True)
class DicomInstance:
    """A DICOM object the bundle names: a key image's Secondary Capture or the SR."""

    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    modality: str  # "OT" for a capture, "SR"


@dataclass(frozen=True, slots=True)
class FhirImage:
    """A key image of the record: its caption, its PNG beside the bundle, its DICOM object."""

    caption: str
    file_name: str = ""
    dicom: DicomInstance | None = None


@dataclass(frozen=True, slots=True)
class FhirContext:
    """What the bundle takes from outside the plan: who, when, and the files beside it."""

    patient_id: str  # the clinic's ID (MRN), or a pseudonym
    patient_family: str = ""
    patient_given: tuple[str, ...] = ()
    patient_issuer: str = ""
    birth_date: str = ""  # YYYY-MM-DD
    sex: str = ""  # M, F, O
    clinician: str = ""
    region: str = ""  # the session's region id
    side: Side = Side.UNSPECIFIED
    started_at: str = ""  # local ISO: the procedure's time when the record gives none
    signed: bool = False
    signed_by: str = ""
    signed_at: str = ""  # UTC ISO with Z
    pain_before: int | None = None
    pain_after: int | None = None
    note_text: str = ""
    note_pdf: str = ""  # the PDF note's file name beside the bundle ("" when not written)
    key_images: tuple[FhirImage, ...] = ()
    sr: DicomInstance | None = None
    #: Names the bundle and its entries (the plan version's digest).
    key: str = ""
    deidentified: bool = False
    extra_notes: tuple[str, ...] = field(default_factory=tuple)


# -- building ---------------------------------------------------------------------------------
class _Bundle:
    def __init__(self, key: str) -> None:
        self.key = key
        self.entries: list[dict[str, Any]] = []
        self.what: list[str] = []  # each entry in words, for error messages

    def ref(self, kind: str, name: str) -> str:
        return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{self.key}|{kind}|{name}')}"

    def add(self, resource: dict[str, Any], name: str, what: str) -> dict[str, str]:
        full = self.ref(resource["resourceType"], name)
        self.entries.append({"fullUrl": full, "resource": resource})
        self.what.append(what)
        return {"reference": full}


def procedure_bundle(
    plan: Plan, ctx: FhirContext, *, complete: Plan | None = None
) -> dict[str, Any]:
    """The bundle of the plan's procedure record, validated. Raises FhirRefused naming the
    fields to complete (the record's, then any the FHIR library refuses). `complete` is the
    plan whose record must be complete, when `plan` is a de-identified copy of it (whose texts
    the clinician chose to leave out)."""
    missing = missing_fields(complete if complete is not None else plan)
    if missing:
        raise FhirRefused([str(m) for m in missing], lead="the procedure record misses ")
    document = _build(plan, ctx)
    validate(document, _what_of(document))
    return document


def _build(plan: Plan, ctx: FhirContext) -> dict[str, Any]:
    record = plan.procedure
    assert record is not None
    b = _Bundle(ctx.key or plan.id)
    when = _date_time(record.performed_at or ctx.started_at)
    patient = b.add(_patient(ctx), "patient", "Patient")
    performer = b.add(_practitioner(ctx.clinician), "performer", "Practitioner (performer)")
    procedure_ref = {"reference": b.ref("Procedure", "procedure")}
    targets = plan.targets()

    # The sites: where (BodyStructure), what (Medication), through what (Device).
    structures: dict[str, dict[str, str]] = {}
    devices: dict[tuple[int, float], dict[str, str]] = {}
    for n, target in enumerate(targets, start=1):
        structures[target.id] = b.add(
            _body_structure(plan, target, n, patient, ctx), f"site {target.id}", f"site {n}"
        )
    administrations = []
    for n, target in enumerate(targets, start=1):
        site = record.site(target.id)
        assert site is not None  # missing_fields said every site is recorded
        label = site_label(target, n)
        admin: dict[str, Any] = {
            "resourceType": "MedicationAdministration",
            "partOf": [procedure_ref],
            "subject": patient,
            "effectiveDateTime": when,
            "performer": [{"actor": performer}],
        }
        if target.status is SiteStatus.SKIPPED:
            admin |= {
                "status": "not-done",
                "statusReason": [{"text": reason_words(site) or "not done"}],
                "medicationCodeableConcept": {"text": solution_text(site.given)},
                "note": [{"text": f"{label}: planned, not done"}],
            }
        else:
            needle = (site.needle_gauge, site.needle_length_mm)
            if needle not in devices:
                devices[needle] = b.add(
                    _needle(needle, patient), f"needle {needle}", f"needle {needle_text(*needle)}"
                )
            medication = b.add(_medication(site), f"medication {target.id}", f"medicine, site {n}")
            key_note = ""
            if site.tip_seen:
                key_note = "Needle tip seen at the target on real-time ultrasound."
            elif site.tip_seen is False:
                key_note = "Needle tip not seen at the target."
            admin |= {
                "status": "completed",
                "medicationReference": medication,
                "device": [devices[needle]],
                "dosage": {
                    "text": f"{site.given.volume_ml:g} mL of {solution_text(site.given)} "
                    f"at {label}",
                    "site": _site_concept(target, structures[target.id]),
                    "route": {"text": "infiltration"},
                    "method": {"text": f"ultrasound-guided, {site.approach.value}"},
                    "dose": _ml(site.given.volume_ml),
                },
                "note": [{"text": key_note}] if key_note else [],
            }
            if not admin["note"]:
                del admin["note"]
        administrations.append(
            b.add(admin, f"administration {target.id}", f"MedicationAdministration, site {n}")
        )

    # The note and the images: what the Procedure's report points at.
    reports = [b.add(_note(ctx, patient, performer), "note", "DocumentReference (the note)")]
    media = []
    for i, image in enumerate(ctx.key_images, start=1):
        media.append(
            {
                "comment": image.caption,
                "link": b.add(_media(image, patient, when), f"image {i}", f"key image {i}"),
            }
        )
    study_refs = [
        b.add(study, f"study {uid}", f"ImagingStudy {uid}")
        for uid, study in _studies(ctx, patient, when).items()
    ]
    guidance: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "status": "final" if ctx.signed else "preliminary",
        "code": {"coding": [_sct(codes.SCT.UltrasonicGuidanceProcedure)]},
        "subject": patient,
        "effectiveDateTime": when,
        "performer": [performer],
        "conclusion": GUIDANCE_STATEMENT,
    }
    if media:
        guidance["media"] = media
    if study_refs:
        guidance["imagingStudy"] = study_refs
    reports.append(b.add(guidance, "guidance", "DiagnosticReport (ultrasound guidance)"))

    for which, score in (("before", ctx.pain_before), ("after", ctx.pain_after)):
        if score is not None:
            b.add(
                _pain(which, score, patient, when, procedure_ref), f"pain {which}", f"pain {which}"
            )

    # The Procedure goes right after who: every other entry above points at it or from it.
    procedure = _procedure(plan, ctx, patient, performer, when, structures, devices, reports)
    b.entries.insert(2, {"fullUrl": procedure_ref["reference"], "resource": procedure})
    b.what.insert(2, "Procedure")
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(_NAMESPACE, f"{b.key}|bundle")),
        "type": "collection",
        "timestamp": _date_time(_dt.datetime.now().isoformat(timespec="seconds")),
        "entry": b.entries,
    }


def _procedure(
    plan: Plan,
    ctx: FhirContext,
    patient: dict[str, str],
    performer: dict[str, str],
    when: str,
    structures: dict[str, dict[str, str]],
    devices: dict[tuple[int, float], dict[str, str]],
    reports: list[dict[str, str]],
) -> dict[str, Any]:
    record = plan.procedure
    assert record is not None
    targets = plan.targets()
    done = [t for t in targets if t.status is SiteStatus.INJECTED]
    sites: dict[tuple[str, Side], dict[str, Any]] = {}
    for t in targets:
        region = _region_of(plan, t, ctx.region)
        key = (region, t.side)
        if key not in sites:
            sites[key] = _region_concept(region, t.side)
    complications: list[dict[str, Any]]
    if record.complications:
        complications = [
            {"coding": [COMPLICATION[c]], "text": c.value}
            if c in COMPLICATION
            else {"text": record.complication_text or c.value}
            for c in record.complications
        ]
    else:
        complications = [{"coding": [NO_COMPLICATIONS], "text": "none"}]
    consent = record.consent.value if record.consent is not None else "not recorded"
    by = f", obtained by {record.consent_by}" if record.consent_by else ""
    notes = [
        f"Consent: {consent}{by}.",
        "Time-out performed." if record.time_out else "No time-out performed.",
        f"Skin preparation: {record.skin_prep_words}." if record.skin_prep_words else "",
        GUIDANCE_STATEMENT,
        *ctx.extra_notes,
    ]
    procedure: dict[str, Any] = {
        "resourceType": "Procedure",
        "extension": [
            {"url": BODY_STRUCTURE_EXT, "valueReference": structures[t.id]} for t in targets
        ],
        "status": "completed" if done else "not-done",
        "code": PROCEDURE_CODE,
        "subject": patient,
        "performedDateTime": when,
        "performer": [{"actor": performer}],
        "reasonCode": [{"text": record.indication}] if record.indication.strip() else [],
        "bodySite": list(sites.values()),
        "report": reports,
        "complication": complications,
        "followUp": [{"text": record.instructions}] if record.instructions.strip() else [],
        "note": [{"text": text} for text in notes if text],
        "usedCode": [
            {"coding": [_sct(codes.SCT.Needle)], "text": f"{needle_text(*n)} needle"}
            for n in devices
        ],
    }
    if not done:
        procedure["statusReason"] = {"text": "no planned site was injected"}
    for name in ("usedCode", "extension", "reasonCode", "followUp"):
        if not procedure[name]:
            del procedure[name]
    return procedure


# -- resources ----------------------------------------------------------------------------------
def _patient(ctx: FhirContext) -> dict[str, Any]:
    identifier: dict[str, Any] = {"value": ctx.patient_id}
    if ctx.patient_issuer:
        identifier["assigner"] = {"display": ctx.patient_issuer}
    patient: dict[str, Any] = {"resourceType": "Patient", "identifier": [identifier]}
    if ctx.patient_family or ctx.patient_given:
        name: dict[str, Any] = {}
        if ctx.patient_family:
            name["family"] = ctx.patient_family
        if ctx.patient_given:
            name["given"] = list(ctx.patient_given)
        patient["name"] = [name]
    patient["gender"] = GENDER.get(ctx.sex, "unknown")
    if ctx.birth_date:
        patient["birthDate"] = ctx.birth_date
    return patient


def _practitioner(name: str) -> dict[str, Any]:
    practitioner: dict[str, Any] = {"resourceType": "Practitioner"}
    if name.strip():
        practitioner["name"] = [{"text": name.strip()}]
    return practitioner


def _region_of(plan: Plan, target: Target, session_region: str) -> str:
    try:
        region = plan.image(target.image_id).region
    except KeyError:
        region = ""
    return region or session_region


def _region_concept(region: str, side: Side) -> dict[str, Any]:
    from prolo_planner.core.catalog import load_catalogs

    found = load_catalogs().region(region) if region else None
    words = found.name if found is not None else (region.replace("_", " ") or "site")
    concept: dict[str, Any] = {"text": words + (f", {side.value}" if side in LATERALITY else "")}
    if region in REGION:
        concept["coding"] = [REGION[region]]
    return concept


def _body_structure(
    plan: Plan, target: Target, number: int, patient: dict[str, str], ctx: FhirContext
) -> dict[str, Any]:
    region = _region_of(plan, target, ctx.region)
    location = dict(_region_concept(region, Side.UNSPECIFIED))
    structure = TARGET_STRUCTURE.get(target.kind)
    location = {
        "coding": [structure] if structure else location.get("coding", []),
        "text": target.name or f"{target.kind.value} site {number}",
    }
    if not location["coding"]:
        del location["coding"]
    body: dict[str, Any] = {
        "resourceType": "BodyStructure",
        "patient": patient,
        "location": location,
        "description": site_label(target, number),
    }
    if target.side in LATERALITY:
        body["locationQualifier"] = [{"coding": [LATERALITY[target.side]]}]
    return body


def _site_concept(target: Target, structure: dict[str, str]) -> dict[str, Any]:
    concept: dict[str, Any] = {
        "extension": [{"url": BODY_SITE_EXT, "valueReference": structure}],
        "text": site_label(target),
    }
    kind = TARGET_STRUCTURE.get(target.kind)
    if kind is not None:
        concept["coding"] = [kind]
    return concept


def _medication(site: Any) -> dict[str, Any]:
    given = site.given
    ingredients = [
        {
            "itemCodeableConcept": {"text": "dextrose"},
            "isActive": True,
            "strength": _per_100_ml(given.dextrose_percent),
        }
    ]
    if given.anaesthetic is not Anaesthetic.NONE and given.anaesthetic_percent > 0:
        item: dict[str, Any] = {"text": given.anaesthetic.value}
        if given.anaesthetic in ANAESTHETIC_CODE:
            item["coding"] = [ANAESTHETIC_CODE[given.anaesthetic]]
        ingredients.append(
            {
                "itemCodeableConcept": item,
                "isActive": True,
                "strength": _per_100_ml(given.anaesthetic_percent),
            }
        )
    medication: dict[str, Any] = {
        "resourceType": "Medication",
        "code": {"text": solution_text(given)},
        "form": {"text": "solution for injection"},
        "ingredient": ingredients,
    }
    if site.lot_number.strip():
        medication["batch"] = {"lotNumber": site.lot_number.strip()}
    return medication


def _needle(needle: tuple[int, float], patient: dict[str, str]) -> dict[str, Any]:
    return {
        "resourceType": "Device",
        "type": {"coding": [_sct(codes.SCT.Needle)], "text": "hypodermic needle"},
        "deviceName": [{"name": f"{needle_text(*needle)} needle", "type": "user-friendly-name"}],
        "patient": patient,
    }


def _note(ctx: FhirContext, patient: dict[str, str], author: dict[str, str]) -> dict[str, Any]:
    content = [
        {
            "attachment": {
                "contentType": "text/plain; charset=utf-8",
                "language": "en",
                "data": base64.b64encode(ctx.note_text.encode("utf-8")).decode("ascii"),
                "title": "Procedure note",
            }
        }
    ]
    if ctx.note_pdf:
        content.append(
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "url": ctx.note_pdf,
                    "title": "Procedure note (PDF)",
                }
            }
        )
    note: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "status": "current",
        "docStatus": "final" if ctx.signed else "preliminary",
        "type": {"coding": [NOTE_TYPE]},
        "subject": patient,
        "author": [author],
        "description": "Procedure note: ultrasound-guided prolotherapy",
        "content": content,
    }
    if ctx.signed and ctx.signed_at:
        note["date"] = _instant(ctx.signed_at)
        note["authenticator"] = author
    return note


def _media(image: FhirImage, patient: dict[str, str], when: str) -> dict[str, Any]:
    attachment: dict[str, Any] = {"title": image.caption}
    if image.file_name:
        attachment |= {"contentType": "image/png", "url": image.file_name}
    elif image.dicom is not None:
        attachment |= {
            "contentType": "application/dicom",
            "url": f"urn:oid:{image.dicom.sop_instance_uid}",
        }
    media: dict[str, Any] = {
        "resourceType": "Media",
        "status": "completed",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/media-type",
                    "code": "image",
                    "display": "Image",
                }
            ]
        },
        "modality": {"coding": [{"system": DCM, "code": "US", "display": "Ultrasound"}]},
        "subject": patient,
        "createdDateTime": when,
        "content": attachment,
    }
    if image.dicom is not None:
        media["identifier"] = [
            {"system": DICOM_UID, "value": f"urn:oid:{image.dicom.sop_instance_uid}"}
        ]
    return media


def _studies(ctx: FhirContext, patient: dict[str, str], when: str) -> dict[str, dict[str, Any]]:
    """The DICOM objects of the record (key image captures and the SR), study by study."""
    instances = [i.dicom for i in ctx.key_images if i.dicom is not None]
    if ctx.sr is not None:
        instances.append(ctx.sr)
    studies: dict[str, dict[str, Any]] = {}
    for obj in instances:
        study = studies.setdefault(
            obj.study_instance_uid,
            {
                "resourceType": "ImagingStudy",
                "identifier": [{"system": DICOM_UID, "value": f"urn:oid:{obj.study_instance_uid}"}],
                "status": "available",
                "subject": patient,
                "started": when,
                "series": [],
            },
        )
        series = next((s for s in study["series"] if s["uid"] == obj.series_instance_uid), None)
        if series is None:
            series = {
                "uid": obj.series_instance_uid,
                "modality": {"system": DCM, "code": obj.modality},
                "instance": [],
            }
            study["series"].append(series)
        if all(i["uid"] != obj.sop_instance_uid for i in series["instance"]):
            series["instance"].append(
                {
                    "uid": obj.sop_instance_uid,
                    "sopClass": {
                        "system": "urn:ietf:rfc:3986",
                        "code": f"urn:oid:{obj.sop_class_uid}",
                    },
                }
            )
    for study in studies.values():
        study["numberOfSeries"] = len(study["series"])
        study["numberOfInstances"] = sum(len(s["instance"]) for s in study["series"])
    return studies


def _pain(
    which: str, score: int, patient: dict[str, str], when: str, procedure: dict[str, str]
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "partOf": [procedure],
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                    }
                ]
            }
        ],
        "code": {"coding": [PAIN_CODE], "text": f"Pain {which} the procedure (0-10)"},
        "subject": patient,
        "effectiveDateTime": when,
        "valueInteger": score,
    }


def _ml(value: float) -> dict[str, Any]:
    return {"value": round(value, 3), "unit": "mL", "system": UCUM, "code": "mL"}


def _per_100_ml(percent: float) -> dict[str, Any]:
    """A w/v percentage as FHIR writes a strength: grams per 100 mL."""
    return {
        "numerator": {"value": round(percent, 4), "unit": "g", "system": UCUM, "code": "g"},
        "denominator": {"value": 100, "unit": "mL", "system": UCUM, "code": "mL"},
    }


def _date_time(local_iso: str) -> str:
    """A local ISO time as a FHIR dateTime: with the workstation's UTC offset (FHIR requires
    one with a time of day); a date alone stays a date."""
    if not local_iso:
        return _dt.date.today().isoformat()
    when = _dt.datetime.fromisoformat(local_iso)
    if when.tzinfo is None:
        when = when.astimezone()
    return when.isoformat(timespec="seconds")


def _instant(utc_iso: str) -> str:
    when = _dt.datetime.fromisoformat(utc_iso.replace("Z", "+00:00"))
    return when.isoformat(timespec="seconds")


# -- validation ---------------------------------------------------------------------------------
def _what_of(document: dict[str, Any]) -> list[str]:
    out = []
    for entry in document.get("entry", []):
        resource = entry.get("resource") or {}
        out.append(str(resource.get("resourceType", "entry")))
    return out


def validate(document: dict[str, Any], what: Sequence[str] = ()) -> None:
    """Validate the bundle with fhir.resources; FhirRefused names each field it refuses."""
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        Bundle.model_validate(document)
    except ValidationError as exc:
        raise FhirRefused([_field_of(err, document, what) for err in exc.errors()]) from None


def _field_of(err: Any, document: dict[str, Any], what: Sequence[str]) -> str:
    loc = list(err.get("loc", ()))
    where = "Bundle"
    if len(loc) >= 3 and loc[0] == "entry" and isinstance(loc[1], int) and loc[2] == "resource":
        index = loc[1]
        kind = what[index] if index < len(what) else "entry"
        resource = document["entry"][index].get("resource") or {}
        where = str(resource.get("resourceType", kind))
        loc = loc[3:]
    path = ".".join(str(p) for p in loc if not isinstance(p, int))
    message = str(err.get("msg", "not valid"))
    return f"{where}.{path}: {message}" if path else f"{where}: {message}"


def write_bundle(document: dict[str, Any], path: Path | str) -> Path:
    """Written atomically, readable by this user only (0600): it is a patient's record."""
    text = json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    return write_bytes_atomic(Path(path), text.encode("utf-8"))


def bundle_key(digest: str, deidentified: bool) -> str:
    """What names a bundle's entries: the plan version, and whether it is de-identified."""
    return hashlib.sha256(f"{digest}|{'deid' if deidentified else 'plain'}".encode()).hexdigest()
