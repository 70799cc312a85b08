"""A patient's course at a glance: pain before and after, and the volume planned and given, per
session, with a mark where a complication was recorded.

Painted with QPainter (PySide6-Essentials ships no QtCharts). Sessions are evenly spaced, oldest
on the left, as the clinician reads a course; pain (0 to 10) on the left axis, the volumes as
bars against the right axis: the planned volume an outline, what the procedure record says was
given a filled bar beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from prolo_planner.store.records import PAIN_MAX, PAIN_MIN, TimelineRow
from prolo_planner.ui import theme
from prolo_planner.ui.sessions.session_text import pain_text, session_date, short_date

#: The series' colours by theme: each line 3:1 or more against the chart's background.
_SERIES = {
    "dark": (QColor(255, 146, 72), QColor(92, 214, 130)),
    "light": (QColor(196, 84, 0), QColor(23, 120, 60)),
}
#: The dark theme's, the default.
PAIN_BEFORE, PAIN_AFTER = _SERIES["dark"]
VOLUME = QColor(88, 132, 196, 150)
#: A recorded complication: the draft amber the timeline uses.
COMPLICATION = QColor(255, 200, 90)
#: The dark theme's, the default.
PAIN_BEFORE, PAIN_AFTER = _SERIES["dark"]


def _colours() -> tuple[QColor, QColor, QColor, QColor, QColor, QColor]:
    """Pain before, pain after, axis text, grid, an open dot's inside, the current column:
    the theme's, read at every paint so a switched theme shows at once."""
    t = theme.current()
    before, after = _SERIES[t.name.value]
    current = QColor(t.accent)
    current.setAlpha(40)
    return before, after, t.qcolor("text_dim"), t.qcolor("separator"), t.qcolor("base"), current


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One session on the chart, oldest first."""

    session_id: int
    label: str
    date: str
    pain_before: int | None
    pain_after: int | None
    total_ml: float
    #: From the procedure record: None when nothing was recorded.
    given_ml: float | None = None
    #: The record's complications in words ('' not stated, 'none', 'vasovagal').
    complications: str = ""

    @property
    def had_complication(self) -> bool:
        return bool(self.complications) and self.complications != "none"


def nice_ceiling(value: float) -> float:
    """The next 1, 2 or 5 times a power of ten at or above value (at least 1)."""
    if value <= 1.0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value - 1e-9:
            return float(step * power)
    return float(10 * power)


class PainChart(QWidget):
    """Pain before and after each session (lines) and its total volume (bars)."""

    #: A session's column was clicked (session id).
    session_clicked = Signal(int)

    MARGIN_LEFT = 40
    MARGIN_RIGHT = 48
    MARGIN_TOP = 26
    MARGIN_BOTTOM = 24

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pain_chart")
        self.setMinimumSize(200, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMouseTracking(True)
        self._points: tuple[ChartPoint, ...] = ()
        self._current: int | None = None
        self._volume_max = 1.0

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(420, 190)

    # -- data -------------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[TimelineRow]) -> None:
        """The timeline's rows (any order); versions replaced by an amendment are left out."""
        current = [r for r in rows if not r.superseded]
        current.sort(key=lambda r: (r.session.started_at, r.session.version))
        self._points = tuple(
            ChartPoint(
                r.session.id,
                short_date(r.session),
                session_date(r.session),
                r.session.pain_before,
                r.session.pain_after,
                r.total_ml,
                r.done.given_ml if r.done is not None else None,
                r.done.complications if r.done is not None else "",
            )
            for r in current
        )
        # Headroom above the largest volume: a full-height bar would read as pain 10.
        most = max(
            (max(p.total_ml, p.given_ml or 0.0) for p in self._points),
            default=0.0,
        )
        self._volume_max = nice_ceiling(most * 1.25)
        self.update()

    @property
    def points(self) -> tuple[ChartPoint, ...]:
        return self._points

    @property
    def volume_max(self) -> float:
        return self._volume_max

    def set_current(self, session_id: int | None) -> None:
        """Highlight the session open in the window."""
        if session_id != self._current:
            self._current = session_id
            self.update()

    # -- geometry (public so tests can look where something was drawn) ----------------------
    def plot_rect(self) -> QRectF:
        return QRectF(
            self.MARGIN_LEFT,
            self.MARGIN_TOP,
            max(1.0, self.width() - self.MARGIN_LEFT - self.MARGIN_RIGHT),
            max(1.0, self.height() - self.MARGIN_TOP - self.MARGIN_BOTTOM),
        )

    def column_x(self, index: int) -> float:
        r = self.plot_rect()
        step = r.width() / max(1, len(self._points))
        return r.left() + step * (index + 0.5)

    def pain_y(self, pain: float) -> float:
        r = self.plot_rect()
        return r.bottom() - (pain - PAIN_MIN) / (PAIN_MAX - PAIN_MIN) * r.height()

    def pain_point(self, index: int, pain: float) -> QPointF:
        return QPointF(self.column_x(index), self.pain_y(pain))

    def bar_rect(self, index: int, given: bool = False) -> QRectF:
        """The planned volume's bar (left half of the column's pair), or the given one's
        (right half); a session without a record has the planned bar alone, centred."""
        r = self.plot_rect()
        step = r.width() / max(1, len(self._points))
        point = self._points[index]
        width = min(step * 0.45, 36.0)
        ml = (point.given_ml or 0.0) if given else point.total_ml
        top = r.bottom() - ml / self._volume_max * r.height()
        left = self.column_x(index) - width / 2
        if point.given_ml is not None:
            width /= 2
            left += width if given else 0.0
        return QRectF(left, top, width, r.bottom() - top)

    def index_at(self, x: float) -> int | None:
        r = self.plot_rect()
        if not self._points or not r.left() <= x <= r.right():
            return None
        step = r.width() / len(self._points)
        return min(len(self._points) - 1, int((x - r.left()) / step))

    # -- painting ---------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        font = QFont(self.font())
        font.setPointSizeF(max(7.5, font.pointSizeF() - 1))
        painter.setFont(font)
        before, after, axis, _grid, _hole, _current = _colours()
        if not self._points:
            painter.setPen(axis)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No sessions yet")
            return
        self._paint_axes(painter)
        self._paint_bars(painter)
        self._paint_pain(painter, "pain_before", before, Qt.PenStyle.SolidLine, filled=True)
        # Dashed as well as green: the two lines stay apart for a colour-blind reader.
        self._paint_pain(painter, "pain_after", after, Qt.PenStyle.DashLine, filled=False)
        self._paint_legend(painter)

    def _paint_axes(self, painter: QPainter) -> None:
        before, after, axis, grid, hole, current = _colours()
        r = self.plot_rect()
        metrics = painter.fontMetrics()
        for pain in range(PAIN_MIN, PAIN_MAX + 1, 2):
            y = self.pain_y(pain)
            painter.setPen(QPen(grid, 1, Qt.PenStyle.DotLine))
            painter.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
            painter.setPen(axis)
            painter.drawText(
                QRectF(0, y - 8, r.left() - 6, 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                str(pain),
            )
            ml = self._volume_max * pain / PAIN_MAX
            painter.setPen(theme.current().qcolor("info_text"))  # the volume axis
            painter.drawText(
                QRectF(r.right() + 6, y - 8, self.MARGIN_RIGHT - 6, 16),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"{ml:g}",
            )
        painter.setPen(axis)
        painter.drawText(QRectF(0, 4, r.left() + 30, 16), Qt.AlignmentFlag.AlignLeft, "Pain 0–10")
        painter.setPen(theme.current().qcolor("info_text"))
        painter.drawText(
            QRectF(r.right() - 30, 4, self.MARGIN_RIGHT + 28, 16), Qt.AlignmentFlag.AlignRight, "mL"
        )
        painter.setPen(QPen(axis, 1))
        painter.drawLine(r.bottomLeft(), r.bottomRight())
        step = r.width() / len(self._points)
        every = max(1, math.ceil(metrics.horizontalAdvance("30 Sep 26") * 1.2 / step))
        for i, p in enumerate(self._points):
            x = self.column_x(i)
            if p.session_id == self._current:
                painter.fillRect(QRectF(x - step / 2, r.top(), step, r.height()), current)
            # Label the newest always; thin out the others when columns are narrow.
            if (len(self._points) - 1 - i) % every == 0:
                painter.setPen(axis)
                painter.drawText(
                    QRectF(x - step * every / 2, r.bottom() + 3, step * every, 18),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                    p.label,
                )

    def _paint_bars(self, painter: QPainter) -> None:
        for i, p in enumerate(self._points):
            if p.given_ml is None:
                # Nothing recorded: the planned volume as before, filled.
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(VOLUME)
                if p.total_ml > 0:
                    painter.drawRect(self.bar_rect(i))
                continue
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(VOLUME.lighter(130), 1.4, Qt.PenStyle.DashLine))
            if p.total_ml > 0:
                painter.drawRect(self.bar_rect(i).adjusted(0.7, 0.7, -0.7, 0))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(VOLUME)
            if p.given_ml > 0:
                painter.drawRect(self.bar_rect(i, given=True))
            if p.had_complication:
                self._paint_complication(painter, i)

    def complication_mark(self, index: int) -> QRectF:
        """Where a recorded complication is marked: a small triangle above the column."""
        r = self.plot_rect()
        return QRectF(self.column_x(index) - 6, r.top() + 2, 12, 11)

    def _paint_complication(self, painter: QPainter, index: int) -> None:
        box = self.complication_mark(index)
        path = QPainterPath()
        path.moveTo(box.center().x(), box.top())
        path.lineTo(box.right(), box.bottom())
        path.lineTo(box.left(), box.bottom())
        path.closeSubpath()
        painter.setPen(QPen(COMPLICATION.darker(160), 1.0))
        painter.setBrush(COMPLICATION)
        painter.drawPath(path)

    def _paint_pain(
        self, painter: QPainter, field: str, colour: QColor, style: Qt.PenStyle, *, filled: bool
    ) -> None:
        before, after, axis, grid, hole, current = _colours()
        path = QPainterPath()
        drawing = False
        dots: list[QPointF] = []
        for i, p in enumerate(self._points):
            value = getattr(p, field)
            if value is None:
                drawing = False  # a missing score breaks the line rather than inventing one
                continue
            at = self.pain_point(i, value)
            dots.append(at)
            if drawing:
                path.lineTo(at)
            else:
                path.moveTo(at)
                drawing = True
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(colour, 2.2, style, Qt.PenCapStyle.RoundCap))
        painter.drawPath(path)
        painter.setBrush(colour if filled else hole)
        painter.setPen(QPen(colour, 2.0))
        for at in dots:
            painter.drawEllipse(at, 4.5, 4.5)

    def _paint_legend(self, painter: QPainter) -> None:
        before, after, axis, grid, hole, current = _colours()
        x = self.MARGIN_LEFT + 34
        metrics = painter.fontMetrics()
        recorded = any(p.given_ml is not None for p in self._points)
        items = [("before", before, True), ("after", after, False)]
        items += [("planned", VOLUME, False), ("given", VOLUME, True)] if recorded else []
        items += [] if recorded else [("volume", VOLUME, True)]
        if any(p.had_complication for p in self._points):
            items.append(("complication", COMPLICATION, True))
        room = self.width() - self.MARGIN_RIGHT - x
        while (
            len(items) > 2
            and sum(24 + metrics.horizontalAdvance(t) + 6 for t, _, _ in items) > room
        ):
            items.pop()  # a narrow chart keeps the pain legend; the marks have tooltips
        for text, colour, filled in items:
            painter.setPen(QPen(colour, 2.0))
            painter.setBrush(colour if filled else hole)
            if text == "planned":
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(VOLUME.lighter(130), 1.4, Qt.PenStyle.DashLine))
                painter.drawRect(QRectF(x, 8, 10, 10))
            elif text in ("volume", "given"):
                painter.setPen(Qt.PenStyle.NoPen)
                painter.drawRect(QRectF(x, 8, 10, 10))
            elif text == "complication":
                mark = QPainterPath()
                mark.moveTo(x + 5, 7)
                mark.lineTo(x + 10, 18)
                mark.lineTo(x, 18)
                mark.closeSubpath()
                painter.setPen(QPen(COMPLICATION.darker(160), 1.0))
                painter.drawPath(mark)
            else:
                painter.drawEllipse(QPointF(x + 5, 13), 4, 4)
            painter.setPen(axis)
            painter.drawText(QPointF(x + 14, 17), text)
            x += 14 + metrics.horizontalAdvance(text) + 16

    # -- pointing ---------------------------------------------------------------------------
    def tooltip_at(self, x: float) -> str:
        i = self.index_at(x)
        if i is None:
            return ""
        p = self._points[i]
        text = f"{p.date}\npain {pain_text(p.pain_before)} before, {pain_text(p.pain_after)} after"
        if p.given_ml is None:
            return text + f"\n{p.total_ml:g} mL planned, nothing recorded as given"
        text += f"\n{p.given_ml:g} mL given ({p.total_ml:g} mL planned)"
        return text + f"\ncomplications: {p.complications or 'not recorded yet'}"

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        text = self.tooltip_at(event.position().x())
        if text:
            QToolTip.showText(event.globalPosition().toPoint(), text, self)
        else:
            QToolTip.hideText()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        i = self.index_at(event.position().x())
        if i is not None and event.button() == Qt.MouseButton.LeftButton:
            self.session_clicked.emit(self._points[i].session_id)
