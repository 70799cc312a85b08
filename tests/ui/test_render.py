"""The overlay painter: annotations burned into frames where they are and nowhere else, the
screen and the export drawing the same pixels, constant sizes at any zoom, readable labels."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QTransform

from prolo_planner.core.calibration import Calibration, CalibrationSource
from prolo_planner.core.edits import AddAnnotation
from prolo_planner.core.geometry import Point, segment_polygon_distance
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.measure import measure_plan
from prolo_planner.core.overlay import overlay_for
from prolo_planner.core.overlay_primitives import (
    Colour,
    Label,
    Line,
    MarginOutline,
    OverlayStyle,
    Pen,
    Placement,
    Role,
)
from prolo_planner.core.plan import (
    Approach,
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
from prolo_planner.core.safety import check_plan
from prolo_planner.render import (
    hit_primitive,
    label_scale_for,
    margin_polygons,
    overlay_device_bounds,
    render_annotated_frame,
)
from prolo_planner.render.qimage import qimage_to_frame
from tests.ui.test_annotation_tools import Bench, make_bench

STYLE = OverlayStyle()


def lumbar_plan(image: ImagePlan) -> Plan:
    """Two targets, a path through an artery's margin, a nerve, a caliper and a note."""
    t1 = Target(image.id, Point(300, 250), name="L4-L5 interspinous")
    t2 = Target(image.id, Point(440, 235), name="L5-S1", status=SiteStatus.INJECTED)
    path = NeedlePath(image.id, Point(230, 61), t1.id, needle_length_mm=50)
    path2 = NeedlePath(image.id, Point(520, 90), t2.id, approach=Approach.OUT_OF_PLANE)
    artery = AvoidZone(
        image.id,
        ZoneShape.ELLIPSE,
        (Point(250, 130), Point(290, 165)),
        kind=AvoidKind.ARTERY,
        name="segmental artery",
    )
    nerve = AvoidZone(
        image.id,
        ZoneShape.POLYGON,
        (Point(340, 330), Point(420, 320), Point(430, 380), Point(350, 390)),
        kind=AvoidKind.NERVE,
        name="L5 root",
    )
    caliper = Caliper(image.id, Point(130, 400), Point(230, 420))
    note = TextNote(image.id, Point(480, 300), Point(540, 270), "facet")
    return Plan((image,), (t1, t2, path, path2, artery, nerve, caliper, note), 70.0)


@pytest.fixture
def bench(qtbot) -> Iterator[Bench]:
    b = make_bench(qtbot)
    for a in lumbar_plan(b.plan.image(b.image_id)).annotations:
        b.controller.push(AddAnnotation(a))
    b.controller.clear_selection()
    yield b
    b.source.close()


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=-1)


# -- burned into a frame ------------------------------------------------------------------------
def test_the_overlay_changes_pixels_where_annotations_are_and_nowhere_else(bench: Bench) -> None:
    frame = bench.source.frame(0)
    primitives = bench.layer.primitives()
    out = render_annotated_frame(frame, primitives)
    assert out.shape == frame.shape and out.dtype == np.uint8
    diff = changed(out, frame)
    allowed = np.zeros(diff.shape, bool)
    for p in primitives:
        rect = overlay_device_bounds([p], QTransform()).toAlignedRect()
        here = diff[max(rect.top(), 0) : rect.bottom() + 1, max(rect.left(), 0) : rect.right() + 1]
        assert here.any(), f"{type(p).__name__} of {p.role} drew nothing"
        allowed[max(rect.top(), 0) : rect.bottom() + 1, max(rect.left(), 0) : rect.right() + 1] = (
            True
        )
    assert not (diff & ~allowed).any()
    assert diff[allowed].mean() > 0.2  # the rectangles are filled, not just touched
    # Far from every annotation (the right-hand depth scale), the frame is untouched.
    np.testing.assert_array_equal(out[300:460, 600:640], frame[300:460, 600:640])


def test_the_screen_at_one_to_one_and_the_export_draw_the_same_pixels(bench: Bench, qtbot) -> None:
    frame = bench.source.frame(0)
    exported = render_annotated_frame(frame, bench.layer.primitives(), text_scale=1.0)
    bench.view.viewport().repaint()
    shown = qimage_to_frame(bench.view.viewport().grab().toImage())
    origin = bench.view.viewport_point(QPointF(0, 0))
    x0, y0 = round(origin.x()), round(origin.y())
    assert (x0, y0) == (80, 60)  # the whole image is on screen
    on_screen = shown[y0 : y0 + 480, x0 : x0 + 640]
    overlay = changed(exported, frame) | changed(on_screen, frame)
    assert overlay.sum() > 15_000  # a real overlay, not a blank
    diff = np.abs(on_screen.astype(int) - exported.astype(int)).max(axis=-1)[overlay]
    assert np.percentile(diff, 99) <= 24, np.percentile(diff, [50, 90, 99, 100])
    assert diff.mean() < 2.0
    # Where the export left the frame alone, so did the screen.
    assert (changed(on_screen, frame) & ~changed(exported, frame)).sum() < 0.01 * overlay.sum()


def test_widths_and_labels_keep_their_screen_size_at_any_zoom(qtbot) -> None:
    bench = make_bench(qtbot)
    bench.view.set_frame(np.full((480, 640, 3), 128, np.uint8))  # plain: every change shows
    caliper = Caliper(bench.image_id, Point(100, 300), Point(300, 300))
    bench.controller.push(AddAnnotation(caliper))
    bench.controller.clear_selection()
    sizes = []
    for zoom in (1.0, 3.0):
        bench.view.zoom_1to1()
        bench.view.zoom_by(zoom, at=bench.view.viewport_point(QPointF(200, 300)))
        bench.view.viewport().repaint()
        drawn = np.any(qimage_to_frame(bench.view.viewport().grab().toImage()) != 128, axis=-1)
        # The line, well left of its label: how many screen rows it covers.
        at = bench.view.viewport_point(QPointF(150, 300))
        x, y = round(at.x()), round(at.y())
        line_rows = int(drawn[y - 15 : y + 15, x].sum())
        # The label above the middle: its box's screen size.
        mid = bench.view.viewport_point(QPointF(200, 300))
        x, y = round(mid.x()), round(mid.y())
        rows, cols = np.nonzero(drawn[y - 60 : y - 5, x - 80 : x + 80])
        sizes.append((line_rows, int(np.ptp(rows)), int(np.ptp(cols))))
    assert sizes[0] == sizes[1], sizes
    line_rows, height, width = sizes[0]
    assert 3 <= line_rows <= 8 and 14 <= height <= 26 and 40 <= width <= 90, sizes
    bench.source.close()


def test_labels_read_on_white_and_on_black(qapp) -> None:
    label = Label(
        text="L4-L5 · 28.7 mm deep",
        anchor=Point(20, 40),
        colour=STYLE.target,
        box=STYLE.label_box,
        annotation_id="t",
    )
    for level in (0, 255):
        frame = np.full((80, 240, 3), level, np.uint8)
        out = render_annotated_frame(frame, [label]).astype(int)
        box = out[30:50, 24:180]
        luminance = box.mean(axis=-1)
        text = np.abs(box - np.array([70, 235, 130])).max(axis=-1) < 60
        assert text.sum() > 100, "the label's own colour shows"
        # Behind the text a dark box on either frame, so the text stands out.
        assert np.median(luminance[~text]) < 110 if level == 255 else np.median(luminance) < 60


def test_a_zone_margin_lies_its_millimetres_outside_the_zone(qapp) -> None:
    calibration = Calibration.uniform(300, 300, 0.2, 0.2, CalibrationSource.PIXEL_SPACING)
    image = ImagePlan(ImageRef("phantom.png"))
    square = (Point(100, 100), Point(200, 100), Point(200, 200), Point(100, 200))
    zone = AvoidZone(image.id, ZoneShape.POLYGON, square, kind=AvoidKind.VEIN, margin_mm=4.0)
    plan = Plan((image,), (zone,))
    drawn = overlay_for(plan, image.id, None, calibration, measure_plan(plan, {}), ())
    (margin,) = [p for p in drawn if isinstance(p, MarginOutline)]
    assert (margin.grow_x, margin.grow_y) == pytest.approx((20.0, 20.0))
    frame = np.zeros((300, 300, 3), np.uint8)
    out = render_annotated_frame(frame, [replace(margin, pen=replace(margin.pen, width=1.0))])
    ys, xs = np.nonzero(changed(out, frame))
    distances = [
        segment_polygon_distance(Point(x + 0.5, y + 0.5), Point(x + 0.5, y + 0.5), square)
        for x, y in zip(xs, ys, strict=True)
    ]
    assert len(distances) > 300 and min(distances) >= 17.0 and max(distances) <= 23.0
    # Pixels twice as tall as wide: the margin reaches twice as many pixels across.
    outline = margin_polygons(ZoneShape.POLYGON, square, 40.0, 20.0)
    xs_, ys_ = [p.x for q in outline for p in q], [p.y for q in outline for p in q]
    assert min(xs_) == pytest.approx(60, abs=0.5) and max(xs_) == pytest.approx(240, abs=0.5)
    assert min(ys_) == pytest.approx(80, abs=0.5) and max(ys_) == pytest.approx(220, abs=0.5)


def test_an_export_can_be_larger_and_labels_grow_with_the_image(qapp) -> None:
    assert label_scale_for(640, 480) == 1.0 and label_scale_for(160, 120) == 1.0
    assert label_scale_for(1280, 960) == 2.0
    line = Line(
        a=Point(10, 30),
        b=Point(90, 30),
        pen=Pen(Colour(255, 255, 255), 2.0),
        annotation_id="c",
        role=Role.CALIPER,
    )
    frame = np.zeros((60, 100), np.uint8)  # a grey frame comes back RGB
    single = render_annotated_frame(frame, [line])
    double = render_annotated_frame(frame, [line], scale=2.0)
    assert single.shape == (60, 100, 3) and double.shape == (120, 200, 3)
    thickness = [
        int(changed(img, np.zeros_like(img))[:, img.shape[1] // 2].sum())
        for img in (single, double)
    ]
    assert thickness[1] == pytest.approx(2 * thickness[0], abs=2)
    assert (single[30, 50] == 255).all() and (double[60, 100] == 255).all()


def test_labels_stay_inside_an_exported_image(qapp) -> None:
    label = Label(
        text="a label at the edge",
        anchor=Point(95, 10),
        colour=Colour(255, 255, 255),
        placement=Placement.RIGHT,
        annotation_id="x",
    )
    frame = np.zeros((40, 100, 3), np.uint8)
    out = render_annotated_frame(frame, [label])
    assert changed(out, frame)[:, :60].any()  # moved left into the picture


def test_a_ghost_changes_the_frame_less(bench: Bench) -> None:
    frame = bench.source.frame(0)
    c = bench.controller
    plan = c.plan
    args = (plan, bench.image_id, 0, c.calibration(bench.image_id), c.measurements, c.warnings)
    normal = render_annotated_frame(frame, overlay_for(*args))
    ghost = render_annotated_frame(frame, overlay_for(*args, style=replace(STYLE, ghost=True)))
    change = lambda out: np.abs(out.astype(int) - frame.astype(int)).sum()  # noqa: E731
    assert 0 < change(ghost) < 0.7 * change(normal)


def test_hits_are_judged_in_screen_pixels(qapp) -> None:
    line = Line(
        a=Point(10, 10),
        b=Point(110, 10),
        pen=Pen(Colour(255, 0, 0)),
        annotation_id="c",
        role=Role.CALIPER,
    )
    one = QTransform()
    assert hit_primitive(line, QPointF(60, 14), one) and not hit_primitive(
        line, QPointF(60, 20), one
    )
    four = QTransform.fromScale(4, 4)  # 4 screen pixels per image pixel: still 5 screen pixels
    assert hit_primitive(line, QPointF(240, 44), four)
    assert not hit_primitive(line, QPointF(240, 52), four)


def test_warnings_colour_what_is_burned_in(qapp) -> None:
    image = ImagePlan(ImageRef("lumbar.dcm"))
    plan = lumbar_plan(image)
    calibration = Calibration.uniform(480, 640, 0.16, 0.16, CalibrationSource.PIXEL_SPACING)
    calibrations = {image.id: calibration}
    warnings = check_plan(plan, calibrations, ClinicLimits())
    drawn = overlay_for(
        plan, image.id, None, calibration, measure_plan(plan, calibrations), warnings
    )
    path = plan.annotations[2]
    (line,) = [p for p in drawn if isinstance(p, Line) and p.annotation_id == path.id]
    assert line.pen.colour == STYLE.danger
    frame = np.zeros((480, 640, 3), np.uint8)
    out = render_annotated_frame(frame, [line])
    mid = (round((61 + 250) / 2), round((230 + 300) / 2))
    assert tuple(out[mid]) == (STYLE.danger.r, STYLE.danger.g, STYLE.danger.b)


def test_the_exports_render_without_widgets_or_a_display(tmp_path) -> None:
    """The command line exports in a process with no QApplication and no screen."""
    script = """
import sys
import numpy as np
from prolo_planner.core.geometry import Point
from prolo_planner.core.overlay_primitives import Colour, Label
from prolo_planner.render import render_annotated_frame
label = Label(text="23.4 mm", anchor=Point(10, 20), colour=Colour(255, 255, 0), annotation_id="t")
out = render_annotated_frame(np.zeros((40, 120, 3), np.uint8), [label])
assert out[..., 0].max() == 255 and out[..., 2].max() < 255
assert "PySide6.QtWidgets" not in sys.modules, "render pulled in QtWidgets"
assert not [m for m in sys.modules if m.startswith("prolo_planner.ui")]
print("ok")
"""
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
