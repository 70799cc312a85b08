"""stderr carries the app's own lines and nothing else: Python warnings and the libraries'
loggers go to the log, and what libpng and libjpeg print themselves goes to native.log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from prolo_planner.imaging.open import open_image
from tests.data.dicom import hostile


def test_only_the_apps_lines_reach_stderr(tmp_path: Path) -> None:
    png = hostile.png_with_bad_crc(tmp_path / "grab.png")
    jpeg = hostile.jpeg_with_extraneous_bytes(tmp_path / "grab.jpg")
    mixed = hostile.explicit_meta_implicit_data(tmp_path / "mixed.dcm")
    missing = tmp_path / "absent.dcm"
    home = tmp_path / "home"
    done = subprocess.run(
        [sys.executable, "-m", "prolo_planner", "info", str(png), str(jpeg), str(mixed)]
        + [str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PROLO_PLANNER_HOME": str(home)},
    )
    assert done.returncode == 1
    assert done.stderr == f"prolo-planner: {missing}: file not found\n"
    assert done.stdout.count("path:") == 3  # the three readable files were all described
    native = (home / "logs" / "native.log").read_text()
    assert "libpng warning: tEXt: CRC error" in native
    assert "Corrupt JPEG data: 3 extraneous bytes before marker 0xda" in native
    log = (home / "logs" / "prolo-planner.log").read_text()
    assert "Expected explicit VR, but found implicit VR" in log


def test_the_files_that_made_the_noise_read_as_they_should(tmp_path: Path) -> None:
    png = open_image(hostile.png_with_bad_crc(tmp_path / "grab.png"))
    assert (png.frame(0) == 90).all()
    jpeg = open_image(hostile.jpeg_with_extraneous_bytes(tmp_path / "grab.jpg"))
    assert np.abs(jpeg.frame(0).astype(int) - 90).max() <= 2
    mixed = open_image(hostile.explicit_meta_implicit_data(tmp_path / "mixed.dcm"))
    assert mixed.frame(0).shape == (40, 50)
