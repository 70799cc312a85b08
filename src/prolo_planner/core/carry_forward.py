"""Carry forward by site: a prior session's targets (names, kinds, injectate) copied into today's
plan, unplaced (a checklist to place) or at the same positions on a chosen image, as one undo
step; a site today's plan already has is not added again.

A site is its catalog name and its side ("L4-L5 supraspinous ligament", midline): the same name
on the same side is the same site however it was typed (case and spacing aside). Each copy is a
new target, planned (not injected), with a new id: today's record never points into last
session's. What is not carried, and why, is part of the answer, for the clinician to read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from prolo_planner.core.edits import AddAnnotation, AddImage, Compound, Edit
from prolo_planner.core.identity import fold
from prolo_planner.core.plan import (
    ImagePlan,
    NeedlePath,
    Plan,
    Side,
    SiteStatus,
    Target,
    new_id,
)


class CarryMode(StrEnum):
    UNPLACED = "unplaced"  # a checklist to place on today's image
    SAME_POSITIONS = "same positions"


@dataclass(frozen=True, slots=True)
class ImageChoice:
    """An image the copies can go on: today's, or a prior one added to today's plan."""

    image: ImagePlan
    in_today: bool
    number: int = 1


def image_choices(prior: Plan, today: Plan) -> list[ImageChoice]:
    """Today's images first, then the prior session's (by file) that today's plan lacks."""
    choices = [ImageChoice(im, True, n) for n, im in enumerate(today.images, start=1)]
    have = {(im.ref.sha256 or im.ref.path) for im in today.images}
    for n, im in enumerate(prior.images, start=1):
        if (im.ref.sha256 or im.ref.path) not in have:
            choices.append(ImageChoice(im, False, n))
    return choices


def site_key(target: Target) -> tuple[str, Side] | None:
    """What makes two targets one site: the name (case and spacing aside) and the side. An
    unnamed target is no site anyone can recognise: None."""
    name = " ".join(fold(target.name).split())
    return (name, target.side) if name else None


def site_text(target: Target) -> str:
    """'L4-L5 supraspinous ligament (midline)', how the clinician reads a site."""
    name = target.name or f"an unnamed {target.kind.value} site"
    return name if target.side is Side.UNSPECIFIED else f"{name} ({target.side.value})"


def already_planned(prior: Plan, today: Plan) -> dict[str, str]:
    """Prior targets (by id) whose site today's plan has already, with the reason."""
    here = {k for t in today.targets() if (k := site_key(t)) is not None}
    return {
        t.id: "already in today's plan"
        for t in prior.targets()
        if (k := site_key(t)) is not None and k in here
    }


def unplaced_targets(plan: Plan) -> tuple[Target, ...]:
    """Targets carried forward and not placed on an image yet."""
    return tuple(t for t in plan.targets() if t.position is None)


@dataclass(frozen=True, slots=True)
class Skipped:
    target: Target
    reason: str


@dataclass(frozen=True, slots=True)
class CarryForward:
    """What a carry forward would do: the one undo step (None when nothing goes), the targets
    it adds (new copies), and what it leaves out, each with why."""

    edit: Compound | None
    carried: tuple[Target, ...]
    skipped: tuple[Skipped, ...]
    nothing_chosen: bool = False

    def message(self) -> str:
        """What the clinician is told, whatever happened."""
        if self.nothing_chosen:
            return "Nothing carried forward: no site was ticked"
        parts = []
        if self.carried:
            n = len(self.carried)
            placed = self.carried[0].position is not None
            how = "at the same positions" if placed else "unplaced"
            parts.append(
                f"{n} site{'s' if n != 1 else ''} carried forward {how}: "
                + ", ".join(site_text(t) for t in self.carried)
            )
        else:
            parts.append("Nothing carried forward")
        if self.skipped:
            parts.append(
                "not carried: "
                + "; ".join(f"{site_text(s.target)}, {s.reason}" for s in self.skipped)
            )
        return ". ".join(parts)


def carry_forward(
    prior: Plan,
    today: Plan,
    mode: CarryMode,
    onto: ImageChoice,
    target_ids: Iterable[str] | None = None,
    *,
    with_paths: bool = True,
) -> CarryForward:
    """Copies of the prior plan's targets (all, or `target_ids`) for today, site by site.

    A site today's plan has already is skipped, and so is a second target of the same site in
    the prior plan. UNPLACED: position None on `onto` (listed apart from the totals; the
    warnings say they are not placed). SAME_POSITIONS: where they were, on `onto`, with their
    needle paths when `with_paths`. An `onto` image not in today's plan is added in the same
    step."""
    wanted = None if target_ids is None else set(target_ids)
    if wanted is not None and not wanted:
        return CarryForward(None, (), (), nothing_chosen=True)
    chosen = [t for t in prior.targets() if wanted is None or t.id in wanted]
    planned = already_planned(prior, today)
    seen: set[tuple[str, Side]] = set()
    keep: list[Target] = []
    skipped: list[Skipped] = []
    for t in chosen:
        key = site_key(t)
        if t.id in planned:
            skipped.append(Skipped(t, planned[t.id]))
        elif key is not None and key in seen:
            skipped.append(Skipped(t, "the prior plan has this site twice: carried once"))
        else:
            keep.append(t)
            if key is not None:
                seen.add(key)
    if not keep:
        return CarryForward(None, (), tuple(skipped))
    edits: list[Edit] = []
    image = onto.image
    if not onto.in_today:
        image = replace(image, id=new_id(), key_frames=())
        edits.append(AddImage(image))
    placed = mode is CarryMode.SAME_POSITIONS
    copies: dict[str, Target] = {}
    for t in keep:
        copy = Target(
            image.id,
            t.position if placed else None,
            frame=_frame_on(image, t.frame) if placed else None,
            kind=t.kind,
            name=t.name,
            side=t.side,
            status=SiteStatus.PLANNED,
            injectate=replace(t.injectate, extra=dict(t.injectate.extra)),
        )
        copies[t.id] = copy
        edits.append(AddAnnotation(copy))
    if placed and with_paths:
        for path in prior.annotations:
            if isinstance(path, NeedlePath) and path.target_id in copies:
                target = copies[path.target_id]
                edits.append(
                    AddAnnotation(
                        NeedlePath(
                            image.id,
                            path.entry,
                            target.id,
                            frame=target.frame,
                            approach=path.approach,
                            needle_gauge=path.needle_gauge,
                            needle_length_mm=path.needle_length_mm,
                        )
                    )
                )
    n = len(keep)
    how = "unplaced" if not placed else "at the same positions"
    edit = Compound(tuple(edits), f"Carry forward {n} site{'s' if n != 1 else ''} {how}")
    return CarryForward(edit, tuple(copies.values()), tuple(skipped))


def _frame_on(image: ImagePlan, frame: int | None) -> int | None:
    """The prior frame if the image has it; else on every frame (a still, a shorter clip)."""
    if frame is None or image.ref.frame_count <= 1 or frame >= image.ref.frame_count:
        return None
    return frame
