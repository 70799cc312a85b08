"""The labels as the painter draws them, in device pixels with the real font: what the core
placed is what is drawn, on screen at any zoom and in an export at any scale, so no two drawn
labels overlap and none is cut by the image's edge; keys and leader lines are drawn."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QTransform

from prolo_planner.core.geometry import Point
from prolo_planner.core.label_placement import LabelSpace
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.measure import measure_plan
from prolo_planner.core.overlay import overlay_for
from prolo_planner.core.overlay_primitives import Colour, Label, Placement
from prolo_planner.core.safety import check_plan
from prolo_planner.render import label_scale_for, render_annotated_frame
from prolo_planner.render.shapes import label_rect, label_size, leader_line
from tests.label_plans import generated_plan


def drawn_rects(g, *, zoom: float, dps: float):
    """Each label's device rectangle when the plan is drawn at `zoom` device pixels per image
    pixel and `dps` device pixels per screen pixel, placed with the real font's sizes."""
    calibrations = {g.image.id: g.calibration}
    measurements = measure_plan(g.plan, calibrations)
    warnings = check_plan(g.plan, calibrations, ClinicLimits(), measurements)
    space = LabelSpace(
        image_size=g.size,
        px_per_screen_px=dps / zoom,
        measure=functools.partial(label_size, scale=dps),
        avoid=g.burned_in,
    )
    drawn = overlay_for(
        g.plan, g.image.id, None, g.calibration, measurements, warnings, labels=space
    )
    labels = [p for p in drawn if isinstance(p, Label)]
    t = QTransform.fromScale(zoom, zoom)
    return labels, [label_rect(label, t, dps)[0] for label in labels], drawn


@pytest.mark.parametrize(
    "zoom, dps",
    [
        (1.0, 1.0),  # the screen at 1:1
        (0.8, 1.0),  # the screen fitted to a small window
        (2.0, 1.0),  # the screen zoomed in
        (1.0, 1.0 * 1.25),  # an export of a 800 x 600 frame (label scale 1.25)
        (2.0, 2.0 * 1.25),  # the same at twice the pixels, for print
    ],
)
def test_drawn_labels_never_overlap_nor_leave_the_image(qapp, zoom: float, dps: float) -> None:
    for seed in range(60):
        g = generated_plan(seed)
        labels, rects, _ = drawn_rects(g, zoom=zoom, dps=dps)
        w, h = g.size
        canvas = QRectF(0, 0, w * zoom, h * zoom)
        for rect in rects:
            assert canvas.contains(rect), (seed, rect, canvas)
        for (a, la), (b, lb) in itertools.combinations(zip(rects, labels, strict=True), 2):
            assert not a.intersects(b), (seed, la.text, lb.text, a, b)


def test_the_label_scale_an_export_uses_is_the_one_placed_for(qapp) -> None:
    # render_annotated_frame draws labels label_scale_for(w, h) times their screen size:
    # PlanImages places them with that size (report/plan_images.py), checked here by pixels.
    assert label_scale_for(800, 600) == 1.25 and label_scale_for(640, 480) == 1.0


def test_keys_and_leaders_are_painted(qapp) -> None:
    """A key-only label is its badge in the label's colour; a moved one has its leader."""
    green = Colour(70, 235, 130)
    badge = Label(
        text="",
        key="3",
        anchor=Point(50, 50),
        colour=green,
        placement=Placement.CENTRE,
        annotation_id="t",
    )
    moved = Label(
        text="L4-L5",
        key="4",
        anchor=Point(150, 60),
        colour=green,
        placement=Placement.RIGHT,
        leader=Point(100, 100),
        leader_gap=10.0,
        box=Colour(0, 0, 0, 170),
        annotation_id="u",
    )
    frame = np.zeros((120, 240, 3), np.uint8)
    out = render_annotated_frame(frame, (badge, moved), 1.0, text_scale=1.0)
    rect = label_rect(badge, QTransform(), 1.0)[0]
    inside = out[
        int(rect.top()) + 2 : int(rect.bottom()) - 2, int(rect.left()) + 2 : int(rect.right()) - 2
    ]
    greenish = np.all(np.abs(inside.astype(int) - (70, 235, 130)) < 40, axis=-1)
    assert greenish.mean() > 0.4  # mostly the label's colour, the dark key in it
    assert (inside.sum(axis=-1) < 120).any()
    line = leader_line(moved, label_rect(moved, QTransform(), 1.0)[0], QTransform(), 1.0)
    assert line is not None
    start, end = line
    assert abs(((start.x() - 100) ** 2 + (start.y() - 100) ** 2) ** 0.5 - 10.0) < 0.01
    mid = ((start.x() + end.x()) / 2, (start.y() + end.y()) / 2)
    assert out[round(mid[1]), round(mid[0])].tolist() != [0, 0, 0]  # the leader is drawn
