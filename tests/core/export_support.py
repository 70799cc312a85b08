"""Shared by the DICOM export tests: dciodvfy as the judge, and a plan on the bundled images."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.geometry import Point
from prolo_planner.core.image_calibration import calibration_in_force
from prolo_planner.core.measure import PlanMeasurements, measure_plan
from prolo_planner.core.plan import (
    Anaesthetic,
    AngleMeasurement,
    Approach,
    AvoidKind,
    AvoidZone,
    Caliper,
    ImagePlan,
    ImageRef,
    Injectate,
    NeedlePath,
    Plan,
    Side,
    SiteStatus,
    Target,
    TargetKind,
    TextNote,
    ZoneShape,
)
from prolo_planner.export.dicom_writing import write_dicom
from prolo_planner.imaging.dicom import DicomSource
from prolo_planner.imaging.facts import image_facts
from tests.conftest import SAMPLE_IMAGES

#: dciodvfy warns about any coding scheme designator outside its list; "99PROLO" is a private
#: scheme as PS3.3 8.2 allows ("99" prefix), declared in Coding Scheme Identification Sequence.
PRIVATE_SCHEME_WARNING = (
    "Unrecognized defined term <99PROLO> for value 1 of attribute <Coding Scheme Designator>"
)


def dciodvfy(ds: Dataset | Path, tmp_path: Path | None = None) -> tuple[list[str], list[str]]:
    """dciodvfy's error and warning lines for a dataset (written to tmp_path) or a file."""
    if isinstance(ds, Dataset):
        assert tmp_path is not None
        path = write_dicom(ds, tmp_path / f"{ds.SOPInstanceUID}.dcm")
    else:
        path = ds
    run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    lines = (run.stdout + run.stderr).splitlines()
    return [x for x in lines if x.startswith("Error")], [
        x for x in lines if x.startswith("Warning")
    ]


def assert_dciodvfy_clean(
    ds: Dataset | Path, tmp_path: Path | None = None, allowed: tuple[str, ...] = ()
) -> None:
    errors, warnings = dciodvfy(ds, tmp_path)
    assert errors == [], errors
    unexpected = [w for w in warnings if not any(a in w for a in allowed)]
    assert unexpected == [], unexpected


@dataclass(frozen=True)
class PlanOnSamples:
    plan: Plan
    measurements: PlanMeasurements
    lumbar: DicomSource  # single-frame RGB, calibrated
    hip: DicomSource  # 50-frame YBR JPEG cine, calibrated

    @property
    def images(self) -> dict[str, Dataset]:
        return {
            self.plan.images[0].id: self.lumbar.dataset,
            self.plan.images[1].id: self.hip.dataset,
        }

    @property
    def calibrations(self) -> dict[str, Calibration]:
        """The calibrations in force, from the one owner the app uses."""
        still, cine = self.plan.images
        return {
            still.id: calibration_in_force(image_facts(self.lumbar), still),
            cine.id: calibration_in_force(image_facts(self.hip), cine),
        }


def plan_on_samples() -> PlanOnSamples:
    """Every annotation kind on the lumbar still, and a few on frame 7 of the hip cine."""
    lumbar = DicomSource.open(SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm")
    hip = DicomSource.open(SAMPLE_IMAGES / "hip_anterior_cine_ybr422_jpeg.dcm")
    still = ImagePlan(
        ImageRef(str(lumbar.info.path), str(lumbar.dataset.SOPInstanceUID)),
        region="lumbar_spine",
        skin_line=(Point(100.5, 84.0), Point(560.25, 80.0)),
    )
    cine = ImagePlan(
        ImageRef(str(hip.info.path), str(hip.dataset.SOPInstanceUID), frame_count=50),
        region="hip",
        side=Side.RIGHT,
    )
    t1 = Target(
        still.id,
        Point(433.3, 201.7),
        name="L4-L5 supraspinous ligament",
        side=Side.MIDLINE,
        injectate=Injectate(15.0, Anaesthetic.LIDOCAINE, 0.2, 1.5),
        note="pepper the spinous tip",
    )
    t2 = Target(
        still.id,
        Point(250.0, 270.5),
        kind=TargetKind.PERIOSTEUM,
        name="L3 spinous tip",
        status=SiteStatus.INJECTED,
        injectate=Injectate(25.0, Anaesthetic.PROCAINE, 1.0, 0.5),
    )
    t3 = Target(still.id, None, kind=TargetKind.JOINT_CAPSULE, name="L5-S1 facet (not placed)")
    hip_target = Target(
        cine.id,
        Point(320.0, 260.0),
        frame=7,
        kind=TargetKind.JOINT_CAPSULE,
        name="anterior hip capsule",
        side=Side.RIGHT,
    )
    annotations = (
        t1,
        t2,
        t3,
        NeedlePath(still.id, Point(480.0, 90.0), t1.id, needle_length_mm=50.0),
        NeedlePath(
            still.id, Point(200.0, 88.0), t2.id, approach=Approach.OUT_OF_PLANE, needle_gauge=22
        ),
        AvoidZone(
            still.id,
            ZoneShape.POLYGON,
            (Point(200, 380), Point(480, 380), Point(480, 440), Point(200, 440)),
            kind=AvoidKind.SPINAL_CANAL,
            name="spinal canal",
            margin_mm=5.0,
        ),
        AvoidZone(
            still.id,
            ZoneShape.ELLIPSE,
            (Point(300, 300), Point(360, 330)),
            kind=AvoidKind.ARTERY,
            name="segmental artery",
        ),
        Caliper(still.id, Point(150, 100), Point(150, 300), label="skin to lamina"),
        AngleMeasurement(
            still.id, Point(300, 200), Point(400, 200), Point(350, 120), label="facet angle"
        ),
        TextNote(still.id, Point(380, 120), Point(320, 160), "L4 spinous process"),
        hip_target,
        NeedlePath(cine.id, Point(200.0, 70.0), hip_target.id, frame=7),
        AvoidZone(
            cine.id,
            ZoneShape.ELLIPSE,
            (Point(400, 150), Point(460, 200)),
            frame=7,
            kind=AvoidKind.ARTERY,
            name="femoral artery",
            margin_mm=5.0,
        ),
        Caliper(cine.id, Point(100, 100), Point(100, 200), label="on every frame"),
    )
    plan = Plan((still, cine), annotations, patient_weight_kg=70.0, title="Lumbar and hip")
    calibrations = {
        still.id: calibration_in_force(image_facts(lumbar), still),
        cine.id: calibration_in_force(image_facts(hip), cine),
    }
    return PlanOnSamples(plan, measure_plan(plan, calibrations), lumbar, hip)
