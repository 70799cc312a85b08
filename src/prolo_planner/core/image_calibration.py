"""The calibration in force for an image and frame, and where each part of it comes from.

The one owner of that fact: the screen, the exports, the report, the SR and the command line
all call calibration_in_force. It combines what the file says (its regions, reference pixel and
transducer type), what the image shows (the fan found in its pixels, imaging/fan.py) and what
the clinician set in the plan (manual calibration, probe corrections, skin line), each with its
origin, so a depth can always say whether its zero is the file's, the image's, the clinician's
or a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from prolo_planner.core.calibration import CalibratedRegion, Calibration, CalibrationSource
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import ImagePlan, ProbeSetting, ProbeShape
from prolo_planner.core.probe import FanFinding, Origin, ProbeGeometry

Box = tuple[int, int, int, int]  # x0, y0, x1, y1, inclusive pixel indices

#: Rows and columns assumed for an image that cannot be opened (its manual calibration still
#: gives millimetres; nothing is drawn).
_UNKNOWN_SIZE = 1 << 20

#: TransducerType (0018,6031) values (PS3.3 C.8.5.5.1.x, defined terms) by shape.
_TRANSDUCER_SHAPES = {
    "LINEAR": ProbeShape.LINEAR,
    "CURVED LINEAR": ProbeShape.CURVED,
    "CURVED_LINEAR": ProbeShape.CURVED,
    "SECTOR_PHASED": ProbeShape.SECTOR,
    "SECTOR_MECH": ProbeShape.SECTOR,
    "SECTOR_ANNULAR": ProbeShape.SECTOR,
}


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What an image file says and shows of its calibration (imaging/facts.py reads it)."""

    rows: int
    columns: int
    frame_count: int
    #: The file's own calibration: its regions (with reference pixel) and transducer type.
    calibration: Calibration
    #: The fan found in the pixels, by the box it was looked for in: each region of the file,
    #: or the whole image when the file has none.
    fans: tuple[tuple[Box, FanFinding], ...] = ()

    def fan_in(self, box: Box) -> FanFinding | None:
        return next((fan for b, fan in self.fans if b == box), None)

    @property
    def whole_image(self) -> Box:
        return (0, 0, self.columns - 1, self.rows - 1)


def shape_from_transducer(transducer_type: str) -> ProbeShape | None:
    return _TRANSDUCER_SHAPES.get(transducer_type.strip().upper())


def calibration_in_force(
    facts: ImageFacts | None, image: ImagePlan | None = None, frame: int | None = None
) -> Calibration:
    """The calibration for measuring on `frame` of the image, with its probe geometry.

    The clinician's manual calibration wins over the file's spacing; each region's geometry
    takes its shape, centre, radius and depth zero from the clinician's settings, else the file,
    else the fan found in the image, else a guess (a linear probe, zero at the region's top);
    the skin line, when drawn, is depth zero along every beam. Ultrasound files carry one
    calibration for all their frames, so `frame` only has to lie in the image.
    """
    if facts is not None and frame is not None and not 0 <= frame < max(facts.frame_count, 1):
        raise IndexError(f"frame {frame} outside 0..{facts.frame_count - 1}")
    file_calibration = facts.calibration if facts is not None else Calibration.none()
    calibration = _spacing_in_force(facts, image, file_calibration)
    setting = image.probe if image is not None else None
    regions = tuple(
        replace(r, probe=_geometry(r, calibration, facts, setting)) for r in calibration.regions
    )
    skin = image.skin_line if image is not None else None
    if skin is not None and skin[0] == skin[1]:
        skin = None  # two equal points have no direction: read as not drawn
    return replace(calibration, regions=regions, skin_line=skin)


def _spacing_in_force(
    facts: ImageFacts | None, image: ImagePlan | None, file_calibration: Calibration
) -> Calibration:
    manual = image.manual_calibration if image is not None else None
    if manual is None:
        return file_calibration
    rows = facts.rows if facts is not None else _UNKNOWN_SIZE
    columns = facts.columns if facts is not None else _UNKNOWN_SIZE
    try:
        made = Calibration.manual(manual.a, manual.b, manual.mm, rows, columns)
    except ValueError:
        return file_calibration  # two equal points: the file's calibration stays in force
    # The file's depth zero still holds under a manual spacing when the file has one region.
    if len(file_calibration.regions) == 1 and made.regions:
        kept = file_calibration.regions[0]
        made = replace(
            made,
            regions=(replace(made.regions[0], reference_x=kept.reference_x),),
        )
    return replace(made, transducer_type=file_calibration.transducer_type)


def _geometry(
    region: CalibratedRegion,
    calibration: Calibration,
    facts: ImageFacts | None,
    setting: ProbeSetting | None,
) -> ProbeGeometry:
    box = (region.x0, region.y0, region.x1, region.y1)
    fan = facts.fan_in(box) if facts is not None else None
    if fan is None and facts is not None and calibration.source is CalibrationSource.MANUAL:
        # A manual calibration covers the whole image: the fan found there, or in the file's
        # one region.
        fan = facts.fan_in(facts.whole_image)
        if fan is None and len(facts.calibration.regions) == 1:
            only = facts.calibration.regions[0]
            fan = facts.fan_in((only.x0, only.y0, only.x1, only.y1))
    file_zero = _file_zero(region, facts)
    setting = setting or ProbeSetting()

    # Shape: the clinician, else TransducerType, else the fan, else a guess.
    file_shape = shape_from_transducer(calibration.transducer_type)
    if setting.shape is not None:
        shape, shape_from = setting.shape, Origin.CLINICIAN
    elif file_shape is not None:
        shape, shape_from = file_shape, Origin.FILE
    elif fan is not None:
        shape, shape_from = fan.shape, Origin.IMAGE
    else:
        shape, shape_from = ProbeShape.LINEAR, Origin.GUESS

    # Depth zero on the centre beam: the 0 tick the clinician clicked, the file's reference
    # pixel, the face found in the image, else the region's top row (a guess).
    if setting.zero_y is not None:
        zero_y, zero_from, detail = setting.zero_y, Origin.CLINICIAN, "the depth scale's 0 tick"
    elif file_zero is not None:
        zero_y, zero_from, detail = file_zero
    elif fan is not None and region.y0 <= fan.face_y <= region.y1:
        zero_y, zero_from, detail = fan.face_y, Origin.IMAGE, "the transducer face"
    else:
        zero_y, zero_from = float(region.y0), Origin.GUESS
        detail = f"the top row of {region.label or 'the image'}"

    if setting.centre_x is not None:
        centre_x = setting.centre_x
    elif region.reference_x is not None and shape is not ProbeShape.LINEAR:
        centre_x = region.reference_x
    elif fan is not None:
        centre_x = fan.centre_x
    else:
        centre_x = (region.x0 + region.x1 + 1) / 2

    apex_y, apex_from = zero_y, Origin.GUESS
    half_angle = fan.half_angle_deg if fan is not None else None
    if shape is not ProbeShape.LINEAR:
        spacing_y = region.mm_per_px_y
        if setting.radius_mm is not None and setting.radius_mm >= 0 and spacing_y > 0:
            apex_y, apex_from = zero_y - setting.radius_mm / spacing_y, Origin.CLINICIAN
        elif fan is not None and fan.apex_y is not None and fan.apex_y < zero_y:
            # The apex where the fan's edges meet; the face through the zero in force.
            apex_y, apex_from = fan.apex_y, Origin.IMAGE
    if apex_y < zero_y:
        # Where the face ends: as far off the centre beam as the face was seen to reach, else
        # where the region's sides cut it; as an angle of the radius in force.
        radius_mm = (zero_y - apex_y) * region.mm_per_px_y
        if fan is not None and fan.reach_px is not None:
            reach = fan.reach_px
        else:
            reach = max(centre_x - region.x0, region.x1 + 1 - centre_x, 0.0)
        half_angle = math.degrees(math.asin(min(1.0, reach * region.mm_per_px_x / radius_mm)))
    return ProbeGeometry(
        shape,
        centre_x,
        zero_y,
        apex_y,
        half_angle,
        shape_from,
        zero_from,
        apex_from,
        detail,
    )


def _file_zero(
    region: CalibratedRegion, facts: ImageFacts | None
) -> tuple[float, Origin, str] | None:
    if region.depth_zero_y is not None:
        return region.depth_zero_y, Origin.FILE, "its reference pixel"
    if facts is None:
        return None
    # A manual calibration over a file with one region keeps the file's depth zero.
    regions = facts.calibration.regions
    if len(regions) == 1 and regions[0].depth_zero_y is not None:
        return regions[0].depth_zero_y, Origin.FILE, "its reference pixel"
    return None


def guessed_zero(calibration: Calibration, points: tuple[Point, ...] = ()) -> bool:
    """Whether depth zero is a guess for any region holding one of `points` (or any region):
    no skin line, no clicked 0 tick, no reference pixel, no face found in the image."""
    if calibration.skin_line is not None:
        return False
    regions = (
        [r for p in points if (r := calibration.region_at(p)) is not None]
        if points
        else list(calibration.regions)
    )
    return any(r.probe is not None and r.probe.zero_from is Origin.GUESS for r in regions)


def describe_geometry(calibration: Calibration) -> list[str]:
    """Lines for the panels, the report and `measure`: each region's probe and depth zero."""
    lines: list[str] = []
    for region in calibration.regions:
        probe = region.probe
        if probe is None:
            continue
        who = f"{region.label}: " if len(calibration.regions) > 1 and region.label else ""
        lines.append(f"{who}Probe: {probe.describe(region.spacing)}")
        if calibration.skin_line is not None:
            lines.append(f"{who}Depth zero: the skin line drawn by the clinician")
        else:
            lines.append(f"{who}{probe.describe_zero()}")
    return lines
