"""Cine speed and memory: first frame, frame steps and scrubbing through the viewer's display path.

Generates (once, cached in benchmarks/data/) a 600-frame 800x600 YBR_FULL_422 JPEG Baseline
cine and its uncompressed RGB twin, then measures each in fresh subprocesses (clean peak-memory
figures): our path (open_image, FrameCache, apply_display, QPixmap from the numpy buffer) and
pydicom's `dcmread(path).pixel_array`. Prints a table and writes benchmarks/results/cine.json.

    python benchmarks/bench_cine.py [--frames 600] [--regenerate] [--data DIR] [--smoke]

`--smoke` is the test suite's check that the benchmark still runs (a few frames, in a folder of
its own): it prints the same table but its exit status ignores the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / "data"
RESULTS = HERE / "results" / "cine.json"
ROWS, COLUMNS = 600, 800
GENERATOR_VERSION = 1  # bump when the synthetic cine changes, to regenerate the cache
SCRUB_SAMPLES = 120
#: Frames the cine controller asks the cache to prefetch ahead while playing.
PREFETCH_AHEAD = 8

TARGET_FIRST_FRAME_MS = 100.0
TARGET_RATIO = 30.0
TARGET_STEP_P95_MS = 16.0
TARGET_PEAK_MB = 500.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# -- the cines ------------------------------------------------------------------------------
def cine_paths(frames: int, data: Path = DATA) -> dict[str, Path]:
    stem = f"cine_{frames}f_{COLUMNS}x{ROWS}_v{GENERATOR_VERSION}"
    return {
        "YBR_FULL_422 JPEG Baseline": data / f"{stem}_ybr422_jpeg.dcm",
        "RGB uncompressed": data / f"{stem}_rgb.dcm",
    }


def ensure_cines(frames: int, regenerate: bool, data: Path = DATA) -> dict[str, Path]:
    sys.path.insert(0, str(REPO))  # the synthetic scanner is test tooling: tests.synthetic
    from tests.synthetic.files import write_ultrasound_dicom
    from tests.synthetic.scanner import PixelEncoding, SyntheticScanner, benchmark_exam

    paths = cine_paths(frames, data)
    encodings = dict(zip(paths, (PixelEncoding.YBR_FULL_422_JPEG, PixelEncoding.RGB), strict=True))
    data.mkdir(parents=True, exist_ok=True)
    for label, path in paths.items():
        if path.exists() and not regenerate:
            continue
        print(f"generating {path.name} ({frames} frames) ...", flush=True)
        t0 = time.perf_counter()
        scanner = SyntheticScanner(benchmark_exam(ROWS, COLUMNS))
        partial = path.with_suffix(".partial")
        write_ultrasound_dicom(partial, scanner, encodings[label], frames, jpeg_quality=90)
        partial.replace(path)
        print(f"  {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.0f} s")
    return paths


# -- measurements, each run in a fresh interpreter ------------------------------------------
def measure_viewer(path: Path) -> dict[str, Any]:
    """First frame, paced playback steps and random scrubbing through the display path."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication, QPixmap

    from prolo_planner.core.display import DisplaySettings, apply_display
    from prolo_planner.imaging.frame_cache import FrameCache
    from prolo_planner.imaging.open import open_image
    from prolo_planner.render.qimage import frame_to_pixmap
    from prolo_planner.ui.viewer_pane import CACHE_BUDGET_BYTES

    app = QGuiApplication([])  # QPixmap needs one
    # open_image imports its readers on first use; the app pays that once at start-up, not
    # per file, so it is timed apart from the first frame.
    t0 = time.perf_counter()
    import prolo_planner.imaging.dicom  # noqa: F401

    import_ms = (time.perf_counter() - t0) * 1000.0
    baseline_mb = _peak_rss_mb()
    # A window the clinician has adjusted: the display path then runs the lookup table too.
    settings = DisplaySettings(level=120.0, width=200.0)

    def show(cache: FrameCache, index: int) -> QPixmap:
        return frame_to_pixmap(apply_display(cache.get(index), settings))

    t0 = time.perf_counter()
    source = open_image(path)
    cache = FrameCache(source, budget_bytes=CACHE_BUDGET_BYTES)
    pixmap = show(cache, 0)
    first_ms = (time.perf_counter() - t0) * 1000.0
    assert not pixmap.isNull()
    n = source.frame_count
    peaks = {"after_first_frame": _peak_rss_mb()}

    # Playback at the file's frame rate, prefetching ahead as the cine controller does.
    frame_s = source.timing.nominal_ms / 1000.0
    steps: list[float] = []
    due = time.perf_counter()
    for index in range(1, n):
        cache.prefetch([j for j in range(index, index + PREFETCH_AHEAD) if j < n])
        due += frame_s
        time.sleep(max(0.0, due - time.perf_counter()))
        t = time.perf_counter()
        show(cache, index)
        steps.append((time.perf_counter() - t) * 1000.0)
    peaks["after_playback"] = _peak_rss_mb()

    # Scrubbing: the slider dragged to frames far apart, no prefetch to help.
    rng = random.Random(7)
    scrub: list[float] = []
    for _ in range(SCRUB_SAMPLES):
        index = rng.randrange(n)
        t = time.perf_counter()
        show(cache, index)
        scrub.append((time.perf_counter() - t) * 1000.0)
    peaks["after_scrub"] = _peak_rss_mb()
    cache.close()
    source.close()
    del app
    return {
        "frames": n,
        "reader_import_ms": import_ms,
        "first_frame_ms": first_ms,
        "step_p50_ms": _percentile(steps, 50),
        "step_p95_ms": _percentile(steps, 95),
        "step_max_ms": max(steps),
        "scrub_p50_ms": _percentile(scrub, 50),
        "scrub_p95_ms": _percentile(scrub, 95),
        "baseline_rss_mb": baseline_mb,
        "peak_rss_mb": _peak_rss_mb(),
        "peak_rss_by_phase_mb": peaks,
        "cache_budget_mb": CACHE_BUDGET_BYTES / 2**20,
    }


def measure_pydicom(path: Path) -> dict[str, Any]:
    """pydicom's whole-cine decode, the way a naive viewer would load the file."""
    import pydicom
    from pydicom.pixels import get_decoder

    baseline_mb = _peak_rss_mb()
    t0 = time.perf_counter()
    ds = pydicom.dcmread(path)
    pixels = ds.pixel_array
    seconds = time.perf_counter() - t0
    syntax = ds.file_meta.TransferSyntaxUID
    plugins = list(get_decoder(syntax).available_plugins) if syntax.is_compressed else []
    return {
        "full_decode_ms": seconds * 1000.0,
        "decoder_plugins": plugins,
        "shape": list(pixels.shape),
        "baseline_rss_mb": baseline_mb,
        "peak_rss_mb": _peak_rss_mb(),
    }


def run_child(kind: str, path: Path) -> dict[str, Any]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, __file__, f"--measure-{kind}", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{kind} measurement of {path.name} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- report ---------------------------------------------------------------------------------
def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for label, r in results.items():
        ours, naive = r["viewer"], r["pydicom"]
        first, full = float(ours["first_frame_ms"]), float(naive["full_decode_ms"])
        phases = ours["peak_rss_by_phase_mb"]
        ratio = full / first
        rows = [
            (
                "time to first frame",
                f"{first:.1f} ms",
                f"< {TARGET_FIRST_FRAME_MS:.0f} ms",
                first < TARGET_FIRST_FRAME_MS,
            ),
            ("pydicom full decode", f"{full:.0f} ms", "", None),
            (
                "full decode / first frame",
                f"{ratio:.0f}x",
                f">= {TARGET_RATIO:.0f}x",
                ratio >= TARGET_RATIO,
            ),
            ("playback step p50", f"{float(ours['step_p50_ms']):.2f} ms", "", None),
            (
                "playback step p95",
                f"{float(ours['step_p95_ms']):.2f} ms",
                f"< {TARGET_STEP_P95_MS:.0f} ms",
                float(ours["step_p95_ms"]) < TARGET_STEP_P95_MS,
            ),
            ("scrub (random frame) p50", f"{float(ours['scrub_p50_ms']):.2f} ms", "", None),
            ("scrub (random frame) p95", f"{float(ours['scrub_p95_ms']):.2f} ms", "", None),
            (
                "reader modules import (once per run)",
                f"{float(ours['reader_import_ms']):.0f} ms",
                "",
                None,
            ),
            ("peak memory after playback", f"{phases['after_playback']:.0f} MB", "", None),
            (
                "peak memory, our viewer path",
                f"{float(ours['peak_rss_mb']):.0f} MB",
                f"< {TARGET_PEAK_MB:.0f} MB",
                float(ours["peak_rss_mb"]) < TARGET_PEAK_MB,
            ),
            ("peak memory, pydicom pixel_array", f"{float(naive['peak_rss_mb']):.0f} MB", "", None),
        ]
        lines.append(
            f"{label}: {ours['frames']} frames {COLUMNS}x{ROWS}, {r['file_mb']:.0f} MB file"
        )
        lines.append(f"  {'measure':36} {'value':>10}   {'target':>10}")
        for name, value, target, ok in rows:
            verdict = "" if ok is None else _verdict(ok)
            lines.append(f"  {name:36} {value:>10}   {target:>10}  {verdict}")
            if ok is not None:
                r.setdefault("checks", {})[name] = {"value": value, "target": target, "pass": ok}
        lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument("--data", type=Path, default=DATA, help="where the cines are kept")
    parser.add_argument(
        "--smoke", action="store_true", help="check that it runs; the exit status ignores targets"
    )
    parser.add_argument("--measure-viewer", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--measure-pydicom", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_viewer:
        print(json.dumps(measure_viewer(args.measure_viewer)))
        return 0
    if args.measure_pydicom:
        print(json.dumps(measure_pydicom(args.measure_pydicom)))
        return 0

    paths = ensure_cines(args.frames, args.regenerate, args.data)
    results: dict[str, dict[str, Any]] = {}
    for label, path in paths.items():
        print(f"measuring {label} ...", flush=True)
        results[label] = {
            "file": path.name,
            "file_mb": path.stat().st_size / 1e6,
            "viewer": run_child("viewer", path),
            "pydicom": run_child("pydicom", path),
        }
    lines = report(results)
    print("\n" + "\n".join(lines))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=2) + "\n")
    print(f"wrote {args.json}")
    all_pass = all(c["pass"] for r in results.values() for c in r.get("checks", {}).values())
    return 0 if all_pass or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
