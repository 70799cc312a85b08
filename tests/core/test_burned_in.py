"""The scanner's burned-in text found where the synthetic scanner wrote it (tests/synthetic:
the banner, the settings column, the depth scale's numbers, the view's name) and nowhere in
the ultrasound; in real scanners' files, where they wrote their banners and settings."""

from __future__ import annotations

import numpy as np
import pytest

from prolo_planner.imaging.burned_in import burned_in_text
from prolo_planner.imaging.open import open_image
from prolo_planner.resources import sample_images_dir
from tests.conftest import pydicom_file

SAMPLES = sample_images_dir()


def covered(boxes, x: float, y: float) -> bool:
    return any(b[0] - 2 <= x <= b[2] + 2 and b[1] - 2 <= y <= b[3] + 2 for b in boxes)


@pytest.mark.parametrize("name", ["lumbar_long_axis_rgb.dcm", "lumbar_long_axis_clip.mp4"])
def test_the_synthetic_scanners_text_is_found(name: str) -> None:
    source = open_image(SAMPLES / name)
    frame = source.frame(0)
    boxes = burned_in_text(frame, source.calibration)
    source.close()
    # Where tests/synthetic/scanner.py writes (cv2.putText's origin is the baseline's left):
    # the patient line at (8, 18), the scanner line at (8, 37), the date at (columns - 160,
    # 18), the settings from (6, 44 + 28) every 18 rows, "cm" over the depth scale, the
    # view's name at the bottom left of its field of view.
    rows, columns = frame.shape[:2]
    for x, y in ((12, 14), (60, 14), (12, 33), (columns - 140, 14)):
        assert covered(boxes, x, y), (name, x, y)
    for k in range(9):
        assert covered(boxes, 10, 44 + 28 + 18 * k - 4), (name, k)
    assert covered(boxes, 96, rows - 10)  # "L3-L5 LONG"
    # Nothing in the ultrasound itself: the middle of the fan, tissue and shadow alike.
    for x, y in ((342, 150), (342, 300), (250, 250), (430, 400)):
        assert not covered(boxes, x, y), (name, x, y)
    # Words, not the whole frame: a few dozen small boxes.
    assert 20 <= len(boxes) <= 60
    assert all(b[3] - b[1] <= 40 for b in boxes)


@pytest.mark.parametrize(
    "name, words",
    [
        # Read off the frames by eye: where each scanner wrote.
        ("US1_UNCR.dcm", {"BAPTIST": (50, 32), "LYMPH": (270, 368), "TIS<0.4": (420, 465),
                          "MSCSKEL": (585, 48), "IM#2": (35, 96)}),
        ("gdcm-US-ALOKA-16.dcm", {"3:PELVIS": (60, 462), "9123": (55, 437),
                                  "DVA: 94%": (610, 462)}),
    ],
)  # fmt: skip
def test_a_real_scanners_text_is_found(name: str, words: dict) -> None:
    source = open_image(pydicom_file(name))
    boxes = burned_in_text(source.frame(0), source.calibration)
    source.close()
    for word, (x, y) in words.items():
        assert covered(boxes, x, y), (name, word)
    # The middle of the picture is ultrasound, not text.
    assert not covered(boxes, 320, 300) and not covered(boxes, 160, 300)


def test_a_black_or_a_grey_frame_has_nothing() -> None:
    assert burned_in_text(np.zeros((120, 160), np.uint8)) == ()
    assert burned_in_text(np.full((120, 160, 3), 128, np.uint8)) == ()
