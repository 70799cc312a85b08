"""What is unresolved when a plan is signed, without a display: danger warnings only until
acknowledged; unplaced targets, images without millimetres and a guessed depth zero always."""

from __future__ import annotations

from prolo_planner.core.acknowledged import with_acknowledged
from prolo_planner.core.plan import Plan
from prolo_planner.core.safety import SafetyWarning, Severity, WarningCode
from prolo_planner.core.signing import unresolved

DANGER = SafetyWarning(
    WarningCode.PATH_CROSSES_ZONE, Severity.DANGER, ("p", "z"), "Path crosses the artery"
)
NEAR = SafetyWarning(WarningCode.PATH_NEAR_ZONE, Severity.WARNING, ("p", "z"), "Path near")
UNPLACED = SafetyWarning(
    WarningCode.TARGET_NOT_PLACED, Severity.WARNING, ("t",), "'L4-L5' is not placed"
)
GUESS = SafetyWarning(
    WarningCode.DEPTH_ZERO_GUESSED, Severity.WARNING, ("i",), "Depth zero on 'a.mp4' is a guess"
)


def test_danger_until_acknowledged_and_facts_of_the_plan_always():
    plan = Plan()
    found = (DANGER, NEAR, UNPLACED, GUESS)
    assert unresolved(plan, found) == (
        "Danger not acknowledged: Path crosses the artery",
        "'L4-L5' is not placed",
        "Depth zero on 'a.mp4' is a guess",
    )
    read = with_acknowledged(plan, [DANGER, UNPLACED, GUESS])
    assert unresolved(read, found) == ("'L4-L5' is not placed", "Depth zero on 'a.mp4' is a guess")
    assert unresolved(plan, ()) == ()
