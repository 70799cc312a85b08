"""Frames (uint8 numpy arrays) as QImage and QPixmap, without copying where it is safe."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap

# Measured on an 800x600 frame (offscreen, 2 cores): wrapping the array costs ~3 us, a
# QImage.copy() ~50 us for RGB; QPixmap.fromImage converts to the screen format anyway
# (~65 us), so the pixmap path wraps without copying and lets that conversion be the one copy.


def frame_to_qimage(frame: np.ndarray) -> QImage:
    """Wrap an HxW (grey) or HxWx3 (RGB) uint8 frame as a QImage sharing its memory.

    Row strides are honoured through bytesPerLine; a frame whose pixels are not packed within a
    row (a column slice, a flipped view) is made contiguous first. PySide keeps a reference to
    the buffer for as long as the returned QImage object lives, and the array is also pinned on
    it, so the pixels stay valid; convert (QPixmap.fromImage, QImage.copy) before handing the
    image to code that outlives it.
    """
    if frame.dtype != np.uint8:
        raise TypeError(f"frames are uint8, got {frame.dtype}")
    if frame.ndim == 2:
        fmt, channels = QImage.Format.Format_Grayscale8, 1
    elif frame.ndim == 3 and frame.shape[2] == 3:
        fmt, channels = QImage.Format.Format_RGB888, 3
    else:
        raise ValueError(f"a frame is HxW or HxWx3, got shape {frame.shape}")
    if not _rows_packed(frame, channels):
        frame = np.ascontiguousarray(frame)
    height, width = frame.shape[:2]
    image = QImage(_row_span(frame, channels), width, height, frame.strides[0], fmt)
    # Belt and braces: the wrapper already references the memoryview; pin the array too so the
    # pixels survive even if a future PySide stops doing so.
    image._prolo_frame = frame  # type: ignore[attr-defined]
    return image


def frame_to_pixmap(frame: np.ndarray) -> QPixmap:
    """The frame as a QPixmap: one conversion into the screen's pixel format, nothing shared."""
    return QPixmap.fromImage(frame_to_qimage(frame))


def qimage_to_frame(image: QImage) -> np.ndarray:
    """An RGB uint8 HxWx3 copy of any QImage (for tests and for reading back what was shown)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    height, width, bpl = rgb.height(), rgb.width(), rgb.bytesPerLine()
    buffer = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=bpl * height)
    return buffer.reshape(height, bpl)[:, : width * 3].reshape(height, width, 3).copy()


def _row_span(frame: np.ndarray, channels: int) -> np.ndarray:
    """The bytes from the first pixel to the last as one flat array, gaps between rows included.

    A cropped frame is not C-contiguous, and a buffer handed to QImage must be; this view over
    the same memory is, without copying.
    """
    if frame.flags.c_contiguous:
        return frame.reshape(-1)
    height, width = frame.shape[:2]
    nbytes = (height - 1) * frame.strides[0] + width * channels
    return np.lib.stride_tricks.as_strided(frame, shape=(nbytes,), strides=(1,), writeable=False)


def _rows_packed(frame: np.ndarray, channels: int) -> bool:
    """True when pixels lie next to each other within a row and rows run forward in memory."""
    if frame.strides[0] <= 0 or frame.strides[1] != channels:
        return False
    return channels == 1 or frame.strides[2] == 1
