"""Two workstations, one course, one Orthanc: room A plans and sends session 1; room B, empty,
pulls it, carries it forward into session 2, signs and sends; A pulls and sees both, identical
field by field. Then both amend session 1: each amendment names A's SR as its predecessor, and
whichever arrives second at a workstation is a conflict there, never merged."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pydicom
import pytest

from prolo_planner.core.carry_forward import CarryMode, carry_forward, image_choices
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    Anaesthetic,
    ImagePlan,
    Injectate,
    ManualCalibration,
    NeedlePath,
    Plan,
    ProbeOrientation,
    Side,
    SiteStatus,
    Target,
)
from prolo_planner.report.session_export import export_session
from prolo_planner.store.repository import Repository
from tests.conftest import SAMPLE_IMAGES
from tests.core.pacs_support import PHANTOM, course_of, pull, send
from tests.net_servers import OUR_AE, Orthanc

LUMBAR = SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm"


@pytest.fixture
def pacs(tmp_path: Path):
    folder = tmp_path / "orthanc"
    folder.mkdir()
    server = Orthanc(folder, dicomweb=True).start()
    yield server
    server.stop()


def session_one(data: Path) -> int:
    """Room A's first session: one target with its path on the lumbar long axis, signed."""
    with Repository.open(data, who="dr_a") as repo:
        patient = repo.create_patient(**PHANTOM, weight_kg=68.5)
        stored = repo.import_image(LUMBAR)
        image = ImagePlan(
            repo.image_ref(stored),
            region="lumbar_spine",
            side=Side.MIDLINE,
            probe_orientation=ProbeOrientation.LONG_AXIS,
            body_marker="lumbar midline",
            key_frames=(0,),
            # A clinician's own depth-scale calibration, kept over the file's.
            manual_calibration=ManualCalibration(Point(600, 82.5), Point(600, 333.5), 40.0),
        )
        target = Target(
            image.id,
            Point(433.3, 201.6),
            name="L4-L5 supraspinous ligament",
            side=Side.MIDLINE,
            status=SiteStatus.INJECTED,
            injectate=Injectate(15.0, Anaesthetic.LIDOCAINE, 0.2, 1.0),
        )
        path = NeedlePath(image.id, Point(455.0, 100.9), target.id, needle_length_mm=50.0)
        plan = Plan((image,), (target, path), 68.5, "Lumbar, session 1", "from room A")
        session = repo.create_session(
            patient.id,
            plan=plan,
            started_at="2026-02-02T09:30:00",
            region="lumbar_spine",
            side="midline",
            clinician="Dr A",
            pain_before=7,
            pain_after=4,
            notes="first session, room A",
        )
        repo.sign(session.id)
        return session.id


def sr_of(repo: Repository, session_id: int, out: Path) -> pydicom.Dataset:
    files = export_session(repo, session_id, ["sr"], out)
    return pydicom.dcmread(next(f for f in files if f.name.endswith("_sr.dcm")))


def test_two_workstations_share_one_course(pacs: Orthanc, tmp_path: Path, capsys) -> None:
    a, b = tmp_path / "room-a", tmp_path / "room-b"
    first = session_one(a)
    assert send(a, pacs.node.address, first) == 0

    # Room B, empty, pulls the patient's course.
    assert pull(b, "--to", pacs.node.address, calling=OUR_AE) == 0
    with Repository.open(b, who="dr_b") as repo:
        patient = repo.patient_by_mrn(PHANTOM["mrn"])
        (row,) = repo.sessions_of(patient.id)
        pulled_first = row.session
        prior = repo.load_plan(pulled_first.id)
        carried = carry_forward(
            prior, Plan(), CarryMode.SAME_POSITIONS, image_choices(prior, Plan())[0]
        ).edit
        assert carried is not None
        plan = dataclasses.replace(carried.apply(Plan()), title="Lumbar, session 2")
        second = repo.create_session(
            patient.id,
            plan=plan,
            started_at="2026-02-23T11:00:00",
            region="lumbar_spine",
            side="midline",
            clinician="Dr B",
            pain_before=4,
            pain_after=2,
            notes="second session, room B",
        )
        repo.sign(second.id)
    assert send(b, pacs.node.address, second.id) == 0

    # Room A pulls: its own session is recognised, B's arrives; both stores hold one course.
    capsys.readouterr()
    assert pull(a, "--url", pacs.url) == 0
    assert "1 session version(s) new" in capsys.readouterr().out
    with Repository.open(a) as a_repo, Repository.open(b) as b_repo:
        course = course_of(a_repo)
        assert len(course) == 2 and course == course_of(b_repo)
        assert course[1][0]["clinician"] == "Dr B" and course[1][1]["plan"]["title"] == (
            "Lumbar, session 2"
        )
        a_first_sr = sr_of(a_repo, first, tmp_path / "a-first")

    # Both rooms amend session 1 (each signs and sends its amendment).
    for data, who, volume in ((a, "dr_a", 1.5), (b, "dr_b", 2.0)):
        with Repository.open(data, who=who) as repo:
            patient = repo.patient_by_mrn(PHANTOM["mrn"])
            one = next(
                r.session
                for r in repo.sessions_of(patient.id)
                if r.session.started_at.startswith("2026-02-02")
            )
            amended = repo.amend(one.id)
            plan = repo.load_plan(amended.id)
            plan = plan.with_annotations(
                dataclasses.replace(t, injectate=dataclasses.replace(t.injectate, volume_ml=volume))
                if isinstance(t, Target)
                else t
                for t in plan.annotations
            )
            repo.save_plan(amended.id, plan)
            repo.sign(amended.id)
            # Its SR names A's SR of session 1 as the one it replaces, in both rooms.
            sr = sr_of(repo, amended.id, tmp_path / f"{who}-amended")
            (item,) = sr.PredecessorDocumentsSequence
            (series,) = item.ReferencedSeriesSequence
            (ref,) = series.ReferencedSOPSequence
            assert ref.ReferencedSOPInstanceUID == a_first_sr.SOPInstanceUID
            assert item.StudyInstanceUID == a_first_sr.StudyInstanceUID
            assert series.SeriesInstanceUID == a_first_sr.SeriesInstanceUID
        assert send(data, pacs.node.address, amended.id) == 0

    # Each room pulls: the other's amendment is a conflict, shown, never merged.
    for data, mine, theirs in ((a, 1.5, 2.0), (b, 2.0, 1.5)):
        capsys.readouterr()
        assert pull(data, "--to", pacs.node.address, calling=OUR_AE) == 1
        err = capsys.readouterr().err
        assert "CONFLICT" in err and "amends the same version as session #" in err
        with Repository.open(data) as repo:
            patient = repo.patient_by_mrn(PHANTOM["mrn"])
            rows = repo.sessions_of(patient.id)
            in_conflict = [r for r in rows if r.origin is not None and r.origin.conflict_with]
            (other,) = in_conflict
            here = repo.session(other.origin.conflict_with)
            assert {t.injectate.volume_ml for t in repo.load_plan(here.id).targets()} == {mine}
            assert {t.injectate.volume_ml for t in repo.load_plan(other.session.id).targets()} == {
                theirs
            }
            assert other.session.amends is None  # the course is not re-routed silently
            assert repo.conflict(here.id) is not None
