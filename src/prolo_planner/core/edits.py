"""Reversible edits of a plan: each is one undo step, applied and reverted as plain values.

An edit keeps the values before and after (never copies of the whole plan), so the UI's
QUndoStack wraps one edit per command: redo() calls `apply`, undo() calls `revert`, and
mergeWith() calls `merge_with`. An edit that does not fit the plan it is given (a missing id,
an annotation changed behind its back) raises EditError and returns nothing: the plan given
is never altered, since plans are frozen values.

Invariants every edit keeps: each annotation lies on an image of the plan, ids are unique, and
a needle path's target is a Target on the path's own image.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from prolo_planner.core.acknowledged import (
    WarningKey,
    acknowledged_keys,
    with_acknowledged,
    with_keys,
)
from prolo_planner.core.dragging import shifted
from prolo_planner.core.plan import (
    AngleMeasurement,
    Annotation,
    AvoidZone,
    Caliper,
    ImagePlan,
    NeedlePath,
    Plan,
    ProcedureRecord,
    Target,
    TextNote,
    kind_of,
    new_id,
)
from prolo_planner.core.safety import SafetyWarning


class EditError(ValueError):
    """An edit does not fit the plan it was applied to."""


class MissingId(EditError, KeyError):
    """An edit names an annotation or image the plan does not hold."""

    def __init__(self, what: str, missing_id: str) -> None:
        super().__init__(f"{what} {missing_id!r} is not in the plan")
        self.id = missing_id

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


class Edit(Protocol):
    """What the undo stack needs of an edit."""

    @property
    def text(self) -> str: ...

    @property
    def ids(self) -> frozenset[str]: ...

    def apply(self, plan: Plan) -> Plan: ...

    def revert(self, plan: Plan) -> Plan: ...

    def merge_with(self, other: Edit) -> Edit | None: ...


class _Unmergeable:
    __slots__ = ()

    def merge_with(self, other: Edit) -> Edit | None:
        return None

    @property
    def is_noop(self) -> bool:
        return False


#: The fields that place an annotation on the image: changing only these is a "Move".
_PLACEMENT = {
    Target: {"position"},
    NeedlePath: {"entry"},
    AvoidZone: {"points"},
    Caliper: {"a", "b"},
    AngleMeasurement: {"vertex", "a", "b"},
    TextNote: {"arrow_to", "text_at"},
}


def describe(annotation: Annotation) -> str:
    """The annotation in the clinic's words, for undo menu texts: "target 'L4-L5 ...'"."""
    kind = kind_of(annotation).value
    if isinstance(annotation, Target | AvoidZone):
        name = annotation.name
    elif isinstance(annotation, Caliper | AngleMeasurement):
        name = annotation.label
    elif isinstance(annotation, TextNote):
        name = annotation.text if len(annotation.text) <= 30 else annotation.text[:29] + "…"
    else:
        name = ""
    return f"{kind} '{name}'" if name else kind


def _changed_fields(before: Any, after: Any) -> set[str]:
    return {
        f.name
        for f in dataclasses.fields(before)
        if f.compare and getattr(before, f.name) != getattr(after, f.name)
    }


# -- checks shared by the edits -----------------------------------------------------------------
def _index_of(plan: Plan, annotation_id: str) -> int:
    for i, a in enumerate(plan.annotations):
        if a.id == annotation_id:
            return i
    raise MissingId("annotation", annotation_id)


def _require(plan: Plan, expected: Annotation) -> int:
    """Where `expected` sits in the plan; it must be there unchanged."""
    i = _index_of(plan, expected.id)
    if plan.annotations[i] != expected:
        raise EditError(f"{describe(expected)} {expected.id!r} has changed since the edit was made")
    return i


def _check_fits(plan: Plan, a: Annotation) -> None:
    """The annotation's image exists, and a path's target is a Target on the same image."""
    try:
        plan.image(a.image_id)
    except KeyError:
        raise MissingId("image", a.image_id) from None
    if isinstance(a, NeedlePath):
        target = plan.find(a.target_id)
        if target is None:
            raise MissingId("target", a.target_id)
        if not isinstance(target, Target):
            raise EditError(f"needle path {a.id!r} must end on a target, not a {kind_of(target)}")
        if target.image_id != a.image_id:
            raise EditError(
                f"needle path {a.id!r} and its target {a.target_id!r} are on different images"
            )
    if isinstance(a, Target):
        for path in plan.paths_to(a.id):
            if path.image_id != a.image_id:
                raise EditError(
                    f"target {a.id!r} cannot leave the image of its needle path {path.id!r}"
                )


def _without(plan: Plan, removed: tuple[tuple[int, Annotation], ...]) -> Plan:
    for _, a in removed:
        _require(plan, a)
    gone = {a.id for _, a in removed}
    for a in plan.annotations:
        if isinstance(a, NeedlePath) and a.target_id in gone and a.id not in gone:
            raise EditError(f"needle path {a.id!r} still leads to target {a.target_id!r}")
    return plan.with_annotations(a for a in plan.annotations if a.id not in gone)


def _with_restored(plan: Plan, removed: tuple[tuple[int, Annotation], ...]) -> Plan:
    present = {a.id for a in plan.annotations}
    annotations = list(plan.annotations)
    # Ascending order puts each back at its old index: all before it are already in place.
    for index, a in removed:
        if a.id in present:
            raise EditError(f"{describe(a)} {a.id!r} is already in the plan")
        annotations.insert(min(index, len(annotations)), a)
    restored = plan.with_annotations(annotations)
    for _, a in removed:
        _check_fits(restored, a)
    return restored


# -- annotations --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AddAnnotation(_Unmergeable):
    annotation: Annotation
    index: int | None = None  # None: at the end (drawn on top)

    @property
    def text(self) -> str:
        return f"Add {describe(self.annotation)}"

    @property
    def ids(self) -> frozenset[str]:
        return frozenset({self.annotation.id})

    def apply(self, plan: Plan) -> Plan:
        if plan.find(self.annotation.id) is not None:
            raise EditError(f"annotation {self.annotation.id!r} is already in the plan")
        _check_fits(plan, self.annotation)
        annotations = list(plan.annotations)
        annotations.insert(len(annotations) if self.index is None else self.index, self.annotation)
        return plan.with_annotations(annotations)

    def revert(self, plan: Plan) -> Plan:
        return _without(plan, ((0, self.annotation),))


@dataclass(frozen=True, slots=True)
class RemoveAnnotations(_Unmergeable):
    """Delete annotations; deleting a target deletes the needle paths that lead to it."""

    #: (index in the plan's tuple, annotation), ascending by index.
    removed: tuple[tuple[int, Annotation], ...]

    @classmethod
    def of(cls, plan: Plan, ids: Iterable[str]) -> RemoveAnnotations:
        wanted = set(ids)
        for annotation_id in wanted:
            _index_of(plan, annotation_id)
        for a in plan.targets():
            if a.id in wanted:
                wanted.update(p.id for p in plan.paths_to(a.id))
        return cls(tuple((i, a) for i, a in enumerate(plan.annotations) if a.id in wanted))

    @property
    def text(self) -> str:
        if not self.removed:
            return "Delete nothing"
        head = [a for _, a in self.removed if not isinstance(a, NeedlePath)]
        if len(head) == 1:
            paths = len(self.removed) - 1
            tail = {0: "", 1: " and its needle path"}.get(paths, f" and its {paths} needle paths")
            return f"Delete {describe(head[0])}{tail}"
        if not head and len(self.removed) == 1:
            return f"Delete {describe(self.removed[0][1])}"
        return f"Delete {len(self.removed)} annotations"

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(a.id for _, a in self.removed)

    def apply(self, plan: Plan) -> Plan:
        return _without(plan, self.removed)

    def revert(self, plan: Plan) -> Plan:
        return _with_restored(plan, self.removed)


@dataclass(frozen=True, slots=True)
class ReplaceAnnotation:
    """Move a point or change a property. Successive steps of one drag share a `gesture`
    token and merge into one undo step (the first `before`, the last `after`)."""

    before: Annotation
    after: Annotation
    gesture: str | None = None

    def __post_init__(self) -> None:
        if self.before.id != self.after.id or type(self.before) is not type(self.after):
            raise ValueError(
                f"a replacement keeps the annotation's id and kind: {self.before.id!r} "
                f"({kind_of(self.before)}) -> {self.after.id!r} ({kind_of(self.after)})"
            )

    @classmethod
    def of(
        cls, plan: Plan, annotation_id: str, gesture: str | None = None, **changes: Any
    ) -> ReplaceAnnotation:
        before = plan.annotations[_index_of(plan, annotation_id)]
        return cls(before, replace(before, **changes), gesture)

    @property
    def text(self) -> str:
        changed = _changed_fields(self.before, self.after)
        verb = "Move" if changed and changed <= _PLACEMENT[type(self.before)] else "Change"
        return f"{verb} {describe(self.after)}"

    @property
    def ids(self) -> frozenset[str]:
        return frozenset({self.before.id})

    @property
    def is_noop(self) -> bool:
        return self.before == self.after

    def apply(self, plan: Plan) -> Plan:
        return _swap(plan, self.before, self.after)

    def revert(self, plan: Plan) -> Plan:
        return _swap(plan, self.after, self.before)

    def merge_with(self, other: Edit) -> Edit | None:
        if (
            isinstance(other, ReplaceAnnotation)
            and self.gesture is not None
            and other.gesture == self.gesture
            and other.before.id == self.before.id
            and other.before == self.after
        ):
            return ReplaceAnnotation(self.before, other.after, self.gesture)
        return None


def _swap(plan: Plan, old: Annotation, new: Annotation) -> Plan:
    i = _require(plan, old)
    annotations = list(plan.annotations)
    annotations[i] = new
    swapped = plan.with_annotations(annotations)
    _check_fits(swapped, new)
    return swapped


# -- images -------------------------------------------------------------------------------------
def _image_index(plan: Plan, image_id: str) -> int:
    for i, im in enumerate(plan.images):
        if im.id == image_id:
            return i
    raise MissingId("image", image_id)


def _image_name(image: ImagePlan) -> str:
    return f"image '{image.ref.title}'"


def _require_image(plan: Plan, expected: ImagePlan) -> int:
    i = _image_index(plan, expected.id)
    if plan.images[i] != expected:
        raise EditError(
            f"{_image_name(expected)} {expected.id!r} has changed since the edit was made"
        )
    return i


@dataclass(frozen=True, slots=True)
class AddImage(_Unmergeable):
    image: ImagePlan
    index: int | None = None

    @property
    def text(self) -> str:
        return f"Add {_image_name(self.image)}"

    @property
    def ids(self) -> frozenset[str]:
        return frozenset({self.image.id})

    def apply(self, plan: Plan) -> Plan:
        if any(im.id == self.image.id for im in plan.images):
            raise EditError(f"image {self.image.id!r} is already in the plan")
        images = list(plan.images)
        images.insert(len(images) if self.index is None else self.index, self.image)
        return plan.with_images(images)

    def revert(self, plan: Plan) -> Plan:
        return _remove_image(plan, self.image)


def _remove_image(plan: Plan, image: ImagePlan) -> Plan:
    i = _require_image(plan, image)
    if any(a.image_id == image.id for a in plan.annotations):
        raise EditError(f"{_image_name(image)} {image.id!r} still carries annotations")
    return plan.with_images(plan.images[:i] + plan.images[i + 1 :])


@dataclass(frozen=True, slots=True)
class RemoveImage(_Unmergeable):
    """Take an image out of the plan together with every annotation on it."""

    image: ImagePlan
    index: int
    annotations: RemoveAnnotations

    @classmethod
    def of(cls, plan: Plan, image_id: str) -> RemoveImage:
        index = _image_index(plan, image_id)
        on_it = (a.id for a in plan.annotations if a.image_id == image_id)
        return cls(plan.images[index], index, RemoveAnnotations.of(plan, on_it))

    @property
    def text(self) -> str:
        return f"Remove {_image_name(self.image)}"

    @property
    def ids(self) -> frozenset[str]:
        return self.annotations.ids | {self.image.id}

    def apply(self, plan: Plan) -> Plan:
        return _remove_image(self.annotations.apply(plan), self.image)

    def revert(self, plan: Plan) -> Plan:
        return self.annotations.revert(AddImage(self.image, self.index).apply(plan))


_IMAGE_TEXT = {
    "manual_calibration": "Calibrate",
    "skin_line": "Draw the skin line on",
    "key_frames": "Mark key frames of",
}


@dataclass(frozen=True, slots=True)
class ReplaceImage:
    """Change what the clinician says of an image: region, side, orientation, key frames,
    skin line, manual calibration. Merges like ReplaceAnnotation (drag of a skin line end)."""

    before: ImagePlan
    after: ImagePlan
    gesture: str | None = None

    def __post_init__(self) -> None:
        if self.before.id != self.after.id:
            raise ValueError(
                f"a replacement keeps the image's id: {self.before.id!r} -> {self.after.id!r}"
            )

    @classmethod
    def of(
        cls, plan: Plan, image_id: str, gesture: str | None = None, **changes: Any
    ) -> ReplaceImage:
        before = plan.images[_image_index(plan, image_id)]
        return cls(before, replace(before, **changes), gesture)

    @property
    def text(self) -> str:
        changed = _changed_fields(self.before, self.after)
        verb = _IMAGE_TEXT.get(next(iter(changed)), "Change") if len(changed) == 1 else "Change"
        return f"{verb} {_image_name(self.after)}"

    @property
    def ids(self) -> frozenset[str]:
        return frozenset({self.before.id})

    @property
    def is_noop(self) -> bool:
        return self.before == self.after

    def apply(self, plan: Plan) -> Plan:
        return _swap_image(plan, self.before, self.after)

    def revert(self, plan: Plan) -> Plan:
        return _swap_image(plan, self.after, self.before)

    def merge_with(self, other: Edit) -> Edit | None:
        if (
            isinstance(other, ReplaceImage)
            and self.gesture is not None
            and other.gesture == self.gesture
            and other.before == self.after
        ):
            return ReplaceImage(self.before, other.after, self.gesture)
        return None


def _swap_image(plan: Plan, old: ImagePlan, new: ImagePlan) -> Plan:
    i = _require_image(plan, old)
    return plan.with_images(plan.images[:i] + (new,) + plan.images[i + 1 :])


# -- the plan's own fields ----------------------------------------------------------------------
PLAN_FIELDS = ("patient_weight_kg", "title", "note")
_PLAN_FIELD_TEXT = {
    "patient_weight_kg": "Set patient weight",
    "title": "Rename plan",
    "note": "Edit plan note",
}


@dataclass(frozen=True, slots=True)
class SetPlanFields:
    """Change the patient's weight, the plan's title or its note. Typing merges by gesture."""

    before: tuple[tuple[str, Any], ...]
    after: tuple[tuple[str, Any], ...]
    gesture: str | None = None

    def __post_init__(self) -> None:
        names = [n for n, _ in self.before]
        if names != [n for n, _ in self.after] or not set(names) <= set(PLAN_FIELDS):
            raise ValueError(
                f"plan fields must be the same, among {', '.join(PLAN_FIELDS)}: {names}"
            )

    @classmethod
    def of(cls, plan: Plan, gesture: str | None = None, **changes: Any) -> SetPlanFields:
        unknown = set(changes) - set(PLAN_FIELDS)
        if unknown:
            raise ValueError(f"not a plan field: {', '.join(sorted(unknown))}")
        names = sorted(changes)
        return cls(
            tuple((n, getattr(plan, n)) for n in names),
            tuple((n, changes[n]) for n in names),
            gesture,
        )

    @property
    def text(self) -> str:
        if len(self.after) == 1:
            return _PLAN_FIELD_TEXT[self.after[0][0]]
        return "Edit plan"

    @property
    def ids(self) -> frozenset[str]:
        return frozenset()

    @property
    def is_noop(self) -> bool:
        return self.before == self.after

    def apply(self, plan: Plan) -> Plan:
        return _set_fields(plan, self.before, self.after)

    def revert(self, plan: Plan) -> Plan:
        return _set_fields(plan, self.after, self.before)

    def merge_with(self, other: Edit) -> Edit | None:
        if (
            isinstance(other, SetPlanFields)
            and self.gesture is not None
            and other.gesture == self.gesture
            and other.before == self.after
        ):
            return SetPlanFields(self.before, other.after, self.gesture)
        return None


def _set_fields(
    plan: Plan, old: tuple[tuple[str, Any], ...], new: tuple[tuple[str, Any], ...]
) -> Plan:
    for name, value in old:
        if getattr(plan, name) != value:
            raise EditError(f"the plan's {name} has changed since the edit was made")
    return replace(plan, **dict(new))


# -- the procedure record -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SetProcedure:
    """Start, change or clear the record of what was done (core/procedure.py). Typing in one of
    its fields merges by gesture, as the plan's own fields do."""

    before: ProcedureRecord | None
    after: ProcedureRecord | None
    gesture: str | None = None

    @property
    def text(self) -> str:
        if self.before is None:
            return "Start procedure record"
        if self.after is None:
            return "Remove procedure record"
        return "Edit procedure record"

    @property
    def ids(self) -> frozenset[str]:
        return frozenset()

    @property
    def is_noop(self) -> bool:
        return self.before == self.after and _extras_equal(self.before, self.after)

    def apply(self, plan: Plan) -> Plan:
        return _set_procedure(plan, self.before, self.after)

    def revert(self, plan: Plan) -> Plan:
        return _set_procedure(plan, self.after, self.before)

    def merge_with(self, other: Edit) -> Edit | None:
        if (
            isinstance(other, SetProcedure)
            and self.gesture is not None
            and other.gesture == self.gesture
            and other.before == self.after
        ):
            return SetProcedure(self.before, other.after, self.gesture)
        return None


def _extras_equal(a: ProcedureRecord | None, b: ProcedureRecord | None) -> bool:
    return a is None or b is None or dict(a.extra) == dict(b.extra)


def _set_procedure(plan: Plan, old: ProcedureRecord | None, new: ProcedureRecord | None) -> Plan:
    if plan.procedure != old:
        raise EditError("the procedure record has changed since the edit was made")
    return replace(plan, procedure=new)


# -- acknowledging warnings ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AcknowledgeWarnings(_Unmergeable):
    """The clinician has read these warnings (or takes that back): one undo step changing
    Plan.extra["acknowledged_warnings"], which the report prints beside each warning."""

    before: frozenset[WarningKey]
    after: frozenset[WarningKey]

    @classmethod
    def of(
        cls,
        plan: Plan,
        warnings: Iterable[SafetyWarning],
        done: bool = True,
        current: Iterable[SafetyWarning] | None = None,
    ) -> AcknowledgeWarnings:
        """Acknowledge `warnings` (done=False: no longer). Given the warnings firing now
        (`current`), acknowledgements of warnings gone since are dropped in the same step, so
        one that comes back later must be read again."""
        after = acknowledged_keys(with_acknowledged(plan, warnings, done))
        if current is not None:
            after &= {WarningKey.of(w) for w in current}
        return cls(acknowledged_keys(plan), after)

    @property
    def text(self) -> str:
        added, taken = self.after - self.before, self.before - self.after
        if added and not taken:
            n = len(added)
            return "Acknowledge warning" if n == 1 else f"Acknowledge {n} warnings"
        if taken and not added:
            n = len(taken)
            return "Unacknowledge warning" if n == 1 else f"Unacknowledge {n} warnings"
        return "Change acknowledged warnings"

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(i for k in self.before ^ self.after for i in k.annotation_ids)

    @property
    def is_noop(self) -> bool:
        return self.before == self.after

    def apply(self, plan: Plan) -> Plan:
        return _set_acknowledged(plan, self.before, self.after)

    def revert(self, plan: Plan) -> Plan:
        return _set_acknowledged(plan, self.after, self.before)


def _set_acknowledged(plan: Plan, old: frozenset[WarningKey], new: frozenset[WarningKey]) -> Plan:
    if acknowledged_keys(plan) != old:
        raise EditError("the plan's acknowledged warnings have changed since the edit was made")
    return with_keys(plan, new)


# -- many at once -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Compound(_Unmergeable):
    """Several edits as one undo step (a paste); reverted in reverse order."""

    edits: tuple[Edit, ...]
    text: str

    @property
    def ids(self) -> frozenset[str]:
        return frozenset().union(*(e.ids for e in self.edits))

    def apply(self, plan: Plan) -> Plan:
        for edit in self.edits:
            plan = edit.apply(plan)
        return plan

    def revert(self, plan: Plan) -> Plan:
        for edit in reversed(self.edits):
            plan = edit.revert(plan)
        return plan


# -- copy and paste -----------------------------------------------------------------------------
def copy_annotations(
    plan: Plan,
    ids: Iterable[str],
    to_image_id: str,
    to_frame: int | None,
    offset: tuple[float, float] = (0.0, 0.0),
) -> tuple[Annotation, ...]:
    """Copies of annotations with new ids, placed on `to_image_id` at `to_frame` (None: all
    frames), moved by `offset` pixels.

    Links: a copied needle path whose target is copied too leads to the copy of the target. One
    whose target is not copied keeps leading to the original target when pasted on the
    original's own image (another frame of it), and is left out when pasted on another image,
    since a path and its target always share an image. Paths come last, after the targets they
    lead to, so adding the copies in order always succeeds.
    """
    wanted = set(ids)
    for annotation_id in wanted:
        _index_of(plan, annotation_id)
    chosen = [a for a in plan.annotations if a.id in wanted]
    fresh_id = {a.id: new_id() for a in chosen}
    others: list[Annotation] = []
    paths: list[Annotation] = []
    for a in chosen:
        copy = replace(
            a, id=fresh_id[a.id], image_id=to_image_id, frame=to_frame, extra=dict(a.extra)
        )
        copy = shifted(copy, *offset)
        if isinstance(copy, NeedlePath):
            if copy.target_id in fresh_id:
                copy = replace(copy, target_id=fresh_id[copy.target_id])
            elif a.image_id != to_image_id:
                continue
            paths.append(copy)
        else:
            others.append(copy)
    return tuple(others + paths)


def paste(annotations: Iterable[Annotation]) -> Compound:
    """One undo step adding the copies made by copy_annotations."""
    adds = tuple(AddAnnotation(a) for a in annotations)
    if len(adds) == 1:
        return Compound(adds, f"Paste {describe(adds[0].annotation)}")
    return Compound(adds, f"Paste {len(adds)} annotations")
