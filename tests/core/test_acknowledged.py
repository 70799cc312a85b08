"""Acknowledging safety warnings: an undoable edit of Plan.extra that the document announces and
counts as unsaved, kept by the plan file, and forgotten once the warning stops firing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from prolo_planner.core.acknowledged import (
    EXTRA_KEY,
    WarningKey,
    acknowledged_keys,
    forget_stale,
    is_acknowledged,
    with_acknowledged,
)
from prolo_planner.core.calibration import Calibration
from prolo_planner.core.document import Change, ChangeKind, PlanDocument, changes_between
from prolo_planner.core.edits import AcknowledgeWarnings, EditError, ReplaceAnnotation
from prolo_planner.core.geometry import Point
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.plan import (
    AvoidKind,
    AvoidZone,
    ImagePlan,
    ImageRef,
    NeedlePath,
    Plan,
    Target,
    ZoneShape,
)
from prolo_planner.core.safety import SafetyWarning, WarningCode, check_plan
from prolo_planner.imaging.dicom import DicomSource
from prolo_planner.store.plan_file import load_plan, save_plan
from tests.conftest import SAMPLE_IMAGES

LUMBAR = SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm"


@pytest.fixture(scope="module")
def calibration() -> Calibration:
    source = DicomSource.open(LUMBAR)
    try:
        cal = source.calibration
    finally:
        source.close()
    assert cal.is_calibrated  # the sample's ultrasound regions give millimetres
    return cal


def crossing_plan() -> Plan:
    """A vertical needle path through an artery on the lumbar sample."""
    image = ImagePlan(ImageRef(str(LUMBAR)), region="lumbar_spine", id="img")
    target = Target("img", Point(300, 250), name="L4-L5", id="t1")
    path = NeedlePath("img", Point(300, 70), "t1", needle_length_mm=50, id="p1")
    zone = AvoidZone(
        "img",
        ZoneShape.ELLIPSE,
        (Point(280, 120), Point(320, 160)),
        kind=AvoidKind.ARTERY,
        name="segmental artery",
        id="z1",
    )
    return Plan(
        images=(image,),
        annotations=(target, path, zone),
        patient_weight_kg=70.0,
        extra={"clinic_note": "kept"},
    )


def warnings_of(plan: Plan, calibration: Calibration) -> tuple[SafetyWarning, ...]:
    return check_plan(plan, {"img": calibration}, ClinicLimits())


def by_code(warnings, code: WarningCode) -> SafetyWarning:
    (found,) = [w for w in warnings if w.code is code]
    return found


def test_acknowledging_is_an_undoable_change_of_the_plan(calibration) -> None:
    plan = crossing_plan()
    warnings = warnings_of(plan, calibration)
    crossing = by_code(warnings, WarningCode.PATH_CROSSES_ZONE)
    assert crossing.annotation_ids == ("p1", "z1")
    doc = PlanDocument(plan)
    edit = AcknowledgeWarnings.of(doc.plan, [crossing], current=warnings)
    assert edit.text == "Acknowledge warning" and edit.ids == {"p1", "z1"}
    assert doc.apply(edit) == (Change(ChangeKind.PLAN, frozenset({"extra"})),)
    assert is_acknowledged(doc.plan, crossing)
    assert doc.plan.extra[EXTRA_KEY] == [{"code": "path-crosses-zone", "ids": ["p1", "z1"]}]
    assert doc.plan.extra["clinic_note"] == "kept"  # other keys of extra are left alone
    # Plan equality ignores extra, yet the document knows the plan is no longer as saved.
    assert doc.plan == plan and doc.is_modified
    assert doc.revert(edit) == (Change(ChangeKind.PLAN, frozenset({"extra"})),)
    assert not is_acknowledged(doc.plan, crossing) and dict(doc.plan.extra) == dict(plan.extra)
    assert not doc.is_modified  # undone back to the saved plan
    doc.apply(edit)
    doc.mark_clean()
    assert not doc.is_modified
    back = AcknowledgeWarnings.of(doc.plan, [crossing], done=False)
    assert back.text == "Unacknowledge warning"
    doc.apply(back)
    assert doc.is_modified and acknowledged_keys(doc.plan) == frozenset()
    assert EXTRA_KEY not in doc.plan.extra  # nothing acknowledged: no empty entry in the file


def test_several_at_once_and_a_plan_changed_behind_the_edit(calibration) -> None:
    plan = crossing_plan()
    warnings = warnings_of(plan, calibration)
    steep = by_code(warnings, WarningCode.IN_PLANE_TOO_STEEP)
    both = AcknowledgeWarnings.of(plan, warnings, current=warnings)
    assert both.text == f"Acknowledge {len(warnings)} warnings"
    done = both.apply(plan)
    assert acknowledged_keys(done) == {WarningKey.of(w) for w in warnings}
    assert AcknowledgeWarnings.of(done, warnings).is_noop
    # Acknowledged elsewhere meanwhile: the edit no longer fits, and says so.
    other = with_acknowledged(plan, [steep])
    with pytest.raises(EditError, match="acknowledged warnings have changed"):
        both.apply(other)
    with pytest.raises(EditError):
        both.revert(plan)
    assert changes_between(plan, replace(plan, extra=dict(plan.extra))) == ()


def test_acknowledgements_are_kept_by_the_plan_file(calibration, tmp_path) -> None:
    plan = crossing_plan()
    warnings = warnings_of(plan, calibration)
    done = AcknowledgeWarnings.of(plan, warnings[:1]).apply(plan)
    path = save_plan(tmp_path / "plan.prolo.json", done)
    loaded = load_plan(path)
    assert acknowledged_keys(loaded) == {WarningKey.of(warnings[0])}
    assert loaded.extra["clinic_note"] == "kept"


def test_stale_acknowledgements_are_forgotten_when_the_warning_goes(calibration) -> None:
    plan = crossing_plan()
    warnings = warnings_of(plan, calibration)
    crossing = by_code(warnings, WarningCode.PATH_CROSSES_ZONE)
    plan = AcknowledgeWarnings.of(plan, [crossing]).apply(plan)
    # The clinician moves the entry aside: the path no longer crosses the artery.
    path = plan.annotation("p1")
    moved = ReplaceAnnotation(path, replace(path, entry=Point(420, 70))).apply(plan)
    now = warnings_of(moved, calibration)
    assert not [w for w in now if w.code is WarningCode.PATH_CROSSES_ZONE]
    assert is_acknowledged(moved, crossing)  # still stored, though nothing fires
    assert acknowledged_keys(forget_stale(moved, now)) == frozenset()
    assert forget_stale(plan, warnings) is plan  # nothing stale: the very same plan
    # Acknowledging another warning drops the stale one in the same undo step...
    steep = now[0]
    edit = AcknowledgeWarnings.of(moved, [steep], current=now)
    assert edit.text == "Change acknowledged warnings"
    after = edit.apply(moved)
    assert acknowledged_keys(after) == {WarningKey.of(steep)}
    assert acknowledged_keys(edit.revert(after)) == {WarningKey.of(crossing)}  # ...undone too
    # Moved back through the artery, the crossing fires again and must be read again.
    back = ReplaceAnnotation(
        after.annotation("p1"), replace(after.annotation("p1"), entry=Point(300, 70))
    ).apply(after)
    again = by_code(warnings_of(back, calibration), WarningCode.PATH_CROSSES_ZONE)
    assert WarningKey.of(again) == WarningKey.of(crossing)
    assert not is_acknowledged(back, again)


def test_malformed_acknowledgements_are_not_trusted(calibration) -> None:
    plan = replace(
        crossing_plan(),
        extra={EXTRA_KEY: [{"code": 3}, "x", {"code": "path-crosses-zone", "ids": ["p1", "z1"]}]},
    )
    crossing = by_code(warnings_of(plan, calibration), WarningCode.PATH_CROSSES_ZONE)
    assert acknowledged_keys(plan) == {WarningKey("path-crosses-zone", ("p1", "z1"))}
    assert is_acknowledged(plan, crossing)
    assert acknowledged_keys(replace(plan, extra={EXTRA_KEY: "all"})) == frozenset()
