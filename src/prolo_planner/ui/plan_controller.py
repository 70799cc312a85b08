"""The open plan for the Qt layer: a PlanDocument behind a QUndoStack, its derived values, the
selection and the clipboard.

Data flows one way: a tool builds an edit, `push` applies it through the undo stack, the
document says what changed, and `changed` carries that to the views. Measurements and warnings
are derived from the plan and the images' calibrations, once per revision.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.document import Change, PlanDocument
from prolo_planner.core.edits import (
    Compound,
    Edit,
    RemoveAnnotations,
    ReplaceAnnotation,
    ReplaceImage,
    copy_annotations,
    paste,
)
from prolo_planner.core.image_calibration import ImageFacts, calibration_in_force
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.measure import MeasureMemo, PlanMeasurements, measure_plan
from prolo_planner.core.plan import Annotation, NeedlePath, Plan, SiteStatus, Target
from prolo_planner.core.safety import SafetyWarning, check_plan

#: How far a paste onto the very place it was copied from moves, so the copy can be seen.
PASTE_NUDGE_PX = 12.0


class EditCommand(QUndoCommand):
    """One core edit as one undo step: redo applies, undo reverts, merging asks the edit."""

    #: One id for every command: whether two merge is the edits' business (Edit.merge_with).
    MERGE_ID = 0x50_4C_41_4E

    def __init__(self, controller: PlanController, edit: Edit, applied: bool) -> None:
        super().__init__(edit.text)
        self._controller = controller
        self.edit = edit
        # push() has applied the edit already (to raise on one that does not fit): the stack's
        # first redo() must not apply it twice.
        self._skip_redo = applied

    def id(self) -> int:
        return self.MERGE_ID

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        self._controller._run(self.edit, undo=False)

    def undo(self) -> None:
        self._controller._run(self.edit, undo=True)

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt override)
        if not isinstance(other, EditCommand):
            return False
        merged = self.edit.merge_with(other.edit)
        if merged is None:
            return False
        self.edit = merged
        self.setText(merged.text)
        if getattr(merged, "is_noop", False):
            # A drag that ended where it began: the stack drops the step.
            self.setObsolete(True)
        return True


@dataclass(frozen=True, slots=True)
class Clipboard:
    """What was copied: the plan as it was then (so a later delete cannot spoil the paste)."""

    plan: Plan
    ids: tuple[str, ...]
    image_id: str
    frames: frozenset[int | None]


@dataclass(frozen=True, slots=True)
class _Derived:
    key: tuple[int, int, ClinicLimits]
    measurements: PlanMeasurements
    warnings: tuple[SafetyWarning, ...]


class PlanController(QObject):
    #: tuple[Change, ...] of one apply or revert, in the document's order.
    changed = Signal(object)
    #: The undo stack reached (True) or left (False) the state last saved.
    clean_changed = Signal(bool)
    #: The plan differs (True) or no longer differs (False) from the one last saved.
    modified_changed = Signal(bool)
    #: frozenset[str] of the selected ids (annotations, or an image's id for its skin line).
    selection_changed = Signal(object)
    #: A different plan was loaded: views rebuild everything.
    reset = Signal()
    #: An image's calibration changed (image id): measurements and labels change with it.
    calibration_changed = Signal(str)

    def __init__(
        self,
        plan: Plan | None = None,
        limits: ClinicLimits | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._document = PlanDocument(plan)
        self._stack = QUndoStack(self)
        self._stack.cleanChanged.connect(self.clean_changed)
        self._limits = limits or ClinicLimits()
        self._sources: dict[str, ImageFacts] = {}
        self._calibration_epoch = 0
        self._derived: _Derived | None = None
        self._measure_memo = MeasureMemo()  # images an edit did not touch are not measured again
        self._selection: frozenset[str] = frozenset()
        self._clipboard: Clipboard | None = None
        self._paste_count = 0
        self._modified = False

    # -- the plan ---------------------------------------------------------------------------
    @property
    def document(self) -> PlanDocument:
        return self._document

    @property
    def plan(self) -> Plan:
        return self._document.plan

    @property
    def undo_stack(self) -> QUndoStack:
        return self._stack

    @property
    def revision(self) -> int:
        return self._document.revision

    def load(self, plan: Plan) -> None:
        """Open another plan: a fresh document and an empty undo stack, saved as it is."""
        self._document = PlanDocument(plan)
        self._stack.clear()
        self._stack.setClean()
        self._derived = None
        self._clipboard = None
        self._set_selection(frozenset())
        self._update_modified()
        self.reset.emit()

    # -- edits ------------------------------------------------------------------------------
    def push(self, edit: Edit) -> tuple[Change, ...]:
        """Apply an edit as one undo step (or merged into the last, for a drag's gesture).

        An edit that does not fit the plan raises EditError, and nothing changes.
        """
        changes = self._document.apply(edit)
        self._stack.push(EditCommand(self, edit, applied=True))
        self._announce(changes)
        return changes

    def begin_gesture(self) -> str:
        """A token for the edits of one drag: they merge into one undo step."""
        return uuid.uuid4().hex

    def undo(self) -> None:
        self._stack.undo()

    def redo(self) -> None:
        self._stack.redo()

    def _run(self, edit: Edit, undo: bool) -> None:
        changes = self._document.revert(edit) if undo else self._document.apply(edit)
        self._announce(changes)

    def _announce(self, changes: tuple[Change, ...]) -> None:
        gone = self._selection - self._existing_ids(self._selection)
        if gone:
            self._set_selection(self._selection - gone)
        self.changed.emit(changes)
        self._update_modified()

    def _existing_ids(self, ids: Iterable[str]) -> frozenset[str]:
        plan = self.plan
        images = {im.id for im in plan.images}
        return frozenset(i for i in ids if i in images or plan.find(i) is not None)

    # -- saved or not -----------------------------------------------------------------------
    @property
    def is_clean(self) -> bool:
        return self._stack.isClean()

    @property
    def is_modified(self) -> bool:
        return self._document.is_modified

    def mark_saved(self) -> None:
        """The plan as it is now has been written: clears the unsaved mark."""
        self._document.mark_clean()
        self._stack.setClean()
        self._update_modified()

    def _update_modified(self) -> None:
        modified = self._document.is_modified
        if modified != self._modified:
            self._modified = modified
            self.modified_changed.emit(modified)

    # -- calibrations -----------------------------------------------------------------------
    def set_source_facts(self, image_id: str, facts: ImageFacts) -> None:
        """What the image's file says and shows of its calibration (imaging.facts)."""
        self._sources[image_id] = facts
        self._calibration_epoch += 1
        self.calibration_changed.emit(image_id)

    def image_size(self, image_id: str) -> tuple[int, int] | None:
        known = self._sources.get(image_id)
        return (known.columns, known.rows) if known else None

    def calibration(self, image_id: str, frame: int | None = None) -> Calibration:
        """The calibration in force for the image (core.image_calibration, the one owner)."""
        return self._in_force(self.plan, image_id, frame)

    def calibrations(self, plan: Plan | None = None) -> dict[str, Calibration]:
        """Every image's calibration in force, for this plan or another (a preview)."""
        plan = self.plan if plan is None else plan
        ids = dict.fromkeys([im.id for im in plan.images] + list(self._sources))
        return {i: self._in_force(plan, i) for i in ids}

    def _in_force(self, plan: Plan, image_id: str, frame: int | None = None) -> Calibration:
        try:
            image = plan.image(image_id)
        except KeyError:
            image = None
        facts = self._sources.get(image_id)
        if frame is not None and facts is not None and not 0 <= frame < facts.frame_count:
            frame = None
        return calibration_in_force(facts, image, frame)

    # -- derived values ---------------------------------------------------------------------
    @property
    def limits(self) -> ClinicLimits:
        return self._limits

    def set_limits(self, limits: ClinicLimits) -> None:
        self._limits = limits

    def _derive(self) -> _Derived:
        key = (self._document.revision, self._calibration_epoch, self._limits)
        if self._derived is None or self._derived.key != key:
            measurements, warnings = self.derived_for(self.plan)
            self._derived = _Derived(key, measurements, warnings)
        return self._derived

    @property
    def measurements(self) -> PlanMeasurements:
        return self._derive().measurements

    @property
    def warnings(self) -> tuple[SafetyWarning, ...]:
        return self._derive().warnings

    def derived_for(
        self, plan: Plan, calibrations: Mapping[str, Calibration] | None = None
    ) -> tuple[PlanMeasurements, tuple[SafetyWarning, ...]]:
        """Measurements and warnings of another plan (a preview of an annotation being drawn)."""
        calibrations = self.calibrations(plan) if calibrations is None else calibrations
        measurements = measure_plan(plan, calibrations, self._measure_memo)
        return measurements, check_plan(plan, calibrations, self._limits, measurements)

    # -- selection --------------------------------------------------------------------------
    @property
    def selection(self) -> frozenset[str]:
        return self._selection

    def select(self, ids: Iterable[str], add: bool = False) -> None:
        wanted = self._existing_ids(ids)
        self._set_selection(self._selection | wanted if add else wanted)

    def toggle(self, annotation_id: str) -> None:
        if annotation_id in self._selection:
            self._set_selection(self._selection - {annotation_id})
        else:
            self.select([annotation_id], add=True)

    def clear_selection(self) -> None:
        self._set_selection(frozenset())

    def _set_selection(self, ids: frozenset[str]) -> None:
        if ids != self._selection:
            self._selection = ids
            self.selection_changed.emit(ids)

    # -- changes the menus make -------------------------------------------------------------
    def delete(self, ids: Iterable[str] | None = None) -> bool:
        """Delete annotations (their needle paths go with a target) and, for an image's id,
        its skin line; one undo step. False when there was nothing to delete."""
        wanted = set(self._selection if ids is None else ids)
        plan = self.plan
        annotations = [i for i in wanted if plan.find(i) is not None]
        edits: list[Edit] = []
        if annotations:
            edits.append(RemoveAnnotations.of(plan, annotations))
        for im in plan.images:
            if im.id in wanted and im.skin_line is not None:
                edits.append(ReplaceImage.of(plan, im.id, skin_line=None))
        if not edits:
            return False
        self.push(edits[0] if len(edits) == 1 else Compound(tuple(edits), "Delete"))
        return True

    def set_target_status(self, ids: Iterable[str], status: SiteStatus) -> None:
        plan = self.plan
        edits = [
            ReplaceAnnotation.of(plan, t.id, status=status)
            for i in ids
            if isinstance(t := plan.find(i), Target) and t.status is not status
        ]
        if len(edits) == 1:
            self.push(edits[0])
        elif edits:
            self.push(Compound(tuple(edits), f"Mark {len(edits)} targets {status.value}"))

    # -- clipboard --------------------------------------------------------------------------
    def copy(self, ids: Iterable[str] | None = None) -> int:
        """Copy annotations (the selection by default); how many were copied."""
        plan = self.plan
        chosen = [
            a for a in plan.annotations if a.id in set(self._selection if ids is None else ids)
        ]
        if not chosen:
            return 0
        self._clipboard = Clipboard(
            plan,
            tuple(a.id for a in chosen),
            chosen[0].image_id,
            frozenset(a.frame for a in chosen),
        )
        self._paste_count = 0
        return len(chosen)

    @property
    def can_paste(self) -> bool:
        return self._clipboard is not None

    def paste(
        self,
        image_id: str,
        frame: int | None,
        offset: tuple[float, float] | None = None,
    ) -> tuple[str, ...]:
        """Paste the copies onto an image and frame (None: all frames) as one undo step; the
        copies become the selection. Pasted where they came from, they are nudged aside."""
        clip = self._clipboard
        if clip is None:
            return ()
        if offset is None:
            in_place = clip.image_id == image_id and clip.frames == {frame}
            self._paste_count += 1 if in_place else 0
            nudge = PASTE_NUDGE_PX * self._paste_count if in_place else 0.0
            offset = (nudge, nudge)
        copies = copy_annotations(clip.plan, clip.ids, image_id, frame, offset)
        plan = self.plan
        fresh = {a.id for a in copies}
        # A path copied without its target leads to the original; if that has been deleted
        # since the copy, the path has nowhere to go.
        kept: list[Annotation] = [
            a
            for a in copies
            if not isinstance(a, NeedlePath) or a.target_id in fresh or plan.find(a.target_id)
        ]
        if not kept:
            return ()
        self.push(paste(kept))
        ids = tuple(a.id for a in kept)
        self.select(ids)
        return ids
