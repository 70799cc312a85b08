"""Where the overlay's labels go, for the screen and every export alike (no Qt).

Labels are placed one by one, the most important first, each at the first good place around
what it names: beside a target's marker, a needle path or a caliper, above a zone, on the
clinician's spot for a note. A place is good when the label stays inside the image, covers no
label placed before it, no target's marker, nothing that must stay clear (the scale bar) and,
if it can, none of the scanner's burned-in text, no line and no zone. A label moved away from
what it names gets a leader line to it; one that fits nowhere shows its key only (the number
the legend lists); one whose key fits nowhere either is left out, never drawn over another.

Sizes: label text is measured in screen pixels by `LabelSpace.measure` (the renderer's font
metrics; a rough estimate without them) and laid out in image pixels through
`px_per_screen_px`, the image pixels one screen pixel spans at the zoom or export scale drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

from prolo_planner.core.geometry import Point
from prolo_planner.core.overlay_primitives import Colour, Label, Placement

#: (left, top, right, bottom) in image pixels.
Box: TypeAlias = tuple[float, float, float, float]
#: A label's size in screen pixels from its text, key and font size in screen pixels.
Measure: TypeAlias = Callable[[str, str, float], tuple[float, float]]

#: Screen pixels kept clear between two labels, and between a label and the image's edge.
LABEL_GAP = 2.0
EDGE_GAP = 1.0
#: Screen pixels between a label and what it names when it sits right beside it.
BESIDE_GAP = 4.0
#: Distances (screen pixels, beyond the marker or the line) tried with a leader line.
LEADER_RINGS = (22.0, 44.0, 72.0, 110.0)

# What a place costs beyond its rank (see _Candidate.rank): never more than a hard rule.
COVERS_BURNED_IN = 3000.0
NEARER_ANOTHER_TARGET = 1000.0
CROSSES_LINE = 80.0
COVERS_ZONE = 100.0  # times the share of the label over a zone


# -- measuring ----------------------------------------------------------------------------------
#: A bold character's width as a share of its pixel size, generous (DejaVu Sans Bold averages
#: 0.63 over clinical text; capitals and digits reach 0.72), so a rough box is never too small.
ROUGH_CHAR_WIDTH = 0.7
PAD_X, PAD_Y = 4.0, 2.0


def rough_measure(text: str, key: str, size: float) -> tuple[float, float]:
    """A label's box without font metrics: the core's tests, and a fallback."""
    lines = text.split("\n") if text else []
    width = max((len(line) for line in lines), default=0) * ROUGH_CHAR_WIDTH * size
    badge = (len(key) * ROUGH_CHAR_WIDTH * size + 2 * PAD_X) if key else 0.0
    gap = PAD_X if key and lines else 0.0
    height = max(1, len(lines)) * size * 1.25
    return badge + gap + width + (2 * PAD_X if lines else 0.0), height + 2 * PAD_Y


# -- what the labels are told -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LabelSpace:
    """How large labels are against the image, and what they must keep clear of."""

    #: (columns, rows) of the image, or of its part in view; None: unbounded.
    image_size: tuple[float, float] | None = None
    #: Image pixels one screen pixel spans: 1/zoom on screen, the label scale in an export.
    px_per_screen_px: float = 1.0
    measure: Measure = rough_measure
    #: Never covered: the scale bar, the view's corner text.
    keep_out: tuple[Box, ...] = ()
    #: Covered only when nothing else fits: the scanner's burned-in text.
    avoid: tuple[Box, ...] = ()
    #: Where the image in view starts (left, top), when only a part of it is shown.
    origin: tuple[float, float] = (0.0, 0.0)

    def size_of(self, text: str, key: str, size: float) -> tuple[float, float]:
        """A label's width and height in image pixels."""
        w, h = self.measure(text, key, size)
        k = self.px_per_screen_px
        return w * k, h * k


# Anchors: what a label names, which decides where it may go.
@dataclass(frozen=True, slots=True)
class AtPoint:
    """A target's marker: `reach` screen pixels around the point are the marker's."""

    at: Point
    reach: float


@dataclass(frozen=True, slots=True)
class AlongSegment:
    """A needle path or a caliper: beside its line, the middle first."""

    a: Point
    b: Point


@dataclass(frozen=True, slots=True)
class AroundBox:
    """An avoid zone: above its box (grown by its margin), else below, else inside."""

    box: Box


@dataclass(frozen=True, slots=True)
class AtSpot:
    """A text note: centred where the clinician put it."""

    at: Point


@dataclass(frozen=True, slots=True)
class AtVertex:
    """An angle: beyond its arc (`reach` screen pixels), away from its opening (`away`, a
    unit vector in image axes)."""

    vertex: Point
    away: tuple[float, float]
    reach: float


Anchor: TypeAlias = AtPoint | AlongSegment | AroundBox | AtSpot | AtVertex


@dataclass(frozen=True, slots=True)
class LabelRequest:
    """A label to place. `rank` orders the placing (lower first); `key` is what shows when the
    whole text fits nowhere, and is shown before the text when `badge`."""

    annotation_id: str
    text: str
    anchor: Anchor
    colour: Colour
    size: float
    rank: int
    key: str = ""
    badge: bool = False
    box: Colour | None = None


class Fit(StrEnum):
    FULL = "full"
    KEY_ONLY = "key only"
    HIDDEN = "hidden"


@dataclass(frozen=True, slots=True)
class Obstacles:
    """What the drawing holds besides labels: markers are never covered, lines and zones
    only when nothing else fits."""

    #: (annotation id, centre, reach in screen pixels) of every target's marker.
    markers: tuple[tuple[str, Point, float], ...] = ()
    #: (annotation id, a, b): needle paths, calipers, the rays of angles, arrows.
    lines: tuple[tuple[str, Point, Point], ...] = ()
    #: (annotation id, box): avoid zones with their margins.
    zones: tuple[tuple[str, Box], ...] = ()


@dataclass(frozen=True, slots=True)
class PlacedLabel:
    request: LabelRequest
    fit: Fit
    label: Label | None  # None when hidden
    box: Box | None  # image pixels


# -- geometry -----------------------------------------------------------------------------------
def overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def overlap_area(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def grown(b: Box, by: float) -> Box:
    return b[0] - by, b[1] - by, b[2] + by, b[3] + by


def point_box_distance(p: Point, b: Box) -> float:
    dx = max(b[0] - p.x, 0.0, p.x - b[2])
    dy = max(b[1] - p.y, 0.0, p.y - b[3])
    return math.hypot(dx, dy)


def nearest_on_box(p: Point, b: Box) -> Point:
    return Point(min(max(p.x, b[0]), b[2]), min(max(p.y, b[1]), b[3]))


def segment_crosses_box(a: Point, b: Point, box: Box) -> bool:
    """Whether the segment a-b passes through the box (Liang-Barsky clipping)."""
    dx, dy = b.x - a.x, b.y - a.y
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, a.x - box[0]), (dx, box[2] - a.x), (-dy, a.y - box[1]), (dy, box[3] - a.y)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def box_of(at: Point, placement: Placement, w: float, h: float) -> Box:
    """The box of a label of size w x h (image pixels) placed at `at` as `placement` says."""
    left, top = {
        Placement.RIGHT: (at.x, at.y - h / 2),
        Placement.LEFT: (at.x - w, at.y - h / 2),
        Placement.ABOVE: (at.x - w / 2, at.y - h),
        Placement.BELOW: (at.x - w / 2, at.y),
        Placement.CENTRE: (at.x - w / 2, at.y - h / 2),
    }[placement]
    return left, top, left + w, top + h


def drawn_box(label: Label, space: LabelSpace) -> Box:
    """Where a label of the display list is drawn, in image pixels, as the painter draws it."""
    w, h = space.size_of(label.text, label.key, label.size)
    k = space.px_per_screen_px
    at = Point(label.anchor.x + label.offset[0] * k, label.anchor.y + label.offset[1] * k)
    return box_of(at, label.placement, w, h)


# -- candidates ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Candidate:
    at: Point  # where the box attaches
    placement: Placement
    rank: float  # the nearer and plainer, the lower
    leader_from: Point | None = None
    leader_gap: float = 0.0  # screen pixels from leader_from where the leader starts


_SIDES = {
    (1, 0): Placement.RIGHT,
    (-1, 0): Placement.LEFT,
    (0, 1): Placement.BELOW,
    (0, -1): Placement.ABOVE,
}


def _side_of(dx: float, dy: float) -> Placement:
    """The placement that puts a box on the side (dx, dy) of the point it attaches to."""
    if abs(dx) >= 0.5 * math.hypot(dx, dy):
        return Placement.RIGHT if dx > 0 else Placement.LEFT
    return Placement.BELOW if dy > 0 else Placement.ABOVE


def _rings(
    centre: Point, start: float, k: float, gap: float, directions: int = 12
) -> Iterator[_Candidate]:
    """Places with a leader line from `centre`, ring by ring, every 360/directions degrees."""
    for n, ring in enumerate(LEADER_RINGS, start=1):
        for i in range(directions):
            angle = 2 * math.pi * i / directions
            dx, dy = math.cos(angle), math.sin(angle)
            d = (start + ring) * k
            yield _Candidate(
                Point(centre.x + dx * d, centre.y + dy * d),
                _side_of(dx, dy),
                60.0 * n + i,
                leader_from=centre,
                leader_gap=gap,
            )


def _candidates(anchor: Anchor, k: float) -> Iterator[_Candidate]:
    g = BESIDE_GAP
    if isinstance(anchor, AtPoint):
        p, r = anchor.at, anchor.reach + g
        for i, ((dx, dy), placement) in enumerate(_SIDES.items()):
            yield _Candidate(Point(p.x + dx * r * k, p.y + dy * r * k), placement, i)
        d = r * 0.75 * k
        for i, (dx, dy) in enumerate(((1, -1), (1, 1), (-1, -1), (-1, 1))):
            yield _Candidate(Point(p.x + dx * d, p.y + dy * d), _side_of(dx, 0), 4 + i)
        yield from _rings(p, anchor.reach, k, anchor.reach)
    elif isinstance(anchor, AlongSegment):
        a, b = anchor.a, anchor.b
        length = math.hypot(b.x - a.x, b.y - a.y)
        nx, ny = ((a.y - b.y) / length, (b.x - a.x) / length) if length else (1.0, 0.0)
        if nx < 0 or (nx == 0 and ny > 0):  # the right-hand side (as seen) first
            nx, ny = -nx, -ny
        fractions = (0.5, 0.35, 0.65, 0.2, 0.8)
        rank = 0
        for f in fractions:
            m = Point(a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f)
            for s in (1, -1):
                d = (8.0 + g) * k
                yield _Candidate(
                    Point(m.x + s * nx * d, m.y + s * ny * d), _side_of(s * nx, s * ny), rank
                )
                rank += 1
        for n, ring in enumerate(LEADER_RINGS, start=1):
            for i, f in enumerate((0.5, 0.3, 0.7)):
                m = Point(a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f)
                for s in (1, -1):
                    d = (8.0 + ring) * k
                    yield _Candidate(
                        Point(m.x + s * nx * d, m.y + s * ny * d),
                        _side_of(s * nx, s * ny),
                        60.0 * n + 2 * i + (s < 0),
                        leader_from=m,
                    )
    elif isinstance(anchor, AroundBox):
        left, top, right, bottom = anchor.box
        cx, cy = (left + right) / 2, (top + bottom) / 2
        d = g * k
        plain = (
            (Point(cx, top - d), Placement.ABOVE),
            (Point(cx, bottom + d), Placement.BELOW),
            (Point(cx, top + d), Placement.BELOW),
            (Point(cx, bottom - d), Placement.ABOVE),
            (Point(right + d, cy), Placement.RIGHT),
            (Point(left - d, cy), Placement.LEFT),
            (Point(left, top - d), Placement.ABOVE),
            (Point(right, top - d), Placement.ABOVE),
        )
        for i, (at, placement) in enumerate(plain):
            yield _Candidate(at, placement, i)
        for n, ring in enumerate(LEADER_RINGS, start=1):
            for i, (edge, sign) in enumerate(((top, -1), (bottom, 1))):
                start = Point(cx, edge)
                at = Point(cx, edge + sign * (ring + g) * k)
                placement = Placement.ABOVE if sign < 0 else Placement.BELOW
                yield _Candidate(at, placement, 60.0 * n + i, leader_from=start)
            for i, (edge, sign) in enumerate(((right, 1), (left, -1))):
                start = Point(edge, cy)
                at = Point(edge + sign * (ring + g) * k, cy)
                placement = Placement.RIGHT if sign > 0 else Placement.LEFT
                yield _Candidate(at, placement, 60.0 * n + 2 + i, leader_from=start)
    elif isinstance(anchor, AtSpot):
        yield _Candidate(anchor.at, Placement.CENTRE, 0)
        yield from _rings(anchor.at, 8.0, k, 0.0)
    else:  # AtVertex
        v, (ux, uy), r = anchor.vertex, anchor.away, anchor.reach + g
        yield _Candidate(Point(v.x + ux * r * k, v.y + uy * r * k), _side_of(ux, uy), 0)
        for i, ((dx, dy), placement) in enumerate(_SIDES.items(), start=1):
            yield _Candidate(Point(v.x + dx * r * k, v.y + dy * r * k), placement, i)
        yield from _rings(v, anchor.reach, k, 0.0)


# -- placing ------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Room:
    space: LabelSpace
    obstacles: Obstacles
    bounds: Box | None
    placed: list[Box] = field(default_factory=list)
    leaders: list[tuple[Point, Point]] = field(default_factory=list)

    def cost(
        self, request: LabelRequest, box: Box, candidate: _Candidate, leader_end: Point | None
    ) -> float | None:
        """What the place costs beyond its rank, or None where a label must never go."""
        k = self.space.px_per_screen_px
        if self.bounds is not None:
            b, e = self.bounds, EDGE_GAP * k
            if box[0] < b[0] + e or box[1] < b[1] + e or box[2] > b[2] - e or box[3] > b[3] - e:
                return None
        spaced = grown(box, LABEL_GAP * k)
        if any(overlaps(spaced, other) for other in self.placed):
            return None
        if any(overlaps(box, other) for other in self.space.keep_out):
            return None
        for _, centre, reach in self.obstacles.markers:
            if point_box_distance(centre, box) < reach * k:
                return None
        if any(segment_crosses_box(a, b, spaced) for a, b in self.leaders):
            return None
        if leader_end is not None and candidate.leader_from is not None:
            start = candidate.leader_from
            if any(segment_crosses_box(start, leader_end, other) for other in self.placed):
                return None
        cost = 0.0
        if any(overlaps(box, other) for other in self.space.avoid):
            cost += COVERS_BURNED_IN
        own = request.annotation_id
        # A note's arrow starts under its text: only others' lines count against a note.
        mine_too = not isinstance(request.anchor, AtSpot)
        cost += CROSSES_LINE * sum(
            1
            for i, a, b in self.obstacles.lines
            if (mine_too or i != own) and segment_crosses_box(a, b, box)
        )
        area = (box[2] - box[0]) * (box[3] - box[1]) or 1.0
        cost += COVERS_ZONE * sum(
            overlap_area(box, z) / area for i, z in self.obstacles.zones if i != own
        )
        if candidate.leader_from is None and isinstance(request.anchor, AtPoint):
            mine = point_box_distance(request.anchor.at, box)
            if any(
                i != own and point_box_distance(c, box) < mine for i, c, _ in self.obstacles.markers
            ):
                cost += NEARER_ANOTHER_TARGET
        return cost

    def best(self, request: LabelRequest, text: str, key: str) -> tuple[_Candidate, Box] | None:
        w, h = self.space.size_of(text, key, request.size)
        k = self.space.px_per_screen_px
        found: tuple[_Candidate, Box] | None = None
        best_total = math.inf
        for candidate in sorted(_candidates(request.anchor, k), key=lambda c: c.rank):
            if candidate.rank >= best_total:
                break
            box = box_of(candidate.at, candidate.placement, w, h)
            end = (
                nearest_on_box(candidate.leader_from, box)
                if candidate.leader_from is not None
                else None
            )
            extra = self.cost(request, box, candidate, end)
            if extra is None:
                continue
            if candidate.rank + extra < best_total:
                best_total, found = candidate.rank + extra, (candidate, box)
        return found

    def take(self, box: Box, candidate: _Candidate) -> None:
        self.placed.append(box)
        if candidate.leader_from is not None:
            self.leaders.append((candidate.leader_from, nearest_on_box(candidate.leader_from, box)))


def _label(request: LabelRequest, candidate: _Candidate, box: Box, key_only: bool) -> Label:
    # Anchored on the box's own edge, so the painter draws it exactly in that box.
    left, top, right, bottom = box
    at = {
        Placement.RIGHT: Point(left, (top + bottom) / 2),
        Placement.LEFT: Point(right, (top + bottom) / 2),
        Placement.ABOVE: Point((left + right) / 2, bottom),
        Placement.BELOW: Point((left + right) / 2, top),
        Placement.CENTRE: Point((left + right) / 2, (top + bottom) / 2),
    }[candidate.placement]
    return Label(
        text="" if key_only else request.text,
        key=request.key if (key_only or request.badge) else "",
        anchor=at,
        colour=request.colour,
        placement=candidate.placement,
        box=request.box,
        size=request.size,
        annotation_id=request.annotation_id,
        leader=candidate.leader_from,
        leader_gap=candidate.leader_gap,
    )


def place_labels(
    requests: Iterable[LabelRequest], obstacles: Obstacles, space: LabelSpace
) -> list[PlacedLabel]:
    """Each request placed, in rank order (then the order given): whole, else as its key
    alone, else hidden. No two placed boxes overlap and none leaves `space`'s image."""
    ordered = sorted(enumerate(requests), key=lambda pair: (pair[1].rank, pair[0]))
    bounds: Box | None = None
    if space.image_size is not None:
        ox, oy = space.origin
        bounds = (ox, oy, ox + space.image_size[0], oy + space.image_size[1])
    room = _Room(space, obstacles, bounds)
    out: list[PlacedLabel] = []
    for _, request in ordered:
        shown = request.key if request.badge else ""
        found = room.best(request, request.text, shown)
        fit = Fit.FULL
        if found is None and request.key:
            found, fit = room.best(request, "", request.key), Fit.KEY_ONLY
        if found is None:
            out.append(PlacedLabel(request, Fit.HIDDEN, None, None))
            continue
        candidate, box = found
        room.take(box, candidate)
        out.append(
            PlacedLabel(request, fit, _label(request, candidate, box, fit is Fit.KEY_ONLY), box)
        )
    return out
