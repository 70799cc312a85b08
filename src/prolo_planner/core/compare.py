"""Comparing a prior session with today's: which prior image is like today's, and where the prior
session's targets and needle paths lie on today's image (its "ghosts").

Like with like: the same image (the same file) in both sessions, else a prior image of the same
region, side and probe orientation. Ghosts on the same file keep their pixels; on another image
of the same view they are placed through millimetres, from each image's transducer face (the
centre of the face, at depth zero), so a scan at another depth or zoom shows them where they
were in the patient, not at the same pixels. With no matching image, or no millimetres to
place them by, there are no ghosts, and a note says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from prolo_planner.core.calibration import CalibratedRegion, Calibration
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    ImagePlan,
    NeedlePath,
    Plan,
    ProbeOrientation,
    Side,
    Target,
)

SAME_FILE = "the same image"
SAME_VIEW = "the same region, side and probe orientation"
#: Closer than this (today's image pixels) to today's target of the same name: the same site.
SAME_SPOT_PX = 6.0
#: Scales closer than this (relative) are not worth a mention in the note.
SCALE_WORTH_SAYING = 0.02

PointMap = Callable[[Point], Point]


@dataclass(frozen=True, slots=True)
class ImageMatch:
    image_id: str
    why: str  # SAME_FILE or SAME_VIEW


def view_text(image: ImagePlan) -> str:
    """'lumbar spine, midline, long axis': what the image shows, as the clinician said."""
    bits = [image.region.replace("_", " ") if image.region else "no region"]
    if image.side is not Side.UNSPECIFIED:
        bits.append(image.side.value)
    if image.probe_orientation is not ProbeOrientation.UNSPECIFIED:
        bits.append(image.probe_orientation.value)
    else:
        bits.append("probe orientation not said")
    return ", ".join(bits)


def same_file(a: ImagePlan, b: ImagePlan) -> bool:
    if a.ref.sha256 and b.ref.sha256:
        return a.ref.sha256 == b.ref.sha256
    return bool(a.ref.sop_instance_uid) and a.ref.sop_instance_uid == b.ref.sop_instance_uid


def same_view(a: ImagePlan, b: ImagePlan) -> bool:
    """Region, side and probe orientation all said, and all the same."""
    return (
        bool(a.region)
        and a.region == b.region
        and a.side == b.side
        and a.probe_orientation is not ProbeOrientation.UNSPECIFIED
        and a.probe_orientation == b.probe_orientation
    )


def matching_image(prior: Plan, current: ImagePlan) -> ImageMatch | None:
    """The prior image like today's: the same file, else the same view with most targets."""
    for im in prior.images:
        if same_file(im, current):
            return ImageMatch(im.id, SAME_FILE)
    views = [im for im in prior.images if same_view(im, current)]
    if not views:
        return None

    def targets_on(im: ImagePlan) -> int:
        return sum(1 for t in prior.targets() if t.image_id == im.id)

    return ImageMatch(max(views, key=targets_on).id, SAME_VIEW)


def _anchor(region: CalibratedRegion) -> Point:
    """The centre of the transducer face at depth zero, in image pixels."""
    if region.probe is not None:
        return Point(region.probe.centre_x, region.probe.zero_y)
    x = region.reference_x if region.reference_x is not None else (region.x0 + region.x1) / 2
    return Point(x, region.depth_origin_y)


def _main_region(calibration: Calibration) -> CalibratedRegion | None:
    return max(calibration.regions, key=lambda r: r.area) if calibration.regions else None


def millimetre_mapping(prior: Calibration, current: Calibration) -> PointMap | None:
    """Prior image pixels -> today's image pixels through millimetres from the transducer face;
    None unless both images are calibrated."""
    if not prior.is_calibrated or not current.is_calibrated:
        return None
    target = _main_region(current)
    fallback = _main_region(prior)
    if target is None or fallback is None:
        return None
    to = _anchor(target)

    def move(p: Point) -> Point:
        region = prior.region_at(p) or fallback
        at = _anchor(region)
        x_mm = (p.x - at.x) * region.mm_per_px_x
        y_mm = (p.y - at.y) * region.mm_per_px_y
        return Point(to.x + x_mm / target.mm_per_px_x, to.y + y_mm / target.mm_per_px_y)

    return move


@dataclass(frozen=True, slots=True)
class Ghosts:
    """The prior image's targets and paths as they lie on today's image (a plan holding only
    them, on the prior image's id), or None; and the note the window shows."""

    plan: Plan | None
    note: str


def place_ghosts(
    prior: Plan,
    prior_image_id: str,
    prior_calibration: Calibration,
    current: ImagePlan,
    current_calibration: Calibration,
) -> Ghosts:
    image = prior.image(prior_image_id)
    mine = [a for a in prior.annotations if a.image_id == prior_image_id]
    if not any(isinstance(a, Target) for a in mine):
        return Ghosts(None, "The prior image has no targets to show on today's")
    if same_file(image, current):
        kept = tuple(a for a in mine if isinstance(a, Target | NeedlePath))
        return Ghosts(Plan((image,), kept), "Prior targets: on the same image, same pixels")
    if not same_view(image, current):
        return Ghosts(
            None,
            f"Prior targets not shown: the prior image ({view_text(image)}) is not like "
            f"today's ({view_text(current)})",
        )
    move = millimetre_mapping(prior_calibration, current_calibration)
    if move is None:
        which = "the prior image" if not prior_calibration.is_calibrated else "today's image"
        return Ghosts(
            None,
            f"Prior targets not shown: {which} is not calibrated, so millimetres cannot place them",
        )
    moved: list[Target | NeedlePath] = []
    for a in mine:
        if isinstance(a, Target):
            moved.append(replace(a, position=move(a.position) if a.position else None))
        elif isinstance(a, NeedlePath):
            moved.append(replace(a, entry=move(a.entry)))
    before = _main_region(prior_calibration)
    after = _main_region(current_calibration)
    scale = ""
    if (
        before is not None
        and after is not None
        and not math.isclose(before.mm_per_px_y, after.mm_per_px_y, rel_tol=SCALE_WORTH_SAYING)
    ):
        scale = f" ({before.mm_per_px_y:.3g} mm/px there, {after.mm_per_px_y:.3g} mm/px here)"
    return Ghosts(
        Plan((image,), tuple(moved)),
        f"Prior targets placed through millimetres from the transducer face{scale}",
    )


def same_spot(target: Target, today: Sequence[Target], tolerance_px: float = SAME_SPOT_PX) -> bool:
    """Today has a target of this name where the (ghost of the) prior one lies."""
    p = target.position
    return p is not None and any(
        t.name == target.name
        and t.position is not None
        and math.hypot(t.position.x - p.x, t.position.y - p.y) <= tolerance_px
        for t in today
    )
