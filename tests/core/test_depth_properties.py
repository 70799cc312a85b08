"""Properties of depth along the beam, over random regions, probes and points.

For points below the face inside one region, depth is never negative; on a linear probe it is
the rows below depth zero times the spacing; on a curvilinear probe the distance from the apex
less the face radius (DOMAIN.md). Anywhere at all, depth is a non-negative number or none.
"""

from __future__ import annotations

import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from prolo_planner.core.calibration import Calibration, RegionUnits, UltrasoundRegion
from prolo_planner.core.geometry import Point
from prolo_planner.core.image_calibration import ImageFacts, calibration_in_force
from prolo_planner.core.measure import Measurement, NoValue, target_depth
from prolo_planner.core.plan import ImagePlan, ImageRef, ProbeSetting, ProbeShape

CM = int(RegionUnits.CM)
ROWS, COLUMNS = 600, 800

spacing_cm = st.floats(0.005, 0.08)


@st.composite
def scans(draw, shape: ProbeShape):
    """A one-region scan and the clinician's geometry for it: (calibration, zero row, centre
    column, radius mm)."""
    x0 = draw(st.integers(0, 300))
    y0 = draw(st.integers(0, 200))
    x1 = draw(st.integers(x0 + 50, COLUMNS - 1))
    y1 = draw(st.integers(y0 + 50, ROWS - 1))
    dx, dy = draw(spacing_cm), draw(spacing_cm)
    region = UltrasoundRegion(x0, y0, x1, y1, 1, CM, CM, dx, dy)
    zero = draw(st.floats(y0, y0 + 40))
    centre = draw(st.floats(x0, x1))
    radius = draw(st.floats(5.0, 80.0)) if shape is not ProbeShape.LINEAR else None
    setting = ProbeSetting(shape=shape, radius_mm=radius, zero_y=zero, centre_x=centre)
    facts = ImageFacts(
        ROWS, COLUMNS, 1, Calibration.from_ultrasound_regions([region], ROWS, COLUMNS)
    )
    image = ImagePlan(ImageRef("scan.dcm"), probe=setting)
    return calibration_in_force(facts, image), zero, centre, radius


def _inside(calibration: Calibration, fx: float, fy: float) -> Point:
    (r,) = calibration.regions
    return Point(r.x0 + fx * (r.x1 + 1 - r.x0), r.y0 + fy * (r.y1 + 1 - r.y0))


@settings(max_examples=300, deadline=None)
@given(scans(ProbeShape.LINEAR), st.floats(0, 0.999), st.floats(0, 0.999))
def test_linear_depth_is_the_rows_below_zero_times_the_spacing(scan, fx, fy) -> None:
    calibration, zero, _, _ = scan
    p = _inside(calibration, fx, fy)
    assume(p.y >= zero)
    depth = target_depth(p, calibration)
    assert isinstance(depth, Measurement) and depth.value >= 0
    assert math.isclose(
        depth.value, (p.y - zero) * calibration.regions[0].mm_per_px_y, abs_tol=1e-9
    )


@settings(max_examples=300, deadline=None)
@given(scans(ProbeShape.CURVED), st.floats(0, 0.999), st.floats(0, 0.999))
def test_curvilinear_depth_is_the_distance_from_the_apex_less_the_face_radius(scan, fx, fy) -> None:
    calibration, zero, centre, radius = scan
    (region,) = calibration.regions
    sx, sy = region.mm_per_px_x, region.mm_per_px_y
    apex_y = zero - radius / sy  # the apex lies one radius above depth zero, on the centre beam
    p = _inside(calibration, fx, fy)
    radial = math.hypot((p.x - centre) * sx, (p.y - apex_y) * sy)
    assume(radial >= radius)  # below the face
    depth = target_depth(p, calibration)
    assert isinstance(depth, Measurement) and depth.value >= 0
    assert math.isclose(depth.value, radial - radius, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(list(ProbeShape)),
    st.data(),
    st.floats(-0.2, 1.2),
    st.floats(-0.2, 1.2),
    st.none() | st.tuples(st.floats(-100, 900), st.floats(0, 600), st.floats(-100, 900)),
)
def test_depth_is_never_negative_anywhere(shape, data, fx, fy, skin) -> None:
    calibration, *_ = data.draw(scans(shape))
    if skin is not None:
        left_x, y, right_x = skin
        assume(abs(right_x - left_x) > 1)
        calibration = calibration_in_force(
            ImageFacts(ROWS, COLUMNS, 1, calibration),
            ImagePlan(ImageRef("scan.dcm"), skin_line=(Point(left_x, y), Point(right_x, y + 7))),
        )
    depth = target_depth(_inside(calibration, fx, fy), calibration)
    if isinstance(depth, NoValue):
        assert depth.reason
    else:
        assert depth.value >= 0 and math.isfinite(depth.value)
