"""The plan's injection sites and totals as the chart reads them: one row of text per target."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from prolo_planner.core.dose import SessionDose, session_dose
from prolo_planner.core.legend import site_numbers
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.measure import PlanMeasurements
from prolo_planner.core.overlay import measurement_text
from prolo_planner.core.plan import Anaesthetic, Injectate, Plan, Side, SiteStatus, Target

NOT_PLACED = "not placed"
NO_PATH = "no path"


@dataclass(frozen=True, slots=True)
class SiteRow:
    number: int
    target_id: str
    name: str
    image: str  # the image's name, "" when the target is not on an image yet
    kind: str
    side: str
    status: str
    depth: str  # "19.0 mm", "84 px ⚠", or "not placed"
    path_length: str  # "27.3 mm"; several paths joined with "; "
    angle: str  # "41°"
    approach: str  # "in-plane, 25G 50 mm"
    injectate: str  # "15 % dextrose + 0.2 % lidocaine"
    volume: str  # "1.0 mL"
    note: str = ""


def percent(value: float) -> str:
    return f"{value:g} %"


def injectate_text(inj: Injectate) -> str:
    """'15 % dextrose + 0.2 % lidocaine', as the syringe is labelled."""
    parts = [f"{percent(inj.dextrose_percent)} dextrose"] if inj.dextrose_percent else []
    if inj.anaesthetic is not Anaesthetic.NONE and inj.anaesthetic_percent:
        parts.append(f"{percent(inj.anaesthetic_percent)} {inj.anaesthetic.value}")
    return " + ".join(parts) or "(nothing stated)"


def volume_text(ml: float) -> str:
    return f"{ml:.1f} mL"


def site_rows(
    plan: Plan, measurements: PlanMeasurements, image_names: Mapping[str, str]
) -> list[SiteRow]:
    """One row per target, in the plan's order, numbered from 1."""
    numbers = site_numbers(plan)  # the numbers the targets' labels carry on the images
    return [_row(numbers[t.id], t, plan, measurements, image_names) for t in plan.targets()]


def _row(
    n: int,
    t: Target,
    plan: Plan,
    measurements: PlanMeasurements,
    image_names: Mapping[str, str],
) -> SiteRow:
    depth = measurements.target_depths.get(t.id)
    lengths, angles, approaches = [], [], []
    for path in plan.paths_to(t.id):
        approaches.append(
            f"{path.approach.value}, {path.needle_gauge}G {path.needle_length_mm:g} mm"
        )
        geometry = measurements.path(path.id)
        if geometry is None:
            continue
        lengths.append(measurement_text(geometry.length))
        angles.append(measurement_text(geometry.angle_deg) if geometry.angle_deg else "-")
    placed = t.position is not None
    return SiteRow(
        number=n,
        target_id=t.id,
        name=t.name or t.kind.value,
        image=image_names.get(t.image_id, "") if placed else "",
        kind=t.kind.value,
        side="" if t.side is Side.UNSPECIFIED else t.side.value,
        status=t.status.value,
        depth=measurement_text(depth) if depth is not None else NOT_PLACED,
        path_length="; ".join(lengths) or (NO_PATH if placed else "-"),
        angle="; ".join(angles) or "-",
        approach="; ".join(approaches),
        injectate=injectate_text(t.injectate),
        volume=volume_text(t.injectate.volume_ml),
        note=t.note,
    )


def totals_lines(plan: Plan, limits: ClinicLimits, dose: SessionDose | None = None) -> list[str]:
    """What the session adds up to, with the clinic's limits beside the anaesthetic totals."""
    dose = dose or session_dose(plan.targets())
    skipped = sum(t.status is SiteStatus.SKIPPED for t in plan.targets())
    counted = len(dose.sites)
    lines = [
        f"{counted} site{'s' if counted != 1 else ''} counted (placed, planned and injected)"
        + (f", {skipped} skipped" if skipped else "")
        + f": {volume_text(dose.total_ml)} in total, dextrose {dose.dextrose_g:.2f} g"
    ]
    if dose.unplaced:
        n = len(dose.unplaced)
        lines.append(
            f"Not placed on an image, not in the totals: {n} site{'s' if n != 1 else ''}, "
            f"{volume_text(dose.unplaced_ml)} ("
            + ", ".join(s.name or "unnamed site" for s in dose.unplaced)
            + ")"
        )
    weight = plan.patient_weight_kg
    for agent, mg in dose.anaesthetic_mg.items():
        text = f"{agent.value.capitalize()} {mg:.0f} mg"
        limit = limits.anaesthetic(agent)
        if weight:
            text += f" ({mg / weight:.2f} mg/kg for {weight:g} kg)"
        if limit is not None:
            text += f"; clinic limit {limit.mg_per_kg:g} mg/kg, at most {limit.max_mg:g} mg"
        lines.append(text)
    if not dose.anaesthetic_mg:
        lines.append("No local anaesthetic planned")
    return lines
