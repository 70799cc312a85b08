"""The image library and DICOM import: copies by content, private files, patient matching.
The door of a session (admission) has its own tests: test_store_admission.py."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat

import pytest
from pydicom import dcmread

from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.store.image_library import ImageLibrary
from prolo_planner.store.records import Admitted, AuditAction, InvalidValue
from prolo_planner.store.repository import Repository
from tests.conftest import SAMPLE_IMAGES, pydicom_file
from tests.core.store_support import make_plan

MR = "MR_small.dcm"  # PatientID 4MR1, CompressedSamples^MR1
MR_JPEG_LS = "MR_small_jpeg_ls_lossless.dcm"  # the same patient, other bytes
US_YBR = "examples_ybr_color.dcm"  # PatientID 204, PLA


@pytest.fixture
def repo(tmp_path):
    r = Repository.open(tmp_path / "store", who="dr_test")
    yield r
    r.close()


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _library_files(repo: Repository) -> list:
    return sorted(p for p in repo.library.root.rglob("*") if p.is_file())


def _edited_copy(src, dest, **elements):
    ds = dcmread(src)
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    ds.save_as(dest)
    return dest


# -- the library ----------------------------------------------------------------------------------
def test_import_copies_into_the_library_by_sha256_privately(repo, tmp_path):
    source = tmp_path / "scan.DCM"
    shutil.copyfile(pydicom_file(US_YBR), source)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    stored = repo.import_image(source)
    expected = repo.data_dir / "library" / digest[:2] / (digest[2:] + ".dcm")
    assert stored.sha256 == digest
    assert stored.library_path == expected
    assert expected.read_bytes() == source.read_bytes()
    assert _mode(expected) == 0o600
    assert _mode(expected.parent) == 0o700 and _mode(repo.library.root) == 0o700
    assert stored.kind == "dicom" and stored.frame_count == 30
    assert stored.sop_instance_uid == dcmread(source).SOPInstanceUID
    assert stored.original_path == str(source)
    assert _library_files(repo) == [expected]  # no temporary file left behind


def test_identical_content_is_stored_once(repo, tmp_path):
    a = tmp_path / "a.dcm"
    b = tmp_path / "elsewhere" / "b.dcm"
    b.parent.mkdir()
    shutil.copyfile(pydicom_file(MR), a)
    shutil.copyfile(pydicom_file(MR), b)
    first = repo.import_image(a)
    second = repo.import_image(b)
    third = ImageLibrary(repo.data_dir).add(b)
    assert first.sha256 == second.sha256 == third.sha256
    assert third.added is False
    assert second.original_path == str(a)  # the first import's facts are kept
    assert len(_library_files(repo)) == 1
    repo.import_image(pydicom_file(MR_JPEG_LS))  # same patient and UID, other bytes
    assert len(_library_files(repo)) == 2


def test_a_plan_keeps_its_image_when_the_original_goes(repo, tmp_path):
    source = tmp_path / "clip.mp4"
    shutil.copyfile(SAMPLE_IMAGES / "lumbar_long_axis_clip.mp4", source)
    patient = repo.create_patient("P-1", "TEST^Pat")
    session = repo.create_session(patient.id)
    asked = repo.admit(source, session.id)  # a video names nobody: the clinician says whose
    assert asked.state is Admitted.UNIDENTIFIED and repo.images_of(session.id) == []
    stored = repo.confirm_unidentified(session.id, asked.image.sha256, True).image
    assert stored.kind == "video" and stored.frame_count == 50
    assert repo.images_of(session.id) == [stored]
    plan = make_plan(str(stored.library_path), sha256=stored.sha256)
    repo.save_plan(session.id, plan)
    source.unlink()
    (image,) = repo.load_plan(session.id).images
    assert image.ref.path == str(stored.library_path)
    assert image.ref.sha256 == stored.sha256
    # The stored document names the library file relative to the data folder.
    with repo.db.read() as conn:
        (document,) = conn.execute("SELECT document FROM plans").fetchone()
    (saved,) = json.loads(document)["plan"]["images"]
    assert saved["ref"]["path"] == stored.library_path.relative_to(repo.data_dir).as_posix()


def test_a_moved_data_folder_still_finds_its_images(repo, tmp_path):
    patient = repo.create_patient("4MR1", "CompressedSamples^MR1")
    session = repo.create_session(patient.id)
    stored = repo.admit(pydicom_file(MR), session.id).image
    repo.save_plan(session.id, make_plan(str(stored.library_path), sha256=stored.sha256))
    repo.db.checkpoint()
    repo.close()
    moved = tmp_path / "moved"
    shutil.copytree(repo.data_dir, moved)
    with Repository.open(moved) as again:
        (image,) = again.load_plan(session.id).images
        assert image.ref.path.startswith(str(moved / "library"))
        assert again.image(stored.sha256).library_path.read_bytes() == pydicom_file(MR).read_bytes()


def test_an_image_is_found_again_by_content_when_its_path_is_gone(repo, tmp_path):
    patient = repo.create_patient("4MR1", "CompressedSamples^MR1")
    session = repo.create_session(patient.id)
    stored = repo.import_image(pydicom_file(MR))
    repo.save_plan(session.id, make_plan("/old/pacs/export/IM0001", sha256=stored.sha256))
    (image,) = repo.load_plan(session.id).images
    assert image.ref.path == str(stored.library_path)
    # Plans saved before images carried names get the name the file was imported by.
    assert image.ref.name == "MR_small.dcm"
    # Saving the plan attached its library image, which names this patient, to the session.
    assert [i.sha256 for i in repo.images_of(session.id)] == [stored.sha256]


def test_saving_a_plan_never_files_another_patients_image_under_the_session(repo):
    """No back door: a library image of another patient that found its way into the plan is
    not linked to the session by the autosave (only the session's door links images)."""
    patient = repo.create_patient("P-1", "TEST^Pat")
    session = repo.create_session(patient.id)
    stranger = repo.import_image(pydicom_file(US_YBR))  # PLA, ID 204
    repo.save_plan(session.id, make_plan(str(stranger.library_path), sha256=stranger.sha256))
    assert repo.images_of(session.id) == []


def test_a_file_that_is_not_an_image_is_refused_and_not_copied(repo, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    with pytest.raises(ImageLoadError):
        repo.import_image(text)
    assert not repo.library.root.exists() or _library_files(repo) == []
    with pytest.raises(InvalidValue, match="not a DICOM file"):
        repo.import_dicom(SAMPLE_IMAGES / "hip_anterior_frame_grab.png")


# -- DICOM patient matching -----------------------------------------------------------------------
def test_dicom_import_creates_then_matches_the_patient(repo):
    first = repo.import_dicom(pydicom_file(MR))
    assert first.patient_created and first.mismatch is None
    ds = dcmread(pydicom_file(MR))
    patient = first.patient
    assert (patient.mrn, patient.name, patient.sex) == (ds.PatientID, str(ds.PatientName), "F")
    assert first.image.patient_id == patient.id
    second = repo.import_dicom(pydicom_file(MR_JPEG_LS))
    assert second.patient == patient and not second.patient_created
    assert second.mismatch is None and second.image.patient_id == patient.id
    assert len(repo.search_patients("")) == 1
    session = repo.create_session(patient.id)
    third = repo.admit(pydicom_file(MR), session.id)
    assert third.attached
    assert [i.sha256 for i in repo.images_of(session.id)] == [first.image.sha256]
    actions = [(e.action, e.patient_id) for e in repo.audit_log()]
    assert actions[:2] == [(AuditAction.CREATED, patient.id), (AuditAction.IMPORTED, patient.id)]


def test_same_id_with_another_name_is_a_mismatch_never_merged(repo, tmp_path):
    original = repo.import_dicom(pydicom_file(MR)).patient
    impostor = _edited_copy(pydicom_file(MR), tmp_path / "other.dcm", PatientName="IMPOSTOR^Ida")
    result = repo.import_dicom(impostor)
    assert result.patient is None
    mismatch = result.mismatch
    assert mismatch is not None and mismatch.patient == original
    assert mismatch.file_patient_name == "IMPOSTOR^Ida"
    assert mismatch.differences == (
        "name IMPOSTOR^Ida in the file, CompressedSamples^MR1 in the store",
    )
    assert "4MR1" in str(mismatch) and "other.dcm" in str(mismatch)
    # Kept in the library, linked to nobody; the store's patient is unchanged.
    assert result.image.library_path.is_file() and result.image.patient_id is None
    assert repo.patient(original.id) == original
    assert len(repo.search_patients("")) == 1
    assert "held, patient does not match" in repo.audit_log()[-1].detail


def test_same_id_with_another_birth_date_is_a_mismatch(repo, tmp_path):
    repo.create_patient("4MR1", "CompressedSamples^MR1", "1980-01-01")
    dated = _edited_copy(pydicom_file(MR), tmp_path / "dated.dcm", PatientBirthDate="19700101")
    result = repo.import_dicom(dated)
    assert result.mismatch.differences == (
        "birth date 1970-01-01 in the file, 1980-01-01 in the store",
    )
    # Case, accents and empty name components are no difference.
    same = _edited_copy(
        pydicom_file(MR),
        tmp_path / "same.dcm",
        PatientName="compressedsamples^MR1^^",
        PatientBirthDate="19800101",
    )
    assert repo.import_dicom(same).mismatch is None


def test_the_same_id_from_another_issuer_is_another_patient(repo, tmp_path):
    repo.create_patient("4MR1", "CompressedSamples^MR1", issuer="CLINIC-A")
    elsewhere = _edited_copy(pydicom_file(MR), tmp_path / "b.dcm", IssuerOfPatientID="HOSP-B")
    result = repo.import_dicom(elsewhere)
    assert result.mismatch.differences == (
        "ID issued by HOSP-B in the file, by CLINIC-A in the store",
    )
    same = _edited_copy(pydicom_file(MR), tmp_path / "a.dcm", IssuerOfPatientID="clinic-a")
    assert repo.import_dicom(same).mismatch is None
    # A new patient made from a file keeps the file's issuer.
    made = repo.import_dicom(
        _edited_copy(pydicom_file(US_YBR), tmp_path / "c.dcm", IssuerOfPatientID="HOSP-B")
    )
    assert made.patient_created and made.patient.issuer == "HOSP-B"
