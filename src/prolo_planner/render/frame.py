"""Burning the overlay into a frame's pixels for the exports, with the screen's own painter."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter, QTransform

from prolo_planner.core.overlay_primitives import Primitive
from prolo_planner.render.painter import paint_overlay
from prolo_planner.render.qimage import frame_to_qimage, qimage_to_frame

#: A frame this size gets labels the size they have on screen at 1:1; larger frames get
#: proportionally larger ones, so labels keep their size relative to the image in a report.
REFERENCE_SIZE = (640, 480)

_app: QGuiApplication | None = None


def ensure_gui_app() -> QGuiApplication:
    """Fonts need a QGuiApplication: reuse the running one, or start one (offscreen on the
    command line, where there may be no display)."""
    global _app
    running = QGuiApplication.instance()
    if running is not None:
        return running  # type: ignore[return-value]
    if not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    # A process that has loaded widgets (the GUI, a test run) will want them later, and only
    # a QApplication allows them; the renderer itself never imports QtWidgets.
    widgets = sys.modules.get("PySide6.QtWidgets")
    _app = widgets.QApplication([]) if widgets is not None else QGuiApplication([])
    return _app


def label_scale_for(width: int, height: int) -> float:
    """How much larger than on screen labels and lines are drawn on a frame of this size."""
    return max(1.0, min(width / REFERENCE_SIZE[0], height / REFERENCE_SIZE[1]))


def _as_qimage(frame: np.ndarray) -> QImage:
    # The painting canvas owns its pixels: a deep copy in a paintable format.
    return frame_to_qimage(frame).convertToFormat(QImage.Format.Format_RGB32)


def render_annotated_frame(
    frame: np.ndarray,
    primitives: Iterable[Primitive],
    scale: float = 1.0,
    text_scale: float | None = None,
) -> np.ndarray:
    """The frame (HxW grey or HxWx3 RGB, uint8) with the overlay painted on it, as RGB uint8.

    `scale` enlarges the output (2.0: twice the pixels each way, for a crisp print); labels and
    lines are drawn `text_scale` times their screen size, by default label_scale_for the frame,
    so a 640x480 frame at scale 1 looks as the screen does at 1:1.
    """
    ensure_gui_app()
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    canvas = _as_qimage(frame)
    height, width = frame.shape[:2]
    if scale != 1.0:
        canvas = canvas.scaled(
            round(width * scale),
            round(height * scale),
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    size_factor = label_scale_for(width, height) if text_scale is None else text_scale
    painter = QPainter(canvas)
    try:
        paint_overlay(
            painter,
            primitives,
            image_to_device=QTransform.fromScale(scale, scale),
            device_pixel_scale=scale * size_factor,
            keep_labels_inside=QRectF(canvas.rect()),
        )
    finally:
        painter.end()
    return qimage_to_frame(canvas)
