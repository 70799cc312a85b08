"""The fuzz run's worker process: every input through `info`, `render` (first and last frame) or,
for plan files, `export --plan`, exactly as the command runs them, in one process.

Run as `python -m tests.fuzz.driver LIST REPORT`: LIST names one input per line; REPORT gets
one JSON line when an input starts and one when it is done (what each command returned and
printed on stderr, the process's peak and current memory). A crash or a hang shows as a start
without its end; the parent (harness.py) restarts the worker after it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import tempfile
import traceback
from pathlib import Path


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    """The process's own peak resident memory (VmHWM). Not getrusage's ru_maxrss: Linux carries
    that over from the parent through fork and exec, so a worker started by a large pytest
    process would report the parent's size."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _run(argv: list[str]) -> dict[str, object]:
    """One command as `prolo-planner ARGV` runs it; what it returned and printed."""
    from prolo_planner.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv)
        tb = ""
    except SystemExit as exc:  # argparse
        status, tb = exc.code if isinstance(exc.code, int) else 2, ""
    except BaseException:  # what the command let escape: the traceback a user would see
        status, tb = -1, traceback.format_exc()
    return {"argv": argv, "status": status, "stderr": err.getvalue(), "stdout": out.getvalue(),
            "traceback": tb}  # fmt: skip


def handle(path: Path, scratch: Path) -> list[dict[str, object]]:
    if path.suffix == ".json":
        return [_run(["export", "--plan", str(path), "--format", "pdf", "--out", str(scratch)])]
    info = _run(["info", "--json", str(path)])
    runs = [info]
    frames = 1
    with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
        frames = int(json.loads(str(info["stdout"]))[0]["frames"])
    png = scratch / "frame.png"
    for index in sorted({0, max(0, frames - 1)}):
        runs.append(_run(["render", str(path), "--frame", str(index), "--out", str(png)]))
    for run in runs:
        run.pop("stdout")
    return runs


def main(list_file: str, report_file: str) -> None:
    from prolo_planner import logs

    # As the command's own process does: C libraries' output to native.log, not stderr. What
    # the commands print on stderr is captured per run (sys.stderr), so any other line shows.
    # (An older version without it, run for comparison, prints that output on the worker's
    # stderr, where the harness finds it.)
    if hasattr(logs, "divert_library_output"):
        logs.divert_library_output()
    limit_mb = int(os.environ.get("FUZZ_ADDRESS_LIMIT_MB", "0"))
    if limit_mb:  # a safety net for runs of versions without the read limits
        resource.setrlimit(resource.RLIMIT_AS, (limit_mb << 20, limit_mb << 20))
    inputs = [Path(line) for line in Path(list_file).read_text().splitlines() if line]
    with (
        open(report_file, "a", buffering=1) as report,
        tempfile.TemporaryDirectory(prefix="fuzz-") as tmp,
    ):
        for path in inputs:
            report.write(json.dumps({"start": str(path)}) + "\n")
            report.flush()
            runs = handle(path, Path(tmp))
            record = {"done": str(path), "runs": runs, "peak_mb": _peak_mb(), "rss_mb": _rss_mb()}
            report.write(json.dumps(record) + "\n")
            report.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
