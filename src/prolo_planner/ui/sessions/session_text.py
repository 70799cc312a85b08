"""How sessions read on screen: dates, regions, states, volumes and pain, in the chart's words."""

from __future__ import annotations

import datetime as _dt
from enum import StrEnum
from functools import lru_cache

from prolo_planner.core.catalog import region_name
from prolo_planner.core.plan import ImagePlan, ProbeOrientation, Side
from prolo_planner.store.records import Patient, Session, TimelineRow


class ShownState(StrEnum):
    """A session's state as the timeline shows it."""

    DRAFT = "draft"
    SIGNED = "signed"
    #: A signed version kept for the record after an amendment replaced it.
    AMENDED = "amended"


@lru_cache(maxsize=1)
def side_text(side: Side) -> str:
    return "" if side is Side.UNSPECIFIED else side.value


def session_date(session: Session) -> str:
    """'2026-03-14 09:30' from the session's ISO start time."""
    return session.started_at[:16].replace("T", " ")


def short_date(session: Session) -> str:
    """'14 Mar' (with the year when not this year) for the chart's axis."""
    try:
        when = _dt.datetime.fromisoformat(session.started_at)
    except ValueError:
        return session.started_at[:10]
    if when.year == _dt.date.today().year:
        return when.strftime("%d %b").lstrip("0")
    return when.strftime("%d %b %y").lstrip("0")


def shown_state(row: TimelineRow) -> ShownState:
    if row.superseded:
        return ShownState.AMENDED
    return ShownState.SIGNED if row.session.is_signed else ShownState.DRAFT


def state_text(row: TimelineRow) -> str:
    """'Signed', 'Draft (amendment, v2)', 'Amended: replaced by v2'."""
    s = row.session
    state = shown_state(row)
    if state is ShownState.AMENDED:
        return f"Amended (v{s.version}, kept for the record)"
    text = state.value.capitalize()
    origin = row.origin
    if origin is not None and origin.conflict_with is not None:
        return f"{text} v{s.version} · CONFLICT with #{origin.conflict_with}"
    if s.version > 1:
        text += f" (v{s.version}, amends #{s.amends})" if s.amends else f" (v{s.version})"
    if origin is not None and origin.sr_instance_uid:
        text += ", from PACS"
    return text


def pain_text(value: int | None) -> str:
    return "–" if value is None else str(value)


def volume_text(ml: float) -> str:
    return f"{ml:.1f} mL" if ml else "–"


def sites_text(row: TimelineRow) -> str:
    """'4', or '3 of 4' when the record says one planned site was not done."""
    if row.done is not None and row.done.not_done:
        return f"{row.done.sites} of {row.site_count}"
    return str(row.site_count)


def given_text(row: TimelineRow) -> str:
    """What the procedure record says was given: '5.5 mL · 0.82 g'; '–' without a record."""
    done = row.done
    if done is None:
        return "–"
    if not done.given_ml:
        return "nothing"
    return f"{done.given_ml:.1f} mL · {done.dextrose_g:.2f} g"


def done_text(row: TimelineRow) -> str:
    """The record's summary in words, for tooltips beside what was planned."""
    done = row.done
    if done is None:
        return "No procedure recorded."
    given = [f"Given: {done.given_ml:g} mL at {done.sites} site{'s' if done.sites != 1 else ''}"]
    given.append(f"dextrose {done.dextrose_g:.2f} g")
    given += [f"{a.value} {mg:g} mg" for a, mg in done.anaesthetic_mg.items() if mg]
    lines = [", ".join(given) + f" (planned {row.total_ml:g} mL at the sites not skipped)."]
    if done.not_done:
        lines.append(f"{done.not_done} planned site{'s' if done.not_done != 1 else ''} not done.")
    lines.append(f"Complications: {done.complications or 'not recorded yet'}.")
    return "\n".join(lines)


def anaesthetic_text(row: TimelineRow) -> str:
    parts = [f"{a.value} {mg:g} mg" for a, mg in row.anaesthetic_mg.items() if mg]
    return ", ".join(parts) or "–"


def patient_line(p: Patient) -> str:
    """'DEMO, Alex · ID DEMO-0001 · born 1971-05-20 · 72 kg'."""
    bits = [p.display_name, f"ID {p.mrn}"]
    if p.birth_date:
        bits.append(f"born {p.birth_date}")
    if p.sex:
        bits.append(p.sex_text)
    if p.weight_kg is not None:
        bits.append(f"{p.weight_kg:g} kg")
    return " · ".join(bits)


def patient_two_lines(p: Patient) -> str:
    """The name on the first line, the rest on the second: a narrow list stays readable."""
    first, _, rest = patient_line(p).partition(" · ")
    return f"{first}\n{rest}"


def session_title(patient: Patient | None, session: Session) -> str:
    """The window title of an open session: who, when, where, and its state."""
    where = " ".join(b for b in (region_name(session.region), side_text(session.side)) if b)
    bits = [patient.display_name if patient else f"patient #{session.patient_id}"]
    bits.append(session_date(session))
    if where:
        bits.append(where)
    state = "signed" if session.is_signed else "draft"
    if session.version > 1:
        state += f" v{session.version}"
    bits.append(state)
    return " — ".join(bits)


def image_label(image: ImagePlan, number: int | None = None) -> str:
    """'Image 1: clip.mp4 — lumbar spine, long axis, clip of 120 frames': the clinician's name
    for the file (a library copy is named by its hash) and what the image shows."""
    bits = [region_name(image.region)] if image.region else []
    if image.probe_orientation is not ProbeOrientation.UNSPECIFIED:
        bits.append(image.probe_orientation.value)
    frames = image.ref.frame_count
    bits.append(f"clip of {frames} frames" if frames > 1 else "still")
    head = f"Image {number}: " if number is not None else ""
    return f"{head}{image.ref.title} — " + ", ".join(bits)
