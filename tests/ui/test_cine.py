"""Cine playback: real time from the clock, frames skipped when decoding is slow, loop and steps."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QElapsedTimer

from prolo_planner.imaging.open import open_image
from prolo_planner.imaging.source import FrameTiming, ImageSource
from prolo_planner.ui.cine import PREFETCH_AHEAD, CineBar, CineController
from tests.conftest import pydicom_file

CINE = "examples_ybr_color.dcm"  # real US cine: 30 frames of 240x320 YBR_FULL_422 JPEG, 33.3 ms


@pytest.fixture
def cine() -> Iterator[ImageSource]:
    source = open_image(pydicom_file(CINE))
    assert source.frame_count == 30 and source.timing.nominal_ms == pytest.approx(33.333)
    yield source
    source.close()


class Played:
    """Decodes every frame the controller shows (optionally slowly) and notes when it did."""

    def __init__(self, controller: CineController, source: ImageSource, decode_delay_s: float = 0):
        self.source, self.delay = source, decode_delay_s
        self.clock = QElapsedTimer()
        self.events: list[tuple[float, int]] = []
        self.frames: list[np.ndarray] = []
        controller.frame_changed.connect(self.show)

    def start(self) -> None:
        self.clock.start()

    def show(self, index: int) -> None:
        self.events.append((self.clock.nsecsElapsed() / 1e6, index))
        if self.delay:
            time.sleep(self.delay)  # a slow machine's decode
        self.frames.append(self.source.frame(index))


def _assert_frames_follow_the_clock(played: Played, timing: FrameTiming, speed: float) -> None:
    """Every frame shown is the one due at that moment of the loop (at this speed)."""
    assert played.events
    slack_ms = 35.0  # one frame period: timer and event-loop jitter
    for t, index in played.events:
        latest = timing.frame_at(t * speed)
        earliest = timing.frame_at(max(t - slack_ms, 0.0) * speed)
        assert earliest <= index <= latest, (t, index, earliest, latest)


def test_playback_follows_elapsed_time(qtbot, cine: ImageSource) -> None:
    controller = CineController()
    controller.set_source(cine.timing)
    played = Played(controller, cine)
    played.start()
    controller.play()
    assert controller.is_playing
    qtbot.waitUntil(lambda: controller.index >= 20, timeout=5000)
    controller.pause()
    _assert_frames_follow_the_clock(played, cine.timing, 1.0)
    # Each frame shown was really decoded: the last one equals the source's frame.
    np.testing.assert_array_equal(played.frames[-1], cine.frame(played.events[-1][1]))


def test_slow_decoding_skips_frames_instead_of_slowing_down(qtbot, cine: ImageSource) -> None:
    controller = CineController()
    controller.set_source(cine.timing)
    played = Played(controller, cine, decode_delay_s=0.08)  # 2.4 frame periods per frame
    played.start()
    controller.play()
    qtbot.waitUntil(lambda: controller.index >= 24, timeout=5000)
    controller.pause()
    _assert_frames_follow_the_clock(played, cine.timing, 1.0)
    shown = [i for _, i in played.events]
    assert controller.skipped_frames >= 10
    assert controller.shown_frames == len(shown)
    assert controller.shown_frames + controller.skipped_frames == shown[-1]
    assert max(np.diff(shown)) >= 2


def test_speed_two_plays_twice_as_fast(qtbot, cine: ImageSource) -> None:
    controller = CineController()
    controller.set_source(cine.timing)
    controller.set_speed(2.0)
    played = Played(controller, cine)
    played.start()
    controller.play()
    qtbot.waitUntil(lambda: controller.index >= 20, timeout=5000)
    controller.pause()
    _assert_frames_follow_the_clock(played, cine.timing, 2.0)
    controller.set_speed(100.0)
    assert controller.speed == 4.0
    controller.set_speed(0.01)
    assert controller.speed == 0.25


def test_loop_wraps_and_no_loop_stops_at_the_end(qtbot, cine: ImageSource) -> None:
    controller = CineController()
    controller.set_source(cine.timing)
    controller.set_speed(4.0)
    seen: list[int] = []
    controller.frame_changed.connect(seen.append)
    controller.play()
    qtbot.waitUntil(lambda: any(b < a for a, b in zip(seen, seen[1:], strict=False)), timeout=3000)
    assert controller.is_playing  # wrapped and went on
    controller.pause()

    controller.set_loop(False)
    controller.seek(20)
    states: list[bool] = []
    controller.playing_changed.connect(states.append)
    controller.play()
    qtbot.waitUntil(lambda: not controller.is_playing, timeout=3000)
    assert states == [True, False]
    assert controller.index == 29 and seen[-1] == 29
    # Play again from the last frame starts over from the first.
    seen.clear()
    controller.play()
    assert seen[0] == 0
    controller.pause()


def test_step_and_seek(qtbot, cine: ImageSource) -> None:
    controller = CineController()
    controller.set_source(cine.timing)
    controller.step(1)
    assert controller.index == 1
    controller.step(-1)
    assert controller.index == 0
    controller.step(-1)  # looping: round to the last frame
    assert controller.index == 29
    controller.set_loop(False)
    controller.step(5)
    assert controller.index == 29
    controller.seek(100)
    assert controller.index == 29
    controller.seek(-3)
    assert controller.index == 0
    controller.step(-1)
    assert controller.index == 0
    controller.last()
    assert controller.index == 29
    controller.first()
    assert controller.index == 0
    # Stepping pauses a playing loop.
    controller.set_loop(True)
    controller.play()
    controller.step(1)
    assert not controller.is_playing
    # Seeking while playing carries on from the new place.
    controller.play()
    controller.seek(15)
    qtbot.waitUntil(lambda: controller.index >= 17, timeout=2000)
    assert controller.is_playing
    controller.pause()


def test_next_frames_are_asked_for_ahead_in_the_direction_of_travel(cine: ImageSource) -> None:
    class Asked:
        def __init__(self) -> None:
            self.calls: list[list[int]] = []

        def prefetch(self, indices) -> None:  # noqa: ANN001
            self.calls.append(list(indices))

    asked = Asked()
    controller = CineController()
    controller.set_source(cine.timing, asked)
    assert asked.calls[-1] == list(range(1, 1 + PREFETCH_AHEAD))
    controller.seek(27)
    controller.step(-1)
    assert asked.calls[-1] == list(range(25, 25 - PREFETCH_AHEAD, -1))
    assert controller.upcoming_frames(+1)[:4] == [27, 28, 29, 0]  # round the loop
    controller.set_loop(False)
    assert controller.upcoming_frames(+1) == [27, 28, 29]
    # At 4x a 30 fps loop is due at 120 fps; a 60 Hz screen shows every other frame.
    controller.set_loop(True)
    controller.seek(0)
    controller.set_speed(4.0)
    controller._playing = True  # as while playing, without starting the clock
    assert controller.upcoming_frames(+1)[:4] == [2, 4, 6, 8]
    controller._playing = False


def test_single_frames_have_no_playback(qtbot) -> None:
    controller = CineController()
    controller.set_source(FrameTiming(1))
    bar = CineBar(controller)
    qtbot.addWidget(bar)
    controller.play()
    assert not controller.is_playing and not bar.isEnabled()
    controller.set_source(None)
    assert controller.frame_count == 0 and bar.text() == "no frames"


def test_bar_shows_and_drives_the_controller(qtbot, cine: ImageSource) -> None:
    controller = CineController()
    bar = CineBar(controller)
    qtbot.addWidget(bar)
    controller.set_source(cine.timing)
    assert bar.isEnabled() and bar.slider.maximum() == 29
    assert bar.label.text() == "frame 1 / 30 · 0.00 s / 1.00 s"
    controller.seek(12)
    assert bar.slider.value() == 12
    assert bar.label.text() == "frame 13 / 30 · 0.40 s / 1.00 s"
    bar.slider.setValue(3)  # as a drag of the slider does
    assert controller.index == 3
    bar.speed_box.setCurrentIndex(bar.speed_box.findData(2.0))
    assert controller.speed == 2.0
    bar.loop_box.setChecked(False)
    assert not controller.loop
    bar.forward_button.click()
    assert controller.index == 4
    bar.back_button.click()
    assert controller.index == 3
    bar.play_button.click()
    assert controller.is_playing
    bar.play_button.click()
    assert not controller.is_playing
