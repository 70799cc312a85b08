"""Importing folders and DICOMDIRs: real DICOM, clips and grabs mixed with junk and broken files."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from pydicom import dcmread
from pydicom.fileset import FileSet

from prolo_planner.imaging.dicom import DicomSource
from prolo_planner.imaging.folder_import import ImportResult, natural_key, scan_paths
from prolo_planner.imaging.source import SourceKind
from tests.conftest import pydicom_file

DICOMDIR_IMAGES = 31  # image records in pydicom's dicomdirtests/DICOMDIR


def grab(index: int) -> np.ndarray:
    """A distinct small RGB picture per index."""
    rng = np.random.default_rng(index)
    return rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)


def write_png(path: Path, index: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grab(index)).save(path)
    return path


def write_clip(path: Path, frames: int = 12) -> Path:
    """An MJPG clip whose frame i has its bright column at x = 4 * i."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    assert writer.isOpened()
    for i in range(frames):
        frame = np.full((48, 64, 3), 30, np.uint8)
        frame[:, 4 * i : 4 * i + 4] = 250
        writer.write(frame)
    writer.release()
    return path


def copy(name: str, to: Path) -> Path:
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(pydicom_file(name), to)
    return to


def copy_dicomdir_tree(to: Path) -> Path:
    """pydicom's dicomdirtests: the DICOMDIR and the three patient folders it indexes."""
    origin = pydicom_file("DICOMDIR").parent
    to.mkdir(parents=True, exist_ok=True)
    shutil.copy(origin / "DICOMDIR", to / "DICOMDIR")
    for patient in ("77654033", "98892001", "98892003"):
        shutil.copytree(origin / patient, to / patient)
    return to / "DICOMDIR"


def paths_of(result: ImportResult) -> list[Path]:
    return [s.info.path for s in result.sources]


def problem_paths(result: ImportResult) -> set[Path]:
    return {p.path for p in result.problems}


# -- a real folder, mixed ------------------------------------------------------------------
@pytest.fixture()
def clinic_folder(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "export"
    files = {
        "ybr": copy("examples_ybr_color.dcm", root / "lumbar" / "IM0001"),
        "mr": copy("MR_small.dcm", root / "lumbar" / "IM0002"),
        "rgb": copy("examples_rgb_color.dcm", root / "hip" / "rgb.dcm"),
        "grab2": write_png(root / "grabs" / "grab 2.png", 2),
        "grab10": write_png(root / "grabs" / "grab 10.png", 10),
        "clip": write_clip(root / "grabs" / "deeper" / "clip.avi"),
    }
    # Broken files that look like images.
    cut = root / "broken" / "cut.dcm"
    data = pydicom_file("MR_small.dcm").read_bytes()
    cut.parent.mkdir(parents=True)
    cut.write_bytes(data[: len(data) // 2])
    files["cut"] = cut
    files["report"] = copy("test-SR.dcm", root / "broken" / "report.dcm")
    files["garbage"] = root / "broken" / "garbage.mp4"
    files["garbage"].write_bytes(bytes(range(256)) * 20)
    files["text_png"] = root / "broken" / "notes.png"
    files["text_png"].write_text("not a picture\n" * 10)
    # Junk: not images at all.
    (root / "notes.txt").write_text("clinic notes")
    (root / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(300))
    (root / "README").write_text("export from the scanner")
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(100))
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]")
    write_png(root / ".cache" / "hidden.png", 99)  # in a hidden folder: not imported
    files["root"] = root
    return files


def test_a_mixed_folder_imports_images_and_reports_broken_files(clinic_folder, caplog):
    caplog.set_level(logging.WARNING, logger="prolo_planner.imaging.folder_import")
    result = scan_paths([clinic_folder["root"]])

    assert not result.cancelled
    loaded = paths_of(result)
    expected = {clinic_folder[k] for k in ("ybr", "mr", "rgb", "grab2", "grab10", "clip")}
    assert set(loaded) == expected and len(loaded) == len(expected)
    broken = {clinic_folder[k] for k in ("cut", "report", "garbage", "text_png")}
    assert problem_paths(result) == broken
    assert all(p.reason for p in result.problems)
    assert result.skipped == 4  # notes.txt, Thumbs.db, README, .DS_Store

    # One log entry per problem, naming the file.
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == len(result.problems)
    for path in broken:
        assert any(str(path) in w for w in warnings)

    # DICOM first, then clips and grabs in the order a person reads their names.
    kinds = [s.info.kind for s in result.sources]
    assert kinds[:3] == [SourceKind.DICOM] * 3
    assert loaded[3:] == [clinic_folder["clip"], clinic_folder["grab2"], clinic_folder["grab10"]]

    # The sources hold the right pixels.
    by_path = {s.info.path: s for s in result.sources}
    np.testing.assert_array_equal(by_path[clinic_folder["grab10"]].frame(0), grab(10))
    np.testing.assert_array_equal(by_path[clinic_folder["grab2"]].frame(0), grab(2))
    clip_frame = by_path[clinic_folder["clip"]].frame(7)
    assert int(np.argmax(clip_frame[:, :, 1].mean(axis=0))) // 4 == 7
    reference = DicomSource.open(pydicom_file("examples_ybr_color.dcm"))
    np.testing.assert_array_equal(by_path[clinic_folder["ybr"]].frame(3), reference.frame(3))
    for source in result.sources:
        source.close()


def test_files_given_one_by_one_are_sorted_and_a_missing_one_reported(tmp_path):
    a = write_png(tmp_path / "scan 10.png", 1)
    b = write_png(tmp_path / "scan 9.png", 2)
    c = write_clip(tmp_path / "a clip.avi")
    gone = tmp_path / "gone.dcm"
    result = scan_paths([a, gone, b, c, str(a)])
    assert paths_of(result) == [c, b, a]
    assert [(p.path, p.reason) for p in result.problems] == [(gone, "file not found")]


# -- DICOMDIR ----------------------------------------------------------------------------
def dicom_order_key(path: Path) -> tuple:
    ds = dcmread(path, stop_before_pixels=True)
    return (
        str(ds.PatientID),
        str(ds.StudyDate),
        str(ds.StudyInstanceUID),
        int(ds.SeriesNumber),
        str(ds.SeriesInstanceUID),
        int(ds.InstanceNumber),
    )


def assert_clinical_order(paths: list[Path]) -> None:
    """Grouped by patient, study and series, instance numbers ascending within a series."""
    keys = [dicom_order_key(p) for p in paths]
    for level in (1, 3, 5):  # patient, study, series: each one contiguous run
        runs = [k[:level] for i, k in enumerate(keys) if i == 0 or keys[i - 1][:level] != k[:level]]
        assert len(runs) == len(set(runs)), f"level {level} is split"
    for before, after in zip(keys, keys[1:], strict=False):
        if before[:5] == after[:5]:
            assert before[5] <= after[5], "instance numbers out of order within a series"
        elif before[:3] == after[:3]:
            assert before[3] <= after[3], "series numbers out of order within a study"


def test_a_dicomdir_imports_the_images_it_lists_in_clinical_order(tmp_path):
    dicomdir = copy_dicomdir_tree(tmp_path / "cd")
    (tmp_path / "cd" / "unlisted.png").write_bytes(b"")  # not listed: not imported
    result = scan_paths([dicomdir])
    assert len(result.sources) == DICOMDIR_IMAGES
    assert result.problems == () and result.skipped == 0
    assert all(s.info.kind is SourceKind.DICOM for s in result.sources)
    assert_clinical_order(paths_of(result))
    first = result.sources[0]
    pixels = dcmread(first.info.path).pixel_array
    assert first.frame(0).shape == pixels.shape


def test_a_dicomdir_found_in_a_folder_adds_nothing_twice(tmp_path):
    copy_dicomdir_tree(tmp_path / "cd")
    extra = write_png(tmp_path / "grab.png", 3)
    result = scan_paths([tmp_path])
    loaded = paths_of(result)
    assert len(loaded) == DICOMDIR_IMAGES + 1 == len(set(loaded))
    assert result.problems == ()
    assert loaded[-1] == extra


def test_a_file_the_dicomdir_lists_but_that_is_missing_is_named(tmp_path):
    dicomdir = copy_dicomdir_tree(tmp_path / "cd")
    missing = tmp_path / "cd" / "98892001" / "CT5N" / "2392"
    missing.unlink()
    result = scan_paths([dicomdir])
    assert len(result.sources) == DICOMDIR_IMAGES - 1
    assert problem_paths(result) == {missing}
    assert "listed in" in result.problems[0].reason and "missing" in result.problems[0].reason


def test_a_dicomdir_copied_in_lower_case_still_finds_its_files(tmp_path):
    copy_dicomdir_tree(tmp_path / "cd")
    for folder, dirs, files in os.walk(tmp_path / "cd", topdown=False):
        for name in files + dirs:
            os.rename(Path(folder) / name, Path(folder) / name.lower())
    result = scan_paths([tmp_path / "cd" / "dicomdir"])
    assert len(result.sources) == DICOMDIR_IMAGES
    assert result.problems == ()


def test_dicomdir_records_that_are_not_images_are_skipped_not_reported(tmp_path):
    file_set = FileSet()
    for name in ("MR_small.dcm", "test-SR.dcm"):
        ds = dcmread(pydicom_file(name))
        for keyword, value in (
            ("PatientID", "PP-0001"),
            ("PatientName", "Test^Patient"),
            ("StudyDate", "20240101"),
            ("StudyTime", "101010"),
            ("StudyID", "1"),
            ("SeriesNumber", "1"),
            ("InstanceNumber", "1"),
        ):
            if not ds.get(keyword):
                setattr(ds, keyword, value)
        file_set.add(ds)
    file_set.write(tmp_path / "cd")
    # Through the DICOMDIR, and through a walk of its folder: the same outcome.
    for start in (tmp_path / "cd" / "DICOMDIR", tmp_path / "cd"):
        result = scan_paths([start])
        assert [s.info.sop_class_uid for s in result.sources] == [
            dcmread(pydicom_file("MR_small.dcm")).SOPClassUID
        ]
        assert result.problems == ()
        assert result.skipped == 1


def test_a_damaged_dicomdir_is_a_problem_and_the_folder_still_imports(tmp_path):
    (tmp_path / "DICOMDIR").write_bytes(b"not a dicomdir at all" * 10)
    image = write_png(tmp_path / "grab.png", 4)
    result = scan_paths([tmp_path])
    assert paths_of(result) == [image]
    assert problem_paths(result) == {tmp_path / "DICOMDIR"}
    assert "DICOMDIR" in result.problems[0].reason


# -- many files, progress, cancel -----------------------------------------------------------
def test_thousands_of_unrelated_files_are_skipped_not_errors(tmp_path):
    junk = tmp_path / "downloads"
    for i in range(3000):
        folder = junk / f"batch{i // 500}"
        folder.mkdir(parents=True, exist_ok=True)
        name = ["note{}.txt", "data{}.dat", "file{}", "page{}.html", ".hidden{}"][i % 5].format(i)
        (folder / name).write_text(f"unrelated content {i}\n")
    image = write_png(junk / "batch3" / "grab.png", 5)
    totals: set[int] = set()
    result = scan_paths([junk], progress=lambda done, total, path: totals.add(total))
    assert paths_of(result) == [image]
    assert result.problems == ()
    assert result.skipped == 3000
    assert max(totals) == 3000 - 600 + 1  # hidden files are not even counted as work


def test_progress_reports_every_file_against_a_known_total(tmp_path):
    written = [write_png(tmp_path / "set" / f"g{i}.png", i) for i in range(5)]
    (tmp_path / "set" / "notes.txt").write_text("x")
    calls: list[tuple[int, int, Path]] = []
    scan_paths([tmp_path / "set"], progress=lambda d, t, p: calls.append((d, t, p)))
    listing = [c for c in calls if c[1] == 0]
    work = [c for c in calls if c[1] > 0]
    assert listing == [(0, 0, tmp_path / "set")]
    assert calls.index(work[0]) > calls.index(listing[-1])
    assert [d for d, _, _ in work] == list(range(1, 7))
    assert {t for _, t, _ in work} == {6}
    assert {p for _, _, p in work} == {*written, tmp_path / "set" / "notes.txt"}


def test_cancel_after_some_files_keeps_what_was_loaded(tmp_path):
    written = [write_png(tmp_path / f"g{i:02d}.png", i) for i in range(10)]
    handled: list[Path] = []
    result = scan_paths(
        [tmp_path],
        progress=lambda d, t, p: handled.append(p) if t else None,
        cancelled=lambda: len(handled) >= 3,
    )
    assert result.cancelled
    assert paths_of(result) == written[:3]
    np.testing.assert_array_equal(result.sources[2].frame(0), grab(2))


def test_cancel_while_listing(tmp_path):
    write_png(tmp_path / "a" / "g.png", 1)
    result = scan_paths([tmp_path], cancelled=lambda: True)
    assert result.cancelled and result.sources == () and result.problems == ()


# -- file-system oddities ---------------------------------------------------------------------
def test_symbolic_link_loops_and_duplicate_links_end_and_count_once(tmp_path):
    root = tmp_path / "root"
    inner = write_png(root / "a" / "inner.png", 1)
    b = write_png(root / "b.png", 2)
    (root / "a" / "loop").symlink_to(root, target_is_directory=True)
    (root / "c.png").symlink_to(b)
    (root / "dangling.png").symlink_to(root / "nowhere.png")
    result = scan_paths([root, root / "a"])
    assert sorted(paths_of(result)) == sorted([inner, b])
    assert result.problems == ()


def test_a_named_pipe_is_skipped_without_hanging(tmp_path):
    os.mkfifo(tmp_path / "pipe.dcm")
    image = write_png(tmp_path / "grab.png", 1)
    result = scan_paths([tmp_path])
    assert paths_of(result) == [image]
    assert result.skipped == 1


def test_natural_order():
    names = ["img10.png", "img2.png", "IMG1.png", "img2b.png"]
    assert sorted(names, key=lambda n: natural_key(Path(n))) == [
        "IMG1.png",
        "img2.png",
        "img2b.png",
        "img10.png",
    ]


def test_links_out_of_the_chosen_folder_are_not_followed(tmp_path):
    """A 'parent -> ..' link, or one to another patient's folder, must not import what lies
    outside the folder the clinician chose; links that stay inside it still count."""
    outside = write_png(tmp_path / "other-patient" / "theirs.png", 9)
    sibling = write_png(tmp_path / "sibling.png", 8)
    root = tmp_path / "chosen"
    mine = write_png(root / "mine.png", 1)
    (root / "parent").symlink_to("..", target_is_directory=True)
    (root / "theirs-folder").symlink_to(outside.parent, target_is_directory=True)
    (root / "theirs.png").symlink_to(outside)
    (root / "again.png").symlink_to(mine)  # inside: the same file, counted once
    result = scan_paths([root])
    assert [Path(os.path.realpath(p)) for p in paths_of(result)] == [mine.resolve()]
    assert result.problems == ()
    assert result.skipped == 3
    assert sibling not in paths_of(result)


def test_a_dicomdir_entry_that_links_out_of_its_folder_is_not_read(tmp_path):
    """DICOMDIR file IDs may not leave the folder, and neither may a link they name."""
    root = tmp_path / "cd"
    shutil.copytree(Path(pydicom_file("DICOMDIR")).parent, root)
    listed = next(p for p in sorted(root.rglob("*")) if p.is_file() and p.name != "DICOMDIR")
    outside = tmp_path / "elsewhere.dcm"
    listed.replace(outside)
    listed.symlink_to(outside)
    result = scan_paths([root / "DICOMDIR"])
    assert outside not in [Path(os.path.realpath(p)) for p in paths_of(result)]
    assert listed not in paths_of(result)
    assert len(paths_of(result)) == DICOMDIR_IMAGES - 1
