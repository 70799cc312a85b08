"""The synthetic ultrasound generator: valid DICOM whose regions match the drawn depth scale."""

from __future__ import annotations

import dataclasses
import functools
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_frames
from pydicom.pixels import pixel_array

from tests.synthetic.files import (
    encode_jpeg_422,
    write_mp4,
    write_png,
    write_ultrasound_dicom,
)
from tests.synthetic.scanner import (
    BANNER_ROWS,
    MAJOR_TICK,
    US_IMAGE_STORAGE,
    US_MULTIFRAME_IMAGE_STORAGE,
    Exam,
    PixelEncoding,
    SyntheticScanner,
    ViewLayout,
    cervical_exam,
    hip_exam,
    lumbar_dual_view_exam,
    lumbar_exam,
)

CINE_FRAMES = 4


@functools.cache
def scanner_for(exam: Exam) -> SyntheticScanner:
    return SyntheticScanner(exam)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, SyntheticScanner]]:
    """One file of each encoding, written once for the module."""
    out = tmp_path_factory.mktemp("synthetic")
    cases = {
        "rgb": (lumbar_exam(), PixelEncoding.RGB, 1),
        "mono": (cervical_exam(), PixelEncoding.MONOCHROME2, 1),
        "jpeg_cine": (hip_exam(), PixelEncoding.YBR_FULL_422_JPEG, CINE_FRAMES),
        "dual": (lumbar_dual_view_exam(), PixelEncoding.YBR_FULL_422_JPEG, 1),
    }
    files = {}
    for name, (exam, encoding, frames) in cases.items():
        scanner = scanner_for(exam)
        files[name] = (
            write_ultrasound_dicom(out / f"{name}.dcm", scanner, encoding, frames),
            scanner,
        )
    return files


def test_uncompressed_files_read_back_pixel_for_pixel(written):
    for name, photometric, shape in (
        ("rgb", "RGB", (480, 640, 3)),
        ("mono", "MONOCHROME2", (480, 640)),
    ):
        path, scanner = written[name]
        ds = pydicom.dcmread(path)
        assert ds.SOPClassUID == US_IMAGE_STORAGE
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
        assert ds.PhotometricInterpretation == photometric
        assert ds.LossyImageCompression == "00"
        assert ds.pixel_array.shape == shape
        assert np.array_equal(ds.pixel_array, scanner.frame(0))


def test_jpeg_cine_is_ybr_422_multiframe_close_to_the_rendered_frames(written):
    path, scanner = written["jpeg_cine"]
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == US_MULTIFRAME_IMAGE_STORAGE
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.JPEGBaseline8Bit
    assert ds.PhotometricInterpretation == "YBR_FULL_422"
    assert ds.NumberOfFrames == CINE_FRAMES
    assert float(ds.FrameTime) == pytest.approx(40.0)
    assert ds.CineRate == 25
    assert ds.FrameIncrementPointer == 0x00181063
    assert ds.LossyImageCompression == "01" and ds.LossyImageCompressionMethod == "ISO_10918_1"
    fragments = list(generate_frames(ds.PixelData, number_of_frames=CINE_FRAMES))
    assert len(fragments) == CINE_FRAMES
    for index in (0, CINE_FRAMES - 1):
        decoded = pixel_array(path, index=index).astype(np.float64)
        reference = scanner.frame(index).astype(np.float64)
        psnr = 10 * np.log10(255.0**2 / np.mean((decoded - reference) ** 2))
        assert psnr > 32.0, f"frame {index}: PSNR {psnr:.1f} dB"


def test_jpeg_frames_are_subsampled_4_2_2():
    jpeg = encode_jpeg_422(scanner_for(hip_exam()).frame(0))
    sof = jpeg.index(b"\xff\xc0")  # baseline start-of-frame
    components = jpeg[sof + 9]
    factors = [jpeg[sof + 11 + 3 * k] for k in range(components)]
    # Y sampled 2x1 against Cb and Cr 1x1: horizontal chroma halved, vertical kept (4:2:2).
    assert components == 3 and factors == [0x21, 0x11, 0x11]


def test_the_files_pass_dciodvfy(written):
    exe = shutil.which("dciodvfy")
    assert exe, "dciodvfy (Debian package dicom3tools) is needed to validate DICOM"
    for path, _ in written.values():
        result = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)
        report = result.stdout + result.stderr
        errors = [line for line in report.splitlines() if line.startswith("Error")]
        assert not errors, f"{path.name}:\n{report}"


def _tick_rows(pixels: np.ndarray, layout: ViewLayout, column: int) -> list[int]:
    """Rows where a depth-scale tick crosses `column`, within the region's rows."""
    grey = pixels if pixels.ndim == 2 else pixels[..., 1]
    y0, y1 = layout.region[1], layout.region[3]
    bright = np.flatnonzero(grey[y0 : y1 + 1, column] > 128) + y0
    return [int(r) for r in bright if r - 1 not in bright]  # first row of each tick


@pytest.mark.parametrize("name", ["rgb", "mono", "jpeg_cine", "dual"])
def test_regions_match_the_drawn_tick_spacing(written, name):
    path, scanner = written[name]
    ds = pydicom.dcmread(path)
    pixels = pixel_array(path, index=0)
    regions = ds.SequenceOfUltrasoundRegions
    assert len(regions) == len(scanner.layouts)
    for region, layout in zip(regions, scanner.layouts, strict=True):
        assert region.RegionSpatialFormat == 1 and region.RegionDataType == 1
        assert region.PhysicalUnitsXDirection == 3 and region.PhysicalUnitsYDirection == 3
        assert region.PhysicalDeltaX == region.PhysicalDeltaY
        mm_per_px = 10.0 * region.PhysicalDeltaY
        zero_row = region.RegionLocationMinY0 + region.ReferencePixelY0
        # The ticks lie inside the region, so a clinician can measure them.
        assert region.RegionLocationMinX0 <= layout.tick_x < region.RegionLocationMaxX1
        every_5mm = _tick_rows(pixels, layout, layout.tick_x + 1)
        every_10mm = _tick_rows(pixels, layout, layout.tick_x + MAJOR_TICK - 2)
        assert len(every_10mm) >= 3 and len(every_5mm) >= 2 * len(every_10mm) - 1
        for k, row in enumerate(every_10mm):
            assert abs(row - (zero_row + k * 10.0 / mm_per_px)) <= 1.0, (k, row)
        for k, row in enumerate(every_5mm):
            assert abs(row - (zero_row + k * 5.0 / mm_per_px)) <= 1.0, (k, row)
        assert np.allclose(np.diff(every_10mm), 10.0 / mm_per_px, atol=1.0)


def test_dual_view_carries_two_regions_of_different_spacing(written):
    ds = pydicom.dcmread(written["dual"][0])
    left, right = ds.SequenceOfUltrasoundRegions
    assert left.RegionLocationMaxX1 < right.RegionLocationMinX0
    assert left.PhysicalDeltaY != pytest.approx(right.PhysicalDeltaY, rel=1e-3)


def test_header_carries_patient_study_and_equipment(written):
    ds = pydicom.dcmread(written["jpeg_cine"][0], stop_before_pixels=True)
    exam = hip_exam()
    assert str(ds.PatientName) == exam.patient.name and ds.PatientID == exam.patient.patient_id
    assert ds.Modality == "US" and ds.BodyPartExamined == "HIP" and ds.Laterality == "R"
    assert ds.Manufacturer == exam.manufacturer
    assert ds.ManufacturerModelName == exam.model_name
    assert ds.TransducerData[0] == "C5-1"
    assert ds.StudyDate == exam.study_date
    assert ds.BurnedInAnnotation == "YES"
    assert ds.StudyInstanceUID != ds.SeriesInstanceUID != ds.SOPInstanceUID


def _image_area(scanner: SyntheticScanner, frame: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = scanner.layouts[0].fov
    return frame[y0 : y1 + 1, x0 : x1 + 1].astype(np.int16)


def test_cine_frames_differ_and_the_artery_pulsates():
    scanner = scanner_for(hip_exam())
    frames = [scanner.frame(i) for i in (0, 1, 12)]
    for later in frames[1:]:
        change = np.abs(_image_area(scanner, later) - _image_area(scanner, frames[0]))
        assert change.mean() > 1.0
    # The femoral artery's lumen is black; at systole (0.4 s, frame 10) it is wider than at
    # frame 0, so more of the area around it is black.
    lay, radius = scanner.layouts[0], hip_exam().views[0].probe.radius_mm
    rows, cols = np.mgrid[0:480, 0:640]
    x = (cols + 0.5 - lay.skin_x) * lay.mm_per_px
    z = (rows + 0.5 - lay.skin_y) * lay.mm_per_px
    in_sector = np.abs(np.arctan2(x, z + radius)) < lay.half_angle - 0.02
    around_artery = in_sector & (z > 6.0) & (z < 24.0) & (x > 4.0) & (x < 16.0)  # not the vein
    dark = [int((scanner.frame(i)[around_artery] < 12).sum()) for i in (0, 10)]
    assert dark[0] > 500 and dark[1] > dark[0] * 1.08


def test_banner_shows_burned_in_text():
    for exam in (lumbar_exam(), cervical_exam()):
        frame = scanner_for(exam).frame(0)
        grey = frame if frame.ndim == 2 else frame.max(axis=2)
        name_area = grey[2:24, 4:260]
        assert (name_area > 150).sum() > 200, exam.patient.name
        assert (grey[BANNER_ROWS - 1, :] > 40).all()  # the banner's separator line


def test_banner_text_names_the_patient():
    a = scanner_for(lumbar_exam()).frame(0)[2:24, 4:260]
    b = scanner_for(hip_exam()).frame(0)[2:24, 4:260]
    assert not np.array_equal(a, b)


def test_same_seed_same_frames_other_seed_other_speckle():
    exam = cervical_exam(seed=7)
    first = SyntheticScanner(exam).frame(3)
    assert np.array_equal(first, SyntheticScanner(exam).frame(3))  # a new scanner, same pixels
    other = scanner_for(cervical_exam(seed=8)).frame(3)
    assert not np.array_equal(first, other)


def test_monochrome_exam_gives_grey_frames_and_colour_exam_rgb():
    assert scanner_for(cervical_exam()).frame(0).ndim == 2
    rgb = scanner_for(lumbar_exam()).frame(0)
    assert rgb.shape == (480, 640, 3) and rgb.dtype == np.uint8
    # The orientation marker is orange: red well above blue.
    lay = scanner_for(lumbar_exam()).layouts[0]
    y = max(lay.fov[1] - 8, BANNER_ROWS + 6)
    r, _, b = rgb[y, lay.fov[0] + 6].astype(int)
    assert r > 200 and b < 100


def test_mp4_and_png_frame_grab(tmp_path):
    scanner = scanner_for(dataclasses.replace(cervical_exam(), colour=True))
    frames = [scanner.frame(i) for i in range(6)]
    clip = write_mp4(tmp_path / "clip.mp4", frames, 25.0)
    capture = cv2.VideoCapture(str(clip))
    try:
        assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 6
        assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(25.0)
        ok, bgr = capture.read()
    finally:
        capture.release()
    assert ok
    decoded = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float64)
    assert np.abs(decoded - frames[0]).mean() < 6.0  # mp4v is lossy
    png = write_png(tmp_path / "grab.png", frames[0])
    assert np.array_equal(cv2.cvtColor(cv2.imread(str(png)), cv2.COLOR_BGR2RGB), frames[0])


def test_rewriting_an_exam_gives_the_same_file(written, tmp_path):
    """Regenerated samples keep their UIDs and bytes, so the repository sees no change."""
    first, scanner = written["mono"]
    again = write_ultrasound_dicom(tmp_path / "again.dcm", scanner, PixelEncoding.MONOCHROME2)
    assert again.read_bytes() == first.read_bytes()
    uids = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID for p, _ in written.values()}
    assert len(uids) == len(written)
