"""Fuzz the commands with thousands of mutated real files and print the figures.

    .venv/bin/python scripts/fuzz.py [COUNT] [--seed N] [--keep DIR]

The suite's tests/core/test_fuzz.py runs a few hundred inputs; this runs as many as asked and
prints inputs, clean refusals, tracebacks, crashes, hangs, unclear stderr and peak memory, with
the commonest reasons. Set PYTHONPATH to another checkout's src to measure that version instead.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz import corpus, harness  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=2000, help="mutated inputs")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--keep", type=Path, help="build the inputs here and keep them")
    parser.add_argument("--hang", type=float, default=60.0, help="seconds without progress")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="prolo-fuzz-"))
    try:
        inputs = corpus.build(work / "inputs", args.count, seed=args.seed)
        report = harness.run(inputs, work, hang_s=args.hang)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(report.summary())
    for kind in ("tracebacks", "crashes", "hangs", "unclear"):
        for item in getattr(report, kind):
            print(f"  {kind[:-1]}: {item[:400]}")
    print("commonest reasons for a refusal:")
    for reason, n in sorted(report.reasons.items(), key=lambda kv: -kv[1])[:25]:
        print(f"  {n:5d}  {reason}")
    bad = report.tracebacks or report.crashes or report.hangs or report.unclear
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
