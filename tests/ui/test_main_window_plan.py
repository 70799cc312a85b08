"""Planning in the main window as a clinician does it: every annotation kind drawn through the
toolbar and the mouse, undone and redone from the Edit menu, the list and the image selecting
together, property edits as undo steps, the warnings naming the zone, and a plan that comes
back the same after saving and reopening in a fresh window."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    AngleMeasurement,
    AvoidKind,
    AvoidZone,
    Caliper,
    NeedlePath,
    Plan,
    Target,
    TextNote,
    ZoneShape,
)
from prolo_planner.store.plan_file import load_plan
from prolo_planner.ui.main_window import MainWindow
from tests.ui.plan_window_support import (
    HIP_GRAB,
    LUMBAR,
    add,
    click,
    drag,
    fit_1to1,
    make_window,
    only,
    open_images,
)


@pytest.fixture
def window(qtbot) -> MainWindow:
    w = make_window(qtbot)
    open_images(qtbot, w, LUMBAR)
    fit_1to1(w)
    return w


def use_tool(window: MainWindow, name: str) -> None:
    """Click the tool's toolbar button, as the clinician does."""
    action = window.tool_bar.tool_actions[name]
    button = window.tool_bar.widgetForAction(action)
    button.click()
    assert action.isChecked() and window.tool_bar.current == name


def undo_redo(window: MainWindow, expected_text: str) -> Plan:
    """Undo and redo through the Edit menu's actions; returns the plan as it was after."""
    after = window.plan.plan
    undo, redo = window.edit_actions.act_undo, window.edit_actions.act_redo
    assert undo.isEnabled() and undo.text() == f"&Undo {expected_text}"
    undo.trigger()
    before = window.plan.plan
    assert before != after
    assert redo.text() == f"&Redo {expected_text}"
    redo.trigger()
    assert window.plan.plan == after
    return before


def listed(window) -> dict[str, str]:
    """The annotation list's rows, by name with its key."""
    return dict(window.annotation_list.rows())


def test_each_kind_is_drawn_with_the_toolbar_and_the_mouse_and_undone(qtbot, window) -> None:
    image_id = window.current_image_id()
    assert image_id is not None
    regions = window.pane.calibration.regions[0]
    mm_px = regions.mm_per_px_y

    use_tool(window, "target")
    click(qtbot, window, 300, 250)
    target = only(window.plan.plan, Target)
    assert target.position == Point(300, 250) and target.image_id == image_id
    depth = window.workspace.controller.measurements.target_depths[target.id].value
    # The lumbar sample says LSPINE: the tool names the lumbar catalog's first target, and
    # the list gives it the site number its label carries on the image.
    first = window.catalogs.region("lumbar_spine").targets[0].name
    assert window.annotation_list.rows() == [(f"1  {first}", f"{depth:.1f} mm deep")]
    before = undo_redo(window, f"Add target '{first}'")
    assert before.targets() == ()

    use_tool(window, "needle path")
    drag(qtbot, window, (301, 251), (220, 90))
    path = only(window.plan.plan, NeedlePath)
    assert path.entry == Point(220, 90) and path.target_id == target.id
    length = math.hypot(80, 160) * mm_px
    angle = window.workspace.controller.measurements.path(path.id).angle_deg.value
    assert listed(window)[f"1  to {first}"] == f"{length:.1f} mm · {angle:.0f}°"
    undo_redo(window, "Add needle path")

    use_tool(window, "avoid zone")
    for x, y in ((380, 300), (440, 300), (440, 350)):
        click(qtbot, window, x, y)
    qtbot.keyClick(window.pane.view, Qt.Key.Key_Return)
    zone = only(window.plan.plan, AvoidZone)
    assert zone.shape is ZoneShape.POLYGON and len(zone.points) == 3
    # The toolbar's "Avoid" box names the structure: the lumbar catalog's first.
    avoid = window.catalogs.region("lumbar_spine").avoid[0]
    assert window.tool_bar.avoid_box.currentText() == avoid.name
    assert (zone.kind, zone.name, zone.margin_mm) == (avoid.kind, avoid.name, avoid.margin_mm)
    undo_redo(window, f"Add avoid zone '{avoid.name}'")

    use_tool(window, "avoid ellipse")
    drag(qtbot, window, (150, 380), (200, 420))
    ellipse = [a for a in window.plan.plan.annotations if isinstance(a, AvoidZone)][-1]
    assert ellipse.shape is ZoneShape.ELLIPSE
    assert ellipse.points == (Point(150, 380), Point(200, 420))
    undo_redo(window, f"Add avoid zone '{avoid.name}'")

    use_tool(window, "caliper")
    drag(qtbot, window, (120, 100), (120, 200))
    caliper = only(window.plan.plan, Caliper)
    assert caliper.a == Point(120, 100) and caliper.b == Point(120, 200)
    assert listed(window)["C  caliper"] == f"{100 * mm_px:.1f} mm"  # after zones A and B
    undo_redo(window, "Add caliper")

    use_tool(window, "angle")
    for x, y in ((500, 100), (450, 200), (550, 200)):
        click(qtbot, window, x, y)
    angle_m = only(window.plan.plan, AngleMeasurement)
    assert angle_m.vertex == Point(450, 200)
    expected = math.degrees(math.atan2(100, 50))  # between (50, -100) and (100, 0)
    assert listed(window)["D  angle"] == f"{expected:.0f}°"
    undo_redo(window, "Add angle")

    use_tool(window, "text")
    click(qtbot, window, 300, 400)
    click(qtbot, window, 360, 430)
    qtbot.waitUntil(lambda: any(isinstance(a, TextNote) for a in window.plan.plan.annotations))
    note = only(window.plan.plan, TextNote)
    assert note.text == "check depth" and note.arrow_to == Point(300, 400)
    undo_redo(window, "Add text 'check depth'")

    use_tool(window, "skin line")
    drag(qtbot, window, (100, 90), (600, 100))
    assert window.plan.plan.image(image_id).skin_line == (Point(100, 90), Point(600, 100))
    undo_redo(window, "Draw the skin line on image 'lumbar_long_axis_rgb.dcm'")

    # Calibrate (C, a tool in the toolbar): one undo step, saved with the plan.
    window.tool_bar.tool_actions["calibrate"].trigger()
    click(qtbot, window, 620, 100)
    click(qtbot, window, 620, 163)
    qtbot.waitUntil(lambda: window.plan.plan.image(image_id).manual_calibration is not None)
    manual = window.plan.plan.image(image_id).manual_calibration
    assert manual.mm == 10.0 and manual.a == Point(620, 100) and manual.b == Point(620, 163)
    assert window.pane.calibration.regions[0].mm_per_px_y == pytest.approx(10 / 63)
    before = undo_redo(window, "Calibrate image 'lumbar_long_axis_rgb.dcm'")
    assert before.image(image_id).manual_calibration is None

    # Esc on an idle drawing tool goes back to select.
    use_tool(window, "caliper")
    qtbot.keyClick(window.pane.view, Qt.Key.Key_Escape)
    assert window.tool_bar.current == "select"


def test_tool_keys_and_edit_keys_answer_without_ambiguity(qtbot, qtlog, window) -> None:
    view = window.pane.view
    view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view)
    for key, name in ((Qt.Key.Key_T, "target"), (Qt.Key.Key_N, "needle path"),
                      (Qt.Key.Key_Z, "avoid zone"), (Qt.Key.Key_M, "caliper"),
                      (Qt.Key.Key_V, "select")):  # fmt: skip
        qtbot.keyClick(view, key)
        assert window.tool_bar.current == name
    target = add(window, Target(window.current_image_id(), Point(300, 250)))
    window.plan.select([target.id])
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert len(window.plan.plan.targets()) == 2
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert len(window.plan.plan.targets()) == 1
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(window.plan.plan.targets()) == 2
    assert not [r for r in qtlog.records if "Ambiguous" in r.message]
    # No key sequence is bound twice among the actions the window and the viewer answer to.
    seen: dict[str, str] = {}
    for action in {*window.actions(), *window.pane.actions()}:
        for key in action.shortcuts():
            assert key.toString() not in seen, (key.toString(), seen.get(key.toString()))
            seen[key.toString()] = action.text()
    assert {"T", "N", "Z", "E", "M", "A", "X", "K", "V", "C"} <= seen.keys()


def test_list_and_image_select_together(qtbot, window) -> None:
    image_id = window.current_image_id()
    t1 = add(window, Target(image_id, Point(300, 250), name="L4-L5 interspinous ligament"))
    t2 = add(window, Target(image_id, Point(420, 240), name="L5-S1 interspinous ligament"))
    listed = window.annotation_list
    assert listed.listed_ids() == [t1.id, t2.id]

    use_tool(window, "select")
    click(qtbot, window, 420, 240)  # on the image...
    assert window.plan.selection == {t2.id}
    assert listed.item(t2.id).isSelected() and not listed.item(t1.id).isSelected()
    assert window.properties.target_name.currentText() == "L5-S1 interspinous ligament"

    listed.tree.setCurrentItem(listed.item(t1.id))  # ...and in the list
    assert window.plan.selection == {t1.id}
    handles = window.workspace.layer.handles.primitives
    assert {h.annotation_id for h in handles} == {t1.id}

    window.edit_actions.act_select_all.trigger()
    assert window.plan.selection == {t1.id, t2.id}
    assert all(listed.item(i).isSelected() for i in (t1.id, t2.id))


def test_a_property_edit_is_one_undo_step(qtbot, window) -> None:
    image_id = window.current_image_id()
    target = add(window, Target(image_id, Point(300, 250), name="L4-L5 interspinous ligament"))
    window.plan.select([target.id])
    editor = window.properties
    editor.dextrose.setFocus()
    editor.dextrose.setValue(20.0)
    editor.dextrose.setValue(25.0)  # the same field, still in focus: the same step
    assert window.plan.plan.annotation(target.id).injectate.dextrose_percent == 25.0
    stack = window.plan.undo_stack
    assert stack.count() == 3  # add image, add target, change
    assert stack.text(2) == "Change target 'L4-L5 interspinous ligament'"
    editor.target_status.setCurrentIndex(editor.target_status.findText("injected"))
    editor.target_status.activated.emit(editor.target_status.currentIndex())
    assert window.plan.plan.annotation(target.id).status.value == "injected"
    assert stack.count() == 4
    window.edit_actions.act_undo.trigger()
    window.edit_actions.act_undo.trigger()
    restored = window.plan.plan.annotation(target.id)
    assert restored.injectate.dextrose_percent == 15.0 and restored.status.value == "planned"
    assert editor.dextrose.value() == 15.0  # the editor follows the undo


def test_warnings_name_the_zone_and_the_distance(qtbot, window) -> None:
    image_id = window.current_image_id()
    target = add(window, Target(image_id, Point(268, 330), name="L4-L5 interspinous ligament"))
    zone = add(
        window,
        AvoidZone(
            image_id,
            ZoneShape.ELLIPSE,
            (Point(232, 352), Point(304, 425)),
            kind=AvoidKind.SPINAL_CANAL,
            name="spinal canal and dura",
            margin_mm=5.0,
        ),
    )
    add(window, NeedlePath(image_id, Point(205, 70), target.id, needle_length_mm=63.0))
    path = only(window.plan.plan, NeedlePath)
    distance = window.plan.measurements.path(path.id).zone(zone.id).distance_mm
    assert 0 < distance < 5.0
    messages = window.warnings_panel.messages()
    expected = (
        f"Needle path to 'L4-L5 interspinous ligament' passes {distance:.1f} mm from "
        "'spinal canal and dura' (margin 5 mm)"
    )
    assert expected in messages
    # Clicking the warning selects the path and the zone on the image.
    panel = window.warnings_panel
    row = messages.index(expected)
    panel.list.itemClicked.emit(panel.list.item(row))
    assert window.plan.selection == {path.id, zone.id}
    # The list shows the warning's colour on the path.
    icon = window.annotation_list.item(path.id).icon(0).pixmap(16, 16).toImage()
    colour = icon.pixelColor(8, 8)
    assert (colour.red(), colour.green(), colour.blue()) == (255, 178, 0)


def test_a_saved_plan_reopens_the_same_in_a_fresh_window(qtbot, window, tmp_path) -> None:
    open_images(qtbot, window, HIP_GRAB)
    window.thumbnails.setCurrentRow(0)
    lumbar_id = window.current_image_id()
    target = add(window, Target(lumbar_id, Point(268, 330), name="L4-L5 interspinous ligament"))
    add(window, NeedlePath(lumbar_id, Point(205, 70), target.id))
    add(window, Caliper(lumbar_id, Point(120, 100), Point(120, 200), label="skin to lamina"))
    path = tmp_path / "session.prolo.json"
    assert window.plan_files.save_as(path)
    saved = window.plan.plan
    assert window.windowTitle() == "Prolo Planner — session"

    fresh = make_window(qtbot)
    assert fresh.plan_files.open_plan(path)
    assert fresh.plan.plan == saved == load_plan(path)
    assert fresh.thumbnails.count() == 2
    fresh.show_image_id(lumbar_id)
    assert fresh.current_image_id() == lumbar_id
    assert fresh.workspace.layer.shown_ids() == {a.id for a in saved.annotations}
    assert fresh.annotation_list.listed_ids() == [a.id for a in saved.annotations]
    assert not fresh.plan.is_modified and fresh.windowTitle() == "Prolo Planner — session"
