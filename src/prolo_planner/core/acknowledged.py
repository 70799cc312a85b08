"""Which safety warnings the clinician has read and accepted, kept in the plan (Plan.extra).

A warning is acknowledged by its code and the annotations it names, not by its wording: a
needle path still crossing the same artery after a small move stays acknowledged, while the
same path crossing another zone, or a new rule firing, asks to be read again. Stored under
Plan.extra["acknowledged_warnings"] as a list of {"code", "ids"} objects, so the plan file and
the session store keep it without a format change (unknown keys survive a re-save). The
warnings panel changes it through the undoable edit core.edits.AcknowledgeWarnings; the PDF
report reads it to say which warnings were read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from prolo_planner.core.plan import Plan
from prolo_planner.core.safety import SafetyWarning

EXTRA_KEY = "acknowledged_warnings"


@dataclass(frozen=True, slots=True, order=True)
class WarningKey:
    """What identifies a warning across edits: its rule and the annotations it is about."""

    code: str
    annotation_ids: tuple[str, ...]

    @classmethod
    def of(cls, warning: SafetyWarning) -> WarningKey:
        return cls(warning.code.value, tuple(warning.annotation_ids))

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "ids": list(self.annotation_ids)}


def acknowledged_keys(plan: Plan) -> frozenset[WarningKey]:
    """The acknowledgements stored in the plan; malformed entries (a hand-edited file) are
    ignored rather than trusted."""
    raw = plan.extra.get(EXTRA_KEY, ())
    keys: set[WarningKey] = set()
    if not isinstance(raw, list | tuple):
        return frozenset()
    for item in raw:
        if not isinstance(item, dict):
            continue
        code, ids = item.get("code"), item.get("ids", [])
        if isinstance(code, str) and isinstance(ids, list | tuple):
            keys.add(WarningKey(code, tuple(str(i) for i in ids)))
    return frozenset(keys)


def with_keys(plan: Plan, keys: Iterable[WarningKey]) -> Plan:
    """The plan with exactly these acknowledgements (none: the entry is left out)."""
    kept = sorted(set(keys))
    extra = dict(plan.extra)
    if kept:
        extra[EXTRA_KEY] = [k.to_json() for k in kept]
    else:
        extra.pop(EXTRA_KEY, None)
    return dataclasses.replace(plan, extra=extra)


def is_acknowledged(plan: Plan, warning: SafetyWarning) -> bool:
    return WarningKey.of(warning) in acknowledged_keys(plan)


def with_acknowledged(plan: Plan, warnings: Iterable[SafetyWarning], done: bool = True) -> Plan:
    """The plan with these warnings acknowledged (or, with done=False, no longer so)."""
    keys = set(acknowledged_keys(plan))
    for w in warnings:
        if done:
            keys.add(WarningKey.of(w))
        else:
            keys.discard(WarningKey.of(w))
    return with_keys(plan, keys)


def forget_stale(plan: Plan, current: Iterable[SafetyWarning]) -> Plan:
    """Drop acknowledgements of warnings that no longer fire, so a warning that goes away and
    comes back later (a new problem) must be read again."""
    live = {WarningKey.of(w) for w in current}
    keys = acknowledged_keys(plan)
    if keys <= live:
        return plan
    return with_keys(plan, keys & live)
