"""The PDF session report read back as the chart's reader would: its text (poppler's pdftotext)
holds the sites table with the plan's measured values, the totals, the warnings and whether
each was acknowledged, page numbers that add up, the key images, and nothing identifying once
de-identified."""

from __future__ import annotations

import dataclasses
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from prolo_planner.core.acknowledged import acknowledged_keys, with_acknowledged
from prolo_planner.core.dose import session_dose
from prolo_planner.core.geometry import Point
from prolo_planner.core.overlay import measurement_text
from prolo_planner.core.plan import Injectate, NeedlePath, Target
from prolo_planner.export.deidentify import PseudonymKey
from prolo_planner.report.content import PainEntry, report_content
from prolo_planner.report.header import ReportHeader
from prolo_planner.report.pdf import write_report
from prolo_planner.report.plan_images import PlanImages
from tests.core.export_support import plan_on_samples


def poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.fail(f"{tool} is not installed (Debian package poppler-utils)", pytrace=False)
    return found


def pdf_text(path: Path, layout: bool = True) -> str:
    """The text laid out as on the page, or (layout False) in the order it was written, which
    keeps a table cell's wrapped lines together."""
    args = [poppler("pdftotext"), "-layout" if layout else "-raw", str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def pdf_pages(path: Path) -> int:
    run = subprocess.run(
        [poppler("pdfinfo"), str(path)], capture_output=True, text=True, check=True, timeout=60
    )
    return int(re.search(r"^Pages:\s+(\d+)", run.stdout, re.M).group(1))


def pdf_image_count(path: Path) -> int:
    run = subprocess.run(
        [poppler("pdfimages"), "-list", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return sum(1 for line in run.stdout.splitlines()[2:] if " image " in line)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    s = plan_on_samples()
    # The clinician read and accepted one warning: the too-short needle to the L3 spinous tip.
    with PlanImages.open(s.plan) as images:
        short = next(w for w in images.warnings if "too short" in w.message and "L3" in w.message)
    plan = with_acknowledged(s.plan, [short])
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    with PlanImages.open(plan) as images:
        header = ReportHeader.from_dataset(images.dataset(plan.images[0].id), plan.title)
        pain = (PainEntry("2024-02-20", "#1", 6, 4), PainEntry("2024-03-14", "#2", 4, 2, True))
        content = report_content(images, header, pain=pain)
        write_report(content, path)
        warnings = images.warnings
    return s, plan, path, warnings, short


def test_the_sites_table_holds_the_measured_values(report) -> None:
    s, plan, path, _, _ = report
    text = pdf_text(path)
    lines = text.splitlines()
    for n, target in enumerate(plan.targets(), start=1):
        row = next(line for line in lines if re.match(rf"^{n}\s+\S", line))
        values = [target.name.split()[0], target.kind.value.split()[0]]
        depth = s.measurements.target_depths.get(target.id)
        values.append(measurement_text(depth) if depth else "not")
        for path_ in plan.paths_to(target.id):
            geometry = s.measurements.path(path_.id)
            values += [measurement_text(geometry.length), measurement_text(geometry.angle_deg)]
        values.append(f"{target.injectate.volume_ml:.1f} mL")
        found = row
        for value in values:  # each value in its column, left to right
            assert value in found, (value, row)
            found = found[found.index(value) + len(value) :]
    flat = " ".join(pdf_text(path, layout=False).split())
    assert "15 % dextrose + 0.2 % lidocaine" in flat
    assert "25 % dextrose + 1 % procaine" in flat
    dose = session_dose(plan.targets())
    assert f"{dose.total_ml:.1f} mL in total, dextrose {dose.dextrose_g:.2f} g" in flat
    assert f"Lidocaine {dose.anaesthetic_mg['lidocaine']:.0f} mg (" in flat
    assert "clinic limit 4.5 mg/kg, at most 300 mg" in flat


def test_patient_session_pain_and_signature(report) -> None:
    _, _, path, _, _ = report
    flat = " ".join(pdf_text(path, layout=False).split())
    assert "Prolotherapy session report" in flat
    assert "DEMO, Alex" in flat and "DEMO-0001" in flat and "1971-05-20" in flat
    assert "Sex other" in flat  # the file's PatientSex O, in words
    assert "Weight 70 kg" in flat  # the plan's weight, which its mg/kg checks used
    assert "Session #2, 2024-03-14: before 4, after 2 (this session)" in flat
    assert "Session #1, 2024-02-20: before 6, after 4" in flat
    assert "Signature" in flat and "Draft, not signed" in flat
    assert "1. L4-L5 supraspinous ligament: pepper the spinous tip" in flat  # the site's note


def test_warnings_say_whether_they_were_acknowledged(report) -> None:
    _, plan, path, warnings, short = report
    assert len(acknowledged_keys(plan)) == 1
    text = pdf_text(path)
    flat = " ".join(text.split())
    assert f"{len(warnings)} warning(s), 1 acknowledged by the clinician." in flat
    lines = text.splitlines()
    for w in warnings:
        first_words = " ".join(w.message.split()[:5])
        line = next(line for line in lines if first_words in " ".join(line.split()))
        state = line.split(first_words.split()[0])[0]
        if w == short:
            assert "acknowledged" in state and "NOT" not in state, line
        else:
            assert "NOT" in state, line


def test_pages_are_numbered_and_carry_the_key_images(report) -> None:
    s, _, path, _, _ = report
    pages = pdf_pages(path)
    text = pdf_text(path)
    assert pages >= 2
    for n in range(1, pages + 1):
        assert f"Page {n} of {pages}" in text
    assert f"Page {pages + 1} of" not in text
    assert pdf_image_count(path) == 2  # the lumbar still and frame 8 of the hip cine
    assert "hip_anterior_cine_ybr422_jpeg.dcm, frame 8 of 50" in text
    assert path.read_bytes().startswith(b"%PDF")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_long_table_goes_on_with_its_headings(tmp_path: Path) -> None:
    s = plan_on_samples()
    image = s.plan.images[0]
    more = []
    for i in range(45):
        t = Target(
            image.id,
            Point(120 + 8 * (i % 50), 150 + i),
            name=f"site {i + 1:02d}",
            injectate=Injectate(volume_ml=0.5),
        )
        more += [t, NeedlePath(image.id, Point(110 + 8 * (i % 50), 90), t.id)]
    plan = dataclasses.replace(s.plan, annotations=s.plan.annotations + tuple(more))
    with PlanImages.open(plan) as images:
        header = ReportHeader.from_dataset(images.dataset(image.id))
        write_report(report_content(images, header), tmp_path / "long.pdf")
    text = pdf_text(tmp_path / "long.pdf")
    pages = text.split("\f")
    table_pages = [p for p in pages if re.search(r"#\s+Target\s+Kind\s+Depth", p)]
    assert len(table_pages) >= 2  # the headings again where the table goes on
    flat = " ".join(text.split())
    assert "site 45" in text and "48 sites counted" in flat  # the unplaced one apart
    assert "Not placed on an image, not in the totals: 1 site, 1.0 mL" in flat


def test_a_deidentified_report_names_nobody(tmp_path: Path) -> None:
    s = plan_on_samples()
    key = PseudonymKey(b"k" * 32)
    with PlanImages.open(s.plan) as images:
        ds = images.dataset(s.plan.images[0].id)
        header = ReportHeader.from_dataset(ds, s.plan.title).deidentified(key)
        write_report(report_content(images, header), tmp_path / "anon.pdf")
    flat = " ".join(pdf_text(tmp_path / "anon.pdf", layout=False).split())
    for identifier in ("DEMO", "Alex", "DEMO-0001", "1971-05-20", "2024-03-14", "pepper"):
        assert identifier not in flat
    assert f"ANON-{header.pseudonym}" in flat and "De-identified for teaching" in flat


def test_sex_codes_are_printed_as_words(tmp_path: Path) -> None:
    """DICOM's O reads as "other" on the report, never as a bare letter."""
    s = plan_on_samples()
    path = tmp_path / "report.pdf"
    with PlanImages.open(s.plan) as images:
        header = ReportHeader.from_dataset(images.dataset(s.plan.images[0].id), s.plan.title)
        header = dataclasses.replace(header, sex="O")
        write_report(report_content(images, header), path)
    flat = " ".join(pdf_text(path, layout=False).split())
    assert "Sex other" in flat and "Sex O " not in flat
    assert "· other" in header.patient_line
