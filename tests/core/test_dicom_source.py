"""DicomSource on real files: every frame as pydicom decodes it, shown as the viewer shows it."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_frames
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_windowing
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)

from prolo_planner.core.calibration import CalibrationSource
from prolo_planner.core.geometry import Point
from prolo_planner.imaging.dicom import DicomSource
from prolo_planner.imaging.dicom_pixels import _decode_with_opencv, decode_frame
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.open import open_image
from prolo_planner.imaging.source import ImageSource, SourceKind
from tests.conftest import pydicom_file
from tests.data.dicom import factory

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def pydicom_frames(path: Path) -> np.ndarray:
    """pydicom's own full decode (YBR converted to RGB), always with a frame axis."""
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return arr if frames > 1 else arr[None]


def frames_of(source: DicomSource) -> np.ndarray:
    return np.stack([source.frame(i) for i in range(source.frame_count)])


def assert_valid_frame(frame: np.ndarray) -> None:
    assert frame.dtype == np.uint8
    assert frame.flags.c_contiguous
    assert frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 3)


def windowed_reference(path: Path) -> np.ndarray:
    """pydicom's Modality LUT and VOI window, its output range stretched to 0..255."""
    ds = pydicom.dcmread(path)
    arr = pydicom_frames(path)
    values = apply_windowing(apply_modality_lut(arr, ds).astype(np.float64), ds)
    signed = ds.PixelRepresentation == 1
    lo = -(2 ** (ds.BitsStored - 1)) if signed else 0
    hi = 2 ** (ds.BitsStored - 1) - 1 if signed else 2**ds.BitsStored - 1
    if "RescaleSlope" in ds:
        lo, hi = (v * float(ds.RescaleSlope) + float(ds.RescaleIntercept) for v in (lo, hi))
    return np.clip(np.rint((values - lo) / (hi - lo) * 255), 0, 255).astype(np.uint8)


def min_max_reference(path: Path) -> np.ndarray:
    ds = pydicom.dcmread(path)
    out = []
    for frame in pydicom_frames(path):
        values = apply_modality_lut(frame, ds).astype(np.float64)
        lo, hi = values.min(), values.max()
        out.append(np.clip(np.rint((values - lo) * 255 / (hi - lo)), 0, 255).astype(np.uint8))
    return np.stack(out)


# -- colour ultrasound: the JPEG fast path ---------------------------------------------------
def test_ybr_jpeg_cine_from_pydicom_matches_pydicom_pixel_for_pixel() -> None:
    path = pydicom_file("examples_ybr_color.dcm")
    source = DicomSource.open(path)
    assert source.frame_count == 30
    assert np.array_equal(frames_of(source), pydicom_frames(path))


@pytest.mark.parametrize(
    "sampling", [factory.SAMPLING_422, factory.SAMPLING_420], ids=["4:2:2", "4:2:0"]
)
def test_generated_ybr_jpeg_cine_matches_pydicom(tmp_path: Path, sampling: int) -> None:
    path = factory.ybr_jpeg_cine(tmp_path / "cine.dcm", sampling=sampling)
    assert np.array_equal(frames_of(DicomSource.open(path)), pydicom_frames(path))


@pytest.mark.parametrize("name", ["examples_ybr_color.dcm", "generated"])
def test_opencv_decode_alone_is_identical_to_pydicom(tmp_path: Path, name: str) -> None:
    # Proves the fast path itself, not a fallback, gives pydicom's pixels.
    path = pydicom_file(name) if name != "generated" else factory.ybr_jpeg_cine(tmp_path / "c.dcm")
    ds = pydicom.dcmread(path)
    layout = DicomSource.open(path).layout
    reference = pydicom_frames(path)
    encoded = generate_frames(ds.PixelData, number_of_frames=int(ds.NumberOfFrames))
    for i, data in enumerate(encoded):
        rgb = _decode_with_opencv(layout, data)
        assert rgb is not None
        assert np.array_equal(rgb, reference[i]), f"frame {i}"


@pytest.mark.parametrize(
    "kind",
    [
        "fragmented, no offset table",
        "fragmented, offset table",
        "no offset table",
        "extended offset table",
    ],
)
def test_every_way_of_finding_frames_gives_the_same_cine(tmp_path: Path, kind: str) -> None:
    options = {
        "fragmented, no offset table": {"fragments_per_frame": 3, "has_bot": False},
        "fragmented, offset table": {"fragments_per_frame": 3, "has_bot": True},
        "no offset table": {"has_bot": False},
        "extended offset table": {"extended": True},
    }[kind]
    path = factory.ybr_jpeg_cine(tmp_path / "cine.dcm", **options)
    source = DicomSource.open(path)
    expected_index = {
        "fragmented, no offset table": "fragment scan",
        "fragmented, offset table": "basic offset table",
        "no offset table": "fragment scan",
        "extended offset table": "extended offset table",
    }[kind]
    assert source._frames.indexed_by == expected_index
    # Backwards, so no frame depends on one read before it.
    got = np.stack([source.frame(i) for i in reversed(range(source.frame_count))])[::-1]
    assert np.array_equal(got, pydicom_frames(path))


def test_single_frame_in_many_fragments(tmp_path: Path) -> None:
    path = factory.ybr_jpeg_cine(tmp_path / "one.dcm", frames=1, fragments_per_frame=5)
    assert np.array_equal(DicomSource.open(path).frame(0), pydicom_frames(path)[0])


def test_reading_one_frame_decodes_only_that_frame(tmp_path: Path) -> None:
    # Every frame but one is garbage: frame 5 still reads, and only the garbage ones fail.
    good = factory.jpeg_frames([factory.ultrasound_rgb(96, 128, 5)])[0]
    encoded = [good if i == 5 else b"\x00\x11 not a JPEG frame \x22\x33" for i in range(10)]
    path = factory.ybr_jpeg_cine(tmp_path / "cine.dcm", frames=10, encoded=encoded)
    source = DicomSource.open(path)
    frame = source.frame(5)
    expected = cv2.cvtColor(cv2.imdecode(np.frombuffer(good, np.uint8), 1), cv2.COLOR_BGR2RGB)
    assert np.array_equal(frame, expected)
    for i in (0, 4, 6, 9):
        with pytest.raises(ImageLoadError, match=f"frame {i + 1} of 10 cannot be decoded"):
            source.frame(i)


# -- twins: compressed and uncompressed copies of the same image -----------------------------
MR_TWINS = [
    "MR_small_RLE.dcm",
    "MR_small_jp2klossless.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "MR_small_expb.dcm",
    "MR_small_bigendian.dcm",
    "MR_small_implicit.dcm",
    "MR_small_padded.dcm",
]


@pytest.mark.parametrize("name", MR_TWINS)
def test_mr_small_twins_show_the_same_picture(name: str) -> None:
    reference = DicomSource.open(pydicom_file("MR_small.dcm")).frame(0)
    assert np.array_equal(DicomSource.open(pydicom_file(name)).frame(0), reference)


def test_mr_small_shown_through_its_window() -> None:
    path = pydicom_file("MR_small.dcm")
    got = DicomSource.open(path).frame(0).astype(int)
    assert np.abs(got - windowed_reference(path)[0].astype(int)).max() <= 1


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"])
def test_jpeg_lossless_twins_made_by_gdcm(tmp_path: Path, syntax: str) -> None:
    gdcm = pytest.importorskip("gdcm")  # a declared dependency; always present
    source_path = factory.grey_cine(tmp_path / "grey.dcm", frames=3, bits=16, signed=True)
    target = tmp_path / "lossless.dcm"
    reader = gdcm.ImageReader()
    reader.SetFileName(str(source_path))
    assert reader.Read()
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.GetTSType(syntax)))
    change.SetInput(reader.GetImage())
    assert change.Change()
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(target))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    assert writer.Write()
    assert str(pydicom.dcmread(target).file_meta.TransferSyntaxUID) == syntax
    assert np.array_equal(
        frames_of(DicomSource.open(target)), frames_of(DicomSource.open(source_path))
    )


@pytest.mark.parametrize(
    "syntax", [RLELossless, JPEGLSLossless, JPEG2000Lossless], ids=["RLE", "JPEG-LS", "J2K"]
)
def test_compressed_multiframe_grey_matches_its_uncompressed_twin(
    tmp_path: Path, syntax: str
) -> None:
    plain = factory.grey_cine(tmp_path / "plain.dcm", frames=4, bits=12)
    packed = factory.grey_cine(tmp_path / "packed.dcm", frames=4, bits=12, compress=syntax)
    assert str(pydicom.dcmread(packed).file_meta.TransferSyntaxUID) == syntax
    assert np.array_equal(frames_of(DicomSource.open(packed)), frames_of(DicomSource.open(plain)))


def test_jpeg_2000_colour_with_rct_is_shown_as_rgb(tmp_path: Path) -> None:
    plain = factory.rgb_cine(tmp_path / "plain.dcm", frames=3)
    ds = pydicom.dcmread(plain)
    rgb = ds.pixel_array
    ds.PhotometricInterpretation = "YBR_RCT"  # the encoder then applies the colour transform
    ds.compress(JPEG2000Lossless, rgb, generate_instance_uid=False)
    ds.save_as(tmp_path / "rct.dcm")
    got = frames_of(DicomSource.open(tmp_path / "rct.dcm"))
    assert np.array_equal(got, pydicom_frames(plain))


@pytest.mark.parametrize(
    "name", ["examples_jpeg2k.dcm", "GDCMJ2K_TextGBR.dcm", "SC_rgb_gdcm_KY.dcm"]
)
def test_real_jpeg_2000_colour(name: str) -> None:
    path = pydicom_file(name)
    assert np.array_equal(DicomSource.open(path).frame(0), pydicom_frames(path)[0])


# -- colour spaces, planar configuration, depth ----------------------------------------------
COLOUR_FILES = [
    "examples_rgb_color.dcm",
    "ExplVR_BigEnd.dcm",  # planar configuration 1, big endian
    "SC_rgb_rle.dcm",
    "SC_rgb_rle_2frame.dcm",
    "SC_rgb_jpeg_gdcm.dcm",  # JPEG Lossless SV1
    "SC_rgb_jpeg_dcmtk.dcm",  # YBR_FULL JPEG Baseline
    "SC_rgb_dcmtk_+eb+cy+np.dcm",  # YBR_FULL_422 JPEG Baseline
    "SC_rgb_dcmtk_+eb+cy+s2.dcm",
    "SC_rgb_dcmtk_+eb+cr.dcm",  # RGB JPEG Baseline
    "SC_jpeg_no_color_transform.dcm",
    "SC_rgb_jpeg_app14_dcmd.dcm",
    "SC_rgb_jls_lossy_line.dcm",
    "SC_rgb_jls_lossy_sample.dcm",
    "SC_ybr_full_422_uncompressed.dcm",
    "SC_rgb_small_odd.dcm",
    "SC_rgb_small_odd_big_endian.dcm",  # 8-bit OW, odd length
    "SC_rgb_small_odd_jpeg.dcm",
]


@pytest.mark.parametrize("name", COLOUR_FILES)
def test_real_colour_files_match_pydicom(name: str) -> None:
    path = pydicom_file(name)
    source = DicomSource.open(path)
    got = frames_of(source)
    for frame in got:
        assert_valid_frame(frame)
    assert np.array_equal(got, pydicom_frames(path))
    assert source.info.samples_per_pixel == 3


@pytest.mark.parametrize("name", ["SC_rgb_rle_16bit_2frame.dcm", "SC_rgb_rle_32bit_2frame.dcm"])
def test_deep_colour_keeps_its_top_eight_bits(name: str) -> None:
    path = pydicom_file(name)
    reference = pydicom_frames(path)
    shift = reference.dtype.itemsize * 8 - 8
    assert np.array_equal(frames_of(DicomSource.open(path)), (reference >> shift).astype(np.uint8))


def test_planar_configuration_1_cine_equals_its_planar_0_twin(tmp_path: Path) -> None:
    interleaved = factory.rgb_cine(tmp_path / "p0.dcm", planar=0)
    planes = factory.rgb_cine(tmp_path / "p1.dcm", planar=1)
    got = frames_of(DicomSource.open(planes))
    assert np.array_equal(got, frames_of(DicomSource.open(interleaved)))
    assert np.array_equal(got, pydicom_frames(planes))


def test_big_endian_ow_with_odd_frames(tmp_path: Path) -> None:
    path = factory.big_endian_ow_odd(tmp_path / "be.dcm")
    expected = np.stack([factory.ultrasound_rgb(3, 3, i) for i in range(3)])
    assert np.array_equal(frames_of(DicomSource.open(path)), expected)


def test_palette_color_8_bit_from_pydicom() -> None:
    path = pydicom_file("examples_palette.dcm")
    ds = pydicom.dcmread(path)
    expected = (apply_color_lut(ds.pixel_array, ds) >> 8).astype(np.uint8)
    source = DicomSource.open(path)
    assert np.array_equal(source.frame(0), expected)
    assert source.info.samples_per_pixel == 3


@pytest.mark.parametrize("index_bits", [8, 12])
def test_palette_color_with_16_bit_entries(tmp_path: Path, index_bits: int) -> None:
    path = factory.palette_image(tmp_path / "palette.dcm", index_bits=index_bits)
    ds = pydicom.dcmread(path)
    lut = apply_color_lut(ds.pixel_array, ds)
    assert lut.dtype == np.uint16 and lut.max() > 60000  # truly 16-bit entries
    assert np.array_equal(frames_of(DicomSource.open(path)), (lut >> 8).astype(np.uint8))


def test_monochrome1_is_inverted_so_high_values_are_dark(tmp_path: Path) -> None:
    path = factory.grey_cine(tmp_path / "m1.dcm", photometric="MONOCHROME1")
    assert np.array_equal(frames_of(DicomSource.open(path)), 255 - pydicom_frames(path))


def test_monochrome1_deep_grey_is_windowed_then_inverted(tmp_path: Path) -> None:
    path = factory.grey_cine(
        tmp_path / "m1.dcm", bits=12, photometric="MONOCHROME1", window=(2000, 3000)
    )
    got = frames_of(DicomSource.open(path)).astype(int)
    assert np.abs(got - (255 - windowed_reference(path).astype(int))).max() <= 1


@pytest.mark.parametrize("name", ["CT_small.dcm", "693_J2KI.dcm", "examples_overlay.dcm"])
def test_deep_grey_uses_rescale_and_the_first_window(name: str) -> None:
    path = pydicom_file(name)
    ds = pydicom.dcmread(path)
    got = frames_of(DicomSource.open(path)).astype(int)
    reference = windowed_reference(path) if "WindowCenter" in ds else min_max_reference(path)
    assert np.abs(got - reference.astype(int)).max() <= 1


@pytest.mark.parametrize("name", ["JPEG2000.dcm", "rtdose.dcm", "JPEGLSNearLossless_16.dcm"])
def test_deep_grey_without_window_is_stretched_frame_by_frame(name: str) -> None:
    path = pydicom_file(name)
    got = frames_of(DicomSource.open(path)).astype(int)
    assert np.abs(got - min_max_reference(path).astype(int)).max() <= 1


def test_signed_8_bit_grey(tmp_path: Path) -> None:
    path = factory.grey_cine(tmp_path / "s8.dcm", bits=8, signed=True)
    got = frames_of(DicomSource.open(path)).astype(int)
    assert np.abs(got - min_max_reference(path).astype(int)).max() <= 1


def test_jpeg_extended_12_bit_decodes_to_pydicoms_reference_values() -> None:
    # pydicom's reference for JPGExtended.dcm: arr[420, 140] == 244, arr[230, 120] == 95.
    path = pydicom_file("JPGExtended.dcm")
    source = DicomSource.open(path)
    ds = pydicom.dcmread(path)
    data = next(generate_frames(ds.PixelData, number_of_frames=1))
    raw, _ = decode_frame(source.layout, data)
    assert (raw[420, 140], raw[230, 120]) == (244, 95)
    shown = source.frame(0)
    expected = np.rint((raw.astype(float) - raw.min()) * 255 / (raw.max() - raw.min()))
    assert np.abs(shown.astype(int) - expected.astype(int)).max() <= 1


def test_bit_packed_frames_that_start_inside_a_byte(tmp_path: Path) -> None:
    path = factory.bit_packed(tmp_path / "bits.dcm")
    assert np.array_equal(frames_of(DicomSource.open(path)), pydicom_frames(path) * 255)


@pytest.mark.parametrize("name", ["liver_1frame.dcm", "liver_expb_1frame.dcm"])
def test_real_bit_packed_segmentation(name: str) -> None:
    path = pydicom_file(name)
    assert np.array_equal(DicomSource.open(path).frame(0), pydicom_frames(path)[0] * 255)


# -- encodings of the dataset: deflated, no file meta, other modalities ----------------------
def test_deflated_file_from_pydicom() -> None:
    path = pydicom_file("image_dfl.dcm")
    assert np.array_equal(DicomSource.open(path).frame(0), pydicom_frames(path)[0])


def test_deflated_cine_reads_any_frame(tmp_path: Path) -> None:
    path = factory.grey_cine(tmp_path / "plain.dcm", frames=5)
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    ds.save_as(tmp_path / "deflated.dcm")
    source = DicomSource.open(tmp_path / "deflated.dcm")
    assert source.info.transfer_syntax_uid == DeflatedExplicitVRLittleEndian
    assert np.array_equal(source.frame(3), pydicom_frames(path)[3])
    assert np.array_equal(frames_of(source), pydicom_frames(path))


@pytest.mark.parametrize(
    "implicit, little",
    [(True, True), (False, True), (False, False)],
    ids=["implicit little", "explicit little", "explicit big"],
)
def test_files_without_file_meta(tmp_path: Path, implicit: bool, little: bool) -> None:
    reference = DicomSource.open(pydicom_file("MR_small.dcm")).frame(0)
    ds = pydicom.dcmread(pydicom_file("MR_small.dcm" if little else "MR_small_bigendian.dcm"))
    del ds.file_meta
    ds.preamble = None
    path = tmp_path / "bare.dcm"
    ds.save_as(path, implicit_vr=implicit, little_endian=little)
    assert path.read_bytes()[128:132] != b"DICM"
    source = open_image(path)
    assert np.array_equal(source.frame(0), reference)
    expected = {
        (True, True): ImplicitVRLittleEndian,
        (False, False): ExplicitVRBigEndian,
    }.get((implicit, little), "1.2.840.10008.1.2.1")
    assert source.info.transfer_syntax_uid == expected


def test_lossy_jpeg_2000_multiframe_colour_with_ict(tmp_path: Path) -> None:
    plain = factory.rgb_cine(tmp_path / "plain.dcm", frames=3)
    ds = pydicom.dcmread(plain)
    rgb = ds.pixel_array
    ds.PhotometricInterpretation = "YBR_ICT"  # the irreversible colour transform of JPEG 2000
    ds.compress(JPEG2000, rgb, j2k_cr=[10], generate_instance_uid=False)
    path = tmp_path / "ict.dcm"
    ds.save_as(path)
    got = frames_of(DicomSource.open(path))
    assert np.array_equal(got, pydicom_frames(path))
    assert np.abs(got.astype(int) - rgb.astype(int)).mean() < 6  # lossy, yet the same picture


def test_segmented_palette(tmp_path: Path) -> None:
    path = factory.palette_image(tmp_path / "segmented.dcm", segmented=True)
    ds = pydicom.dcmread(path)
    expected = (apply_color_lut(ds.pixel_array, ds) >> 8).astype(np.uint8)
    got = frames_of(DicomSource.open(path))
    assert np.array_equal(got, expected)
    # The red segment ramps 0..65535 over the 256 entries: index 255 is full red.
    index = pydicom_frames(path)
    assert (got[index == 255][:, 0] == 255).all() and (got[index == 0][:, 0] == 0).all()


# -- what the header says ---------------------------------------------------------------------
def ultrasound_cine_with_header(tmp_path: Path, **extra: object) -> Path:
    path = factory.ybr_jpeg_cine(tmp_path / "us.dcm", frames=6)
    ds = pydicom.dcmread(path)
    ds.TransducerData = ["L12-5", "linear"]
    ds.TransducerType = "LINEAR"
    ds.BodyPartExamined = "LSPINE"
    ds.CineRate = 30
    for keyword, value in extra.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    factory.add_regions(
        ds,
        [
            factory.region(0, 10, 127, 95, 0.02, 0.025, TransducerFrequency=12000),
            factory.region(200, 200, 300, 300, 0.05, 0.05),  # outside the 128x96 image
            factory.region(
                0, 0, 127, 9, 0.01, 0.01, RegionSpatialFormat=3, PhysicalUnitsXDirection=4
            ),  # M-mode: time, not a distance
            {"RegionSpatialFormat": 1, "RegionLocationMinX0": 0},  # damaged item
        ],
    )
    ds.save_as(path)
    return path


def test_source_info_reads_patient_study_scanner_and_pixels(tmp_path: Path) -> None:
    source = DicomSource.open(ultrasound_cine_with_header(tmp_path))
    assert isinstance(source, ImageSource)
    info = source.info
    assert info.kind is SourceKind.DICOM
    assert (info.rows, info.columns, info.frame_count, info.samples_per_pixel) == (96, 128, 6, 3)
    assert info.patient_name == "Test^Synthetic" and info.patient_id == "PP-0001"
    assert (info.patient_birth_date, info.patient_sex) == ("19700101", "O")
    assert (info.study_date, info.study_time) == ("20240102", "101500")
    assert info.study_description == "Lumbar spine prolotherapy"
    assert info.sop_class_name == "Ultrasound Multi-frame Image Storage"
    assert info.sop_class_uid == "1.2.840.10008.5.1.4.1.1.3.1"
    assert info.modality == "US" and info.manufacturer == "Prolo Test Devices"
    assert info.model_name == "Synth 1"
    assert info.transducer == "L12-5 linear, LINEAR, 12 MHz"
    assert info.photometric_interpretation == "YBR_FULL_422"
    assert info.transfer_syntax_uid == "1.2.840.10008.1.2.4.50"
    assert info.transfer_syntax_name == "JPEG Baseline (Process 1)"
    assert info.bits_stored == 8
    assert info.frame_time_ms == pytest.approx(33.3)
    extra = dict(info.extra)
    assert extra["Ultrasound regions"] == "4"
    assert extra["Cine rate"] == "30 fps"
    assert extra["Body part"] == "LSPINE"
    assert extra["Lossy compression"] == "yes"
    assert info.study_instance_uid and info.sop_instance_uid and info.series_instance_uid


def test_calibration_from_several_regions_with_notes(tmp_path: Path) -> None:
    calibration = DicomSource.open(ultrasound_cine_with_header(tmp_path)).calibration
    assert calibration.source is CalibrationSource.ULTRASOUND_REGIONS
    assert len(calibration.regions) == 1
    region = calibration.regions[0]
    assert (region.x0, region.y0, region.x1, region.y1) == (0, 10, 127, 95)
    assert (region.mm_per_px_x, region.mm_per_px_y) == pytest.approx((0.2, 0.25))
    notes = " | ".join(calibration.notes)
    assert "region 2: lies outside the 128x96 image" in notes
    assert "region 4: RegionLocationMinY0" in notes and "not used" in notes
    assert "region 3" not in notes  # an M-mode axis is silently not a distance
    assert calibration.measure(Point(10, 20), Point(10, 60)).mm == pytest.approx(10.0)


def test_calibration_of_the_real_ultrasound_cine() -> None:
    path = pydicom_file("examples_ybr_color.dcm")
    item = pydicom.dcmread(path, stop_before_pixels=True).SequenceOfUltrasoundRegions[0]
    region = DicomSource.open(path).calibration.regions[0]
    assert region.mm_per_px_x == pytest.approx(10 * float(item.PhysicalDeltaX))
    assert region.mm_per_px_y == pytest.approx(10 * float(item.PhysicalDeltaY))
    assert (region.x0, region.y0) == (item.RegionLocationMinX0, item.RegionLocationMinY0)


def test_pixel_spacing_is_row_spacing_then_column_spacing(tmp_path: Path) -> None:
    path = factory.with_changes(
        pydicom_file("MR_small.dcm"), tmp_path / "mr.dcm", PixelSpacing=[0.5, 0.25]
    )
    calibration = DicomSource.open(path).calibration
    assert calibration.source is CalibrationSource.PIXEL_SPACING
    assert calibration.regions[0].mm_per_px_y == pytest.approx(0.5)
    assert calibration.regions[0].mm_per_px_x == pytest.approx(0.25)
    assert "PixelSpacing 0.5\\0.25 mm" in calibration.provenance()


def test_imager_pixel_spacing_then_none(tmp_path: Path) -> None:
    path = factory.with_changes(
        pydicom_file("MR_small.dcm"),
        tmp_path / "a.dcm",
        PixelSpacing=None,
        ImagerPixelSpacing=[0.2, 0.2],
    )
    assert DicomSource.open(path).calibration.source is CalibrationSource.IMAGER_PIXEL_SPACING
    path = factory.with_changes(pydicom_file("MR_small.dcm"), tmp_path / "b.dcm", PixelSpacing=None)
    calibration = DicomSource.open(path).calibration
    assert calibration.source is CalibrationSource.NONE and not calibration.is_calibrated


def test_frame_timing_from_frame_time() -> None:
    source = DicomSource.open(pydicom_file("examples_ybr_color.dcm"))
    ds = pydicom.dcmread(pydicom_file("examples_ybr_color.dcm"), stop_before_pixels=True)
    assert source.timing.frame_count == 30
    assert source.timing.frame_time_ms == pytest.approx(float(ds.FrameTime))


def test_frame_timing_from_vector_and_rate_fallbacks(tmp_path: Path) -> None:
    vector = [0, 40, 20, 40, 20, 40]
    source = DicomSource.open(
        ultrasound_cine_with_header(tmp_path, FrameTime=None, FrameTimeVector=vector)
    )
    assert source.timing.frame_time_vector_ms == tuple(float(v) for v in vector)
    assert source.timing.start_ms(3) == pytest.approx(100.0)
    (tmp_path / "us.dcm").unlink()
    source = DicomSource.open(ultrasound_cine_with_header(tmp_path, FrameTime=None, CineRate=25))
    assert source.timing.frame_time_ms == pytest.approx(40.0)
    (tmp_path / "us.dcm").unlink()
    source = DicomSource.open(
        ultrasound_cine_with_header(
            tmp_path, FrameTime=None, CineRate=None, RecommendedDisplayFrameRate=20
        )
    )
    assert source.timing.frame_time_ms == pytest.approx(50.0)


# -- use from several threads -----------------------------------------------------------------
def test_frames_read_from_many_threads_at_once_are_right() -> None:
    path = pydicom_file("examples_ybr_color.dcm")
    source = DicomSource.open(path)
    reference = pydicom_frames(path)
    wrong: list[int] = []
    errors: list[BaseException] = []

    def reader(start: int) -> None:
        try:
            for k in range(60):
                i = (start + 7 * k) % source.frame_count
                if not np.array_equal(source.frame(i), reference[i]):
                    wrong.append(i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and not wrong


def test_index_outside_the_cine_is_an_index_error() -> None:
    source = DicomSource.open(pydicom_file("examples_ybr_color.dcm"))
    for index in (-1, 30):
        with pytest.raises(IndexError):
            source.frame(index)


def test_frames_come_back_for_a_closed_source() -> None:
    # No file handle is kept between frames, so close() takes nothing away.
    source = DicomSource.open(pydicom_file("MR_small_RLE.dcm"))
    source.close()
    assert_valid_frame(source.frame(0))
