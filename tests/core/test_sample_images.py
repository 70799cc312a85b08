"""The bundled sample images: present, small, fictitious, and opening as they should."""

from __future__ import annotations

import cv2
import numpy as np
import pydicom
import pytest
from pydicom.pixels import pixel_array
from pydicom.uid import ExplicitVRLittleEndian, JPEGBaseline8Bit

from prolo_planner.core.calibration import CalibrationSource
from prolo_planner.core.geometry import Point
from prolo_planner.imaging.open import open_image
from prolo_planner.imaging.source import SourceKind
from tests.conftest import SAMPLE_IMAGES
from tests.synthetic import manifest
from tests.synthetic.scanner import (
    FICTITIOUS_PATIENTS,
    US_IMAGE_STORAGE,
    US_MULTIFRAME_IMAGE_STORAGE,
)

#: name: (photometric, transfer syntax, SOP class, frames, 2D regions)
DICOM_SAMPLES = {
    "lumbar_long_axis_rgb.dcm": ("RGB", ExplicitVRLittleEndian, US_IMAGE_STORAGE, 1, 1),
    "hip_anterior_cine_ybr422_jpeg.dcm": (
        "YBR_FULL_422",
        JPEGBaseline8Bit,
        US_MULTIFRAME_IMAGE_STORAGE,
        50,
        1,
    ),
    "cervical_pillars_mono2.dcm": ("MONOCHROME2", ExplicitVRLittleEndian, US_IMAGE_STORAGE, 1, 1),
    "lumbar_dual_view_ybr422_jpeg.dcm": ("YBR_FULL_422", JPEGBaseline8Bit, US_IMAGE_STORAGE, 1, 2),
}
#: name: (kind, frames)
OTHER_SAMPLES = {
    "lumbar_long_axis_clip.mp4": (SourceKind.VIDEO, 50),
    "hip_anterior_frame_grab.png": (SourceKind.IMAGE, 1),
}
ALL_SAMPLES = [*DICOM_SAMPLES, *OTHER_SAMPLES]


def test_every_sample_is_there_and_together_under_15_mb():
    present = {p.name for p in SAMPLE_IMAGES.iterdir()}
    assert present == {*ALL_SAMPLES, "README.md", manifest.MANIFEST_NAME}
    total = sum(p.stat().st_size for p in SAMPLE_IMAGES.iterdir())
    assert total < 15 * 1024 * 1024
    readme = (SAMPLE_IMAGES / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in ALL_SAMPLES)


@pytest.mark.parametrize("name", list(DICOM_SAMPLES))
def test_dicom_sample_header(name):
    photometric, syntax, sop_class, frames, regions = DICOM_SAMPLES[name]
    ds = pydicom.dcmread(SAMPLE_IMAGES / name, stop_before_pixels=True)
    assert ds.PhotometricInterpretation == photometric
    assert ds.file_meta.TransferSyntaxUID == syntax
    assert ds.SOPClassUID == sop_class and ds.Modality == "US"
    assert int(ds.get("NumberOfFrames", 1)) == frames
    assert len(ds.SequenceOfUltrasoundRegions) == regions
    assert str(ds.PatientName) in {p.name for p in FICTITIOUS_PATIENTS}
    assert ds.PatientID in {p.patient_id for p in FICTITIOUS_PATIENTS}


def _reference(name: str, index: int) -> np.ndarray:
    """The frame decoded by another library: pydicom for DICOM, OpenCV for the rest."""
    path = SAMPLE_IMAGES / name
    if name.endswith(".dcm"):
        return pixel_array(path, index=index)
    if name.endswith(".png"):
        return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    capture = cv2.VideoCapture(str(path))
    try:
        for _ in range(index + 1):
            ok, bgr = capture.read()
            assert ok
    finally:
        capture.release()
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_sample_opens_and_its_frames_match_a_reference_decoder(name):
    source = open_image(SAMPLE_IMAGES / name)
    try:
        if name in DICOM_SAMPLES:
            kind, frames = SourceKind.DICOM, DICOM_SAMPLES[name][3]
        else:
            kind, frames = OTHER_SAMPLES[name]
        assert source.info.kind is kind and source.frame_count == frames
        lossy = "jpeg" in name or name.endswith(".mp4")
        for index in sorted({0, frames // 2, frames - 1}):
            ours, reference = source.frame(index), _reference(name, index)
            assert ours.dtype == np.uint8 and ours.shape == reference.shape
            diff = np.abs(ours.astype(np.int16) - reference)
            if lossy:  # two JPEG decoders may round chroma upsampling differently
                assert diff.mean() < 0.5 and diff.max() <= 8, (index, diff.mean(), diff.max())
            else:
                assert not diff.any(), index
    finally:
        source.close()


@pytest.mark.parametrize("name", list(DICOM_SAMPLES))
def test_dicom_samples_are_calibrated_from_their_regions(name):
    ds = pydicom.dcmread(SAMPLE_IMAGES / name, stop_before_pixels=True)
    source = open_image(SAMPLE_IMAGES / name)
    try:
        calibration = source.calibration
        assert calibration.source is CalibrationSource.ULTRASOUND_REGIONS
        assert len(calibration.regions) == len(ds.SequenceOfUltrasoundRegions)
        for ours, item in zip(calibration.regions, ds.SequenceOfUltrasoundRegions, strict=True):
            assert ours.mm_per_px_y == pytest.approx(10 * item.PhysicalDeltaY)
            # From the skin line, 20 mm down the depth scale measures 20 mm.
            top = item.RegionLocationMinY0 + item.ReferencePixelY0
            x = item.RegionLocationMinX0 + item.ReferencePixelX0
            a, b = Point(x, top), Point(x, top + 20.0 / ours.mm_per_px_y)
            assert calibration.measure(a, b).mm == pytest.approx(20.0)
        if name == "lumbar_dual_view_ybr422_jpeg.dcm":
            left, right = calibration.regions
            across = calibration.measure(Point(left.x0 + 5, 200), Point(right.x0 + 5, 200))
            assert across.mm is None  # regions of different spacing
    finally:
        source.close()


@pytest.mark.parametrize("name", list(OTHER_SAMPLES))
def test_video_and_frame_grab_carry_no_calibration(name):
    source = open_image(SAMPLE_IMAGES / name)
    try:
        assert not source.calibration.is_calibrated
    finally:
        source.close()


def test_cine_plays_at_25_fps():
    source = open_image(SAMPLE_IMAGES / "hip_anterior_cine_ybr422_jpeg.dcm")
    try:
        assert source.timing.fps == pytest.approx(25.0)
    finally:
        source.close()


def test_bundled_samples_are_the_files_the_manifest_records():
    """A sample replaced or edited by hand (not by `make samples`) fails here."""
    recorded = manifest.read(SAMPLE_IMAGES)["files"]
    assert set(recorded) == set(ALL_SAMPLES)
    for name, entry in recorded.items():
        path = SAMPLE_IMAGES / name
        assert path.stat().st_size == entry["bytes"], name
        assert manifest.sha256_of(path) == entry["sha256"], f"{name}: run `make samples`"


def test_samples_were_made_by_the_generator_as_it_is_now():
    """Stale samples fail here: the generator changed since they were made. `make samples`
    regenerates them and the manifest. Hashes, not pixels: a new OpenCV or numpy rounds a
    synthetic frame differently without the samples being stale."""
    recorded = manifest.read(SAMPLE_IMAGES)["generator"]
    assert tuple(recorded["inputs"]) == manifest.GENERATOR_INPUTS
    assert recorded["sha256"] == manifest.generator_hash(), "the generator changed: make samples"


def test_generator_hash_sees_every_input(tmp_path, monkeypatch):
    """The staleness check is only as good as its hash: a changed input must change it."""
    before = manifest.generator_hash()
    copy = tmp_path / "repo"
    for name in manifest.GENERATOR_INPUTS:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes((manifest.REPO / name).read_bytes())
    monkeypatch.setattr(manifest, "REPO", copy)
    assert manifest.generator_hash() == before
    for name in manifest.GENERATOR_INPUTS:
        original = (copy / name).read_bytes()
        (copy / name).write_bytes(original + b"# changed\n")
        assert manifest.generator_hash() != before, name
        (copy / name).write_bytes(original.replace(b"\n", b"\r\n"))  # another platform's EOLs
        assert manifest.generator_hash() == before, name
        (copy / name).write_bytes(original)
