"""The viewer pane: images from their first frame, playback through the cache, keys, calibration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.geometry import Point
from prolo_planner.imaging.open import open_image
from prolo_planner.imaging.source import ImageSource
from prolo_planner.ui.viewer_pane import VIEWER_KEYS, ViewerPane
from tests.conftest import pydicom_file
from tests.ui.test_image_view import (
    US_MM_PER_PX,
    US_REGION,
    _move,
    write_png,
    write_us_dicom,
)


@pytest.fixture
def pane(qtbot) -> Iterator[ViewerPane]:
    p = ViewerPane()
    qtbot.addWidget(p)
    p.resize(800, 600)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.set_source(None)


@pytest.fixture
def cine() -> Iterator[ImageSource]:
    source = open_image(pydicom_file("examples_ybr_color.dcm"))
    yield source
    source.close()


@pytest.fixture
def png(tmp_path: Path) -> Iterator[ImageSource]:
    source = open_image(write_png(tmp_path / "grab.png"))
    yield source
    source.close()


def test_a_cine_opens_on_its_first_frame_fitted(pane: ViewerPane, cine: ImageSource, qtbot) -> None:
    with qtbot.waitSignal(pane.frame_changed) as changed:
        pane.set_source(cine)
    assert changed.args == [0]
    assert pane.source is cine and pane.calibration == cine.calibration
    np.testing.assert_array_equal(pane.view.frame, cine.frame(0))
    assert pane.view.is_fitting
    assert pane.bar.isVisible() and pane.bar.label.text() == "frame 1 / 30 · 0.00 s / 1.00 s"
    assert pane.view.overlay_lines()[0] == "frame 1 / 30"


def test_playing_shows_the_decoded_frames(pane: ViewerPane, cine: ImageSource, qtbot) -> None:
    pane.set_source(cine)
    shown: list[int] = []
    pane.frame_changed.connect(shown.append)
    pane.toggle_play()
    qtbot.waitUntil(lambda: len(shown) >= 8, timeout=5000)
    pane.toggle_play()
    assert not pane.cine.is_playing
    i = pane.cine.index
    assert shown[-1] == i and pane.bar.slider.value() == i
    np.testing.assert_array_equal(pane.view.frame, cine.frame(i))
    pane.step(1)
    np.testing.assert_array_equal(pane.view.frame, cine.frame((i + 1) % 30))
    pane.last_frame()
    np.testing.assert_array_equal(pane.view.frame, cine.frame(29))
    pane.first_frame()
    np.testing.assert_array_equal(pane.view.frame, cine.frame(0))


def test_switching_images_stops_playback_and_keeps_sources_open(
    pane: ViewerPane, cine: ImageSource, png: ImageSource
) -> None:
    pane.set_source(cine)
    pane.toggle_play()
    first_cache = pane.frame_cache
    pane.set_source(png)
    assert not pane.cine.is_playing
    assert pane.frame_cache is not first_cache
    assert first_cache is not None and first_cache.cached_indices() == []  # closed, emptied
    assert not pane.bar.isVisible()
    np.testing.assert_array_equal(pane.view.frame, png.frame(0))
    assert pane.view.overlay_lines()[0].startswith("zoom")  # no frame counter for a still
    # The cine itself was not closed: the window still owns it and can show it again.
    np.testing.assert_array_equal(cine.frame(5), open_image(cine.info.path).frame(5))
    pane.set_source(cine)
    np.testing.assert_array_equal(pane.view.frame, cine.frame(0))


def test_no_source_empties_the_viewer(pane: ViewerPane, cine: ImageSource, qtbot) -> None:
    pane.set_source(cine)
    pane.view.set_calibration(cine.calibration)
    pane.set_source(None)
    assert pane.source is None and pane.frame_cache is None
    assert pane.view.frame is None and pane.view.displayed_frame() is None
    assert not pane.calibration.is_calibrated
    assert not pane.bar.isVisible() and pane.cine.frame_count == 0
    pane.toggle_play()
    pane.step(1)
    pane.zoom_in()
    assert pane.view.frame is None


def test_keys_drive_the_viewer(pane: ViewerPane, cine: ImageSource, qtbot) -> None:
    pane.set_source(cine)
    pane.activateWindow()
    pane.view.setFocus()
    qtbot.waitUntil(lambda: pane.view.hasFocus())

    def key(k: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        qtbot.keyClick(pane.view, k, modifier)

    key(Qt.Key.Key_Right)
    assert pane.cine.index == 1
    key(Qt.Key.Key_Left)
    assert pane.cine.index == 0
    key(Qt.Key.Key_End)
    assert pane.cine.index == 29
    key(Qt.Key.Key_Home)
    assert pane.cine.index == 0
    key(Qt.Key.Key_Space)
    assert pane.cine.is_playing
    key(Qt.Key.Key_Space)
    assert not pane.cine.is_playing
    fit = pane.view.zoom
    key(Qt.Key.Key_Plus)
    assert pane.view.zoom == pytest.approx(fit * 1.25)
    key(Qt.Key.Key_Minus)
    assert pane.view.zoom == pytest.approx(fit)
    key(Qt.Key.Key_1)
    assert pane.view.zoom == 1.0
    key(Qt.Key.Key_F)
    assert pane.view.zoom == pytest.approx(fit) and pane.view.is_fitting
    pane.view.set_display(pane.view.display.adjusted(20, 30))
    key(Qt.Key.Key_R, Qt.KeyboardModifier.ShiftModifier)
    assert pane.view.display.is_identity
    # Every key the Help lists is one of the pane's actions, so menus can show the same keys.
    listed = {k for vk in VIEWER_KEYS for k in vk.keys}
    bound = {s.toString() for a in pane.actions() for s in a.shortcuts()}
    assert listed == bound


def test_readout_in_mm_and_the_calibration_in_force_from_the_window(
    pane: ViewerPane, qtbot, tmp_path: Path, png: ImageSource
) -> None:
    us = open_image(write_us_dicom(tmp_path / "us.dcm"))
    pane.set_source(us)
    view = pane.view
    pos = view.viewport_point(QPointF(120.5, 90.5))
    with qtbot.waitSignal(pane.cursor_readout) as readout:
        _move(view, pos)
    p = view.scene_point(pos)
    deep = (p.y() - US_REGION[1]) * US_MM_PER_PX
    assert f"{deep:.1f} mm deep" in readout.args[0]

    pane.set_source(png)
    assert not pane.calibration.is_calibrated
    with qtbot.waitSignal(pane.cursor_readout) as readout:
        _move(view, view.viewport_point(QPointF(50.5, 40.5)))
    assert "not calibrated" in readout.args[0]
    # The window hands the calibration in force to the pane (a manual one from the plan).
    manual = Calibration.manual(Point(40, 10), Point(40, 70), 15.0, 240, 320)
    pane.set_calibration(manual)
    assert pane.calibration is manual and pane.view.calibration is manual
    with qtbot.waitSignal(pane.cursor_readout) as readout:
        _move(view, view.viewport_point(QPointF(50.5, 40.5)))
    assert "mm deep" in readout.args[0]
    # The window hands the manual calibration back when the image is shown again.
    pane.set_source(us)
    pane.set_source(png, manual)
    assert pane.calibration is manual and pane.view.calibration is manual
    pane.set_source(png)
    assert not pane.calibration.is_calibrated
    us.close()


def test_display_changes_reach_the_window_and_reset_on_a_new_image(
    pane: ViewerPane, cine: ImageSource, png: ImageSource, qtbot
) -> None:
    pane.set_source(cine)
    seen = []
    pane.display_changed.connect(seen.append)
    pane.view.set_display(pane.view.display.adjusted(-10, -50))
    assert seen[-1].width == 205.0
    pane.set_source(png)
    assert seen[-1].is_identity and pane.view.display.is_identity
    pane.view.set_display(pane.view.display.adjusted(5, 5))
    pane.reset_view()
    assert pane.view.display.is_identity and pane.view.is_fitting


def test_a_frame_that_cannot_be_decoded_is_reported_not_raised(
    pane: ViewerPane, qtbot, tmp_path: Path
) -> None:
    whole = pydicom_file("examples_ybr_color.dcm").read_bytes()
    cut = tmp_path / "truncated.dcm"
    cut.write_bytes(whole[: int(len(whole) * 0.7)])  # the last frames are missing
    source = open_image(cut)
    pane.set_source(source)
    np.testing.assert_array_equal(pane.view.frame, source.frame(0))
    zoom = pane.view.zoom
    problems: list[str] = []
    pane.frame_problem.connect(problems.append)
    with qtbot.waitSignal(pane.frame_changed) as changed:
        pane.last_frame()
    assert changed.args == [29] and pane.bar.slider.value() == 29
    assert problems and problems[0].startswith("frame 30 cannot be shown: truncated")
    # No stale pixels under a frame number that is not theirs; the zoom stays for the next one.
    assert pane.view.frame is None and pane.view.zoom == zoom
    assert pane.view.overlay_lines()[0] == "frame 30 / 30"
    pane.first_frame()
    np.testing.assert_array_equal(pane.view.frame, source.frame(0))
    assert pane.view.zoom == zoom
    # Playing into the missing frames stops there instead of raising at every tick.
    pane.cine.set_speed(4.0)
    pane.toggle_play()
    qtbot.waitUntil(lambda: not pane.cine.is_playing, timeout=3000)
    assert pane.view.frame is None and len(problems) >= 2
    source.close()
