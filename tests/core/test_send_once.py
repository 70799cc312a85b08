"""Sent once: a session sent twice to a real Orthanc leaves its instance count unchanged (the
same plan version names the same objects); an amendment sends new objects whose SR names the
one it replaces; a palette-colour session (Philips CX50) sends its image, SC and SR, says why
there is no presentation state, and exits non-zero."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pydicom
import pytest

from prolo_planner import paths
from prolo_planner.cli import main
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import ImagePlan, NeedlePath, Plan, Side, Target
from prolo_planner.export.uids import PlanVersion, export_uid
from prolo_planner.report.session_export import export_session, session_subject
from prolo_planner.store import demo
from prolo_planner.store.repository import Repository
from tests.conftest import pydicom_file


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # --data-dir sets the data folder for the rest of the process: undone after each test.
    monkeypatch.setattr(paths, "_data_dir_override", None)
    with Repository.open(tmp_path / "data") as repo:
        demo.fill_demo(repo, today=dt.date(2026, 3, 14))
    return tmp_path / "data"


def instances(orthanc) -> int:
    return int(orthanc.rest("/statistics")["CountInstances"])


def send(data: Path, orthanc, session: int) -> int:
    return main(
        ["--data-dir", str(data), "send", "--to", orthanc.node.address, "--session", str(session)]
    )


def test_sending_twice_duplicates_nothing_and_an_amendment_replaces(
    data: Path, orthanc, tmp_path: Path, capsys
) -> None:
    before = instances(orthanc)
    assert send(data, orthanc, 2) == 0
    first = instances(orthanc)
    # Two images, two Secondary Captures, the SR, two presentation states.
    assert first - before == 7
    assert send(data, orthanc, 2) == 0
    assert instances(orthanc) == first  # the same UIDs: Orthanc keeps what it has
    capsys.readouterr()

    with Repository.open(data) as repo:
        old = session_subject(repo, 2)
        amended = repo.amend(2)
        plan = repo.load_plan(amended.id)
        target = next(iter(plan.targets()))
        repo.save_plan(
            amended.id,
            plan.with_annotations(
                a
                if a is not target
                else Target(
                    target.image_id,
                    Point(target.position.x + 5, target.position.y),
                    id=target.id,
                    name=target.name,
                    injectate=target.injectate,
                )
                for a in plan.annotations
            ),
        )
        files = export_session(repo, amended.id, ["sr"], tmp_path / "amended")
    assert send(data, orthanc, amended.id) == 0
    # The images were there already; the plan's five objects are new.
    assert instances(orthanc) == first + 5
    (sr,) = [pydicom.dcmread(f) for f in files]
    (previous,) = sr.PredecessorDocumentsSequence
    (series,) = previous.ReferencedSeriesSequence
    (instance,) = series.ReferencedSOPSequence
    assert old.version is not None
    assert instance.ReferencedSOPInstanceUID == export_uid(old.version, "sr")
    assert series.SeriesInstanceUID == sr.SeriesInstanceUID  # every version in one series
    assert sr.InstanceNumber == 2
    # The PACS holds the replaced report: the reference resolves.
    found = orthanc.rest("/tools/lookup", instance.ReferencedSOPInstanceUID.encode())
    assert found and found[0]["Type"] == "Instance"


def test_the_uids_are_the_plan_versions(data: Path, tmp_path: Path) -> None:
    with Repository.open(data) as repo:
        a = export_session(repo, 2, ["sc", "sr", "pr"], tmp_path / "a")
        b = export_session(repo, 2, ["sc", "sr", "pr"], tmp_path / "b")
        subject = session_subject(repo, 2)
    uids_a = [pydicom.dcmread(f).SOPInstanceUID for f in a]
    uids_b = [pydicom.dcmread(f).SOPInstanceUID for f in b]
    assert uids_a == uids_b and len(set(uids_a)) == 5
    sr = next(pydicom.dcmread(f) for f in a if f.name.endswith("_sr.dcm"))
    assert sr.SOPInstanceUID == export_uid(subject.version, "sr")
    # Another version of the plan: other UIDs.
    other = PlanVersion.of(subject.plan, 2)
    assert export_uid(other, "sr") != sr.SOPInstanceUID


def test_a_palette_colour_session_sends_what_it_can_and_says_what_not(
    tmp_path: Path, orthanc, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paths, "_data_dir_override", None)
    data = tmp_path / "cx50"
    with Repository.open(data) as repo:
        # The file's own patient (ID 11-05-25-142825, OB): a session holds one patient's images.
        filed = repo.import_dicom(pydicom_file("OBXXXX1A.dcm"))
        stored, patient = filed.image, filed.patient
        repo.update_patient(patient.id, weight_kg=60.0)
        session = repo.create_session(patient.id, region="hip", side=Side.RIGHT)
        image = ImagePlan(repo.image_ref(stored), region="hip", side=Side.RIGHT)
        target = Target(image.id, Point(400, 300), name="Iliofemoral ligament")
        repo.save_plan(
            session.id,
            Plan((image,), (target, NeedlePath(image.id, Point(300, 120), target.id))),
        )
    before = instances(orthanc)
    assert send(data, orthanc, session.id) == 1
    printed = capsys.readouterr()
    assert (
        "not sent: presentation state of OBXXXX1A.dcm: DICOM has no presentation state for "
        "PALETTE COLOR images" in printed.err
    )
    assert f"sent session{session.id}_sc1.dcm" in printed.out
    assert f"sent session{session.id}_sr.dcm" in printed.out
    assert "pr1" not in printed.out  # nothing is said to be sent that was not
    assert "3 of 3 file(s) sent" in printed.err
    assert "1 object(s) of the plan could not be made and were not sent" in printed.err
    assert instances(orthanc) == before + 3
