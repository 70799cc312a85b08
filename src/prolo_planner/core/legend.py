"""The keys that tie the drawing to the legend: each target's site number (the number of its
row in the report's sites table, the same on every image), a needle path the number of its
target, and the zones, calipers, angles and notes of an image letters A, B, C... in plan order."""

from __future__ import annotations

from prolo_planner.core.plan import NeedlePath, Plan, Target


def site_numbers(plan: Plan) -> dict[str, int]:
    """Target id -> its site number, from 1, in the plan's order."""
    return {t.id: n for n, t in enumerate(plan.targets(), start=1)}


def letters(n: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA."""
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(ord("A") + r) + out
    return out


def legend_keys(plan: Plan, image_id: str) -> dict[str, str]:
    """Annotation id -> its key on this image: '3' for site 3 and its needle paths, 'B' for the
    image's second zone, caliper, angle or note."""
    numbers = site_numbers(plan)
    keys: dict[str, str] = {}
    n = 0
    for a in plan.annotations:
        if a.image_id != image_id:
            continue
        if isinstance(a, Target):
            keys[a.id] = str(numbers[a.id])
        elif isinstance(a, NeedlePath):
            if a.target_id in numbers:
                keys[a.id] = str(numbers[a.target_id])
        else:
            n += 1
            keys[a.id] = letters(n)
    return keys
