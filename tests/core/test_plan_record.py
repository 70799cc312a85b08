"""The session record in the SR: the whole plan and session, read back exactly; damage, a newer
version and a PACS that re-encodes the SR are all handled in words."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import ImplicitVRLittleEndian

from prolo_planner.export import plan_record
from prolo_planner.export.dicom_writing import to_bytes
from prolo_planner.export.sr_import import ReportReadError, read_report
from prolo_planner.report.session_export import export_session
from prolo_planner.store import demo
from prolo_planner.store.repository import Repository
from tests.core.export_support import PRIVATE_SCHEME_WARNING, assert_dciodvfy_clean
from tests.core.pacs_support import plan_fields


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("data")
    out = tmp_path_factory.mktemp("out")
    with Repository.open(data) as repo:
        made = demo.fill_demo(repo, today=dt.date(2026, 3, 14))
        srs = {}
        for session in made.sessions:
            files = export_session(repo, session.id, ["sr"], out / str(session.id))
            (srs[session.id],) = [f for f in files if f.name.endswith("_sr.dcm")]
        yield repo, made, srs


def sr_of(path: Path) -> pydicom.Dataset:
    return pydicom.dcmread(path)


def test_every_demo_session_comes_back_whole(exported) -> None:
    repo, made, srs = exported
    for session in made.sessions:
        plan = repo.load_plan(session.id)
        read = read_report(srs[session.id])
        assert read.record is not None
        # Title, weight, each image's region, side, orientation, body marker, key frames,
        # skin line and manual calibration: everything the plan format holds.
        assert plan_fields(read.plan) == plan_fields(plan)
        assert read.record.session is not None
        s = read.record.session
        assert (s["uid"], s["version"], s["started_at"], s["state"]) == (
            session.uid,
            session.version,
            session.started_at,
            session.state.value,
        )
        assert (s["pain_before"], s["pain_after"], s["notes"], s["clinician"]) == (
            session.pain_before,
            session.pain_after,
            session.notes,
            session.clinician,
        )


def test_the_video_sessions_manual_calibration_survives(exported) -> None:
    """The issue's own example: the demo clip's 19.0 mm came back as 119 px."""
    repo, made, srs = exported
    video = made.sessions[2]
    (image,) = read_report(srs[video.id]).plan.images
    assert image.manual_calibration is not None
    assert image.manual_calibration.mm == 40.0
    assert (image.manual_calibration.a.y, image.manual_calibration.b.y) == (82.5, 333.5)
    assert image.key_frames == (0,) and image.body_marker.startswith("lumbar midline")
    record = read_report(srs[video.id]).record
    assert record is not None
    (recorded,) = record.images
    assert recorded.capture and recorded.name == "lumbar_long_axis_clip.mp4"


def test_the_sr_with_its_record_is_still_valid_dicom(exported) -> None:
    _repo, made, srs = exported
    for session in made.sessions:
        assert_dciodvfy_clean(srs[session.id], allowed=(PRIVATE_SCHEME_WARNING,))


def test_an_implicit_vr_pacs_loses_the_vrs_but_not_the_record(exported) -> None:
    """A PACS that stores Implicit VR hands private elements back as UN: their bytes serve."""
    repo, made, srs = exported
    ds = sr_of(srs[made.sessions[1].id])
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    buffer = io.BytesIO()
    ds.save_as(buffer, implicit_vr=True, little_endian=True)
    again = pydicom.dcmread(io.BytesIO(buffer.getvalue()))
    block = again.private_block(plan_record.GROUP, plan_record.CREATOR)
    assert block[0x10].VR in ("UN", "OB")
    read = read_report(again)
    assert plan_fields(read.plan) == plan_fields(repo.load_plan(made.sessions[1].id))


def test_a_damaged_record_is_refused_not_used(exported) -> None:
    _repo, made, srs = exported
    ds = sr_of(srs[made.sessions[0].id])
    block = ds.private_block(plan_record.GROUP, plan_record.CREATOR)
    raw = bytearray(block[0x10].value)
    raw[len(raw) // 2] ^= 0x01  # one flipped bit, as a bad disk or a broken transfer would
    block[0x10].value = bytes(raw)
    with pytest.raises(ReportReadError, match="damaged"):
        read_report(pydicom.dcmread(io.BytesIO(to_bytes(ds))))


def test_a_newer_record_is_refused_with_the_reason(exported) -> None:
    _repo, made, srs = exported
    ds = sr_of(srs[made.sessions[0].id])
    ds.private_block(plan_record.GROUP, plan_record.CREATOR)[0x02].value = "2.0"
    with pytest.raises(ReportReadError, match=r"newer Prolo Planner \(session record 2.0\)"):
        read_report(ds)


def test_without_its_record_the_report_still_gives_what_tid_1500_holds(exported) -> None:
    """A PACS that drops private elements: the plan's annotations survive, its extras do not."""
    repo, made, srs = exported
    ds = sr_of(srs[made.sessions[1].id])
    ds.remove_private_tags()
    read = read_report(ds)
    assert read.record is None
    plan = repo.load_plan(made.sessions[1].id)
    assert [a.id for a in read.plan.annotations] == [a.id for a in plan.annotations]
    assert read.plan.title == ""  # what only the record carries is gone, and said so by None


def test_a_newer_minor_version_keeps_what_it_added(exported) -> None:
    """Unknown keys of a newer minor plan format ride in the record and come back."""
    repo, made, srs = exported
    plan = repo.load_plan(made.sessions[1].id)
    doc = plan_record.record_document(
        plan, read_report(srs[made.sessions[1].id]).record.images, None, plan.id, 1, "x"
    )
    doc["plan"]["format_version"] = "1.7"
    doc["plan"]["plan"]["referral"] = {"from": "physiotherapy", "urgent": False}
    doc["plan"]["plan"]["images"][0]["transducer"] = "L12-4"
    ds = sr_of(srs[made.sessions[1].id])
    plan_record.add_record(ds, doc)
    back = read_report(pydicom.dcmread(io.BytesIO(to_bytes(ds)))).plan
    assert back.extra["referral"] == {"from": "physiotherapy", "urgent": False}
    assert back.images[0].extra["transducer"] == "L12-4"
