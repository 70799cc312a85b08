"""The annotations on the image view: one QGraphicsItem class per kind, painted by render/.

An item holds its slice of the overlay's display list and paints it in screen pixels, so it
reads the same at any zoom; it knows how its kind moves when dragged whole or by a handle, and
builds the edit for it. Items never change the plan themselves: the tools push their edits.
"""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainter, QPainterPath, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from prolo_planner.core.dragging import moved
from prolo_planner.core.edits import Edit, ReplaceAnnotation, ReplaceImage
from prolo_planner.core.geometry import Point
from prolo_planner.core.overlay_primitives import Handle, Primitive
from prolo_planner.core.plan import (
    Annotation,
    AnnotationKind,
    ImagePlan,
    Plan,
)
from prolo_planner.render import hit_primitive, overlay_device_bounds, paint_overlay
from prolo_planner.render.painter import HIT_TOLERANCE, primitive_region


class OverlayItem(QGraphicsItem):
    """Paints primitives in device pixels over the image (1 scene unit = 1 image pixel)."""

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.primitives: tuple[Primitive, ...] = ()
        self._zoom = 1.0
        self._bounds: QRectF | None = None
        # The view repaints everything on each change (FullViewportUpdate, for its on-screen
        # texts): each item keeps its picture, so only what changed is drawn again and an edit
        # of a plan of 500 annotations paints one, not 500.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

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
        return ReplaceAnnotation(self.value(plan), moved(start, key, dx, dy), gesture)


class TargetItem(AnnotationItem):
    kind = AnnotationKind.TARGET


class NeedlePathItem(AnnotationItem):
    """The path's far end is its target's position (read from the plan): dragging the path
    moves its skin entry; moving the target moves the end."""

    kind = AnnotationKind.NEEDLE_PATH


class AvoidZoneItem(AnnotationItem):
    kind = AnnotationKind.AVOID_ZONE


class CaliperItem(AnnotationItem):
    kind = AnnotationKind.CALIPER


class AngleItem(AnnotationItem):
    kind = AnnotationKind.ANGLE


class TextNoteItem(AnnotationItem):
    kind = AnnotationKind.TEXT


class SkinLineItem(AnnotationItem):
    """The skin line the clinician drew on an image; its id is the image's id."""

    def value(self, plan: Plan) -> ImagePlan:
        return plan.image(self.annotation_id)

    def drag_edit(
        self,
        plan: Plan,
        start,
        key: str | None,
        dx: float,
        dy: float,
        gesture: str,  # noqa: ANN001
    ) -> Edit:
        return ReplaceImage(self.value(plan), moved(start, key, dx, dy), gesture)


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
