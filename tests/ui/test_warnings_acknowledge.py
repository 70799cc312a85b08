"""Acknowledging a warning in the Warnings panel as the clinician does: select it, press
Acknowledge (or use the context menu), see it greyed and counted, undo it from the Edit menu,
and find it marked acknowledged in the PDF report's content. The image keeps its danger red."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMenu

from prolo_planner.core.acknowledged import WarningKey, acknowledged_keys
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import AvoidKind, AvoidZone, NeedlePath, Target, ZoneShape
from prolo_planner.core.safety import Severity, WarningCode
from prolo_planner.report.content import report_content
from prolo_planner.report.header import ReportHeader
from prolo_planner.report.plan_images import PlanImages
from prolo_planner.ui import theme
from prolo_planner.ui.main_window import MainWindow
from prolo_planner.ui.panels.icons import severity_colour
from prolo_planner.ui.panels.warnings_panel import ACKNOWLEDGED_SUFFIX
from tests.ui.plan_window_support import LUMBAR, add, fit_1to1, make_window, open_images


@pytest.fixture
def window(qtbot) -> MainWindow:
    w = make_window(qtbot)
    open_images(qtbot, w, LUMBAR)
    fit_1to1(w)
    image_id = w.current_image_id()
    target = add(w, Target(image_id, Point(300, 250), name="L4-L5 interspinous ligament"))
    add(w, NeedlePath(image_id, Point(300, 70), target.id, needle_length_mm=50.0))
    add(
        w,
        AvoidZone(
            image_id,
            ZoneShape.ELLIPSE,
            (Point(280, 120), Point(320, 160)),
            kind=AvoidKind.ARTERY,
            name="segmental artery",
        ),
    )
    w.plan.mark_saved()  # the drawing is saved: only acknowledging is left unsaved
    return w


def crossing_row(window: MainWindow) -> int:
    rows = [
        i for i, w in enumerate(window.plan.warnings) if w.code is WarningCode.PATH_CROSSES_ZONE
    ]
    assert len(rows) == 1, window.plan.warnings
    return rows[0]


def path_icon_colour(window: MainWindow) -> tuple[int, int, int]:
    path = next(a for a in window.plan.plan.annotations if isinstance(a, NeedlePath))
    colour = window.annotation_list.item(path.id).icon(0).pixmap(16, 16).toImage().pixelColor(8, 8)
    return colour.red(), colour.green(), colour.blue()


def test_acknowledge_undo_and_the_report(qtbot, window) -> None:
    panel = window.warnings_panel
    warnings = window.plan.warnings
    row = crossing_row(window)
    crossing = warnings[row]
    assert crossing.severity is Severity.DANGER
    n = len(warnings)
    assert panel.summary.text().startswith(f"{n} warning")
    assert "acknowledged" not in panel.summary.text()
    red = severity_colour(Severity.DANGER)
    assert path_icon_colour(window) == (red.red(), red.green(), red.blue())
    assert not panel.act_acknowledge.isEnabled()  # nothing selected yet

    panel.list.setCurrentRow(row)
    assert panel.acknowledge_button.isEnabled() and not panel.unacknowledge_button.isEnabled()
    panel.acknowledge_button.click()

    assert acknowledged_keys(window.plan.plan) == {WarningKey.of(crossing)}
    assert window.plan.is_modified  # a real change, which the session store would autosave
    item = panel.list.item(row)
    assert item.text() == crossing.message + ACKNOWLEDGED_SUFFIX and item.isSelected()
    assert panel.is_acknowledged_row(row)
    assert item.foreground().color().name() == theme.current().text_dim  # greyed
    assert panel.summary.text().endswith(", 1 acknowledged")
    assert panel.summary.text().startswith(f"{n} warning")
    assert panel.messages()[row] == crossing.message  # the warning's words are unchanged
    assert panel.unacknowledge_button.isEnabled() and not panel.acknowledge_button.isEnabled()
    # Acknowledged or not, a danger is drawn in danger red.
    assert path_icon_colour(window) == (red.red(), red.green(), red.blue())
    assert window.edit_actions.act_undo.text().endswith("Acknowledge warning")

    with PlanImages.open(window.plan.plan, limits=window.plan.limits) as images:
        header = ReportHeader.from_dataset(images.dataset(window.plan.plan.images[0].id))
        content = report_content(images, header)
    marked = {r.warning.message: r.acknowledged for r in content.warnings}
    assert marked[crossing.message] is True
    assert sum(marked.values()) == 1 and len(marked) == n

    window.edit_actions.act_undo.trigger()
    assert acknowledged_keys(window.plan.plan) == frozenset()
    assert not window.plan.is_modified  # back to the plan as saved
    assert not panel.is_acknowledged_row(row)
    assert panel.list.item(row).text() == crossing.message
    assert "acknowledged" not in panel.summary.text()
    assert panel.list.item(row).isSelected()  # still selected: Acknowledge again is one click
    window.edit_actions.act_redo.trigger()
    assert panel.is_acknowledged_row(row)


def test_the_context_menu_acknowledges_all_selected_and_takes_it_back(qtbot, window) -> None:
    panel = window.warnings_panel
    n = panel.list.count()
    assert n >= 2
    panel.list.selectAll()
    panel.act_acknowledge.trigger()
    assert len(acknowledged_keys(window.plan.plan)) == n
    assert panel.summary.text().endswith(f", {n} acknowledged")
    assert window.edit_actions.act_undo.text().endswith(f"Acknowledge {n} warnings")

    row = crossing_row(window)
    picked: list[str] = []

    def choose(text: str) -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):  # not shown yet
            QTimer.singleShot(10, lambda: choose(text))
            return
        picked.extend(a.text() for a in menu.actions() if a.isEnabled())
        action = next(a for a in menu.actions() if a.text() == text)
        menu.hide()
        action.trigger()

    panel.list.clearSelection()
    QTimer.singleShot(0, lambda: choose("Unacknowledge"))
    rect = panel.list.visualItemRect(panel.list.item(row))
    panel.list.customContextMenuRequested.emit(rect.center())
    assert picked == ["Unacknowledge"]  # on an acknowledged row, only taking it back applies
    assert not panel.is_acknowledged_row(row)
    assert len(acknowledged_keys(window.plan.plan)) == n - 1
    assert panel.summary.text().endswith(f", {n - 1} acknowledged")


def test_a_signed_plan_cannot_be_acknowledged(qtbot, window) -> None:
    window.set_plan(
        window.plan.plan, read_only=True, read_only_reason="signed on 2026-03-01", title="S2"
    )
    panel = window.warnings_panel
    assert panel.list.count() >= 2
    panel.list.selectAll()
    assert not panel.act_acknowledge.isEnabled() and not panel.act_unacknowledge.isEnabled()
    panel.acknowledge_selected(True)
    assert acknowledged_keys(window.plan.plan) == frozenset()
    assert "acknowledged" not in panel.summary.text()
