"""Secondary Capture of annotated key images and cines, checked by dciodvfy and pixel by pixel."""

from __future__ import annotations

import datetime as _dt
import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import (
    ExplicitVRLittleEndian,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    RLELossless,
    SecondaryCaptureImageStorage,
)

from prolo_planner.core.plan import Side
from prolo_planner.export.dicom_writing import to_bytes
from prolo_planner.export.errors import ExportError
from prolo_planner.export.patient_study import PatientStudy
from prolo_planner.export.secondary_capture import (
    SERIES_DESCRIPTION,
    PixelCompression,
    cine_secondary_capture,
    secondary_capture,
)
from prolo_planner.imaging.dicom import DicomSource
from prolo_planner.imaging.open import open_image
from prolo_planner.store.repository import Repository
from tests.conftest import SAMPLE_IMAGES
from tests.core.export_support import assert_dciodvfy_clean, plan_on_samples

KEPT = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyID",
)


def reread(ds: pydicom.Dataset) -> pydicom.Dataset:
    """The object as a PACS would receive it: written to bytes and read back."""
    return pydicom.dcmread(io.BytesIO(to_bytes(ds)))


def annotated(frame: np.ndarray) -> np.ndarray:
    """A frame with a mark drawn on it, so the SC's pixels differ from the source's."""
    out = np.array(frame if frame.ndim == 3 else np.repeat(frame[..., None], 3, axis=2))
    out[200:210, 300:400] = (70, 235, 130)
    return out


@pytest.mark.parametrize("compression", list(PixelCompression))
def test_key_image_keeps_patient_and_study_and_every_pixel(
    tmp_path: Path, compression: PixelCompression
) -> None:
    source = DicomSource.open(SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm")
    pixels = annotated(source.frame(0))
    sc = reread(secondary_capture(pixels, source.dataset, compression=compression))

    assert sc.SOPClassUID == SecondaryCaptureImageStorage
    assert sc.file_meta.TransferSyntaxUID == (
        RLELossless if compression is PixelCompression.RLE else ExplicitVRLittleEndian
    )
    np.testing.assert_array_equal(sc.pixel_array, pixels)
    assert not np.array_equal(sc.pixel_array, source.frame(0))  # the annotation is in it
    for keyword in KEPT:
        assert sc.get(keyword) == source.dataset.get(keyword), keyword
    assert sc.SeriesInstanceUID != source.dataset.SeriesInstanceUID
    assert sc.SOPInstanceUID != source.dataset.SOPInstanceUID
    assert sc.SeriesDescription == SERIES_DESCRIPTION == "Prolo Planner annotated"
    assert sc.BurnedInAnnotation == "YES"
    assert sc.ConversionType == "WSD"
    assert sc.Modality == "US"
    assert sc.ContentDate and sc.ContentTime
    (ref,) = sc.SourceImageSequence
    assert ref.ReferencedSOPInstanceUID == source.dataset.SOPInstanceUID
    assert ref.ReferencedSOPClassUID == source.dataset.SOPClassUID
    assert "ReferencedFrameNumber" not in ref  # a single-frame source: the image itself
    assert sc.LossyImageCompression == "00"
    assert_dciodvfy_clean(sc, tmp_path)


def test_grey_key_image_stays_grey(tmp_path: Path) -> None:
    source = DicomSource.open(SAMPLE_IMAGES / "cervical_pillars_mono2.dcm")
    grey = source.frame(0).copy()
    grey[100:110, 200:260] = 255
    sc = reread(secondary_capture(grey, source.dataset))
    assert sc.PhotometricInterpretation == "MONOCHROME2"
    np.testing.assert_array_equal(sc.pixel_array, grey)
    assert sc.PatientName == "PHANTOM^Cervical"
    assert_dciodvfy_clean(sc, tmp_path)


def test_key_frame_of_a_lossy_cine_refers_to_its_frame(tmp_path: Path) -> None:
    source = DicomSource.open(SAMPLE_IMAGES / "hip_anterior_cine_ybr422_jpeg.dcm")
    pixels = annotated(source.frame(12))
    sc = reread(secondary_capture(pixels, source.dataset, frame=12))
    (ref,) = sc.SourceImageSequence
    assert int(ref.ReferencedFrameNumber) == 13  # DICOM counts frames from 1
    assert sc.Laterality == "R"
    # Once lossy, always lossy: the source frames went through JPEG.
    assert sc.LossyImageCompression == "01"
    assert sc.LossyImageCompressionMethod == "ISO_10918_1"
    np.testing.assert_array_equal(sc.pixel_array, pixels)
    assert_dciodvfy_clean(sc, tmp_path)


@pytest.mark.parametrize("compression", list(PixelCompression))
def test_annotated_cine_is_a_multiframe_true_colour_sc(
    tmp_path: Path, compression: PixelCompression
) -> None:
    source = DicomSource.open(SAMPLE_IMAGES / "hip_anterior_cine_ybr422_jpeg.dcm")
    shown = list(range(10, 22))
    frames = np.stack([annotated(source.frame(i)) for i in shown])
    sc = reread(
        cine_secondary_capture(frames, source.dataset, source_frames=shown, compression=compression)
    )
    assert sc.SOPClassUID == MultiFrameTrueColorSecondaryCaptureImageStorage
    assert int(sc.NumberOfFrames) == 12
    assert float(sc.FrameTime) == 40.0  # the source's 25 frames a second
    np.testing.assert_array_equal(sc.pixel_array, frames)
    (ref,) = sc.SourceImageSequence
    assert [int(n) for n in ref.ReferencedFrameNumber] == [i + 1 for i in shown]
    assert sc.StudyInstanceUID == source.dataset.StudyInstanceUID
    assert sc.SeriesInstanceUID != source.dataset.SeriesInstanceUID
    assert sc.BurnedInAnnotation == "YES"
    assert_dciodvfy_clean(sc, tmp_path)


def test_video_clip_takes_patient_and_study_from_the_session(tmp_path: Path) -> None:
    with Repository.open(tmp_path / "store") as repo:
        patient = repo.create_patient("DEMO-0001", "DEMO^Alex", "1971-05-20", "O", 72.0)
        session = repo.create_session(
            patient.id,
            started_at=_dt.datetime(2026, 3, 14, 9, 30),
            region="lumbar_spine",
            side=Side.MIDLINE,
        )
    clip = open_image(SAMPLE_IMAGES / "lumbar_long_axis_clip.mp4")
    frames = np.stack([annotated(clip.frame(i)) for i in range(3)])
    study = PatientStudy.from_session(patient, session)
    assert PatientStudy.from_session(patient, session) == study  # one visit, one study UID

    single = reread(secondary_capture(frames[0], study, frame=0, lossy=True))
    cine = reread(
        cine_secondary_capture(frames, study, frame_time_ms=clip.timing.frame_time_ms, lossy=True)
    )
    for sc in (single, cine):
        assert sc.PatientName == "DEMO^Alex"
        assert sc.PatientID == "DEMO-0001"
        assert sc.PatientBirthDate == "19710520"
        assert sc.PatientSex == "O"
        assert sc.StudyInstanceUID == study.study_instance_uid
        assert (sc.StudyDate, sc.StudyTime) == ("20260314", "093000")
        assert sc.Modality == "OT"
        assert "SourceImageSequence" not in sc  # a video is no DICOM instance to refer to
        assert sc.LossyImageCompression == "01"  # the clip is MPEG-4
        assert_dciodvfy_clean(sc, tmp_path)
    np.testing.assert_array_equal(cine.pixel_array, frames)
    assert float(cine.FrameTime) == pytest.approx(40.0)


def test_renderer_output_goes_in_unchanged(tmp_path: Path) -> None:
    """The exports' own renderer (render/) burns the plan in; the SC keeps its pixels."""
    from prolo_planner.core.overlay import overlay_for
    from prolo_planner.render.frame import render_annotated_frame

    s = plan_on_samples()
    still = s.plan.images[0]
    primitives = overlay_for(s.plan, still.id, None, s.lumbar.calibration, s.measurements, ())
    burned = render_annotated_frame(s.lumbar.frame(0), primitives)
    assert (burned != s.lumbar.frame(0)).any(axis=2).sum() > 1000  # the plan is drawn
    sc = reread(secondary_capture(burned, s.lumbar.dataset))
    np.testing.assert_array_equal(sc.pixel_array, burned)
    assert_dciodvfy_clean(sc, tmp_path)


def test_bad_input_is_refused_in_words() -> None:
    source = DicomSource.open(SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm")
    with pytest.raises(ExportError, match="uint8"):
        secondary_capture(np.zeros((4, 4, 3), dtype=np.float32), source.dataset)
    with pytest.raises(ExportError, match="shape"):
        secondary_capture(np.zeros((4, 4, 4), dtype=np.uint8), source.dataset)
    with pytest.raises(ExportError, match="differ in size"):
        frames = [np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)]
        cine_secondary_capture(frames, source.dataset, frame_time_ms=40)
    with pytest.raises(ExportError, match="Frame Time"):
        cine_secondary_capture(np.zeros((2, 4, 4, 3), dtype=np.uint8), source.dataset)
