"""The metadata panel tells the clinician what the header claims and the file contradicts."""

from __future__ import annotations

from pathlib import Path

from prolo_planner.imaging.dicom import DicomSource
from prolo_planner.ui.metadata_panel import describe_rows
from tests.data.dicom import hostile


def _image_rows(source: DicomSource) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for section, items in describe_rows(source.info, source.calibration, source.calibration):
        if section == "Image":
            for label, value in items:
                rows.setdefault(label, []).append(value)
    return rows


def test_a_truncated_cine_says_so_beside_its_frame_count(tmp_path: Path) -> None:
    source = DicomSource.open(hostile.truncated_cine(tmp_path / "cut.dcm", frames=20))
    (frames,) = _image_rows(source)["Frames"]
    assert frames.startswith("20 (truncated: ") and "of 20 frame(s) are whole" in frames


def test_a_wrong_frame_count_is_a_warning_row(tmp_path: Path) -> None:
    path = hostile.lying_frame_count(tmp_path / "cine.dcm", 50, 60, encapsulated=False)
    rows = _image_rows(DicomSource.open(path))
    assert rows["Frames"] == ["50"]
    assert rows["Warning"] == [
        "Number of Frames (0028,0008) is 60 but the pixel data holds 50: 50 shown"
    ]
