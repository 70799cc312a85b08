"""Exporting sessions of a real store (the demo patient on the sample images): every format
written, private and valid (dciodvfy), the DICOM objects in the right patient and study, their
pixels and values the plan's, and nothing identifying left in a de-identified export."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import numpy as np
import pydicom
import pytest

from prolo_planner.core.acknowledged import (
    WarningKey,
    acknowledged_keys,
    forget_stale,
    with_acknowledged,
)
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import ImagePlan, ImageRef, NeedlePath, Plan
from prolo_planner.export.deidentify import PseudonymKey
from prolo_planner.export.errors import ExportError
from prolo_planner.export.patient_study import PatientStudy
from prolo_planner.export.sr_codes import Quantity
from prolo_planner.export.sr_import import read_report
from prolo_planner.report.keyfile import KEY_FILE
from prolo_planner.report.plan_images import KeyImage, PlanImages
from prolo_planner.report.session_export import ExportFormat, export_session, parse_formats
from prolo_planner.store import demo
from prolo_planner.store.records import AuditAction
from prolo_planner.store.repository import Repository
from tests.conftest import SAMPLE_IMAGES, pydicom_file
from tests.core.export_support import PRIVATE_SCHEME_WARNING, assert_dciodvfy_clean
from tests.core.test_report_pdf import pdf_pages, pdf_text

ALL = ("png", "pdf", "sc", "sr", "pr")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    repo = Repository.open(tmp_path_factory.mktemp("store"), who="tester")
    result = demo.fill_demo(repo, today=dt.date(2026, 3, 14))
    yield repo, result
    repo.close()


def dicom_files(files: list[Path]) -> dict[str, list[pydicom.Dataset]]:
    out: dict[str, list[pydicom.Dataset]] = {}
    for f in files:
        if f.suffix == ".dcm":
            kind = f.stem.split("_")[-1].rstrip("0123456789")
            out.setdefault(kind, []).append(pydicom.dcmread(f))
    return out


@pytest.fixture(scope="module")
def session2(store, tmp_path_factory: pytest.TempPathFactory):
    repo, result = store
    session = result.sessions[1]  # two DICOM images: the long axis still, the dual view
    out = tmp_path_factory.mktemp("export2")
    notes: list[str] = []
    files = export_session(repo, session.id, ALL, out, notes=notes)
    return repo, session, files, notes


def test_every_format_is_written_privately(session2) -> None:
    repo, session, files, notes = session2
    assert notes == []
    names = [f.name for f in files]
    stem = f"session{session.id}"
    assert names == [
        f"{stem}_lumbar_long_axis_rgb_frame1.png",
        f"{stem}_lumbar_dual_view_ybr422_jpeg_frame1.png",
        f"{stem}_report.pdf",
        f"{stem}_sc1.dcm",
        f"{stem}_sc2.dcm",
        f"{stem}_sr.dcm",
        f"{stem}_pr1.dcm",
        f"{stem}_pr2.dcm",
    ]
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        if f.suffix == ".dcm":
            assert_dciodvfy_clean(f, allowed=(PRIVATE_SCHEME_WARNING,))
    entry = repo.audit_log(session_id=session.id)[-1]
    assert entry.action is AuditAction.EXPORTED
    assert entry.detail.startswith("exported png, pdf, sc, sr, pr (8 files) to ")


def test_secondary_captures_are_the_annotated_key_frames_in_the_source_study(session2) -> None:
    repo, session, files, _ = session2
    plan = repo.load_plan(session.id)
    scs = dicom_files(files)["sc"]
    with PlanImages.open(plan) as images:
        for sc, key in zip(scs, images.key_images(), strict=True):
            source = images.dataset(key.image.id)
            assert sc.BurnedInAnnotation == "YES"
            for keyword in ("PatientID", "PatientName", "StudyInstanceUID"):
                assert sc.get(keyword) == source.get(keyword)
            (ref,) = sc.SourceImageSequence
            assert ref.ReferencedSOPInstanceUID == source.SOPInstanceUID
            # Every pixel, RLE lossless: exactly what the renderer burned in.
            np.testing.assert_array_equal(sc.pixel_array, images.annotated(key))
            assert not np.array_equal(sc.pixel_array, images.frame(key))
    assert scs[0].SeriesInstanceUID == scs[1].SeriesInstanceUID  # one new series in the study
    assert [int(s.InstanceNumber) for s in scs] == [1, 2]


def test_the_reports_values_are_the_plans(session2) -> None:
    repo, session, files, _ = session2
    plan = repo.load_plan(session.id)
    (sr,) = dicom_files(files)["sr"]
    read = read_report(sr)
    assert sr.VerificationFlag == "VERIFIED"  # the session is signed
    assert [t.name for t in read.plan.targets()] == [t.name for t in plan.targets()]
    with PlanImages.open(plan) as images:
        m = images.measurements
        for t in plan.targets():
            depth = read.values[t.id][Quantity.TARGET_DEPTH]
            assert depth == pytest.approx(m.target_depths[t.id].value, rel=1e-9)
            for p in plan.paths_to(t.id):
                length = read.values[p.id][Quantity.PATH_LENGTH]
                assert length == pytest.approx(m.path(p.id).length.value, rel=1e-9)
        pdf = next(f for f in files if f.suffix == ".pdf")
        text = " ".join(pdf_text(pdf, layout=False).split())
        for t in plan.targets():
            assert f"{m.target_depths[t.id].value:.1f} mm" in text
    assert "DEMO, Alex" in text and "DEMO-0001" in text and "Dr Demo (fictitious)" in text
    assert f"Session #{session.id}, 2026-02-21: before 5, after 3 (this session)" in text
    assert "Session #1, 2026-01-31: before 7, after 4" in text  # the course, for comparison
    assert f"Page {pdf_pages(pdf)} of {pdf_pages(pdf)}" in text


def test_presentation_states_lie_on_the_source_images(session2) -> None:
    repo, session, files, _ = session2
    plan = repo.load_plan(session.id)
    states = dicom_files(files)["pr"]
    with PlanImages.open(plan) as images:
        sources = [images.dataset(im.id) for im in plan.images]
    for pr, source in zip(states, sources, strict=True):
        (series,) = pr.ReferencedSeriesSequence
        (image,) = series.ReferencedImageSequence
        assert image.ReferencedSOPInstanceUID == source.SOPInstanceUID
        assert pr.SOPClassUID.name.startswith("Color Softcopy")  # colour sources


def test_a_video_session_is_filed_under_the_stores_patient(store, tmp_path: Path) -> None:
    repo, result = store
    patient, session = result.patient, result.sessions[2]  # planned on the mp4 clip
    notes: list[str] = []
    missing: list[str] = []
    files = export_session(
        repo, session.id, ["sc", "cine", "sr", "pr"], tmp_path, notes=notes, missing=missing
    )
    assert notes == []
    assert missing == [
        "presentation state of lumbar_long_axis_clip.mp4: it needs a DICOM image to lie on (a "
        "video or a still has none); the Secondary Capture carries its annotations"
    ]
    found = dicom_files(files)
    (sc,), (cine,), (sr,), (capture,) = found["sc"], found["cine"], found["sr"], found["capture"]
    study = PatientStudy.from_session(patient, session)
    for ds in (sc, cine, sr, capture):
        assert ds.PatientID == "DEMO-0001" and str(ds.PatientName) == "DEMO^Alex"
        assert ds.StudyInstanceUID == study.study_instance_uid
    for ds in (sc, capture):  # the clip's frames went through a video codec
        assert ds.LossyImageCompression == "01"
    assert int(cine.NumberOfFrames) == 50
    # The SR points at a capture of the clip as it is: every frame, no annotations, so a
    # workstation that pulls the plan gets the clip's pixels back to draw it on.
    (evidence,) = sr.CurrentRequestedProcedureEvidenceSequence
    refs = {
        i.ReferencedSOPInstanceUID
        for s in evidence.ReferencedSeriesSequence
        for i in s.ReferencedSOPSequence
    }
    assert refs == {capture.SOPInstanceUID}
    assert int(capture.NumberOfFrames) == 50 and "no annotations" in capture.DerivationDescription
    plan = repo.load_plan(session.id)
    with PlanImages.open(plan) as images:
        (image,) = plan.images
        for f in (0, 31):
            key = KeyImage(image, f, "clip", 50)
            np.testing.assert_array_equal(capture.pixel_array[f], images.frame(key))
    for f in files:
        assert_dciodvfy_clean(f, allowed=(PRIVATE_SCHEME_WARNING,))


def _values(ds: pydicom.Dataset) -> list[str]:
    out: list[str] = []
    for elem in ds.iterall():
        if elem.VR not in ("SQ", "OB", "OW", "UN") and elem.value is not None:
            out.append(str(elem.value))
    return out


def test_a_deidentified_export_leaves_no_identifier(store, tmp_path: Path) -> None:
    repo, result = store
    session = result.sessions[1]
    files = export_session(repo, session.id, ALL, tmp_path / "a", deidentify=True)
    key_file = repo.data_dir / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = PseudonymKey.from_hex(key_file.read_text())
    plan = repo.load_plan(session.id)
    with PlanImages.open(plan) as images:
        sources = [images.dataset(im.id) for im in plan.images]
        banners = [images.banner(im) for im in plan.images]
        keys = images.key_images()
        masked = [images.frame(k, masked=True) for k in keys]
        burned = [images.annotated(k, masked=True) for k in keys]
    identifiers = {"DEMO", "Alex", "PHANTOM", "Lumbar^", "SYN-0001", "19700101", "1971-05-20"}
    for source in sources:
        identifiers |= {
            str(source.StudyInstanceUID),
            str(source.SOPInstanceUID),
            str(source.SeriesInstanceUID),
            str(source.StudyDate),
        }
    found = dicom_files(files)
    for kind, datasets in found.items():
        for ds in datasets:
            values = " | ".join(_values(ds))
            leaked = [i for i in identifiers if i in values]
            assert leaked == [], (kind, leaked)
            assert ds.PatientIdentityRemoved == "YES"
    for sc, frame, drawn, (banner,) in zip(found["sc"], masked, burned, banners, strict=True):
        assert sc.BurnedInAnnotation == "NO"
        assert not frame[: banner.y1].any()  # the scanner's banner is black...
        # ...under the plan's own drawing (needle entries sit on the skin at the sector's top).
        np.testing.assert_array_equal(sc.pixel_array[: banner.y1], drawn[: banner.y1])
    text = " ".join(pdf_text(next(f for f in files if f.suffix == ".pdf"), False).split())
    for word in ("DEMO", "Alex", "1971-05-20", "Dr Demo", "lumbar_long_axis", "flexion"):
        assert word not in text
    code = found["sc"][0].PatientID
    # One pseudonym for the export: the store's patient, whatever ID the files carry.
    assert code == f"ANON-{key.pseudonym('id:DEMO-0001|')}"
    # The same key next time: the same pseudonyms, so teaching files stay one patient.
    again = export_session(repo, session.id, ["sc"], tmp_path / "b", deidentify=True)
    assert pydicom.dcmread(again[0]).PatientID == code
    for f in files:
        if f.suffix == ".dcm":
            assert_dciodvfy_clean(f, allowed=(PRIVATE_SCHEME_WARNING,))


def test_formats_are_read_from_the_command_line_words() -> None:
    assert parse_formats("png, JPG,sr,png") == (
        ExportFormat.PNG,
        ExportFormat.JPEG,
        ExportFormat.SR,
    )
    with pytest.raises(ValueError, match="unknown export format 'gif' \\(known: png, jpeg"):
        parse_formats("png,gif")
    with pytest.raises(ValueError, match="no export format"):
        parse_formats(" , ")


def test_a_session_without_a_plan_is_refused(store, tmp_path: Path) -> None:
    repo, result = store
    empty = repo.create_session(result.patient.id, region="knee")
    with pytest.raises(ExportError, match=f"session #{empty.id} has no plan to export"):
        export_session(repo, empty.id, ["pdf"], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_export_that_would_mix_patients_is_refused_and_writes_nothing(
    store, tmp_path: Path
) -> None:
    """Issue 10: a PNG and PDF headed DEMO with PLA's image. Behind the session's door, the
    export itself refuses a plan whose images name another patient (a plan that got one by a
    way round the door: here written straight into the store)."""
    repo, result = store
    session = repo.create_session(result.patient.id, region="lumbar_spine")
    stranger = repo.import_image(pydicom_file("examples_ybr_color.dcm"))  # SonoSite: PLA, 204
    ours = repo.load_plan(result.sessions[1].id).images[0]
    theirs = ImagePlan(repo.image_ref(stranger), key_frames=(0,))
    repo.save_plan(session.id, Plan((ours, theirs)))
    out = tmp_path / "out"
    with pytest.raises(ExportError) as refused:
        export_session(repo, session.id, ALL, out)
    assert str(refused.value) == (
        f"session #{session.id} not exported: its plan mixes patients. examples_ybr_color.dcm "
        f"is PLA (ID 204): patient ID 204 in the file, DEMO-0001 in session #{session.id}; name "
        f"PLA in the file, DEMO^Alex in session #{session.id}. Take the image out of the plan "
        "(or export it from its own patient's session)."
    )
    assert not out.exists() or list(out.iterdir()) == []
    # The patient's own images alone export.
    repo.save_plan(session.id, Plan((ours,)))
    assert export_session(repo, session.id, ["png"], out)


def test_a_plan_file_of_two_patients_is_refused(tmp_path: Path) -> None:
    from prolo_planner.report.session_export import export_plan_file
    from prolo_planner.store.plan_file import save_plan

    lumbar = ImagePlan(ImageRef(str(SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm")))
    hip = ImagePlan(ImageRef(str(SAMPLE_IMAGES / "hip_anterior_cine_ybr422_jpeg.dcm")))
    path = save_plan(tmp_path / "two.prolo.json", Plan((lumbar, hip)))
    with pytest.raises(ExportError, match="two.prolo.json not exported: its plan mixes"):
        export_plan_file(path, ["png"], tmp_path / "out")


def test_acknowledgements_are_kept_by_the_store_and_shown(store, tmp_path: Path) -> None:
    repo, result = store
    session = result.sessions[2]  # the draft: still editable
    plan = repo.load_plan(session.id)
    # The demo's paths raise no warning: a steep in-plane path with a needle far too long for
    # it gives two (a warning and a note).
    target = plan.targets()[0]
    steep = NeedlePath(
        target.image_id, Point(target.position.x, 70.0), target.id, needle_length_mm=90.0
    )
    plan = plan.with_annotations((*plan.annotations, steep))
    repo.save_plan(session.id, plan)
    with PlanImages.open(plan) as images:
        warnings = images.warnings
    assert len(warnings) >= 2, [w.message for w in warnings]
    repo.save_plan(session.id, with_acknowledged(plan, warnings[:1]))
    stored = repo.load_plan(session.id)
    assert acknowledged_keys(stored) == {WarningKey.of(warnings[0])}
    # A warning no longer raised drops out, so if it comes back it must be read again.
    assert acknowledged_keys(forget_stale(stored, warnings[1:])) == set()
    (pdf,) = export_session(repo, session.id, ["pdf"], tmp_path)
    text = " ".join(pdf_text(pdf, layout=False).split())
    assert f"{len(warnings)} warning(s), 1 acknowledged by the clinician." in text
    # The report of the third session shows the course up to it, not later sessions.
    assert "Session #1, 2026-01-31: before 7, after 4" in text
    assert f"Session #{session.id}, 2026-03-14: before 3, after - (this session)" in text
