"""The headless command line: `info` and `render` on real files, good and bad."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydicom import dcmread
from pydicom.pixels import apply_color_lut

from prolo_planner.cli import main
from tests.conftest import pydicom_file

YBR_CINE = "examples_ybr_color.dcm"  # real ultrasound cine, YBR_FULL_422 JPEG Baseline
PALETTE = "examples_palette.dcm"  # real ultrasound still, PALETTE COLOR, two regions


def test_info_json_describes_a_real_ultrasound_cine(capsys):
    path = pydicom_file(YBR_CINE)
    ds = dcmread(path)
    assert main(["info", str(path), "--json"]) == 0
    (d,) = json.loads(capsys.readouterr().out)
    assert d["path"] == str(path)
    assert d["kind"] == "dicom"
    assert d["sop_class_uid"] == ds.SOPClassUID
    assert d["photometric_interpretation"] == "YBR_FULL_422"
    assert d["transfer_syntax_uid"] == ds.file_meta.TransferSyntaxUID
    assert (d["rows"], d["columns"], d["frames"]) == (ds.Rows, ds.Columns, ds.NumberOfFrames)
    assert d["frame_time_ms"] == pytest.approx(float(ds.FrameTime))
    assert d["patient_id"] == ds.PatientID
    assert d["patient_name"] == str(ds.PatientName)
    assert d["study_instance_uid"] == ds.StudyInstanceUID
    (region,) = d["calibration"]["regions"]
    (src,) = ds.SequenceOfUltrasoundRegions
    assert region["mm_per_px_x"] == pytest.approx(10 * src.PhysicalDeltaX)
    # This real file's region runs past the 320x240 image: clamped, and said so.
    assert (region["x0"], region["y0"]) == (src.RegionLocationMinX0, src.RegionLocationMinY0)
    assert (region["x1"], region["y1"]) == (ds.Columns - 1, ds.Rows - 1)
    assert any("clamped" in n for n in d["calibration"]["notes"])


def test_info_text_names_calibration_provenance(capsys):
    assert main(["info", str(pydicom_file(PALETTE))]) == 0
    out = capsys.readouterr().out
    assert "PALETTE COLOR" in out
    assert "DICOM ultrasound regions" in out
    assert "Ultrasound Image Storage" in out


def test_info_reports_bad_files_and_still_handles_the_rest(tmp_path, capsys):
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.dcm"
    data = pydicom_file(PALETTE).read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    good = pydicom_file(YBR_CINE)
    code = main(["info", str(empty), str(good), str(truncated), "--json"])
    captured = capsys.readouterr()
    assert code != 0
    assert [d["path"] for d in json.loads(captured.out)] == [str(good)]
    lines = captured.err.strip().splitlines()
    assert len(lines) == 2
    assert str(empty) in lines[0] and "empty" in lines[0]
    assert str(truncated) in lines[1]


def test_a_reason_quoting_the_file_stays_one_line(tmp_path, capsys):
    """The fuzzer's case: a byte of the transfer syntax UID flipped into a line break. The
    reason quotes the UID; the break is shown as an escape, so the problem is one line."""
    data = bytearray(pydicom_file("JPEGLSNearLossless_16.dcm").read_bytes())
    at = data.find(b"1.2.840.10008.1.2.4.81") + 4
    data[at] = 0x0A  # "1.2.\n40.10008..."
    broken = tmp_path / "flipped.dcm"
    broken.write_bytes(bytes(data))
    assert main(["info", str(broken)]) != 0
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        f"prolo-planner: {broken}: unsupported transfer syntax unknown (1.2.\\n40.10008.1.2.4.81)"
    )


def _read_png_rgb(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert img is not None
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def test_render_cine_frame_equals_pydicom_decode(tmp_path, capsys):
    path = pydicom_file(YBR_CINE)
    out = tmp_path / "frame7.png"
    assert main(["render", str(path), "--frame", "7", "--out", str(out)]) == 0
    ds = dcmread(path)
    reference = ds.pixel_array[7]  # pydicom 3 converts YBR_FULL_422 to RGB by default
    rendered = _read_png_rgb(out)
    assert rendered.shape == reference.shape
    assert np.array_equal(rendered, reference)
    assert (out.stat().st_mode & 0o777) == 0o600


def test_render_applies_the_palette(tmp_path):
    path = pydicom_file(PALETTE)
    out = tmp_path / "palette.png"
    assert main(["render", str(path), "--out", str(out)]) == 0
    ds = dcmread(path)
    rgb = apply_color_lut(ds.pixel_array, ds)
    if rgb.dtype != np.uint8:  # 16-bit LUT entries scaled to 8 bit
        rgb = (rgb >> 8).astype(np.uint8) if rgb.max() > 255 else rgb.astype(np.uint8)
    assert np.array_equal(_read_png_rgb(out), rgb)


def test_render_refuses_a_frame_that_does_not_exist(tmp_path, capsys):
    out = tmp_path / "x.png"
    assert main(["render", str(pydicom_file(YBR_CINE)), "--frame", "999", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "frame 999 does not exist" in err and "30 frame" in err
    assert not out.exists()


def test_console_script_runs_headless(tmp_path):
    exe = Path(sys.executable).parent / "prolo-planner"
    result = subprocess.run(
        [str(exe), "info", str(pydicom_file(YBR_CINE)), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PROLO_PLANNER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["frames"] == 30


def test_a_reader_that_stops_early_ends_the_command_quietly():
    """`prolo-planner info ... | head` must not end in a BrokenPipe traceback. The output is made
    far larger than a pipe's buffer, so the write after the reader has gone really fails."""
    path = str(pydicom_file(YBR_CINE))
    proc = subprocess.Popen(
        [sys.executable, "-m", "prolo_planner", "info", *([path] * 400)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does once it has its line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141  # as a Unix tool killed by SIGPIPE
    assert first.startswith(b"path:")
    assert err == ""
