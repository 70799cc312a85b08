"""Safety checks on a plan: one pure function per rule, each returning warnings a clinician reads.

Warnings inform and never block. `check_plan` runs every rule and orders the warnings by
severity (danger first), then by rule, then by the plan's annotation order, so the panel shows
the same list for the same plan.

Bone is the needle's backstop, not a structure to keep clear of: a path near a bone zone is not
reported, a path meeting bone is a warning (the needle stops there), and a path to a periosteum
target is expected to meet bone, so it is not reported at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.dose import SessionDose, session_dose
from prolo_planner.core.geometry import Point
from prolo_planner.core.image_calibration import guessed_zero
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.measure import ENTRY_ON_SKIN_MM, PlanMeasurements, measure_plan
from prolo_planner.core.plan import (
    Anaesthetic,
    AngleMeasurement,
    Annotation,
    Approach,
    AvoidKind,
    AvoidZone,
    Caliper,
    NeedlePath,
    Plan,
    SiteStatus,
    Target,
    TargetKind,
    kind_of,
)


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    DANGER = "danger"


SEVERITY_RANK = {Severity.DANGER: 0, Severity.WARNING: 1, Severity.INFO: 2}


class WarningCode(StrEnum):
    PATH_CROSSES_ZONE = "path-crosses-zone"
    PATH_NEAR_ZONE = "path-near-zone"
    PATH_MEETS_BONE = "path-meets-bone"
    NEEDLE_TOO_SHORT = "needle-too-short"
    NEEDLE_TOO_LONG = "needle-too-long"
    IN_PLANE_TOO_STEEP = "in-plane-too-steep"
    ENTRY_BELOW_SKIN = "entry-below-skin"
    TARGET_ABOVE_SKIN = "target-above-skin"
    DEPTH_ZERO_GUESSED = "depth-zero-guessed"
    NO_MILLIMETRES = "no-millimetres"
    IMAGE_NOT_CALIBRATED = "image-not-calibrated"
    ANAESTHETIC_ABOVE_WEIGHT_LIMIT = "anaesthetic-above-weight-limit"
    ANAESTHETIC_ABOVE_ABSOLUTE_LIMIT = "anaesthetic-above-absolute-limit"
    NO_PATIENT_WEIGHT = "no-patient-weight"
    INJECTATE_UNUSABLE = "injectate-unusable"
    TARGET_NOT_PLACED = "target-not-placed"


@dataclass(frozen=True, slots=True)
class SafetyWarning:
    code: WarningCode
    severity: Severity
    annotation_ids: tuple[str, ...]
    message: str


Warnings = tuple[SafetyWarning, ...]

# Totals are sums of floats: a total exactly at a limit must not read as above it.
_LIMIT_SLACK = 1e-9


# -- names a clinician reads ----------------------------------------------------------------
def target_label(target: Target | None) -> str:
    if target is None:
        return "a missing target"
    return f"'{target.name}'" if target.name else f"the {target.kind.value} target"


def zone_label(zone: AvoidZone) -> str:
    return f"'{zone.name}'" if zone.name else f"the {zone.kind.value} zone"


def _target_of(plan: Plan, path: NeedlePath) -> Target | None:
    found = plan.find(path.target_id)
    return found if isinstance(found, Target) else None


def _checked_paths(plan: Plan) -> Iterable[tuple[NeedlePath, Target | None]]:
    # A skipped site will not be injected, so its path needs no warnings.
    for a in plan.annotations:
        if isinstance(a, NeedlePath):
            target = _target_of(plan, a)
            if target is None or target.status is not SiteStatus.SKIPPED:
                yield a, target


def _mm(value: float) -> str:
    return f"{value:.1f} mm"


# -- the rules ------------------------------------------------------------------------------
def check_zone_clearance(plan: Plan, measurements: PlanMeasurements) -> Warnings:
    """A path that crosses an avoid zone, or passes closer than the zone's margin."""
    out: list[SafetyWarning] = []
    for path, target in _checked_paths(plan):
        geometry = measurements.path(path.id)
        if geometry is None:
            continue
        for zd in geometry.zone_distances:
            zone = plan.find(zd.zone_id)
            if not isinstance(zone, AvoidZone):
                continue
            ids = (path.id, zone.id)
            where = f"Needle path to {target_label(target)}"
            if zone.kind is AvoidKind.BONE:
                if zd.crosses and (target is None or target.kind is not TargetKind.PERIOSTEUM):
                    out.append(
                        SafetyWarning(
                            WarningCode.PATH_MEETS_BONE,
                            Severity.WARNING,
                            ids,
                            f"{where} meets bone {zone_label(zone)}: the needle stops there",
                        )
                    )
                continue
            margin = f"margin {zone.margin_mm:g} mm"
            if zd.crosses:
                out.append(
                    SafetyWarning(
                        WarningCode.PATH_CROSSES_ZONE,
                        Severity.DANGER,
                        ids,
                        f"{where} crosses {zone_label(zone)} ({margin})",
                    )
                )
            elif zd.distance_mm is not None and zd.distance_mm < zone.margin_mm:
                out.append(
                    SafetyWarning(
                        WarningCode.PATH_NEAR_ZONE,
                        Severity.WARNING,
                        ids,
                        f"{where} passes {_mm(zd.distance_mm)} from {zone_label(zone)} ({margin})",
                    )
                )
    return tuple(out)


def check_needle_length(
    plan: Plan, measurements: PlanMeasurements, limits: ClinicLimits
) -> Warnings:
    """A needle too short for the path plus the hub margin, or far longer than needed."""
    out: list[SafetyWarning] = []
    for path, target in _checked_paths(plan):
        geometry = measurements.path(path.id)
        if geometry is None or geometry.length.problem is not None:
            continue  # no millimetres: check_millimetres says so
        needle = path.needle_length_mm
        if not (math.isfinite(needle) and needle > 0):
            continue
        tissue = geometry.length.value
        needed = tissue + limits.needle_hub_margin_mm
        hub = f"{limits.needle_hub_margin_mm:g} mm at the hub"
        label = f"{path.needle_gauge}G {needle:g} mm needle"
        if needle < needed:
            out.append(
                SafetyWarning(
                    WarningCode.NEEDLE_TOO_SHORT,
                    Severity.WARNING,
                    (path.id,),
                    f"The {label} is too short for the path to {target_label(target)}: "
                    f"{_mm(tissue)} in tissue + {hub} needs {_mm(needed)}",
                )
            )
        elif needle - needed > limits.needle_excess_mm:
            out.append(
                SafetyWarning(
                    WarningCode.NEEDLE_TOO_LONG,
                    Severity.INFO,
                    (path.id,),
                    f"The {label} is far longer than the path to {target_label(target)} needs: "
                    f"{_mm(tissue)} in tissue + {hub} is {_mm(needed)}",
                )
            )
    return tuple(out)


def check_in_plane_angle(
    plan: Plan, measurements: PlanMeasurements, limits: ClinicLimits
) -> Warnings:
    """An in-plane path steeper than the clinic's threshold: the needle will be hard to see."""
    out: list[SafetyWarning] = []
    threshold = limits.in_plane_max_angle_deg
    for path, target in _checked_paths(plan):
        geometry = measurements.path(path.id)
        if path.approach is not Approach.IN_PLANE or geometry is None:
            continue
        angle = geometry.angle_deg
        if angle is None or angle.value <= threshold:
            continue
        how = f" (measured in pixels: {angle.problem})" if angle.problem else ""
        out.append(
            SafetyWarning(
                WarningCode.IN_PLANE_TOO_STEEP,
                Severity.WARNING,
                (path.id,),
                f"In-plane needle path to {target_label(target)} is {angle.value:.0f}° to the "
                f"transducer face, steeper than {threshold:g}°{how}: the needle will be hard "
                "to see",
            )
        )
    return tuple(out)


def check_entry_on_skin(plan: Plan, measurements: PlanMeasurements) -> Warnings:
    """A needle entry below the skin line (or the face): the path starts inside the tissue, so
    its length and the needle it calls for are short."""
    out: list[SafetyWarning] = []
    for path, target in _checked_paths(plan):
        geometry = measurements.path(path.id)
        if geometry is None or not geometry.entry_below_skin:
            continue
        assert geometry.entry_depth_mm is not None
        out.append(
            SafetyWarning(
                WarningCode.ENTRY_BELOW_SKIN,
                Severity.WARNING,
                (path.id,),
                f"The entry of the needle path to {target_label(target)} lies "
                f"{_mm(geometry.entry_depth_mm)} below the skin (more than "
                f"{ENTRY_ON_SKIN_MM:g} mm): drag it onto the skin line, beside the probe for an "
                "in-plane approach",
            )
        )
    return tuple(out)


def check_targets_below_skin(plan: Plan, measurements: PlanMeasurements) -> Warnings:
    """A target above the transducer face or the skin line: outside the tissue, no depth."""
    out: list[SafetyWarning] = []
    for t in plan.targets():
        missing = measurements.no_depth.get(t.id)
        if missing is None or not missing.above or t.status is SiteStatus.SKIPPED:
            continue
        out.append(
            SafetyWarning(
                WarningCode.TARGET_ABOVE_SKIN,
                Severity.WARNING,
                (t.id, *(p.id for p in plan.paths_to(t.id))),
                f"Target {target_label(t)}: {missing.reason}; it has no depth",
            )
        )
    return tuple(out)


def check_depth_zero(plan: Plan, calibrations: Mapping[str, Calibration]) -> Warnings:
    """Depths on an image whose depth zero is only a guess (the region's top row)."""
    out: list[SafetyWarning] = []
    placed: dict[str, list[Point]] = {}
    for t in plan.targets():  # once, not once per image
        if t.position is not None:
            placed.setdefault(t.image_id, []).append(t.position)
    for image in plan.images:
        calibration = calibrations.get(image.id)
        points = tuple(placed.get(image.id, ()))
        if calibration is None or not points or not guessed_zero(calibration, points):
            continue
        out.append(
            SafetyWarning(
                WarningCode.DEPTH_ZERO_GUESSED,
                Severity.WARNING,
                (image.id,),
                f"Depth zero on {_image_label(plan, image.id)} is a guess (the top of the "
                "region): neither the file nor the image shows where the transducer face is. "
                "Draw the skin line, or click the depth scale's 0 tick",
            )
        )
    return tuple(out)


def _image_label(plan: Plan, image_id: str) -> str:
    try:
        return f"'{plan.image(image_id).ref.title}'"
    except KeyError:
        return "an image not in the plan"


def _annotation_label(plan: Plan, a: Annotation) -> str:
    if isinstance(a, NeedlePath):
        return f"Needle path to {target_label(_target_of(plan, a))}"
    if isinstance(a, Target):
        return f"Depth of target {target_label(a)}"
    if isinstance(a, Caliper | AngleMeasurement):
        what = "Caliper" if isinstance(a, Caliper) else "Angle"
        return f"{what} '{a.label}'" if a.label else what
    return kind_of(a).value.capitalize()


def _problems_of(a: Annotation, measurements: PlanMeasurements) -> list[str]:
    if isinstance(a, NeedlePath):
        geometry = measurements.path(a.id)
        if geometry is None:
            return []
        found = [geometry.length.problem]
        found.append(geometry.angle_deg.problem if geometry.angle_deg else None)
        found += [z.problem for z in geometry.zone_distances]
        return [p for p in found if p]
    missing = measurements.no_depth.get(a.id)
    if missing is not None and not missing.above:
        return [missing.reason]  # above the skin has a warning of its own
    # A target's depth, a caliper, an angle: one measurement each.
    return [m.problem for m in measurements.of(a.id) if m.problem]


def check_millimetres(
    plan: Plan, measurements: PlanMeasurements, calibrations: Mapping[str, Calibration]
) -> Warnings:
    """Measurements with no millimetres, shown in pixels: one warning per uncalibrated image,
    else one per annotation whose points lie outside or across regions of different spacing."""
    out: list[SafetyWarning] = []
    image_ids = dict.fromkeys(
        [im.id for im in plan.images] + [a.image_id for a in plan.annotations]
    )
    flagged_on: dict[str, list[tuple[Annotation, list[str]]]] = {}
    for a in plan.annotations:  # once, not once per image
        problems = _problems_of(a, measurements)
        if problems:
            flagged_on.setdefault(a.image_id, []).append((a, problems))
    for image_id in image_ids:
        flagged = flagged_on.get(image_id, [])
        if not flagged:
            continue
        calibration = calibrations.get(image_id)
        if calibration is None or not calibration.is_calibrated:
            out.append(
                SafetyWarning(
                    WarningCode.IMAGE_NOT_CALIBRATED,
                    Severity.WARNING,
                    tuple(a.id for a, _ in flagged),
                    f"Image {_image_label(plan, image_id)} is not calibrated: its measurements "
                    "are shown in pixels",
                )
            )
            continue
        for a, problems in flagged:
            why = "; ".join(dict.fromkeys(problems))
            shown = "no depth" if a.id in measurements.no_depth else "shown in pixels"
            out.append(
                SafetyWarning(
                    WarningCode.NO_MILLIMETRES,
                    Severity.WARNING,
                    (a.id,),
                    f"{_annotation_label(plan, a)}: no millimetres ({why}), {shown}",
                )
            )
    return tuple(out)


def _weight(plan: Plan) -> float | None:
    w = plan.patient_weight_kg
    return w if w is not None and math.isfinite(w) and w > 0 else None


def check_anaesthetic_limits(plan: Plan, dose: SessionDose, limits: ClinicLimits) -> Warnings:
    """Per agent: the session's total above the clinic's mg/kg limit or its absolute limit."""
    out: list[SafetyWarning] = []
    weight = _weight(plan)
    for agent in Anaesthetic:
        limit = limits.anaesthetic(agent)
        total = dose.mg_of(agent)
        if limit is None or total <= 0:
            continue
        ids = tuple(s.target_id for s in dose.sites_with(agent))
        name = agent.value.capitalize()
        if weight is not None:
            allowed = limit.mg_per_kg * weight
            if total > allowed * (1 + _LIMIT_SLACK):
                out.append(
                    SafetyWarning(
                        WarningCode.ANAESTHETIC_ABOVE_WEIGHT_LIMIT,
                        Severity.DANGER,
                        ids,
                        f"{name} total {total:.0f} mg is above the clinic's limit of "
                        f"{limit.mg_per_kg:g} mg/kg for {weight:g} kg ({allowed:.0f} mg)",
                    )
                )
        if total > limit.max_mg * (1 + _LIMIT_SLACK):
            out.append(
                SafetyWarning(
                    WarningCode.ANAESTHETIC_ABOVE_ABSOLUTE_LIMIT,
                    Severity.DANGER,
                    ids,
                    f"{name} total {total:.0f} mg is above the clinic's absolute limit of "
                    f"{limit.max_mg:g} mg",
                )
            )
    return tuple(out)


def check_patient_weight(plan: Plan, dose: SessionDose, limits: ClinicLimits) -> Warnings:
    """Anaesthetic planned but no weight known: the mg/kg limits cannot be checked."""
    if _weight(plan) is not None:
        return ()
    used = [
        (agent, dose.mg_of(agent), limit)
        for agent in Anaesthetic
        if (limit := limits.anaesthetic(agent)) is not None and dose.mg_of(agent) > 0
    ]
    if not used:
        return ()
    totals = ", ".join(f"{a.value} {mg:.0f} mg ({lim.mg_per_kg:g} mg/kg)" for a, mg, lim in used)
    ids = tuple(s.target_id for a, _, _ in used for s in dose.sites_with(a))
    return (
        SafetyWarning(
            WarningCode.NO_PATIENT_WEIGHT,
            Severity.WARNING,
            ids,
            f"No patient weight known: the anaesthetic totals ({totals}) cannot be checked "
            "against the clinic's mg/kg limits",
        ),
    )


def check_injectate_numbers(dose: SessionDose) -> Warnings:
    """Site amounts that cannot be added up (negative, not a number): counted as 0."""
    return tuple(
        SafetyWarning(
            WarningCode.INJECTATE_UNUSABLE,
            Severity.WARNING,
            (p.target_id,),
            f"Injectate of {p.message}; counted as 0 in the totals",
        )
        for p in dose.problems
    )


def check_targets_placed(plan: Plan) -> Warnings:
    """Targets carried forward from a template or the last session and not placed yet."""
    return tuple(
        SafetyWarning(
            WarningCode.TARGET_NOT_PLACED,
            Severity.INFO,
            (t.id, *(p.id for p in plan.paths_to(t.id))),
            f"Target {target_label(t)} is carried forward and not placed on an image yet",
        )
        for t in plan.targets()
        if t.position is None and t.status is not SiteStatus.SKIPPED
    )


# -- all of them ----------------------------------------------------------------------------
def check_plan(
    plan: Plan,
    calibrations: Mapping[str, Calibration],
    limits: ClinicLimits,
    measurements: PlanMeasurements | None = None,
) -> Warnings:
    """Every rule over the plan, danger first; the same plan always gives the same list.

    Pass the plan's `measurements` when already computed (the screen has them) to save a pass.
    """
    if measurements is None:
        measurements = measure_plan(plan, calibrations)
    dose = session_dose(plan.targets())
    found = (
        *check_zone_clearance(plan, measurements),
        *check_anaesthetic_limits(plan, dose, limits),
        *check_needle_length(plan, measurements, limits),
        *check_in_plane_angle(plan, measurements, limits),
        *check_entry_on_skin(plan, measurements),
        *check_targets_below_skin(plan, measurements),
        *check_depth_zero(plan, calibrations),
        *check_patient_weight(plan, dose, limits),
        *check_injectate_numbers(dose),
        *check_millimetres(plan, measurements, calibrations),
        *check_targets_placed(plan),
    )
    return tuple(sorted(found, key=lambda w: SEVERITY_RANK[w.severity]))  # sorted() is stable


def worst_severity(warnings: Iterable[SafetyWarning], annotation_id: str) -> Severity | None:
    """The most serious warning naming an annotation, for colouring it on the image."""
    found = [w.severity for w in warnings if annotation_id in w.annotation_ids]
    return min(found, key=SEVERITY_RANK.__getitem__) if found else None


def worst_severities(warnings: Iterable[SafetyWarning]) -> dict[str, Severity]:
    """worst_severity of every annotation any warning names, in one pass (a view asking for
    each of n annotations in turn went over every warning n times)."""
    worst: dict[str, Severity] = {}
    for w in warnings:
        for annotation_id in w.annotation_ids:
            known = worst.get(annotation_id)
            if known is None or SEVERITY_RANK[w.severity] < SEVERITY_RANK[known]:
                worst[annotation_id] = w.severity
    return worst
