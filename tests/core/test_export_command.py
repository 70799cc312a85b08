"""`prolo-planner export` on a real store, and `send --session` carrying the plan's DICOM objects
to a real storescp: what was written or sent is printed, failures exit non-zero in words."""

from __future__ import annotations

import argparse
import datetime as dt
import stat
from pathlib import Path

import pydicom
import pytest

from prolo_planner import paths
from prolo_planner.cli import main
from prolo_planner.commands.export import add_export_parser, run_export
from prolo_planner.store import demo
from prolo_planner.store.repository import Repository
from tests.core.export_support import PRIVATE_SCHEME_WARNING, assert_dciodvfy_clean


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    with Repository.open(folder) as repo:
        demo.fill_demo(repo, today=dt.date(2026, 3, 14))
    return folder


def export(argv: list[str], data: Path) -> int:
    """The export command as `prolo-planner --data-dir DATA export ARGV...` runs it."""
    parser = argparse.ArgumentParser(prog="prolo-planner")
    add_export_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["export", *argv])
    return run_export(
        args.session,
        args.format,
        args.out,
        deidentify=args.deidentify,
        data_dir=data,
        plan_file=args.plan,
        dates=args.dates,
        keep_text=args.keep_text,
    )


def test_export_prints_what_it_wrote(data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "chart"
    assert export(["--session", "2", "--out", str(out)], data) == 0
    printed = capsys.readouterr()
    written = [Path(line.removeprefix("wrote ")) for line in printed.out.splitlines()[:-1]]
    assert sorted(written) == sorted(out.iterdir())
    assert [p.suffix for p in written] == [".png", ".png", ".pdf"] + [".dcm"] * 5
    assert printed.out.splitlines()[-1] == f"8 file(s) written to {out}"
    assert "[1/9] PNG of lumbar_long_axis_rgb.dcm" in printed.err  # progress on stderr
    for p in written:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
        if p.suffix == ".dcm":
            assert_dciodvfy_clean(p, allowed=(PRIVATE_SCHEME_WARNING,))


def test_deidentified_and_chosen_formats(data: Path, tmp_path: Path, capsys) -> None:
    argv = ["--session", "3", "--format", "jpg,sr,pr", "--deidentify", "--out", str(tmp_path)]
    # A clip has no DICOM image for a presentation state to lie on: what is missing is named,
    # and the export says it is partial by its exit status.
    assert export(argv, data) == 1
    printed = capsys.readouterr()
    assert "missing: presentation state of image 1: it needs a DICOM image" in printed.err
    assert printed.err.splitlines()[-1] == (
        f"prolo-planner: 3 file(s) written to {tmp_path}; 1 missing"
    )
    (sr_path,) = tmp_path.glob("ANON-*_sr.dcm")
    stem = sr_path.name.removesuffix("_sr.dcm")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        f"{stem}_image-1_frame1.jpg",
        f"{stem}_sr-evidence-image-1.dcm",
        f"{stem}_sr.dcm",
    ]
    sr = pydicom.dcmread(sr_path)
    assert sr.PatientID == stem.split("-")[0] + "-" + stem.split("-")[1]
    assert "DEMO" not in str(sr.PatientName)


def test_failures_are_said_in_words(data: Path, tmp_path: Path, capsys) -> None:
    assert export(["--session", "99", "--out", str(tmp_path)], data) == 1
    assert capsys.readouterr().err.strip() == (
        "prolo-planner: session #99 not exported: no session #99 in the store"
    )
    assert export(["--session", "2", "--format", "png,tiff", "--out", str(tmp_path)], data) == 2
    assert "--format: unknown export format 'tiff'" in capsys.readouterr().err
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    assert export(["--session", "2", "--format", "pdf", "--out", str(blocker / "x")], data) == 1
    assert "not exported: the folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [blocker]


def test_send_a_session_with_its_plan(data: Path, storescp_plain, capsys, monkeypatch) -> None:
    # --data-dir sets the data folder for the rest of the process: undone after this test.
    monkeypatch.setattr(paths, "_data_dir_override", None)
    node = storescp_plain.node
    argv = ["--data-dir", str(data), "send", "--to", node.address, "--session", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    # The long axis image, then its Secondary Capture, the SR and the presentation state.
    assert "[1/4] sent lumbar_long_axis_rgb.dcm" in out
    for name in ("session1_sc1.dcm", "session1_sr.dcm", "session1_pr1.dcm"):
        assert f"sent {name} (" in out
    assert f"4 of 4 file(s) sent to {node.address}" in out
    received = [pydicom.dcmread(p) for p in storescp_plain.folder.iterdir()]
    kinds = sorted(str(ds.SOPClassUID.name) for ds in received)
    assert kinds == [
        "Color Softcopy Presentation State Storage",
        "Comprehensive SR Storage",
        "Secondary Capture Image Storage",
        "Ultrasound Image Storage",
    ]
    with Repository.open(data) as repo:
        detail = repo.audit_log(session_id=1)[-1].detail
    assert detail == f"sent 1 image(s) and 3 plan object(s) to {node.address}"


def test_a_plan_file_exports_without_a_store_and_its_texts_are_reviewed(
    tmp_path: Path, capsys
) -> None:
    """`export --plan`: the same door as a session; de-identified, the texts are printed first
    and typed text goes only with --keep-text."""
    from prolo_planner.core.geometry import Point
    from prolo_planner.core.plan import ImagePlan, ImageRef, Plan, Target, TextNote
    from prolo_planner.store.plan_file import save_plan
    from tests.conftest import SAMPLE_IMAGES

    image = ImagePlan(ImageRef(str(SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm")))
    plan = Plan(
        (image,),
        (
            Target(image.id, Point(300, 200), name="L4-L5 supraspinous ligament"),
            TextNote(image.id, Point(200, 150), Point(250, 120), "Mr Smith's sore spot"),
        ),
    )
    path = save_plan(tmp_path / "knee.prolo.json", plan)
    data = tmp_path / "data"
    argv = ["--plan", str(path), "--format", "sr,pdf", "--deidentify", "--out", str(tmp_path / "a")]
    assert export(argv, data) == 0
    printed = capsys.readouterr()
    assert "kept    Target 1 name (catalog name): 'L4-L5 supraspinous ligament'" in printed.err
    assert 'REMOVED Text 1 text (typed): "Mr Smith\'s sore spot"' in printed.err
    assert not (data / "prolo-planner.sqlite3").exists()  # no session store was made
    (sr,) = (tmp_path / "a").glob("*_sr.dcm")
    texts = {e.value for e in pydicom.dcmread(sr).iterall() if e.keyword == "TextValue"}
    assert "L4-L5 supraspinous ligament" in texts and "Mr Smith's sore spot" not in texts

    assert export([*argv[:-1], str(tmp_path / "b"), "--keep-text"], data) == 0
    (sr,) = (tmp_path / "b").glob("*_sr.dcm")
    texts = {e.value for e in pydicom.dcmread(sr).iterall() if e.keyword == "TextValue"}
    assert "Mr Smith's sore spot" in texts
    # Plain: the plan file's own name and the image's patient.
    assert export(["--plan", str(path), "--format", "sc", "--out", str(tmp_path / "c")], data) == 0
    (sc,) = (tmp_path / "c").iterdir()
    assert sc.name == "knee_sc1.dcm" and pydicom.dcmread(sc).PatientID == "DEMO-0001"
