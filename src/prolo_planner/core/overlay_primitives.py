"""The overlay's display list: drawing primitives in image pixels, and the style they take.

Points are image pixels; sizes that must stay readable at any zoom (pen widths, marker radii,
label sizes and offsets) are in screen pixels. core/overlay.py builds the list from a plan;
render/ paints it on the screen and into exported images alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TypeAlias

from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import AvoidKind, SiteStatus, ZoneShape
from prolo_planner.core.safety import WarningCode


@dataclass(frozen=True, slots=True)
class Colour:
    r: int
    g: int
    b: int
    a: int = 255

    def with_alpha(self, a: float) -> Colour:
        return replace(self, a=max(0, min(255, round(a))))

    def faded(self, factor: float) -> Colour:
        return self.with_alpha(self.a * factor)

    def towards(self, other: Colour, t: float) -> Colour:
        """Mixed with `other` by t (0: self, 1: other), keeping this colour's alpha."""
        mix = lambda u, v: round(u + (v - u) * t)  # noqa: E731
        return Colour(mix(self.r, other.r), mix(self.g, other.g), mix(self.b, other.b), self.a)


class Dash(StrEnum):
    SOLID = "solid"
    DASHED = "dashed"
    DOTTED = "dotted"


@dataclass(frozen=True, slots=True)
class Pen:
    colour: Colour
    width: float = 2.0  # screen pixels
    dash: Dash = Dash.SOLID


class Role(StrEnum):
    """What part of the drawing a primitive is, for hit-testing and the exports' layers."""

    TARGET = "target"
    NEEDLE_PATH = "needle path"
    ZONE = "avoid zone"
    ZONE_MARGIN = "avoid zone margin"
    CALIPER = "caliper"
    ANGLE = "angle"
    TEXT_ARROW = "text arrow"
    SKIN_LINE = "skin line"
    LABEL = "label"
    HANDLE = "handle"
    PREVIEW = "preview"


class Placement(StrEnum):
    """Where a label sits relative to its anchor (after its screen offset)."""

    RIGHT = "right"
    LEFT = "left"
    ABOVE = "above"
    BELOW = "below"
    CENTRE = "centre"


# -- the primitives ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    a: Point
    b: Point
    pen: Pen
    end_ticks: bool = False  # short cross-bars at both ends, as a caliper has
    annotation_id: str
    role: Role


@dataclass(frozen=True, slots=True, kw_only=True)
class Polyline:
    points: tuple[Point, ...]
    pen: Pen
    annotation_id: str
    role: Role


@dataclass(frozen=True, slots=True, kw_only=True)
class Polygon:
    points: tuple[Point, ...]
    pen: Pen | None
    fill: Colour | None
    annotation_id: str
    role: Role


@dataclass(frozen=True, slots=True, kw_only=True)
class Ellipse:
    """The axis-aligned ellipse inscribed in the box with these opposite corners."""

    corner: Point
    opposite: Point
    pen: Pen | None
    fill: Colour | None
    annotation_id: str
    role: Role


@dataclass(frozen=True, slots=True, kw_only=True)
class MarginOutline:
    """The outline of a zone grown by its safety margin: `grow_x` and `grow_y` image pixels
    across and down are the same millimetres (pixels need not be square)."""

    shape: ZoneShape
    points: tuple[Point, ...]
    grow_x: float
    grow_y: float
    pen: Pen
    annotation_id: str
    role: Role = Role.ZONE_MARGIN


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetMarker:
    """Crosshair and circle: planned an outline, injected filled, skipped grey and struck out."""

    centre: Point
    colour: Colour
    status: SiteStatus
    radius: float = 7.0  # screen pixels
    annotation_id: str
    role: Role = Role.TARGET


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrow:
    tail: Point
    tip: Point
    pen: Pen
    head: float = 10.0  # screen pixels
    annotation_id: str
    role: Role


@dataclass(frozen=True, slots=True, kw_only=True)
class Arc:
    """An arc of `radius` screen pixels around `vertex`, between the rays to the two points."""

    vertex: Point
    towards_a: Point
    towards_b: Point
    radius: float
    pen: Pen
    annotation_id: str
    role: Role


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    """Text in a box. `key` (a site's number, a zone's letter: what the legend lists) is drawn
    first, in a badge of the label's colour; a label that fits nowhere whole is its key alone.
    A label moved away from what it names draws a leader line from `leader` (image pixels),
    starting `leader_gap` screen pixels out (clear of a marker)."""

    text: str  # lines split at "\n"
    anchor: Point
    colour: Colour
    offset: tuple[float, float] = (0.0, 0.0)  # screen pixels
    placement: Placement = Placement.RIGHT
    box: Colour | None = None
    size: float = 13.0  # screen pixels
    key: str = ""
    leader: Point | None = None
    leader_gap: float = 0.0
    annotation_id: str
    role: Role = Role.LABEL


@dataclass(frozen=True, slots=True, kw_only=True)
class Handle:
    """A point the clinician can drag; `key` names it ("position", "points.2", "skin.0")."""

    at: Point
    key: str
    colour: Colour
    size: float = 8.0  # screen pixels
    annotation_id: str
    role: Role = Role.HANDLE


Primitive: TypeAlias = (
    Line
    | Polyline
    | Polygon
    | Ellipse
    | MarginOutline
    | TargetMarker
    | Arrow
    | Arc
    | Label
    | Handle
)


# -- style ------------------------------------------------------------------------------------
def _zone_colours() -> dict[AvoidKind, Colour]:
    return {
        AvoidKind.ARTERY: Colour(235, 50, 50),
        AvoidKind.VEIN: Colour(70, 135, 255),
        AvoidKind.NERVE: Colour(255, 222, 0),
        AvoidKind.SPINAL_CANAL: Colour(180, 105, 255),
        AvoidKind.PLEURA: Colour(0, 222, 232),
        AvoidKind.BONE: Colour(222, 222, 222),
        AvoidKind.OTHER: Colour(255, 140, 0),
    }


@dataclass(frozen=True, slots=True)
class OverlayStyle:
    """Colours and sizes of the overlay; `ghost` draws a prior session's plan faintly."""

    target: Colour = Colour(70, 235, 130)
    needle_path: Colour = Colour(180, 255, 95)
    measurement: Colour = Colour(250, 250, 250)
    skin_line: Colour = Colour(255, 196, 160)
    danger: Colour = Colour(255, 45, 45)
    warning: Colour = Colour(255, 178, 0)
    skipped: Colour = Colour(150, 150, 150)
    handle: Colour = Colour(255, 255, 255)
    zone: dict[AvoidKind, Colour] = field(default_factory=_zone_colours, hash=False)
    zone_fill_alpha: int = 64
    label_box: Colour = Colour(0, 0, 0, 170)
    label_size: float = 13.0
    small_label_size: float = 11.0
    line_width: float = 2.0
    path_width: float = 2.5
    zone_width: float = 1.5
    margin_width: float = 1.25
    #: Added to the pen width of a selected annotation.
    selected_boost: float = 1.0
    target_radius: float = 7.0
    show_margins: bool = True
    show_skin_line: bool = True
    ghost: bool = False
    ghost_alpha: float = 0.45
    #: Before every target's name: "prior: " on a prior session's ghost.
    name_prefix: str = ""
    #: Warnings that do not colour the items they name. "No millimetres" is shown by the ⚠
    #: after the pixel value, and "no patient weight" concerns the session, not a site: on an
    #: uncalibrated image, or before the weight is typed, they would paint everything amber
    #: and hide the warnings about where a needle goes. The warnings panel lists them all.
    uncoloured: frozenset[WarningCode] = frozenset(
        {
            WarningCode.NO_MILLIMETRES,
            WarningCode.IMAGE_NOT_CALIBRATED,
            WarningCode.NO_PATIENT_WEIGHT,
        }
    )


# -- ghosts -----------------------------------------------------------------------------------
_GREY = Colour(160, 160, 160)


def ghosted(p: Primitive, style: OverlayStyle) -> Primitive:
    """A primitive drawn faintly: a prior session's plan under today's."""
    k = style.ghost_alpha
    if isinstance(p, Label):
        box = p.box.faded(k) if p.box is not None else None
        return replace(p, colour=p.colour.towards(_GREY, 0.5).faded(0.8), box=box)
    if isinstance(p, TargetMarker):
        return replace(p, colour=p.colour.faded(k))
    if isinstance(p, Polygon | Ellipse):
        pen = replace(p.pen, colour=p.pen.colour.faded(k)) if p.pen else None
        fill = p.fill.faded(k) if p.fill else None
        return replace(p, pen=pen, fill=fill)
    if isinstance(p, Handle):
        return p
    return replace(p, pen=replace(p.pen, colour=p.pen.colour.faded(k)))
