"""Keeps the annotation items on the image view in step with the plan, for the shown image and
frame: the controller says what changed, the overlay says what to draw, and only the items
whose drawing changed are touched."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace

from PySide6.QtCore import QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QGraphicsScene, QMenu, QWidget

from prolo_planner.core.geometry import Point
from prolo_planner.core.label_placement import LabelSpace, drawn_box
from prolo_planner.core.measure import PlanMeasurements
from prolo_planner.core.overlay import ALL_KINDS, LAYER, SKIN_LINE_LAYER, overlay_for
from prolo_planner.core.overlay_primitives import (
    Dash,
    Handle,
    Label,
    OverlayStyle,
    Pen,
    Polygon,
    Primitive,
    Role,
)
from prolo_planner.core.plan import Annotation, AnnotationKind, Plan, SiteStatus, Target, kind_of
from prolo_planner.core.safety import SafetyWarning
from prolo_planner.render.shapes import label_size
from prolo_planner.ui.annotation_items import (
    ITEM_CLASSES,
    AnnotationItem,
    HandlesItem,
    LabelItem,
    OverlayItem,
    PreviewItem,
    SkinLineItem,
    TargetItem,
)
from prolo_planner.ui.image_view import ImageView
from prolo_planner.ui.plan_controller import PlanController

#: Stacking as the overlay's paint order: bodies by layer, every label above every body, the
#: target markers above the labels, the selection's handles above all, and the preview on top.
BODY_Z = 10.0
LABEL_Z = 1000.0
MARK_Z = 3000.0
HANDLE_Z = 4000.0
PREVIEW_Z = 5000.0
BAND_PEN = Pen(colour=OverlayStyle().handle, width=1.0, dash=Dash.DASHED)


class AnnotationLayer(QObject):
    #: The annotation items were rebuilt or updated (for tests and the list panel).
    refreshed = Signal()

    def __init__(
        self,
        view: ImageView,
        controller: PlanController,
        style: OverlayStyle | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent or view)
        self.view = view
        self.controller = controller
        self._style = style or OverlayStyle()
        self._visible: frozenset[AnnotationKind] = ALL_KINDS
        self._image_id: str | None = None
        self._frame: int = 0
        self._frame_count = 1
        self._bodies: dict[str, AnnotationItem] = {}
        self._labels: dict[str, LabelItem] = {}
        #: What each item was last given (its primitives, its labels', its z): an item whose
        #: drawing did not change is not touched.
        self._drawn: dict[str, tuple[tuple[Primitive, ...], tuple[Primitive, ...], float]] = {}
        #: The context menu last opened (for tests), or None.
        self.context_menu: QMenu | None = None
        self.preview = PreviewItem()
        self.preview.setZValue(PREVIEW_Z)
        #: The handles of every selected annotation, above everything they might hide under.
        self.handles = HandlesItem()
        self.handles.setZValue(HANDLE_Z)
        scene = view.scene()
        # An edit changes the items it touches and leaves the rest (refresh): with Qt's index a
        # repaint of what changed looks at the items there, not at all 500 of a large plan.
        scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        scene.addItem(self.preview)
        scene.addItem(self.handles)
        controller.changed.connect(lambda _changes: self.refresh())
        controller.selection_changed.connect(lambda _ids: self.refresh())
        controller.calibration_changed.connect(self._calibration_changed)
        controller.reset.connect(self.rebuild)
        view.zoom_changed.connect(self._zoom_changed)
        view.context_menu_requested.connect(self._context_menu_requested)
        # Labels are placed for the zoom and the part of the image in view: placed again when
        # either changes (once the pan or zoom pauses, not at every step of it).
        self._replace_labels = QTimer(self)
        self._replace_labels.setSingleShot(True)
        self._replace_labels.setInterval(40)
        self._replace_labels.timeout.connect(self.refresh)
        view.view_changed.connect(self._replace_labels.start)
        self._zoom_changed(view.zoom)

    # -- what is shown ----------------------------------------------------------------------
    @property
    def image_id(self) -> str | None:
        return self._image_id

    @property
    def frame(self) -> int:
        return self._frame

    @property
    def frame_count(self) -> int:
        return self._frame_count

    @property
    def frame_for_new(self) -> int | None:
        """The frame a new annotation goes on: the shown one of a cine, none for a still."""
        return self._frame if self._frame_count > 1 else None

    def show_image(self, image_id: str | None, frame_count: int = 1, frame: int = 0) -> None:
        """Show the annotations of a plan image (None: none) on one of its frames."""
        self._image_id, self._frame_count, self._frame = image_id, max(1, frame_count), frame
        self.rebuild()

    def set_frame(self, frame: int) -> None:
        """While scrubbing: annotations of other frames hide, those of all frames stay."""
        if frame != self._frame:
            self._frame = frame
            self.refresh()

    @property
    def style(self) -> OverlayStyle:
        return self._style

    def set_style(self, style: OverlayStyle) -> None:
        self._style = style
        self.refresh()

    @property
    def visible_kinds(self) -> frozenset[AnnotationKind]:
        return self._visible

    def set_visible_kinds(self, kinds: Iterable[AnnotationKind]) -> None:
        self._visible = frozenset(kinds)
        self.refresh()

    def _calibration_changed(self, image_id: str) -> None:
        if image_id == self._image_id:
            self.refresh()

    def _zoom_changed(self, zoom: float) -> None:
        for item in self._all_items():
            item.set_zoom(zoom)
        self.preview.set_zoom(zoom)
        self.handles.set_zoom(zoom)
        self._replace_labels.start()

    def label_space(self) -> LabelSpace:
        """How labels are drawn on screen now: the screen's font at this zoom, inside the part
        of the image in view, off the scanner's burned-in text."""
        view = self.view
        visible = view.visible_image_rect() if view.frame is not None else None
        if visible is None:
            size = view.image_size if view.frame is not None else None
            return LabelSpace(image_size=size, px_per_screen_px=1.0 / view.zoom, measure=label_size)
        left, top, right, bottom = visible
        return LabelSpace(
            image_size=(right - left, bottom - top),
            origin=(left, top),
            px_per_screen_px=1.0 / view.zoom,
            measure=label_size,
            avoid=view.burned_in,
        )

    def _all_items(self) -> list[OverlayItem]:
        return [*self._bodies.values(), *self._labels.values()]

    # -- keeping the items in step ----------------------------------------------------------
    def primitives(
        self,
        plan: Plan | None = None,
        *,
        measurements: PlanMeasurements | None = None,
        warnings: tuple[SafetyWarning, ...] | None = None,
        selected_ids: Iterable[str] | None = None,
        only_ids: Collection[str] | None = None,
    ) -> tuple[Primitive, ...]:
        """The display list of the shown image and frame (what an export of it would draw)."""
        if self._image_id is None:
            return ()
        c = self.controller
        return overlay_for(
            plan or c.plan,
            self._image_id,
            self._frame,
            c.calibration(self._image_id),
            c.measurements if measurements is None else measurements,
            c.warnings if warnings is None else warnings,
            style=self._style,
            visible_kinds=self._visible,
            selected_ids=c.selection if selected_ids is None else selected_ids,
            only_ids=only_ids,
            image_size=self.view.image_size if self.view.frame is not None else None,
            labels=self.label_space(),
        )

    def rebuild(self) -> None:
        for item in self._all_items():
            self.view.scene().removeItem(item)
        self._bodies.clear()
        self._labels.clear()
        self._drawn.clear()
        self.clear_preview()
        self.refresh()

    def refresh(self) -> None:
        """Draw the plan as it is now: items whose drawing changed are updated, new ones made,
        and those no longer drawn (deleted, another frame, a hidden kind) hidden or removed."""
        plan = self.controller.plan
        body: dict[str, list[Primitive]] = {}
        top: dict[str, list[Primitive]] = {}
        handles: list[Primitive] = []
        for p in self.primitives(plan):
            if isinstance(p, Handle):
                handles.append(p)
                continue
            into = top if isinstance(p, Label) else body
            into.setdefault(p.annotation_id, []).append(p)
        self.handles.set_primitives(tuple(handles))
        space = self.label_space()
        self.view.set_label_boxes(
            tuple(drawn_box(p, space) for ps in top.values() for p in ps if isinstance(p, Label))
        )
        order = {a.id: i for i, a in enumerate(plan.annotations)}
        shown = body.keys() | top.keys()
        for annotation_id in shown:
            layer = self._layer_of(plan, annotation_id)
            z = BODY_Z * (1 + layer) + order.get(annotation_id, -1) * 1e-5
            state = (tuple(body.get(annotation_id, ())), tuple(top.get(annotation_id, ())), z)
            body_item = self._bodies.get(annotation_id)
            if body_item is not None and self._drawn.get(annotation_id) == state:
                if not body_item.isVisible():
                    body_item.setVisible(True)
                    self._labels[annotation_id].setVisible(True)
                continue  # drawn as it is: an edit of one of 500 marks touches one item
            if body_item is None:
                body_item = self._make_body(plan, annotation_id)
                if body_item is None:
                    continue
            label_item = self._labels.get(annotation_id)
            if label_item is None:
                label_item = self._labels[annotation_id] = LabelItem(annotation_id)
                label_item.set_zoom(self.view.zoom)
                self.view.scene().addItem(label_item)
            body_item.setZValue(z + (MARK_Z if isinstance(body_item, TargetItem) else 0.0))
            label_item.setZValue(LABEL_Z + z)
            body_item.set_primitives(state[0])
            label_item.set_primitives(state[1])
            body_item.setVisible(True)
            label_item.setVisible(True)
            self._drawn[annotation_id] = state
        images = {im.id for im in plan.images}
        for annotation_id in list(self._bodies):
            if annotation_id in shown:
                continue
            if annotation_id in order or annotation_id in images:
                self._bodies[annotation_id].setVisible(False)
                self._labels[annotation_id].setVisible(False)
            else:
                self.view.scene().removeItem(self._bodies.pop(annotation_id))
                self.view.scene().removeItem(self._labels.pop(annotation_id))
                self._drawn.pop(annotation_id, None)
        self.refreshed.emit()

    def _layer_of(self, plan: Plan, annotation_id: str) -> int:
        found = plan.find(annotation_id)
        return LAYER[kind_of(found)] if found is not None else SKIN_LINE_LAYER

    def _make_body(self, plan: Plan, annotation_id: str) -> AnnotationItem | None:
        found = plan.find(annotation_id)
        if found is not None:
            item: AnnotationItem = ITEM_CLASSES[kind_of(found)](annotation_id)
        elif annotation_id == self._image_id:
            item = SkinLineItem(annotation_id)
        else:
            return None
        item.set_zoom(self.view.zoom)
        self.view.scene().addItem(item)
        self._bodies[annotation_id] = item
        return item

    # -- what is under the pointer ----------------------------------------------------------
    def item(self, annotation_id: str) -> AnnotationItem | None:
        return self._bodies.get(annotation_id)

    def label_item(self, annotation_id: str) -> LabelItem | None:
        return self._labels.get(annotation_id)

    def shown_ids(self) -> frozenset[str]:
        return frozenset(i for i, item in self._bodies.items() if item.isVisible())

    def annotation_at(
        self, p: Point, kinds: Collection[AnnotationKind] | None = None
    ) -> str | None:
        """The topmost annotation drawn at an image point (its label counts), or None."""
        candidates: list[OverlayItem] = [item for item in self._all_items() if item.isVisible()]
        candidates.sort(key=lambda item: item.zValue(), reverse=True)
        plan = self.controller.plan
        for item in candidates:
            annotation_id = item.annotation_id  # type: ignore[attr-defined]
            if kinds is not None:
                found = plan.find(annotation_id)
                if found is None or kind_of(found) not in kinds:
                    continue
            if item.hits(p):
                return annotation_id
        return None

    def handle_at(self, p: Point) -> tuple[str, str] | None:
        """The selected annotation's handle at an image point: (annotation id, handle key)."""
        handle = self.handles.handle_at(p)
        if handle is None or handle.annotation_id not in self.controller.selection:
            return None
        return handle.annotation_id, handle.key

    def target_near(self, p: Point, reach_px: float = 14.0) -> Target | None:
        """The shown target closest to an image point within `reach_px` screen pixels."""
        plan = self.controller.plan
        best, best_d = None, reach_px / self.view.zoom
        for annotation_id in self.shown_ids():
            t = plan.find(annotation_id)
            if isinstance(t, Target) and t.position is not None:
                d = ((t.position.x - p.x) ** 2 + (t.position.y - p.y) ** 2) ** 0.5
                if d <= best_d:
                    best, best_d = t, d
        return best

    # -- the preview of what a tool draws ---------------------------------------------------
    def preview_annotation(self, annotation: Annotation, *extra: Annotation) -> None:
        """Show an annotation not yet in the plan, measured and checked as it would be; `extra`
        are helpers it needs (a stand-in target under the pointer) that are not drawn."""
        c = self.controller
        plan = c.plan.with_annotations((*c.plan.annotations, *extra, annotation))
        measurements, warnings = c.derived_for(plan)
        self.preview.set_primitives(
            self.primitives(
                plan,
                measurements=measurements,
                warnings=warnings,
                selected_ids=(),
                only_ids={annotation.id},
            )
        )
        self.preview.setVisible(True)

    def preview_skin_line(self, a: Point, b: Point) -> None:
        if self._image_id is None:
            return
        plan = self.controller.plan
        image = plan.image(self._image_id)
        images = [
            replace(image, skin_line=(a, b)) if im.id == image.id else im for im in plan.images
        ]
        self.preview.set_primitives(
            self.primitives(plan.with_images(images), selected_ids=(), only_ids={image.id})
        )
        self.preview.setVisible(True)

    def preview_band(self, a: Point, b: Point) -> None:
        """The rubber band of a selection being dragged out."""
        corners = (a, Point(b.x, a.y), b, Point(a.x, b.y))
        band = Polygon(
            points=corners,
            pen=BAND_PEN,
            fill=OverlayStyle().handle.with_alpha(30),
            annotation_id="",
            role=Role.PREVIEW,
        )
        self.preview.set_primitives((band,))
        self.preview.setVisible(True)

    def clear_preview(self) -> None:
        self.preview.set_primitives(())
        self.preview.setVisible(False)

    # -- the context menu -------------------------------------------------------------------
    def context_menu_for(self, annotation_id: str, parent: QWidget | None = None) -> QMenu:
        """Delete, copy, paste here, and a target's status; acts on the selection if the
        annotation is part of it, else on the annotation alone."""
        c = self.controller
        if annotation_id not in c.selection:
            c.select([annotation_id])
        ids = c.selection
        menu = QMenu(parent or self.view)
        delete = menu.addAction("Delete")
        delete.triggered.connect(lambda: c.delete(ids))
        copy = menu.addAction("Copy")
        copy.triggered.connect(lambda: c.copy(ids))
        paste_here = menu.addAction("Paste")
        paste_here.setEnabled(c.can_paste and self._image_id is not None)
        paste_here.triggered.connect(self.paste)
        targets = [i for i in ids if isinstance(c.plan.find(i), Target)]
        if targets:
            menu.addSeparator()
            group = QActionGroup(menu)
            statuses = {c.plan.annotation(i).status for i in targets}  # type: ignore[union-attr]
            for status in SiteStatus:
                action = QAction(status.value.capitalize(), menu)
                action.setCheckable(True)
                action.setChecked(statuses == {status})
                action.setObjectName(f"status_{status.name.lower()}")
                action.triggered.connect(
                    lambda _on=False, s=status: c.set_target_status(targets, s)
                )
                group.addAction(action)
                menu.addAction(action)
        return menu

    def paste(self) -> tuple[str, ...]:
        """Paste the clipboard onto the shown image and frame."""
        if self._image_id is None:
            return ()
        return self.controller.paste(self._image_id, self.frame_for_new)

    def _context_menu_requested(self, p: Point, global_pos: QPoint) -> None:
        annotation_id = self.annotation_at(p)
        if annotation_id is None:
            return
        menu = self.context_menu_for(annotation_id)
        # popup, not exec: no nested event loop inside the mouse event; the menu deletes itself.
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.context_menu = menu
        menu.popup(global_pos)
