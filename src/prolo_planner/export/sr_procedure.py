"""The procedure record in the SR's own content, so the PACS holds what was done in words any SR
viewer shows, beside the lossless private record (export.plan_record).

Styled on the DICOM procedure log templates (TID 3001, drugs TID 3106, consumables TID 3104),
placed where TID 1500 allows: the session's items in the report's Qualitative Evaluations
container (TID 1500 rows 12 to 14: CODE and TEXT), and each site's in its target's measurement
group (TID 1501/1410: NUM, CODE and TEXT). Standard codes where DICOM has them (Patient informed
consent given, Complications, No complications, Drug administered, Quantity administered, Lot
Identifier, Needle Gauge, Needle Length, Needle in target, Indications for Procedure, Patient
given post-procedure instruction; SNOMED CT for yes and no, the complications and lidocaine),
local 99PROLO codes for the rest. The key image of each site is in the private record only:
TID 1500 has no place for an image reference there.

`procedure_items` and `site_items` write; `read_procedure` reads them back for a report without
its private record (a PACS that dropped it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import highdicom as hd
from highdicom.sr import CodedConcept
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.sr.codedict import codes

from prolo_planner.core.plan import (
    Anaesthetic,
    Approach,
    Complication,
    Consent,
    Injectate,
    NotDoneReason,
    Plan,
    ProcedureRecord,
    SiteRecord,
    SiteStatus,
    SkinPrep,
    Target,
)
from prolo_planner.export import sr_codes as C

QUALITATIVE_EVALUATIONS = CodedConcept("C0034375", "UMLS", "Qualitative Evaluations")
YES = C.standard(codes.SCT.Yes)
NO = C.standard(codes.SCT.No)

# -- the session's items ----------------------------------------------------------------------
CONSENT_GIVEN = C.standard(codes.DCM.PatientInformedConsentGiven)
CONSENT_FORM = C.local("CONSENT-FORM", "Form of consent")
CONSENTS: dict[Consent, CodedConcept] = {
    Consent.WRITTEN: C.local("WRITTEN", "Written"),
    Consent.VERBAL: C.local("VERBAL", "Verbal"),
}
CONSENT_BY = C.local("CONSENT-BY", "Consent obtained by")
TIME_OUT = C.local("TIME-OUT", "Time-out performed")
SKIN_PREP = C.local("SKIN-PREP", "Skin preparation")
SKIN_PREPS: dict[SkinPrep, CodedConcept] = {
    SkinPrep.CHLORHEXIDINE: C.local("CHX-ALCOHOL", "Chlorhexidine in alcohol"),
    SkinPrep.POVIDONE_IODINE: C.local("POVIDONE-IODINE", "Povidone-iodine"),
    SkinPrep.ALCOHOL: C.local("ALCOHOL", "Alcohol"),
    SkinPrep.OTHER: C.local("OTHER-PREP", "Other skin preparation"),
}
SKIN_PREP_TEXT = C.local("SKIN-PREP-TEXT", "Skin preparation used")
COMPLICATIONS = C.standard(codes.DCM.Complications)
NO_COMPLICATIONS = C.standard(codes.DCM.NoComplications)
COMPLICATION_CODES: dict[Complication, CodedConcept] = {
    Complication.VASOVAGAL: C.standard(codes.SCT.VasovagalSyncope),
    Complication.BLEEDING: C.standard(codes.SCT.InjectionSiteHemorrhage),
    Complication.PARAESTHESIA: C.standard(codes.SCT.InjectionSiteParesthesia),
    Complication.OTHER: C.local("OTHER-COMPL", "Other complication"),
}
COMPLICATION_TEXT = C.local("COMPL-TEXT", "Complication described")
INDICATION = C.standard(codes.DCM.IndicationsForProcedure)
INSTRUCTIONS = C.standard(codes.DCM.PatientGivenPostProcedureInstruction)
GUIDANCE = C.local("US-GUIDANCE", "Real-time ultrasound guidance with permanent recording")

# -- each site's items -------------------------------------------------------------------------
DRUG_ADMINISTERED = C.standard(codes.DCM.DrugAdministered)
DEXTROSE = C.local("DEXTROSE", "Dextrose")
GIVEN_ANAESTHETIC = C.local("GIVEN-ANAESTH", "Local anaesthetic administered")
GIVEN_APPROACH = C.local("GIVEN-APPROACH", "Needle approach used")
NEEDLE_IN_TARGET = C.standard(codes.DCM.NeedleInTarget)
LOT = C.standard(codes.DCM.LotIdentifier)
NOT_DONE = C.local("NOT-DONE-REASON", "Reason the site was not injected")
REASONS: dict[NotDoneReason, CodedConcept] = {
    NotDoneReason.PATIENT_DECLINED: C.local("PATIENT-DECLINED", "Patient declined"),
    NotDoneReason.NOT_TOLERATED: C.local("NOT-TOLERATED", "Not tolerated"),
    NotDoneReason.NOT_SEEN: C.local("TARGET-NOT-SEEN", "Target not seen on ultrasound"),
    NotDoneReason.COMPLICATION: C.local("STOPPED-COMPL", "Stopped after a complication"),
    NotDoneReason.NOT_NEEDED: C.local("NOT-NEEDED", "No longer needed"),
    NotDoneReason.OTHER: C.local("OTHER-REASON", "Other reason"),
}
NOT_DONE_TEXT = C.local("NOT-DONE-TEXT", "Reason not injected, in words")

_ML = CodedConcept("ml", "UCUM", "milliliter")
_PERCENT = CodedConcept("%", "UCUM", "percent")
_MM = CodedConcept("mm", "UCUM", "millimeter")
_GAUGE = CodedConcept("{G}", "UCUM", "gauge")
GIVEN_VOLUME = C.standard(codes.DCM.QuantityAdministered)
GIVEN_DEXTROSE = C.local("GIVEN-DEXT-PCT", "Dextrose concentration administered")
GIVEN_ANAESTHETIC_PERCENT = C.local("GIVEN-ANAES-PCT", "Anaesthetic concentration administered")
NEEDLE_GAUGE = C.standard(codes.DCM.NeedleGauge)
NEEDLE_LENGTH = C.standard(codes.DCM.NeedleLength)
#: Site numbers: (concept, unit, field of the site record).
_NUMBERS = (
    (GIVEN_VOLUME, _ML),
    (GIVEN_DEXTROSE, _PERCENT),
    (GIVEN_ANAESTHETIC_PERCENT, _PERCENT),
    (NEEDLE_GAUGE, _GAUGE),
    (NEEDLE_LENGTH, _MM),
)


# -- writing ------------------------------------------------------------------------------------
def procedure_items(record: ProcedureRecord) -> Dataset:
    """The report's Qualitative Evaluations container with the session's record: only what is
    stated (an item not stated is left out, never written as a guess)."""
    items: list[Dataset] = []

    def code(name: CodedConcept, value: CodedConcept) -> None:
        items.append(hd.sr.CodeContentItem(name, value, relationship_type="CONTAINS"))

    def text(name: CodedConcept, value: str) -> None:
        if value.strip():
            items.append(hd.sr.TextContentItem(name, value, relationship_type="CONTAINS"))

    text(INDICATION, record.indication)
    if record.consent is not None:
        code(CONSENT_GIVEN, YES)
        code(CONSENT_FORM, CONSENTS[record.consent])
    text(CONSENT_BY, record.consent_by)
    if record.time_out is not None:
        code(TIME_OUT, YES if record.time_out else NO)
    if record.skin_prep is not None:
        code(SKIN_PREP, SKIN_PREPS[record.skin_prep])
    text(SKIN_PREP_TEXT, record.skin_prep_text)
    code(GUIDANCE, YES)
    if record.complications is not None:
        if not record.complications:
            code(COMPLICATIONS, NO_COMPLICATIONS)
        for complication in record.complications:
            code(COMPLICATIONS, COMPLICATION_CODES[complication])
    text(COMPLICATION_TEXT, record.complication_text)
    text(INSTRUCTIONS, record.instructions)
    container = hd.sr.ContainerContentItem(QUALITATIVE_EVALUATIONS, relationship_type="CONTAINS")
    container.ContentSequence = Sequence(items)
    return container


@dataclass(frozen=True, slots=True)
class SiteItems:
    """What one target's measurement group says of what was done there."""

    values: list[hd.sr.Measurement] = field(default_factory=list)
    coded: list[tuple[CodedConcept, CodedConcept]] = field(default_factory=list)
    texts: list[tuple[CodedConcept, str]] = field(default_factory=list)


def site_items(target: Target, site: SiteRecord | None) -> SiteItems:
    out = SiteItems()
    if site is None:
        return out
    if target.status is SiteStatus.SKIPPED:
        if site.not_done_reason is not None:
            out.coded.append((NOT_DONE, REASONS[site.not_done_reason]))
        out.texts.append((NOT_DONE_TEXT, site.not_done_text))
        return out
    if target.status is not SiteStatus.INJECTED:
        return out
    given = site.given
    numbers = (
        given.volume_ml,
        given.dextrose_percent,
        given.anaesthetic_percent,
        float(site.needle_gauge),
        site.needle_length_mm,
    )
    for (concept, unit), value in zip(_NUMBERS, numbers, strict=True):
        out.values.append(hd.sr.Measurement(name=concept, value=float(value), unit=unit))
    out.coded.append((DRUG_ADMINISTERED, DEXTROSE))
    out.coded.append((GIVEN_ANAESTHETIC, C.ANAESTHETICS[given.anaesthetic]))
    out.coded.append((GIVEN_APPROACH, C.APPROACHES[site.approach]))
    if site.tip_seen is not None:
        out.coded.append((NEEDLE_IN_TARGET, YES if site.tip_seen else NO))
    out.texts.append((LOT, site.lot_number))
    return out


# -- reading ------------------------------------------------------------------------------------
@dataclass(slots=True)
class ReadSite:
    """A target group's items about what was done, as read."""

    numbers: dict[tuple[str, str], float] = field(default_factory=dict)
    coded: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    texts: dict[tuple[str, str], str] = field(default_factory=dict)


def read_procedure(root: Dataset, plan: Plan, sites: Mapping[str, ReadSite]) -> Plan:
    """The plan with the record its report's content holds (sites by target id); the plan as
    it was when the report has no record (no Qualitative Evaluations of ours)."""
    containers = [
        item
        for item in root.get("ContentSequence", [])
        if _concept(item) == C.key(QUALITATIVE_EVALUATIONS)
    ]
    if not containers:
        return plan
    codes_: dict[tuple[str, str], list[tuple[str, str]]] = {}
    texts: dict[tuple[str, str], str] = {}
    for item in containers[0].get("ContentSequence", []):
        name = _concept(item)
        if item.ValueType == "CODE":
            codes_.setdefault(name, []).append(_code(item.ConceptCodeSequence[0]))
        elif item.ValueType == "TEXT":
            texts[name] = str(item.TextValue)
    if C.key(GUIDANCE) not in codes_:
        return plan  # another writer's qualitative evaluations

    def one(name: CodedConcept) -> tuple[str, str] | None:
        found = codes_.get(C.key(name))
        return found[0] if found else None

    def pick(table: Mapping[Any, CodedConcept], code: tuple[str, str] | None) -> Any:
        return C.reverse(table).get(code) if code is not None else None

    complications: tuple[Complication, ...] | None = None
    said = codes_.get(C.key(COMPLICATIONS))
    if said is not None:
        chosen = C.reverse(COMPLICATION_CODES)
        complications = tuple(chosen[c] for c in said if c in chosen)
    time_out = one(TIME_OUT)
    record = ProcedureRecord(
        indication=texts.get(C.key(INDICATION), ""),
        consent=pick(CONSENTS, one(CONSENT_FORM)),
        consent_by=texts.get(C.key(CONSENT_BY), ""),
        time_out=None if time_out is None else time_out == C.key(YES),
        skin_prep=pick(SKIN_PREPS, one(SKIN_PREP)),
        skin_prep_text=texts.get(C.key(SKIN_PREP_TEXT), ""),
        complications=complications,
        complication_text=texts.get(C.key(COMPLICATION_TEXT), ""),
        instructions=texts.get(C.key(INSTRUCTIONS), ""),
    )
    records = []
    for target in plan.targets():
        read = sites.get(target.id)
        if read is None:
            continue
        records.append(_site(target, read))
    return replace(plan, procedure=replace(record, sites=tuple(records)))


def _site(target: Target, read: ReadSite) -> SiteRecord:
    default = SiteRecord(target.id)
    n = read.numbers
    anaesthetic = C.reverse(C.ANAESTHETICS).get(read.coded.get(C.key(GIVEN_ANAESTHETIC), ("", "")))
    approach = C.reverse(C.APPROACHES).get(read.coded.get(C.key(GIVEN_APPROACH), ("", "")))
    seen = read.coded.get(C.key(NEEDLE_IN_TARGET))
    reason = C.reverse(REASONS).get(read.coded.get(C.key(NOT_DONE), ("", "")))
    given = Injectate(
        dextrose_percent=n.get(C.key(GIVEN_DEXTROSE), default.given.dextrose_percent),
        anaesthetic=anaesthetic if isinstance(anaesthetic, Anaesthetic) else Anaesthetic.NONE,
        anaesthetic_percent=n.get(C.key(GIVEN_ANAESTHETIC_PERCENT), 0.0),
        volume_ml=n.get(C.key(GIVEN_VOLUME), 0.0),
    )
    if target.status is SiteStatus.SKIPPED:
        given = target.injectate
    return SiteRecord(
        target.id,
        given=given,
        lot_number=read.texts.get(C.key(LOT), ""),
        needle_gauge=round(n.get(C.key(NEEDLE_GAUGE), default.needle_gauge)),
        needle_length_mm=n.get(C.key(NEEDLE_LENGTH), default.needle_length_mm),
        approach=approach if isinstance(approach, Approach) else default.approach,
        tip_seen=None if seen is None else seen == C.key(YES),
        not_done_reason=reason if isinstance(reason, NotDoneReason) else None,
        not_done_text=read.texts.get(C.key(NOT_DONE_TEXT), ""),
    )


def _concept(item: Dataset) -> tuple[str, str]:
    seq = item.get("ConceptNameCodeSequence")
    return _code(seq[0]) if seq else ("", "")


def _code(item: Dataset) -> tuple[str, str]:
    value = item.get("CodeValue") or item.get("LongCodeValue") or item.get("URNCodeValue") or ""
    return str(value), str(item.get("CodingSchemeDesignator", ""))
