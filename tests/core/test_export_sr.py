"""The plan as a TID 1500 measurement report: dciodvfy-clean, the plan's values, a round trip."""

from __future__ import annotations

import datetime as _dt
import io
from dataclasses import replace
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.geometry import Point
from prolo_planner.core.measure import Units, measure_plan
from prolo_planner.core.plan import Caliper, ImagePlan, ImageRef, NeedlePath, Plan, Target
from prolo_planner.export import sr_codes as C
from prolo_planner.export.dicom_writing import to_bytes, tracking_uid
from prolo_planner.export.errors import ExportError
from prolo_planner.export.patient_study import PatientStudy
from prolo_planner.export.secondary_capture import secondary_capture
from prolo_planner.export.sr_import import ReportReadError, read_plan, read_report
from prolo_planner.export.structured_report import measurement_report
from prolo_planner.imaging.open import open_image
from tests.conftest import SAMPLE_IMAGES, pydicom_file
from tests.core.export_support import (
    PRIVATE_SCHEME_WARNING,
    PlanOnSamples,
    assert_dciodvfy_clean,
    plan_on_samples,
)


def reread(ds: pydicom.Dataset) -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(to_bytes(ds)))


@pytest.fixture(scope="module")
def samples() -> PlanOnSamples:
    return plan_on_samples()


@pytest.fixture(scope="module")
def report(samples: PlanOnSamples) -> pydicom.Dataset:
    sr = measurement_report(
        samples.plan, samples.measurements, samples.images, observer="Demo^Doctor"
    )
    return reread(sr)


def test_report_is_a_valid_comprehensive_sr_in_the_source_study(
    samples: PlanOnSamples, report: pydicom.Dataset, tmp_path: Path
) -> None:
    assert_dciodvfy_clean(report, tmp_path, allowed=(PRIVATE_SCHEME_WARNING,))
    assert report.SOPClassUID == pydicom.uid.ComprehensiveSRStorage
    assert report.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    lumbar = samples.lumbar.dataset
    assert (report.PatientName, report.PatientID) == (lumbar.PatientName, lumbar.PatientID)
    assert report.StudyInstanceUID == lumbar.StudyInstanceUID
    assert report.SeriesInstanceUID != lumbar.SeriesInstanceUID
    assert report.Modality == "SR"
    evidence = {
        ref.ReferencedSOPInstanceUID
        for study in report.CurrentRequestedProcedureEvidenceSequence
        for series in study.ReferencedSeriesSequence
        for ref in series.ReferencedSOPSequence
    } | {
        ref.ReferencedSOPInstanceUID
        for study in report.get("PertinentOtherEvidenceSequence", [])
        for series in study.ReferencedSeriesSequence
        for ref in series.ReferencedSOPSequence
    }
    assert evidence == {lumbar.SOPInstanceUID, samples.hip.dataset.SOPInstanceUID}
    assert report.CodingSchemeIdentificationSequence[0].CodingSchemeDesignator == "99PROLO"


def test_values_equal_the_plans_measurements_read_by_highdicom(
    samples: PlanOnSamples, report: pydicom.Dataset
) -> None:
    """An independent reader (highdicom's TID 1500 parser) finds core.measure's values."""
    m = samples.measurements
    content = hd.sr.ComprehensiveSR.from_dataset(report).content

    def group(annotation_id: str) -> hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations:
        (found,) = content.get_planar_roi_measurement_groups(
            tracking_uid=tracking_uid(annotation_id)
        )
        return found

    def value(annotation_id: str, name: object) -> float:
        (found,) = group(annotation_id).get_measurements(name=name)
        return float(found.value)

    plan = samples.plan
    targets = [a for a in plan.annotations if isinstance(a, Target) and a.position is not None]
    paths = [a for a in plan.annotations if isinstance(a, NeedlePath)]
    for t in targets:
        assert m.target_depths[t.id].units is Units.MM
        assert value(t.id, codes.SCT.Depth) == pytest.approx(m.target_depths[t.id].value, rel=1e-12)
        assert value(t.id, C.Quantity.VOLUME.concept) == t.injectate.volume_ml
        assert value(t.id, C.Quantity.DEXTROSE.concept) == t.injectate.dextrose_percent
    for p in paths:
        g = m.path(p.id)
        assert value(p.id, codes.SCT.Length) == pytest.approx(g.length.value, rel=1e-12)
        assert value(p.id, C.Quantity.NEEDLE_ANGLE.concept) == pytest.approx(
            g.angle_deg.value, rel=1e-12
        )
        roi = group(p.id).roi
        assert roi.graphic_type == hd.sr.GraphicTypeValues.POLYLINE
        end = plan.path_end(p)
        np.testing.assert_allclose(roi.value, [[p.entry.x, p.entry.y], [end.x, end.y]], rtol=1e-6)
    for c in (a for a in plan.annotations if isinstance(a, Caliper)):
        assert value(c.id, codes.DCM.Distance) == pytest.approx(m.calipers[c.id].value, rel=1e-12)
    for angle_id, angle in m.angles.items():
        assert value(angle_id, codes.SCT.Angle) == pytest.approx(angle.value, rel=1e-12)

    read = read_report(report)
    for p in paths:
        for zone in m.path(p.id).zone_distances:
            assert read.clearances[(p.id, zone.zone_id)] == pytest.approx(
                zone.distance_mm, rel=1e-12
            )
    # The hip target lies on frame 8 (1-based) of the cine; the caliper on every frame.
    hip_target = next(t for t in targets if t.frame == 7)
    (image,) = group(hip_target.id).roi.ContentSequence  # SELECTED FROM the source image
    (ref,) = image.ReferencedSOPSequence
    assert ref.ReferencedSOPInstanceUID == samples.hip.dataset.SOPInstanceUID
    assert int(ref.ReferencedFrameNumber) == 8


def test_round_trip_gives_back_the_plan(samples: PlanOnSamples, report: pydicom.Dataset) -> None:
    back = read_plan(report)
    by_uid = {im.ref.sop_instance_uid: im for im in back.images}
    new_id = {im.id: by_uid[im.ref.sop_instance_uid].id for im in samples.plan.images}
    assert [replace(a, image_id=new_id[a.image_id]) for a in samples.plan.annotations] == list(
        back.annotations
    )
    for original in samples.plan.images:
        assert by_uid[original.ref.sop_instance_uid].skin_line == original.skin_line
    # The rebuilt plan measures as the original did, on the same images.
    calibrations = {new_id[i]: c for i, c in samples.calibrations.items()}
    again = measure_plan(back, calibrations)
    assert dict(again.target_depths) == dict(samples.measurements.target_depths)
    assert read_plan(report) == back  # reading twice gives the same plan


def test_uncalibrated_frame_grab_keeps_geometry_but_reports_no_pixels(tmp_path: Path) -> None:
    """A video frame's SC as the image: no millimetres, so no lengths, yet the plan survives."""
    clip = open_image(SAMPLE_IMAGES / "lumbar_long_axis_clip.mp4")
    study = PatientStudy(
        "DEMO^Alex",
        "DEMO-0001",
        "2.25.1234567",
        study_date="20260314",
        study_time="093000",
        study_id="2603140930",
        body_part="LSPINE",
    )
    sc = reread(secondary_capture(clip.frame(0), study, lossy=True))
    image = ImagePlan(ImageRef(str(clip.info.path)))
    target = Target(image.id, Point(300.25, 250.5), name="L4 supraspinous")
    path = NeedlePath(image.id, Point(350.0, 90.0), target.id)
    plan = Plan((image,), (target, path))
    m = measure_plan(plan, {image.id: Calibration.none()})
    assert m.path(path.id).length.units is Units.PX
    sr = reread(
        measurement_report(plan, m, {image.id: sc}, created=_dt.datetime(2026, 3, 14, 10, 0))
    )
    assert sr.PatientName == "DEMO^Alex" and sr.StudyInstanceUID == "2.25.1234567"
    assert (sr.ContentDate, sr.ContentTime) == ("20260314", "100000")
    assert_dciodvfy_clean(sr, tmp_path, allowed=(PRIVATE_SCHEME_WARNING,))
    read = read_report(sr)
    assert C.Quantity.PATH_LENGTH not in read.values[path.id]  # pixels are not reported
    assert C.Quantity.TARGET_DEPTH not in read.values[target.id]
    (back_image,) = read.plan.images
    assert back_image.ref.sop_instance_uid == sc.SOPInstanceUID
    assert [replace(a, image_id=back_image.id) for a in plan.annotations] == list(
        read.plan.annotations
    )


def test_signed_session_gives_a_verified_report(samples: PlanOnSamples) -> None:
    sr = measurement_report(
        samples.plan,
        samples.measurements,
        samples.images,
        observer="Demo^Doctor",
        verified_by="Demo^Doctor",
        organization="Synthetic Clinic",
    )
    assert sr.VerificationFlag == "VERIFIED" and sr.PreliminaryFlag == "FINAL"
    assert sr.VerifyingObserverSequence[0].VerifyingObserverName == "Demo^Doctor"
    draft = measurement_report(samples.plan, samples.measurements, samples.images)
    assert draft.VerificationFlag == "UNVERIFIED"


def test_missing_image_and_foreign_reports_are_refused(samples: PlanOnSamples) -> None:
    only_lumbar = {samples.plan.images[0].id: samples.lumbar.dataset}
    with pytest.raises(ExportError, match="Secondary Capture"):
        measurement_report(samples.plan, samples.measurements, only_lumbar)
    with pytest.raises(ReportReadError, match="not a plan report made by Prolo Planner"):
        read_plan(pydicom_file("test-SR.dcm"))
    with pytest.raises(ReportReadError, match="not a structured report"):
        read_plan(SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm")
    with pytest.raises(ReportReadError, match="cannot be read"):
        read_plan(SAMPLE_IMAGES / "README.md")


def test_damaged_report_content_is_refused_in_words(report: pydicom.Dataset) -> None:
    damaged = pydicom.dcmread(io.BytesIO(to_bytes(report)))
    measurements = next(
        i
        for i in damaged.ContentSequence
        if i.ValueType == "CONTAINER" and i.ConceptNameCodeSequence[0].CodeValue == "126010"
    )
    target_group = measurements.ContentSequence[1]
    scoord = next(i for i in target_group.ContentSequence if i.ValueType == "SCOORD")
    del scoord.GraphicData
    with pytest.raises(ReportReadError, match="damaged report content"):
        read_plan(damaged)
