"""Every real ultrasound scanner's file in pydicom's test data (and pydicom-data's), planned on
and exported from a plan file (`export --plan`'s path) as Secondary Capture, cine, SR and
presentation state, plain and de-identified: every object passes dciodvfy with no error, its
body part and laterality are the image's, and what DICOM cannot hold (a presentation state on
palette colour) is named as missing, with the reason, while the rest is written."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pydicom
import pytest

from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    AngleMeasurement,
    AvoidKind,
    AvoidZone,
    Caliper,
    ImagePlan,
    ImageRef,
    NeedlePath,
    Plan,
    Side,
    Target,
    TextNote,
    ZoneShape,
)
from prolo_planner.export.deidentify import PseudonymKey
from prolo_planner.report.session_export import Deidentification, export_plan_file
from prolo_planner.store.plan_file import save_plan
from tests.conftest import SAMPLE_IMAGES, pydicom_file

#: (file, maker and model) of every real scanner's ultrasound file pydicom can give us.
SCANNER_FILES = [
    ("examples_palette.dcm", "Philips CX50, palette colour"),
    ("OBXXXX1A.dcm", "Philips CX50, palette colour"),
    ("OBXXXX1A_2frame.dcm", "Philips CX50, palette colour cine"),
    ("OBXXXX1A_expb.dcm", "Philips CX50, big endian"),
    ("OBXXXX1A_expb_2frame.dcm", "Philips CX50, big endian cine"),
    ("OBXXXX1A_rle.dcm", "Philips CX50, RLE"),
    ("OBXXXX1A_rle_2frame.dcm", "Philips CX50, RLE cine"),
    ("gdcm-US-ALOKA-16.dcm", "Aloka SSD-4000, 16-bit palette"),
    ("gdcm-US-ALOKA-16_big.dcm", "Aloka SSD-4000, 16-bit palette, big endian"),
    ("examples_ybr_color.dcm", "SonoSite Turbo, YBR JPEG cine"),
    ("color3d_jpeg_baseline.dcm", "SonoSite Turbo, 120-frame JPEG cine"),
    ("examples_rgb_color.dcm", "GE LOGIQ 700, RGB"),
    ("examples_jpeg2k.dcm", "GE LOGIQ 700, JPEG 2000"),
    ("ExplVR_BigEnd.dcm", "GE LOGIQ 700, big endian"),
    ("US1_UNCR.dcm", "GE LOGIQ 700, RGB"),
    ("US1_UNCI.dcm", "GE LOGIQ 700, RGB"),
    ("US1_J2KR.dcm", "GE LOGIQ 700, JPEG 2000 lossless"),
    ("US1_J2KI.dcm", "GE LOGIQ 700, JPEG 2000 lossy"),
]
KEY = PseudonymKey(b"every scanner key " * 2)


def plan_on(path: Path, region: str = "hip", side: Side = Side.RIGHT) -> Plan:
    """Every annotation kind, placed by the image's size."""
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    w, h = float(ds.Columns), float(ds.Rows)
    frames = int(ds.get("NumberOfFrames") or 1)
    image = ImagePlan(ImageRef(str(path), frame_count=frames), region=region, side=side)

    def at(x: float, y: float) -> Point:
        return Point(w * x, h * y)

    target = Target(image.id, at(0.5, 0.6), name="Iliofemoral ligament", side=side)
    return Plan(
        (image,),
        (
            target,
            NeedlePath(image.id, at(0.3, 0.2), target.id),
            AvoidZone(
                image.id,
                ZoneShape.ELLIPSE,
                (at(0.6, 0.4), at(0.7, 0.5)),
                kind=AvoidKind.ARTERY,
                name="femoral artery",
            ),
            Caliper(image.id, at(0.2, 0.3), at(0.2, 0.8), label="depth"),
            AngleMeasurement(image.id, at(0.4, 0.5), at(0.6, 0.5), at(0.5, 0.3), label="angle"),
            TextNote(image.id, at(0.7, 0.3), at(0.8, 0.2), "capsule"),
        ),
    )


def dciodvfy_errors(path: Path) -> list[str]:
    run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    return [x for x in (run.stdout + run.stderr).splitlines() if x.startswith("Error")]


@pytest.mark.parametrize("deidentified", [False, True], ids=["plain", "de-identified"])
@pytest.mark.parametrize(("name", "scanner"), SCANNER_FILES, ids=[n for n, _ in SCANNER_FILES])
def test_every_object_from_every_scanner_is_valid(
    tmp_path: Path, name: str, scanner: str, deidentified: bool
) -> None:
    source = pydicom_file(name)
    plan_path = save_plan(tmp_path / "plan.prolo.json", plan_on(source))
    header = pydicom.dcmread(source, stop_before_pixels=True)
    frames = int(header.get("NumberOfFrames") or 1)
    formats = ["sc", "sr", "pr"] + (["cine"] if 1 < frames <= 30 else [])
    how = Deidentification(KEY) if deidentified else None
    result = export_plan_file(plan_path, formats, tmp_path / "out", how)
    written = {re.sub(r"\d*\.dcm$", "", f.name.split("_", 1)[1]) for f in result.files}
    palette = str(header.PhotometricInterpretation) == "PALETTE COLOR"
    expected = {"sc", "sr"} | ({"cine"} if "cine" in formats else set())
    if not palette:
        expected.add("pr")
    if deidentified:
        expected.add("source")  # the SR and PR point at it: it goes with them
    assert written == expected, (scanner, result.files, result.missing)
    if palette:
        (why,) = result.missing
        assert why.startswith("presentation state of ")
        assert "no presentation state for PALETTE COLOR images" in why
    else:
        assert result.missing == [], scanner
    for f in result.files:
        assert dciodvfy_errors(f) == [], (scanner, f.name)
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        if "ContentSequence" not in ds:
            # The image's body part (the plan says hip, right), in the standard's terms.
            assert ds.BodyPartExamined == "HIP" and ds.Laterality == "R", f.name
        if deidentified:
            assert ds.PatientIdentityRemoved == "YES"


@pytest.mark.parametrize(
    ("name", "region", "side", "part", "laterality"),
    [
        ("lumbar_long_axis_clip.mp4", "lumbar_spine", Side.LEFT, "LSPINE", None),
        ("hip_anterior_frame_grab.png", "sacroiliac_pelvis", Side.RIGHT, "PELVIS", None),
        ("hip_anterior_frame_grab.png", "knee", Side.LEFT, "KNEE", "L"),
    ],
)
def test_stills_and_videos_get_their_own_body_part(
    tmp_path: Path, name: str, region: str, side: Side, part: str, laterality: str | None
) -> None:
    """A left lumbar session is no left spine: an unpaired part has no laterality at all."""
    path = SAMPLE_IMAGES / name
    image = ImagePlan(ImageRef(str(path)), region=region, side=side)
    target = Target(image.id, Point(300, 200), name="site")
    plan = Plan((image,), (target, NeedlePath(image.id, Point(250, 100), target.id)))
    plan_path = save_plan(tmp_path / "plan.prolo.json", plan)
    result = export_plan_file(plan_path, ["sc", "sr"], tmp_path / "out")
    assert result.missing == []
    for f in result.files:
        assert dciodvfy_errors(f) == [], f.name
    sc = pydicom.dcmread(next(f for f in result.files if f.name.endswith("_sc1.dcm")))
    assert sc.BodyPartExamined == part
    assert sc.get("Laterality") == laterality
