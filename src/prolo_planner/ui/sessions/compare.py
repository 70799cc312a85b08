"""Compare: a prior session and the current one side by side, zoom, pan and frame linked, with
the prior session's targets and needle paths drawn faintly (as ghosts) on today's image.

The clinician treats the same sites as last time: the ghosts show at a glance where they were,
under today's own markers. Which prior image is like today's, and where its targets lie on
today's image (through millimetres when the images differ), is core/compare.py's; with no
matching image there are no ghosts, and the note under the images says why. Both plans are drawn
by the same overlay as the main view; the prior side is for looking only. Esc or Ctrl+W closes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, QSignalBlocker, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.compare import matching_image, place_ghosts, same_spot
from prolo_planner.core.geometry import Point
from prolo_planner.core.label_placement import drawn_box
from prolo_planner.core.measure import measure_plan
from prolo_planner.core.overlay import MARKER_ARMS, overlay_for
from prolo_planner.core.overlay_primitives import Label, OverlayStyle, Primitive, TargetMarker
from prolo_planner.core.plan import AnnotationKind, Plan, Target
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.facts import image_facts
from prolo_planner.imaging.open import open_image
from prolo_planner.imaging.source import ImageSource
from prolo_planner.ui.annotation_items import OverlayItem
from prolo_planner.ui.annotation_layer import BODY_Z, LABEL_Z, MARK_Z, AnnotationLayer
from prolo_planner.ui.image_view import ImageView
from prolo_planner.ui.plan_controller import PlanController
from prolo_planner.ui.sessions.session_text import image_label
from prolo_planner.ui.viewer_pane import ViewerPane

#: What a ghost shows of the prior plan: where the needle went, not last time's measurements.
GHOST_KINDS = frozenset({AnnotationKind.TARGET, AnnotationKind.NEEDLE_PATH})
#: Prior paths: below every one of today's annotations.
GHOST_Z = BODY_Z / 2
#: Prior markers: above today's labels, below today's target markers.
GHOST_MARK_Z = (LABEL_Z + MARK_Z) / 2
SMALL_LABEL = 11.0


class ViewLink(QObject):
    """Keeps two viewers on the same zoom, centre (image pixels) and frame."""

    def __init__(self, a: ViewerPane, b: ViewerPane, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.a, self.b = a, b
        self.enabled = True
        self._busy = False
        for src, dst in ((a, b), (b, a)):
            view = src.view
            follow = self._follower(src, dst)
            view.zoom_changed.connect(follow)
            view.horizontalScrollBar().valueChanged.connect(follow)
            view.verticalScrollBar().valueChanged.connect(follow)
            src.frame_changed.connect(lambda i, d=dst: self._follow_frame(i, d))

    def _follower(self, src: ViewerPane, dst: ViewerPane) -> Callable[..., None]:
        def follow(*_args: object) -> None:
            self._follow_view(src, dst)

        return follow

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        if on:
            self._follow_view(self.b, self.a)  # today's view leads when linking again
            self._follow_frame(self.b.cine.index, self.a)

    def _follow_view(self, src: ViewerPane, dst: ViewerPane) -> None:
        if self._busy or not self.enabled or dst.view.image_size == (0, 0):
            return
        self._busy = True
        try:
            copy_view(src.view, dst.view)
        finally:
            self._busy = False

    def _follow_frame(self, index: int, dst: ViewerPane) -> None:
        if self._busy or not self.enabled or dst.source is None:
            return
        count = dst.source.frame_count
        if count <= 1 or dst.cine.index == min(index, count - 1):
            return
        self._busy = True
        try:
            dst.cine.seek(min(index, count - 1))
        finally:
            self._busy = False


def copy_view(src: ImageView, dst: ImageView) -> None:
    """Give `dst` the zoom and centre of `src`, in image pixels. Also when `src` is fitted:
    the two panes differ in height (a clip has its cine bar), and fitting each would show
    the same millimetre at two sizes."""
    if src.image_size == (0, 0):
        return
    if dst.zoom != src.zoom:
        dst.zoom_by(src.zoom / dst.zoom)
    c, d = src.centre, dst.centre
    if abs(c.x() - d.x()) > 1e-6 or abs(c.y() - d.y()) > 1e-6:
        dst.pan_by((d.x() - c.x()) * dst.zoom, (d.y() - c.y()) * dst.zoom)


class _Side(QWidget):
    """One half: a heading, the image chooser and a viewer showing one plan."""

    def __init__(self, heading: str, controller: PlanController, parent: QWidget) -> None:
        super().__init__(parent)
        self.controller = controller
        self.heading = QLabel(heading)
        self.heading.setObjectName("compare_heading")
        self.heading.setStyleSheet("font-weight: bold")
        self.images = QComboBox()
        for n, im in enumerate(controller.plan.images, start=1):
            self.images.addItem(image_label(im, n), im.id)
        self.pane = ViewerPane(self)
        self.layer = AnnotationLayer(self.pane.view, controller)
        # Looking only: a right click here must not offer to delete from the plan.
        self.pane.view.context_menu_requested.disconnect()
        self.source: ImageSource | None = None
        # The heading above the image's chooser, which takes the side's whole width: two
        # sides fit a 1366-pixel screen with each image's name whole.
        self.images.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.images.setMinimumContentsLength(20)
        top = QVBoxLayout()
        top.addWidget(self.heading)
        top.addWidget(self.images)
        #: Stands in for the other side's cine bar, so both images start on the same row.
        self.spacer = QWidget(self)
        self.spacer.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.pane, 1)
        layout.addWidget(self.spacer)
        self.pane.frame_changed.connect(self.layer.set_frame)

    @property
    def image_id(self) -> str | None:
        return self.images.currentData()

    def show_image(self, image_id: str | None) -> None:
        if self.source is not None:
            self.pane.set_source(None)
            self.source.close()
            self.source = None
        i = self.images.findData(image_id)
        if image_id is None or i < 0:
            self.layer.show_image(None)
            self.pane.view.clear("No image in this session's plan")
            return
        with QSignalBlocker(self.images):
            self.images.setCurrentIndex(i)
        image = self.controller.plan.image(image_id)
        try:
            source = open_image(Path(image.ref.path))
        except ImageLoadError as exc:
            self.layer.show_image(None)
            self.pane.view.clear(f"{image_label(image)} cannot be shown: {exc.reason}")
            return
        self.source = source
        self.controller.set_source_facts(image.id, image_facts(source))
        self.pane.set_source(source, self.controller.calibration(image.id))
        self.layer.show_image(image.id, source.frame_count, self.pane.cine.index)

    def close_source(self) -> None:
        self.pane.set_source(None)
        if self.source is not None:
            self.source.close()
            self.source = None


class CompareWindow(QWidget):
    """The prior session (left) beside the current one (right)."""

    def __init__(
        self,
        prior: Plan,
        current: Plan | PlanController,
        *,
        prior_title: str = "Prior session",
        current_title: str = "Current session",
        current_image_id: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("compare_window")
        self.setWindowTitle(f"Compare — {prior_title}  |  {current_title}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.prior_controller = PlanController(prior, parent=self)
        # The current side draws a copy that follows the live plan: this window's items then
        # never outlive it as listeners of the main window's controller.
        self.live = current if isinstance(current, PlanController) else None
        plan = current.plan if isinstance(current, PlanController) else current
        self.current_controller = PlanController(plan, parent=self)
        if self.live is not None:
            self.live.changed.connect(self._live_changed)
        self.prior = _Side(f"Prior: {prior_title}", self.prior_controller, self)
        self.current = _Side(f"Current: {current_title}", self.current_controller, self)
        self.link = ViewLink(self.prior.pane, self.current.pane, self)

        self.ghost_style = OverlayStyle(
            ghost=True, name_prefix="prior: ", small_label_size=SMALL_LABEL
        )
        # Two layers: the prior paths under all of today's drawing; the prior markers and
        # names above today's label boxes (which would hide them) but under today's markers.
        self.ghost_paths = OverlayItem()
        self.ghost_paths.setZValue(GHOST_Z)
        self.ghost_marks = OverlayItem()
        self.ghost_marks.setZValue(GHOST_MARK_Z)
        view = self.current.pane.view
        for item in (self.ghost_paths, self.ghost_marks):
            view.scene().addItem(item)
            view.zoom_changed.connect(item.set_zoom)
            item.set_zoom(view.zoom)

        self.linked = QCheckBox("Link zoom, pan and frame")
        self.linked.setChecked(True)
        self.linked.toggled.connect(self.link.set_enabled)
        self.show_ghosts = QCheckBox("Show the prior session's targets on the current image")
        self.show_ghosts.setChecked(True)
        self.show_ghosts.toggled.connect(lambda _on: self.refresh_ghosts())
        legend = QLabel(
            "Faint markers and paths on the current image: where the prior session's needles "
            "went (hidden under today's marker where a site is on the same spot)."
        )
        legend.setObjectName("compare_legend")
        legend.setWordWrap(True)
        #: Why the ghosts are where they are, or why there are none.
        self.note = QLabel("")
        self.note.setObjectName("compare_note")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #ffb200")

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.prior)
        split.addWidget(self.current)
        split.setChildrenCollapsible(False)
        bar = QHBoxLayout()
        bar.addWidget(self.linked)
        bar.addWidget(self.show_ghosts)
        bar.addWidget(legend, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(split, 1)
        layout.addWidget(self.note)
        layout.addLayout(bar)
        closers = {QKeySequence(Qt.Key.Key_Escape), QKeySequence("Ctrl+W")}
        closers.update(QKeySequence.keyBindings(QKeySequence.StandardKey.Close))
        for keys in closers:
            QShortcut(keys, self, activated=self.close).setContext(
                Qt.ShortcutContext.WindowShortcut
            )

        self.prior.images.currentIndexChanged.connect(
            lambda _i: self._show(self.prior, self.prior.images.currentData())
        )
        self.current.images.currentIndexChanged.connect(
            lambda _i: self._current_chosen(self.current.images.currentData())
        )
        self.prior.pane.frame_changed.connect(lambda _i: self.refresh_ghosts())
        self.resize(1500, 860)

        today = current_image_id or next((im.id for im in plan.images), None)
        self._show(self.current, today)
        self._show(self.prior, self.matching_prior_image(today))

    # -- which images -----------------------------------------------------------------------
    def matching_prior_image(self, current_image_id: str | None) -> str | None:
        """The prior image like today's (core.compare.matching_image); else, to look at, the
        prior image with most targets (no ghosts are drawn from it)."""
        plan = self.prior_controller.plan
        if not plan.images:
            return None
        if current_image_id is not None:
            try:
                current = self.current_controller.plan.image(current_image_id)
            except KeyError:
                current = None
            match = matching_image(plan, current) if current is not None else None
            if match is not None:
                return match.image_id
        return max(
            plan.images, key=lambda im: sum(1 for t in plan.targets() if t.image_id == im.id)
        ).id

    def _current_chosen(self, image_id: str | None) -> None:
        """Another of today's images: the prior side follows with the image like it."""
        self._show(self.current, image_id)
        like = self.matching_prior_image(image_id)
        if like is not None and like != self.prior.image_id:
            self._show(self.prior, like)

    def _show(self, side: _Side, image_id: str | None) -> None:
        side.show_image(image_id)
        self._align_heights()
        other = self.current if side is self.prior else self.prior
        if self.link.enabled and other.source is not None:
            copy_view(other.pane.view, side.pane.view)
            self.link._follow_frame(other.pane.cine.index, side.pane)
        self.refresh_ghosts()

    def _align_heights(self) -> None:
        """Equal viewer heights: with the same zoom and centre, rows then line up across."""
        for side, other in ((self.prior, self.current), (self.current, self.prior)):
            needed = not other.pane.bar.isHidden() and side.pane.bar.isHidden()
            side.spacer.setFixedHeight(other.pane.bar.sizeHint().height() if needed else 0)
            side.spacer.setVisible(needed)

    # -- ghosts -----------------------------------------------------------------------------
    def ghost_primitives(self) -> tuple[Primitive, ...]:
        """The prior image's targets and paths, faded, where they lie on the current image:
        the same pixels on the same image, through millimetres on another image of the same
        view, none at all (the note says why) on an image that is not like it.

        Their labels would crowd today's: a ghost is named ("prior: L4-L5 …") only where
        today has no target of that name on the same spot, and its paths go unlabelled."""
        prior_id, current_id = self.prior.image_id, self.current.image_id
        if prior_id is None or current_id is None or self.current.source is None:
            self.note.setText("")
            return ()
        c, today = self.prior_controller, self.current_controller
        # The ghosts' names keep off today's labels and markers, as today's keep off each other.
        layer = self.current.layer
        space = layer.label_space()
        today_drawn = layer.primitives()
        k = space.px_per_screen_px
        taken = [drawn_box(p, space) for p in today_drawn if isinstance(p, Label)]
        taken += [
            _marker_box(p.centre, (p.radius + MARKER_ARMS) * k)
            for p in today_drawn
            if isinstance(p, TargetMarker)
        ]
        placed = place_ghosts(
            c.plan,
            prior_id,
            c.calibration(prior_id),
            today.plan.image(current_id),
            today.calibration(current_id),
        )
        self.note.setText(placed.note)
        if not self.show_ghosts.isChecked() or placed.plan is None:
            return ()
        view = self.current.pane.view
        calibrations = {prior_id: today.calibration(current_id)}
        drawn = overlay_for(
            placed.plan,
            prior_id,
            self.prior.pane.cine.index if self.prior.source is not None else None,
            calibrations[prior_id],
            measure_plan(placed.plan, calibrations),
            (),
            style=self.ghost_style,
            visible_kinds=GHOST_KINDS,
            image_size=view.image_size if view.frame is not None else None,
            labels=replace(space, keep_out=(*space.keep_out, *taken)),
        )
        mine = [
            t for t in today.plan.targets() if t.image_id == current_id and t.position is not None
        ]
        out: list[Primitive] = []
        for p in drawn:
            if isinstance(p, Label):
                target = placed.plan.find(p.annotation_id)
                if not isinstance(target, Target) or same_spot(target, mine):
                    continue
            out.append(p)
        return tuple(out)

    @property
    def ghosts(self) -> tuple[Primitive, ...]:
        """What the ghost layers draw now."""
        return self.ghost_paths.primitives + self.ghost_marks.primitives

    def refresh_ghosts(self) -> None:
        primitives = self.ghost_primitives()
        paths = tuple(p for p in primitives if not isinstance(p, TargetMarker | Label))
        marks = tuple(p for p in primitives if isinstance(p, TargetMarker | Label))
        for item, part in ((self.ghost_paths, paths), (self.ghost_marks, marks)):
            item.set_primitives(part)
            item.setVisible(bool(part))

    def _live_changed(self, _changes: object) -> None:
        """The current plan was edited in the main window: draw it as it is now."""
        if self.live is None:
            return
        self.current_controller.load(self.live.plan)
        self.refresh_ghosts()

    # -- closing ----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if self.live is not None:
            self.live.changed.disconnect(self._live_changed)
            self.live = None
        self.prior.close_source()
        self.current.close_source()
        super().closeEvent(event)


def _marker_box(centre: Point, reach: float) -> tuple[float, float, float, float]:
    return centre.x - reach, centre.y - reach, centre.x + reach, centre.y + reach
