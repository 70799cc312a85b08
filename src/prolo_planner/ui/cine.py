"""Cine playback in real time (skipping frames when behind) and the bar of cine controls."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from PySide6.QtCore import QElapsedTimer, QObject, QRectF, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QWidget,
)

from prolo_planner.imaging.source import FrameTiming

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
#: How many upcoming frames are asked of the cache ahead of playback or stepping.
PREFETCH_AHEAD = 8
#: A screen shows at most this often; frames due faster than this are skipped by design.
DISPLAY_INTERVAL_MS = 1000.0 / 60.0
#: Longest wait between ticks, so a paused-then-resumed clock or a speed change is picked up.
MAX_TICK_MS = 50


class Prefetcher(Protocol):
    def prefetch(self, indices: Sequence[int]) -> None: ...


class CineController(QObject):
    """Which frame of a loop is showing, and playback driven by elapsed time.

    Playing does not count timer ticks: each tick asks the clock how much time has passed
    (times the speed), shows the frame due at that moment and skips the ones in between, so a
    slow machine plays a 3 s loop in 3 s with fewer frames rather than in 6 s.
    """

    frame_changed = Signal(int)
    playing_changed = Signal(bool)
    speed_changed = Signal(float)
    loop_changed = Signal(bool)
    source_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timing = FrameTiming(0)
        self._cache: Prefetcher | None = None
        self._index = 0
        self._playing = False
        self._speed = 1.0
        self._loop = True
        self._clock = QElapsedTimer()
        self._anchor_ms = 0.0  # loop time at which the clock last started
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        #: Frames shown while playing, and frames passed over because they were already late.
        self.shown_frames = 0
        self.skipped_frames = 0

    # -- state ----------------------------------------------------------------------------
    def set_source(self, timing: FrameTiming | None, cache: Prefetcher | None = None) -> None:
        """A new loop (or none): stops playback and shows its first frame."""
        self.pause()
        self._timing = timing if timing is not None else FrameTiming(0)
        self._cache = cache
        self._index = 0
        self.reset_counts()
        self.source_changed.emit()
        if self.frame_count:
            self.frame_changed.emit(0)
            self._prefetch(+1)

    @property
    def timing(self) -> FrameTiming:
        return self._timing

    @property
    def frame_count(self) -> int:
        return self._timing.frame_count

    @property
    def index(self) -> int:
        return self._index

    @property
    def frame(self) -> int:
        """The frame showing (same as index)."""
        return self._index

    @property
    def is_playing(self) -> bool:
        return self._playing

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def loop(self) -> bool:
        return self._loop

    def reset_counts(self) -> None:
        self.shown_frames = 0
        self.skipped_frames = 0

    def set_speed(self, speed: float) -> None:
        speed = min(max(float(speed), SPEEDS[0]), SPEEDS[-1])
        if speed == self._speed:
            return
        now = self._loop_time() if self._playing else 0.0
        self._speed = speed
        if self._playing:
            self._restart_clock(now)
        self.speed_changed.emit(speed)

    def set_loop(self, loop: bool) -> None:
        if loop == self._loop:
            return
        self._loop = loop
        self.loop_changed.emit(loop)

    # -- playback -------------------------------------------------------------------------
    def play(self) -> None:
        if self._playing or self.frame_count < 2:
            return
        if not self._loop and self._index == self.frame_count - 1:
            self._go_to(0)  # play again from the start, as a video player does
        self._playing = True
        self._restart_clock(self._timing.start_ms(self._index))
        self.playing_changed.emit(True)
        self._prefetch(+1)
        self._timer.start(self._wait_ms(self._timing.start_ms(self._index)))

    def pause(self) -> None:
        if not self._playing:
            return
        self._playing = False
        self._timer.stop()
        self.playing_changed.emit(False)

    def toggle_play(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    def seek(self, index: int) -> None:
        """Show frame `index` (clamped); playback, if on, carries on from there."""
        if not self.frame_count:
            return
        index = min(max(int(index), 0), self.frame_count - 1)
        if self._playing:
            self._restart_clock(self._timing.start_ms(index))
        self._go_to(index)

    def step(self, delta: int) -> None:
        """Pause and move `delta` frames; wraps round the loop when looping, else stops at ends."""
        n = self.frame_count
        if not n or not delta:
            return
        self.pause()
        target = self._index + delta
        target = target % n if self._loop else min(max(target, 0), n - 1)
        self._go_to(target)
        self._prefetch(1 if delta > 0 else -1)

    def first(self) -> None:
        self.seek(0)

    def last(self) -> None:
        self.seek(self.frame_count - 1)

    # -- the clock ------------------------------------------------------------------------
    def _restart_clock(self, loop_time_ms: float) -> None:
        self._anchor_ms = loop_time_ms
        self._clock.restart()

    def _loop_time(self) -> float:
        """Milliseconds into the loop now, unwrapped (may pass the loop's end)."""
        return self._anchor_ms + self._clock.nsecsElapsed() / 1e6 * self._speed

    def _tick(self) -> None:
        if not self._playing:
            return
        n, duration = self.frame_count, self._timing.duration_ms
        t = self._loop_time()
        if t >= duration:
            if not self._loop:
                self._advance_to(n - 1)
                self.pause()
                return
            t %= duration
        self._advance_to(self._timing.frame_at(t))
        if self._playing:
            # Showing the frame took time (decoding, painting): wait from now, not from then.
            now = self._loop_time()
            ended = now >= duration and not self._loop
            self._timer.start(1 if ended else self._wait_ms(now % duration))

    def _advance_to(self, due: int) -> None:
        if due == self._index:
            return
        gap = (due - self._index) % self.frame_count
        self.skipped_frames += gap - 1
        self.shown_frames += 1
        self._go_to(due)
        self._prefetch(+1)

    def _wait_ms(self, t: float) -> int:
        """Wall-clock milliseconds until the frame after the one showing at loop time t is due."""
        following = self._timing.frame_at(t) + 1
        due = (
            self._timing.start_ms(following)
            if following < self.frame_count
            else self._timing.duration_ms
        )
        return int(min(max((due - t) / self._speed, 1.0), MAX_TICK_MS))

    def _go_to(self, index: int) -> None:
        if index == self._index:
            return
        self._index = index
        self.frame_changed.emit(index)

    def _prefetch(self, direction: int) -> None:
        if self._cache is None or self.frame_count < 2:
            return
        self._cache.prefetch(self.upcoming_frames(direction))

    def upcoming_frames(self, direction: int = 1) -> list[int]:
        """The next frames that will be shown, in order: at playback pace, or one by one."""
        n, i = self.frame_count, self._index
        if not self._playing or direction < 0:
            seq = (i + direction * k for k in range(1, PREFETCH_AHEAD + 1))
            return _unique(j % n if self._loop else j for j in seq if self._loop or 0 <= j < n)
        # Frames due faster than the screen refreshes would be skipped: ask for the shown ones.
        step_ms = max(self._timing.nominal_ms, DISPLAY_INTERVAL_MS * self._speed)
        now, duration = self._timing.start_ms(i), self._timing.duration_ms
        out = []
        for k in range(1, PREFETCH_AHEAD + 1):
            t = now + k * step_ms
            if t >= duration:
                if not self._loop:
                    break
                t %= duration
            out.append(self._timing.frame_at(t))
        return _unique(j for j in out if j != i)


def _unique(indices) -> list[int]:  # noqa: ANN001
    return list(dict.fromkeys(indices))


#: Colours of the slider's marks: frames that carry annotations, and key frames for the chart.
ANNOTATED_MARK = QColor(70, 235, 130)
KEY_FRAME_MARK = QColor(90, 170, 255)


class MarkedSlider(QSlider):
    """The frame slider, with a tick under each frame that carries annotations and a taller
    one at each key frame, so the clinician finds the planned frames of a long cine."""

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self._annotated: tuple[int, ...] = ()
        self._key_frames: tuple[int, ...] = ()

    @property
    def marks(self) -> tuple[int, ...]:
        return self._annotated

    @property
    def key_frame_marks(self) -> tuple[int, ...]:
        return self._key_frames

    def set_marks(self, annotated: Iterable[int], key_frames: Iterable[int] = ()) -> None:
        annotated, key_frames = tuple(sorted(set(annotated))), tuple(sorted(set(key_frames)))
        if (annotated, key_frames) != (self._annotated, self._key_frames):
            self._annotated, self._key_frames = annotated, key_frames
            self.update()

    def mark_x(self, frame: int) -> float:
        """Where a frame's mark sits across the slider, in widget pixels (the handle's middle)."""
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        style = self.style()
        groove = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self
        )
        handle = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
        )
        span = groove.width() - handle.width()
        offset = QStyle.sliderPositionFromValue(
            self.minimum(), self.maximum(), frame, max(span, 0), option.upsideDown
        )
        return groove.x() + handle.width() / 2.0 + offset

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        if not (self._annotated or self._key_frames) or self.maximum() <= self.minimum():
            return
        painter = QPainter(self)
        h = float(self.height())
        for frames, colour, top in (
            (self._annotated, ANNOTATED_MARK, h - 6.0),
            (self._key_frames, KEY_FRAME_MARK, h - 10.0),
        ):
            for frame in frames:
                if self.minimum() <= frame <= self.maximum():
                    x = self.mark_x(frame)
                    painter.fillRect(QRectF(x - 1.5, top, 3.0, h - top), colour)
        painter.end()


class CineBar(QWidget):
    """Play/pause, step, frame slider, speed, loop, and 'frame 12 / 120 · 0.44 s / 4.80 s'."""

    def __init__(self, controller: CineController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cine_bar")
        self.controller = controller
        style = self.style()
        self.play_button = self._button(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay),
            "Play / pause (Space)",
            controller.toggle_play,
        )
        self.back_button = self._button(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward),
            "Previous frame (Left)",
            lambda: controller.step(-1),
        )
        self.forward_button = self._button(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward),
            "Next frame (Right)",
            lambda: controller.step(+1),
        )
        self.slider = MarkedSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("cine_slider")
        self.slider.setToolTip("Frame (Home / End: first / last)")
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.valueChanged.connect(self._slider_moved)
        self.speed_box = QComboBox()
        self.speed_box.setToolTip("Playback speed")
        self.speed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}\u00d7", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.currentIndexChanged.connect(
            lambda i: controller.set_speed(self.speed_box.itemData(i))
        )
        self.loop_box = QCheckBox("Loop")
        self.loop_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.loop_box.setChecked(controller.loop)
        self.loop_box.toggled.connect(controller.set_loop)
        self.label = QLabel()
        self.label.setObjectName("cine_label")
        width = QFontMetrics(self.label.font()).horizontalAdvance(
            "frame 0000 / 0000 · 000.00 s / 000.00 s"
        )
        self.label.setMinimumWidth(width)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for w in (self.back_button, self.play_button, self.forward_button):
            layout.addWidget(w)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.speed_box)
        layout.addWidget(self.loop_box)

        controller.frame_changed.connect(self._show_frame)
        controller.playing_changed.connect(self._show_playing)
        controller.source_changed.connect(self.refresh)
        controller.speed_changed.connect(self._show_speed)
        controller.loop_changed.connect(self.loop_box.setChecked)
        self.refresh()

    def _button(self, icon, tip: str, slot) -> QToolButton:  # noqa: ANN001
        button = QToolButton()
        button.setIcon(icon)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        return button

    def refresh(self) -> None:
        n = self.controller.frame_count
        self.setEnabled(n > 1)
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, max(n - 1, 0))
            self.slider.setPageStep(max(n // 10, 1))
        self._show_frame(self.controller.index)
        self._show_playing(self.controller.is_playing)

    def text(self) -> str:
        c = self.controller
        n = c.frame_count
        if not n:
            return "no frames"
        now = c.timing.start_ms(c.index) / 1000.0
        total = c.timing.duration_ms / 1000.0
        return f"frame {c.index + 1} / {n} · {now:.2f} s / {total:.2f} s"

    def _show_frame(self, index: int) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(index)
        self.label.setText(self.text())

    def _show_playing(self, playing: bool) -> None:
        pixmap = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        self.play_button.setIcon(self.style().standardIcon(pixmap))

    def _show_speed(self, speed: float) -> None:
        i = self.speed_box.findData(speed)
        if i >= 0:
            with QSignalBlocker(self.speed_box):
                self.speed_box.setCurrentIndex(i)

    def set_marks(self, annotated: Iterable[int], key_frames: Iterable[int] = ()) -> None:
        """Mark the frames that carry annotations, and the key frames, on the slider."""
        self.slider.set_marks(annotated, key_frames)
        marked = ", ".join(str(f + 1) for f in sorted(set(annotated))[:12])
        tip = "Frame (Home / End: first / last)"
        self.slider.setToolTip(f"{tip}\nAnnotated frames: {marked}" if marked else tip)

    def _slider_moved(self, value: int) -> None:
        self.controller.seek(value)
