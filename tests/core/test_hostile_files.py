"""Files that declare far more than they hold are refused before anything is allocated, with one
line naming the limit; headers the pixel data contradicts are believed no further than the data,
with a warning naming the attribute; a truncated cine says so and is not filed in the library."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from prolo_planner.cli import main
from prolo_planner.imaging.codestream import j2k_size, jpeg_size, png_size
from prolo_planner.imaging.dicom import DicomSource
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.open import open_image
from prolo_planner.imaging.read_limits import ReadLimits, read_limits, set_read_limits
from prolo_planner.store.repository import Repository
from tests.conftest import pydicom_file
from tests.data.dicom import factory, hostile

LIMIT_LINE = "(read-limits.json: max_frame_pixels)"


@pytest.fixture(autouse=True)
def default_limits():
    set_read_limits(ReadLimits())
    yield
    set_read_limits(None)


def open_error(path: Path) -> str:
    with pytest.raises(ImageLoadError) as err:
        open_image(path)
    assert err.value.path == path
    return err.value.reason


# -- declared sizes ----------------------------------------------------------------------------
def test_a_deflated_bomb_is_refused_while_it_inflates(tmp_path: Path) -> None:
    """3.3 MB on disk, 3.2 GB inflated: pydicom inflated all of it to read the header."""
    path = hostile.deflate_bomb(tmp_path / "bomb.dcm", inflated_mb=3200)
    set_read_limits(ReadLimits(max_inflated_bytes=64 << 20))  # refused sooner: a quick test
    assert open_error(path) == (
        "the deflated dataset inflates to more than 64 MB (read-limits.json: max_inflated_bytes)"
    )


def test_a_deflated_file_within_the_limit_reads_as_before(tmp_path: Path) -> None:
    path = hostile.deflate_bomb(tmp_path / "zeros.dcm", inflated_mb=3)
    source = DicomSource.open(path)
    assert source.frame_count == 3
    assert not source.frame(2).any()
    real = DicomSource.open(pydicom_file("image_dfl.dcm"))  # a real deflated file
    assert real.frame(0).shape == (real.info.rows, real.info.columns)


@pytest.mark.parametrize(
    ("build", "size"),
    [
        (lambda p: hostile.jpeg_declaring(p, 20000, 20000), "20000 x 20000 (400.0 megapixels)"),
        (lambda p: hostile.rle_declaring(p, 65535, 65535), "65535 x 65535 (4294.8 megapixels)"),
        (
            lambda p: hostile.png_bomb(p.with_suffix(".png"), 20000, 20000),
            "20000 x 20000 (400.0 megapixels)",
        ),
    ],
    ids=["jpeg-dicom", "rle-dicom", "png"],
)
def test_a_declared_size_beyond_the_limit_is_refused_at_open(tmp_path: Path, build, size) -> None:
    path = build(tmp_path / "bomb.dcm")
    assert path.stat().st_size < 400_000
    reason = open_error(path)
    assert reason == f"image size {size} is more than the 16.8 megapixels allowed {LIMIT_LINE}"


def test_a_png_bomb_is_refused_before_opencv_decodes_it(tmp_path: Path, monkeypatch) -> None:
    """OpenCV's fast path ran before Pillow's bomb check, and its own limit is a gigapixel."""
    import cv2

    from prolo_planner.imaging import still

    calls: list[int] = []
    real = still.cv2.imdecode
    monkeypatch.setattr(still.cv2, "imdecode", lambda *a: calls.append(1) or real(*a))
    path = hostile.png_bomb(tmp_path / "bomb.png", 6000, 6000)
    assert "6000 x 6000 (36.0 megapixels)" in open_error(path)
    assert calls == []
    assert cv2.imdecode is not None


def test_a_codestream_that_lies_about_its_size_is_not_decoded(tmp_path: Path) -> None:
    """The DICOM header says 64 x 48 (within the limit); the JPEG inside says 20000 x 20000,
    and decoders allocate what the JPEG says."""
    path = hostile.jpeg_declaring(tmp_path / "liar.dcm", dicom_too=False)
    source = DicomSource.open(path)
    with pytest.raises(ImageLoadError) as err:
        source.frame(0)
    assert err.value.reason.endswith(
        "the compressed frame declares 20000 x 20000 pixels, the header 64 x 48"
    )


def test_limits_are_the_clinics_to_raise(tmp_path: Path, private_home: Path) -> None:
    path = hostile.png_bomb(tmp_path / "big.png", 5000, 5000)
    assert "25.0 megapixels" in open_error(path)
    config = private_home / "config"
    config.mkdir(exist_ok=True)
    (config / "read-limits.json").write_text(
        json.dumps(
            {"format": "prolo-planner/read-limits", "version": "1.0", "max_frame_pixels": 30e6}
        )
    )
    set_read_limits(None)
    assert read_limits().max_frame_pixels == ReadLimits().max_frame_pixels  # 30e6 is no int
    (config / "read-limits.json").write_text(
        json.dumps(
            {
                "format": "prolo-planner/read-limits",
                "version": "1.0",
                "max_frame_pixels": 30_000_000,
            }
        )
    )
    set_read_limits(None)
    assert read_limits().max_frame_pixels == 30_000_000
    assert open_image(path).frame(0).shape == (5000, 5000)


def test_codestream_headers_are_read_as_the_standards_write_them(tmp_path: Path) -> None:
    import cv2

    ok, jpeg = cv2.imencode(".jpg", np.zeros((37, 53, 3), np.uint8))
    assert ok and jpeg_size(jpeg.tobytes()) == (53, 37)
    ok, png = cv2.imencode(".png", np.zeros((37, 53), np.uint8))
    assert ok and png_size(png.tobytes()) == (53, 37)
    ds = __import__("pydicom").dcmread(pydicom_file("examples_jpeg2k.dcm"))
    from pydicom.encaps import generate_frames

    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    assert j2k_size(frame) == (ds.Columns, ds.Rows)


# -- headers the data contradicts ----------------------------------------------------------------
@pytest.mark.parametrize("encapsulated", [True, False], ids=["jpeg", "native"])
def test_a_frame_count_the_data_does_not_hold_is_a_warning_and_the_data_wins(
    tmp_path: Path, encapsulated: bool
) -> None:
    path = hostile.lying_frame_count(tmp_path / "cine.dcm", 50, 60, encapsulated=encapsulated)
    source = DicomSource.open(path)
    assert source.frame_count == 50
    assert source.info.warnings == (
        "Number of Frames (0028,0008) is 60 but the pixel data holds 50: 50 shown",
    )
    assert source.info.truncation == ""
    assert source.frame(49).shape == (48, 64, 3)


def test_a_hundred_thousand_frames_in_a_fifty_frame_file_is_reported_as_such(
    tmp_path: Path,
) -> None:
    path = hostile.lying_frame_count(tmp_path / "cine.dcm", 50, 100_000)
    assert open_error(path) == "invalid Number of Frames 100000: more than the file can hold"
    native = hostile.lying_frame_count(tmp_path / "raw.dcm", 50, 100_000, encapsulated=False)
    assert (
        DicomSource.open(native)
        .info.warnings[0]
        .startswith("Number of Frames (0028,0008) is 100000 but the pixel data holds 50")
    )


def test_a_region_spacing_beyond_physics_gives_no_millimetres(tmp_path: Path) -> None:
    source = DicomSource.open(hostile.implausible_spacing(tmp_path / "still.dcm", 1e300))
    assert not source.calibration.is_calibrated
    assert source.calibration.provenance() == (
        "Not calibrated (region 1: PhysicalDeltaX/Y 1e+300 x 1e+300 cm per pixel is outside "
        "any ultrasound image (0.001 to 10 mm per pixel), not used)"
    )
    plausible = DicomSource.open(hostile.implausible_spacing(tmp_path / "ok.dcm", 0.01))
    assert plausible.calibration.is_calibrated


# -- truncation ---------------------------------------------------------------------------------
def test_info_finds_a_truncated_cine_and_exits_non_zero(tmp_path: Path, capsys) -> None:
    path = hostile.truncated_cine(tmp_path / "cut.dcm", frames=20, keep=0.6)
    source = DicomSource.open(path)
    whole = int(source.info.truncation.split()[1])
    assert 5 < whole < 20
    assert source.frame(whole - 1) is not None  # what is there still shows
    with pytest.raises(ImageLoadError, match="truncated"):
        source.frame(whole)
    assert main(["info", str(path)]) == 1
    out = capsys.readouterr()
    assert out.err == (
        f"prolo-planner: {path}: truncated: {whole} of 20 frame(s) are whole; the file ends at "
        f"byte {path.stat().st_size}\n"
    )
    assert f"frames:          20 (truncated: {whole} of 20" in out.out


def test_a_truncated_cine_without_offset_table_is_found_too(tmp_path: Path) -> None:
    whole = factory.ybr_jpeg_cine(tmp_path / "whole.dcm", frames=10, has_bot=False)
    cut = factory.chopped(whole, tmp_path / "cut.dcm", whole.stat().st_size * 6 // 10)
    assert DicomSource.open(cut).info.truncation.startswith("truncated: 5 of 10 frame(s)")
    assert DicomSource.open(whole).info.truncation == ""


def test_the_library_does_not_file_a_truncated_cine(tmp_path: Path) -> None:
    path = hostile.truncated_cine(tmp_path / "cut.dcm")
    with Repository.open(tmp_path / "data") as repo:
        patient = repo.create_patient("PP-0001", "Test^Synthetic")
        session = repo.create_session(patient.id)
        with pytest.raises(ImageLoadError, match="truncated: .* not filed; import a whole copy"):
            repo.admit(path, session.id)
        assert repo.images_of(session.id) == []


def test_a_single_frame_cut_inside_its_only_frame_is_refused(tmp_path: Path) -> None:
    source = pydicom_file("SC_rgb_jpeg_dcmtk.dcm")
    cut = factory.chopped(source, tmp_path / "cut.dcm", source.stat().st_size - 200)
    assert open_error(cut).startswith("truncated: 0 of 1 frame(s) are whole")


def test_a_deflated_bomb_is_not_read_to_be_sent_either(tmp_path: Path) -> None:
    from prolo_planner.net.send import SendResult, read_header

    path = hostile.deflate_bomb(tmp_path / "bomb.dcm", inflated_mb=200)
    set_read_limits(ReadLimits(max_inflated_bytes=64 << 20))
    result = read_header(path)
    assert isinstance(result, SendResult) and not result.ok
    assert result.message == (
        "the deflated dataset inflates to more than 64 MB (read-limits.json: max_inflated_bytes)"
    )
    set_read_limits(ReadLimits())
    assert not isinstance(read_header(path), SendResult)  # within the default: sent as it is
