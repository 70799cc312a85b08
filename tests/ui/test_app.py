"""Starting the viewer: run_gui on the samples or on files, the theme, and no-display handling."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from prolo_planner import __version__
from prolo_planner.ui.app import create_application, display_problem, run_gui
from prolo_planner.ui.main_window import MainWindow
from tests.conftest import pydicom_file


def _run_until(condition_seen: dict, paths: list[Path], expect: int) -> int:
    """run_gui(paths), quitting as soon as the window shows `expect` thumbnails (or at 15 s)."""

    def check() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        shown = [w for w in windows if w.isVisible()]
        if shown and shown[0].thumbnails.count() >= expect:
            w = shown[0]
            condition_seen["count"] = w.thumbnails.count()
            condition_seen["names"] = [w.images[i].path.name for i in range(len(w.images))]
            condition_seen["source"] = w.pane.source.info.path.name if w.pane.source else None
            condition_seen["title"] = w.windowTitle()
            QApplication.quit()

    poll = QTimer()
    poll.timeout.connect(check)
    poll.start(50)
    give_up = QTimer(singleShot=True)  # never hang the suite
    give_up.timeout.connect(QApplication.quit)
    give_up.start(15_000)
    try:
        return run_gui(paths)
    finally:
        poll.stop()
        give_up.stop()


def test_run_gui_without_files_opens_the_demo_session(qtbot):
    """A new user (an empty store) meets the demo patient's draft session on the sample clip."""
    seen: dict = {}
    status = _run_until(seen, [], expect=1)
    assert status == 0
    assert seen.get("count") == 1 and seen["names"][0].endswith(".mp4")
    assert seen["source"] == seen["names"][0]
    assert "DEMO, Alex" in seen["title"] and "draft" in seen["title"]


def test_run_gui_opens_the_files_it_is_given(qtbot):
    mr = pydicom_file("MR_small.dcm")
    seen: dict = {}
    assert _run_until(seen, [mr], expect=1) == 0
    assert seen["names"] == ["MR_small.dcm"]
    assert seen["title"] == "Prolo Planner — Untitled plan *"


def test_dark_theme_is_applied(qtbot):
    app = create_application()
    window = app.palette().color(QPalette.ColorRole.Window)
    text = app.palette().color(QPalette.ColorRole.WindowText)
    assert window.lightness() < 60 < 180 < text.lightness()
    assert "QStatusBar" in app.styleSheet()
    assert app.organizationName() and app.applicationName() == "prolo-planner"
    assert not app.windowIcon().isNull()


def test_no_display_is_one_clear_line_not_an_abort(monkeypatch, capsys):
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    if sys.platform in ("win32", "darwin"):
        assert display_problem() is None
        return
    assert run_gui([]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "xvfb-run" in err[0] and "DISPLAY" in err[0]


def test_the_command_without_a_display_exits_1_with_the_hint(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["PROLO_PLANNER_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "prolo_planner"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "xvfb-run" in done.stderr
    assert "Traceback" not in done.stderr and "Aborted" not in done.stderr


def test_version_flag():
    done = subprocess.run(
        [sys.executable, "-m", "prolo_planner", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"prolo-planner {__version__}"
