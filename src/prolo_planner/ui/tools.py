"""Mouse tools on the image view: each turns clicks and drags into plan edits.

A tool gets left-button presses, moves and releases as image points (ImageView.set_tool); it
shows what it is drawing in the layer's preview, measured and checked live as the finished
annotation would be, and pushes one edit when done. Middle-drag pan, wheel zoom and right-drag
brightness stay the view's while any tool is active. Here: the common ground, select and move,
targets and needle paths; the tools that click out shapes and measurements are in
measure_tools.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from PySide6.QtCore import Qt

from prolo_planner.core.catalog import RegionCatalog, checklist
from prolo_planner.core.edits import AddAnnotation
from prolo_planner.core.geometry import Point, pixel_distance
from prolo_planner.core.measure import skin_entry
from prolo_planner.core.overlay import annotation_points
from prolo_planner.core.plan import (
    Annotation,
    Approach,
    Injectate,
    NeedlePath,
    Plan,
    Side,
    Target,
    TargetKind,
)
from prolo_planner.ui.annotation_items import AnnotationItem
from prolo_planner.ui.annotation_layer import AnnotationLayer
from prolo_planner.ui.plan_controller import PlanController

#: A press and release closer than this (screen pixels) is a click, not a drag.
CLICK_SLOP_PX = 3.0
#: A click this close (screen pixels) to a polygon's first vertex closes it.
CLOSE_POLYGON_PX = 8.0

_SHIFT = Qt.KeyboardModifier.ShiftModifier


@dataclass(frozen=True, slots=True)
class TargetDefaults:
    """What a new target starts with; with a catalog and no name, the next catalog target
    not yet placed (its name, kind and default injectate)."""

    kind: TargetKind = TargetKind.LIGAMENT
    name: str = ""
    side: Side = Side.UNSPECIFIED
    injectate: Injectate = field(default_factory=Injectate)
    catalog: RegionCatalog | None = None


@dataclass(frozen=True, slots=True)
class PathDefaults:
    approach: Approach = Approach.IN_PLANE
    needle_gauge: int = 25
    needle_length_mm: float = 38.0


class Tool:
    """The common ground of the tools: the layer it draws on and the plan it edits."""

    name: ClassVar[str] = ""
    cursor: Qt.CursorShape = Qt.CursorShape.CrossCursor

    def __init__(self, layer: AnnotationLayer) -> None:
        self.layer = layer

    @property
    def controller(self) -> PlanController:
        return self.layer.controller

    @property
    def plan(self) -> Plan:
        return self.controller.plan

    @property
    def image_id(self) -> str | None:
        """The plan image being drawn on, or None (nothing can be drawn)."""
        image_id = self.layer.image_id
        if image_id is None or not any(im.id == image_id for im in self.plan.images):
            return None
        return image_id

    def screen_px(self, px: float) -> float:
        """Screen pixels as image pixels at the current zoom."""
        return px / self.layer.view.zoom

    def is_click(self, a: Point, b: Point) -> bool:
        return pixel_distance(a, b) <= self.screen_px(CLICK_SLOP_PX)

    # -- what the view sends ----------------------------------------------------------------
    def press(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        pass

    def move(self, p: Point, dragging: bool, modifiers: Qt.KeyboardModifier) -> None:
        pass

    def release(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        pass

    def double_click(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        # A double click's second press comes as this event alone: treat it as a press.
        self.press(p, modifiers)

    def key(self, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> bool:
        if key == Qt.Key.Key_Escape and self.busy:
            self.cancel()
            return True
        return False

    def deactivate(self) -> None:
        self.cancel()

    @property
    def busy(self) -> bool:
        """Whether something is half drawn."""
        return False

    def cancel(self) -> None:
        self.layer.clear_preview()

    def add(self, annotation: Annotation) -> None:
        """Put the finished annotation in the plan (one undo step) and select it."""
        self.layer.clear_preview()
        self.controller.push(AddAnnotation(annotation))
        self.controller.select([annotation.id])


# -- select and move ----------------------------------------------------------------------------
@dataclass(slots=True)
class _Drag:
    item: AnnotationItem
    key: str | None
    start_value: object
    start: Point
    gesture: str
    moved: bool = False


class SelectTool(Tool):
    """Click selects, shift-click adds or removes, a drag from empty space selects what lies
    inside its band; dragging an item or a handle moves it (one drag, one undo step); Delete
    removes the selection; Esc during a drag puts it back."""

    name = "select"
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, layer: AnnotationLayer) -> None:
        super().__init__(layer)
        self._drag: _Drag | None = None
        self._band: Point | None = None

    @property
    def busy(self) -> bool:
        return self._drag is not None or self._band is not None

    def press(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        shift = bool(modifiers & _SHIFT)
        handle = None if shift else self.layer.handle_at(p)
        if handle is not None:
            self._start_drag(handle[0], handle[1], p)
            return
        hit = self.layer.annotation_at(p)
        if hit is None:
            if not shift:
                self.controller.clear_selection()
            self._band = p
        elif shift:
            self.controller.toggle(hit)
        else:
            if hit not in self.controller.selection:
                self.controller.select([hit])
            self._start_drag(hit, None, p)

    def _start_drag(self, annotation_id: str, key: str | None, p: Point) -> None:
        item = self.layer.item(annotation_id)
        if item is None:
            return
        gesture = self.controller.begin_gesture()
        self._drag = _Drag(item, key, item.value(self.plan), p, gesture)

    def move(self, p: Point, dragging: bool, modifiers: Qt.KeyboardModifier) -> None:
        if not dragging:
            return
        if self._drag is not None:
            drag = self._drag
            if not drag.moved and self.is_click(drag.start, p):
                return
            drag.moved = True
            self._push_drag(p.x - drag.start.x, p.y - drag.start.y)
        elif self._band is not None:
            self.layer.preview_band(self._band, p)

    def _push_drag(self, dx: float, dy: float) -> None:
        drag = self._drag
        assert drag is not None
        edit = drag.item.drag_edit(self.plan, drag.start_value, drag.key, dx, dy, drag.gesture)
        self.controller.push(edit)

    def release(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        if self._band is not None:
            start, self._band = self._band, None
            self.layer.clear_preview()
            if not self.is_click(start, p):
                self._select_inside(start, p, add=bool(modifiers & _SHIFT))
        self._drag = None

    def _select_inside(self, a: Point, b: Point, add: bool) -> None:
        left, right = sorted((a.x, b.x))
        top, bottom = sorted((a.y, b.y))
        plan = self.plan
        inside = []
        for annotation_id in self.layer.shown_ids():
            found = plan.find(annotation_id)
            points = annotation_points(found, plan) if found is not None else ()
            if points and all(left <= q.x <= right and top <= q.y <= bottom for q in points):
                inside.append(annotation_id)
        self.controller.select(inside, add=add)

    def key(self, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> bool:
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._drag is None:
            return self.controller.delete()
        if key == Qt.Key.Key_Escape:
            if self._drag is not None and self._drag.moved:
                self._push_drag(0.0, 0.0)  # back where it began: the step merges into nothing
            elif not self.busy:
                self.controller.clear_selection()
            self.cancel()
            return True
        return False

    def cancel(self) -> None:
        super().cancel()
        self._drag = None
        self._band = None


# -- targets ------------------------------------------------------------------------------------
def next_catalog_target(
    plan: Plan, catalog: RegionCatalog, image_id: str | None
) -> tuple[str, TargetKind, Injectate | None] | None:
    """The first target of the region's checklist not yet placed (on an image of the region,
    or on this image), as (name, kind, default injectate)."""
    placed = {name for name, done in checklist(plan, catalog) if done}
    if image_id is not None:
        placed |= {name for name, done in checklist(plan, catalog, image_id) if done}
    for entry in catalog.targets:
        if entry.name not in placed:
            return entry.name, entry.kind, entry.default_injectate
    return None


class TargetTool(Tool):
    """Press places a target (drag to adjust before letting go), with the current defaults."""

    name = "target"

    def __init__(self, layer: AnnotationLayer, defaults: TargetDefaults | None = None) -> None:
        super().__init__(layer)
        self.defaults = defaults or TargetDefaults()
        self._at: Point | None = None

    @property
    def busy(self) -> bool:
        return self._at is not None

    def new_target(self, p: Point) -> Target | None:
        image_id = self.image_id
        if image_id is None:
            return None
        d = self.defaults
        name, kind, injectate = d.name, d.kind, d.injectate
        if not name and d.catalog is not None:
            found = next_catalog_target(self.plan, d.catalog, image_id)
            if found is not None:
                name, kind, injectate = found[0], found[1], found[2] or injectate
        return Target(
            image_id,
            p,
            frame=self.layer.frame_for_new,
            kind=kind,
            name=name,
            side=d.side,
            injectate=injectate,
        )

    def press(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        self._at = p
        self.move(p, True, modifiers)

    def move(self, p: Point, dragging: bool, modifiers: Qt.KeyboardModifier) -> None:
        if self._at is None or not dragging:
            return
        self._at = p
        target = self.new_target(p)
        if target is not None:
            self.layer.preview_annotation(target)

    def release(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        if self._at is None:
            return
        self._at = None
        target = self.new_target(p)
        if target is not None:
            self.add(target)

    def cancel(self) -> None:
        super().cancel()
        self._at = None


# -- needle paths -------------------------------------------------------------------------------
class NeedlePathTool(Tool):
    """From a target drag out to the skin entry, or from the entry drag onto a target; or click
    one end, then the other. The entry may lie beyond the image's end (in plane, the needle
    enters beside the probe); one dropped above the skin moves down onto it."""

    name = "needle path"

    def __init__(self, layer: AnnotationLayer, defaults: PathDefaults | None = None) -> None:
        super().__init__(layer)
        self.defaults = defaults or PathDefaults()
        self._target: Target | None = None
        self._entry: Point | None = None
        self._press: Point | None = None
        self._waiting = False  # the first end was clicked, not dragged: the next click ends it

    @property
    def busy(self) -> bool:
        return self._target is not None or self._entry is not None

    def entry_on_skin(self, entry: Point, target: Target) -> Point:
        """The entry moved straight down onto the skin (the skin line, else the transducer
        face) when it was dropped above it, in the banner or beside the probe's end."""
        if target.position is None:
            return entry
        calibration = self.controller.calibration(target.image_id)
        return skin_entry(entry, target.position, calibration)

    def new_path(self, entry: Point, target: Target) -> NeedlePath:
        d = self.defaults
        return NeedlePath(
            target.image_id,
            self.entry_on_skin(entry, target),
            target.id,
            frame=self.layer.frame_for_new,
            approach=d.approach,
            needle_gauge=d.needle_gauge,
            needle_length_mm=d.needle_length_mm,
        )

    def press(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        if self.image_id is None:
            return
        near = self.layer.target_near(p)
        if self._waiting:
            if self._target is not None:
                self._finish(p, self._target)
            elif near is not None and self._entry is not None:
                self._finish(self._entry, near)
            else:
                self._entry = p  # another entry point instead
            return
        self._press = p
        if near is not None:
            self._target = near
        else:
            self._entry = p

    def move(self, p: Point, dragging: bool, modifiers: Qt.KeyboardModifier) -> None:
        if self._target is not None:
            self.layer.preview_annotation(self.new_path(p, self._target))
        elif self._entry is not None:
            near = self.layer.target_near(p)
            if near is not None:
                self.layer.preview_annotation(self.new_path(self._entry, near))
            else:
                # A stand-in target under the pointer gives the live length and angle.
                image_id = self.image_id or ""
                stand_in = Target(image_id, p, frame=self.layer.frame_for_new)
                path = NeedlePath(
                    image_id, self._entry, stand_in.id, approach=self.defaults.approach
                )
                self.layer.preview_annotation(path, stand_in)

    def release(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        if self._press is None or self._waiting:
            return
        press, self._press = self._press, None
        clicked = self.is_click(press, p)
        if self._target is not None:
            if clicked:
                self._waiting = True
            else:
                self._finish(p, self._target)
        elif self._entry is not None:
            near = self.layer.target_near(p)
            if clicked:
                self._waiting = True
            elif near is not None:
                self._finish(self._entry, near)
            else:
                self.cancel()  # dragged from empty skin to nothing

    def _finish(self, entry: Point, target: Target) -> None:
        path = self.new_path(entry, target)
        self.cancel()
        self.add(path)

    def cancel(self) -> None:
        super().cancel()
        self._target, self._entry, self._press, self._waiting = None, None, None, False


@dataclass(frozen=True, slots=True)
class ToolEntry:
    """A tool for the toolbar and menus: its shortcut and what it does."""

    name: str
    key: str
    what: str


#: Every tool, for the toolbar, its shortcuts and Help > Keyboard shortcuts.
TOOL_ENTRIES: tuple[ToolEntry, ...] = (
    ToolEntry("select", "V", "Select and move annotations (Delete removes)"),
    ToolEntry("target", "T", "Place a target"),
    ToolEntry("needle path", "N", "Draw a needle path from the skin to a target"),
    ToolEntry("avoid zone", "Z", "Outline a structure to avoid (click vertices, Enter closes)"),
    ToolEntry("avoid ellipse", "E", "Outline a structure to avoid as an ellipse (drag)"),
    ToolEntry("caliper", "M", "Measure a distance"),
    ToolEntry("angle", "A", "Measure an angle (three clicks)"),
    ToolEntry("text", "X", "Add a text note with an arrow"),
    ToolEntry("skin line", "K", "Draw the skin line depths are measured from"),
    ToolEntry("calibrate", "C", "Click two ticks of the depth scale, then say their mm apart"),
    ToolEntry("depth zero", "0", "Click the depth scale's 0 tick: depth is measured from there"),
)
