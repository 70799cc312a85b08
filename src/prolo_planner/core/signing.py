"""What is unresolved in a plan when the clinician signs it: danger warnings not acknowledged,
targets not placed, images without millimetres, and depth zero that is only a guess.

Signing with any of them is allowed (the app informs, it never decides), but only as an explicit
confirmation of the list, which the store keeps with the signature and the report prints.
"""

from __future__ import annotations

from collections.abc import Iterable

from prolo_planner.core.acknowledged import is_acknowledged
from prolo_planner.core.plan import Plan
from prolo_planner.core.safety import SafetyWarning, Severity, WarningCode

#: Facts of the plan that stay unresolved whether or not their warning was acknowledged.
ALWAYS_UNRESOLVED = {
    WarningCode.TARGET_NOT_PLACED: "Target not placed",
    WarningCode.IMAGE_NOT_CALIBRATED: "Image not calibrated",
    WarningCode.NO_MILLIMETRES: "No millimetres",
    WarningCode.DEPTH_ZERO_GUESSED: "Depth zero is a guess",
}


def unresolved(plan: Plan, warnings: Iterable[SafetyWarning]) -> tuple[str, ...]:
    """Each unresolved item in words, danger first, in the warnings' own order."""
    out: list[str] = []
    for w in warnings:
        if w.code in ALWAYS_UNRESOLVED:
            out.append(f"{ALWAYS_UNRESOLVED[w.code]}: {w.message}")
        elif w.severity is Severity.DANGER and not is_acknowledged(plan, w):
            out.append(f"Danger not acknowledged: {w.message}")
    return tuple(dict.fromkeys(out))
