"""One door into a session: a real scanner file of another patient (SonoSite, PLA, ID 204) is
pushed through every way an image reaches the open session, and every time it is held back
with the reason, never filed, never in the plan, never on screen. A file of the session's own
patient goes in; files that name nobody are asked about once."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from prolo_planner.store.repository import Repository
from prolo_planner.ui.app import run_gui
from prolo_planner.ui.exports.feature import install_exports
from prolo_planner.ui.main_window import MainWindow
from prolo_planner.ui.sessions.feature import SessionsFeature, install_sessions
from tests.conftest import SAMPLE_IMAGES, pydicom_file
from tests.net_servers import OUR_AE, Orthanc
from tests.ui.sessions_support import demo_fixture, store_dir_fixture  # noqa: F401

SONOSITE = pydicom_file("examples_ybr_color.dcm")  # PatientID 204, PatientName PLA
#: Read by hand from the SonoSite header and store/demo.py: what the clinician is told.
REASON = (
    "patient ID 204 in the file, DEMO-0001 in the session; "
    "name PLA in the file, DEMO^Alex in the session"
)
WAIT_MS = 20_000


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    """The SonoSite file under a name of the clinician's (as it came off a USB stick)."""
    path = tmp_path / "usb" / "IMG_0042.dcm"
    path.parent.mkdir()
    shutil.copyfile(SONOSITE, path)
    return path


@pytest.fixture
def opened(qtbot, demo):
    """The main window with the sessions feature on the demo's draft (today's) session."""
    window = MainWindow()
    qtbot.addWidget(window)
    feature = install_sessions(window, demo.repo)
    feature.confirm = lambda _title, _question: True
    feature.confirm_sign = lambda _parent, _session, _unresolved: True
    window.show()
    feature.open_session(demo.today)
    qtbot.waitUntil(lambda: window.thumbnails.count() == 1)
    return window, feature


def _assert_held(window: MainWindow, feature: SessionsFeature, demo, name: str, origin: str):
    repo: Repository = demo.repo
    sha = {h.image.name: h.image.sha256 for h in repo.held_images(demo.today)}[name]
    assert sha not in {i.sha256 for i in repo.images_of(demo.today)}
    assert sha not in {im.ref.sha256 for im in window.plan.plan.images}
    assert all(repo.image(sha).library_path != im.path for im in window.images)
    assert f"{name} ({origin}): {REASON}" in feature.held.lines()
    assert feature.held.isVisibleTo(feature.panel) and feature.dock.isVisible()
    assert repo.image(sha).patient_id is None  # filed under nobody
    assert f"{name}: held back, not this patient's: {REASON}" in window.messages.lines()


def test_file_open(qtbot, opened, demo, foreign, monkeypatch):
    window, feature = opened
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", lambda *_a, **_k: ([str(foreign)], "All files (*)")
    )
    window.window_actions.act_open.trigger()
    _assert_held(window, feature, demo, "IMG_0042.dcm", "File > Open")
    assert window.thumbnails.count() == 1


def test_drag_and_drop(qtbot, opened, demo, foreign):
    window, feature = opened
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(foreign))])
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(300, 300), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(300, 300), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(window, drop)
    qtbot.waitUntil(lambda: bool(feature.held.lines()), timeout=WAIT_MS)
    _assert_held(window, feature, demo, "IMG_0042.dcm", "drag and drop")


def test_open_recent(qtbot, opened, demo, foreign):
    window, feature = opened
    window.settings.add_recent(foreign)
    menu = window.window_actions.recent_menu
    menu.aboutToShow.emit()
    next(a for a in menu.actions() if a.text().endswith("IMG_0042.dcm")).trigger()
    _assert_held(window, feature, demo, "IMG_0042.dcm", "Open recent")


def test_a_folder_import(qtbot, opened, demo, foreign):
    window, feature = opened
    ours = foreign.parent / "lumbar.dcm"  # the demo patient's own scan, beside it
    shutil.copyfile(SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm", ours)
    window.door.open_paths([foreign.parent], "folder or DICOMDIR")
    job = window.door.import_job
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        pass
    _assert_held(window, feature, demo, "IMG_0042.dcm", "folder or DICOMDIR")
    # The patient's own image went in, and onto the screen.
    qtbot.waitUntil(lambda: window.thumbnails.count() == 2, timeout=WAIT_MS)
    assert [im.ref.name for im in window.plan.plan.images][-1] == "lumbar.dcm"


def test_a_dicomdir_of_other_patients_is_held_whole(qtbot, opened, demo):
    window, feature = opened
    window.door.open_paths([pydicom_file("DICOMDIR")], "folder or DICOMDIR")
    with qtbot.waitSignal(window.door.import_job.finished, timeout=WAIT_MS) as done:
        pass
    found = len(done.args[0].sources)
    assert found > 0
    assert len(demo.repo.held_images(demo.today)) == found
    assert len(window.plan.plan.images) == 1 and window.thumbnails.count() == 1


def test_session_import(qtbot, opened, demo, foreign, monkeypatch):
    window, feature = opened
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", lambda *_a, **_k: ([str(foreign)], "All files (*)")
    )
    feature.actions["import"].trigger()
    _assert_held(window, feature, demo, "IMG_0042.dcm", "Session > Import")


def test_the_receivers_inbox(qtbot, opened, demo, foreign):
    """The inbox files through the window's session door (the scanner's push itself is
    tested against a real C-STORE in test_exports_ui.py)."""
    window, feature = opened
    exports = install_exports(window)
    panel = exports.receiver_panel
    panel.inbox.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(foreign, panel.inbox / "1.2.3.4.dcm")
    panel.refresh()
    panel.table.selectRow(0)
    panel.sessions.select(demo.today)
    (line,) = panel.file_selected()
    assert line == f"1.2.3.4.dcm: held back, not filed: {REASON}"
    _assert_held(window, feature, demo, "1.2.3.4.dcm", "receiver")
    exports.close()


def test_a_pacs_retrieve(qtbot, opened, demo, tmp_path):
    from prolo_planner.net.nodes import NetworkSettings, save_settings

    window, feature = opened
    (tmp_path / "orthanc").mkdir()
    orthanc = Orthanc(tmp_path / "orthanc").start()
    try:
        orthanc.upload(SONOSITE)
        save_settings(NetworkSettings(calling_ae_title=OUR_AE, nodes=(orthanc.node,)))
        exports = install_exports(window)
        dialog = exports.query_retrieve()
        assert dialog.session_id == demo.today
        dialog.patient.setText("204")  # the clinician looks up another patient's studies
        dialog.find_button.click()
        qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=WAIT_MS)
        dialog.table.selectRow(0)
        dialog.fetch_button.click()
        qtbot.waitUntil(lambda: "held back" in dialog.status.text(), timeout=WAIT_MS)
        assert dialog.status.text().startswith("0 image(s) brought to the open session, 1 held")
        (held,) = demo.repo.held_images(demo.today)
        _assert_held(window, feature, demo, held.image.name, "PACS retrieve")
        exports.close()
    finally:
        orthanc.stop()


def test_images_opened_before_a_new_session_come_in_through_its_door(qtbot, demo, foreign):
    window = MainWindow()
    qtbot.addWidget(window)
    feature = install_sessions(window, demo.repo)
    window.show()
    # No session open: the files open in a plan of nobody's, the foreign one annotated.
    lumbar = SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm"
    window.door.open_paths([lumbar, foreign])
    qtbot.waitUntil(lambda: window.thumbnails.count() == 2)
    from prolo_planner.core.edits import AddAnnotation
    from prolo_planner.core.geometry import Point
    from prolo_planner.core.plan import Target

    theirs = next(im for im in window.plan.plan.images if im.ref.path == str(foreign))
    window.plan.push(AddAnnotation(Target(theirs.id, Point(100, 100), name="x")))
    session = feature.new_session(demo.result.patient.id, region="lumbar_spine")
    assert session is not None
    plan = demo.repo.load_plan(session.id)
    assert [im.ref.name for im in plan.images] == ["lumbar_long_axis_rgb.dcm"]
    assert plan.annotations == ()  # the foreign image's target left with it
    (held,) = demo.repo.held_images(session.id)
    assert held.image.name == "IMG_0042.dcm" and held.origin == "opened before the session"
    assert "left out of the new session" in " ".join(window.messages.lines())


def test_the_patients_own_file_goes_in_and_files_naming_nobody_are_asked_once(
    qtbot, opened, demo, tmp_path
):
    window, feature = opened
    asked: list[list[str]] = []
    feature.door.ask_whose = lambda _p, _patient, names: asked.append(list(names)) or True
    grab = tmp_path / "grab.png"
    assert cv2.imwrite(str(grab), np.full((60, 80, 3), 90, np.uint8))
    shutil.copyfile(SAMPLE_IMAGES / "hip_anterior_frame_grab.png", tmp_path / "other.png")
    own = SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm"  # names DEMO^Alex, DEMO-0001
    window.door.open_paths([own, grab, tmp_path / "other.png"], "File > Open")
    assert asked == [["grab.png", "other.png"]]  # one question for both
    names = [im.ref.name for im in window.plan.plan.images]
    assert names[-3:] == ["lumbar_long_axis_rgb.dcm", "grab.png", "other.png"]
    qtbot.waitUntil(lambda: window.thumbnails.count() == 4)
    assert feature.held.lines() == []
    # The same file again: known to be this patient's, nothing asked.
    window.door.open_paths([grab], "File > Open")
    assert len(asked) == 1


def test_a_signed_session_takes_nothing_and_says_why(qtbot, opened, demo, foreign):
    window, feature = opened
    feature.sign()
    window.door.open_paths([foreign], "File > Open")
    assert "Images not added: the session of" in window.messages.lines()[-1]
    assert demo.repo.held_images(demo.today) == []
    assert window.thumbnails.count() == 1


def test_the_command_line(qtbot, tmp_path, foreign):
    """`prolo-planner FILE` with a draft in the store: the draft opens, the file goes through
    its door and is held (the store is the app's own data folder, as a clinician's would be)."""
    import datetime as dt

    from prolo_planner.store.demo import fill_demo

    with Repository.open() as repo:
        today = fill_demo(repo, today=dt.date(2026, 3, 14)).sessions[2].id
    seen: dict = {}

    def check() -> None:
        for w in QApplication.topLevelWidgets():
            feature = w.findChild(SessionsFeature, "sessions_feature")
            if isinstance(w, MainWindow) and feature is not None and feature.held.lines():
                seen["held"] = feature.held.lines()
                seen["session"] = feature.session.id if feature.session else None
                seen["thumbnails"] = w.thumbnails.count()
                QApplication.quit()

    poll = QTimer()
    poll.timeout.connect(check)
    poll.start(50)
    give_up = QTimer(singleShot=True)
    give_up.timeout.connect(QApplication.quit)
    give_up.start(15_000)
    try:
        assert run_gui([foreign]) == 0
    finally:
        poll.stop()
        give_up.stop()
    assert seen["session"] == today
    assert seen["held"] == [f"IMG_0042.dcm (command line): {REASON}"]
    assert seen["thumbnails"] == 1  # the session's clip only
    with Repository.open() as repo:
        (held,) = repo.held_images(today)
        assert held.image.name == "IMG_0042.dcm" and held.origin == "command line"
