"""The open plan: applies and reverts edits, and tells plain-Python listeners what changed.

The undo and redo stacks belong to the UI's QUndoStack (or any caller); the document only
applies and reverts. It announces, after each apply or revert, one Change per kind of change,
in an order views can follow: annotations removed, then images, then annotations added, then
annotations changed, then the plan's own fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from prolo_planner.core.edits import Edit
from prolo_planner.core.plan import NeedlePath, Plan


class ChangeKind(StrEnum):
    REMOVED = "removed"  # ids: annotations taken out
    IMAGES = "images"  # ids: images added, removed or changed
    ADDED = "added"  # ids: annotations put in
    CHANGED = "changed"  # ids: annotations whose values changed, and paths whose target moved
    #: ids: names of the plan's own fields that changed (title, note, weight, procedure, extra)
    PLAN = "plan"


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    ids: frozenset[str]


Listener = Callable[[Change], None]


def changes_between(old: Plan, new: Plan) -> tuple[Change, ...]:
    """What differs from `old` to `new`, by id; kinds with nothing to say are left out."""
    before = {a.id: a for a in old.annotations}
    after = {a.id: a for a in new.annotations}
    removed = before.keys() - after.keys()
    added = after.keys() - before.keys()
    changed = {
        i
        for i in before.keys() & after.keys()
        if before[i] is not after[i] and before[i] != after[i]
    }
    # A needle path's far end is its target's position: the path is redrawn with the target.
    changed |= {
        a.id
        for a in new.annotations
        if isinstance(a, NeedlePath) and a.target_id in changed and a.id not in added
    }
    old_images = {im.id: im for im in old.images}
    new_images = {im.id: im for im in new.images}
    images = old_images.keys() ^ new_images.keys()
    images |= {i for i in old_images.keys() & new_images.keys() if old_images[i] != new_images[i]}
    fields = {
        name
        for name in ("patient_weight_kg", "title", "note", "procedure", "id")
        if getattr(old, name) != getattr(new, name)
    }
    # extra is left out of Plan equality (compare=False), yet what it holds (the acknowledged
    # warnings) is saved with the plan: a change to it is a change of the plan.
    if _extra_differs(old, new):
        fields.add("extra")
    found = (
        (ChangeKind.REMOVED, removed),
        (ChangeKind.IMAGES, images),
        (ChangeKind.ADDED, added),
        (ChangeKind.CHANGED, changed),
        (ChangeKind.PLAN, fields),
    )
    return tuple(Change(kind, frozenset(ids)) for kind, ids in found if ids)


def _extra_differs(old: Plan, new: Plan) -> bool:
    return old.extra is not new.extra and dict(old.extra) != dict(new.extra)


class PlanDocument:
    """One open plan. `revision` counts every apply and revert; `is_modified` says whether the
    plan differs from the one last marked clean (saved), so undoing back to it clears the mark."""

    #: The kinds of change a listener can ask for, declared up front.
    CHANGE_KINDS: tuple[ChangeKind, ...] = tuple(ChangeKind)

    def __init__(self, plan: Plan | None = None) -> None:
        self._plan = plan if plan is not None else Plan()
        self._revision = 0
        self._clean_revision: int = 0
        self._clean_plan = self._plan
        self._listeners: list[tuple[Listener, frozenset[ChangeKind]]] = []

    @property
    def plan(self) -> Plan:
        return self._plan

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def clean_revision(self) -> int:
        return self._clean_revision

    @property
    def is_modified(self) -> bool:
        if self._revision == self._clean_revision:
            return False
        # Equality is cheap here: unchanged annotations are the same objects.
        return self._plan != self._clean_plan or _extra_differs(self._plan, self._clean_plan)

    def mark_clean(self) -> None:
        """The plan as it is now has been saved."""
        self._clean_revision = self._revision
        self._clean_plan = self._plan

    # -- listeners ----------------------------------------------------------------------------
    def connect(
        self, listener: Listener, kinds: Iterable[ChangeKind] | None = None
    ) -> Callable[[], None]:
        """Call `listener(change)` for each change of the given kinds (all by default).
        Returns a function that disconnects it."""
        wanted = frozenset(self.CHANGE_KINDS if kinds is None else (ChangeKind(k) for k in kinds))
        entry = (listener, wanted)
        self._listeners.append(entry)

        def disconnect() -> None:
            if entry in self._listeners:
                self._listeners.remove(entry)

        return disconnect

    # -- edits --------------------------------------------------------------------------------
    def apply(self, edit: Edit) -> tuple[Change, ...]:
        return self._set(edit.apply(self._plan))

    def revert(self, edit: Edit) -> tuple[Change, ...]:
        return self._set(edit.revert(self._plan))

    def _set(self, plan: Plan) -> tuple[Change, ...]:
        # The edit raised before we get here if it did not fit: nothing changes, nothing is said.
        old, self._plan = self._plan, plan
        self._revision += 1
        changes = changes_between(old, plan)
        errors: list[BaseException] = []
        for change in changes:
            for listener, kinds in list(self._listeners):
                if change.kind in kinds:
                    try:
                        listener(change)
                    except Exception as exc:  # one broken view must not starve the others
                        errors.append(exc)
        if errors:
            raise errors[0]
        return changes
