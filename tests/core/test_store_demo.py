"""The demo patient and the `sessions` and `demo` commands, on a real store and sample images."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from prolo_planner.commands.demo import run_demo
from prolo_planner.commands.sessions import run_sessions
from prolo_planner.core.catalog import load_catalogs
from prolo_planner.core.dose import session_dose
from prolo_planner.core.plan import (
    Anaesthetic,
    Approach,
    AvoidKind,
    AvoidZone,
    NeedlePath,
    SiteStatus,
    Target,
)
from prolo_planner.imaging.open import open_image
from prolo_planner.report.plan_images import PlanImages
from prolo_planner.store import demo
from prolo_planner.store.records import SessionState
from prolo_planner.store.repository import Repository
from tests.synthetic.scanner import SyntheticScanner, lumbar_dual_view_exam, lumbar_exam

TODAY = dt.date(2026, 3, 14)


@pytest.fixture
def filled(tmp_path):
    repo = Repository.open(tmp_path / "store", who="user_who_ran_demo")
    result = demo.fill_demo(repo, today=TODAY)
    yield repo, result
    repo.close()


def test_demo_patient_and_three_sessions_weeks_apart(filled):
    repo, result = filled
    assert result.created
    p = result.patient
    assert (p.mrn, p.name, p.weight_kg) == ("DEMO-0001", "DEMO^Alex", 72.0)
    assert [p.id for p in repo.search_patients("demo")] == [p.id]
    sessions = [repo.session(s.id) for s in result.sessions]
    starts = [dt.datetime.fromisoformat(s.started_at) for s in sessions]
    assert starts[-1].date() == TODAY
    assert all((b - a).days >= 14 for a, b in zip(starts, starts[1:], strict=False))
    assert [s.state for s in sessions] == [SessionState.SIGNED] * 2 + [SessionState.DRAFT]
    assert all(s.signed_by == demo.DEMO_SIGNER for s in sessions[:2])
    before = [s.pain_before for s in sessions]
    assert before == sorted(before, reverse=True) and len(set(before)) == 3
    assert all(s.pain_after < s.pain_before for s in sessions[:2])
    assert sessions[2].pain_after is None
    assert {s.region for s in sessions} == {"lumbar_spine"}
    # Nothing in the log claims the user who ran the demo did it.
    assert {e.who for e in repo.audit_log()} == {demo.DEMO_SIGNER}


def test_demo_plans_have_catalog_targets_paths_and_avoid_zones_on_library_images(filled, tmp_path):
    repo, result = filled
    catalog = load_catalogs(user_dir=tmp_path / "no-user-catalogs").region("lumbar_spine")
    for number, session in enumerate(result.sessions, start=1):
        plan = repo.load_plan(session.id)
        targets = plan.targets()
        assert len(targets) >= 3
        assert all(catalog.target(t.name) is not None for t in targets), [t.name for t in targets]
        status = SiteStatus.PLANNED if number == 3 else SiteStatus.INJECTED
        assert {t.status for t in targets} == {status}
        paths = [a for a in plan.annotations if isinstance(a, NeedlePath)]
        assert {p.target_id for p in paths} == {t.id for t in targets}
        zones = [a for a in plan.annotations if isinstance(a, AvoidZone)]
        assert [z.kind for z in zones] == [AvoidKind.SPINAL_CANAL]
        assert catalog.avoid_entry(zones[0].name) is not None
        stored = {i.sha256 for i in repo.images_of(session.id)}
        assert stored == {im.ref.sha256 for im in plan.images}
        for image in plan.images:
            assert image.ref.path.startswith(str(repo.library.root))
            source = open_image(image.ref.path)
            h, w = source.info.rows, source.info.columns
            regions = source.calibration.regions
            source.close()
            for a in plan.on_image(image.id):
                # Needle entries lie on the skin beside the probe, maybe beyond the image.
                points = [a.position] if isinstance(a, Target) else []
                points += list(a.points) if isinstance(a, AvoidZone) else []
                for pt in points:
                    assert 0 <= pt.x < w and 0 <= pt.y < h
                    assert not regions or any(
                        r.x0 <= pt.x <= r.x1 and r.y0 <= pt.y <= r.y1 for r in regions
                    )
        row = next(r for r in repo.sessions_of(result.patient.id) if r.session.id == session.id)
        assert math.isclose(row.total_ml, session_dose(targets).total_ml)


def test_demo_paths_are_in_plane_from_beside_the_probe_and_do_not_warn(filled):
    repo, result = filled
    beyond_the_image = 0
    for session in result.sessions:
        plan = repo.load_plan(session.id)
        with PlanImages.open(plan) as images:
            assert images.warnings == (), [w.message for w in images.warnings]
            for path in (a for a in plan.annotations if isinstance(a, NeedlePath)):
                geometry = images.measurements.path(path.id)
                assert path.approach is Approach.IN_PLANE
                # On the skin, and the whole path longer than the target is deep.
                assert abs(geometry.entry_depth_mm) <= 0.5
                assert geometry.length.value > geometry.depth.value + 10
                assert geometry.angle_deg.value <= 40
                size = images.sources[path.image_id].info.columns
                beyond_the_image += not 0 <= path.entry.x < size
    assert beyond_the_image >= 3  # the interspinous entries, beside the image's ends


def test_demo_geometry_matches_the_sample_images_it_was_made_with():
    (long_axis,) = SyntheticScanner(lumbar_exam()).layouts
    transverse = SyntheticScanner(lumbar_dual_view_exam()).layouts[1]
    for ours, truth in ((demo.LONG_AXIS, long_axis), (demo.TRANSVERSE, transverse)):
        assert (ours.skin_x, ours.skin_y) == (truth.skin_x, truth.skin_y)
        assert ours.mm_per_px == pytest.approx(truth.mm_per_px)
    column, row0, row40, mm = demo.CLIP_TICKS
    assert (math.floor(row0), math.floor(row40)) == (
        long_axis.depth_row(0),
        long_axis.depth_row(mm),
    )
    assert column >= long_axis.tick_x
    # The face's ends lie FACE_END_RISE_MM above its centre: R (1 - cos half angle).
    rise = demo.PROBE_RADIUS_MM * (1 - math.cos(long_axis.half_angle))
    assert pytest.approx(rise, abs=0.01) == demo.FACE_END_RISE_MM
    # The clip's manual calibration is within 1 % of the true spacing.
    assert mm / (row40 - row0) == pytest.approx(long_axis.mm_per_px, rel=0.01)


def test_demo_is_idempotent(filled):
    repo, first = filled
    log = repo.audit_log()
    files = sorted(repo.library.root.rglob("*"))
    again = demo.fill_demo(repo, today=TODAY + dt.timedelta(days=3))
    assert not again.created
    assert again.patient == first.patient
    assert [s.id for s in again.sessions] == [s.id for s in first.sessions]
    assert repo.audit_log() == log
    assert sorted(repo.library.root.rglob("*")) == files


# -- commands -------------------------------------------------------------------------------------
def test_demo_and_sessions_commands(tmp_path, capsys):
    store = tmp_path / "cli-store"
    assert run_sessions(None, as_json=False, data_dir=store) == 0
    assert "No sessions in the store" in capsys.readouterr().out
    assert run_demo(store) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Added a fictitious patient with 3 sessions to {store}")
    assert "DEMO, Alex  ID DEMO-0001" in out
    assert out.count("lumbar spine midline") == 3
    assert "- L4-L5 interspinous ligament" in out and "pain 7 -> 4" in out
    assert run_demo(store) == 0
    assert "already in the store" in capsys.readouterr().out

    assert run_sessions("DEMO-0001", as_json=True, data_dir=store) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["patient"]["mrn"] == "DEMO-0001" and entry["patient"]["weight_kg"] == 72.0
    listed = entry["sessions"]
    assert [s["state"] for s in listed] == ["signed", "signed", "draft"]  # oldest first
    assert [s["pain_before"] for s in listed] == [7, 5, 3]
    with Repository.open(store) as repo:
        for s in listed:
            targets = repo.load_plan(s["id"]).targets()
            dose = session_dose(targets)
            assert s["sites"] == [t.name for t in targets] and s["site_count"] == len(targets)
            assert s["total_ml"] == pytest.approx(dose.total_ml)
            assert s["dextrose_g"] == pytest.approx(dose.dextrose_g)
            assert s["anaesthetic_mg"] == {
                "lidocaine": pytest.approx(dose.mg_of(Anaesthetic.LIDOCAINE))
            }


def test_sessions_command_refuses_an_unknown_patient(tmp_path, capsys):
    assert run_sessions("NOBODY-1", as_json=False, data_dir=tmp_path) == 1
    assert "no patient with ID 'NOBODY-1'" in capsys.readouterr().err


def test_demo_honours_prolo_planner_home(private_home, capsys):
    assert run_demo() == 0
    assert str(private_home / "data") in capsys.readouterr().out
    assert (private_home / "data" / "prolo-planner.sqlite3").is_file()


def test_the_demo_is_one_patient_its_images_name_and_the_store_files_them_under(filled):
    """Every DICOM image of the demo names the demo patient (header and burned-in banner come
    from the same generator); the clip names nobody and was confirmed as theirs; nothing is
    held back, and every image of every session is linked to it."""
    repo, result = filled
    patient = result.patient
    for session in result.sessions:
        assert repo.held_images(session.id) == []
        for stored in repo.images_of(session.id):
            if stored.kind == "dicom":
                # Worked out by hand from store/demo.py's constants, not from the code under test.
                assert (stored.file_patient_id, stored.file_patient_name) == (
                    "DEMO-0001",
                    "DEMO^Alex",
                )
                assert stored.file_birth_date == "19710520"
            else:
                assert stored.file_patient_id == "" and stored.patient_id == patient.id
    clip = next(i for i in repo.images_of(result.sessions[2].id) if i.kind == "video")
    confirmed = [e.detail for e in repo.audit_log(session_id=result.sessions[2].id)]
    assert any(d.startswith(f"{clip.name}: names no patient; confirmed") for d in confirmed)
    # The generator makes the lumbar exams for the demo patient, by the demo's own constants.
    for exam in (lumbar_exam(), lumbar_dual_view_exam()):
        assert (exam.patient.patient_id, exam.patient.name) == (demo.DEMO_MRN, demo.DEMO_NAME)
