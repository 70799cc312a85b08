"""Where the overlay's labels go: beside what they name, inside the image, and off the targets,
the avoid zones and each other. Judged at 1:1 from rough text widths (the core has no fonts),
which is what the exports draw and what the screen shows unzoomed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from prolo_planner.core.geometry import Point
from prolo_planner.core.overlay_primitives import Placement

#: (left, top, right, bottom) in image pixels.
Box = tuple[float, float, float, float]
#: Where a label may go: its anchor, its placement and its offset in screen pixels.
Choice = tuple[Point, Placement, tuple[float, float]]

#: Rough width of a bold label character as a share of its pixel size.
CHAR_WIDTH = 0.62


def side_offset(a: Point, b: Point, distance: float) -> tuple[tuple[float, float], Placement]:
    """A screen offset beside the segment a-b, on its right-hand side as seen on screen."""
    dx, dy = b.x - a.x, b.y - a.y
    length = math.hypot(dx, dy)
    if length == 0:
        return (distance, 0.0), Placement.RIGHT
    nx, ny = -dy / length, dx / length
    if nx < 0 or (nx == 0 and ny > 0):
        nx, ny = -nx, -ny
    placement = Placement.RIGHT if nx > 0.3 else (Placement.ABOVE if ny < 0 else Placement.BELOW)
    return (nx * distance, ny * distance), placement


def label_box(text: str, size: float, choice: Choice) -> Box:
    """The box a label of `size` pixels would roughly cover."""
    lines = text.split("\n")
    w = max(len(line) for line in lines) * CHAR_WIDTH * size + 8.0
    h = len(lines) * size * 1.3 + 4.0
    at, placement, (ox, oy) = choice
    x, y = at.x + ox, at.y + oy
    left, top = {
        Placement.RIGHT: (x, y - h / 2),
        Placement.LEFT: (x - w, y - h / 2),
        Placement.ABOVE: (x - w / 2, y - h),
        Placement.BELOW: (x - w / 2, y),
        Placement.CENTRE: (x - w / 2, y - h / 2),
    }[placement]
    return left, top, left + w, top + h


def overlap_area(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width * height if width > 0 and height > 0 else 0.0


@dataclass(slots=True)
class LabelRoom:
    """What the labels of one image and frame must keep off, and the labels placed so far."""

    label_size: float
    #: How far from a target's position its marker reaches.
    marker_reach: float
    #: Every target drawn, (id, position).
    targets: tuple[tuple[str, Point], ...] = ()
    #: (columns, rows) of the image, if known.
    image_size: tuple[int, int] | None = None
    #: Boxes of the avoid zones with their margins: labels do not hide what they warn of.
    zones: tuple[Box, ...] = ()
    placed: list[Box] = field(default_factory=list)

    def cost(self, own_id: str, box: Box) -> float:
        """How badly a label box would sit: 0 when it hides nothing and stays in the image.

        Hiding another target's marker costs most, then leaving the image, then the area it
        covers of other labels and of the avoid zones.
        """
        left, top, right, bottom = box
        size_x, size_y = self.image_size or (math.inf, math.inf)
        outside = max(0.0, -left) + max(0.0, -top) + max(0.0, right - size_x)
        outside += max(0.0, bottom - size_y)
        reach = self.marker_reach
        hidden_targets = sum(
            1
            for i, p in self.targets
            if i != own_id
            and left - reach <= p.x <= right + reach
            and top - reach <= p.y <= bottom + reach
        )
        covered = sum(overlap_area(box, other) for other in (*self.placed, *self.zones))
        return hidden_targets * 1e6 + outside * 1e3 + covered

    def fit(self, own_id: str, text: str, choices: tuple[Choice, ...]) -> Choice:
        """The first choice that hides nothing, else the one that hides least; taken from now on."""
        costs = [(self.cost(own_id, label_box(text, self.label_size, c)), c) for c in choices]
        chosen = next((c for cost, c in costs if cost == 0.0), None)
        if chosen is None:
            chosen = min(costs, key=lambda pair: pair[0])[1]
        self.take(text, self.label_size, chosen)
        return chosen

    def take(self, text: str, size: float, choice: Choice) -> None:
        """A label placed where it must be: later ones keep off it."""
        self.placed.append(label_box(text, size, choice))

    def beside_target(self, at: Point, target_id: str, text: str, gap: float) -> Choice:
        """Right of the marker, else left, below or above."""
        return self.fit(
            target_id,
            text,
            (
                (at, Placement.RIGHT, (gap, 0.0)),
                (at, Placement.LEFT, (-gap, 0.0)),
                (at, Placement.BELOW, (0.0, gap)),
                (at, Placement.ABOVE, (0.0, -gap)),
            ),
        )
