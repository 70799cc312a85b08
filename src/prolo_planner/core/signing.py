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

#: Facts of the plan that stay unresolved whether or not their warning was acknowledged (each
#: warning's own words say what it is: "Target 'L4-L5 ...' is ... not placed on an image yet").
ALWAYS_UNRESOLVED = frozenset(
    {
        WarningCode.TARGET_NOT_PLACED,
        WarningCode.IMAGE_NOT_CALIBRATED,
        WarningCode.NO_MILLIMETRES,
        WarningCode.DEPTH_ZERO_GUESSED,
    }
)


def unresolved(plan: Plan, warnings: Iterable[SafetyWarning]) -> tuple[str, ...]:
    """Each unresolved item in words, danger first, in the warnings' own order."""
    out: list[str] = []
    for w in warnings:
        if w.code in ALWAYS_UNRESOLVED:
            out.append(w.message)
        elif w.severity is Severity.DANGER and not is_acknowledged(plan, w):
            out.append(f"Danger not acknowledged: {w.message}")
    return tuple(dict.fromkeys(out))
