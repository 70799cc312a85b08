"""The plan workspace in the window: images join the plan as they open and leave it as they
close, set_plan and new_plan, calibrations, frames of a cine, and what other features use."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from prolo_planner.core.calibration import CalibrationSource
from prolo_planner.core.geometry import Point
from prolo_planner.core.measure import Units
from prolo_planner.core.plan import AnnotationKind, Caliper, ImagePlan, ImageRef, Plan, Target
from prolo_planner.imaging.open import open_image
from prolo_planner.paths import data_dir
from prolo_planner.ui.image_view import ImageView, tidy_frame_problem
from prolo_planner.ui.main_window import MainWindow
from prolo_planner.ui.plan_controller import PlanController
from tests.ui.plan_window_support import (
    HIP_CINE,
    HIP_GRAB,
    LUMBAR,
    add,
    click,
    drag,
    fit_1to1,
    make_window,
    open_images,
)


@pytest.fixture
def window(qtbot) -> MainWindow:
    return make_window(qtbot)


def test_an_opened_image_joins_the_plan_as_one_undo_step(qtbot, window) -> None:
    open_images(qtbot, window, LUMBAR)
    (image,) = window.plan.plan.images
    source = window.images[0].source
    assert image.ref == ImageRef(
        str(LUMBAR), sop_instance_uid=source.info.sop_instance_uid, frame_count=1
    )
    assert source.info.sop_instance_uid  # a real UID from the file
    assert window.current_image_id() == image.id
    assert window.plan.undo_stack.text(0) == "Add image 'lumbar_long_axis_rgb.dcm'"
    # The file's own calibration feeds the plan's measurements.
    in_force = window.plan.calibration(image.id)
    assert [r.spacing for r in in_force.regions] == [r.spacing for r in source.calibration.regions]
    assert in_force.regions[0].probe is not None  # the geometry the file and image give
    caliper = add(window, Caliper(image.id, Point(120, 100), Point(120, 200)))
    measured = window.plan.measurements.calipers[caliper.id]
    assert measured.units is Units.MM
    assert measured.value == pytest.approx(100 * source.calibration.regions[0].mm_per_px_y)

    window.plan.undo()  # the caliper
    window.plan.undo()  # the image: it leaves the viewer too
    assert window.plan.plan.images == () and window.thumbnails.count() == 0
    assert window.current_image_id() is None and window.windowTitle() == "Prolo Planner"
    window.plan.redo()
    assert window.thumbnails.count() == 1 and window.current_image_id() == image.id
    np.testing.assert_array_equal(window.pane.view.frame, open_image(LUMBAR).frame(0))


def test_closing_an_image_takes_its_annotations_and_undo_brings_them_back(qtbot, window) -> None:
    open_images(qtbot, window, LUMBAR, HIP_GRAB)
    window.thumbnails.setCurrentRow(0)
    lumbar_id = window.current_image_id()
    target = add(window, Target(lumbar_id, Point(300, 250), name="L4-L5"))
    window.remove_answers = [False]  # Ctrl+W asks first: the clinician says no
    window.window_actions.act_close.trigger()
    assert window.removals == [("lumbar_long_axis_rgb.dcm", 1)]
    assert len(window.plan.plan.images) == 2 and window.thumbnails.count() == 2
    window.window_actions.act_close.trigger()  # and now yes
    assert [im.ref.path for im in window.plan.plan.images] == [str(HIP_GRAB)]
    assert window.plan.plan.annotations == () and window.thumbnails.count() == 1
    assert window.statusBar().currentMessage() == (
        "lumbar_long_axis_rgb.dcm closed and taken out of the plan with its 1 annotation(s): "
        "Edit > Undo brings them back"
    )
    assert window.edit_actions.act_undo.text() == "&Undo Remove image 'lumbar_long_axis_rgb.dcm'"
    window.edit_actions.act_undo.trigger()
    assert window.plan.plan.find(target.id) == target and window.thumbnails.count() == 2
    window.show_image_id(lumbar_id)
    assert window.workspace.layer.shown_ids() == {target.id}


def test_set_plan_opens_its_images_and_replaces_the_controller(qtbot, window, tmp_path) -> None:
    open_images(qtbot, window, HIP_GRAB)
    old = window.plan
    lumbar = ImagePlan(ImageRef("lumbar.dcm"), region="lumbar_spine")  # relative to base_dir
    target = Target(lumbar.id, Point(300, 250), name="L4-L5 supraspinous ligament")
    plan = Plan(images=(lumbar,), annotations=(target,), title="Session 3")
    (tmp_path / "lumbar.dcm").write_bytes(LUMBAR.read_bytes())
    replaced: list[PlanController] = []
    shown: list[str | None] = []
    window.plan_replaced.connect(replaced.append)
    window.current_image_changed.connect(shown.append)

    window.set_plan(plan, title="Session 3", base_dir=tmp_path)
    assert replaced == [window.plan] and window.plan is not old
    assert window.plan.plan == plan and not window.plan.is_modified
    assert [im.path for im in window.images] == [tmp_path / "lumbar.dcm"]  # the grab closed
    assert shown[-1] == lumbar.id == window.current_image_id()
    assert window.workspace.layer.shown_ids() == {target.id}
    assert window.windowTitle() == "Prolo Planner — Session 3"
    assert window.image_properties.region.currentText() == "Lumbar spine"
    assert window.tool_bar.avoid_box.currentText() == "spinal canal and dura (interlaminar window)"

    window.new_plan()  # over the images open now, nothing on them
    assert [im.ref.path for im in window.plan.plan.images] == [str(tmp_path / "lumbar.dcm")]
    assert window.plan.plan.annotations == () and not window.plan.is_modified
    assert window.workspace.layer.shown_ids() == frozenset()


def test_annotations_show_on_their_own_frame_and_mark_the_slider(qtbot, window) -> None:
    open_images(qtbot, window, HIP_CINE)
    fit_1to1(window)
    image_id = window.current_image_id()
    window.pane.cine.seek(10)
    window.tool_bar.activate("target")
    click(qtbot, window, 300, 250)
    (target,) = window.plan.plan.targets()
    assert target.frame == 10
    slider = window.pane.bar.slider
    assert slider.marks == (10,)
    assert window.workspace.layer.shown_ids() == {target.id}
    window.pane.cine.seek(11)
    assert window.workspace.layer.shown_ids() == frozenset()  # another frame while scrubbing
    window.annotation_list.tree.itemDoubleClicked.emit(window.annotation_list.item(target.id), 0)
    assert window.pane.cine.index == 10 and window.workspace.layer.shown_ids() == {target.id}

    window.image_properties.key_frame.click()  # frame 11 of the chart
    assert window.plan.plan.image(image_id).key_frames == (10,)
    assert slider.key_frame_marks == (10,)
    window.plan.undo()
    assert slider.key_frame_marks == () and slider.marks == (10,)
    window.plan.undo()
    assert slider.marks == ()
    # The marks are drawn: a mark's column on the slider turns the annotated colour.
    window.plan.redo()
    image = slider.grab().toImage()
    x = round(slider.mark_x(10))
    colour = image.pixelColor(x, slider.height() - 2)
    assert (colour.red(), colour.green(), colour.blue()) == (70, 235, 130)


def test_a_manual_calibration_is_saved_in_the_plan_and_undone(qtbot, window) -> None:
    open_images(qtbot, window, HIP_GRAB)
    fit_1to1(window)
    image_id = window.current_image_id()
    caliper = add(window, Caliper(image_id, Point(100, 100), Point(100, 180)))
    assert window.plan.measurements.calipers[caliper.id].units is Units.PX
    window.tool_bar.tool_actions["calibrate"].trigger()
    click(qtbot, window, 50, 100)
    click(qtbot, window, 50, 140)  # 40 px are 10 mm
    qtbot.waitUntil(lambda: window.plan.plan.image(image_id).manual_calibration is not None)
    measured = window.plan.measurements.calipers[caliper.id]
    assert measured.units is Units.MM and measured.value == pytest.approx(20.0)
    assert "manual (depth scale)" in window.image_properties.calibration.text()
    assert window.pane.calibration.source is CalibrationSource.MANUAL  # the scale bar too
    assert "In use: manual (depth scale)" in window.metadata.plain_text()

    window.image_properties.clear_calibration.click()  # forget it: one undo step
    assert window.plan.plan.image(image_id).manual_calibration is None
    assert window.plan.measurements.calipers[caliper.id].units is Units.PX
    assert not window.pane.calibration.is_calibrated
    window.plan.undo()
    assert window.pane.calibration.is_calibrated
    assert window.plan.measurements.calipers[caliper.id].value == pytest.approx(20.0)


def test_menus_come_in_order_and_docks_join_details(qtbot, window) -> None:
    export = window.menu("Export")
    session = window.menu("Session")
    assert window.menu("Session") is session
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["File", "Edit", "View", "Image", "Plan", "Session", "Export", "Help"]
    assert export.title() == "E&xport"
    dock = window.add_dock("Sessions", "sessions_dock", QLabel("sessions"))
    qtbot.waitUntil(lambda: dock in window.tabifiedDockWidgets(window.metadata_dock))
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea
    shows = [a.text() for a in window.menu("View").actions()]
    assert "Show sessions panel" in shows


def test_kinds_are_shown_or_hidden_from_the_view_menu(qtbot, window) -> None:
    open_images(qtbot, window, LUMBAR)
    image_id = window.current_image_id()
    target = add(window, Target(image_id, Point(300, 250)))
    caliper = add(window, Caliper(image_id, Point(120, 100), Point(120, 200)))
    layer = window.workspace.layer
    window.window_actions.kind_actions[AnnotationKind.TARGET].trigger()  # unticked
    assert layer.shown_ids() == {caliper.id}
    window.new_plan()  # the choice stays with the window, whatever the plan
    again = add(window, Target(window.current_image_id(), Point(300, 250)))
    assert window.workspace.layer.shown_ids() == frozenset()
    window.window_actions.kind_actions[AnnotationKind.TARGET].trigger()
    assert window.workspace.layer.shown_ids() == {again.id}
    assert target.id not in window.workspace.layer.shown_ids()


def test_the_shortcuts_table_lists_the_tools(qtbot, window) -> None:
    rows = {(s.group, s.keys): s.what for s in window.show_shortcuts().shortcuts}
    assert rows[("Plan", "T")] == "Target: Place a target"
    assert rows[("Plan", "N")] == "Needle path: Draw a needle path from the skin to a target"
    assert rows[("Plan", "Esc")].startswith("Cancel what is half drawn")
    assert rows[("Edit", "Del")] == "Delete"


def test_a_malformed_catalog_is_a_notice_and_the_others_stay(qtbot) -> None:
    folder = data_dir() / "catalogs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "broken.json").write_text('{"format": "prolo-planner/catalog", "regi')
    w = make_window(qtbot)
    assert any("broken.json" in line and "not valid JSON" in line for line in w.messages.lines())
    assert w.catalogs.region("lumbar_spine") is not None
    json.dumps(sorted(w.catalogs.regions))  # the region list is intact


def test_view_only_select_moves_nothing(qtbot, window) -> None:
    open_images(qtbot, window, LUMBAR)
    fit_1to1(window)
    target = add(window, Target(window.current_image_id(), Point(300, 250)))
    plan = window.plan.plan
    window.set_plan(plan, read_only=True, read_only_reason="open in another window")
    fit_1to1(window)
    click(qtbot, window, 300, 250)
    assert window.plan.selection == {target.id}  # looking is allowed
    drag(qtbot, window, (300, 250), (340, 290))
    assert window.plan.plan == plan


# -- the viewer's corner text and frame problems (ui/image_view.py) ------------------------------
def test_the_corner_text_leaves_the_patient_banner_alone(qtbot) -> None:
    view = ImageView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    view.set_frame(np.full((300, 400), 128, np.uint8))
    view.zoom_1to1()
    shot = view.viewport().grab().toImage()
    top_left = [shot.pixelColor(x, y).red() for x in range(10, 90) for y in range(8, 40)]
    assert set(top_left) == {128}  # the scanner's banner stays readable
    bottom = [shot.pixelColor(x, y).red() for x in range(10, 90) for y in range(250, 292)]
    assert max(bottom) > 200 and min(bottom) < 60  # light text on its dark veil


def test_a_frame_problem_names_the_frame_once() -> None:
    reason = "truncated: frame 30 is missing (the file ends at byte 157431)"
    assert tidy_frame_problem(f"frame 30 cannot be shown: {reason}") == "T" + reason[1:]
    kept = "frame 3 cannot be shown: JPEG data is corrupt"
    assert tidy_frame_problem(kept) == kept
    assert tidy_frame_problem("frame 3 cannot be shown: frame 30 is missing") == (
        "frame 3 cannot be shown: frame 30 is missing"
    )


def test_the_checklist_arms_the_target_tool_with_a_name(qtbot, window) -> None:
    open_images(qtbot, window, LUMBAR)
    fit_1to1(window)
    image_id = window.current_image_id()
    props = window.image_properties
    props.region.setCurrentIndex(props.region.findData("lumbar_spine"))
    props.region.activated.emit(props.region.currentIndex())
    lumbar = window.catalogs.region("lumbar_spine")
    checklist = props.checklist
    checklist.list.itemDoubleClicked.emit(checklist.list.item(4))  # L4-L5 interspinous
    assert window.tool_bar.current == "target"
    click(qtbot, window, 268, 330)
    click(qtbot, window, 335, 196)  # then the catalog's order again: its first not placed
    names = [t.name for t in window.plan.plan.targets()]
    assert names == [lumbar.targets[4].name, lumbar.targets[0].name]
    assert [placed for _, placed in checklist.rows()][:5] == [True, False, False, False, True]
    assert window.plan.plan.image(image_id).region == "lumbar_spine"


def test_a_new_image_takes_the_region_its_file_names(qtbot, window) -> None:
    """The issue's finding: in a lumbar plan every new target got a lumbar name, even on a hip
    image. Each image now takes the region its file names (DICOM Body Part Examined HIP; the
    frame grab's name), and the target tool names that region's first target."""
    open_images(qtbot, window, LUMBAR)
    lumbar_id = window.current_image_id()
    assert window.plan.plan.image(lumbar_id).region == "lumbar_spine"  # BodyPartExamined LSPINE
    open_images(qtbot, window, HIP_CINE, HIP_GRAB)
    regions = [im.region for im in window.plan.plan.images]
    assert regions == ["lumbar_spine", "hip", "hip"]
    # Read from the files, not said by the clinician: closing asks nothing yet.
    assert not window.plan_files.needs_saving()
    window.show_image(1)
    fit_1to1(window)
    assert window.tool_bar.region.id == "hip"
    window.tool_bar.activate("target")
    click(qtbot, window, 300, 250)
    (target,) = window.plan.plan.targets()
    assert target.name == window.catalogs.region("hip").targets[0].name == "iliofemoral ligament"
