"""Painting the overlay's display list with QPainter (QtGui only): the screen and the exports."""

from __future__ import annotations

from prolo_planner.render.frame import (
    ensure_gui_app,
    label_scale_for,
    render_annotated_frame,
)
from prolo_planner.render.painter import (
    hit_primitive,
    overlay_device_bounds,
    paint_overlay,
    primitive_region,
)
from prolo_planner.render.shapes import grown_outline, margin_polygons

__all__ = [
    "ensure_gui_app",
    "grown_outline",
    "hit_primitive",
    "label_scale_for",
    "margin_polygons",
    "overlay_device_bounds",
    "paint_overlay",
    "primitive_region",
    "render_annotated_frame",
]
