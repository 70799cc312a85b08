"""What to draw over an image for a plan: overlay_for builds the display list, no Qt.

The screen and the exports both paint this list (render/), so what is exported is what was
seen. It is ordered as it is painted: every annotation's body by layer (zones at the bottom),
then every label, so no line crosses a label, then the target markers, so no label hides
where a needle goes, then the handles of the selection. Where each label goes is decided for
all of them together by core/label_placement.py, with the keys of core/legend.py.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from prolo_planner.core.calibration import CalibratedRegion, Calibration
from prolo_planner.core.geometry import Point
from prolo_planner.core.label_placement import (
    AlongSegment,
    AroundBox,
    AtPoint,
    AtSpot,
    AtVertex,
    LabelRequest,
    LabelSpace,
    Obstacles,
    place_labels,
)
from prolo_planner.core.legend import legend_keys
from prolo_planner.core.measure import Measurement, PlanMeasurements, Units
from prolo_planner.core.overlay_primitives import (
    Arc,
    Arrow,
    Colour,
    Dash,
    Ellipse,
    Handle,
    Line,
    MarginOutline,
    OverlayStyle,
    Pen,
    Polygon,
    Polyline,
    Primitive,
    Role,
    TargetMarker,
    ghosted,
)
from prolo_planner.core.plan import (
    AngleMeasurement,
    Annotation,
    AnnotationKind,
    Approach,
    AvoidKind,
    AvoidZone,
    Caliper,
    NeedlePath,
    Plan,
    SiteStatus,
    Target,
    TextNote,
    ZoneShape,
    kind_of,
)
from prolo_planner.core.safety import SafetyWarning, Severity, WarningCode, worst_severity

#: Shown after a value measured in pixels: no millimetres, and the warnings panel says why.
NO_MM_MARK = "⚠"
ALL_KINDS: frozenset[AnnotationKind] = frozenset(AnnotationKind)

#: Paint order of the kinds, bottom to top.
LAYER: dict[AnnotationKind, int] = {
    AnnotationKind.AVOID_ZONE: 0,
    AnnotationKind.CALIPER: 2,
    AnnotationKind.ANGLE: 2,
    AnnotationKind.TEXT: 2,
    AnnotationKind.NEEDLE_PATH: 3,
    AnnotationKind.TARGET: 4,
}
SKIN_LINE_LAYER = 1
#: Whose label is placed first: the clinician's own notes keep their spot, then the targets,
#: the zones to avoid, the needle paths, the measurements, and the skin line's.
LABEL_RANK: dict[AnnotationKind, int] = {
    AnnotationKind.TEXT: 0,
    AnnotationKind.TARGET: 1,
    AnnotationKind.AVOID_ZONE: 2,
    AnnotationKind.NEEDLE_PATH: 3,
    AnnotationKind.CALIPER: 4,
    AnnotationKind.ANGLE: 4,
}
SKIN_LABEL_RANK = 5
#: Screen pixels a marker's crosshair reaches beyond its circle, halo included.
MARKER_ARMS = 6.5


# -- text -------------------------------------------------------------------------------------
def measurement_text(m: Measurement) -> str:
    """'23.4 mm', '31°', or '84 px ⚠' when there are no millimetres."""
    text = m.text()
    return (
        f"{text} {NO_MM_MARK}" if m.problem is not None and m.units is not Units.DEGREES else text
    )


def target_title(target: Target) -> str:
    return target.name or target.kind.value


def zone_title(zone: AvoidZone) -> str:
    return zone.name or zone.kind.value


def _path_warning_line(
    plan: Plan, w: SafetyWarning, measurements: PlanMeasurements, path_id: str
) -> str | None:
    """One short line for the worst warning of a needle path, or None."""
    if w.code in (WarningCode.PATH_CROSSES_ZONE, WarningCode.PATH_NEAR_ZONE):
        zone = next((plan.find(i) for i in w.annotation_ids if i != path_id), None)
        if not isinstance(zone, AvoidZone):
            return None
        if w.code is WarningCode.PATH_CROSSES_ZONE:
            return f"{NO_MM_MARK} crosses {zone_title(zone)}"
        geometry = measurements.path(path_id)
        zd = geometry.zone(zone.id) if geometry else None
        if zd is None or zd.distance_mm is None:
            return f"{NO_MM_MARK} near {zone_title(zone)}"
        return f"{NO_MM_MARK} {zd.distance_mm:.1f} mm from {zone_title(zone)}"
    return {
        WarningCode.PATH_MEETS_BONE: f"{NO_MM_MARK} meets bone",
        WarningCode.NEEDLE_TOO_SHORT: f"{NO_MM_MARK} needle too short",
        WarningCode.IN_PLANE_TOO_STEEP: f"{NO_MM_MARK} steep for in-plane",
    }.get(w.code)


# -- building the list ------------------------------------------------------------------------
@dataclass(slots=True)
class _Parts:
    """One annotation's primitives, kept apart so the list can put all labels on top, and
    the target markers above the labels, so no label ever hides where a needle goes."""

    layer: tuple[int, int]  # the kind's layer, then the plan's order
    body: list[Primitive] = field(default_factory=list)
    labels: list[LabelRequest] = field(default_factory=list)
    marks: list[Primitive] = field(default_factory=list)
    handles: list[Primitive] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Context:
    plan: Plan
    calibration: Calibration
    measurements: PlanMeasurements
    warnings: tuple[SafetyWarning, ...]
    style: OverlayStyle
    selected: frozenset[str]
    keys: dict[str, str]
    image_size: tuple[int, int] | None = None

    def severity(self, annotation_id: str) -> Severity | None:
        return worst_severity(self.warnings, annotation_id)

    def colour(self, annotation_id: str, base: Colour) -> Colour:
        severity = self.severity(annotation_id)
        if severity is Severity.DANGER:
            return self.style.danger
        if severity is Severity.WARNING:
            return self.style.warning
        return base

    def width(self, annotation_id: str, base: float) -> float:
        return base + (self.style.selected_boost if annotation_id in self.selected else 0.0)

    def label(
        self, text: str, anchor: Any, colour: Colour, annotation_id: str, rank: int, **kw: Any
    ) -> LabelRequest:
        style = self.style
        return LabelRequest(
            annotation_id=annotation_id,
            text=text,
            anchor=anchor,
            colour=colour,
            size=kw.pop("size", style.label_size),
            rank=rank,
            # A prior session's ghost carries no key: its numbers are not today's legend's.
            key="" if style.ghost else self.keys.get(annotation_id, ""),
            box=kw.pop("box", style.label_box),
            **kw,
        )

    def handle(self, at: Point, key: str, annotation_id: str) -> Handle:
        return Handle(at=at, key=key, colour=self.style.handle, annotation_id=annotation_id)


def _target(t: Target, ctx: _Context, parts: _Parts) -> None:
    if t.position is None:
        return  # carried forward, not placed yet: the checklist shows it
    style = ctx.style
    skipped = t.status is SiteStatus.SKIPPED
    colour = style.skipped if skipped else ctx.colour(t.id, style.target)
    radius = style.target_radius + (1.0 if t.id in ctx.selected else 0.0)
    parts.marks.append(
        TargetMarker(
            centre=t.position,
            colour=colour,
            status=t.status,
            radius=radius,
            annotation_id=t.id,
        )
    )
    text = style.name_prefix + target_title(t)
    depth = ctx.measurements.target_depths.get(t.id)
    missing = ctx.measurements.no_depth.get(t.id)
    if depth is not None:
        text += f" · {measurement_text(depth)} deep"
    elif missing is not None:
        text += f" · {missing.text()} {NO_MM_MARK}"  # a reason, never a number
    if skipped:
        text += " (skipped)"
    elif t.status is SiteStatus.INJECTED:
        text += " ✓"
    if style.ghost:  # a prior session's site: its name only, small
        text, size = style.name_prefix + target_title(t), style.small_label_size
    else:
        size = style.label_size
    anchor = AtPoint(t.position, radius + MARKER_ARMS)
    parts.labels.append(
        ctx.label(
            text, anchor, colour, t.id, LABEL_RANK[AnnotationKind.TARGET], badge=True, size=size
        )
    )
    if t.id in ctx.selected:
        parts.handles.append(ctx.handle(t.position, "position", t.id))


def _path(p: NeedlePath, ctx: _Context, parts: _Parts) -> None:
    end = ctx.plan.path_end(p)
    if end is None:
        return
    style = ctx.style
    target = ctx.plan.find(p.target_id)
    skipped = isinstance(target, Target) and target.status is SiteStatus.SKIPPED
    colour = style.skipped if skipped else ctx.colour(p.id, style.needle_path)
    dash = Dash.DASHED if p.approach is Approach.OUT_OF_PLANE else Dash.SOLID
    pen = Pen(colour, ctx.width(p.id, style.path_width), dash)
    # In plane the needle enters beside the probe, maybe beyond the image's end: the part
    # outside the scanned area (the image, its region, the probe's fan), where it is not
    # seen, is dashed.
    border = _view_crossing(p.entry, end, ctx) if dash is Dash.SOLID else None
    if border is not None:
        outside = Pen(colour, pen.width, Dash.DASHED)
        parts.body.append(
            Line(a=p.entry, b=border, pen=outside, annotation_id=p.id, role=Role.NEEDLE_PATH)
        )
        parts.body.append(Line(a=border, b=end, pen=pen, annotation_id=p.id, role=Role.NEEDLE_PATH))
    else:
        parts.body.append(
            Line(a=p.entry, b=end, pen=pen, annotation_id=p.id, role=Role.NEEDLE_PATH)
        )
    geometry = ctx.measurements.path(p.id)
    if geometry is not None and not style.ghost:
        text = measurement_text(geometry.length)
        if geometry.angle_deg is not None:
            text += f" · {measurement_text(geometry.angle_deg)}"
        worst = next((w for w in ctx.warnings if p.id in w.annotation_ids), None)
        if worst is not None and worst.severity is not Severity.INFO:
            line = _path_warning_line(ctx.plan, worst, ctx.measurements, p.id)
            if line:
                text += "\n" + line
        # Beside the middle of the line's part in the image on its right, else on its left,
        # else further along.
        anchor = AlongSegment(border or p.entry, end)
        rank = LABEL_RANK[AnnotationKind.NEEDLE_PATH]
        parts.labels.append(ctx.label(text, anchor, colour, p.id, rank, badge=True))
    if p.id in ctx.selected:
        parts.handles.append(ctx.handle(p.entry, "entry", p.id))


def _in_view(q: Point, ctx: _Context, region: CalibratedRegion | None) -> bool:
    """Whether a point lies where the scanner shows tissue: in the image, in the target's
    region, and below the face within the fan of a radiating probe."""
    if ctx.image_size is not None:
        columns, rows = ctx.image_size
        if not (0 <= q.x <= columns and 0 <= q.y <= rows):
            return False
    if region is None:
        return True
    if not region.contains(q):
        return False
    probe = region.probe
    if probe is None:
        return True
    spacing = region.spacing
    if probe.face_depth(q, spacing) < -0.5 * spacing[1]:
        return False  # above the face, in the banner or the gel
    if probe.radial and probe.half_angle_deg is not None:
        dx, dy = (q.x - probe.centre_x) * spacing[0], (q.y - probe.apex_y) * spacing[1]
        return math.degrees(math.atan2(abs(dx), dy)) <= probe.half_angle_deg + 0.5
    return True


def _view_crossing(entry: Point, end: Point, ctx: _Context) -> Point | None:
    """Where a path whose entry lies outside the scanned area comes into it (None when the
    entry is in view, or the target is not): walking from the target out, the last point in
    view, found to a hundredth of the path."""
    region = ctx.calibration.region_at(end)
    if _in_view(entry, ctx, region) or not _in_view(end, ctx, region):
        return None
    inside, outside = 0.0, 1.0  # parameters from the end (0) to the entry (1)
    steps = 100
    for k in range(1, steps + 1):
        t = k / steps
        q = Point(end.x + (entry.x - end.x) * t, end.y + (entry.y - end.y) * t)
        if not _in_view(q, ctx, region):
            inside, outside = (k - 1) / steps, t
            break
    for _ in range(20):  # then bisect that step
        mid = (inside + outside) / 2
        q = Point(end.x + (entry.x - end.x) * mid, end.y + (entry.y - end.y) * mid)
        inside, outside = (mid, outside) if _in_view(q, ctx, region) else (inside, mid)
    return Point(end.x + (entry.x - end.x) * inside, end.y + (entry.y - end.y) * inside)


def ellipse_handles(corner: Point, opposite: Point) -> dict[str, Point]:
    """The four points where an ellipse meets its box, by the side they move."""
    cx, cy = (corner.x + opposite.x) / 2, (corner.y + opposite.y) / 2
    left, right = min(corner.x, opposite.x), max(corner.x, opposite.x)
    top, bottom = min(corner.y, opposite.y), max(corner.y, opposite.y)
    return {
        "left": Point(left, cy),
        "right": Point(right, cy),
        "top": Point(cx, top),
        "bottom": Point(cx, bottom),
    }


def _zone(z: AvoidZone, ctx: _Context, parts: _Parts) -> None:
    if not z.points or (z.shape is ZoneShape.ELLIPSE and len(z.points) != 2):
        return
    style = ctx.style
    kind_colour = style.zone.get(z.kind, style.zone[AvoidKind.OTHER])
    colour = ctx.colour(z.id, kind_colour)
    fill = kind_colour.with_alpha(style.zone_fill_alpha)
    pen = Pen(colour, ctx.width(z.id, style.zone_width))
    if z.shape is ZoneShape.ELLIPSE:
        corner, opposite = z.points
        parts.body.append(
            Ellipse(
                corner=corner,
                opposite=opposite,
                pen=pen,
                fill=fill,
                annotation_id=z.id,
                role=Role.ZONE,
            )
        )
    elif len(z.points) < 3:
        parts.body.append(Polyline(points=z.points, pen=pen, annotation_id=z.id, role=Role.ZONE))
    else:
        parts.body.append(
            Polygon(points=z.points, pen=pen, fill=fill, annotation_id=z.id, role=Role.ZONE)
        )
    grow = _margin_in_pixels(z, ctx.calibration)
    if style.show_margins and grow is not None:
        parts.body.append(
            MarginOutline(
                shape=z.shape,
                points=z.points,
                grow_x=grow[0],
                grow_y=grow[1],
                pen=Pen(colour.with_alpha(220), style.margin_width, Dash.DASHED),
                annotation_id=z.id,
            )
        )
    if not style.ghost:
        parts.labels.append(
            ctx.label(
                zone_title(z),
                AroundBox(_zone_box(z, ctx.calibration)),
                colour,
                z.id,
                LABEL_RANK[AnnotationKind.AVOID_ZONE],
                badge=True,
                size=style.small_label_size,
            )
        )
    if z.id in ctx.selected:
        if z.shape is ZoneShape.ELLIPSE:
            handles = ellipse_handles(*z.points)
            parts.handles += [ctx.handle(at, key, z.id) for key, at in handles.items()]
        else:
            parts.handles += [ctx.handle(at, f"points.{i}", z.id) for i, at in enumerate(z.points)]


def _zone_box(z: AvoidZone, calibration: Calibration) -> tuple[float, float, float, float]:
    grow_x, grow_y = _margin_in_pixels(z, calibration) or (0.0, 0.0)
    xs, ys = [p.x for p in z.points], [p.y for p in z.points]
    return min(xs) - grow_x, min(ys) - grow_y, max(xs) + grow_x, max(ys) + grow_y


def _margin_in_pixels(z: AvoidZone, calibration: Calibration) -> tuple[float, float] | None:
    """The zone's margin in image pixels across and down, from the spacing where it lies."""
    if z.margin_mm <= 0 or not math.isfinite(z.margin_mm):
        return None
    xs, ys = [p.x for p in z.points], [p.y for p in z.points]
    centre = Point((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
    region = calibration.region_at(centre)
    if region is None:
        region = next((r for p in z.points if (r := calibration.region_at(p))), None)
    if region is None:
        return None
    return z.margin_mm / region.mm_per_px_x, z.margin_mm / region.mm_per_px_y


def _caliper(c: Caliper, ctx: _Context, parts: _Parts) -> None:
    style = ctx.style
    colour = ctx.colour(c.id, style.measurement)
    pen = Pen(colour, ctx.width(c.id, style.line_width))
    parts.body.append(
        Line(a=c.a, b=c.b, pen=pen, end_ticks=True, annotation_id=c.id, role=Role.CALIPER)
    )
    m = ctx.measurements.calipers.get(c.id)
    if m is not None:
        text = measurement_text(m)
        if c.label:
            text = f"{c.label} {text}"
        rank = LABEL_RANK[AnnotationKind.CALIPER]
        parts.labels.append(ctx.label(text, AlongSegment(c.a, c.b), colour, c.id, rank))
    if c.id in ctx.selected:
        parts.handles += [ctx.handle(c.a, "a", c.id), ctx.handle(c.b, "b", c.id)]


ARC_RADIUS = 18.0


def _angle(a: AngleMeasurement, ctx: _Context, parts: _Parts) -> None:
    style = ctx.style
    colour = ctx.colour(a.id, style.measurement)
    pen = Pen(colour, ctx.width(a.id, style.line_width))
    parts.body.append(
        Polyline(points=(a.a, a.vertex, a.b), pen=pen, annotation_id=a.id, role=Role.ANGLE)
    )
    m = ctx.measurements.angles.get(a.id)
    if m is not None:
        parts.body.append(
            Arc(
                vertex=a.vertex,
                towards_a=a.a,
                towards_b=a.b,
                radius=ARC_RADIUS,
                pen=Pen(colour, max(1.0, pen.width - 0.5)),
                annotation_id=a.id,
                role=Role.ANGLE,
            )
        )
        # The label sits beyond the arc, on the far side of the vertex from the opening, so
        # neither ray crosses it.
        ux, uy = _unit(a.vertex, a.a)
        vx, vy = _unit(a.vertex, a.b)
        bx, by = ux + vx, uy + vy
        norm = math.hypot(bx, by)
        bx, by = (-bx / norm, -by / norm) if norm > 1e-9 else (-uy, ux)
        text = measurement_text(m) if not a.label else f"{a.label} {measurement_text(m)}"
        anchor = AtVertex(a.vertex, (bx, by), ARC_RADIUS)
        parts.labels.append(ctx.label(text, anchor, colour, a.id, LABEL_RANK[AnnotationKind.ANGLE]))
    if a.id in ctx.selected:
        parts.handles += [
            ctx.handle(a.a, "a", a.id),
            ctx.handle(a.vertex, "vertex", a.id),
            ctx.handle(a.b, "b", a.id),
        ]


def _unit(frm: Point, to: Point) -> tuple[float, float]:
    dx, dy = to.x - frm.x, to.y - frm.y
    length = math.hypot(dx, dy)
    return (dx / length, dy / length) if length else (0.0, 0.0)


def _text(t: TextNote, ctx: _Context, parts: _Parts) -> None:
    style = ctx.style
    colour = ctx.colour(t.id, style.measurement)
    if t.arrow_to != t.text_at:
        pen = Pen(colour, ctx.width(t.id, style.line_width))
        parts.body.append(
            Arrow(tail=t.text_at, tip=t.arrow_to, pen=pen, annotation_id=t.id, role=Role.TEXT_ARROW)
        )
    parts.labels.append(
        ctx.label(t.text or " ", AtSpot(t.text_at), colour, t.id, LABEL_RANK[AnnotationKind.TEXT])
    )
    if t.id in ctx.selected:
        parts.handles += [
            ctx.handle(t.arrow_to, "arrow_to", t.id),
            ctx.handle(t.text_at, "text_at", t.id),
        ]


_BUILDERS: dict[type, Callable[[Any, _Context, _Parts], None]] = {
    Target: _target,
    NeedlePath: _path,
    AvoidZone: _zone,
    Caliper: _caliper,
    AngleMeasurement: _angle,
    TextNote: _text,
}


def _skin_line(plan: Plan, image_id: str, ctx: _Context) -> _Parts | None:
    try:
        skin = plan.image(image_id).skin_line
    except KeyError:
        return None
    if skin is None:
        return None
    style = ctx.style
    parts = _Parts((SKIN_LINE_LAYER, -1))
    pen = Pen(style.skin_line, ctx.width(image_id, style.line_width), Dash.DOTTED)
    parts.body.append(
        Line(a=skin[0], b=skin[1], pen=pen, annotation_id=image_id, role=Role.SKIN_LINE)
    )
    # Near its left end, out of the way of the entry points in the middle.
    left, right = sorted(skin, key=lambda p: p.x)
    near_left = Point(left.x + (right.x - left.x) * 0.2, left.y + (right.y - left.y) * 0.2)
    if not style.ghost:
        parts.labels.append(
            ctx.label(
                "skin",
                AlongSegment(left, near_left),
                style.skin_line,
                image_id,
                SKIN_LABEL_RANK,
                size=style.small_label_size,
            )
        )
    if image_id in ctx.selected:
        parts.handles += [
            ctx.handle(skin[0], "skin.0", image_id),
            ctx.handle(skin[1], "skin.1", image_id),
        ]
    return parts


def shown_on(annotation: Annotation, frame: int | None) -> bool:
    """Whether an annotation is drawn on a frame (None: on every frame, the whole image)."""
    return frame is None or annotation.frame is None or annotation.frame == frame


def overlay_for(
    plan: Plan,
    image_id: str,
    frame: int | None,
    calibration: Calibration,
    measurements: PlanMeasurements,
    warnings: Sequence[SafetyWarning],
    style: OverlayStyle | None = None,
    visible_kinds: Collection[AnnotationKind] = ALL_KINDS,
    selected_ids: Iterable[str] = (),
    only_ids: Collection[str] | None = None,
    image_size: tuple[int, int] | None = None,
    labels: LabelSpace | None = None,
) -> tuple[Primitive, ...]:
    """The display list of one image on one frame (None: all frames), in paint order.

    `measurements` and `warnings` are those of the whole plan (measure_plan, check_plan);
    `selected_ids` get handles (the skin line's id is its image's id); `only_ids` keeps the
    list to some annotations (a preview while drawing); `image_size` (columns, rows) keeps
    labels inside the image; `labels` says how large labels are drawn and what they must keep
    clear of (the scale bar, burned-in text): the renderer's font metrics at the zoom or the
    export's scale.
    """
    style = style or OverlayStyle()
    if style.ghost:
        selected_ids = ()
    space = labels or LabelSpace(image_size=image_size)
    if space.image_size is None and image_size is not None:
        space = replace(space, image_size=image_size)
    found = tuple(w for w in warnings if w.code not in style.uncoloured)
    order = {a.id: i for i, a in enumerate(plan.annotations)}
    shown = [
        a
        for a in plan.annotations
        if a.image_id == image_id and shown_on(a, frame) and kind_of(a) in visible_kinds
    ]
    keys = legend_keys(plan, image_id)
    ctx = _Context(
        plan, calibration, measurements, found, style, frozenset(selected_ids), keys, image_size
    )
    groups: list[_Parts] = []
    if style.show_skin_line and (only_ids is None or image_id in only_ids):
        skin = _skin_line(plan, image_id, ctx)
        if skin is not None:
            groups.append(skin)
    for a in shown:
        if only_ids is not None and a.id not in only_ids:
            continue
        parts = _Parts((LAYER[kind_of(a)], order[a.id]))
        _BUILDERS[type(a)](a, ctx, parts)
        groups.append(parts)
    groups.sort(key=lambda g: g.layer)
    requests = [r for g in groups for r in g.labels]
    placed = place_labels(requests, _obstacles(groups, calibration, shown), space)
    out: list[Primitive] = [p for g in groups for p in g.body]
    out += [pl.label for pl in placed if pl.label is not None]
    out += [p for g in groups for p in g.marks]
    out += [p for g in groups for p in g.handles]
    if style.ghost:
        return tuple(ghosted(p, style) for p in out)
    return tuple(out)


def _obstacles(
    groups: list[_Parts], calibration: Calibration, shown: list[Annotation]
) -> Obstacles:
    """What the labels keep clear of: the markers always; the lines and zones if they can."""
    markers = tuple(
        (m.annotation_id, m.centre, m.radius + MARKER_ARMS)
        for g in groups
        for m in g.marks
        if isinstance(m, TargetMarker)
    )
    lines: list[tuple[str, Point, Point]] = []
    for g in groups:
        for p in g.body:
            if isinstance(p, Line):
                lines.append((p.annotation_id, p.a, p.b))
            elif isinstance(p, Polyline) and p.role is not Role.ZONE:
                lines += [(p.annotation_id, a, b) for a, b in itertools.pairwise(p.points)]
            elif isinstance(p, Arrow):
                lines.append((p.annotation_id, p.tail, p.tip))
    zones = tuple(
        (a.id, _zone_box(a, calibration)) for a in shown if isinstance(a, AvoidZone) and a.points
    )
    return Obstacles(markers, tuple(lines), zones)


# -- where an annotation lies -----------------------------------------------------------------
def annotation_points(a: Annotation, plan: Plan) -> tuple[Point, ...]:
    """The image points that place an annotation (a needle path's end is its target's)."""
    if isinstance(a, Target):
        return (a.position,) if a.position is not None else ()
    if isinstance(a, NeedlePath):
        end = plan.path_end(a)
        return (a.entry,) if end is None else (a.entry, end)
    if isinstance(a, AvoidZone):
        if a.shape is ZoneShape.ELLIPSE and len(a.points) == 2:
            return tuple(ellipse_handles(*a.points).values())
        return a.points
    if isinstance(a, Caliper):
        return (a.a, a.b)
    if isinstance(a, AngleMeasurement):
        return (a.a, a.vertex, a.b)
    return (a.arrow_to, a.text_at)
