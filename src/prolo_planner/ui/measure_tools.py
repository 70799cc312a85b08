"""The tools that click out an annotation point by point: avoid zones, calipers, angles, text
notes and the skin line. Each shows what it is drawing, measured live, and pushes one edit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QInputDialog, QWidget

from prolo_planner.core.edits import ReplaceImage
from prolo_planner.core.geometry import Point, pixel_distance
from prolo_planner.core.plan import (
    AngleMeasurement,
    AvoidKind,
    AvoidZone,
    Caliper,
    TextNote,
    ZoneShape,
)
from prolo_planner.ui.annotation_layer import AnnotationLayer
from prolo_planner.ui.tools import CLICK_SLOP_PX, Tool

#: A click this close (screen pixels) to a polygon's first vertex closes it.
CLOSE_POLYGON_PX = 8.0


@dataclass(frozen=True, slots=True)
class ZoneDefaults:
    shape: ZoneShape = ZoneShape.POLYGON
    kind: AvoidKind = AvoidKind.OTHER
    name: str = ""
    margin_mm: float = 3.0


def ask_note_text(parent: QWidget | None) -> str | None:
    """Ask the clinician for a note's text; None when cancelled or empty."""
    text, ok = QInputDialog.getText(parent, "Text note", "Note:")
    text = text.strip()
    return text if ok and text else None


# -- avoid zones --------------------------------------------------------------------------------
class AvoidZoneTool(Tool):
    """Polygon: click each vertex; double-click, Enter or a click on the first vertex closes it,
    Backspace takes back the last. Ellipse: drag out its box."""

    name = "avoid zone"

    def __init__(self, layer: AnnotationLayer, defaults: ZoneDefaults | None = None) -> None:
        super().__init__(layer)
        self.defaults = defaults or ZoneDefaults()
        self._points: list[Point] = []
        self._corner: Point | None = None

    @property
    def busy(self) -> bool:
        return bool(self._points) or self._corner is not None

    def _zone(self, points: tuple[Point, ...], shape: ZoneShape | None = None) -> AvoidZone:
        d = self.defaults
        return AvoidZone(
            self.image_id or "",
            shape or d.shape,
            points,
            frame=self.layer.frame_for_new,
            kind=d.kind,
            name=d.name,
            margin_mm=d.margin_mm,
        )

    def press(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        if self.image_id is None:
            return
        if self.defaults.shape is ZoneShape.ELLIPSE:
            self._corner = p
            return
        near_first = self._points and pixel_distance(p, self._points[0]) <= self.screen_px(
            CLOSE_POLYGON_PX
        )
        if len(self._points) >= 3 and near_first:
            self.finish()
            return
        self._points.append(p)
        self._preview(p)

    def double_click(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        if self.defaults.shape is ZoneShape.POLYGON:
            self.finish()  # the double click's first press placed the last vertex already

    def move(self, p: Point, dragging: bool, modifiers: Qt.KeyboardModifier) -> None:
        if self._corner is not None and dragging:
            self.layer.preview_annotation(self._zone((self._corner, p), ZoneShape.ELLIPSE))
        elif self._points:
            self._preview(p)

    def _preview(self, pointer: Point) -> None:
        points = tuple(self._points)
        if points[-1] != pointer:
            points += (pointer,)
        self.layer.preview_annotation(self._zone(points, ZoneShape.POLYGON))

    def release(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        if self._corner is None:
            return
        corner, self._corner = self._corner, None
        self.layer.clear_preview()
        if abs(p.x - corner.x) > self.screen_px(CLICK_SLOP_PX) and abs(
            p.y - corner.y
        ) > self.screen_px(CLICK_SLOP_PX):
            self.add(self._zone((corner, p), ZoneShape.ELLIPSE))

    def finish(self) -> bool:
        """Close the polygon (three vertices at least)."""
        if len(self._points) < 3:
            return False
        zone = self._zone(tuple(self._points), ZoneShape.POLYGON)
        self._points = []
        self.add(zone)
        return True

    def key(self, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> bool:
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return self.finish()
        if key == Qt.Key.Key_Backspace and self._points:
            self._points.pop()
            if self._points:
                self._preview(self._points[-1])
            else:
                self.cancel()
            return True
        return super().key(key, modifiers)

    def cancel(self) -> None:
        super().cancel()
        self._points = []
        self._corner = None


# -- measurements -------------------------------------------------------------------------------
class CaliperTool(Tool):
    """Press at one end and drag to the other (or click both ends); the distance follows the
    pointer while drawing."""

    name = "caliper"

    def __init__(self, layer: AnnotationLayer) -> None:
        super().__init__(layer)
        self._a: Point | None = None
        self._waiting = False

    @property
    def busy(self) -> bool:
        return self._a is not None

    def _caliper(self, b: Point) -> Caliper:
        assert self._a is not None
        return Caliper(self.image_id or "", self._a, b, frame=self.layer.frame_for_new)

    def press(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        if self.image_id is None:
            return
        if self._waiting and self._a is not None:
            caliper = self._caliper(p)
            self.cancel()
            self.add(caliper)
            return
        self._a = p

    def move(self, p: Point, dragging: bool, modifiers: Qt.KeyboardModifier) -> None:
        if self._a is not None:
            self.layer.preview_annotation(self._caliper(p))

    def release(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        if self._a is None or self._waiting:
            return
        if self.is_click(self._a, p):
            self._waiting = True
            return
        caliper = self._caliper(p)
        self.cancel()
        self.add(caliper)

    def cancel(self) -> None:
        super().cancel()
        self._a, self._waiting = None, False


class AngleTool(Tool):
    """Three clicks: the end of one arm, the vertex, the end of the other arm; the angle
    follows the pointer after the second."""

    name = "angle"

    def __init__(self, layer: AnnotationLayer) -> None:
        super().__init__(layer)
        self._points: list[Point] = []

    @property
    def busy(self) -> bool:
        return bool(self._points)

    def _angle(self, p: Point) -> AngleMeasurement:
        a = self._points[0]
        vertex = self._points[1] if len(self._points) > 1 else p
        return AngleMeasurement(self.image_id or "", vertex, a, p, frame=self.layer.frame_for_new)

    def press(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        if self.image_id is None:
            return
        if len(self._points) == 2:
            angle = self._angle(p)
            self.cancel()
            self.add(angle)
            return
        if self._points and self.is_click(self._points[-1], p):
            return  # the same point twice: wait for a distinct one
        self._points.append(p)

    def move(self, p: Point, dragging: bool, modifiers: Qt.KeyboardModifier) -> None:
        if self._points:
            self.layer.preview_annotation(self._angle(p))

    def cancel(self) -> None:
        super().cancel()
        self._points = []


class TextTool(Tool):
    """Click where the arrow points, then where the text goes, then type the text."""

    name = "text"

    def __init__(
        self,
        layer: AnnotationLayer,
        ask_text: Callable[[QWidget | None], str | None] = ask_note_text,
    ) -> None:
        super().__init__(layer)
        #: Asks the note's text; tests replace it.
        self.ask_text = ask_text
        self._tip: Point | None = None
        self._text_at: Point | None = None

    @property
    def busy(self) -> bool:
        return self._tip is not None

    def _note(self, text_at: Point, text: str) -> TextNote:
        assert self._tip is not None
        return TextNote(
            self.image_id or "", self._tip, text_at, text, frame=self.layer.frame_for_new
        )

    def press(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        if self.image_id is None or self._text_at is not None:
            return
        if self._tip is None:
            self._tip = p
            return
        self._text_at = p
        # Ask once this mouse event is over, not in a dialog's loop inside it.
        QTimer.singleShot(0, self._ask)

    def _ask(self) -> None:
        if self._tip is None or self._text_at is None:
            return
        text = self.ask_text(self.layer.view)
        note = self._note(self._text_at, text) if text else None
        self.cancel()
        if note is not None:
            self.add(note)

    def move(self, p: Point, dragging: bool, modifiers: Qt.KeyboardModifier) -> None:
        if self._tip is not None and self._text_at is None:
            self.layer.preview_annotation(self._note(p, "…"))

    def cancel(self) -> None:
        super().cancel()
        self._tip, self._text_at = None, None


class SkinLineTool(Tool):
    """Click (or press and drag between) two points of the skin surface: depths are then
    measured below this line. Sets the image's skin line, one undo step."""

    name = "skin line"

    def __init__(self, layer: AnnotationLayer) -> None:
        super().__init__(layer)
        self._a: Point | None = None
        self._waiting = False

    @property
    def busy(self) -> bool:
        return self._a is not None

    def press(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        if self.image_id is None:
            return
        if self._a is not None and self._waiting:
            self._finish(p)
            return
        self._a = p

    def move(self, p: Point, dragging: bool, modifiers: Qt.KeyboardModifier) -> None:
        if self._a is not None:
            self.layer.preview_skin_line(self._a, p)

    def release(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        if self._a is None or self._waiting:
            return
        if self.is_click(self._a, p):
            self._waiting = True
        else:
            self._finish(p)

    def _finish(self, b: Point) -> None:
        a, image_id = self._a, self.image_id
        self.cancel()
        if a is None or image_id is None or a == b:
            return
        self.controller.push(ReplaceImage.of(self.plan, image_id, skin_line=(a, b)))
        self.controller.select([image_id])

    def cancel(self) -> None:
        super().cancel()
        self._a, self._waiting = None, False
