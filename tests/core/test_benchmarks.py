"""The benchmarks still run from main: each in a tiny configuration, with its figures printed and
its JSON written, and the README's tables made from that JSON. Nothing here is timed: the
figures themselves are `make bench`'s business."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "benchmarks"


def _run(script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bench")
    small = ["--patients", "40", "--sessions", "120"]
    out = {
        "cine": _run(
            "bench_cine.py",
            "--smoke",
            "--frames",
            "3",
            "--data",
            str(folder / "data"),
            "--json",
            str(folder / "cine.json"),
        ).stdout,
        "store": _run(
            "bench_store.py",
            "--smoke",
            *small,
            "--samples",
            "10",
            "--json",
            str(folder / "store.json"),
        ).stdout,
        "startup": _run(
            "bench_startup.py",
            "--smoke",
            *small,
            "--runs",
            "1",
            "--json",
            str(folder / "startup.json"),
        ).stdout,
        "pacs": _run(
            "bench_pacs.py",
            "--smoke",
            "--sessions",
            "2",
            "--images",
            "4",
            "--patients",
            "5",
            "--json",
            str(folder / "pacs.json"),
        ).stdout,
    }
    out["edits"] = _run(
        "bench_edits.py",
        "--sizes",
        "10,20",
        "--per-image",
        "10",
        "--edits",
        "3",
        "--json",
        str(folder / "edits.json"),
    ).stdout
    (folder / "stdout.json").write_text(json.dumps(out), encoding="utf-8")
    return folder


def test_cine_benchmark_prints_its_figures(results):
    printed = json.loads((results / "stdout.json").read_text())["cine"]
    data = json.loads((results / "cine.json").read_text())
    assert set(data["results"]) == {"YBR_FULL_422 JPEG Baseline", "RGB uncompressed"}
    for r in data["results"].values():
        assert r["viewer"]["frames"] == 3
        assert r["viewer"]["first_frame_ms"] > 0 and r["pydicom"]["full_decode_ms"] > 0
        assert r["pydicom"]["shape"][:1] == [3]
    assert "time to first frame" in printed and "playback step p95" in printed


def test_store_benchmark_prints_its_figures(results):
    printed = json.loads((results / "stdout.json").read_text())["store"]
    data = json.loads((results / "store.json").read_text())
    assert data["patients"] == 40
    assert data["results"]["search"]["queries"] > 0
    assert "patient search p95" in printed


def test_startup_benchmark_opens_the_app(results):
    data = json.loads((results / "startup.json").read_text())
    assert data["clinic"]["shown"]["patients_listed"] > 0
    assert data["first_start_empty_s"] > 0


def test_pacs_benchmark_pulls_and_finds(results):
    printed = json.loads((results / "stdout.json").read_text())["pacs"]
    data = json.loads((results / "pacs.json").read_text())
    assert set(data["pull"]) == {"DIMSE C-GET", "DIMSE C-MOVE", "DICOMweb WADO-RS"}
    assert all(r["sessions"] == 2 and r["images"] == 4 for r in data["pull"].values())
    assert data["patients_on_pacs"] == 6  # the course's patient and the crowd
    assert "pull DIMSE C-GET" in printed and "find  DIMSE C-FIND" in printed


def test_edit_benchmark_prints_its_figures(results):
    printed = json.loads((results / "stdout.json").read_text())["edits"]
    data = json.loads((results / "edits.json").read_text())
    assert [(r["annotations"], r["images"]) for r in data] == [(10, 1), (20, 2)]
    assert all(r["edit_cpu_p50_ms"] > 0 for r in data)
    assert "cpu ratio" in printed and "target: 500 annotations within 2x of 10" in printed


def test_readme_tables_are_made_from_the_json(results, tmp_path):
    sys.path.insert(0, str(BENCH))
    try:
        import readme_tables
    finally:
        sys.path.remove(str(BENCH))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    text, said = readme_tables.rewrite(readme, results)
    assert all("rewritten" in line for line in said), said
    cine = json.loads((results / "cine.json").read_text())
    first = cine["results"]["RGB uncompressed"]["viewer"]["first_frame_ms"]
    assert f"| {first:.1f} ms |" in text
    store = json.loads((results / "store.json").read_text())
    assert f"{store['results']['search']['p95_ms']:.2f} ms" in text
    pacs = json.loads((results / "pacs.json").read_text())
    seconds = pacs["pull"]["DIMSE C-GET"]["seconds"]
    assert f"| pull into an empty store, DIMSE C-GET | {seconds:.1f} s |" in text
    edits = json.loads((results / "edits.json").read_text())
    assert f"| {edits[-1]['edit_cpu_p50_ms']:.1f} ms |" in text
    # Only the marked blocks change.
    outside = readme_tables.rewrite(text, tmp_path)[0]  # no JSON there: nothing rewritten
    assert outside == text
