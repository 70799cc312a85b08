"""Choosing the reader: content over suffix, clear refusals for what is no image."""

from __future__ import annotations

import shutil

import pytest

from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.open import classify, open_image
from prolo_planner.imaging.source import SourceKind
from tests.conftest import pydicom_file


def test_a_dicom_file_named_png_opens_as_dicom(tmp_path):
    path = tmp_path / "export.png"
    shutil.copy(pydicom_file("examples_ybr_color.dcm"), path)
    assert classify(path) is SourceKind.DICOM
    source = open_image(path)
    assert source.info.kind is SourceKind.DICOM
    assert source.frame(0).shape == (240, 320, 3)


@pytest.mark.parametrize("name", ["ExplVR_LitEndNoMeta.dcm", "ExplVR_BigEndNoMeta.dcm"])
def test_dicom_without_meta_header_is_recognised(tmp_path, name):
    path = tmp_path / "IMG0001"
    shutil.copy(pydicom_file(name), path)
    assert classify(path) is SourceKind.DICOM


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("notes.txt", b"patient notes, not an image", "not an image Prolo Planner reads"),
        ("blank.dcm", b"", "empty file (0 bytes)"),
        ("DICOMDIR", b"\0" * 200, "DICOMDIR"),
    ],
)
def test_what_is_no_image_is_refused_with_the_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageLoadError) as caught:
        open_image(path)
    assert caught.value.path == path
    assert reason in caught.value.reason


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageLoadError, match="file not found"):
        open_image(tmp_path / "gone.dcm")
    with pytest.raises(ImageLoadError, match="is a folder"):
        open_image(tmp_path)
