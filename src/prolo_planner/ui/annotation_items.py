"""The annotations on the image view: one QGraphicsItem class per kind, painted by render/.

An item holds its slice of the overlay's display list and paints it in screen pixels, so it
reads the same at any zoom; it knows how its kind moves when dragged whole or by a handle, and
builds the edit for it. Items never change the plan themselves: the tools push their edits.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainter, QPainterPath, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from prolo_planner.core.edits import Edit, ReplaceAnnotation, ReplaceImage
from prolo_planner.core.geometry import Point
from prolo_planner.core.overlay_primitives import Handle, Primitive
from prolo_planner.core.plan import (
    AngleMeasurement,
    Annotation,
    AnnotationKind,
    AvoidZone,
    Caliper,
    ImagePlan,
    NeedlePath,
    Plan,
    Target,
    TextNote,
    ZoneShape,
)
from prolo_planner.render import hit_primitive, overlay_device_bounds, paint_overlay
from prolo_planner.render.painter import HIT_TOLERANCE, primitive_region


def _shift(p: Point, dx: float, dy: float) -> Point:
    return Point(p.x + dx, p.y + dy)


class OverlayItem(QGraphicsItem):
    """Paints primitives in device pixels over the image (1 scene unit = 1 image pixel)."""

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.primitives: tuple[Primitive, ...] = ()
        self._zoom = 1.0
        self._bounds: QRectF | None = None

    def set_primitives(self, primitives: tuple[Primitive, ...]) -> None:
        if primitives == self.primitives:
            return
        self.prepareGeometryChange()
        self.primitives = primitives
        self._bounds = None
        self.update()

    def set_zoom(self, zoom: float) -> None:
        """Screen pixels per image pixel: labels and halos reach 1/zoom image pixels."""
        if zoom != self._zoom:
            self.prepareGeometryChange()
            self._zoom = zoom
            self._bounds = None

    def _device(self) -> QTransform:
        return QTransform.fromScale(self._zoom, self._zoom)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        if self._bounds is None:
            device = overlay_device_bounds(self.primitives, self._device())
            z = self._zoom
            self._bounds = QRectF(
                device.x() / z, device.y() / z, device.width() / z, device.height() / z
            )
        return QRectF(self._bounds)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        for p in self.primitives:
            path = path.united(primitive_region(p, self._device(), 1.0, HIT_TOLERANCE))
        return QTransform.fromScale(1 / self._zoom, 1 / self._zoom).map(path)

    def hits(self, p: Point, tolerance: float = HIT_TOLERANCE) -> bool:
        """Whether an image point falls on this item's drawing (handles aside), within
        `tolerance` screen pixels."""
        if not self.isVisible():
            return False
        device = QPointF(p.x * self._zoom, p.y * self._zoom)
        return any(
            hit_primitive(q, device, self._device(), 1.0, tolerance)
            for q in self.primitives
            if not isinstance(q, Handle)
        )

    def handle_at(self, p: Point, tolerance: float = HIT_TOLERANCE) -> Handle | None:
        if not self.isVisible():
            return None
        device = QPointF(p.x * self._zoom, p.y * self._zoom)
        for q in reversed(self.primitives):
            if isinstance(q, Handle) and hit_primitive(q, device, self._device(), 1.0, tolerance):
                return q
        return None

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        paint_overlay(painter, self.primitives, image_to_device=painter.worldTransform())


# -- one class per kind -----------------------------------------------------------------------
class AnnotationItem(OverlayItem):
    """An annotation's body on the image; its labels live in a LabelItem above every body, so
    no line crosses a label, and its handles (when selected) in the layer's HandlesItem."""

    kind: ClassVar[AnnotationKind | None] = None

    def __init__(self, annotation_id: str) -> None:
        super().__init__()
        self.annotation_id = annotation_id

    def value(self, plan: Plan) -> Annotation | ImagePlan:
        return plan.annotation(self.annotation_id)

    def moved(self, value, key: str | None, dx: float, dy: float):  # noqa: ANN001, ANN201
        """The value with its handle `key` (None: the whole annotation) moved by (dx, dy)."""
        raise NotImplementedError

    def drag_edit(
        self,
        plan: Plan,
        start,
        key: str | None,
        dx: float,
        dy: float,
        gesture: str,  # noqa: ANN001
    ) -> Edit:
        """The step of a drag that began at `start`: merges with the drag's earlier steps."""
        return ReplaceAnnotation(self.value(plan), self.moved(start, key, dx, dy), gesture)


class TargetItem(AnnotationItem):
    kind = AnnotationKind.TARGET

    def moved(self, value: Target, key: str | None, dx: float, dy: float) -> Target:
        if value.position is None:
            return value
        return replace(value, position=_shift(value.position, dx, dy))


class NeedlePathItem(AnnotationItem):
    """The path's far end is its target's position (read from the plan): dragging the path
    moves its skin entry; moving the target moves the end."""

    kind = AnnotationKind.NEEDLE_PATH

    def moved(self, value: NeedlePath, key: str | None, dx: float, dy: float) -> NeedlePath:
        return replace(value, entry=_shift(value.entry, dx, dy))


class AvoidZoneItem(AnnotationItem):
    kind = AnnotationKind.AVOID_ZONE

    def moved(self, value: AvoidZone, key: str | None, dx: float, dy: float) -> AvoidZone:
        points = list(value.points)
        if key is None:
            points = [_shift(p, dx, dy) for p in points]
        elif key.startswith("points."):
            i = int(key.split(".")[1])
            points[i] = _shift(points[i], dx, dy)
        elif value.shape is ZoneShape.ELLIPSE and len(points) == 2:
            # A side of the ellipse's box: move whichever corner holds that side.
            a, b = points
            if key in ("left", "right"):
                moving_a = (a.x <= b.x) == (key == "left")
                points[0 if moving_a else 1] = _shift(points[0 if moving_a else 1], dx, 0.0)
            elif key in ("top", "bottom"):
                moving_a = (a.y <= b.y) == (key == "top")
                points[0 if moving_a else 1] = _shift(points[0 if moving_a else 1], 0.0, dy)
        return replace(value, points=tuple(points))


class CaliperItem(AnnotationItem):
    kind = AnnotationKind.CALIPER

    def moved(self, value: Caliper, key: str | None, dx: float, dy: float) -> Caliper:
        a = _shift(value.a, dx, dy) if key in (None, "a") else value.a
        b = _shift(value.b, dx, dy) if key in (None, "b") else value.b
        return replace(value, a=a, b=b)


class AngleItem(AnnotationItem):
    kind = AnnotationKind.ANGLE

    def moved(
        self, value: AngleMeasurement, key: str | None, dx: float, dy: float
    ) -> AngleMeasurement:
        changes = {
            name: _shift(getattr(value, name), dx, dy)
            for name in ("a", "vertex", "b")
            if key in (None, name)
        }
        return replace(value, **changes)


class TextNoteItem(AnnotationItem):
    kind = AnnotationKind.TEXT

    def moved(self, value: TextNote, key: str | None, dx: float, dy: float) -> TextNote:
        changes = {
            name: _shift(getattr(value, name), dx, dy)
            for name in ("arrow_to", "text_at")
            if key in (None, name)
        }
        return replace(value, **changes)


class SkinLineItem(AnnotationItem):
    """The skin line the clinician drew on an image; its id is the image's id."""

    def value(self, plan: Plan) -> ImagePlan:
        return plan.image(self.annotation_id)

    def moved(self, value: ImagePlan, key: str | None, dx: float, dy: float) -> ImagePlan:
        if value.skin_line is None:
            return value
        a, b = value.skin_line
        a = _shift(a, dx, dy) if key in (None, "skin.0") else a
        b = _shift(b, dx, dy) if key in (None, "skin.1") else b
        return replace(value, skin_line=(a, b))

    def drag_edit(
        self,
        plan: Plan,
        start,
        key: str | None,
        dx: float,
        dy: float,
        gesture: str,  # noqa: ANN001
    ) -> Edit:
        return ReplaceImage(self.value(plan), self.moved(start, key, dx, dy), gesture)


class LabelItem(OverlayItem):
    """An annotation's labels: above every body, so no line crosses them."""

    def __init__(self, annotation_id: str) -> None:
        super().__init__()
        self.annotation_id = annotation_id


class HandlesItem(OverlayItem):
    """The handles of the selection, drawn above everything."""


class PreviewItem(OverlayItem):
    """What a tool is drawing: the annotation to be, with its live measurement, or a band."""


ITEM_CLASSES: dict[AnnotationKind, type[AnnotationItem]] = {
    AnnotationKind.TARGET: TargetItem,
    AnnotationKind.NEEDLE_PATH: NeedlePathItem,
    AnnotationKind.AVOID_ZONE: AvoidZoneItem,
    AnnotationKind.CALIPER: CaliperItem,
    AnnotationKind.ANGLE: AngleItem,
    AnnotationKind.TEXT: TextNoteItem,
}
