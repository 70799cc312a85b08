"""Pull through a real Orthanc: a course sent by one store comes back into another, field by
field, over DIMSE (C-FIND, C-GET) and DICOMweb (QIDO-RS, WADO-RS); a second pull duplicates
nothing; what is not ours, damaged, too new or half retrieved is named and skipped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes

from prolo_planner.export import plan_record
from prolo_planner.export.dicom_writing import to_bytes
from prolo_planner.report.session_export import export_session
from prolo_planner.store.repository import Repository
from tests.conftest import SAMPLE_IMAGES
from tests.core.pacs_support import PHANTOM, course_of, phantom_course, pull, send
from tests.net_servers import OUR_AE, Orthanc


@pytest.fixture(scope="module")
def pacs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    server = Orthanc(tmp_path_factory.mktemp("orthanc-pull"), dicomweb=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sent(pacs: Orthanc, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Store A: the phantom course, every session sent to the PACS."""
    data = tmp_path_factory.mktemp("store-a")
    with Repository.open(data) as repo:
        made = phantom_course(repo)
    for session in made.sessions:
        # The clip's session has no presentation state (a video has no DICOM image): exit 1.
        assert send(data, pacs.node.address, session.id) in (0, 1)
    return data


def test_a_course_comes_back_whole_over_dimse(sent: Path, pacs: Orthanc, tmp_path: Path) -> None:
    b = tmp_path / "store-b"
    assert pull(b, "--to", pacs.node.address, calling=OUR_AE) == 0
    with Repository.open(sent) as a_repo, Repository.open(b) as b_repo:
        assert course_of(b_repo) == course_of(a_repo)
        patient = b_repo.patient_by_mrn(PHANTOM["mrn"])
        assert (patient.name, patient.birth_date) == (PHANTOM["name"], PHANTOM["birth_date"])
        # The video session: its manual calibration and key frames, on the clip's own pixels.
        video = next(
            r for r in b_repo.sessions_of(patient.id) if r.session.notes.startswith("Third")
        )
        (image,) = b_repo.load_plan(video.session.id).images
        assert image.manual_calibration is not None and image.manual_calibration.mm == 40.0
        assert image.key_frames == (0,) and image.ref.frame_count == 50
        assert Path(image.ref.path).is_file()
        (stored,) = b_repo.images_of(video.session.id)
        assert stored.frame_count == 50
        # What was done rides with the plan: the procedure records of the two sessions held,
        # and the course view's summary of them (issue 14).
        done_a = {
            r.session.uid: r for r in a_repo.sessions_of(a_repo.patient_by_mrn(PHANTOM["mrn"]).id)
        }
        for row in b_repo.sessions_of(patient.id):
            record = b_repo.load_plan(row.session.id).procedure
            sent_row = done_a[row.session.uid]
            assert record == a_repo.load_plan(sent_row.session.id).procedure
            assert row.done == sent_row.done
        assert sum(r.done is not None for r in b_repo.sessions_of(patient.id)) == 2
        # Each version says where it came from, and is the author's, not B's to change.
        origin = b_repo.origin(video.session.id)
        assert origin is not None and pacs.node.address in origin.node
        assert "a copy of a draft" in (b_repo.read_only_reason(video.session.id) or "")


def test_a_course_comes_back_whole_over_dicomweb(sent: Path, pacs: Orthanc, tmp_path: Path) -> None:
    c = tmp_path / "store-c"
    assert pull(c, "--url", pacs.url) == 0
    with Repository.open(sent) as a_repo, Repository.open(c) as c_repo:
        assert course_of(c_repo) == course_of(a_repo)


def test_a_second_pull_recognises_what_is_here(
    sent: Path, pacs: Orthanc, tmp_path: Path, capsys
) -> None:
    b = tmp_path / "store-b"
    assert pull(b, "--to", pacs.node.address, calling=OUR_AE) == 0
    capsys.readouterr()
    before = pacs.instance_uids()
    assert pull(b, "--url", pacs.url) == 0
    out = capsys.readouterr().out
    assert "0 session version(s) new" in out and "3 already here" in out
    with Repository.open(b) as repo:
        assert len(repo.sessions_of(repo.patient_by_mrn(PHANTOM["mrn"]).id)) == 3
    # The author pulling its own course back: recognised, not duplicated.
    assert pull(sent, "--to", pacs.node.address, calling=OUR_AE) == 0
    out = capsys.readouterr().out
    assert "0 session version(s) new" in out and "3 already here" in out
    assert pacs.instance_uids() == before  # pulling never writes to the PACS


def _ohif_style_report(path: Path) -> pydicom.Dataset:
    """A TID 1500 report as another viewer writes it: a length on the lumbar image."""
    image = pydicom.dcmread(path)
    group = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(identifier="Measurement 1"),
        referenced_region=hd.sr.ImageRegion(
            graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
            graphic_data=np.array([[100.0, 100.0], [160.0, 180.0]]),
            source_image=hd.sr.SourceImageForRegion(image.SOPClassUID, image.SOPInstanceUID),
        ),
        measurements=[
            hd.sr.Measurement(name=codes.SCT.Length, value=12.7, unit=codes.UCUM.Millimeter)
        ],
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(
            observer_person_context=hd.sr.ObserverContext(
                observer_type=codes.DCM.Person,
                observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
                    name="Other^Viewer"
                ),
            )
        ),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion,
        imaging_measurements=[group],
    )
    return hd.sr.Comprehensive3DSR(
        evidence=[image],
        content=report[0],
        series_instance_uid=hd.UID(),
        series_number=77,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="OHIF",
        series_description="OHIF measurements",
    )


def _altered(sr: Path, change) -> bytes:
    """A copy of an SR as a new object (its own UID), changed by `change`."""
    ds = pydicom.dcmread(sr)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = hd.UID()
    change(ds)
    return to_bytes(ds)


def _flip_a_bit(ds: pydicom.Dataset) -> None:
    block = ds.private_block(plan_record.GROUP, plan_record.CREATOR)
    raw = bytearray(block[0x10].value)
    raw[len(raw) // 3] ^= 0x04
    block[0x10].value = bytes(raw)


def _newer(ds: pydicom.Dataset) -> None:
    ds.private_block(plan_record.GROUP, plan_record.CREATOR)[0x02].value = "2.0"


def test_what_is_not_ours_or_is_broken_is_named_and_skipped(tmp_path: Path, capsys) -> None:
    """On the PACS beside the course: another viewer's TID 1500 report (shown read-only), an SR
    whose record a bad disk damaged, one from a newer Prolo Planner, and the clip's session
    whose capture the PACS lost (a retrieve that stops half-way). The good sessions come in
    whole, the others are named with the reason, nothing is imported half; when the capture is
    back, the next pull completes the course."""
    folder = tmp_path / "orthanc"
    folder.mkdir()
    pacs = Orthanc(folder).start()
    try:
        a = tmp_path / "a"
        with Repository.open(a) as repo:
            made = phantom_course(repo)
            exported = {
                s.id: export_session(repo, s.id, ["sr"], tmp_path / f"export{s.id}")
                for s in made.sessions
            }
        for session in made.sessions:
            send(a, pacs.node.address, session.id)
        sr = {
            sid: next(f for f in files if f.name.endswith("_sr.dcm"))
            for sid, files in exported.items()
        }
        capture = next(f for f in exported[made.sessions[2].id] if "_capture" in f.name)
        capture_uid = str(pydicom.dcmread(capture, stop_before_pixels=True).SOPInstanceUID)
        ohif = _ohif_style_report(SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm")
        pacs.rest("/instances", to_bytes(ohif))
        pacs.rest("/instances", _altered(sr[made.sessions[1].id], _flip_a_bit))
        pacs.rest("/instances", _altered(sr[made.sessions[0].id], _newer))
        pacs.delete_instance(capture_uid)
        capsys.readouterr()

        b = tmp_path / "b"
        assert pull(b, "--to", pacs.node.address, calling=OUR_AE) == 1
        out, err = capsys.readouterr()
        assert out.count("new: session #") == 2  # the two DICOM sessions, whole
        assert "damaged (its checksum does not match)" in err
        assert "newer Prolo Planner (session record 2.0)" in err
        assert "1 of 1 image(s) did not arrive" in err and "lumbar_long_axis_clip.mp4" in err
        assert "read-only: OHIF report" in out and "Length 12.7 mm" in out
        with Repository.open(b) as repo:
            patient = repo.patient_by_mrn(PHANTOM["mrn"])
            assert len(repo.sessions_of(patient.id)) == 2  # nothing of the clip's session

        pacs.upload(capture)  # the PACS has it again
        assert pull(b, "--to", pacs.node.address, calling=OUR_AE) == 1  # still the two bad SRs
        out, err = capsys.readouterr()
        assert out.count("new: session #") == 1 and "2 already here" in err
        with Repository.open(a) as a_repo, Repository.open(b) as b_repo:
            assert course_of(b_repo) == course_of(a_repo)
    finally:
        pacs.stop()
