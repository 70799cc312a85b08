"""Millimetres on real scanners' files: expected values worked out by hand from their headers.

The files are pydicom's test data (pydicom-data behind get_testdata_file):
- gdcm-US-ALOKA-16.dcm: Aloka SSD-4000 dual view, two 2D regions x 32-335 and x 336-639, rows
  24-415, PhysicalDeltaX/Y 0.03826530650258064 cm (0.3827 mm/px) each, ReferencePixelY0 21.
- OBXXXX1A.dcm: Philips CX50, C5-1 probe, TransducerType CURVED LINEAR, one 2D region x 120-800
  (past the 800-column image), rows 60-518, ReferencePixelX0 340 and Y0 36 (the face on the
  centre beam: column 460, row 96), PhysicalDelta 0.02622878766196998 cm.
- color3d_jpeg_baseline.dcm: SonoSite Turbo phased-array cine, region x 84-595, rows 31-414,
  0.05104970559477806 cm/px, no reference pixel and no TransducerType.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pydicom
import pytest

from prolo_planner.core.calibration import ACROSS_REGIONS, Calibration
from prolo_planner.core.geometry import Point
from prolo_planner.core.image_calibration import ImageFacts, calibration_in_force
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.measure import (
    Measurement,
    NoValue,
    Units,
    measure_plan,
    path_length,
    target_depth,
)
from prolo_planner.core.plan import (
    ImagePlan,
    ImageRef,
    NeedlePath,
    Plan,
    ProbeSetting,
    ProbeShape,
    Target,
)
from prolo_planner.core.probe import Origin
from prolo_planner.core.safety import WarningCode, check_plan
from prolo_planner.imaging.facts import image_facts
from prolo_planner.imaging.open import open_image
from tests.conftest import pydicom_file

ALOKA_MM = 0.3826530650258064  # 10 x PhysicalDeltaX of both regions
CX50_MM = 0.2622878766196998  # 10 x PhysicalDeltaY
SONOSITE_MM = 0.5104970559477806


def facts_of(path: Path) -> ImageFacts:
    source = open_image(path)
    try:
        return image_facts(source)
    finally:
        source.close()


@pytest.fixture(scope="module")
def aloka() -> ImageFacts:
    return facts_of(pydicom_file("gdcm-US-ALOKA-16.dcm"))


@pytest.fixture(scope="module")
def cx50() -> ImageFacts:
    return facts_of(pydicom_file("OBXXXX1A.dcm"))


# -- regions are separate spaces ---------------------------------------------------------------
def test_the_aloka_dual_view_is_refused_across_its_halves(aloka) -> None:
    calibration = calibration_in_force(aloka)
    left, right = calibration.regions
    assert left.spacing == right.spacing == (ALOKA_MM, ALOKA_MM)  # equal spacing...
    across = calibration.measure(Point(200, 200), Point(500, 200))
    assert (across.mm, across.problem) == (None, ACROSS_REGIONS)  # ...and still two scans
    assert across.text() == "300 px"
    # Within the right half: 200 columns at 0.3827 mm.
    within = calibration.measure(Point(400, 100), Point(600, 100))
    assert within.mm == pytest.approx(200 * ALOKA_MM)
    # A needle path from one half to a target in the other gets no mm either, and says why.
    path = path_length(Point(300, 40), Point(500, 300), calibration)
    assert (path.units, path.problem) == (Units.PX, ACROSS_REGIONS)


def test_a_dual_view_path_is_flagged_in_the_warnings_with_the_reason(aloka) -> None:
    image = ImagePlan(ImageRef("aloka.dcm"))
    target = Target(image.id, Point(500, 300), name="bladder wall")
    path = NeedlePath(image.id, Point(300, 46), target.id)
    plan = Plan((image,), (target, path), 70.0)
    calibrations = {image.id: calibration_in_force(aloka, image)}
    found = check_plan(plan, calibrations, ClinicLimits())
    (w,) = [w for w in found if w.code is WarningCode.NO_MILLIMETRES]
    assert w.annotation_ids == (path.id,) and ACROSS_REGIONS in w.message


# -- Reference Pixel Physical Value Y (0018,602A) ----------------------------------------------
def test_reference_pixel_physical_value_y_is_read_from_the_file(tmp_path) -> None:
    # The CX50 file with 0.5 cm at its reference pixel (row 96): depth zero lies
    # 0.5 / 0.02622878766 = 19.063 rows above it, so the reference pixel itself is 5.0 mm deep.
    copy = tmp_path / "cx50_602a.dcm"
    shutil.copy(pydicom_file("OBXXXX1A.dcm"), copy)
    ds = pydicom.dcmread(copy)
    ds.SequenceOfUltrasoundRegions[0][0x0018, 0x602A].value = 0.5
    ds.save_as(copy)
    calibration = calibration_in_force(facts_of(copy))
    (region,) = calibration.regions
    assert region.depth_zero_y == pytest.approx(96 - 0.5 / 0.02622878766196998)
    assert region.probe is not None and region.probe.zero_from is Origin.FILE
    depth = target_depth(Point(460, 96), calibration)
    assert isinstance(depth, Measurement) and depth.value == pytest.approx(5.0)
    # The untouched file: 0.0 cm there, the reference pixel is the face.
    plain = calibration_in_force(facts_of(pydicom_file("OBXXXX1A.dcm")))
    assert target_depth(Point(460, 96), plain).value == pytest.approx(0.0)


# -- depth on a curvilinear probe ---------------------------------------------------------------
def test_cx50_depth_at_the_centre_beam_is_rows_below_the_reference_pixel(cx50) -> None:
    calibration = calibration_in_force(cx50)
    (region,) = calibration.regions
    probe = region.probe
    assert probe is not None
    assert (probe.shape, probe.shape_from) == (ProbeShape.CURVED, Origin.FILE)  # CURVED LINEAR
    assert (probe.centre_x, probe.zero_y) == (460, 96)  # ReferencePixelX0/Y0 + region corner
    # On the centre beam the beam runs straight down: 200 rows below row 96.
    assert target_depth(Point(460, 296), calibration).value == pytest.approx(200 * CX50_MM)


def test_cx50_depth_at_the_sector_edge_runs_along_the_beam(cx50) -> None:
    # The clinician gives the C5-1's face radius, 50 mm; the apex is 50 / 0.2622878766 =
    # 190.628 rows above row 96, at row -94.628. A point 30 degrees off the centre beam, 40 mm
    # below the face, lies 90 mm from the apex: 90 sin 30 / 0.26229 = 171.566 columns right of
    # column 460, 90 cos 30 / 0.26229 = 297.160 rows below the apex.
    image = ImagePlan(ImageRef("cx50.dcm"), probe=ProbeSetting(radius_mm=50.0))
    calibration = calibration_in_force(cx50, image)
    edge = Point(460 + 171.5657, -94.6283 + 297.1605)
    depth = target_depth(edge, calibration)
    assert depth.value == pytest.approx(40.0, abs=0.001)
    # Measured straight down from row 96, as before, it read 12 mm shallower.
    assert (edge.y - 96) * CX50_MM == pytest.approx(27.94, abs=0.01)
    (region,) = calibration.regions
    assert region.probe is not None and region.probe.apex_from is Origin.CLINICIAN


def test_the_cx50_fan_found_in_the_pixels_agrees_with_its_header(cx50) -> None:
    fan = cx50.fan_in((120, 60, 799, 518))
    assert fan is not None and fan.shape is ProbeShape.CURVED
    assert fan.centre_x == pytest.approx(460, abs=2)  # header: ReferencePixelX0 340 + 120
    assert fan.face_y == pytest.approx(96, abs=2)  # header: ReferencePixelY0 36 + 60
    radius_mm = (fan.face_y - fan.apex_y) * CX50_MM
    assert 40 < radius_mm < 55  # a C5-1 abdominal convex array


def test_a_target_above_the_convex_face_gets_a_warning_not_a_number(cx50) -> None:
    image = ImagePlan(ImageRef("cx50.dcm"))
    calibration = calibration_in_force(cx50, image)
    # Inside the sector's box, 10 rows above the face on the centre beam (the issue's -4.2 mm).
    above = target_depth(Point(460, 80), calibration)
    assert isinstance(above, NoValue) and above.above
    target = Target(image.id, Point(460, 80), name="fetal pole")
    plan = Plan((image,), (target,), 70.0)
    m = measure_plan(plan, {image.id: calibration})
    assert target.id not in m.target_depths and m.no_depth[target.id].above
    codes = {w.code for w in check_plan(plan, {image.id: calibration}, ClinicLimits())}
    assert WarningCode.TARGET_ABOVE_SKIN in codes


# -- depth zero that says where it comes from ---------------------------------------------------
def test_sonosite_depth_zero_is_the_face_found_in_the_image_not_the_region_top() -> None:
    facts = facts_of(pydicom_file("color3d_jpeg_baseline.dcm"))
    calibration = calibration_in_force(facts)
    (region,) = calibration.regions
    assert region.depth_zero_y is None  # no reference pixel in the file
    probe = region.probe
    assert probe is not None and probe.zero_from is Origin.IMAGE
    # The scanner's own depth scale puts 0 cm at about row 41 (its top tick), 10 rows below the
    # region's top (row 31) where the old guess put it.
    assert probe.zero_y == pytest.approx(41, abs=2)
    # Without the image (no fan found), the region's top is a guess, and says so.
    guessed = calibration_in_force(ImageFacts(480, 640, 120, facts.calibration))
    (guess,) = guessed.regions
    assert guess.probe is not None and guess.probe.zero_from is Origin.GUESS
    image = ImagePlan(ImageRef("sonosite.dcm"))
    plan = Plan((image,), (Target(image.id, Point(340, 200)),), 70.0)
    found = check_plan(plan, {image.id: guessed}, ClinicLimits())
    (w,) = [w for w in found if w.code is WarningCode.DEPTH_ZERO_GUESSED]
    assert "skin line" in w.message and "0 tick" in w.message
    # Clicking the depth scale's 0 tick (row 41.6) sets it, the clinician's.
    ticked = ImagePlan(image.ref, probe=ProbeSetting(zero_y=41.6), id=image.id)
    clicked = calibration_in_force(ImageFacts(480, 640, 120, facts.calibration), ticked)
    assert clicked.regions[0].probe.zero_from is Origin.CLINICIAN
    assert target_depth(Point(340, 141.6), clicked).value == pytest.approx(100 * SONOSITE_MM)
    assert not [
        w
        for w in check_plan(plan.with_images([ticked]), {image.id: clicked}, ClinicLimits())
        if w.code is WarningCode.DEPTH_ZERO_GUESSED
    ]


def test_the_skin_line_is_depth_zero_and_an_entry_below_it_is_flagged(cx50) -> None:
    image = ImagePlan(ImageRef("cx50.dcm"), skin_line=(Point(300, 120), Point(620, 120)))
    calibration = calibration_in_force(cx50, image)
    target = Target(image.id, Point(460, 320))
    on_skin = NeedlePath(image.id, Point(300, 120), target.id)
    deep = NeedlePath(image.id, Point(300, 160), target.id)
    plan = Plan((image,), (target, on_skin, deep), 70.0)
    m = measure_plan(plan, {image.id: calibration})
    # On the centre beam the skin line (row 120) is depth zero: 200 rows below it.
    assert m.target_depths[target.id].value == pytest.approx(200 * CX50_MM)
    assert not m.path(on_skin.id).entry_below_skin
    assert m.path(deep.id).entry_below_skin
    flagged = [
        w.annotation_ids
        for w in check_plan(plan, {image.id: calibration}, ClinicLimits())
        if w.code is WarningCode.ENTRY_BELOW_SKIN
    ]
    assert flagged == [(deep.id,)]


# -- the in-plane entry beside the probe ----------------------------------------------------------
def test_an_entry_beyond_the_image_end_borrows_its_targets_region(cx50) -> None:
    image = ImagePlan(ImageRef("cx50.dcm"), probe=ProbeSetting(shape=ProbeShape.LINEAR))
    calibration = calibration_in_force(cx50, image)
    # A linear reading of the file for simple arithmetic: the face is row 96 across the image.
    # The entry 60 columns left of the image (column -60) on row 96; the target at (200, 296):
    # 260 columns and 200 rows apart.
    length = path_length(Point(-60, 96), Point(200, 296), calibration)
    assert (length.units, length.problem) == (Units.MM, None)
    assert length.value == pytest.approx(math.hypot(260, 200) * CX50_MM)
    # A caliper to the same point outside the image stays refused: only an entry borrows.
    assert calibration.measure(Point(-60, 96), Point(200, 296)).mm is None


def test_uncalibrated_images_measure_in_pixels_and_say_so() -> None:
    none = calibration_in_force(ImageFacts(480, 640, 1, Calibration.none()))
    d = target_depth(Point(10, 140), none)
    assert (d.value, d.units, d.problem) == (140.0, Units.PX, "image not calibrated")
