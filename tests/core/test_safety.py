"""Safety checks, one rule at a time, then all of them together on a plan."""

from __future__ import annotations

import pytest

from prolo_planner.core.calibration import (
    ACROSS_REGIONS,
    Calibration,
    CalibrationSource,
    RegionUnits,
    UltrasoundRegion,
)
from prolo_planner.core.dose import session_dose
from prolo_planner.core.geometry import Point
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.measure import measure_plan
from prolo_planner.core.plan import (
    Anaesthetic,
    Approach,
    AvoidKind,
    AvoidZone,
    Caliper,
    ImagePlan,
    ImageRef,
    Injectate,
    NeedlePath,
    Plan,
    SiteStatus,
    Target,
    TargetKind,
    ZoneShape,
)
from prolo_planner.core.safety import (
    Severity,
    WarningCode,
    check_anaesthetic_limits,
    check_in_plane_angle,
    check_injectate_numbers,
    check_millimetres,
    check_needle_length,
    check_patient_weight,
    check_plan,
    check_targets_placed,
    check_zone_clearance,
    worst_severity,
)

P = Point
LIMITS = ClinicLimits()
#: Square pixels of 0.1 mm: 10 px = 1 mm.
SQUARE = Calibration.uniform(480, 640, 0.1, 0.1, CalibrationSource.PIXEL_SPACING)
CM = int(RegionUnits.CM)
#: 0.1 mm/px across and 0.2 mm/px down, below a 40-row banner.
ANISO = Calibration.from_ultrasound_regions(
    [UltrasoundRegion(0, 40, 639, 479, 1, CM, CM, 0.01, 0.02)], 480, 640
)
#: Dual view: left half 0.1 mm/px, right half 0.15 mm/px.
DUAL = Calibration.from_ultrasound_regions(
    [
        UltrasoundRegion(0, 40, 319, 479, 1, CM, CM, 0.01, 0.01),
        UltrasoundRegion(320, 40, 639, 479, 1, CM, CM, 0.015, 0.015),
    ],
    480,
    640,
)
IMAGE = ImagePlan(ImageRef("/scans/lumbar.dcm"), region="lumbar_spine", id="img")


def plan_of(*annotations, weight: float | None = 70.0) -> Plan:
    return Plan(images=(IMAGE,), annotations=annotations, patient_weight_kg=weight)


def target(at=(100, 300), name="L4-L5 interspinous", **kw) -> Target:
    return Target("img", P(*at) if at else None, name=name, id=kw.pop("id", "t1"), **kw)


def path(entry=(100, 0), to="t1", **kw) -> NeedlePath:
    return NeedlePath("img", P(*entry), to, id=kw.pop("id", "p1"), **kw)


def box(x0, y0, x1, y1, name="spinal canal", **kw) -> AvoidZone:
    points = (P(x0, y0), P(x1, y0), P(x1, y1), P(x0, y1))
    return AvoidZone("img", ZoneShape.POLYGON, points, name=name, id=kw.pop("id", "z1"), **kw)


def run(rule, plan: Plan, calibration: Calibration = SQUARE, *extra):
    return rule(plan, measure_plan(plan, {"img": calibration}), *extra)


# -- avoid zones ---------------------------------------------------------------------------
def test_path_crossing_a_zone_is_danger_naming_it():
    plan = plan_of(target(), path(), box(80, 150, 140, 200, kind=AvoidKind.SPINAL_CANAL))
    (w,) = run(check_zone_clearance, plan)
    assert (w.code, w.severity, w.annotation_ids) == (
        WarningCode.PATH_CROSSES_ZONE,
        Severity.DANGER,
        ("p1", "z1"),
    )
    assert w.message == "Needle path to 'L4-L5 interspinous' crosses 'spinal canal' (margin 3 mm)"


def test_path_within_the_margin_names_the_closest_distance():
    # The path runs down x = 100; the zone starts at x = 118: 18 px = 1.8 mm away.
    plan = plan_of(target(), path(), box(118, 150, 160, 200))
    (w,) = run(check_zone_clearance, plan)
    assert (w.code, w.severity) == (WarningCode.PATH_NEAR_ZONE, Severity.WARNING)
    assert w.message == (
        "Needle path to 'L4-L5 interspinous' passes 1.8 mm from 'spinal canal' (margin 3 mm)"
    )


@pytest.mark.parametrize("x0", [130, 200])  # exactly at the margin, and far
def test_path_at_or_beyond_the_margin_is_clear(x0):
    assert run(check_zone_clearance, plan_of(target(), path(), box(x0, 150, 260, 200))) == ()


def test_margin_is_the_zones_own_and_measured_in_mm_on_anisotropic_pixels():
    # The zone lies 20 rows below the target at 0.2 mm per row: 4 mm, inside a 5 mm margin,
    # although 20 px at the across spacing would be 2 mm.
    plan = plan_of(
        target(at=(100, 300)), path(entry=(100, 40)), box(60, 320, 140, 360, margin_mm=5)
    )
    (w,) = run(check_zone_clearance, plan, ANISO)
    assert "passes 4.0 mm from 'spinal canal' (margin 5 mm)" in w.message


def test_ellipse_zone_near_miss_and_unnamed_zone_called_by_its_kind():
    # A circle of radius 2 mm centred 4 mm right of the path: 2 mm clear, inside 3 mm.
    nerve = AvoidZone("img", ZoneShape.ELLIPSE, (P(120, 200), P(160, 240)), kind=AvoidKind.NERVE)
    (w,) = run(check_zone_clearance, plan_of(target(), path(), nerve))
    assert w.message.endswith("passes 2.0 mm from the nerve zone (margin 3 mm)")


def test_zone_on_another_frame_and_skipped_targets_are_not_checked():
    other_frame = plan_of(target(), path(frame=2), box(80, 150, 140, 200, frame=5))
    assert run(check_zone_clearance, other_frame) == ()
    skipped = plan_of(target(status=SiteStatus.SKIPPED), path(), box(80, 150, 140, 200))
    assert run(check_zone_clearance, skipped) == ()


def test_bone_is_a_backstop_near_is_fine_meeting_it_warns_periosteum_expects_it():
    near = plan_of(target(), path(), box(110, 150, 160, 200, "L5 lamina", kind=AvoidKind.BONE))
    assert run(check_zone_clearance, near) == ()
    through = plan_of(target(), path(), box(80, 150, 140, 200, "L5 lamina", kind=AvoidKind.BONE))
    (w,) = run(check_zone_clearance, through)
    assert (w.code, w.severity) == (WarningCode.PATH_MEETS_BONE, Severity.WARNING)
    assert "meets bone 'L5 lamina'" in w.message
    onto = plan_of(
        target(kind=TargetKind.PERIOSTEUM),
        path(),
        box(80, 300, 140, 340, "iliac crest", kind=AvoidKind.BONE),
    )
    assert run(check_zone_clearance, onto) == ()


def test_crossing_is_found_without_calibration_but_a_near_miss_cannot_be_judged():
    crossing = plan_of(target(), path(), box(80, 150, 140, 200))
    assert [w.code for w in run(check_zone_clearance, crossing, Calibration.none())] == [
        WarningCode.PATH_CROSSES_ZONE
    ]
    near = plan_of(target(), path(), box(118, 150, 160, 200))
    assert run(check_zone_clearance, near, Calibration.none()) == ()


# -- needle length and angle ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("needle_mm", "code"),
    [
        (38.0, WarningCode.NEEDLE_TOO_SHORT),  # 30 mm path + 10 mm hub = 40 mm
        (40.0, None),
        (80.0, None),  # 40 mm spare: not more than the 40 mm allowed
        (90.0, WarningCode.NEEDLE_TOO_LONG),
    ],
)
def test_needle_length_against_path_plus_hub_margin(needle_mm, code):
    plan = plan_of(target(at=(100, 300)), path(needle_length_mm=needle_mm))  # 300 px = 30 mm
    found = run(check_needle_length, plan, SQUARE, LIMITS)
    assert [w.code for w in found] == ([code] if code else [])


def test_needle_too_short_message_and_severities():
    plan = plan_of(target(), path(needle_length_mm=38.0, needle_gauge=25))
    (w,) = run(check_needle_length, plan, SQUARE, LIMITS)
    assert w.severity is Severity.WARNING
    assert w.message == (
        "The 25G 38 mm needle is too short for the path to 'L4-L5 interspinous': "
        "30.0 mm in tissue + 10 mm at the hub needs 40.0 mm"
    )
    long = plan_of(target(), path(needle_length_mm=90.0))
    (w,) = run(check_needle_length, long, SQUARE, LIMITS)
    assert w.severity is Severity.INFO


def test_needle_length_is_not_judged_without_mm():
    plan = plan_of(target(), path(needle_length_mm=10.0))
    assert run(check_needle_length, plan, Calibration.none(), LIMITS) == ()


def test_steep_in_plane_path_warns_out_of_plane_does_not():
    steep = plan_of(target(at=(200, 300)), path(entry=(100, 0)))  # 71.6 degrees
    (w,) = run(check_in_plane_angle, steep, SQUARE, LIMITS)
    assert (w.code, w.severity) == (WarningCode.IN_PLANE_TOO_STEEP, Severity.WARNING)
    assert "is 72° to the transducer face, steeper than 45°" in w.message
    oop = plan_of(target(at=(200, 300)), path(entry=(100, 0), approach=Approach.OUT_OF_PLANE))
    assert run(check_in_plane_angle, oop, SQUARE, LIMITS) == ()
    shallow = plan_of(target(at=(400, 300)), path(entry=(100, 0)))  # exactly 45 degrees
    assert run(check_in_plane_angle, shallow, SQUARE, LIMITS) == ()


def test_steep_angle_threshold_is_the_clinics():
    steep = plan_of(target(at=(200, 300)), path(entry=(100, 0)))
    assert run(check_in_plane_angle, steep, SQUARE, ClinicLimits(in_plane_max_angle_deg=75)) == ()


def test_steepness_is_judged_in_mm_on_anisotropic_pixels():
    # 45 degrees in pixels, 63 degrees in millimetres (rows are twice as tall as columns wide).
    plan = plan_of(target(at=(300, 300)), path(entry=(100, 100)))
    (w,) = run(check_in_plane_angle, plan, ANISO, LIMITS)
    assert "is 63° to the transducer face" in w.message
    assert "pixels" not in w.message
    uncalibrated = plan_of(target(at=(200, 300)), path(entry=(100, 0)))
    (w,) = run(check_in_plane_angle, uncalibrated, Calibration.none(), LIMITS)
    assert "(measured in pixels: image not calibrated)" in w.message


# -- millimetres ---------------------------------------------------------------------------
def test_path_across_dual_view_regions_of_different_spacing_is_flagged():
    plan = plan_of(target(at=(400, 300)), path(entry=(200, 40)))
    (w,) = run(check_millimetres, plan, DUAL, {"img": DUAL})
    assert (w.code, w.annotation_ids) == (WarningCode.NO_MILLIMETRES, ("p1",))
    assert w.message == (
        f"Needle path to 'L4-L5 interspinous': no millimetres ({ACROSS_REGIONS}), shown in pixels"
    )
    same_half = plan_of(target(at=(400, 300)), path(entry=(350, 40)))
    assert run(check_millimetres, same_half, DUAL, {"img": DUAL}) == ()


def test_uncalibrated_image_is_one_warning_listing_its_measurements():
    caliper = Caliper("img", P(0, 0), P(10, 10), id="c1")
    plan = plan_of(target(), path(), caliper)
    (w,) = run(check_millimetres, plan, Calibration.none(), {})
    assert (w.code, w.annotation_ids) == (WarningCode.IMAGE_NOT_CALIBRATED, ("t1", "p1", "c1"))
    assert w.message == "Image 'lumbar.dcm' is not calibrated: its measurements are shown in pixels"


def test_target_in_the_banner_has_its_depth_flagged():
    plan = plan_of(target(at=(100, 20)), Caliper("img", P(0, 0), P(10, 10), label="banner", id="c"))
    found = run(check_millimetres, plan, ANISO, {"img": ANISO})
    assert [w.message for w in found] == [
        "Depth of target 'L4-L5 interspinous': no millimetres "
        "(the target lies outside the calibrated regions), no depth",
        "Caliper 'banner': no millimetres (an end lies outside the calibrated regions), "
        "shown in pixels",
    ]


# -- anaesthetic ---------------------------------------------------------------------------
def sites(n: int, ml: float, percent: float = 1.0, agent=Anaesthetic.LIDOCAINE) -> list[Target]:
    return [
        Target("img", P(10, 10), injectate=Injectate(15.0, agent, percent, ml), id=f"s{i}")
        for i in range(n)
    ]


def check_dose(plan: Plan, limits: ClinicLimits = LIMITS):
    dose = session_dose(plan.targets())
    return check_anaesthetic_limits(plan, dose, limits) + check_patient_weight(plan, dose, limits)


def test_lidocaine_above_the_weight_limit_but_at_the_absolute_one():
    plan = plan_of(*sites(10, 3.0), weight=60.0)  # 300 mg; 4.5 mg/kg x 60 kg = 270 mg
    (w,) = check_dose(plan)
    assert (w.code, w.severity) == (WarningCode.ANAESTHETIC_ABOVE_WEIGHT_LIMIT, Severity.DANGER)
    assert w.message == (
        "Lidocaine total 300 mg is above the clinic's limit of 4.5 mg/kg for 60 kg (270 mg)"
    )
    assert w.annotation_ids == tuple(f"s{i}" for i in range(10))


def test_lidocaine_above_the_absolute_limit_for_a_heavy_patient():
    (w,) = check_dose(plan_of(*sites(11, 3.0), weight=100.0))  # 330 mg; 450 mg by weight
    assert w.code is WarningCode.ANAESTHETIC_ABOVE_ABSOLUTE_LIMIT
    assert w.message == "Lidocaine total 330 mg is above the clinic's absolute limit of 300 mg"


def test_a_total_exactly_at_the_limit_is_not_above_it_despite_rounding():
    # 100 x 0.2 mL of 1.5 % is 300 mg, which floats add up to 300.00000000000006.
    plan = plan_of(*sites(100, 0.2, 1.5), weight=100.0)
    assert session_dose(plan.targets()).mg_of(Anaesthetic.LIDOCAINE) > 300
    assert check_dose(plan) == ()
    assert check_dose(plan_of(*sites(101, 0.2, 1.5), weight=100.0))


def test_no_weight_the_absolute_limit_still_applies_and_the_gap_is_named():
    found = check_dose(plan_of(*sites(11, 3.0), weight=None))
    assert [w.code for w in found] == [
        WarningCode.ANAESTHETIC_ABOVE_ABSOLUTE_LIMIT,
        WarningCode.NO_PATIENT_WEIGHT,
    ]
    small = check_dose(plan_of(*sites(3, 2.0, 0.5), weight=None))
    (w,) = small
    assert w.severity is Severity.WARNING
    assert w.message == (
        "No patient weight known: the anaesthetic totals (lidocaine 30 mg (4.5 mg/kg)) cannot "
        "be checked against the clinic's mg/kg limits"
    )


def test_no_weight_without_anaesthetic_is_fine():
    assert check_dose(plan_of(*sites(3, 2.0, agent=Anaesthetic.NONE), weight=None)) == ()


def test_procaine_has_its_own_limits_and_agents_are_not_pooled():
    # 250 mg lidocaine and 300 mg procaine for 80 kg: each under its own limit, although
    # 550 mg together would be above either.
    procaine = [
        Target("img", P(1, 1), injectate=Injectate(15, Anaesthetic.PROCAINE, 1.0, 5.0), id=f"q{i}")
        for i in range(6)
    ]
    plan = plan_of(*sites(5, 5.0), *procaine, weight=80.0)
    assert check_dose(plan) == ()
    tight = ClinicLimits(procaine_max_mg=250)
    (w,) = check_dose(plan, tight)
    assert w.message.startswith("Procaine total 300 mg is above the clinic's absolute limit")
    assert w.annotation_ids == tuple(f"q{i}" for i in range(6))


def test_unusable_injectate_numbers_are_warned():
    bad = Target("img", P(1, 1), name="C5", injectate=Injectate(volume_ml=-1.0), id="b")
    (w,) = check_injectate_numbers(session_dose([bad]))
    assert w.message == "Injectate of 'C5': volume -1.0 is not usable; counted as 0 in the totals"


# -- placement and the whole plan ----------------------------------------------------------
def test_target_not_placed_is_info_with_its_paths():
    plan = plan_of(
        target(at=None), path(), target(at=None, name="gone", id="t9", status=SiteStatus.SKIPPED)
    )
    (w,) = check_targets_placed(plan)
    assert (w.severity, w.annotation_ids) == (Severity.INFO, ("t1", "p1"))
    assert w.message == (
        "Target 'L4-L5 interspinous' is carried forward and not placed on an image yet"
    )


def test_check_plan_runs_every_rule_danger_first_and_is_deterministic():
    plan = plan_of(
        target(),
        path(needle_length_mm=25.0),
        box(80, 150, 140, 200),
        target(
            at=None, name="iliolumbar", id="t2", injectate=Injectate(anaesthetic=Anaesthetic.NONE)
        ),
        *sites(11, 3.0),
        weight=None,
    )
    warnings = check_plan(plan, {"img": SQUARE}, LIMITS)
    assert [w.code for w in warnings] == [
        WarningCode.PATH_CROSSES_ZONE,
        WarningCode.ANAESTHETIC_ABOVE_ABSOLUTE_LIMIT,
        WarningCode.NEEDLE_TOO_SHORT,
        WarningCode.IN_PLANE_TOO_STEEP,  # straight down: 90 degrees
        WarningCode.NO_PATIENT_WEIGHT,
        WarningCode.TARGET_NOT_PLACED,
    ]
    assert check_plan(plan, {"img": SQUARE}, LIMITS) == warnings
    assert worst_severity(warnings, "p1") is Severity.DANGER
    assert worst_severity(warnings, "t2") is Severity.INFO
    assert worst_severity(warnings, "nothing") is None


def test_check_plan_on_a_clean_plan_is_empty():
    # 42.4 mm at 45 degrees, a 60 mm needle: 7.6 mm to spare beyond the hub margin.
    plan = plan_of(target(at=(300, 300)), path(entry=(0, 0), needle_length_mm=60.0))
    assert check_plan(plan, {"img": SQUARE}, LIMITS) == ()
