"""Drawing on the image with the mouse: every annotation kind, undo and redo, one drag one step,
linked paths, delete, copy and paste between frames and images, frames while scrubbing."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from prolo_planner.core.catalog import load_catalogs
from prolo_planner.core.geometry import Point, pixel_distance
from prolo_planner.core.overlay_primitives import Label, Line
from prolo_planner.core.plan import (
    AngleMeasurement,
    AvoidKind,
    AvoidZone,
    Caliper,
    ImagePlan,
    ImageRef,
    NeedlePath,
    Plan,
    SiteStatus,
    Target,
    TextNote,
    ZoneShape,
)
from prolo_planner.imaging.facts import image_facts
from prolo_planner.imaging.open import open_image
from prolo_planner.imaging.source import ImageSource
from prolo_planner.ui.annotation_layer import AnnotationLayer
from prolo_planner.ui.image_view import ImageView
from prolo_planner.ui.measure_tools import (
    AngleTool,
    AvoidZoneTool,
    CaliperTool,
    SkinLineTool,
    TextTool,
    ZoneDefaults,
)
from prolo_planner.ui.plan_controller import PlanController
from prolo_planner.ui.tools import NeedlePathTool, SelectTool, TargetDefaults, TargetTool
from prolo_planner.ui.viewer_pane import ViewerPane
from tests.conftest import SAMPLE_IMAGES

LUMBAR = SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm"  # 640x480, region x 91-605, y 60-459
HIP_CINE = SAMPLE_IMAGES / "hip_anterior_cine_ybr422_jpeg.dcm"  # 50 frames
LEFT = Qt.MouseButton.LeftButton


@dataclass
class Bench:
    """An image view showing a real ultrasound file, with a plan on it."""

    view: ImageView
    controller: PlanController
    layer: AnnotationLayer
    source: ImageSource
    image_id: str

    @property
    def plan(self) -> Plan:
        return self.controller.plan

    def at(self, x: float, y: float) -> QPoint:
        """The viewport position of an image point (whole pixels at 1:1)."""
        p = self.view.viewport_point(QPointF(x, y))
        return QPoint(round(p.x()), round(p.y()))

    def labels(self, annotation_id: str) -> list[str]:
        item = self.layer.label_item(annotation_id)
        assert item is not None
        return [p.text for p in item.primitives if isinstance(p, Label)]

    def only(self, kind: type):
        found = [a for a in self.plan.annotations if isinstance(a, kind)]
        assert len(found) == 1, found
        return found[0]


def make_bench(qtbot, path: Path = LUMBAR) -> Bench:
    source = open_image(path)
    image = ImagePlan(ImageRef(str(path), frame_count=source.frame_count))
    controller = PlanController(Plan(images=(image,)))
    controller.set_source_facts(image.id, image_facts(source))
    view = ImageView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    view.set_frame(source.frame(0), 0, source.frame_count)
    view.set_calibration(source.calibration)
    view.zoom_1to1()
    layer = AnnotationLayer(view, controller)
    layer.show_image(image.id, source.frame_count)
    return Bench(view, controller, layer, source, image.id)


@pytest.fixture
def bench(qtbot) -> Iterator[Bench]:
    b = make_bench(qtbot)
    yield b
    b.source.close()


def click(qtbot, bench: Bench, x: float, y: float, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(bench.view.viewport(), LEFT, modifier, bench.at(x, y))


def drag(qtbot, bench: Bench, start: tuple[float, float], end: tuple[float, float], steps=5):
    vp = bench.view.viewport()
    qtbot.mousePress(vp, LEFT, pos=bench.at(*start))
    for k in range(1, steps + 1):
        t = k / steps
        qtbot.mouseMove(
            vp, bench.at(start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t)
        )
    qtbot.mouseRelease(vp, LEFT, pos=bench.at(*end))


def add_target(bench: Bench, x: float, y: float, **kw) -> Target:
    from prolo_planner.core.edits import AddAnnotation

    target = Target(bench.image_id, Point(x, y), **kw)
    bench.controller.push(AddAnnotation(target))
    return target


def mm_between(bench: Bench, a: Point, b: Point) -> float:
    mm = bench.source.calibration.measure(a, b).mm
    assert mm is not None
    return mm


# -- each kind, drawn with the mouse ------------------------------------------------------------
def test_target_tool_places_targets_with_the_catalog_names_and_undoes(qtbot, bench: Bench) -> None:
    lumbar = load_catalogs().region("lumbar_spine")
    assert lumbar is not None
    bench.view.set_tool(TargetTool(bench.layer, TargetDefaults(catalog=lumbar)))
    click(qtbot, bench, 300, 250)
    first = bench.only(Target)
    assert first.position == Point(300, 250) and first.frame is None
    assert first.name == lumbar.targets[0].name and first.kind is lumbar.targets[0].kind
    depth = bench.controller.measurements.target_depths[first.id].value
    assert bench.labels(first.id) == [f"{first.name} · {depth:.1f} mm deep"]
    assert bench.controller.selection == {first.id}

    click(qtbot, bench, 420, 240)
    names = [t.name for t in bench.plan.targets()]
    assert names == [lumbar.targets[0].name, lumbar.targets[1].name]  # the next not placed

    stack = bench.controller.undo_stack
    assert stack.count() == 2 and stack.text(0) == f"Add target '{names[0]}'"
    bench.controller.undo()
    assert [t.name for t in bench.plan.targets()] == names[:1]
    assert bench.layer.item(first.id).isVisible()
    bench.controller.undo()
    assert bench.plan.targets() == () and bench.layer.shown_ids() == frozenset()
    bench.controller.redo()
    bench.controller.redo()
    assert [t.position for t in bench.plan.targets()] == [Point(300, 250), Point(420, 240)]
    assert len(bench.layer.shown_ids()) == 2


def test_needle_path_dragged_from_a_target_to_the_skin(qtbot, bench: Bench) -> None:
    target = add_target(bench, 300, 250, name="L4-L5 interspinous")
    bench.view.set_tool(NeedlePathTool(bench.layer))
    drag(qtbot, bench, (302, 251), (220, 90))  # pressed on the marker, released on the skin
    path = bench.only(NeedlePath)
    assert path.target_id == target.id and path.entry == Point(220, 90)
    length = mm_between(bench, Point(220, 90), Point(300, 250))
    # The angle to the convex face where the target's beam meets it (core tests check it).
    angle = bench.controller.measurements.path(path.id).angle_deg.value
    assert bench.labels(path.id)[0].splitlines()[0] == f"{length:.1f} mm · {angle:.0f}°"
    bench.controller.undo()
    assert bench.plan.paths_to(target.id) == ()
    bench.controller.redo()
    assert bench.plan.paths_to(target.id) == (path,)


def test_needle_path_from_the_entry_onto_a_target_and_by_two_clicks(qtbot, bench: Bench) -> None:
    target = add_target(bench, 300, 250)
    tool = NeedlePathTool(bench.layer)
    bench.view.set_tool(tool)
    drag(qtbot, bench, (400, 90), (299, 249))
    assert [p.entry for p in bench.plan.paths_to(target.id)] == [Point(400, 90)]

    click(qtbot, bench, 200, 100)  # the entry...
    qtbot.mouseMove(bench.view.viewport(), bench.at(260, 180))
    live = [p.text for p in bench.layer.preview.primitives if isinstance(p, Label)]
    assert tool.busy and live[0].startswith(
        f"{mm_between(bench, Point(200, 100), Point(260, 180)):.1f} mm"
    )
    click(qtbot, bench, 301, 252)  # ...then the target
    entries = [p.entry for p in bench.plan.paths_to(target.id)]
    assert entries == [Point(400, 90), Point(200, 100)]
    assert not tool.busy and not bench.layer.preview.isVisible()


def test_an_entry_clicked_in_the_banner_lands_on_the_transducer_face(qtbot, bench: Bench) -> None:
    target = add_target(bench, 300, 250)
    bench.view.set_tool(NeedlePathTool(bench.layer))
    drag(qtbot, bench, (300, 250), (250, 20))  # y 20 is the patient banner, above the region
    (path,) = bench.plan.paths_to(target.id)
    # Straight down onto the convex face: at column 250 its arc around the apex.
    probe = bench.controller.calibration(target.image_id).regions[0].probe
    radius = probe.zero_y - probe.apex_y
    assert path.entry.x == 250
    assert path.entry.y == pytest.approx(probe.apex_y + math.sqrt(radius**2 - (250 - 342) ** 2))
    geometry = bench.controller.measurements.path(path.id)
    assert geometry.entry_depth_mm == pytest.approx(0.0, abs=1e-9)


def test_avoid_zone_polygon_by_clicks_closed_by_double_click(qtbot, bench: Bench) -> None:
    tool = AvoidZoneTool(bench.layer, ZoneDefaults(kind=AvoidKind.ARTERY, name="segmental artery"))
    bench.view.set_tool(tool)
    for x, y in ((240, 140), (300, 135), (310, 180)):
        click(qtbot, bench, x, y)
    click(qtbot, bench, 400, 400)
    qtbot.keyClick(bench.view, Qt.Key.Key_Backspace)  # takes back the stray vertex
    click(qtbot, bench, 250, 185)
    qtbot.mouseDClick(bench.view.viewport(), LEFT, pos=bench.at(250, 185))
    zone = bench.only(AvoidZone)
    assert zone.shape is ZoneShape.POLYGON and zone.kind is AvoidKind.ARTERY
    assert zone.points == (Point(240, 140), Point(300, 135), Point(310, 180), Point(250, 185))
    assert bench.labels(zone.id) == ["segmental artery"]
    bench.controller.undo()
    assert bench.plan.annotations == () and bench.layer.shown_ids() == frozenset()
    bench.controller.redo()
    assert bench.only(AvoidZone) == zone and bench.layer.shown_ids() == {zone.id}


def test_avoid_zone_polygon_closed_by_enter_and_cancelled_by_escape(qtbot, bench: Bench) -> None:
    tool = AvoidZoneTool(bench.layer)
    bench.view.set_tool(tool)
    for x, y in ((100, 100), (150, 100), (150, 150)):
        click(qtbot, bench, x, y)
    qtbot.keyClick(bench.view, Qt.Key.Key_Escape)
    assert bench.plan.annotations == () and not tool.busy
    for x, y in ((100, 100), (150, 100), (150, 150)):
        click(qtbot, bench, x, y)
    qtbot.keyClick(bench.view, Qt.Key.Key_Return)
    assert bench.only(AvoidZone).points == (Point(100, 100), Point(150, 100), Point(150, 150))


def test_avoid_zone_ellipse_by_dragging_its_box(qtbot, bench: Bench) -> None:
    bench.view.set_tool(AvoidZoneTool(bench.layer, ZoneDefaults(shape=ZoneShape.ELLIPSE)))
    drag(qtbot, bench, (200, 200), (260, 230))
    zone = bench.only(AvoidZone)
    assert zone.shape is ZoneShape.ELLIPSE and zone.points == (Point(200, 200), Point(260, 230))
    bench.controller.undo()
    assert bench.plan.annotations == ()
    bench.controller.redo()
    assert bench.only(AvoidZone) == zone


def test_caliper_shows_the_distance_under_the_cursor_while_drawing(qtbot, bench: Bench) -> None:
    bench.view.set_tool(CaliperTool(bench.layer))
    vp = bench.view.viewport()
    qtbot.mousePress(vp, LEFT, pos=bench.at(150, 300))
    qtbot.mouseMove(vp, bench.at(200, 300))
    live = [p.text for p in bench.layer.preview.primitives if isinstance(p, Label)]
    assert live == [f"{mm_between(bench, Point(150, 300), Point(200, 300)):.1f} mm"]
    qtbot.mouseMove(vp, bench.at(250, 340))
    live = [p.text for p in bench.layer.preview.primitives if isinstance(p, Label)]
    assert live == [f"{mm_between(bench, Point(150, 300), Point(250, 340)):.1f} mm"]
    qtbot.mouseRelease(vp, LEFT, pos=bench.at(250, 340))
    caliper = bench.only(Caliper)
    assert (caliper.a, caliper.b) == (Point(150, 300), Point(250, 340))
    assert bench.labels(caliper.id) == live
    assert not bench.layer.preview.isVisible()
    bench.controller.undo()
    assert bench.plan.annotations == ()
    bench.controller.redo()
    assert bench.only(Caliper) == caliper


def test_a_caliper_outside_the_calibrated_region_says_pixels(qtbot, bench: Bench) -> None:
    bench.view.set_tool(CaliperTool(bench.layer))
    drag(qtbot, bench, (20, 100), (80, 100))  # left of the region: the scanner's text column
    caliper = bench.only(Caliper)
    assert bench.labels(caliper.id) == ["60 px ⚠"]


def test_angle_by_three_clicks_follows_the_cursor(qtbot, bench: Bench) -> None:
    bench.view.set_tool(AngleTool(bench.layer))
    click(qtbot, bench, 300, 200)  # one arm's end
    click(qtbot, bench, 200, 300)  # the vertex
    qtbot.mouseMove(bench.view.viewport(), bench.at(300, 300))
    live = [p.text for p in bench.layer.preview.primitives if isinstance(p, Label)]
    assert live == ["45°"]
    click(qtbot, bench, 200, 200)
    angle = bench.only(AngleMeasurement)
    assert (angle.a, angle.vertex, angle.b) == (Point(300, 200), Point(200, 300), Point(200, 200))
    assert bench.labels(angle.id) == ["45°"]
    bench.controller.undo()
    bench.controller.redo()
    assert bench.only(AngleMeasurement) == angle


def test_text_note_asks_its_text_after_two_clicks(qtbot, bench: Bench) -> None:
    asked = []
    tool = TextTool(bench.layer, ask_text=lambda parent: asked.append(parent) or "facet joint")
    bench.view.set_tool(tool)
    click(qtbot, bench, 400, 300)
    click(qtbot, bench, 470, 250)
    qtbot.waitUntil(lambda: bool(bench.plan.annotations))
    note = bench.only(TextNote)
    assert (note.arrow_to, note.text_at, note.text) == (
        Point(400, 300),
        Point(470, 250),
        "facet joint",
    )
    assert asked == [bench.view] and bench.labels(note.id) == ["facet joint"]
    bench.controller.undo()
    assert bench.plan.annotations == ()
    bench.controller.redo()
    assert bench.only(TextNote) == note and bench.labels(note.id) == ["facet joint"]


def test_skin_line_sets_where_depth_is_measured_from(qtbot, bench: Bench) -> None:
    target = add_target(bench, 300, 250)
    before = bench.labels(target.id)
    bench.view.set_tool(SkinLineTool(bench.layer))
    click(qtbot, bench, 100, 100)
    click(qtbot, bench, 500, 100)
    assert bench.plan.image(bench.image_id).skin_line == (Point(100, 100), Point(500, 100))
    spacing = bench.source.calibration.regions[0].mm_per_px_y
    depth = bench.controller.measurements.target_depths[target.id].value
    assert bench.labels(target.id) == [f"ligament · {depth:.1f} mm deep"]
    # Along the convex beam just left of the centre: a little more than 150 rows straight down.
    assert 150 * spacing < depth < 150 * spacing + 0.3
    assert (
        bench.controller.undo_stack.text(1)
        == "Draw the skin line on image 'lumbar_long_axis_rgb.dcm'"
    )
    bench.controller.undo()
    assert bench.plan.image(bench.image_id).skin_line is None
    assert bench.labels(target.id) == before
    bench.controller.redo()
    assert bench.plan.image(bench.image_id).skin_line == (Point(100, 100), Point(500, 100))
    line = next(p for p in bench.layer.item(bench.image_id).primitives if isinstance(p, Line))
    assert (line.a, line.b) == (Point(100, 100), Point(500, 100))


# -- selecting and moving -----------------------------------------------------------------------
def test_dragging_a_target_is_one_undo_step_and_moves_its_path_end(qtbot, bench: Bench) -> None:
    target = add_target(bench, 300, 250)
    bench.view.set_tool(NeedlePathTool(bench.layer))
    drag(qtbot, bench, (300, 250), (220, 90))
    path = bench.only(NeedlePath)
    steps = bench.controller.undo_stack.count()
    bench.view.set_tool(SelectTool(bench.layer))
    drag(qtbot, bench, (300, 250), (340, 270), steps=8)
    assert bench.plan.annotation(target.id).position == Point(340, 270)
    assert bench.controller.undo_stack.count() == steps + 1  # eight moves, one step
    line = next(p for p in bench.layer.item(path.id).primitives if isinstance(p, Line))
    assert (line.a, line.b) == (Point(220, 90), Point(340, 270))
    length = mm_between(bench, Point(220, 90), Point(340, 270))
    assert bench.labels(path.id)[0].startswith(f"{length:.1f} mm")
    bench.controller.undo()
    assert bench.plan.annotation(target.id).position == Point(300, 250)
    line = next(p for p in bench.layer.item(path.id).primitives if isinstance(p, Line))
    assert line.b == Point(300, 250)


def test_a_drag_that_comes_back_leaves_no_undo_step(qtbot, bench: Bench) -> None:
    target = add_target(bench, 300, 250)
    bench.view.set_tool(SelectTool(bench.layer))
    vp = bench.view.viewport()
    qtbot.mousePress(vp, LEFT, pos=bench.at(300, 250))
    qtbot.mouseMove(vp, bench.at(330, 260))
    qtbot.mouseMove(vp, bench.at(300, 250))
    qtbot.mouseRelease(vp, LEFT, pos=bench.at(300, 250))
    assert bench.controller.undo_stack.count() == 1  # the add alone
    assert bench.plan.annotation(target.id).position == Point(300, 250)


def test_escape_during_a_drag_puts_it_back(qtbot, bench: Bench) -> None:
    target = add_target(bench, 300, 250)
    bench.view.set_tool(SelectTool(bench.layer))
    vp = bench.view.viewport()
    qtbot.mousePress(vp, LEFT, pos=bench.at(300, 250))
    qtbot.mouseMove(vp, bench.at(350, 280))
    qtbot.keyClick(bench.view, Qt.Key.Key_Escape)
    qtbot.mouseRelease(vp, LEFT, pos=bench.at(350, 280))
    assert bench.plan.annotation(target.id).position == Point(300, 250)
    assert bench.controller.undo_stack.count() == 1


def test_a_handle_moves_one_end_of_a_caliper(qtbot, bench: Bench) -> None:
    bench.view.set_tool(CaliperTool(bench.layer))
    drag(qtbot, bench, (150, 300), (250, 300))
    caliper = bench.only(Caliper)
    assert bench.controller.selection == {caliper.id}  # selected: its handles show
    bench.view.set_tool(SelectTool(bench.layer))
    drag(qtbot, bench, (250, 300), (250, 350))
    moved = bench.only(Caliper)
    assert (moved.a, moved.b) == (Point(150, 300), Point(250, 350))
    drag(qtbot, bench, (200, 325), (210, 335))  # the middle of the line: the whole caliper
    assert (bench.only(Caliper).a, bench.only(Caliper).b) == (Point(160, 310), Point(260, 360))
    assert bench.controller.undo_stack.count() == 3


def test_a_polygon_vertex_and_an_ellipse_side_move_by_their_handles(qtbot, bench: Bench) -> None:
    bench.view.set_tool(AvoidZoneTool(bench.layer, ZoneDefaults(shape=ZoneShape.ELLIPSE)))
    drag(qtbot, bench, (200, 200), (260, 240))
    zone = bench.only(AvoidZone)
    bench.view.set_tool(SelectTool(bench.layer))
    drag(qtbot, bench, (260, 220), (280, 225))  # the right side's handle
    assert bench.plan.annotation(zone.id).points == (Point(200, 200), Point(280, 240))


def test_shift_click_adds_and_a_band_selects_what_it_encloses(qtbot, bench: Bench) -> None:
    t1 = add_target(bench, 300, 250)
    t2 = add_target(bench, 420, 240)
    far = add_target(bench, 150, 400)
    bench.view.set_tool(SelectTool(bench.layer))
    click(qtbot, bench, 300, 250)
    click(qtbot, bench, 420, 240, Qt.KeyboardModifier.ShiftModifier)
    assert bench.controller.selection == {t1.id, t2.id}
    click(qtbot, bench, 520, 420)  # on nothing: clears
    assert bench.controller.selection == frozenset()
    drag(qtbot, bench, (250, 200), (450, 300))
    assert bench.controller.selection == {t1.id, t2.id}
    assert far.id not in bench.controller.selection


def test_delete_then_undo_restores_the_target_and_its_path(qtbot, bench: Bench) -> None:
    target = add_target(bench, 300, 250)
    bench.view.set_tool(NeedlePathTool(bench.layer))
    drag(qtbot, bench, (300, 250), (220, 90))
    path = bench.only(NeedlePath)
    bench.view.set_tool(SelectTool(bench.layer))
    click(qtbot, bench, 300, 250)
    qtbot.keyClick(bench.view, Qt.Key.Key_Delete)
    assert bench.plan.annotations == ()
    assert bench.layer.item(target.id) is None and bench.layer.item(path.id) is None
    assert bench.controller.undo_stack.text(bench.controller.undo_stack.index() - 1) == (
        "Delete target and its needle path"
    )
    bench.controller.undo()
    assert bench.plan.annotation(target.id) == target and bench.plan.annotation(path.id) == path
    assert bench.layer.shown_ids() == {target.id, path.id}


def test_the_context_menu_sets_a_target_status(qtbot, bench: Bench) -> None:
    target = add_target(bench, 300, 250)
    menu = bench.layer.context_menu_for(target.id)
    actions = {a.objectName(): a for a in menu.actions() if a.objectName()}
    assert actions["status_planned"].isChecked()
    actions["status_injected"].trigger()
    assert bench.plan.annotation(target.id).status is SiteStatus.INJECTED
    assert bench.labels(target.id)[0].endswith("✓")
    delete = next(a for a in menu.actions() if a.text() == "Delete")
    delete.trigger()
    assert bench.plan.annotations == ()


def test_a_right_click_on_an_annotation_asks_for_its_menu(qtbot, bench: Bench) -> None:
    add_target(bench, 300, 250)
    with qtbot.waitSignal(bench.view.context_menu_requested) as asked:
        qtbot.mouseClick(bench.view.viewport(), Qt.MouseButton.RightButton, pos=bench.at(300, 250))
    assert asked.args[0] == Point(300, 250)
    menu = bench.layer.context_menu
    assert menu is not None and menu.isVisible()
    assert [a.text() for a in menu.actions() if a.text()][:3] == ["Delete", "Copy", "Paste"]
    menu.close()
    # A right drag sets brightness instead, and asks for no menu.
    with qtbot.assertNotEmitted(bench.view.context_menu_requested):
        vp, right = bench.view.viewport(), Qt.MouseButton.RightButton
        qtbot.mousePress(vp, right, pos=bench.at(300, 250))
        qtbot.mouseMove(vp, bench.at(330, 260))
        qtbot.mouseRelease(vp, right, pos=bench.at(330, 260))


def test_the_view_still_pans_zooms_and_sets_brightness_with_a_tool(qtbot, bench: Bench) -> None:
    bench.view.set_tool(TargetTool(bench.layer))
    centre = bench.view.centre
    vp = bench.view.viewport()
    middle = Qt.MouseButton.MiddleButton
    qtbot.mousePress(vp, middle, pos=QPoint(400, 300))
    qtbot.mouseMove(vp, QPoint(350, 280))
    qtbot.mouseRelease(vp, middle, pos=QPoint(350, 280))
    assert bench.view.centre == centre + QPointF(50, 20)
    assert bench.plan.annotations == ()
    right = Qt.MouseButton.RightButton
    qtbot.mousePress(vp, right, pos=QPoint(400, 300))
    qtbot.mouseMove(vp, QPoint(360, 270))
    qtbot.mouseRelease(vp, right, pos=QPoint(360, 270))
    assert not bench.view.display.is_identity
    assert bench.plan.annotations == ()


# -- frames, copy and paste -------------------------------------------------------------------
@pytest.fixture
def cine_pane(qtbot) -> Iterator[tuple[ViewerPane, Bench]]:
    pane = ViewerPane()
    qtbot.addWidget(pane)
    pane.resize(800, 640)
    pane.show()
    qtbot.waitExposed(pane)
    source = open_image(HIP_CINE)
    pane.set_source(source)
    image = ImagePlan(ImageRef(str(HIP_CINE), frame_count=source.frame_count))
    controller = PlanController(Plan(images=(image,)))
    controller.set_source_facts(image.id, image_facts(source))
    layer = AnnotationLayer(pane.view, controller)
    layer.show_image(image.id, source.frame_count, pane.cine.index)
    pane.frame_changed.connect(layer.set_frame)
    pane.view.zoom_1to1()
    yield pane, Bench(pane.view, controller, layer, source, image.id)
    pane.set_source(None)
    source.close()


def test_annotations_show_only_on_their_frame_while_scrubbing(qtbot, cine_pane) -> None:
    pane, bench = cine_pane
    pane.cine.seek(3)
    bench.view.set_tool(TargetTool(bench.layer))
    click(qtbot, bench, 300, 250)
    on_three = bench.only(Target)
    assert on_three.frame == 3
    every = add_target(bench, 350, 260, frame=None)
    assert bench.layer.shown_ids() == {on_three.id, every.id}
    pane.step(1)
    assert bench.layer.frame == 4
    assert bench.layer.shown_ids() == {every.id}
    assert not bench.layer.item(on_three.id).isVisible()
    pane.step(-1)
    assert bench.layer.shown_ids() == {on_three.id, every.id}
    assert bench.plan.annotated_frames(bench.image_id) == {3}


def test_copy_and_paste_onto_another_frame(qtbot, cine_pane) -> None:
    pane, bench = cine_pane
    pane.cine.seek(3)
    bench.view.set_tool(TargetTool(bench.layer))
    click(qtbot, bench, 300, 250)
    bench.view.set_tool(NeedlePathTool(bench.layer))
    drag(qtbot, bench, (300, 250), (240, 90))
    target, path = bench.only(Target), bench.only(NeedlePath)
    assert bench.controller.copy([target.id, path.id]) == 2
    pane.cine.seek(10)
    assert bench.layer.shown_ids() == frozenset()
    pasted = bench.layer.paste()
    assert len(pasted) == 2 and set(pasted) == bench.layer.shown_ids()
    copy_target = next(
        a for a in bench.plan.annotations if a.id in pasted and isinstance(a, Target)
    )
    copy_path = next(
        a for a in bench.plan.annotations if a.id in pasted and isinstance(a, NeedlePath)
    )
    assert copy_target.frame == 10 and copy_target.position == target.position
    assert copy_path.target_id == copy_target.id and copy_path.entry == path.entry
    assert bench.controller.undo_stack.text(bench.controller.undo_stack.index() - 1) == (
        "Paste 2 annotations"
    )
    pane.cine.seek(3)
    assert bench.layer.shown_ids() == {target.id, path.id}
    bench.controller.undo()
    assert len(bench.plan.annotations) == 2


def test_copy_and_paste_onto_another_image(qtbot, bench: Bench) -> None:
    target = add_target(bench, 300, 250, name="L4-L5")
    bench.view.set_tool(NeedlePathTool(bench.layer))
    drag(qtbot, bench, (300, 250), (220, 90))
    bench.controller.copy([target.id, bench.only(NeedlePath).id])
    other = ImagePlan(ImageRef(str(SAMPLE_IMAGES / "lumbar_dual_view_ybr422_jpeg.dcm")))
    from prolo_planner.core.edits import AddImage

    bench.controller.push(AddImage(other))
    bench.layer.show_image(other.id)
    assert bench.layer.shown_ids() == frozenset()
    pasted = bench.layer.paste()
    copies = [bench.plan.annotation(i) for i in pasted]
    assert {a.image_id for a in copies} == {other.id}
    assert [type(a) for a in copies] == [Target, NeedlePath]
    assert copies[0].name == "L4-L5" and copies[1].target_id == copies[0].id
    assert bench.layer.shown_ids() == set(pasted)


def test_the_unsaved_mark_follows_edits_undo_and_save(qtbot, bench: Bench) -> None:
    marks: list[bool] = []
    bench.controller.modified_changed.connect(marks.append)
    assert not bench.controller.is_modified and bench.controller.is_clean
    bench.view.set_tool(TargetTool(bench.layer))
    click(qtbot, bench, 300, 250)
    assert bench.controller.is_modified and not bench.controller.is_clean
    bench.controller.undo()
    assert not bench.controller.is_modified and bench.controller.is_clean
    bench.controller.redo()
    bench.controller.mark_saved()
    assert not bench.controller.is_modified and bench.controller.is_clean
    assert marks == [True, False, True, False]
    assert pixel_distance(bench.only(Target).position, Point(300, 250)) == 0


def test_the_skin_line_moves_by_its_handles_in_one_step(qtbot, bench: Bench) -> None:
    bench.view.set_tool(SkinLineTool(bench.layer))
    drag(qtbot, bench, (100, 100), (500, 100))
    assert bench.controller.selection == {bench.image_id}
    bench.view.set_tool(SelectTool(bench.layer))
    drag(qtbot, bench, (500, 100), (500, 130), steps=6)
    assert bench.plan.image(bench.image_id).skin_line == (Point(100, 100), Point(500, 130))
    assert bench.controller.undo_stack.count() == 2
    bench.controller.undo()
    assert bench.plan.image(bench.image_id).skin_line == (Point(100, 100), Point(500, 100))
