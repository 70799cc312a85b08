"""Starting the viewer: the Qt application, its theme, and the main window on the images."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from prolo_planner import __version__
from prolo_planner.imaging.open import classify
from prolo_planner.resources import resource_path, sample_images_dir
from prolo_planner.ui.settings import theme_preference
from prolo_planner.ui.theme import apply_theme

log = logging.getLogger("prolo_planner.ui")

ORGANIZATION = "Prolo Planner"
APPLICATION = "prolo-planner"


def display_problem() -> str | None:
    """Why no window can open here, or None. Checked before Qt, whose failure is an abort."""
    if sys.platform in ("win32", "darwin"):
        return None
    if any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        return None
    return (
        "prolo-planner: no display found (DISPLAY is not set); to run without a screen use "
        "xvfb-run -s '-screen 0 1600x1000x24' prolo-planner"
    )


def sample_images() -> list[Path]:
    """Every image of the bundled samples, in name order."""
    folder = sample_images_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and classify(p) is not None)


def app_icon() -> QIcon:
    return QIcon(str(resource_path("icons", "prolo-planner.svg")))


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The one QApplication, named and themed (reused when one exists, as under pytest-qt)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else [sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Prolo Planner")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APPLICATION)
    app.setWindowIcon(app_icon())
    apply_theme(app, theme_preference())
    return app


def run_gui(paths: list[Path]) -> int:
    """Open the viewer on the latest draft session (the demo session on an empty store, unless
    `paths` are given), then `paths` (files, folders, DICOMDIRs) through the image door; the
    samples if the store cannot be opened."""
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    app = create_application()
    from prolo_planner.ui.exports.feature import install_exports
    from prolo_planner.ui.main_window import MainWindow
    from prolo_planner.ui.sessions.feature import install_sessions
    from prolo_planner.ui.sessions.startup import open_on_start

    window = MainWindow()
    sessions = install_sessions(window)
    install_exports(window)  # after the sessions: it shares their store and open session
    # The Patients dock came after the window restored its layout: restore it once more.
    window.settings.restore_window(window)
    window.show()
    targets = list(paths) or ([] if sessions is not None else sample_images())

    def start() -> None:
        # The latest draft session opens as without files (the demo only for a new user with
        # no files); files given then go through the image door like any others: into that
        # session if they are its patient's, held back if not, or into a plan of nobody's.
        if sessions is not None:
            open_on_start(sessions, with_demo=not paths)
        if targets:
            window.door.open_paths(targets, "command line")

    if targets or sessions is not None:
        # Once the event loop runs, so the window appears before any file is read.
        QTimer.singleShot(0, start)
    else:
        window.statusBar().showMessage("No images given. Open some with File > Open (Ctrl+O).")
    log.info("viewer started on %d path(s)", len(targets))
    status = app.exec()
    # However the loop ended (Quit, the window manager, app.quit()), save the layout and
    # release the files.
    if window.isVisible():
        window.close()
    # Closing the last window posts a Quit the finished loop never took; left queued it would
    # end the next event loop at once (a second run_gui, or a test's wait).
    QCoreApplication.removePostedEvents(app, QEvent.Type.Quit)
    return status
