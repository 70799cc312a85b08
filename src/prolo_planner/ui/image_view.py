"""The image view: one frame at 1 scene unit per image pixel, zoom, pan, window/level, read-out."""

from __future__ import annotations

import re
from typing import Protocol

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFontMetricsF,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPixmap,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.display import DisplaySettings, apply_display
from prolo_planner.core.geometry import Point
from prolo_planner.imaging.burned_in import burned_in_text
from prolo_planner.render.qimage import frame_to_pixmap
from prolo_planner.ui.scale_bar import (
    DIM_TEXT_COLOUR,
    Corner,
    free_corner,
    overlay_font,
    paint_outlined_text,
    paint_scale_block,
    scale_block,
    text_block_size,
)

ZOOM_MIN = 0.02
ZOOM_MAX = 40.0
#: Zoom factor of one wheel notch (120 eighths of a degree) and of zoom in/out.
ZOOM_STEP = 1.25
#: Above this zoom pixels are drawn as squares (nearest neighbour) so they can be inspected.
NEAREST_ABOVE_ZOOM = 2.0
#: Margin of scene around the image, so the view can centre any image point whatever the zoom.
SCENE_MARGIN = 100_000.0
#: Around the image: dark in either theme, as ultrasound is read on black.
BACKGROUND = QColor(18, 18, 20)


def displayed(frame: np.ndarray, settings: DisplaySettings) -> np.ndarray:
    """apply_display's mapping (the same lookup table), through OpenCV's faster table lookup.

    Measured on 800x600 RGB: numpy indexing 3-6 ms, cv2.LUT under 2 ms, a cine step's budget
    being 16 ms; the result is the same array pixel for pixel (tested).
    """
    if settings.is_identity:
        return apply_display(frame, settings)
    return cv2.LUT(frame, settings.lut())


_FRAME_PROBLEM = re.compile(r"^frame (\d+) cannot be shown: (.*)$", re.IGNORECASE | re.DOTALL)


def tidy_frame_problem(message: str) -> str:
    """'Frame 30 cannot be shown: truncated: frame 30 is missing (...)' names the frame twice;
    when the reason names it already, the reason alone says it: 'Truncated: frame 30 is ...'."""
    found = _FRAME_PROBLEM.match(message.strip())
    if found is None or not re.search(rf"\bframe {found.group(1)}\b", found.group(2), re.I):
        return message
    reason = found.group(2)
    return reason[:1].upper() + reason[1:]


#: Keys a tool answers while the view has the focus (finish, cancel, undo the last point, delete).
TOOL_KEYS = frozenset(
    {
        Qt.Key.Key_Escape,
        Qt.Key.Key_Return,
        Qt.Key.Key_Enter,
        Qt.Key.Key_Backspace,
        Qt.Key.Key_Delete,
    }
)
#: A right-button press that moves less than this (screen pixels) is a click: a context menu.
RIGHT_CLICK_SLOP = 3.0


class ViewTool(Protocol):
    """A mouse tool (ui/tools.py): left-button presses, moves and releases, double clicks and
    the TOOL_KEYS reach it as image points; middle-drag pan, wheel zoom and right-drag
    brightness stay the view's."""

    @property
    def cursor(self) -> Qt.CursorShape: ...

    def press(self, p: Point, modifiers: Qt.KeyboardModifier) -> None: ...

    def move(self, p: Point, dragging: bool, modifiers: Qt.KeyboardModifier) -> None: ...

    def release(self, p: Point, modifiers: Qt.KeyboardModifier) -> None: ...

    def double_click(self, p: Point, modifiers: Qt.KeyboardModifier) -> None: ...

    def key(self, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> bool: ...

    def deactivate(self) -> None: ...


class ImageView(QGraphicsView):
    cursor_readout = Signal(str)
    display_changed = Signal(object)
    zoom_changed = Signal(float)
    #: What part of the image is in view changed: zoom, pan or the view's size.
    view_changed = Signal()
    #: A right click (no drag) or the menu key: the image point (Point) and the global QPoint.
    context_menu_requested = Signal(object, object)
    #: Esc that the tool did not want (a tool with nothing half drawn).
    escape_pressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        self.scene().addItem(self._item)
        self.setBackgroundBrush(BACKGROUND)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        # An edit repaints the part of the view it changed, not the whole (a plan of 500 marks
        # painted all 500 on each drag step); scrolling repaints all (scrollContentsBy), as the
        # corner texts are drawn in screen pixels and moving the old pixels would smear them.
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(True)
        self.setMinimumSize(160, 120)

        self._frame: np.ndarray | None = None
        self._size: tuple[int, int] | None = None  # (columns, rows) the zoom and pan refer to
        self._shown: np.ndarray | None = None
        self._frame_index = 0
        self._frame_count = 0
        self._message = "No image"
        self._calibration = Calibration.none()
        self._display = DisplaySettings()
        self._zoom = 1.0
        self._centre = QPointF(0.0, 0.0)
        self._fitting = True
        self._hover: QPointF | None = None  # viewport position of the cursor, if over the view
        self._drag_button: Qt.MouseButton | None = None
        self._drag_start = QPointF()
        self._drag_centre = QPointF()
        self._drag_display = self._display
        self._right_moved = False
        self._tool: ViewTool | None = None
        self._tool_down = False
        #: The scanner's burned-in text of the image shown (image pixels), found once per image.
        self._burned_in: tuple[tuple[float, float, float, float], ...] | None = None
        #: The overlay's label boxes (image pixels): the corner text and scale bar keep off them.
        self._label_boxes: tuple[tuple[float, float, float, float], ...] = ()
        #: Where the corner text and the scale block were drawn last (viewport pixels).
        self.corner_rects: dict[str, QRectF] = {}

    # -- what is shown --------------------------------------------------------------------
    @property
    def frame(self) -> np.ndarray | None:
        """The frame as stored (before window/level), or None."""
        return self._frame

    def displayed_frame(self) -> np.ndarray | None:
        """The frame as drawn on screen: window/level applied."""
        return self._shown

    def set_frame(self, frame: np.ndarray | None, index: int = 0, count: int = 1) -> None:
        """Show a frame; the zoom and pan stay unless the image size changed. None: clear()."""
        if frame is None:
            self.clear()
            return
        self._frame, self._frame_index, self._frame_count = frame, index, count
        self._message = ""
        self._render()
        size = (int(frame.shape[1]), int(frame.shape[0]))
        if size != self._size:
            self._size = size
            w, h = size
            self.setSceneRect(
                QRectF(-SCENE_MARGIN, -SCENE_MARGIN, w + 2 * SCENE_MARGIN, h + 2 * SCENE_MARGIN)
            )
            self.fit_to_window()
        self.viewport().update()
        self._emit_readout()

    def show_problem(self, message: str, index: int = 0, count: int = 1) -> None:
        """A frame that cannot be shown: the message instead of its pixels; zoom and pan stay."""
        self._frame, self._shown = None, None
        self._frame_index, self._frame_count = index, count
        self._message = tidy_frame_problem(message)
        self._item.setPixmap(QPixmap())
        self.viewport().update()
        self._emit_readout()

    def clear(self, message: str = "No image") -> None:
        """No image: a message only; the next image is fitted to the window."""
        self._frame, self._shown, self._size = None, None, None
        self._frame_index, self._frame_count = 0, 0
        self._burned_in = None
        self._message = message
        self._item.setPixmap(QPixmap())
        self.viewport().update()
        self.cursor_readout.emit("")

    def _render(self) -> None:
        if self._frame is None:
            return
        self._shown = displayed(self._frame, self._display)
        self._item.setPixmap(frame_to_pixmap(self._shown))

    @property
    def image_size(self) -> tuple[int, int]:
        """(columns, rows) of the image shown, (0, 0) without one."""
        return self._size or (0, 0)

    @property
    def burned_in(self) -> tuple[tuple[float, float, float, float], ...]:
        """Boxes (image pixels) of the text the scanner burned into the image shown, found in
        the first frame shown (outside the file's ultrasound regions, where it has them)."""
        if self._burned_in is None:
            if self._frame is None:
                return ()
            self._burned_in = burned_in_text(self._frame, self._calibration)
        return self._burned_in

    def set_label_boxes(self, boxes: tuple[tuple[float, float, float, float], ...]) -> None:
        """Where the overlay's labels are (image pixels): the corner text keeps off them."""
        if boxes != self._label_boxes:
            self._label_boxes = boxes
            self.viewport().update()

    def visible_image_rect(self) -> tuple[float, float, float, float] | None:
        """The part of the image in view (left, top, right, bottom, image pixels), or None."""
        if self._size is None:
            return None
        top_left = self.scene_point(QPointF(0, 0))
        vp = self.viewport()
        bottom_right = self.scene_point(QPointF(vp.width(), vp.height()))
        w, h = self._size
        left, top = max(0.0, top_left.x()), max(0.0, top_left.y())
        right, bottom = min(float(w), bottom_right.x()), min(float(h), bottom_right.y())
        if right <= left or bottom <= top:
            return None
        return left, top, right, bottom

    # -- calibration and display ----------------------------------------------------------
    @property
    def calibration(self) -> Calibration:
        return self._calibration

    def set_calibration(self, calibration: Calibration) -> None:
        """The calibration in force, for the scale bar and the cursor's read-out (the view
        shows it; the plan controller owns it)."""
        self._calibration = calibration
        self._emit_readout()
        self.viewport().update()

    @property
    def display(self) -> DisplaySettings:
        return self._display

    def set_display(self, settings: DisplaySettings) -> None:
        if settings == self._display:
            return
        self._display = settings
        self._render()
        self.viewport().update()
        self.display_changed.emit(settings)

    def reset_display(self) -> None:
        self.set_display(DisplaySettings())

    # -- zoom and pan ---------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        return self._zoom

    @property
    def is_fitting(self) -> bool:
        return self._fitting

    @property
    def centre(self) -> QPointF:
        """The image point at the middle of the view."""
        return QPointF(self._centre)

    def fit_scale(self) -> float:
        w, h = self.image_size
        if not w or not h:
            return 1.0
        vp = self.viewport().size()
        return max(min(vp.width() / w, vp.height() / h), ZOOM_MIN)

    def fit_to_window(self) -> None:
        """The whole image, centred; keeps fitting when the window is resized until a zoom."""
        w, h = self.image_size
        self._fitting = True
        self._set_view(self.fit_scale(), QPointF(w / 2.0, h / 2.0))

    def zoom_1to1(self) -> None:
        """One image pixel per screen pixel, around the point in the middle of the view."""
        self._fitting = False
        self._set_view(1.0, self._centre)

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1.0 / ZOOM_STEP)

    def reset_view(self) -> None:
        self.reset_display()
        self.fit_to_window()

    def zoom_by(self, factor: float, at: QPointF | None = None) -> None:
        """Zoom by factor keeping the image point under viewport position `at` where it is."""
        if self._size is None:
            return
        if at is None:
            at = QPointF(self.viewport().width() / 2.0, self.viewport().height() / 2.0)
        new_zoom = min(max(self._zoom * factor, ZOOM_MIN), ZOOM_MAX)
        anchor = self.scene_point(at)
        offset = at - self._viewport_centre()
        self._fitting = False
        self._set_view(new_zoom, anchor - offset / new_zoom)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the image by (dx, dy) screen pixels."""
        self._fitting = False
        self._set_view(self._zoom, self._centre - QPointF(dx, dy) / self._zoom)

    def scene_point(self, viewport_pos: QPointF) -> QPointF:
        """The image point (scene coordinates, float) at a viewport position."""
        offset = viewport_pos - self._viewport_centre()
        return self._centre + offset / self._zoom

    def viewport_point(self, scene_pos: QPointF) -> QPointF:
        return self._viewport_centre() + (scene_pos - self._centre) * self._zoom

    def _viewport_centre(self) -> QPointF:
        return QPointF(self.viewport().width() / 2.0, self.viewport().height() / 2.0)

    def _set_view(self, zoom: float, centre: QPointF) -> None:
        w, h = self.image_size
        # The middle of the view stays on the image, so the image can never be lost off-screen.
        self._centre = QPointF(min(max(centre.x(), 0.0), w), min(max(centre.y(), 0.0), h))
        changed = zoom != self._zoom
        self._zoom = zoom
        self.setTransform(QTransform.fromScale(zoom, zoom))
        self.centerOn(self._centre)
        # centerOn rounds to whole scroll steps; put the exact centre back in the scroll bars'
        # place by reading what Qt did and keeping our float centre as the truth for mapping.
        self._sync_centre_to_qt()
        mode = (
            Qt.TransformationMode.FastTransformation
            if zoom > NEAREST_ABOVE_ZOOM
            else Qt.TransformationMode.SmoothTransformation
        )
        self._item.setTransformationMode(mode)
        self.viewport().update()
        if changed:
            self.zoom_changed.emit(zoom)
        self.view_changed.emit()

    def _sync_centre_to_qt(self) -> None:
        """Make our float centre agree with Qt's integer scroll position (within a pixel)."""
        inverse, _ = self.viewportTransform().inverted()
        self._centre = inverse.map(self._viewport_centre())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self._size is None:
            return
        self.view_changed.emit()
        if self._fitting:
            self.fit_to_window()
        else:
            self._set_view(self._zoom, self._centre)

    # -- mouse and keys -------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        notches = event.angleDelta().y() / 120.0
        if notches:
            self.zoom_by(ZOOM_STEP**notches, event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        button, pos = event.button(), event.position()
        if self._size is None:
            return super().mousePressEvent(event)
        if self._tool is not None and button == Qt.MouseButton.LeftButton:
            self._tool_down = True
            self._tool.press(self._image_point(pos), event.modifiers())
        elif button in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            self._drag_button, self._drag_start = button, pos
            self._drag_centre = QPointF(self._centre)
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        elif button == Qt.MouseButton.RightButton:
            self._drag_button, self._drag_start = button, pos
            self._drag_display = self._display
            self._right_moved = False
        else:
            return super().mousePressEvent(event)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        self._hover = pos
        if self._drag_button in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            # From where the drag began, so whole-pixel scrolling never accumulates an error.
            self._fitting = False
            self._set_view(self._zoom, self._drag_centre - (pos - self._drag_start) / self._zoom)
        elif self._drag_button == Qt.MouseButton.RightButton:
            delta = pos - self._drag_start
            self._right_moved |= max(abs(delta.x()), abs(delta.y())) > RIGHT_CLICK_SLOP
            self.set_display(self._drag_display.dragged(delta.x(), delta.y()))
        if self._tool is not None and self._size is not None:
            dragging = self._tool_down and bool(event.buttons() & Qt.MouseButton.LeftButton)
            self._tool.move(self._image_point(pos), dragging, event.modifiers())
        self._emit_readout()
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag_button is not None and event.button() == self._drag_button:
            self._drag_button = None
            self.viewport().setCursor(self._mode_cursor())
            if event.button() == Qt.MouseButton.RightButton and not self._right_moved:
                self.context_menu_requested.emit(
                    self._image_point(event.position()), event.globalPosition().toPoint()
                )
            event.accept()
            return
        if self._tool_down and event.button() == Qt.MouseButton.LeftButton:
            self._tool_down = False
            if self._tool is not None:
                self._tool.release(self._image_point(event.position()), event.modifiers())
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        # A right click opens the menu on release (a right drag sets brightness instead);
        # the keyboard's menu key opens it at the pointer, or the middle of the view.
        if event.reason() != QContextMenuEvent.Reason.Mouse and self._size is not None:
            pos = self._hover if self._hover is not None else self._viewport_centre()
            global_pos = self.viewport().mapToGlobal(pos.toPoint())
            self.context_menu_requested.emit(self._image_point(pos), global_pos)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if (
            self._tool is not None
            and self._size is not None
            and event.button() == Qt.MouseButton.LeftButton
        ):
            self._tool.double_click(self._image_point(event.position()), event.modifiers())
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton:
            self.fit_to_window()
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Leave:
            self._hover = None
            self.cursor_readout.emit("")
        return super().viewportEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if (
            self._tool is not None
            and event.key() in TOOL_KEYS
            and self._tool.key(Qt.Key(event.key()), event.modifiers())
        ):
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.escape_pressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    # -- tools ----------------------------------------------------------------------------
    @property
    def tool(self) -> ViewTool | None:
        return self._tool

    def set_tool(self, tool: ViewTool | None) -> None:
        """Give the left button and the tool keys to `tool` (None: left-drag pans again)."""
        if tool is self._tool:
            return
        if self._tool is not None:
            self._tool_down = False
            self._tool.deactivate()
        self._tool = tool
        self.viewport().setCursor(self._mode_cursor())

    def _image_point(self, viewport_pos: QPointF) -> Point:
        p = self.scene_point(viewport_pos)
        return Point(p.x(), p.y())

    # -- cursor read-out ------------------------------------------------------------------
    def readout_at(self, p: Point) -> str:
        """'x 312, y 140 px · 18.4 mm deep, 3.1 mm across · value 87', or '' off the image."""
        w, h = self.image_size
        col, row = p.pixel()
        if self._frame is None or not (0 <= col < w and 0 <= row < h):
            return ""
        value = self._frame[row, col]
        if np.ndim(value) == 0:
            value_text = f"value {int(value)}"
        else:
            value_text = "RGB " + ", ".join(str(int(v)) for v in value)
        mm = self._calibration.mm_at(p)
        if mm is not None:
            where = f"{mm[1]:.1f} mm deep, {mm[0]:.1f} mm across"
        elif self._calibration.is_calibrated:
            where = "outside calibrated regions"
        else:
            where = "not calibrated"
        return f"x {col}, y {row} px · {where} · {value_text}"

    def _emit_readout(self) -> None:
        if self._hover is None:
            return
        p = self.scene_point(self._hover)
        self.cursor_readout.emit(self.readout_at(Point(p.x(), p.y())))

    def _mode_cursor(self) -> Qt.CursorShape:
        if self._tool is not None:
            return self._tool.cursor
        return Qt.CursorShape.ArrowCursor

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802 (Qt override)
        super().scrollContentsBy(dx, dy)
        self.viewport().update()  # the corner texts stay where they are: draw all again

    # -- overlay, in screen pixels --------------------------------------------------------
    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        painter.save()
        painter.resetTransform()
        vp = QRectF(self.viewport().rect())
        if self._message:
            half = QFontMetricsF(overlay_font()).horizontalAdvance(self._message) / 2.0
            where = QPointF(vp.center().x() + half, vp.center().y() - 10)
            paint_outlined_text(painter, where, [self._message], DIM_TEXT_COLOUR, align_right=True)
        if self._frame is None:
            if self._size is not None:  # a frame that failed: still say which one
                self._paint_corner_text(painter, vp)
            painter.restore()
            return
        self._paint_corners(painter, vp)
        painter.restore()

    def _paint_corner_text(self, painter: QPainter, viewport: QRectF) -> None:
        # Bottom left: the scanner burns the patient banner into the top of the image, and the
        # scale bar has the bottom right.
        lines = self.overlay_lines()
        height = len(lines) * QFontMetricsF(overlay_font()).lineSpacing()
        paint_outlined_text(
            painter, QPointF(14, viewport.bottom() - 14 - height), lines, backdrop=True
        )

    def _in_view(self, box: tuple[float, float, float, float]) -> QRectF:
        top_left = self.viewport_point(QPointF(box[0], box[1]))
        bottom_right = self.viewport_point(QPointF(box[2], box[3]))
        return QRectF(top_left, bottom_right)

    def _paint_corners(self, painter: QPainter, viewport: QRectF) -> None:
        """The frame, zoom and window readout, and the scale bar (or "not calibrated"), each in
        the first corner that hides none of the scanner's text and none of the labels: the
        readout bottom left, else top left..., the bar bottom right, else bottom left..."""
        taken = [self._in_view(b) for b in (*self.burned_in, *self._label_boxes)]
        lines = self.overlay_lines()
        text_rect = free_corner(
            viewport,
            text_block_size(lines),
            (Corner.BOTTOM_LEFT, Corner.TOP_LEFT, Corner.BOTTOM_RIGHT, Corner.TOP_RIGHT),
            taken,
        )
        bar, size = scale_block(self._calibration, self.image_size, self._zoom, viewport)
        bar_rect = free_corner(
            viewport,
            size,
            (Corner.BOTTOM_RIGHT, Corner.TOP_RIGHT, Corner.BOTTOM_LEFT, Corner.TOP_LEFT),
            [*taken, text_rect],
        )
        self.corner_rects = {"readout": text_rect, "scale": bar_rect}
        paint_outlined_text(
            painter, QPointF(text_rect.left() + 6, text_rect.top() + 4), lines, backdrop=True
        )
        paint_scale_block(painter, bar_rect, bar)

    def overlay_lines(self) -> list[str]:
        """Bottom-left corner text: frame n/N, zoom, and window/level once changed."""
        lines = []
        if self._frame_count > 1:
            lines.append(f"frame {self._frame_index + 1} / {self._frame_count}")
        lines.append(f"zoom {self._zoom * 100:.0f} %")
        if not self._display.is_identity:
            lines.append(f"W {self._display.width:.0f}  L {self._display.level:.0f}")
        return lines
