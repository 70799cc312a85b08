"""Broken, truncated and unsupported DICOM: always ImageLoadError with a reason, nothing else."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prolo_planner.imaging.dicom import DicomSource
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.open import open_image
from tests.conftest import pydicom_file
from tests.data.dicom import factory

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def open_error(path: Path) -> str:
    with pytest.raises(ImageLoadError) as caught:
        DicomSource.open(path)
    assert caught.value.path == Path(path)
    return caught.value.reason


# -- real broken files ------------------------------------------------------------------------
def test_truncated_mr_says_where_the_pixel_data_ends() -> None:
    path = pydicom_file("MR_truncated.dcm")
    size = path.stat().st_size
    reason = open_error(path)
    assert reason == f"truncated: pixel data ends at byte {size} of {size + 62} expected"


@pytest.mark.parametrize(
    "name, what",
    [
        ("test-SR.dcm", "Comprehensive SR Storage"),
        ("waveform_ecg.dcm", "12-lead ECG Waveform Storage"),
        ("rtplan_truncated.dcm", "RT Plan Storage"),
        ("reportsi.dcm", "Basic Text SR Storage"),
        ("ExplVR_LitEndNoMeta.dcm", "RT Ion Plan Storage"),
        ("ExplVR_BigEndNoMeta.dcm", "RT Ion Plan Storage"),
        ("dicomdirtests/DICOMDIR", "Media Storage Directory Storage"),
    ],
)
def test_objects_without_pixels_are_named(name: str, what: str) -> None:
    assert open_error(pydicom_file(name)) == f"no image pixels ({what})"


def test_presentation_state_has_no_pixels(tmp_path: Path) -> None:
    ds = factory.base_dataset(1, 1, sop_class="1.2.840.10008.5.1.4.1.1.11.1")
    del ds.Rows, ds.Columns
    path = factory.write(ds, tmp_path / "pr.dcm")
    assert open_error(path) == "no image pixels (Grayscale Softcopy Presentation State Storage)"


def test_zero_byte_file_through_open_image(tmp_path: Path) -> None:
    path = tmp_path / "empty.dcm"
    path.write_bytes(b"")
    with pytest.raises(ImageLoadError, match="empty file"):
        open_image(path)
    assert open_error(path) == "empty file (0 bytes)"


def test_text_file_is_not_dicom(tmp_path: Path) -> None:
    path = tmp_path / "notes.dcm"
    path.write_text("Patient seen, lumbar prolotherapy L4-L5.\n" * 20)
    assert open_error(path).startswith("not a DICOM file")


def test_malformed_bare_dataset_from_pydicom_is_refused() -> None:
    # no_meta.dcm starts one byte off a data element; pydicom cannot read it either.
    assert open_error(pydicom_file("no_meta.dcm")).startswith("not a DICOM file")


def test_damaged_number_of_frames() -> None:
    assert open_error(pydicom_file("badVR.dcm")) == "invalid Number of Frames '1A'"


def test_unreadable_compressed_frame_fails_at_frame_time() -> None:
    source = DicomSource.open(pydicom_file("JPEG2000-embedded-sequence-delimiter.dcm"))
    with pytest.raises(ImageLoadError, match=r"frame 1 of 1 cannot be decoded \(JPEG 2000"):
        source.frame(0)


# -- truncated copies of real files -----------------------------------------------------------
def test_cine_cut_inside_its_header(tmp_path: Path) -> None:
    source = pydicom_file("examples_ybr_color.dcm")
    path = factory.chopped(source, tmp_path / "cut.dcm", 30000)
    assert open_error(path) == "truncated: the file ends at byte 30000, before its pixel data"


def test_cine_cut_inside_its_pixels_shows_the_frames_it_still_has(tmp_path: Path) -> None:
    source = pydicom_file("examples_ybr_color.dcm")
    full = DicomSource.open(source)
    path = factory.chopped(source, tmp_path / "cut.dcm", source.stat().st_size // 2)
    size = path.stat().st_size
    cut = DicomSource.open(path)  # the offset table still lists every frame
    assert cut.frame_count == 30
    shown, reasons = [], []
    for i in range(30):
        try:
            assert np.array_equal(cut.frame(i), full.frame(i))
            shown.append(i)
        except ImageLoadError as exc:
            reasons.append(exc.reason)
    k = len(shown)
    assert shown == list(range(k)) and 5 < k < 25
    assert reasons[0].startswith(f"truncated: frame {k + 1} ends at byte {size} of ")
    assert reasons[1:] == [
        f"truncated: frame {i + 1} is missing (the file ends at byte {size})"
        for i in range(k + 1, 30)
    ]


def test_cine_without_offset_table_cut_short(tmp_path: Path) -> None:
    whole = factory.ybr_jpeg_cine(tmp_path / "whole.dcm", frames=10, has_bot=False)
    path = factory.chopped(whole, tmp_path / "cut.dcm", whole.stat().st_size * 6 // 10)
    cut = DicomSource.open(path)
    assert np.array_equal(cut.frame(1), DicomSource.open(whole).frame(1))
    with pytest.raises(ImageLoadError, match="frame 10 is missing"):
        cut.frame(9)
    errors = []
    for i in range(10):
        try:
            cut.frame(i)
        except ImageLoadError as exc:
            errors.append(exc.reason)
    assert any(reason.startswith("truncated: frame") for reason in errors)


@pytest.mark.parametrize("name", ["examples_rgb_color.dcm", "MR_small.dcm", "examples_palette.dcm"])
def test_native_pixels_cut_short_are_refused_at_open(tmp_path: Path, name: str) -> None:
    source = pydicom_file(name)
    data = source.read_bytes()
    ds = pydicom.dcmread(source)
    # Explicit VR little endian: tag, VR, 2 reserved bytes, 4-byte length, then the value.
    value_start = data.rfind(b"\xe0\x7f\x10\x00") + 12
    value_end = value_start + ds.Rows * ds.Columns * ds.SamplesPerPixel * ds.BitsAllocated // 8
    path = factory.chopped(source, tmp_path / "cut.dcm", value_end - 1000)
    reason = open_error(path)
    assert (
        reason == f"truncated: pixel data ends at byte {value_end - 1000} of {value_end} expected"
    )


# -- unsupported or invalid headers -----------------------------------------------------------
@pytest.mark.parametrize(
    "uid, name",
    [
        ("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level"),
        ("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1"),
        ("1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile / Level 5.1"),
    ],
)
def test_video_transfer_syntaxes_are_unsupported(tmp_path: Path, uid: str, name: str) -> None:
    path = factory.with_changes(
        pydicom_file("examples_ybr_color.dcm"), tmp_path / "video.dcm", TransferSyntaxUID=uid
    )
    assert open_error(path) == f"unsupported transfer syntax {name} ({uid})"


def test_unknown_transfer_syntax(tmp_path: Path) -> None:
    path = factory.with_changes(
        pydicom_file("examples_ybr_color.dcm"), tmp_path / "x.dcm", TransferSyntaxUID="1.2.3.4.5"
    )
    assert open_error(path) == "unsupported transfer syntax unknown (1.2.3.4.5)"


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"Rows": 0}, "invalid image size: Rows 0, Columns 320"),
        ({"Columns": None}, "invalid image size: Rows 240, Columns (missing)"),
        ({"BitsAllocated": 12}, "invalid Bits Allocated 12"),
        ({"BitsStored": 9}, "invalid Bits Stored 9 (Bits Allocated 8)"),
        ({"SamplesPerPixel": 4}, "invalid Samples per Pixel 4 (1 or 3 supported)"),
        ({"PhotometricInterpretation": "CMYK"}, "unsupported photometric interpretation CMYK"),
        (
            {"PhotometricInterpretation": "MONOCHROME2"},
            "invalid Samples per Pixel 3 for photometric interpretation MONOCHROME2",
        ),
        ({"PlanarConfiguration": 2}, "invalid Planar Configuration 2"),
        ({"PixelRepresentation": 3}, "invalid Pixel Representation 3"),
        ({"NumberOfFrames": 0}, "invalid Number of Frames '0'"),
    ],
)
def test_invalid_image_pixel_module(tmp_path: Path, changes: dict, reason: str) -> None:
    path = factory.with_changes(
        pydicom_file("examples_rgb_color.dcm"), tmp_path / "bad.dcm", **changes
    )
    assert open_error(path) == reason


def test_compressed_frame_that_is_not_a_jpeg(tmp_path: Path) -> None:
    encoded = [b"\xff\xd8\xff\xe0 broken " * 10 for _ in range(3)]
    path = factory.ybr_jpeg_cine(tmp_path / "bad.dcm", frames=3, encoded=encoded)
    source = DicomSource.open(path)
    with pytest.raises(ImageLoadError) as caught:
        source.frame(2)
    assert caught.value.reason.startswith("frame 3 of 3 cannot be decoded (JPEG Baseline")


def test_number_of_frames_larger_than_the_file_can_hold(tmp_path: Path) -> None:
    path = factory.with_changes(
        pydicom_file("examples_ybr_color.dcm"), tmp_path / "x.dcm", NumberOfFrames=90000
    )
    assert "Number of Frames 90000" in open_error(path)


# -- property: any mutation of real bytes gives a picture or ImageLoadError --------------------
SEEDS = {
    name: pydicom_file(name).read_bytes()
    for name in (
        "examples_ybr_color.dcm",
        "MR_small.dcm",
        "MR_small_RLE.dcm",
        "examples_palette.dcm",
        "SC_rgb_small_odd_big_endian.dcm",
        "ExplVR_BigEnd.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_jp2klossless.dcm",
        "SC_rgb_jpeg_gdcm.dcm",  # JPEG Lossless SV1
        "JPGExtended.dcm",  # 12-bit JPEG Extended
    )
}
HOT_SPOTS = {name: data.find(b"\xe0\x7f\x10\x00") for name, data in SEEDS.items()}


@st.composite
def mutated_dicom(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[name])
    for _ in range(draw(st.integers(1, 4))):
        # Half the edits land near the header's end and the pixel data start, where parsing
        # decisions are made; the rest anywhere.
        lo, hi = HOT_SPOTS[name] - 300, min(len(data) - 1, HOT_SPOTS[name] + 40)
        if draw(st.booleans()) and 0 <= lo <= hi:
            where = draw(st.integers(lo, hi))
        else:
            where = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "overwrite"]))
        if edit == "flip":
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif edit == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del data[where : where + draw(st.integers(1, 16))]
        elif edit == "truncate":
            del data[where:]
        else:
            chunk = draw(st.binary(min_size=1, max_size=6))
            data[where : where + len(chunk)] = chunk
        if not data:
            break
    return bytes(data)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=mutated_dicom())
def test_mutated_real_dicom_gives_a_picture_or_image_load_error(
    tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "mutated.dcm"
    path.write_bytes(data)
    try:
        source = open_image(path)
    except ImageLoadError as exc:
        assert exc.reason and exc.path == path
        return
    count = source.frame_count
    assert count >= 1
    for index in {0, count - 1, random.Random(len(data)).randrange(count)}:
        try:
            frame = source.frame(index)
        except ImageLoadError as exc:
            assert exc.reason
            continue
        assert frame.dtype == np.uint8 and frame.flags.c_contiguous
        assert frame.shape[:2] == (source.info.rows, source.info.columns)
        assert frame.ndim == 2 or frame.shape[2] == 3
