"""Fuzzed files through the commands as a user runs them: real scanners' files cut short, with
bytes flipped, lying transfer syntaxes, garbled VRs, garbage frames, extreme header values,
random bytes, hostile plan files, and every file-borne case of issue 15 at full size.

Nothing may end in a traceback, a signal or a hang; each file a command refuses gets exactly one
line on stderr naming it, and nothing else reaches stderr; the worker's peak memory stays well
under 1 GB. A few hundred inputs keep this to seconds; `scripts/fuzz.py` runs thousands and
prints the figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz import corpus, harness

MUTATIONS = 400
PEAK_LIMIT_MB = 600


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> harness.FuzzReport:
    work = tmp_path_factory.mktemp("fuzz")
    inputs = corpus.build(work / "inputs", MUTATIONS, seed=15)
    return harness.run(inputs, work, hang_s=60)


def test_no_traceback_no_signal_no_hang_and_one_clear_line_per_bad_file(report) -> None:
    print(report.summary())
    assert report.tracebacks == []
    assert report.crashes == []
    assert report.hangs == []
    assert report.unclear == []
    assert report.inputs > MUTATIONS and report.clean_errors > MUTATIONS // 2


def test_memory_stays_well_under_a_gigabyte(report) -> None:
    assert 0 < report.peak_mb < PEAK_LIMIT_MB, report.summary()


def _outcome(report: harness.FuzzReport, name: str) -> list[str]:
    (found,) = [v for k, v in report.outcomes.items() if Path(k).name == name]
    return found


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("issue-deflate-bomb.dcm", "inflates to more than 512 MB"),
        ("issue-jpeg-20000.dcm", "image size 20000 x 20000"),
        ("issue-jpeg-liar.dcm", "the compressed frame declares 20000 x 20000 pixels"),
        ("issue-rle-65535.dcm", "image size 65535 x 65535"),
        ("issue-png-20000.png", "image size 20000 x 20000"),
        ("issue-frames-100000.dcm", "invalid Number of Frames 100000"),
        ("issue-truncated-cine.dcm", "truncated: "),
        ("issue-plan-type-list.json", 'plan.annotations[0].type: ["target"] is not one of'),
        ("issue-plan-400-digits.json", "got a whole number of 401 digits"),
        ("issue-plan-nan-unknown-key.json", "plan.mystery: nan is not a number"),
        ("issue-plan-deep.json", "nested more than 64 levels deep"),
        ("issue-plan-5000-digits.json", "a number of more than 4300 digits"),
    ],
)
def test_every_case_of_the_issue_is_refused_in_one_line(report, name: str, expected: str) -> None:
    verdicts = [v for v in _outcome(report, name) if v]
    assert verdicts, f"{name} was not refused"
    assert expected in verdicts[0] and name in verdicts[0]


@pytest.mark.parametrize(
    "name",
    [
        "issue-frames-60.dcm",
        "issue-frames-raw.dcm",
        "issue-spacing-1e300.dcm",
        "issue-libpng-chatter.png",
        "issue-libjpeg-chatter.jpg",
        "issue-pydicom-warning.dcm",
    ],
)
def test_files_that_only_warn_are_read_quietly(report, name: str) -> None:
    assert _outcome(report, name) and not any(_outcome(report, name))
