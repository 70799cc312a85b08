"""Calibrating and setting depth zero are tools that make plan edits (one undo step each), and the
image's depth box says where depth zero comes from and offers to set it when it is a guess."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from prolo_planner.core.calibration import CalibrationSource
from prolo_planner.core.edits import AddAnnotation
from prolo_planner.core.geometry import Point
from prolo_planner.core.image_calibration import ImageFacts
from prolo_planner.core.plan import Caliper, ProbeShape, Target
from prolo_planner.core.probe import Origin
from prolo_planner.ui.calibration_tools import CalibrateTool, DepthZeroTool
from prolo_planner.ui.main_window import MainWindow
from tests.conftest import pydicom_file
from tests.ui.plan_window_support import HIP_GRAB, click, fit_1to1, make_window, open_images
from tests.ui.test_annotation_tools import Bench, make_bench
from tests.ui.test_annotation_tools import click as bench_click

SONOSITE = pydicom_file("examples_ybr_color.dcm")  # 320x240, region rows 31-239, no reference


@pytest.fixture
def grab(qtbot) -> Iterator[Bench]:
    b = make_bench(qtbot, HIP_GRAB)
    yield b
    b.source.close()


def test_calibrating_is_two_clicks_and_one_undo_step(qtbot, grab: Bench) -> None:
    caliper = Caliper(grab.image_id, Point(100, 100), Point(100, 180))
    grab.controller.push(AddAnnotation(caliper))
    assert grab.controller.measurements.calipers[caliper.id].problem == "image not calibrated"
    asked: list[float] = []
    tool = CalibrateTool(grab.layer, ask_mm=lambda _parent, px: asked.append(px) or 10.0)
    grab.view.set_tool(tool)
    bench_click(qtbot, grab, 600, 100)
    assert tool.busy
    bench_click(qtbot, grab, 600, 140)  # two ticks 40 px apart...
    qtbot.waitUntil(lambda: grab.plan.image(grab.image_id).manual_calibration is not None)
    assert asked == [pytest.approx(40.0)]  # ...and the clinician says 10 mm
    calibration = grab.controller.calibration(grab.image_id)
    assert calibration.source is CalibrationSource.MANUAL
    assert grab.controller.measurements.calipers[caliper.id].value == pytest.approx(20.0)
    assert grab.controller.undo_stack.text(grab.controller.undo_stack.index() - 1) == (
        "Calibrate image 'hip_anterior_frame_grab.png'"
    )
    grab.controller.undo()
    assert grab.plan.image(grab.image_id).manual_calibration is None
    assert grab.controller.measurements.calipers[caliper.id].units.value == "px"


def test_a_refused_distance_or_escape_leaves_the_image_as_it_was(qtbot, grab: Bench) -> None:
    tool = CalibrateTool(grab.layer, ask_mm=lambda _parent, _px: None)
    grab.view.set_tool(tool)
    bench_click(qtbot, grab, 600, 100)
    bench_click(qtbot, grab, 600, 140)
    qtbot.wait(20)
    assert grab.plan.image(grab.image_id).manual_calibration is None
    bench_click(qtbot, grab, 600, 100)
    assert tool.key(Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
    assert not tool.busy and grab.controller.undo_stack.count() == 0


def test_the_0_tick_sets_depth_zero_as_the_clinicians(qtbot) -> None:
    bench = make_bench(qtbot, SONOSITE)
    try:
        target = Target(bench.image_id, Point(160, 140))
        bench.controller.push(AddAnnotation(target))
        before = bench.controller.calibration(bench.image_id).regions[0].probe
        assert before is not None and before.zero_from is not Origin.CLINICIAN
        bench.view.set_tool(DepthZeroTool(bench.layer))
        bench_click(qtbot, bench, 300, 40)  # the scale's 0 tick, right of the sector
        probe = bench.controller.calibration(bench.image_id).regions[0].probe
        assert probe.zero_from is Origin.CLINICIAN and probe.zero_y == pytest.approx(40.5, abs=1)
        depth = bench.controller.measurements.target_depths[target.id]
        spacing = bench.source.calibration.regions[0].mm_per_px_y
        assert depth.value >= (140 - probe.zero_y) * spacing - 1e-9  # along the beam: >= rows
        bench.controller.undo()
        assert bench.plan.image(bench.image_id).probe is None
    finally:
        bench.source.close()


# -- the depth box in the image panel -----------------------------------------------------------
@pytest.fixture
def window(qtbot) -> MainWindow:
    return make_window(qtbot)


def test_the_depth_box_says_where_depth_zero_comes_from_and_sets_it(qtbot, window) -> None:
    open_images(qtbot, window, SONOSITE)
    fit_1to1(window)
    image_id = window.current_image_id()
    box = window.image_properties.probe
    # The fan found in the pixels gives depth zero: said, not a guess.
    assert "found in the image" in box.summary.text()
    assert box.guess.isHidden()
    assert "Depth zero at row" in window.metadata.plain_text()  # the details say it too
    # Forget the image's finding (as for a frame grab with no fan): a guess, in amber, offered.
    window.plan.set_source_facts(image_id, ImageFacts(240, 320, 1, window.pane.source.calibration))
    assert not box.guess.isHidden()
    assert "a guess" in box.summary.text()
    box.zero_tick.click()
    assert window.tool_bar.current == "depth zero"
    click(qtbot, window, 300, 41)
    assert box.guess.isHidden()
    assert "set by the clinician" in box.summary.text()
    assert window.plan.plan.image(image_id).probe.zero_y == pytest.approx(41.5, abs=1)
    # The shape, corrected: linear, one undo step; "As found" forgets the corrections.
    box.shape.setCurrentIndex(box.shape.findData(ProbeShape.LINEAR.value))
    box.shape.activated.emit(box.shape.currentIndex())
    assert window.plan.plan.image(image_id).probe.shape is ProbeShape.LINEAR
    assert "linear (set by the clinician)" in box.summary.text()
    box.reset.click()
    assert window.plan.plan.image(image_id).probe is None
    window.plan.undo()
    assert window.plan.plan.image(image_id).probe.shape is ProbeShape.LINEAR
