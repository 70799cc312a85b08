"""The window on a clinic's 1366 x 768 monitor as on 1920 x 1080: nothing it shows is cut
short (ui/cut_text.py measures each label, button, field, heading and list row), the window
is no wider than the screen, the dialogs open whole; View > Reset layout puts every panel
back; a dock dropped on another does not turn them into tabs."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow

from prolo_planner.core.edits import AddAnnotation, Compound
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import AvoidZone, NeedlePath, Target
from prolo_planner.ui.cut_text import cut_texts
from prolo_planner.ui.exports.feature import install_exports
from prolo_planner.ui.main_window import MainWindow
from prolo_planner.ui.preferences import PreferencesDialog
from prolo_planner.ui.sessions.carry_forward import CarryForwardDialog
from prolo_planner.ui.sessions.feature import install_sessions
from prolo_planner.ui.sessions.patient_list import NewPatientDialog
from prolo_planner.ui.sessions.startup import open_on_start
from prolo_planner.ui.theme import apply_theme

SIZES = [(1366, 768), (1920, 1080)]


def settle(qtbot) -> None:
    QApplication.processEvents()
    qtbot.wait(60)
    QApplication.processEvents()


@pytest.fixture
def desk(qtbot, tmp_path: Path):
    """The app as a new user first meets it: the demo patient's draft session open."""
    window = MainWindow()
    qtbot.addWidget(window)
    sessions = install_sessions(window)
    exports = install_exports(window)
    assert sessions is not None and exports is not None
    window.show()
    open_on_start(sessions)
    settle(qtbot)
    yield window, sessions, exports
    sessions.autosave.flush() if sessions.autosave is not None else None


def sized(qtbot, window: MainWindow, size: tuple[int, int]) -> None:
    window.resize(*size)
    window.dock_layout.reset()
    settle(qtbot)


def overlapping_docks(window: MainWindow) -> list[tuple[str, str]]:
    """Docks laid over one another (not tabs): a layout the window could not fit."""
    docks = [d for d in window.dock_layout.docks() if d.isVisible() and not d.isFloating()]
    return [
        (a.objectName(), b.objectName())
        for i, a in enumerate(docks)
        for b in docks[i + 1 :]
        if a.geometry().intersects(b.geometry()) and b not in window.tabifiedDockWidgets(a)
    ]


def risky_site(window: MainWindow) -> str:
    """A target in the dura's margin, reached through the spinal canal: red warnings."""
    plan = window.plan.plan
    image_id = window.current_image_id()
    zone = next(a for a in plan.on_image(image_id) if isinstance(a, AvoidZone))
    xs, ys = [p.x for p in zone.points], [p.y for p in zone.points]
    target = Target(image_id, Point((min(xs) + max(xs)) / 2 + 12, min(ys) + 8), name="deep")
    path = NeedlePath(image_id, Point(target.position.x + 70, 90), target.id)
    window.plan.push(Compound((AddAnnotation(target), AddAnnotation(path)), "risky"))
    return path.id


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_main_window_shows_nothing_cut(qtbot, desk, size) -> None:
    window, sessions, _ = desk
    sized(qtbot, window, size)
    # Never wider or taller than the screen it is meant for.
    minimum = window.minimumSizeHint()
    assert minimum.width() <= size[0] and minimum.height() <= size[1], minimum
    assert window.width() <= size[0]
    assert overlapping_docks(window) == []
    assert cut_texts(window) == []
    # Planning, with warnings listed and a needle path selected.
    window.show_annotations([risky_site(window)])
    window.warnings_dock.raise_()
    settle(qtbot)
    assert window.warnings_panel.messages(), "the risky site is warned of"
    assert cut_texts(window) == []
    # The image keeps most of the window.
    view = window.pane.view
    assert view.width() >= 0.5 * size[0] and view.height() >= 0.45 * size[1]
    # The patients' strip shows the demo's three sessions without scrolling.
    table = sessions.timeline.table
    assert table.rowCount() == 3
    assert table.visualRect(table.model().index(2, 0)).bottom() <= table.viewport().height()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_light_theme_fits_as_well(qtbot, desk, size) -> None:
    window, _, _ = desk
    app = QApplication.instance()
    try:
        apply_theme(app, "light")
        sized(qtbot, window, size)
        assert cut_texts(window) == []
    finally:
        apply_theme(app, "dark")


def test_the_dialogs_open_whole_on_the_small_screen(qtbot, desk) -> None:
    window, sessions, exports = desk
    sized(qtbot, window, (1366, 768))
    previous = sessions.timeline.previous_of(sessions.session.id)
    assert previous is not None
    dialogs = {
        "export": exports.export_session(),
        "send": exports.send_session(),
        "query": exports.query_retrieve(),
        "nodes": exports.dicom_nodes(),
        "shortcuts": window.show_shortcuts(),
        "new patient": NewPatientDialog(sessions.repo, window),
        "preferences": PreferencesDialog(window.settings, window),
        "carry forward": CarryForwardDialog(
            sessions.repo.load_plan(previous.session.id), window.plan.plan, "the last", window
        ),
    }
    for name, dialog in dialogs.items():
        dialog.show()
        settle(qtbot)
        assert dialog.width() <= 1366 and dialog.height() <= 768, name
        assert cut_texts(dialog) == [], name
        dialog.close()
    compare = sessions.review.compare_with_previous()
    assert compare is not None
    compare.resize(1366, 768)
    settle(qtbot)
    assert compare.minimumSizeHint().width() <= 1366 and compare.width() <= 1366
    assert cut_texts(compare) == []
    sessions.review.close_compare()


def test_reset_layout_puts_every_panel_back(qtbot, desk) -> None:
    window, sessions, _ = desk
    sized(qtbot, window, (1366, 768))
    layout = window.dock_layout
    placed = {d.objectName(): window.dockWidgetArea(d) for d in layout.docks()}
    shown = {d.objectName(): d.isVisible() for d in layout.docks()}
    # A clinician's slips: a panel floated, one moved to the other side, one closed.
    window.warnings_dock.setFloating(True)
    window.removeDockWidget(window.thumbnail_dock)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.thumbnail_dock)
    window.thumbnail_dock.show()
    window.properties_dock.hide()
    sessions.dock.setFloating(True)
    window.findChild(type(window.menu("View").menuAction()), "reset_layout").trigger()
    settle(qtbot)
    assert overlapping_docks(window) == []
    for dock in layout.docks():
        assert not dock.isFloating(), dock.objectName()
        assert window.dockWidgetArea(dock) == placed[dock.objectName()], dock.objectName()
    assert window.warnings_dock.isVisible() and window.properties_dock.isVisible()
    assert sessions.dock.isVisible()
    assert {d.objectName(): d.isVisible() for d in layout.docks()} == shown
    # The tabs of the right column in their order, the annotations in front.
    assert window.tabifiedDockWidgets(window.annotations_dock) == [
        window.image_dock,
        window.metadata_dock,
        *[d for d in window.tabifiedDockWidgets(window.annotations_dock)[2:]],
    ]
    assert not window.annotations_dock.visibleRegion().isEmpty()
    assert cut_texts(window) == []


def test_docks_are_not_turned_into_tabs_by_a_drop(qtbot, desk) -> None:
    window, _, _ = desk
    options = window.dockOptions()
    assert not options & QMainWindow.DockOption.AllowTabbedDocks
    assert options & QMainWindow.DockOption.AllowNestedDocks
    # The window's own tabs are still made (Annotations | Image | Details).
    assert window.image_dock in window.tabifiedDockWidgets(window.annotations_dock)
    assert all(isinstance(d, QDockWidget) for d in window.dock_layout.docks())


def test_no_two_actions_share_a_key(qtbot, desk) -> None:
    """An ambiguous key does nothing at all in Qt: every key of the window is one action's
    (the layout's and the preferences' actions were added beside the features' own)."""
    window, _, _ = desk
    seen: dict[str, str] = {}
    for action in window.findChildren(QAction):
        for key in action.shortcuts():
            text = key.toString()
            if not text or action.shortcutContext() == Qt.ShortcutContext.WidgetShortcut:
                continue
            assert text not in seen or seen[text] == action.text(), (
                text,
                seen.get(text),
                action.text(),
            )
            seen[text] = action.text()
    assert "Ctrl+Shift+R" in seen  # the procedure record's
