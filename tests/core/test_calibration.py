"""Calibration from ultrasound regions, pixel spacing and the clinician's depth-scale clicks."""

from __future__ import annotations

import math

import pytest

from prolo_planner.core.calibration import (
    ACROSS_REGIONS,
    Calibration,
    CalibrationSource,
    RegionUnits,
    UltrasoundRegion,
)
from prolo_planner.core.geometry import Point

CM = RegionUnits.CM


def us_region(x0, y0, x1, y1, dx=0.01, dy=0.01, fmt=1, ux=CM, uy=CM) -> UltrasoundRegion:
    return UltrasoundRegion(x0, y0, x1, y1, fmt, int(ux), int(uy), dx, dy)


def test_single_region_gives_mm_at_ten_times_physical_delta():
    cal = Calibration.from_ultrasound_regions([us_region(10, 20, 609, 459, 0.015, 0.02)], 480, 640)
    assert cal.source is CalibrationSource.ULTRASOUND_REGIONS
    (region,) = cal.regions
    assert region.mm_per_px_x == pytest.approx(0.15)
    assert region.mm_per_px_y == pytest.approx(0.2)
    d = cal.measure(Point(100, 100), Point(100, 200))
    assert d.mm == pytest.approx(20.0)
    assert d.pixels == pytest.approx(100.0)
    diag = cal.measure(Point(100, 100), Point(200, 200))
    assert diag.mm == pytest.approx(math.hypot(15.0, 20.0))


def test_non_distance_regions_are_ignored_and_doppler_axes_rejected_with_reason():
    regions = [
        us_region(0, 0, 319, 239),  # 2D tissue, cm
        us_region(0, 240, 319, 479, fmt=3, ux=RegionUnits.SECONDS, uy=RegionUnits.CM_PER_SECOND),
        us_region(320, 0, 639, 239, ux=RegionUnits.SECONDS),  # 2D but time on x
    ]
    cal = Calibration.from_ultrasound_regions(regions, 480, 640)
    assert len(cal.regions) == 1
    assert any("not centimetres" in n for n in cal.notes)
    assert cal.measure(Point(10, 300), Point(10, 400)).mm is None


def test_region_partly_outside_image_is_clamped_and_noted():
    cal = Calibration.from_ultrasound_regions([us_region(-5, 10, 700, 500)], 480, 640)
    (r,) = cal.regions
    assert (r.x0, r.y0, r.x1, r.y1) == (0, 10, 639, 479)
    assert any("clamped" in n for n in cal.notes)
    assert "clamped" in cal.describe_lines()[-1]


def test_region_wholly_outside_image_is_rejected_and_image_uncalibrated():
    cal = Calibration.from_ultrasound_regions([us_region(700, 0, 900, 100)], 480, 640)
    assert not cal.is_calibrated
    assert "outside" in cal.provenance()
    assert cal.measure(Point(1, 1), Point(5, 5)).problem == "image not calibrated"


@pytest.mark.parametrize("dx", [0.0, -0.01, float("nan"), float("inf")])
def test_unusable_spacing_is_rejected(dx):
    cal = Calibration.from_ultrasound_regions([us_region(0, 0, 99, 99, dx=dx)], 100, 100)
    assert not cal.is_calibrated
    assert "not usable" in cal.provenance()


def test_dual_view_distance_across_regions_of_different_spacing_has_no_mm():
    left = us_region(0, 0, 319, 479, 0.01, 0.01)
    right = us_region(320, 0, 639, 479, 0.02, 0.02)
    cal = Calibration.from_ultrasound_regions([left, right], 480, 640)
    within_right = cal.measure(Point(400, 10), Point(400, 110))
    assert within_right.mm == pytest.approx(20.0)
    across = cal.measure(Point(100, 10), Point(400, 10))
    assert across.mm is None
    assert across.problem == ACROSS_REGIONS
    assert across.text() == "300 px"


def test_dual_view_with_equal_spacing_is_still_two_spaces():
    # The two halves of a dual view are two scans: equal spacing makes no distance real.
    cal = Calibration.from_ultrasound_regions(
        [us_region(0, 0, 319, 479), us_region(320, 0, 639, 479)], 480, 640
    )
    across = cal.measure(Point(100, 10), Point(400, 10))
    assert across.mm is None and across.problem == ACROSS_REGIONS
    assert cal.measure(Point(330, 10), Point(630, 10)).mm == pytest.approx(30.0)


def test_a_region_nested_at_the_same_spacing_is_the_same_space():
    # A colour-flow box on its B-mode: one scan, so a distance from one into the other is real.
    outer = us_region(0, 0, 639, 479, 0.01, 0.01)
    box = us_region(200, 100, 299, 199, 0.01, 0.01)
    cal = Calibration.from_ultrasound_regions([outer, box], 480, 640)
    assert cal.measure(Point(250, 150), Point(550, 150)).mm == pytest.approx(30.0)


def test_end_outside_every_region_has_no_mm():
    cal = Calibration.from_ultrasound_regions([us_region(50, 50, 149, 149)], 480, 640)
    d = cal.measure(Point(60, 60), Point(300, 300))
    assert d.mm is None and "outside" in (d.problem or "")


def test_nested_region_wins_over_the_enclosing_one():
    outer = us_region(0, 0, 639, 479, 0.02, 0.02)
    inner = us_region(100, 100, 199, 199, 0.01, 0.01)
    cal = Calibration.from_ultrasound_regions([outer, inner], 480, 640)
    assert cal.region_at(Point(150, 150)).mm_per_px_x == pytest.approx(0.1)
    assert cal.region_at(Point(50, 50)).mm_per_px_x == pytest.approx(0.2)


def test_region_bounds_are_inclusive_pixel_indices():
    cal = Calibration.from_ultrasound_regions([us_region(10, 10, 19, 19)], 100, 100)
    assert cal.region_at(Point(19.99, 19.99)) is not None
    assert cal.region_at(Point(20.0, 15)) is None
    assert cal.region_at(Point(9.99, 15)) is None


def test_pixel_spacing_calibrates_whole_image():
    cal = Calibration.uniform(256, 256, 0.5, 0.25, CalibrationSource.PIXEL_SPACING, "0.25\\0.5")
    assert cal.measure(Point(0, 0), Point(10, 0)).mm == pytest.approx(5.0)
    assert cal.measure(Point(0, 0), Point(0, 10)).mm == pytest.approx(2.5)
    assert cal.provenance().startswith("DICOM Pixel Spacing")


def test_manual_calibration_from_two_depth_scale_ticks():
    # Ticks 10 mm apart, 80 px apart on screen.
    cal = Calibration.manual(Point(600, 100), Point(600, 180), 10.0, 480, 640)
    assert cal.source is CalibrationSource.MANUAL
    assert cal.measure(Point(0, 0), Point(0, 40)).mm == pytest.approx(5.0)
    assert "10 mm over 80.0 px" in cal.provenance()


def test_manual_calibration_refuses_coincident_points_and_zero_distance():
    with pytest.raises(ValueError):
        Calibration.manual(Point(1, 1), Point(1, 1), 10.0, 10, 10)
    with pytest.raises(ValueError):
        Calibration.manual(Point(1, 1), Point(1, 9), 0.0, 10, 10)


def test_uncalibrated_provenance_says_so():
    assert Calibration.none().provenance() == "Not calibrated"
    assert Calibration.none().measure(Point(0, 0), Point(3, 4)).text() == "5 px"


def test_depth_zero_comes_from_the_region_reference_pixel():
    # A convex probe: the region's box starts at row 60, the transducer face (depth 0) at 82.
    region = UltrasoundRegion(10, 60, 609, 459, 1, 3, 3, 0.015, 0.015, 1, 22.0, None)
    cal = Calibration.from_ultrasound_regions([region], 480, 640)
    assert cal.regions[0].depth_origin_y == pytest.approx(82.0)
    across, deep = cal.mm_at(Point(10, 182))
    assert deep == pytest.approx(15.0)  # 100 px below row 82 at 0.15 mm/px
    assert across == pytest.approx(0.0)


def test_reference_pixel_physical_value_shifts_depth_zero():
    # ReferencePixelY0 20 sits 0.3 cm deep: depth zero is 0.3 cm / 0.015 cm/px = 20 px above it.
    region = UltrasoundRegion(0, 50, 99, 399, 1, 3, 3, 0.015, 0.015, 1, 20.0, 0.3)
    cal = Calibration.from_ultrasound_regions([region], 400, 100)
    assert cal.regions[0].depth_origin_y == pytest.approx(50.0)


def test_without_a_reference_depth_zero_is_the_region_top():
    cal = Calibration.from_ultrasound_regions([us_region(0, 31, 319, 239)], 240, 320)
    assert cal.regions[0].depth_origin_y == 31
