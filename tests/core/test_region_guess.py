"""Which region an image shows, read from its own file: the header's body part first, then its
descriptions, then its name; a file that says nothing gets no region (the session's applies)."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from prolo_planner.core.catalog import load_catalogs
from prolo_planner.core.region_guess import guess_region
from prolo_planner.imaging.anatomy import anatomy_evidence, file_anatomy_evidence
from prolo_planner.imaging.open import open_image
from prolo_planner.resources import sample_images_dir
from tests.conftest import pydicom_file

SAMPLES = sample_images_dir()


@pytest.mark.parametrize(
    "name, region",
    [
        # BodyPartExamined as each file carries it: LSPINE, HIP, CSPINE.
        ("lumbar_long_axis_rgb.dcm", "lumbar_spine"),
        ("lumbar_dual_view_ybr422_jpeg.dcm", "lumbar_spine"),
        ("hip_anterior_cine_ybr422_jpeg.dcm", "hip"),
        ("cervical_pillars_mono2.dcm", "cervical_spine"),
        # No header: the file's name.
        ("hip_anterior_frame_grab.png", "hip"),
        ("lumbar_long_axis_clip.mp4", "lumbar_spine"),
    ],
)
def test_the_samples_name_their_region(name: str, region: str) -> None:
    source = open_image(SAMPLES / name)
    try:
        assert guess_region(anatomy_evidence(source), load_catalogs()) == region
    finally:
        source.close()
    assert guess_region(file_anatomy_evidence(SAMPLES / name)) == region


def test_the_body_part_outranks_the_name(tmp_path: Path) -> None:
    ds = pydicom.dcmread(SAMPLES / "hip_anterior_cine_ybr422_jpeg.dcm", stop_before_pixels=True)
    assert ds.BodyPartExamined == "HIP"
    copy = tmp_path / "lumbar_view.dcm"
    pydicom.dcmread(SAMPLES / "hip_anterior_cine_ybr422_jpeg.dcm").save_as(copy)
    assert file_anatomy_evidence(copy)[0] == "HIP"
    assert guess_region(file_anatomy_evidence(copy)) == "hip"
    # A library copy is named by its hash: the clinician's file name is what tells.
    assert guess_region(file_anatomy_evidence(tmp_path / "3fa9c0.png", "knee_medial.png")) == "knee"


def test_a_real_scanner_file_without_anatomy_says_nothing() -> None:
    # pydicom's US1_UNCR.dcm: no BodyPartExamined, no descriptions, a name that is no region.
    assert guess_region(file_anatomy_evidence(pydicom_file("US1_UNCR.dcm"))) == ""


@pytest.mark.parametrize(
    "texts, region",
    [
        (["SHOULDER"], "shoulder"),
        (["", "US right knee, medial collateral ligament"], "knee"),
        (["Sacroiliac joint, long posterior ligament"], "sacroiliac_pelvis"),
        (["hip and knee survey"], ""),  # two regions named: it tells nothing
        (["abdomen"], ""),
        (["CHEST", "ribs 5-6 costotransverse"], "thoracic_spine_ribs"),
    ],
)
def test_words_and_codes(texts: list[str], region: str) -> None:
    assert guess_region(texts) == region


def test_only_regions_the_catalogs_hold() -> None:
    catalogs = load_catalogs()
    assert all(catalogs.region(r) is not None for r in ("hip", "knee", "wrist_hand"))
    empty = type(catalogs)()
    assert guess_region(["HIP"], empty) == ""
