"""The image view: frames shown pixel for pixel, zoom, pan, window/level, read-out, calibration."""

from __future__ import annotations

import gc
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from prolo_planner.core.calibration import CalibrationSource
from prolo_planner.core.display import DisplaySettings, apply_display
from prolo_planner.core.geometry import Point
from prolo_planner.imaging.open import open_image
from prolo_planner.render.qimage import frame_to_qimage, qimage_to_frame
from prolo_planner.ui.image_view import ImageView
from prolo_planner.ui.scale_bar import choose_scale_bar
from tests.conftest import pydicom_file


# -- numpy -> QImage ---------------------------------------------------------------------------
def _qimage_pixels(image: QImage) -> np.ndarray:
    """Read a QImage back pixel by pixel through Qt's own accessor (independent of numpy)."""
    out = np.zeros((image.height(), image.width(), 3), np.uint8)
    for y in range(image.height()):
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            out[y, x] = (c.red(), c.green(), c.blue())
    return out


@pytest.mark.parametrize("shape", [(7, 13), (5, 11, 3), (4, 1), (3, 2, 3)])
def test_frame_to_qimage_has_the_array_pixels(qapp, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(sum(shape))
    frame = rng.integers(0, 256, shape, dtype=np.uint8)
    image = frame_to_qimage(frame)
    assert (image.width(), image.height()) == (shape[1], shape[0])
    expected = frame if frame.ndim == 3 else np.repeat(frame[:, :, None], 3, axis=2)
    np.testing.assert_array_equal(_qimage_pixels(image), expected)


def test_frame_to_qimage_honours_strides_and_views(qapp) -> None:
    rng = np.random.default_rng(1)
    big = rng.integers(0, 256, (20, 31, 3), dtype=np.uint8)
    for view in (big[3:15, 5:22], big[::-1], big[:, ::2], big[2:9, 1:30, 1]):
        np.testing.assert_array_equal(
            _qimage_pixels(frame_to_qimage(view))[..., 0]
            if view.ndim == 2
            else _qimage_pixels(frame_to_qimage(view)),
            view,
        )


def test_frame_to_qimage_keeps_the_buffer_alive(qapp) -> None:
    frame = np.random.default_rng(2).integers(0, 256, (33, 47, 3), dtype=np.uint8)
    reference = frame.copy()
    image = frame_to_qimage(frame)
    del frame
    gc.collect()
    # Churn the allocator so freed memory would be reused and overwritten.
    junk = [np.full((33, 47, 3), 255, np.uint8) for _ in range(50)]
    np.testing.assert_array_equal(qimage_to_frame(image), reference)
    assert junk


def test_frame_to_qimage_rejects_what_is_not_a_frame(qapp) -> None:
    with pytest.raises(TypeError):
        frame_to_qimage(np.zeros((4, 4), np.uint16))
    with pytest.raises(ValueError):
        frame_to_qimage(np.zeros((4, 4, 4), np.uint8))


# -- the view ----------------------------------------------------------------------------------
@pytest.fixture
def view(qtbot) -> ImageView:
    v = ImageView()
    qtbot.addWidget(v)
    v.resize(640, 480)
    v.show()
    qtbot.waitExposed(v)
    return v


def _viewport_image(view: ImageView) -> np.ndarray:
    return qimage_to_frame(view.viewport().grab().toImage())


def test_view_shows_a_real_dicom_frame_pixel_for_pixel(view: ImageView) -> None:
    source = open_image(pydicom_file("examples_rgb_color.dcm"))
    frame = source.frame(0)
    view.set_frame(frame)
    view.zoom_1to1()
    shown = _viewport_image(view)
    # Where image pixel (0, 0) lands on the screen at 1:1, the whole image follows unchanged.
    x0, y0 = (round(c) for c in _xy(view.viewport_point(QPointF(0, 0))))
    h, w = frame.shape[:2]
    vis_h, vis_w = min(h, shown.shape[0] - y0), min(w, shown.shape[1] - x0)
    np.testing.assert_array_equal(
        shown[max(y0, 0) : y0 + vis_h, max(x0, 0) : x0 + vis_w],
        frame[max(-y0, 0) : vis_h, max(-x0, 0) : vis_w],
    )
    source.close()


def _xy(p: QPointF) -> tuple[float, float]:
    return p.x(), p.y()


# -- test images ------------------------------------------------------------------------------
US_ROWS, US_COLS = 120, 160
#: The 2D region of the generated file: x 20-139, y 10-109, 0.01 cm (0.1 mm) per pixel.
US_REGION = (20, 10, 139, 109)
US_MM_PER_PX = 0.1


def write_us_dicom(path: Path, frames: int = 1) -> Path:
    """A small MONOCHROME2 ultrasound file with a Sequence of Ultrasound Regions."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (frames, US_ROWS, US_COLS), dtype=np.uint8)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.PatientName = "Test^Phantom"
    ds.Rows, ds.Columns = US_ROWS, US_COLS
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if frames > 1:
        ds.SOPClassUID = meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"
        ds.NumberOfFrames = frames
        ds.FrameTime = 40.0
    region = Dataset()
    region.RegionSpatialFormat = 1
    region.RegionDataType = 1
    region.RegionFlags = 0
    (
        region.RegionLocationMinX0,
        region.RegionLocationMinY0,
        region.RegionLocationMaxX1,
        region.RegionLocationMaxY1,
    ) = US_REGION
    region.PhysicalUnitsXDirection = region.PhysicalUnitsYDirection = 3
    region.PhysicalDeltaX = region.PhysicalDeltaY = US_MM_PER_PX / 10.0
    ds.SequenceOfUltrasoundRegions = [region]
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def write_png(path: Path) -> Path:
    rng = np.random.default_rng(11)
    rgb = rng.integers(0, 256, (90, 130, 3), dtype=np.uint8)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def _send_mouse(
    view: ImageView,
    kind,
    pos: QPointF,
    button=Qt.MouseButton.NoButton,
    buttons=Qt.MouseButton.NoButton,
) -> None:
    """Deliver one mouse event to the viewport, as a real pointer would."""

    vp = view.viewport()
    event = QMouseEvent(
        kind, pos, vp.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(vp, event)


def _move(view: ImageView, pos: QPointF, buttons=Qt.MouseButton.NoButton) -> None:

    _send_mouse(view, QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, buttons)


def _drag(view: ImageView, button: Qt.MouseButton, start: QPointF, end: QPointF) -> None:

    _send_mouse(view, QEvent.Type.MouseButtonPress, start, button, button)
    for k in range(1, 5):
        _move(view, start + (end - start) * (k / 4), button)
    _send_mouse(view, QEvent.Type.MouseButtonRelease, end, button, Qt.MouseButton.NoButton)


# -- zoom and pan -----------------------------------------------------------------------------
def test_fit_centres_the_whole_image_and_follows_resizes(view: ImageView, qtbot) -> None:
    source = open_image(pydicom_file("examples_ybr_color.dcm"))
    frame = source.frame(0)
    h, w = frame.shape[:2]
    view.set_frame(frame)
    vw, vh = view.viewport().width(), view.viewport().height()
    assert view.zoom == pytest.approx(min(vw / w, vh / h))
    top_left, bottom_right = view.viewport_point(QPointF(0, 0)), view.viewport_point(QPointF(w, h))
    # Centred: equal margins on both sides (within Qt's whole-pixel scrolling).
    assert top_left.x() == pytest.approx(vw - bottom_right.x(), abs=1.0)
    assert top_left.y() == pytest.approx(vh - bottom_right.y(), abs=1.0)
    view.resize(900, 300)
    qtbot.waitUntil(lambda: view.viewport().height() == 300)
    assert view.is_fitting and view.zoom == pytest.approx(min(900 / w, 300 / h))
    view.zoom_in()
    zoomed = view.zoom
    view.resize(500, 500)
    qtbot.waitUntil(lambda: view.viewport().height() == 500)
    assert not view.is_fitting and view.zoom == zoomed
    view.zoom_1to1()
    assert view.zoom == 1.0 and view.transform().m11() == 1.0
    source.close()


def test_wheel_zooms_keeping_the_image_point_under_the_cursor(view: ImageView) -> None:

    view.set_frame(np.zeros((240, 320), np.uint8))
    for pos, notches in ((QPointF(100, 80), 3), (QPointF(500, 400), 2), (QPointF(300, 200), -2)):
        before = view.scene_point(pos)
        qt_before = view.mapToScene(pos.toPoint())
        event = QWheelEvent(
            pos,
            view.viewport().mapToGlobal(pos),
            QPoint(),
            QPoint(0, 120 * notches),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        zoom = view.zoom
        QApplication.sendEvent(view.viewport(), event)
        assert view.zoom == pytest.approx(zoom * 1.25**notches)
        # The same image point is under the cursor, to within a screen pixel, in Qt's mapping too.
        after = view.scene_point(pos)
        assert abs(after.x() - before.x()) * view.zoom < 1.0
        assert abs(after.y() - before.y()) * view.zoom < 1.0
        qt_after = view.mapToScene(pos.toPoint())
        assert abs(qt_after.x() - qt_before.x()) * view.zoom < 1.5
    assert not view.is_fitting


def test_zoom_is_bounded(view: ImageView) -> None:
    view.set_frame(np.zeros((50, 60), np.uint8))
    for _ in range(60):
        view.zoom_in()
    assert view.zoom == pytest.approx(40.0)
    for _ in range(80):
        view.zoom_out()
    assert view.zoom == pytest.approx(0.02)


def test_left_and_middle_drag_pan_the_image(view: ImageView) -> None:
    view.set_frame(np.zeros((400, 500), np.uint8))
    view.zoom_1to1()
    for button in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
        image_point = view.scene_point(QPointF(300, 200))
        _drag(view, button, QPointF(300, 200), QPointF(260, 230))
        # The image moved with the pointer: the point grabbed is now under the release point.
        moved_to = view.viewport_point(image_point)
        assert moved_to.x() == pytest.approx(260, abs=1.0)
        assert moved_to.y() == pytest.approx(230, abs=1.0)


def test_pixels_are_squares_when_zoomed_past_2x(view: ImageView) -> None:
    frame = np.random.default_rng(3).integers(0, 256, (40, 50), dtype=np.uint8)
    view.set_frame(frame)
    view.zoom_1to1()
    view.zoom_by(4.0)  # 4 screen pixels per image pixel, about the image centre
    shown = _viewport_image(view)[..., 0]
    origin = view.viewport_point(QPointF(0, 0))
    ox, oy = round(origin.x()), round(origin.y())
    # Each image pixel covers a 4x4 block of one grey, no blending between neighbours.
    for r, c in ((20, 25), (21, 26), (19, 24)):
        block = shown[oy + 4 * r + 1 : oy + 4 * r + 3, ox + 4 * c + 1 : ox + 4 * c + 3]
        assert (block == frame[r, c]).all()


# -- brightness and contrast ------------------------------------------------------------------
def test_right_drag_changes_window_and_level_as_the_exports_do(view: ImageView, qtbot) -> None:
    source = open_image(pydicom_file("examples_ybr_color.dcm"))
    frame = source.frame(0)
    view.set_frame(frame)
    view.zoom_1to1()
    seen: list[DisplaySettings] = []
    view.display_changed.connect(seen.append)
    _drag(view, Qt.MouseButton.RightButton, QPointF(300, 200), QPointF(260, 170))
    # Left 40 px: narrower window (more contrast); up 30 px: lower level (brighter).
    expected = DisplaySettings().dragged(-40.0, -30.0)
    assert view.display == expected == seen[-1]
    assert len(seen) == 4  # live, at every move of the drag
    # 255 x exp(-40 x 0.0025) = 230.7; 127.5 - 30 x 0.001 x 255 = 119.85
    assert (round(expected.level, 2), round(expected.width, 1)) == (119.85, 230.7)
    displayed = apply_display(frame, expected)
    assert not np.array_equal(displayed, frame)
    np.testing.assert_array_equal(view.displayed_frame(), displayed)
    # What reaches the screen is that mapping, pixel for pixel.
    shown = _viewport_image(view)
    origin = view.viewport_point(QPointF(0, 0))
    ox, oy = round(origin.x()), round(origin.y())
    h, w = frame.shape[:2]
    np.testing.assert_array_equal(
        shown[oy + 40 : oy + h - 40, ox + 40 : ox + w - 40], displayed[40:-40, 40:-40]
    )
    assert "W 231  L 120" in view.overlay_lines()[-1]
    with qtbot.waitSignal(view.display_changed):
        view.reset_view()
    assert view.display.is_identity and view.is_fitting
    np.testing.assert_array_equal(view.displayed_frame(), frame)
    source.close()


# -- cursor read-out --------------------------------------------------------------------------
def test_cursor_readout_gives_millimetres_in_a_calibrated_file(
    view: ImageView, qtbot, tmp_path: Path
) -> None:
    source = open_image(write_us_dicom(tmp_path / "us.dcm"))
    assert source.calibration.source is CalibrationSource.ULTRASOUND_REGIONS
    frame = source.frame(0)
    view.set_frame(frame)
    view.set_calibration(source.calibration)
    x0, y0 = US_REGION[:2]
    pos = view.viewport_point(QPointF(70.5, 60.5))
    with qtbot.waitSignal(view.cursor_readout) as readout:
        _move(view, pos)
    p = view.scene_point(pos)
    col, row = int(p.x()), int(p.y())
    deep, across = (p.y() - y0) * US_MM_PER_PX, (p.x() - x0) * US_MM_PER_PX
    assert readout.args[0] == (
        f"x {col}, y {row} px · {deep:.1f} mm deep, {across:.1f} mm across · "
        f"value {frame[row, col]}"
    )
    assert abs(deep - 5.05) < 0.2 and abs(across - 5.05) < 0.2
    # Inside the image but above the region (the banner): no millimetres there.
    assert "outside calibrated regions" in view.readout_at(Point(70.5, 3.5))
    with qtbot.waitSignal(view.cursor_readout) as left:
        QApplication.sendEvent(view.viewport(), QEvent(QEvent.Type.Leave))
    assert left.args[0] == ""
    source.close()


def test_cursor_readout_of_an_uncalibrated_png_says_so(
    view: ImageView, tmp_path: Path, qtbot
) -> None:
    source = open_image(write_png(tmp_path / "grab.png"))
    frame = source.frame(0)
    view.set_frame(frame)
    view.set_calibration(source.calibration)
    pos = view.viewport_point(QPointF(33.2, 44.7))
    with qtbot.waitSignal(view.cursor_readout) as readout:
        _move(view, pos)
    p = view.scene_point(pos)
    col, row = int(p.x()), int(p.y())
    r, g, b = frame[row, col]
    assert readout.args[0] == f"x {col}, y {row} px · not calibrated · RGB {r}, {g}, {b}"
    # Over the dark background around the image there is nothing to read.
    with qtbot.waitSignal(view.cursor_readout) as outside:
        _move(view, view.viewport_point(QPointF(-5, -5)))
    assert outside.args[0] == ""
    source.close()


# -- manual calibration and the scale bar ------------------------------------------------------
@pytest.mark.parametrize(
    ("mm_per_px", "zoom", "length_mm"),
    [(0.1, 1.0, 10.0), (0.1, 4.0, 2.0), (0.1, 0.25, 50.0), (0.5105, 1.6, 50.0), (0.1, 40.0, 1.0)],
)
def test_scale_bar_takes_a_nice_length_that_fits(
    mm_per_px: float, zoom: float, length_mm: float
) -> None:
    bar = choose_scale_bar(mm_per_px, zoom, max_px=160.0)
    assert bar.length_mm == length_mm
    assert bar.length_px == pytest.approx(length_mm * zoom / mm_per_px)
    assert bar.label == f"{length_mm:g} mm"


def test_scale_bar_is_drawn_in_screen_pixels(view: ImageView, tmp_path: Path) -> None:
    source = open_image(write_us_dicom(tmp_path / "us.dcm"))
    view.set_frame(np.zeros((US_ROWS, US_COLS), np.uint8))  # black, so only the overlay shows
    view.zoom_1to1()
    bare = _viewport_image(view)
    view.set_calibration(source.calibration)
    drawn = _viewport_image(view)
    vw, vh = view.viewport().width(), view.viewport().height()
    # 0.1 mm/px at 1:1: a 10 mm bar, 100 screen pixels long, ending 14 px from the corner.
    row = drawn[vh - 14, vw - 140 : vw - 5].max(axis=1)
    lit = np.flatnonzero(row > 200)
    assert lit.size and (lit[-1] - lit[0]) == pytest.approx(100, abs=3)
    assert not np.array_equal(bare[vh - 40 :, vw - 160 :], drawn[vh - 40 :, vw - 160 :])
    source.close()
