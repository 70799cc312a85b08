"""The screen, the PNG, the PDF, the SR and `prolo-planner measure` agree to the last digit.

One plan on a real convex-probe file (Philips CX50, C5-1): a target off the centre beam, an
in-plane path whose entry lies beyond the image's side, and a caliper from the target to the
centre beam. The screen's labels, the exported PNG's display list (the same painter draws it),
the PDF's text, the SR's numbers and the command line's JSON carry the same values: the SR and
`measure` the very same floats, the others those floats rounded as shown.
"""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest

from prolo_planner.cli import main
from prolo_planner.core.edits import AddAnnotation
from prolo_planner.core.geometry import Point
from prolo_planner.core.measure import skin_entry
from prolo_planner.core.overlay_primitives import Label
from prolo_planner.core.plan import Caliper, NeedlePath, Target
from prolo_planner.export.sr_codes import Quantity
from prolo_planner.export.sr_import import read_report
from prolo_planner.export.structured_report import measurement_report
from prolo_planner.report.content import report_content
from prolo_planner.report.header import ReportHeader
from prolo_planner.report.pdf import write_report
from prolo_planner.report.plan_images import PlanImages
from tests.conftest import pydicom_file
from tests.core.test_report_pdf import pdf_text
from tests.ui.test_annotation_tools import make_bench

CX50 = pydicom_file("OBXXXX1A.dcm")  # 800x600, region x 120-800, y 60-518; face row 96


def labels(primitives, annotation_id: str) -> list[str]:
    return [p.text for p in primitives if isinstance(p, Label) and p.annotation_id == annotation_id]


def test_screen_png_pdf_sr_and_measure_agree(qtbot, tmp_path: Path, capsys) -> None:
    bench = make_bench(qtbot, CX50)
    try:
        c, image_id = bench.controller, bench.image_id
        target = Target(image_id, Point(600.0, 300.0), name="fetal spine")
        c.push(AddAnnotation(target))
        # In plane from beyond the image's right side, dropped onto the skin there.
        entry = skin_entry(Point(860.0, 40.0), target.position, c.calibration(image_id))
        path = NeedlePath(image_id, entry, target.id, needle_length_mm=90.0)
        caliper = Caliper(image_id, target.position, Point(460.0, 300.0))
        c.push(AddAnnotation(path))
        c.push(AddAnnotation(caliper))
        plan = c.plan
        m = c.measurements
        depth = m.target_depths[target.id].value
        length = m.path(path.id).length.value
        distance = m.calipers[caliper.id].value
        screen = {a: bench.labels(a) for a in (target.id, path.id, caliper.id)}
        assert screen[target.id] == [f"fetal spine · {depth:.1f} mm deep"]
        assert screen[path.id][0].startswith(f"{length:.1f} mm · ")
        assert screen[caliper.id] == [f"{distance:.1f} mm"]
        assert entry.x > 800  # the entry is beyond the image, on the skin
    finally:
        bench.source.close()

    with PlanImages.open(plan) as images:
        # The PNG: the export's display list, drawn by the same painter.
        (key,) = images.key_images()
        drawn = images.primitives(key)
        for annotation_id, texts in screen.items():
            assert labels(drawn, annotation_id) == texts
        # The PDF.
        header = ReportHeader.from_dataset(images.dataset(image_id), "agreement")
        pdf = tmp_path / "report.pdf"
        write_report(report_content(images, header), pdf)
        text = " ".join(pdf_text(pdf, layout=False).split())
        assert f"{depth:.1f} mm" in text and f"{length:.1f} mm" in text
        # The SR: the very floats.
        sr = measurement_report(plan, images.measurements, {image_id: images.dataset(image_id)})
    values = read_report(sr).values
    assert values[target.id][Quantity.TARGET_DEPTH] == depth
    assert values[path.id][Quantity.PATH_LENGTH] == length
    assert values[caliper.id][Quantity.CALIPER] == distance

    # The command line, through the same core: the same floats again.
    a, b = target.position, caliper.b
    assert main(["measure", str(CX50), f"{a.x},{a.y}", f"{b.x},{b.y}", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["distance_mm"] == distance
    assert found["points"][0]["depth_mm"] == depth
    assert f"{found['points'][1]['depth_mm']:.1f}" == f"{(300 - 96) * 0.2622878766196998:.1f}"
    assert "Depth zero at row 96.0: the file's header" in " ".join(found["geometry"])
    assert pydicom.dcmread(CX50).SequenceOfUltrasoundRegions[0].ReferencePixelY0 == 36


@pytest.mark.parametrize("frame", [1, -1])
def test_measure_refuses_a_frame_the_file_has_not(capsys, frame: int) -> None:
    assert main(["measure", str(CX50), "460,200", "460,300", "--frame", str(frame)]) == 2
    assert "no frame" in capsys.readouterr().err
