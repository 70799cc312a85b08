"""The procedure note: what was done, written as a clinician writes it, for the chart and the EHR.

Built from the plan's procedure record (core.procedure) and the session's header, as plain text
to paste into any EHR and, by report.note_pdf, as a PDF with the key images. It says the
indication, consent, time-out and skin preparation, the statement of real-time ultrasound
guidance with permanent image recording, each site with its side and what was given (or why it
was not done), the key images, complications, pain before and after, the instructions given,
where the procedure differed from the plan, and the signature and its time. A record with
required fields empty still makes a note, headed with what is missing: never a guess.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass

from prolo_planner.core.catalog import region_name
from prolo_planner.core.plan import (
    Anaesthetic,
    Complication,
    Consent,
    KeyImage,
    Plan,
    ProcedureRecord,
    Side,
    SiteStatus,
)
from prolo_planner.core.procedure import (
    GUIDANCE_STATEMENT,
    differences,
    given_dose,
    missing_fields,
    needle_text,
    reason_words,
    site_label,
    solution_text,
)
from prolo_planner.report.header import ReportHeader

TITLE = "Procedure note"
NOT_RECORDED = "not recorded"
LEFT_OUT = "(left out of this de-identified copy)"


@dataclass(frozen=True, slots=True)
class NoteImage:
    """A key image of the note: the frame, its caption and the sites it shows."""

    number: int
    image_id: str
    frame: int
    caption: str
    sites: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProcedureNote:
    header: ReportHeader
    title: str
    subtitle: str
    #: (label, value) lines under the title: patient, date, clinician, session.
    facts: tuple[tuple[str, str], ...]
    #: (heading, paragraphs); a paragraph starting "- " or "1. " is a list item.
    sections: tuple[tuple[str, tuple[str, ...]], ...]
    images: tuple[NoteImage, ...]
    signature: str
    #: Required fields left empty, in words (an incomplete record's note says so first).
    missing: tuple[str, ...] = ()

    def text(self) -> str:
        """The note as plain text (UTF-8, lines of any length: an EHR field wraps them)."""
        lines = [self.title.upper(), self.subtitle, ""]
        if self.missing:
            lines += [
                "INCOMPLETE RECORD, not yet signable. Missing: " + "; ".join(self.missing) + ".",
                "",
            ]
        lines += [f"{label}: {value}" for label, value in self.facts]
        for heading, paragraphs in self.sections:
            lines += ["", heading.upper(), *paragraphs]
        if self.images:
            lines += ["", "KEY IMAGES"]
            lines += [f"{i.number}. {i.caption}" + _showing(i) for i in self.images]
        lines += ["", self.signature]
        return "\n".join(lines) + "\n"


def _showing(image: NoteImage) -> str:
    return f": needle at {', '.join(image.sites)}" if image.sites else ""


def note_images(plan: Plan, names: Mapping[str, str]) -> tuple[NoteImage, ...]:
    """The record's key images, each once, numbered in the order of the sites they show."""
    record = plan.procedure
    if record is None:
        return ()
    order: dict[tuple[str, int], list[str]] = {}
    for n, target in enumerate(plan.targets(), start=1):
        site = record.site(target.id)
        if target.status is not SiteStatus.INJECTED or site is None or not site.tip_seen:
            continue
        key = site.key_image
        if key is None or not _has_image(plan, key):
            continue
        order.setdefault((key.image_id, key.frame), []).append(site_label(target, n))
    out = []
    for number, ((image_id, frame), sites) in enumerate(order.items(), start=1):
        image = plan.image(image_id)
        name = names.get(image_id) or image.ref.path.replace("\\", "/").rsplit("/", 1)[-1]
        count = image.ref.frame_count
        caption = f"{name}, frame {frame + 1} of {count}" if count > 1 else name
        out.append(NoteImage(number, image_id, frame, caption, tuple(sites)))
    return tuple(out)


def _has_image(plan: Plan, key: KeyImage) -> bool:
    try:
        plan.image(key.image_id)
    except KeyError:
        return False
    return True


def procedure_note(
    plan: Plan, header: ReportHeader, names: Mapping[str, str], *, complete: Plan | None = None
) -> ProcedureNote:
    """The note of the plan's procedure record (a plan without a record gets a note saying so).
    `complete` is the plan whose record must be complete when `plan` is a de-identified copy of
    it, whose texts the clinician chose to leave out."""
    record = plan.procedure
    region = region_name(header.region) or _regions(plan)
    side = header.side.value if header.side in (Side.LEFT, Side.RIGHT, Side.BILATERAL) else ""
    subtitle = "Ultrasound-guided prolotherapy" + (
        f": {region.lower()}" + (f", {side}" if side else "") if region else ""
    )
    when = _when(record.performed_at if record is not None else "", header)
    facts = [
        ("Patient", _patient(header)),
        ("Date and time", when or NOT_RECORDED),
        ("Clinician", header.clinician or _empty(header)),
    ]
    if header.session_id is not None:
        version = f", version {header.session_version}" if header.session_version > 1 else ""
        facts.append(("Session", f"#{header.session_id}{version}"))
    images = note_images(plan, names)
    if record is None:
        sections = (("Procedure", ("No procedure was recorded for this session.",)),)
        return ProcedureNote(
            header,
            TITLE,
            subtitle,
            tuple(facts),
            sections,
            (),
            _signature(header),
            ("the procedure record",),
        )
    image_of = {(i.image_id, i.frame): i.number for i in images}
    sites = []
    for n, target in enumerate(plan.targets(), start=1):
        label = site_label(target, n)
        label = label[:1].upper() + label[1:]
        if target.side is Side.MIDLINE:
            label += ", midline"
        site = record.site(target.id)
        if target.status is SiteStatus.SKIPPED:
            why = reason_words(site)
            sites.append(f"{n}. {label}: not done" + (f" ({why})." if why else "."))
            continue
        if target.status is not SiteStatus.INJECTED or site is None:
            sites.append(f"{n}. {label}: {NOT_RECORDED}.")
            continue
        given = site.given
        lot = f", lot {site.lot_number}" if site.lot_number.strip() else ""
        text = (
            f"{n}. {label}: {given.volume_ml:g} mL of {solution_text(given)}{lot}; "
            f"{needle_text(site.needle_gauge, site.needle_length_mm)} needle, "
            f"{site.approach.value}."
        )
        if site.tip_seen:
            key = site.key_image
            number = image_of.get((key.image_id, key.frame)) if key is not None else None
            text += " Needle tip seen at the target" + (
                f" (key image {number})." if number else "."
            )
        elif site.tip_seen is False:
            text += " Needle tip not seen at the target."
        sites.append(text)
    dose = given_dose(plan)
    done = sum(t.status is SiteStatus.INJECTED for t in plan.targets())
    if done:
        totals = [f"{dose.total_ml:g} mL at {done} site{'s' if done != 1 else ''}"]
        totals.append(f"dextrose {dose.dextrose_g:.2f} g")
        totals += [f"{a.value} {mg:g} mg" for a, mg in dose.anaesthetic_mg.items()]
        if all(a is Anaesthetic.NONE for a in dose.anaesthetic_mg) and not dose.anaesthetic_mg:
            totals.append("no local anaesthetic")
        sites.append("Total given: " + "; ".join(totals) + ".")
    procedure = [
        _consent(record.consent, record.consent_by),
        _time_out(record.time_out),
        "The skin was prepared with " + record.skin_prep_words + "."
        if record.skin_prep is not None
        else f"Skin preparation: {NOT_RECORDED}.",
        GUIDANCE_STATEMENT,
    ]
    outcome = [
        "Complications: " + _complications(record) + ".",
        f"Pain (0-10 numeric rating scale): {_score(header.pain_before)} before, "
        f"{_score(header.pain_after)} after.",
    ]
    changed = differences(plan)
    sections: list[tuple[str, tuple[str, ...]]] = [
        ("Indication", (record.indication.strip() or _empty(header),)),
        ("Procedure", tuple(procedure)),
        ("Sites", tuple(sites)),
        ("Outcome", tuple(outcome)),
        ("Post-procedure instructions", (record.instructions.strip() or _empty(header),)),
        (
            "Compared with the plan",
            tuple(f"- {line}" for line in changed) or ("Done as planned.",),
        ),
    ]
    return ProcedureNote(
        header,
        TITLE,
        subtitle,
        tuple(facts),
        tuple(sections),
        images,
        _signature(header),
        tuple(str(m) for m in missing_fields(complete if complete is not None else plan)),
    )


#: How a note words each complication.
_COMPLICATION_WORDS = {
    Complication.VASOVAGAL: "vasovagal reaction",
    Complication.BLEEDING: "bleeding",
    Complication.PARAESTHESIA: "paraesthesia",
}


def _complications(record: ProcedureRecord) -> str:
    if record.complications is None:
        return NOT_RECORDED
    if not record.complications:
        return "none"
    words = [
        _COMPLICATION_WORDS.get(c) or (record.complication_text.strip() or "other")
        for c in record.complications
    ]
    return ", ".join(words)


def _regions(plan: Plan) -> str:
    regions = dict.fromkeys(region_name(im.region) for im in plan.images if im.region)
    return ", ".join(r for r in regions if r)


def _patient(h: ReportHeader) -> str:
    bits = [h.patient_name or "(no name)", f"ID {h.patient_id or '(none)'}"]
    if h.birth_date:
        bits.append(f"born {h.birth_date}")
    if h.is_deidentified:
        bits.append("de-identified")
    return ", ".join(bits)


def _when(performed_at: str, header: ReportHeader) -> str:
    if performed_at and not header.is_deidentified:
        try:
            return _dt.datetime.fromisoformat(performed_at).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return performed_at
    return header.when


def _consent(consent: Consent | None, by: str) -> str:
    if consent is None:
        return f"Consent: {NOT_RECORDED}."
    who = f" by {by.strip()}" if by.strip() else ""
    kind = "Written" if consent is Consent.WRITTEN else "Verbal"
    return (
        f"{kind} informed consent was obtained{who} after a discussion of the risks, benefits "
        "and alternatives."
    )


def _time_out(time_out: bool | None) -> str:
    if time_out is None:
        return f"Time-out: {NOT_RECORDED}."
    if time_out:
        return "A time-out confirmed the patient, the procedure, the sites and the side."
    return "No time-out was performed."


def _empty(header: ReportHeader) -> str:
    """What an empty text says: left out of a de-identified copy, else not recorded."""
    return LEFT_OUT if header.is_deidentified else NOT_RECORDED


def _score(value: int | None) -> str:
    return "-" if value is None else str(value)


def _signature(h: ReportHeader) -> str:
    if h.signed and h.signed_by:
        when = h.signed_at[:16].replace("T", " ") + " UTC" if h.signed_at else ""
        return f"Signed electronically by {h.signed_by}" + (f" on {when}." if when else ".")
    if h.signed:
        return "Signed."
    return "Draft: not signed."
