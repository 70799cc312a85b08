"""The main window a clinician meets: opening, thumbnails, details, messages, menus, persistence."""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSize, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QPushButton

from prolo_planner.core.calibration import CalibrationSource
from prolo_planner.ui.import_worker import progress_text
from prolo_planner.ui.main_window import MainWindow
from prolo_planner.ui.metadata_panel import format_person_name
from prolo_planner.ui.settings import AppSettings, settings_file
from prolo_planner.ui.thumbnails import THUMB_SIZE
from tests.conftest import pydicom_file

YBR_CINE = pydicom_file("examples_ybr_color.dcm")  # US, 30 frames, YBR_FULL_422 JPEG
MR = pydicom_file("MR_small.dcm")  # MR, PixelSpacing 0.3125 mm


def _rgb_test_picture() -> np.ndarray:
    """A frame grab with regions a thumbnail keeps recognisable: red left, blue right."""
    rgb = np.zeros((120, 160, 3), np.uint8)
    rgb[:, :80] = (200, 30, 30)
    rgb[:, 80:] = (30, 30, 200)
    rgb[50:70, 70:90] = (250, 250, 250)
    return rgb


@pytest.fixture
def grab_png(tmp_path: Path) -> Path:
    path = tmp_path / "frame grab.png"
    assert cv2.imwrite(str(path), _rgb_test_picture()[..., ::-1])  # cv2 writes BGR
    return path


@pytest.fixture
def window(qtbot) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitActive(w)  # the viewer's keys need the keyboard focus
    return w


def _wait_loaded(qtbot, window: MainWindow, n: int) -> None:
    qtbot.waitUntil(lambda: window.thumbnails.count() == n, timeout=10_000)


def test_open_files_shows_thumbnails_and_details(qtbot, window, grab_png):
    window.door.open_paths([YBR_CINE, MR, grab_png])
    _wait_loaded(qtbot, window, 3)

    texts = [window.thumbnails.item(i).text() for i in range(3)]
    assert texts == [
        "examples_ybr_color.dcm\ncine 30 fr",
        "MR_small.dcm\nstill",
        "frame grab.png\nstill",
    ]
    # The first one opened is shown, with its patient and its calibration's provenance.
    assert window.pane.source.info.path == YBR_CINE
    details = window.metadata.plain_text()
    assert "Name: " + format_person_name(str(pydicom.dcmread(YBR_CINE).PatientName)) in details
    assert "Name: PLA" in details
    assert "Frames: 30" in details
    assert "33.3 ms (30.0 fps)" in details
    assert "In use: " + CalibrationSource.ULTRASOUND_REGIONS.value in details

    window.thumbnails.setCurrentRow(1)
    details = window.metadata.plain_text()
    assert "Name: CompressedSamples, MR1" in details
    # MR_small carries PixelSpacing 0.3125\0.3125 over 64 x 64 pixels.
    line = next(x for x in details.splitlines() if "In use: " in x)
    assert line.strip().startswith("In use: DICOM Pixel Spacing: ")
    assert "0.3125 mm/px" in line and "x 0-63, y 0-63" in line

    window.thumbnails.setCurrentRow(2)
    assert "In use: Not calibrated" in window.metadata.plain_text()


def test_thumbnail_shows_the_first_frame(qtbot, window, grab_png):
    window.door.open_paths([grab_png])
    _wait_loaded(qtbot, window, 1)
    window.thumbnails.request_all()
    qtbot.waitUntil(lambda: window.thumbnails.has_thumbnail(0), timeout=5000)
    tile = window.thumbnails.item(0).icon().pixmap(THUMB_SIZE).toImage()
    assert tile.size() == THUMB_SIZE
    # 160x120 scaled into 168x126 keeps 4:3: 168 x 126, so the picture fills the tile.
    red, blue, white = tile.pixelColor(20, 63), tile.pixelColor(148, 63), tile.pixelColor(84, 63)
    assert (red.red(), red.green(), red.blue()) == pytest.approx((200, 30, 30), abs=6)
    assert (blue.red(), blue.green(), blue.blue()) == pytest.approx((30, 30, 200), abs=6)
    assert min(white.red(), white.green(), white.blue()) > 230


def test_selecting_a_thumbnail_switches_the_viewer(qtbot, window, grab_png):
    window.door.open_paths([MR, grab_png])
    _wait_loaded(qtbot, window, 2)
    assert window.pane.source.info.path == MR

    window.thumbnails.setCurrentRow(1)
    assert window.pane.source.info.path == grab_png
    assert window.current == 1
    # The viewer shows the grab's own pixels, RGB as written.
    np.testing.assert_array_equal(window.pane.view.frame, _rgb_test_picture())
    assert window.windowTitle() == "Prolo Planner — Untitled plan *"


def test_bad_files_give_messages_and_the_good_ones_stay(qtbot, window, tmp_path, grab_png):
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    cut = tmp_path / "cut cine.dcm"
    data = YBR_CINE.read_bytes()
    cut.write_bytes(data[: len(data) // 10])  # ends inside the header, before any pixel
    truncated = pydicom_file("MR_truncated.dcm")  # pixel data short by 62 bytes

    assert not window.messages.isVisible()
    window.door.open_paths([empty, MR, cut, truncated, grab_png])
    _wait_loaded(qtbot, window, 2)
    lines = window.messages.lines()
    assert "empty.dcm: empty file (0 bytes)" in lines
    assert any(x.startswith("cut cine.dcm: truncated") for x in lines), lines
    assert any(x.startswith("MR_truncated.dcm: truncated") for x in lines), lines
    assert len(lines) == 3
    assert window.messages.isVisible()
    assert "3 files could not be opened" in window.statusBar().currentMessage()
    # Nothing modal, and the good files are loaded and shown.
    assert QApplication.activeModalWidget() is None
    assert [window.images[i].path for i in range(2)] == [MR, grab_png]
    assert window.pane.source.info.path == MR
    assert window.isVisible()


def test_a_frame_missing_from_a_cine_is_a_notice(qtbot, window, tmp_path):
    partial = tmp_path / "partial cine.dcm"
    data = YBR_CINE.read_bytes()
    partial.write_bytes(data[: len(data) // 3])  # the first 7 of 30 frames survive
    window.door.open_paths([partial])
    _wait_loaded(qtbot, window, 1)
    assert not window.messages.isVisible()
    window.pane.last_frame()
    lines = window.messages.lines()
    assert len(lines) == 1 and lines[0].startswith("partial cine.dcm: ")
    assert "frame 30 is missing" in lines[0]
    assert window.messages.isVisible() and QApplication.activeModalWidget() is None


def _make_folder(root: Path, n_images: int, n_junk: int) -> Path:
    root.mkdir()
    for i in range(n_images):
        shutil.copy(MR, root / f"mr {i:03d}.dcm")
    sub = root / "notes"
    sub.mkdir()
    for i in range(n_junk):
        (sub / f"note {i}.txt").write_text("not an image")
    (root / "broken.dcm").write_bytes(MR.read_bytes()[:200])
    return root


def test_folder_import_shows_progress_and_reports_problems(qtbot, window, tmp_path):
    folder = _make_folder(tmp_path / "study", n_images=6, n_junk=4)
    window.door.open_paths([folder])
    job = window.door.import_job
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=15_000) as finished:
        pass
    result = finished.args[0]
    assert not result.cancelled
    assert len(result.sources) == 6
    assert result.skipped == 4
    # Same file content six times, but six files: each is its own entry.
    assert window.thumbnails.count() == 6
    assert job.last_progress == (11, 11)
    assert job.last_label == "Importing 11 of 11…"
    assert any(line.startswith("broken.dcm: ") for line in window.messages.lines())
    assert window.door.import_job is None
    assert AppSettings().recent_files()[0] == folder.absolute()


def test_progress_text():
    assert progress_text(120, 3000) == "Importing 120 of 3000…"
    assert progress_text(0, 0, "/data/study 7") == "Looking for images… study 7"


def _big_folder(root: Path, n: int) -> Path:
    """n copies of one DICOM file (copies, not links: the import counts a file once)."""
    root.mkdir()
    data = MR.read_bytes()
    for i in range(n):
        (root / f"mr {i:04d}.dcm").write_bytes(data)
    return root


def test_folder_import_can_be_cancelled(qtbot, window, tmp_path):
    folder = _big_folder(tmp_path / "big", 2000)
    job = window.door.start_import([folder])
    job.dialog.findChild(QPushButton).click()  # the progress dialog's Cancel button
    with qtbot.waitSignal(job.finished, timeout=30_000) as finished:
        pass
    result = finished.args[0]
    assert result.cancelled
    assert window.thumbnails.count() == len(result.sources) < 2000
    assert "Import cancelled" in window.statusBar().currentMessage()


def test_closing_the_window_mid_import_stops_the_worker(qtbot, tmp_path):
    folder = _big_folder(tmp_path / "big", 2000)
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    job = w.door.start_import([folder])
    finished: list[object] = []
    job.finished.connect(finished.append)
    w.close()
    assert job.thread.isFinished()
    qtbot.wait(50)  # let any queued result arrive: it must not reach the closed window
    assert len(w.images) == 0 and w.thumbnails.count() == 0
    assert all(r.cancelled for r in finished)


def test_dicomdir_imports_the_images_it_lists(qtbot, window):
    dicomdir = pydicom_file("DICOMDIR")
    window.door.open_paths([dicomdir])
    with qtbot.waitSignal(window.door.import_job.finished, timeout=20_000) as finished:
        pass
    result = finished.args[0]
    assert len(result.sources) > 0
    assert window.thumbnails.count() == len(result.sources)


def test_recent_files_persist_and_vanished_ones_are_removed(qtbot, tmp_path, grab_png):
    gone = tmp_path / "gone.png"
    shutil.copy(grab_png, gone)
    first = MainWindow()
    qtbot.addWidget(first)
    first.door.open_paths([gone])
    first.door.open_paths([grab_png])
    first.close()

    second = MainWindow()
    qtbot.addWidget(second)
    assert second.settings.recent_files() == [grab_png.absolute(), gone.absolute()]
    gone.unlink()
    second.window_actions.recent_menu.aboutToShow.emit()
    entries = [a.text() for a in second.window_actions.recent_menu.actions() if not a.isSeparator()]
    assert entries[0].endswith("frame grab.png")
    assert not any("gone.png" in e for e in entries)
    assert "gone.png: no longer exists; removed from Open recent" in second.messages.lines()
    assert AppSettings().recent_files() == [grab_png.absolute()]

    # Choosing the entry opens the file.
    next(
        a
        for a in second.window_actions.recent_menu.actions()
        if a.text().endswith("frame grab.png")
    ).trigger()
    assert second.thumbnails.count() == 1
    second.close()


def test_window_layout_is_restored_and_settings_are_private(qtbot):
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    first.resize(701, 533)  # the offscreen screen is 800 x 800
    first.metadata_dock.hide()
    first.close()
    assert stat.S_IMODE(os.stat(settings_file()).st_mode) == 0o600

    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert second.size() == QSize(701, 533)
    assert not second.metadata_dock.isVisible()
    assert second.thumbnail_dock.isVisible()


# PySide6 binds only QDragEnterEvent's QPoint constructor, which Qt marks deprecated.
@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
def test_dropping_files_and_folders_opens_them(qtbot, window, tmp_path, grab_png):
    folder = _make_folder(tmp_path / "dropped", n_images=2, n_junk=1)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(grab_png)), QUrl.fromLocalFile(str(folder))])
    enter = QDragEnterEvent(
        QPoint(300, 300),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(300, 300),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, drop)
    assert drop.isAccepted()
    _wait_loaded(qtbot, window, 3)  # the PNG and the folder's two images
    names = sorted(window.images[i].path.name for i in range(3))
    assert names == ["frame grab.png", "mr 000.dcm", "mr 001.dcm"]

    text_only = QMimeData()
    text_only.setText("not a file")
    refused = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        text_only,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, refused)
    assert not refused.isAccepted()


def test_manual_calibration_is_kept_per_image(qtbot, window, grab_png):
    window.door.open_paths([grab_png, MR])
    _wait_loaded(qtbot, window, 2)
    view = window.pane.view
    window.tool_bar.ask_distance_mm = lambda _parent, _px: 20.0  # the clinician types 20 mm
    window.tool_bar.activate("calibrate")
    # Two ticks 80 image pixels apart, vertically.
    a = view.viewport_point(QPointF(40.5, 20.5)).toPoint()
    b = view.viewport_point(QPointF(40.5, 100.5)).toPoint()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=b)
    image_id = window.current_image_id()
    qtbot.waitUntil(lambda: window.plan.plan.image(image_id).manual_calibration is not None)

    calibration = window.pane.calibration  # the plan's, in force, shown with the image
    assert calibration.source is CalibrationSource.MANUAL
    assert calibration.regions[0].mm_per_px_y == pytest.approx(0.25, rel=0.02)
    details = window.metadata.plain_text()
    line = next(x for x in details.splitlines() if "In use: " in x)
    assert line.strip().startswith("In use: manual (depth scale): ")
    over = re.search(r" mm/px .*, 20 mm over ([0-9.]+) px$", line)
    assert over and float(over.group(1)) == pytest.approx(80.0, abs=1.0)  # within a screen px
    assert "From file: Not calibrated" in details

    window.thumbnails.setCurrentRow(1)
    assert window.pane.calibration.source is CalibrationSource.PIXEL_SPACING
    window.thumbnails.setCurrentRow(0)
    assert window.pane.calibration == calibration
    assert "In use: manual (depth scale)" in window.metadata.plain_text()


def test_viewer_keys_fire_once_without_ambiguity(qtbot, qtlog, window):
    window.door.open_paths([YBR_CINE])
    _wait_loaded(qtbot, window, 1)
    view = window.pane.view
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view)  # showing an image focuses it
    frames: list[int] = []
    window.pane.frame_changed.connect(frames.append)

    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert frames == [1]
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert frames == [1, 29]
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert frames == [1, 29, 0]
    assert "Frame 1 / 30" in window.frame_label.text()
    zoom = view.zoom
    qtbot.keyClick(view, Qt.Key.Key_1)
    assert view.zoom == 1.0 and "Zoom 100 %" in window.frame_label.text()
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.zoom == pytest.approx(1.25)
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert view.zoom == pytest.approx(zoom)
    # Next image by PgDown is the window's own key; with one image it stays.
    qtbot.keyClick(view, Qt.Key.Key_PageDown)
    assert window.current == 0
    assert not [r for r in qtlog.records if "Ambiguous" in r.message]

    # Every key sequence is bound to at most one action reachable from this window.
    seen: dict[str, str] = {}
    for action in [*window.actions(), *window.pane.actions()]:
        for key in action.shortcuts():
            text = key.toString()
            assert text not in seen, f"{text} is bound to {seen[text]} and {action.text()}"
            seen[text] = action.text()


def test_shortcuts_dialog_lists_the_keys(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window._shortcuts_dialog
    assert dialog is not None and dialog.isVisible()
    keys = dialog.keys()
    native = [QKeySequence(k).toString(QKeySequence.NativeText) for k in ("Ctrl+O", "F11", "F1")]
    for expected in ["Space", "Right", "Left", "Home", "End", "F", "1", "R", "C", *native]:
        assert expected in keys, expected
    assert "+ or =" in keys
    rows = {s.keys: s.what for s in dialog.shortcuts}
    assert rows["C"] == "Calibrate: Click two ticks of the depth scale, then say their mm apart"
    assert rows["0"] == "Depth zero: Click the depth scale's 0 tick: depth is measured from there"
    assert rows["Space"] == "Play / pause"
    assert dialog.table.rowCount() == len(dialog.shortcuts)


def test_close_image_and_next_image(qtbot, window, grab_png):
    window.door.open_paths([MR, grab_png])
    _wait_loaded(qtbot, window, 2)
    window.select_relative(1)
    assert window.current == 1
    window.close_current_image()
    assert window.thumbnails.count() == 1 and len(window.images) == 1
    assert window.pane.source.info.path == MR
    window.close_current_image()
    assert window.pane.source is None
    assert window.metadata.plain_text() == ""
    assert "No image open" in window.metadata.findChild(QLabel, "metadata_hint").text()
    assert window.windowTitle() == "Prolo Planner"


def test_details_name_each_fact_once(qtbot, window):
    """A video names its codec in its own rows: Details shows one Codec row, the full one."""
    clip = Path(__file__).resolve().parents[2] / "sample_images" / "lumbar_long_axis_clip.mp4"
    window.door.open_paths([clip])
    _wait_loaded(qtbot, window, 1)
    details = window.metadata.plain_text()
    labels = [line.split(":")[0].strip() for line in details.splitlines() if ":" in line]
    assert labels.count("Codec") == 1, details
    assert "MPEG-4" in next(line for line in details.splitlines() if "Codec" in line)
