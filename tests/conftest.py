"""Shared test set-up: headless Qt, a private app home, and paths to real test images."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SAMPLE_IMAGES = REPO / "sample_images"
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own settings, logs and data folder, never the user's."""
    from prolo_planner import paths

    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("PROLO_PLANNER_HOME", str(home))
    # `main(["--data-dir", ...])` sets the data folder for the rest of the process.
    monkeypatch.setattr(paths, "_data_dir_override", None)
    return home


def pydicom_file(name: str) -> Path:
    """A real DICOM file from pydicom's bundled test data."""
    from pydicom.data import get_testdata_file

    found = get_testdata_file(name)
    assert found is not None, f"pydicom test file {name} is missing"
    return Path(str(found))
