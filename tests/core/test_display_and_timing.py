"""Display window arithmetic and cine frame timing."""

from __future__ import annotations

import numpy as np
import pytest

from prolo_planner.core.display import DisplaySettings, apply_display
from prolo_planner.imaging.source import FrameTiming


def test_default_display_returns_pixels_unchanged():
    frame = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert apply_display(frame, DisplaySettings()) is frame
    assert np.array_equal(DisplaySettings().lut(), np.arange(256))


def test_narrow_window_stretches_contrast_and_clips():
    lut = DisplaySettings(level=100, width=50).lut()
    assert lut[75] == 0 and lut[125] == 255
    assert lut[100] == 128
    assert lut[0] == 0 and lut[255] == 255


def test_window_applies_to_each_channel_of_rgb():
    frame = np.full((2, 2, 3), 100, dtype=np.uint8)
    frame[..., 1] = 200
    out = apply_display(frame, DisplaySettings(level=150, width=100))
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert out[0, 0, 0] == 0 and out[0, 0, 1] == 255


def test_adjusted_clamps_width():
    s = DisplaySettings().adjusted(0, -10_000)
    assert s.width == DisplaySettings.MIN_WIDTH


def _clipped(frame: np.ndarray, settings: DisplaySettings) -> float:
    """The share of the image's tissue shown as pure black or pure white."""
    shown = apply_display(frame, settings)
    tissue = frame > 12  # the black surround of the fan is black whatever the window
    return float(np.mean((shown[tissue] == 0) | (shown[tissue] == 255)))


def test_a_120_pixel_right_drag_changes_the_image_without_washing_it_out():
    """The issue's finding: a 120 px right-drag washed the image out (one grey level per px).
    Now each direction visibly changes the picture but leaves the tissue in grey."""
    from prolo_planner.imaging.open import open_image
    from prolo_planner.resources import sample_images_dir

    source = open_image(sample_images_dir() / "lumbar_long_axis_rgb.dcm")
    frame = source.frame(0)[..., 0]
    source.close()
    tissue = frame > 12
    drags = [(120, 0), (-120, 0), (0, 120), (0, -120)]
    for dx, dy in drags:
        after = DisplaySettings().dragged(dx, dy)
        shown = apply_display(frame, after).astype(int)
        change = np.abs(shown - frame.astype(int))[tissue].mean()
        assert change > 3.0, (dx, dy, change)  # the clinician sees it work
        assert _clipped(frame, after) < 0.10, (dx, dy, after)
    # The old rule, one grey level per pixel, sent most of the tissue to black in one of them.
    old = max(_clipped(frame, DisplaySettings().adjusted(dy, dx)) for dx, dy in drags)
    assert old > 0.5


def test_a_drag_is_relative_to_the_window():
    """A narrow window is fine-tuned as easily as the full one: the same drag moves the level
    by the same share of the window, and back again to where it began."""
    narrow = DisplaySettings(level=100, width=40)
    moved = narrow.dragged(0, 100)
    assert moved.level == pytest.approx(100 + 100 * 0.001 * 40)
    wide = DisplaySettings().dragged(0, 100)
    assert wide.level == pytest.approx(127.5 + 100 * 0.001 * 255)
    there_and_back = narrow.dragged(80, 0).dragged(-80, 0)
    assert there_and_back.width == pytest.approx(narrow.width)


def test_uniform_frame_timing():
    t = FrameTiming(10, frame_time_ms=40.0)
    assert t.start_ms(3) == pytest.approx(120.0)
    assert t.frame_at(119.9) == 2
    assert t.frame_at(120.0) == 3
    assert t.frame_at(10_000) == 9
    assert t.duration_ms == pytest.approx(400.0)
    assert t.fps == pytest.approx(25.0)


def test_frame_time_vector_gives_uneven_starts():
    t = FrameTiming(4, frame_time_ms=None, frame_time_vector_ms=(0.0, 10.0, 30.0, 10.0))
    assert [t.start_ms(i) for i in range(4)] == [0.0, 10.0, 40.0, 50.0]
    assert t.frame_at(39.0) == 1


def test_unknown_timing_plays_at_30_fps():
    t = FrameTiming(5)
    assert t.fps == pytest.approx(30.0)
