"""The procedure record: what was done in a session, beside the plan of what was meant.

The plan says where the needle should go and what each site should get; the record says what
the clinician actually did: consent and time-out, skin preparation, for each site what was given
(solution, anaesthetic, volume, lot), the needle used, the approach, whether the tip was seen at
the target and the key image that shows it, complications, the instructions given. It lives in
the plan (`Plan.procedure`), so it is saved, autosaved, amended, carried in the SR and written to
the plan file with the plan, and undone like any other edit.

Whether a site was done is the target's own status (injected or skipped), one owner; the site's
record holds the details. A site record is keyed by its target's id: one whose target has left
the plan is kept (an undo brings the target back) but used by nothing.

Incomplete records are caught, not guessed: `missing_fields` names every required field that is
empty, in the clinician's words, for signing and for the FHIR export to ask for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from prolo_planner.core.dose import SessionDose, session_dose
from prolo_planner.core.edits import Compound, Edit, ReplaceAnnotation, SetProcedure
from prolo_planner.core.plan import (
    Anaesthetic,
    Complication,
    Injectate,
    KeyImage,
    NeedlePath,
    NotDoneReason,
    Plan,
    ProcedureRecord,
    Side,
    SiteRecord,
    SiteStatus,
    SkinPrep,
    Target,
)

#: What a clinic commonly tells a patient after prolotherapy; the clinician edits it, and each
#: later record starts from the previous one's words.
DEFAULT_INSTRUCTIONS = (
    "Soreness and stiffness for 2 to 3 days are expected. Paracetamol and heat may be used; "
    "avoid anti-inflammatory medicines for 2 weeks. Usual gentle activity. Call the clinic for "
    "fever, spreading redness, increasing swelling, or new weakness or numbness."
)

#: The statement payers look for with the ultrasound-guided injection codes.
GUIDANCE_STATEMENT = (
    "Ultrasound guidance was used in real time for needle placement, with permanent recording "
    "and reporting of the images."
)


# -- starting a record ------------------------------------------------------------------------
def default_key_image(plan: Plan, target: Target) -> KeyImage | None:
    """The frame that shows the target, if it goes to the chart: the target's own frame when it
    is a key frame (or the image is a still), else None (the clinician picks one)."""
    if target.position is None:
        return None
    try:
        image = plan.image(target.image_id)
    except KeyError:
        return None
    if target.frame is not None and target.frame in image.key_frames:
        return KeyImage(image.id, target.frame)
    if image.ref.frame_count <= 1:
        return KeyImage(image.id, 0)
    if target.frame is None and image.key_frames:
        return KeyImage(image.id, image.key_frames[0])
    return None


def site_from_plan(plan: Plan, target: Target) -> SiteRecord:
    """A site's record as the plan meant it: the planned injectate, the planned needle and
    approach of its path. The tip is not said to be seen: the clinician says so."""
    paths = plan.paths_to(target.id)
    path = paths[0] if paths else None
    given = Injectate(
        dextrose_percent=target.injectate.dextrose_percent,
        anaesthetic=target.injectate.anaesthetic,
        anaesthetic_percent=target.injectate.anaesthetic_percent,
        volume_ml=target.injectate.volume_ml,
    )
    site = SiteRecord(target_id=target.id, given=given, key_image=default_key_image(plan, target))
    if path is not None:
        site = replace(
            site,
            needle_gauge=path.needle_gauge,
            needle_length_mm=path.needle_length_mm,
            approach=path.approach,
        )
    return site


def start_record(
    plan: Plan,
    *,
    previous: ProcedureRecord | None = None,
    clinician: str = "",
    performed_at: str = "",
) -> ProcedureRecord:
    """A new record with the defaults of the plan and of the previous session's record, so a
    routine session takes a few clicks. Attestations (consent, time-out, tip seen,
    complications) start unstated: they are the clinician's to give."""
    return ProcedureRecord(
        indication=previous.indication if previous is not None else "",
        performed_at=performed_at,
        consent_by=clinician,
        skin_prep=previous.skin_prep if previous is not None else None,
        skin_prep_text=previous.skin_prep_text if previous is not None else "",
        sites=tuple(site_from_plan(plan, t) for t in plan.targets()),
        instructions=(previous.instructions if previous is not None else "")
        or DEFAULT_INSTRUCTIONS,
    )


def completed_with_plan(plan: Plan, record: ProcedureRecord) -> ProcedureRecord:
    """The record with an entry for every target of the plan (new targets as planned), in the
    plan's order; entries of targets no longer in the plan are dropped."""
    targets = plan.targets()
    return replace(
        record,
        sites=tuple(record.site(t.id) or site_from_plan(plan, t) for t in targets),
    )


# -- what is missing --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MissingField:
    """A required field left empty: where (for the form to go to) and its name in words."""

    key: str  # "consent", "site:<target id>:volume", ...
    name: str  # "consent (written or verbal)", "volume given at L4-L5 interspinous ligament"

    def __str__(self) -> str:
        return self.name


def site_label(target: Target, number: int | None = None) -> str:
    """How the record names a site: 'left L4-L5 interspinous ligament'."""
    name = target.name or f"{target.kind.value} site" + (f" {number}" if number else "")
    if target.side in (Side.LEFT, Side.RIGHT, Side.BILATERAL):
        return f"{target.side.value} {name}"
    return name


def missing_fields(plan: Plan) -> list[MissingField]:
    """Every required field of the plan's procedure record that is empty, in form order.
    A plan without a record misses the record itself."""
    record = plan.procedure
    if record is None:
        return [MissingField("record", "the procedure record (what was done)")]
    out: list[MissingField] = []

    def need(ok: bool, key: str, name: str) -> None:
        if not ok:
            out.append(MissingField(key, name))

    need(bool(record.indication.strip()), "indication", "indication")
    need(bool(record.performed_at), "performed_at", "time of the procedure")
    need(record.consent is not None, "consent", "consent (written or verbal)")
    need(bool(record.consent_by.strip()), "consent_by", "who obtained consent")
    need(record.time_out is not None, "time_out", "time-out")
    need(record.skin_prep is not None, "skin_prep", "skin preparation")
    if record.skin_prep is SkinPrep.OTHER:
        need(bool(record.skin_prep_text.strip()), "skin_prep_text", "skin preparation used")
    for n, target in enumerate(plan.targets(), start=1):
        label = site_label(target, n)
        key = f"site:{target.id}"
        site = record.site(target.id)
        if target.status is SiteStatus.PLANNED:
            out.append(MissingField(f"{key}:status", f"whether {label} was injected"))
            continue
        if target.status is SiteStatus.SKIPPED:
            reason = site.not_done_reason if site is not None else None
            need(reason is not None, f"{key}:not_done_reason", f"why {label} was not done")
            if reason is NotDoneReason.OTHER:
                text = site.not_done_text if site is not None else ""
                need(bool(text.strip()), f"{key}:not_done_text", f"why {label} was not done")
            continue
        if site is None:
            out.append(MissingField(f"{key}:given", f"what was given at {label}"))
            continue
        given = site.given
        need(_positive(given.volume_ml), f"{key}:volume", f"volume given at {label}")
        need(
            _finite_nonnegative(given.dextrose_percent),
            f"{key}:dextrose",
            f"dextrose concentration given at {label}",
        )
        if given.anaesthetic is not Anaesthetic.NONE:
            need(
                _positive(given.anaesthetic_percent),
                f"{key}:anaesthetic",
                f"{given.anaesthetic.value} concentration given at {label}",
            )
        need(site.needle_gauge > 0, f"{key}:needle", f"needle used at {label}")
        need(_positive(site.needle_length_mm), f"{key}:needle", f"needle used at {label}")
        need(site.tip_seen is not None, f"{key}:tip_seen", f"whether the tip was seen at {label}")
        if site.tip_seen:
            need(
                _key_image_in(plan, site.key_image),
                f"{key}:key_image",
                f"the key image of the needle at {label}",
            )
    need(record.complications is not None, "complications", "complications (none, or which)")
    if record.complications and Complication.OTHER in record.complications:
        need(
            bool(record.complication_text.strip()),
            "complication_text",
            "the other complication, in words",
        )
    need(bool(record.instructions.strip()), "instructions", "post-procedure instructions")
    return out


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


def _finite_nonnegative(value: float) -> bool:
    return math.isfinite(value) and value >= 0


def _key_image_in(plan: Plan, key: KeyImage | None) -> bool:
    if key is None:
        return False
    try:
        image = plan.image(key.image_id)
    except KeyError:
        return False
    return 0 <= key.frame < max(1, image.ref.frame_count)


# -- what was given, and where it differs from the plan ---------------------------------------
@dataclass(frozen=True, slots=True)
class DoneSite:
    """An injected site with what it received."""

    target: Target
    site: SiteRecord


def done_sites(plan: Plan) -> list[DoneSite]:
    """The injected sites that have a record, in the plan's order."""
    record = plan.procedure
    if record is None:
        return []
    out = []
    for target in plan.targets():
        site = record.site(target.id)
        if target.status is SiteStatus.INJECTED and site is not None:
            out.append(DoneSite(target, site))
    return out


def given_dose(plan: Plan) -> SessionDose:
    """Totals of what was given: the injected sites, with the record's amounts."""
    return session_dose(replace(d.target, injectate=d.site.given) for d in done_sites(plan))


def solution_text(injectate: Injectate) -> str:
    """'dextrose 15 % with lidocaine 0.2 %'."""
    dextrose = f"dextrose {injectate.dextrose_percent:g} %"
    if injectate.anaesthetic is Anaesthetic.NONE or injectate.anaesthetic_percent <= 0:
        return f"{dextrose}, no anaesthetic"
    return f"{dextrose} with {injectate.anaesthetic.value} {injectate.anaesthetic_percent:g} %"


def differences(plan: Plan) -> list[str]:
    """Where the procedure differed from the plan, one sentence per site and difference."""
    record = plan.procedure
    if record is None:
        return []
    out: list[str] = []
    paths = {
        p.target_id: p for p in reversed([a for a in plan.annotations if isinstance(a, NeedlePath)])
    }
    for n, target in enumerate(plan.targets(), start=1):
        label = site_label(target, n)
        site = record.site(target.id)
        if target.status is SiteStatus.SKIPPED:
            why = _reason_words(site)
            out.append(f"{label}: planned, not done" + (f" ({why})" if why else ""))
            continue
        if target.status is not SiteStatus.INJECTED or site is None:
            continue
        planned, given = target.injectate, site.given
        if not math.isclose(planned.volume_ml, given.volume_ml, abs_tol=1e-9):
            out.append(f"{label}: {given.volume_ml:g} mL given ({planned.volume_ml:g} mL planned)")
        if solution_text(planned) != solution_text(given):
            out.append(f"{label}: {solution_text(given)} (planned {solution_text(planned)})")
        path = paths.get(target.id)
        if path is not None:
            if (path.needle_gauge, path.needle_length_mm) != (
                site.needle_gauge,
                site.needle_length_mm,
            ):
                out.append(
                    f"{label}: {needle_text(site.needle_gauge, site.needle_length_mm)} needle "
                    f"(planned {needle_text(path.needle_gauge, path.needle_length_mm)})"
                )
            if path.approach is not site.approach:
                out.append(f"{label}: {site.approach.value} (planned {path.approach.value})")
    return out


def needle_text(gauge: int, length_mm: float) -> str:
    return f"{gauge} G {length_mm:g} mm"


def _reason_words(site: SiteRecord | None) -> str:
    if site is None or site.not_done_reason is None:
        return ""
    if site.not_done_reason is NotDoneReason.OTHER:
        return site.not_done_text
    words = site.not_done_reason.value
    return f"{words}: {site.not_done_text}" if site.not_done_text else words


def reason_words(site: SiteRecord | None) -> str:
    """Why a site was not done, in words ('' when not stated)."""
    return _reason_words(site)


def without_record_time(plan: Plan) -> Plan:
    """The plan with its record's time left out (a de-identified export dates it through the
    session's shifted date, or not at all)."""
    if plan.procedure is None or not plan.procedure.performed_at:
        return plan
    return replace(plan, procedure=replace(plan.procedure, performed_at=""))


# -- recording it as one undo step ------------------------------------------------------------
def record_edit(
    plan: Plan, record: ProcedureRecord | None, statuses: Mapping[str, SiteStatus]
) -> Compound:
    """One undo step that sets the record and marks the sites done or not done
    (target id -> status); targets whose status is already so are left alone."""
    edits: list[Edit] = []
    for target in plan.targets():
        status = statuses.get(target.id)
        if status is not None and status is not target.status:
            edits.append(ReplaceAnnotation.of(plan, target.id, status=status))
    if plan.procedure != record:
        edits.append(SetProcedure(plan.procedure, record))
    text = "Record procedure" if record is not None else "Remove procedure record"
    return Compound(tuple(edits), text)
