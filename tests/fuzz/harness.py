"""Runs the fuzz worker over a corpus and judges every run: one clear line per bad file, no
traceback, no crash by signal, no hang, and the memory it took.

The worker (driver.py) runs in a subprocess whose peak memory is read from the kernel; a worker
killed by a signal or silent past the hang limit is counted against the input it was on and
restarted after it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: Lines `export` prints on stderr besides its one-line verdict: progress and what is missing.
_EXPORT_CHATTER = re.compile(r"^(\[\d+/\d+\] |missing: |note: |not sent: )")


@dataclass
class FuzzReport:
    inputs: int = 0
    #: Inputs some command refused with exactly one clear line (the others were read whole).
    clean_errors: int = 0
    tracebacks: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    #: Inputs whose stderr was not one clear line per refusal, with what was printed.
    unclear: list[str] = field(default_factory=list)
    peak_mb: float = 0.0
    peak_input: str = ""
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)
    #: Each input's verdict lines, command by command ("" where the command succeeded).
    outcomes: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.inputs} inputs in {self.seconds:.0f} s: {self.clean_errors} refused with one "
            f"clear line, {len(self.tracebacks)} tracebacks, {len(self.crashes)} crashes, "
            f"{len(self.hangs)} hangs, {len(self.unclear)} unclear; peak memory "
            f"{self.peak_mb:.0f} MB ({Path(self.peak_input).name})"
        )


def judge(path: str, runs: list[dict], report: FuzzReport) -> None:
    refused = False
    outcome = report.outcomes.setdefault(path, [])
    for run in runs:
        outcome.append(next(iter(_verdicts(run)), "") if not run["traceback"] else "traceback")
        if run["traceback"]:
            report.tracebacks.append(f"{path}: {run['argv'][0]}: {run['traceback'][-600:]}")
            continue
        lines = [ln for ln in str(run["stderr"]).splitlines() if ln.strip()]
        verdicts = _verdicts(run)
        other = [ln for ln in lines if not ln.startswith("prolo-planner: ")]
        if run["argv"][0] == "export":
            other = [ln for ln in other if not _EXPORT_CHATTER.match(ln)]
        status = run["status"]
        clear = not other and (
            (status == 0 and not verdicts)
            or (status == 1 and len(verdicts) == 1 and len(verdicts[0]) < 500)
        )
        if not clear:
            report.unclear.append(f"{path}: {run['argv'][0]} exited {status}: {lines[:4]}")
        elif status == 1:
            refused = True
            reason = verdicts[0].split(": ")[-1]
            key = re.sub(r"\d+", "N", reason)[:70]
            report.reasons[key] = report.reasons.get(key, 0) + 1
    report.clean_errors += refused


def _verdicts(run: dict) -> list[str]:
    return [ln for ln in str(run["stderr"]).splitlines() if ln.startswith("prolo-planner: ")]


def run(inputs: list[Path], work: Path, *, hang_s: float = 60.0) -> FuzzReport:
    """Every input through the worker; restarts it after a crash or a hang."""
    report = FuzzReport(inputs=len(inputs))
    started = time.monotonic()
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PROLO_PLANNER_HOME": str(work / "home"), "QT_QPA_PLATFORM": "offscreen"}
    todo = [str(p) for p in inputs]
    attempt = 0
    while todo:
        attempt += 1
        listing, log = work / f"inputs-{attempt}.txt", work / f"report-{attempt}.jsonl"
        listing.write_text("\n".join(todo) + "\n")
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.fuzz.driver", str(listing), str(log)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        current, finished = _watch(worker, log, hang_s)
        stray = worker.stderr.read().decode(errors="replace") if worker.stderr else ""
        for path, record in finished.items():
            judge(path, record["runs"], report)
            if record["peak_mb"] > report.peak_mb:
                report.peak_mb, report.peak_input = record["peak_mb"], path
        if stray.strip() and current is None:
            report.unclear.append(f"worker stderr: {stray.strip()[:300]}")
        if current is None:
            break
        if worker.returncode is None:
            report.hangs.append(current)
            worker.kill()
            worker.wait()
        elif worker.returncode < 0:
            report.crashes.append(f"{current}: signal {-worker.returncode}")
        else:
            report.crashes.append(f"{current}: worker exited {worker.returncode}: {stray[-300:]}")
        todo = todo[todo.index(current) + 1 :]
    report.seconds = time.monotonic() - started
    return report


def _watch(worker: subprocess.Popen, log: Path, hang_s: float) -> tuple[str | None, dict]:
    """Wait for the worker; (the input it died or hung on, or None; the inputs it finished)."""
    finished: dict[str, dict] = {}
    current: str | None = None
    last_progress = time.monotonic()
    offset = 0
    while True:
        exited = worker.poll() is not None
        if log.exists():
            with log.open() as f:
                f.seek(offset)
                for line in f:
                    if not line.endswith("\n"):
                        break
                    offset += len(line.encode())
                    record = json.loads(line)
                    if "start" in record:
                        current = record["start"]
                    else:
                        finished[record["done"]] = record
                        current = None
                    last_progress = time.monotonic()
        if exited:
            return current, finished
        if current is not None and time.monotonic() - last_progress > hang_s:
            return current, finished
        time.sleep(0.05)
