"""The door of a session (store/admission.py), without a display: real scanner files of a
patient and of others brought to a session, held with the reasons, attached anyway only by an
audited decision scoped to that session, and files naming nobody asked about once."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
from pydicom import dcmread

from prolo_planner.store.records import Admitted, AuditAction, ReadOnlySession
from prolo_planner.store.repository import Repository
from tests.conftest import SAMPLE_IMAGES, pydicom_file

SONOSITE = "examples_ybr_color.dcm"  # SonoSite, PatientID 204, PLA, 30 frames
MR = "MR_small.dcm"  # PatientID 4MR1, CompressedSamples^MR1
ANONYMISED = "ExplVR_BigEnd.dcm"  # GE ultrasound, no PatientID, name "Anonymized"
CLIP = SAMPLE_IMAGES / "lumbar_long_axis_clip.mp4"


@pytest.fixture
def repo(tmp_path):
    r = Repository.open(tmp_path / "store", who="dr_test")
    yield r
    r.close()


def _mr_patient(repo: Repository):
    ds = dcmread(pydicom_file(MR), stop_before_pixels=True)
    born = str(ds.get("PatientBirthDate", ""))
    iso = f"{born[:4]}-{born[4:6]}-{born[6:]}" if born else ""
    return repo.create_patient(str(ds.PatientID), str(ds.PatientName), iso)


def test_a_file_of_the_sessions_patient_is_attached_and_logged(repo):
    patient = _mr_patient(repo)
    session = repo.create_session(patient.id)
    done = repo.admit(pydicom_file(MR), session.id, origin="File > Open")
    assert done.state is Admitted.ATTACHED and done.reasons == ()
    assert [i.sha256 for i in repo.images_of(session.id)] == [done.image.sha256]
    assert done.image.patient_id == patient.id
    last = repo.audit_log(session_id=session.id)[-1]
    assert last.action is AuditAction.IMPORTED
    assert last.detail == "MR_small.dcm (File > Open): patient matches"


def test_a_file_of_another_patient_is_held_with_the_reason_never_filed(repo):
    demo = repo.create_patient("DEMO-0001", "DEMO^Alex", "1971-05-20")
    session = repo.create_session(demo.id)
    done = repo.admit(pydicom_file(SONOSITE), session.id, origin="drag and drop")
    # Read by hand from the SonoSite header: PatientID 204, PatientName PLA, no birth date.
    assert done.state is Admitted.HELD
    assert done.reasons == (
        "patient ID 204 in the file, DEMO-0001 in the session",
        "name PLA in the file, DEMO^Alex in the session",
    )
    assert repo.images_of(session.id) == []
    assert done.image.patient_id is None  # filed under nobody
    (held,) = repo.held_images(session.id)
    assert held.origin == "drag and drop" and held.reasons == done.reasons
    assert str(held).startswith("examples_ybr_color.dcm: patient ID 204 in the file")
    assert "held, not attached" in repo.audit_log(session_id=session.id)[-1].detail


def test_held_images_belong_to_their_session_alone(repo):
    demo = repo.create_patient("DEMO-0001", "DEMO^Alex")
    other = repo.create_patient("X-9", "OTHER^Olga")
    today = repo.create_session(demo.id)
    later = repo.create_session(demo.id)
    hers = repo.create_session(other.id)
    repo.admit(pydicom_file(SONOSITE), today.id)
    assert len(repo.held_images(today.id)) == 1
    assert repo.held_images(later.id) == [] and repo.held_images(hers.id) == []


def test_attaching_anyway_is_an_audited_decision_for_that_session_only(repo):
    demo = repo.create_patient("DEMO-0001", "DEMO^Alex")
    today = repo.create_session(demo.id)
    held = repo.admit(pydicom_file(SONOSITE), today.id).image
    attached = repo.attach_held(today.id, held.sha256)
    assert [i.sha256 for i in repo.images_of(today.id)] == [attached.sha256]
    assert repo.held_images(today.id) == []
    decision = repo.audit_log(session_id=today.id)[-1]
    assert decision.who == "dr_test"
    assert decision.detail == (
        "examples_ybr_color.dcm: attached to this session by the clinician's decision, despite: "
        "patient ID 204 in the file, DEMO-0001 in the session; "
        "name PLA in the file, DEMO^Alex in the session"
    )
    # Scoped: the same file brought to the patient's next session is held again.
    later = repo.create_session(demo.id)
    assert repo.admit(pydicom_file(SONOSITE), later.id).state is Admitted.HELD
    assert repo.image(held.sha256).patient_id is None


def test_a_dismissed_image_stays_out_and_is_held_again_if_brought_again(repo):
    demo = repo.create_patient("DEMO-0001", "DEMO^Alex")
    today = repo.create_session(demo.id)
    held = repo.admit(pydicom_file(SONOSITE), today.id).image
    repo.dismiss_held(today.id, held.sha256)
    assert repo.held_images(today.id) == [] and repo.images_of(today.id) == []
    assert held.library_path.is_file()  # kept in the library
    repo.admit(pydicom_file(SONOSITE), today.id, origin="receiver")
    (again,) = repo.held_images(today.id)
    assert again.origin == "receiver"


def test_the_same_id_with_another_name_or_birth_date_is_held(repo, tmp_path):
    patient = repo.create_patient("4MR1", "CompressedSamples^MR1", "1980-01-01")
    session = repo.create_session(patient.id)
    copy = tmp_path / "mr.dcm"
    ds = dcmread(pydicom_file(MR))
    ds.PatientBirthDate = "19700101"
    ds.save_as(copy)
    done = repo.admit(copy, session.id)
    assert done.state is Admitted.HELD
    assert done.reasons == ("birth date 1970-01-01 in the file, 1980-01-01 in the session",)


def test_a_file_naming_nobody_is_asked_about_once_then_remembered(repo, tmp_path):
    demo = repo.create_patient("DEMO-0001", "DEMO^Alex")
    other = repo.create_patient("X-9", "OTHER^Olga")
    today = repo.create_session(demo.id)
    clip = tmp_path / "my clip.mp4"
    shutil.copyfile(CLIP, clip)
    asked = repo.admit(clip, today.id, origin="File > Open")
    assert asked.state is Admitted.UNIDENTIFIED and repo.images_of(today.id) == []
    done = repo.confirm_unidentified(today.id, asked.image.sha256, True)
    assert done.attached and repo.image(asked.image.sha256).patient_id == demo.id
    assert "my clip.mp4: names no patient; confirmed by the clinician as DEMO-0001's" in [
        e.detail for e in repo.audit_log(session_id=today.id)
    ]
    # The patient's next session takes it without asking; another patient's holds it.
    later = repo.create_session(demo.id)
    assert repo.admit(clip, later.id).state is Admitted.ATTACHED
    hers = repo.create_session(other.id)
    held = repo.admit(clip, hers.id)
    assert held.state is Admitted.HELD
    assert held.reasons == ("the file was confirmed earlier as DEMO, Alex's (DEMO-0001)",)


def test_an_anonymised_scanner_file_is_asked_about_and_a_no_holds_it(repo):
    demo = repo.create_patient("DEMO-0001", "DEMO^Alex")
    today = repo.create_session(demo.id)
    asked = repo.admit(pydicom_file(ANONYMISED), today.id)
    assert asked.state is Admitted.UNIDENTIFIED  # name "Anonymized", no PatientID
    done = repo.confirm_unidentified(today.id, asked.image.sha256, False)
    assert done.state is Admitted.HELD
    assert done.reasons == ("the file names no patient, and it was not confirmed as DEMO, Alex's",)
    assert repo.images_of(today.id) == [] and len(repo.held_images(today.id)) == 1


def test_a_file_that_names_its_patient_is_checked_not_asked(repo):
    demo = repo.create_patient("DEMO-0001", "DEMO^Alex")
    today = repo.create_session(demo.id)
    held = repo.admit(pydicom_file(SONOSITE), today.id).image
    with pytest.raises(ValueError, match="names its patient"):
        repo.confirm_unidentified(today.id, held.sha256, True)
    assert repo.images_of(today.id) == []


def test_a_signed_session_takes_no_image(repo):
    patient = _mr_patient(repo)
    session = repo.create_session(patient.id)
    repo.sign(session.id)
    with pytest.raises(ReadOnlySession):
        repo.admit(pydicom_file(MR), session.id)
    assert repo.images_of(session.id) == []


def _plan_of(repo: Repository, *stored):
    from prolo_planner.core.plan import ImagePlan, ImageRef, Plan

    return Plan().with_images(
        ImagePlan(ImageRef(str(s.library_path), sha256=s.sha256, name=s.name), id=f"im{n}")
        for n, s in enumerate(stored)
    )


def test_an_image_attached_anyway_and_taken_out_of_the_plan_is_held_again(repo):
    """Undoing an attach (or deleting the image) takes another patient's scan out of the
    session's images: it is not sent or exported with the session, and is held again."""
    demo = repo.create_patient("DEMO-0001", "DEMO^Alex")
    today = repo.create_session(demo.id)
    own = repo.admit(CLIP, today.id).image  # names nobody: the clinician says it is Alex's
    repo.confirm_unidentified(today.id, own.sha256, True)
    foreign = repo.admit(pydicom_file(SONOSITE), today.id).image
    repo.attach_held(today.id, foreign.sha256)
    repo.save_plan(today.id, _plan_of(repo, own, foreign))
    assert {i.sha256 for i in repo.images_of(today.id)} == {own.sha256, foreign.sha256}
    repo.save_plan(today.id, _plan_of(repo, own))  # the attach undone
    assert [i.sha256 for i in repo.images_of(today.id)] == [own.sha256]
    (held,) = repo.held_images(today.id)
    assert held.image.sha256 == foreign.sha256 and held.reasons[0].startswith("patient ID 204")
    last = repo.audit_log(session_id=today.id)[-1]
    assert last.action is AuditAction.EDITED and last.who == "dr_test"
    assert last.detail == (
        "examples_ybr_color.dcm: taken out of the plan again; "
        "it leaves the session and is held back"
    )
    # The patient's own image taken out of the plan stays the session's, as before.
    repo.save_plan(today.id, _plan_of(repo))
    assert [i.sha256 for i in repo.images_of(today.id)] == [own.sha256]
    # Attached anyway again and put back: the session's again.
    repo.attach_held(today.id, foreign.sha256)
    repo.save_plan(today.id, _plan_of(repo, own, foreign))
    assert {i.sha256 for i in repo.images_of(today.id)} == {own.sha256, foreign.sha256}


def test_an_image_attached_anyway_stays_while_the_plan_has_not_taken_it_yet(repo):
    """Between the clinician's decision and the next save the stored plan lacks the image: a
    save of that older plan does not undo the decision."""
    demo = repo.create_patient("DEMO-0001", "DEMO^Alex")
    today = repo.create_session(demo.id)
    foreign = repo.admit(pydicom_file(SONOSITE), today.id).image
    repo.save_plan(today.id, _plan_of(repo))
    repo.attach_held(today.id, foreign.sha256)
    older = dataclasses.replace(_plan_of(repo), title="edited before the image came")
    repo.save_plan(today.id, older)
    assert [i.sha256 for i in repo.images_of(today.id)] == [foreign.sha256]
    assert repo.held_images(today.id) == []
