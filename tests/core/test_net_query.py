"""Query (C-FIND) and retrieve (C-GET) against a real Orthanc started here on loopback."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import JPEG2000Lossless, JPEGBaseline8Bit, generate_uid

from prolo_planner.net.association import NetError
from prolo_planner.net.query import fetch_study, find_studies
from prolo_planner.net.send import send_files
from prolo_planner.store.records import Admitted, AuditAction
from prolo_planner.store.repository import Repository
from tests.conftest import pydicom_file
from tests.net_servers import OUR_AE

US_CINE = "examples_ybr_color.dcm"  # patient 204, study of 2016-05-03


@pytest.fixture(scope="module")
def pacs(orthanc, tmp_path_factory):
    """Orthanc holding patient 204's cine (sent with C-STORE), a report in the same study and a
    later study (uploaded through its REST API), and another patient's JPEG 2000 image."""
    folder = tmp_path_factory.mktemp("pacs-files")
    cine = dcmread(pydicom_file(US_CINE))
    report = dcmread(pydicom_file("test-SR.dcm"))
    report.PatientID, report.PatientName = cine.PatientID, cine.PatientName
    report.StudyInstanceUID = cine.StudyInstanceUID
    report.save_as(folder / "report.dcm")
    later = dcmread(pydicom_file("SC_rgb_small_odd.dcm"))
    later.PatientID, later.PatientName = cine.PatientID, cine.PatientName
    later.StudyInstanceUID, later.SOPInstanceUID = generate_uid(), generate_uid()
    later.file_meta.MediaStorageSOPInstanceUID = later.SOPInstanceUID
    later.StudyDate, later.StudyDescription = "20190312", "Knee follow-up"
    later.save_as(folder / "later.dcm")

    (sent,) = send_files(orthanc.node, [pydicom_file(US_CINE)], calling_ae=OUR_AE)
    assert sent.ok, sent.message
    for path in (folder / "report.dcm", folder / "later.dcm", pydicom_file("examples_jpeg2k.dcm")):
        orthanc.upload(path)
    return orthanc, cine, later


def test_find_lists_the_patients_studies_newest_first(pacs):
    orthanc, cine, later = pacs
    studies = find_studies(orthanc.node, "204", calling_ae=OUR_AE)
    assert [s.study_instance_uid for s in studies] == [
        later.StudyInstanceUID,
        cine.StudyInstanceUID,
    ]
    newest, first = studies
    assert (newest.study_date, newest.description) == ("20190312", "Knee follow-up")
    assert newest.modalities == ("OT",) and newest.instance_count == 1
    assert (first.patient_id, first.patient_name, first.study_date) == ("204", "PLA", "20160503")
    assert set(first.modalities) == {"US", "SR"} and first.instance_count == 2


def test_find_another_patient_finds_nothing_of_this_one(pacs):
    orthanc, _, _ = pacs
    assert find_studies(orthanc.node, "no-such-patient", calling_ae=OUR_AE) == []
    (j2k,) = find_studies(orthanc.node, "13US1", calling_ae=OUR_AE)
    assert j2k.patient_name == "CompressedSamples^US1"


@pytest.mark.parametrize("patient_id", ["", "  ", "20*", "2?4", "a\\b"])
def test_find_wants_one_exact_patient_id(pacs, patient_id):
    orthanc, _, _ = pacs
    with pytest.raises(ValueError, match="patient ID"):
        find_studies(orthanc.node, patient_id, calling_ae=OUR_AE)


def test_get_fetches_a_study_into_the_store(pacs, tmp_path):
    orthanc, cine, _ = pacs
    seen = []
    with Repository.open(tmp_path / "data") as repo:
        result = fetch_study(
            orthanc.node,
            cine.StudyInstanceUID,
            repo,
            calling_ae=OUR_AE,
            progress=lambda *a: seen.append(a),
        )
        assert result.ok, result.problems
        (imported,) = result.imported
        assert imported.patient_created and imported.patient.mrn == "204"
        stored = imported.image
        assert stored.sop_instance_uid == cine.SOPInstanceUID and stored.frame_count == 30
        fetched = dcmread(stored.library_path)
        # Kept in its JPEG Baseline frames: no lossy round trip on the way back.
        assert fetched.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
        assert fetched.PixelData == cine.PixelData
        # The report has no pixels to view: kept beside the store for review.
        (report,) = result.kept
        assert report.parent == repo.data_dir / "retrieved"
        assert dcmread(report).SOPClassUID == dcmread(pydicom_file("test-SR.dcm")).SOPClassUID
        last = repo.audit_log(patient_id=imported.patient.id)[-1]
        assert last.action is AuditAction.IMPORTED
        assert f"retrieved-from-{orthanc.ae_title}" in stored.original_path
        assert not list(repo.data_dir.glob(".retrieved-*"))  # the temporary folder is gone
    assert [s[0] for s in seen] == [1, 2] and seen[-1][1] in (0, 2)


def test_get_keeps_jpeg_2000_which_this_orthanc_cannot_transcode(pacs, tmp_path):
    orthanc, _, _ = pacs
    (study,) = find_studies(orthanc.node, "13US1", calling_ae=OUR_AE)
    with Repository.open(tmp_path / "data") as repo:
        result = fetch_study(orthanc.node, study.study_instance_uid, repo, calling_ae=OUR_AE)
        assert result.ok, result.problems
        (imported,) = result.imported
        fetched = dcmread(imported.image.library_path)
    original = dcmread(pydicom_file("examples_jpeg2k.dcm"))
    assert fetched.file_meta.TransferSyntaxUID == JPEG2000Lossless
    np.testing.assert_array_equal(fetched.pixel_array, original.pixel_array)


def test_get_into_a_session_of_another_patient_is_held_not_filed(pacs, tmp_path):
    orthanc, cine, _ = pacs
    with Repository.open(tmp_path / "data") as repo:
        other = repo.create_patient("H-1", "OTHER^Person")
        session = repo.create_session(other.id)
        result = fetch_study(
            orthanc.node, cine.StudyInstanceUID, repo, session_id=session.id, calling_ae=OUR_AE
        )
        (held,) = result.admitted
        assert result.imported == ()
        assert held.state is Admitted.HELD
        assert held.reasons[0] == "patient ID 204 in the file, H-1 in the session"
        assert repo.images_of(session.id) == []
        (listed,) = repo.held_images(session.id)
        assert listed.origin == "PACS retrieve"
        # The session's own patient's study goes in.
        pla = repo.create_patient("204", "PLA")
        hers = repo.create_session(pla.id)
        again = fetch_study(
            orthanc.node, cine.StudyInstanceUID, repo, session_id=hers.id, calling_ae=OUR_AE
        )
        assert [a.state for a in again.admitted] == [Admitted.ATTACHED]
        assert [i.sop_instance_uid for i in repo.images_of(hers.id)] == [cine.SOPInstanceUID]


def test_an_unknown_study_or_an_unknown_caller_is_reported(pacs, tmp_path):
    orthanc, _, _ = pacs
    with Repository.open(tmp_path / "data") as repo:
        result = fetch_study(orthanc.node, generate_uid(), repo, calling_ae=OUR_AE)
        assert result.imported == () and result.kept == ()
    # This Orthanc answers a study it does not hold with "unable to process".
    assert result.problems == (
        f"{orthanc.node.address} could not process the retrieve (status 0xC000)",
    )
    with pytest.raises(NetError) as refused:
        find_studies(orthanc.node, "204", calling_ae="STRANGER")
    assert str(refused.value) == (
        f"{orthanc.node.address} broke off the association while answering the query: is this "
        "workstation's AE title STRANGER on its list of known nodes?"
    )
