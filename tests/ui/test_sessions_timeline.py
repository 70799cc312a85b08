"""A patient's timeline: one row per session with its totals and pain, its actions, the versions
an amendment replaced, and the chart of pain and volume across sessions."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from prolo_planner.store.records import TimelineRow
from prolo_planner.ui.sessions.pain_chart import (
    COMPLICATION,
    PAIN_AFTER,
    PAIN_BEFORE,
    PainChart,
    nice_ceiling,
)
from prolo_planner.ui.sessions.timeline import COLUMNS, TimelineView
from tests.ui.sessions_support import demo_fixture, store_dir_fixture  # noqa: F401


def _cells(view: TimelineView, row: int) -> dict[str, str]:
    return {c: view.table.item(row, i).text() for i, c in enumerate(COLUMNS)}


def test_rows_show_date_region_side_sites_volumes_pain_and_state(qtbot, demo):
    view = TimelineView(demo.repo)
    qtbot.addWidget(view)
    view.show_patient(demo.result.patient)
    assert view.header.text().startswith("DEMO, Alex · ID DEMO-0001 · born 1971-05-20")
    assert view.table.rowCount() == 3
    latest, middle, first = (_cells(view, i) for i in range(3))
    assert latest == {
        "Date": "2026-03-14",
        "Region": "Lumbar spine",
        "Side": "midline",
        "Sites": "4",
        "Planned": "5.0 mL",
        "Given": "–",  # no procedure recorded yet
        "Complications": "–",
        "Dextrose": "0.62 g",  # 4 sites at 12.5 %: 1 + 1 + 1.5 + 1.5 mL
        "Anaesthetic": "lidocaine 10 mg",  # 5 mL of 0.2 %
        "Pain before": "3",
        "Pain after": "–",
        "State": "Draft",
    }
    assert (middle["Date"], middle["Sites"], middle["Planned"], middle["State"]) == (
        "2026-02-21",
        "4",
        "5.0 mL",
        "Signed",
    )
    # What the demo's record says was given: 0.5 mL more at one site, 15 % dextrose (5.5 mL
    # x 15 % = 0.825 g), and a vasovagal episode.
    assert (middle["Given"], middle["Complications"]) == ("5.5 mL · 0.82 g", "vasovagal")
    assert (first["Date"], first["Sites"], first["Planned"], first["Pain before"]) == (
        "2026-01-31",
        "3",
        "4.0 mL",
        "7",
    )
    assert (first["Given"], first["Complications"]) == ("4.0 mL · 0.60 g", "none")
    assert first["Pain after"] == "4"
    tip = view.table.item(2, 0).toolTip()
    assert tip.startswith("2026-01-31 09:30")
    assert "L4-L5 supraspinous ligament" in tip and "chronic low back pain" in tip


def test_actions_follow_the_chosen_session(qtbot, demo):
    view = TimelineView(demo.repo)
    qtbot.addWidget(view)
    view.show_patient(demo.result.patient)
    asked: list[tuple[str, int]] = []
    for name in ("open", "sign", "amend", "compare"):
        getattr(view, f"{name}_requested").connect(lambda sid, n=name: asked.append((n, sid)))
    view.select_session(demo.today)  # a draft: sign, not amend
    assert view.sign_button.isEnabled() and not view.amend_button.isEnabled()
    assert view.compare_button.isEnabled()
    qtbot.mouseClick(view.sign_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.compare_button, Qt.MouseButton.LeftButton)
    view.select_session(demo.first)  # signed, and nothing before it to compare with
    assert view.amend_button.isEnabled() and not view.sign_button.isEnabled()
    assert not view.compare_button.isEnabled()
    qtbot.mouseClick(view.amend_button, Qt.MouseButton.LeftButton)
    view.resize(1000, 600)
    view.show()
    qtbot.waitExposed(view)
    rect = view.table.visualItemRect(view.table.item(2, 0))
    # A double click is a press, a release and the double-click press, as a mouse sends it.
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert asked == [
        ("sign", demo.today),
        ("compare", demo.today),
        ("amend", demo.first),
        ("open", demo.first),
    ]
    assert view.previous_of(demo.today).session.id == demo.second
    assert view.previous_of(demo.first) is None


def test_an_amendment_replaces_the_row_and_the_signed_version_can_be_shown(qtbot, demo):
    repo = demo.repo
    amended = repo.amend(demo.second)
    view = TimelineView(repo)
    qtbot.addWidget(view)
    view.show_patient(demo.result.patient)
    ids = [r.session.id for r in view.rows]
    assert ids == [demo.today, amended.id, demo.first]
    assert _cells(view, 1)["State"] == f"Draft (v2, amends #{demo.second})"
    view.show_replaced.setChecked(True)
    states = {r.session.id: _cells(view, i)["State"] for i, r in enumerate(view.rows)}
    assert states[demo.second] == "Amended (v1, kept for the record)"
    assert len(view.rows) == 4
    view.select_session(demo.second)
    assert not view.sign_button.isEnabled() and not view.amend_button.isEnabled()
    # A replaced version is not "previous" to anything: compare goes to the current one.
    assert view.previous_of(demo.today).session.id == amended.id


def test_refresh_after_a_save_shows_new_totals_and_keeps_the_choice(qtbot, demo):
    repo = demo.repo
    view = TimelineView(repo)
    qtbot.addWidget(view)
    view.show_patient(demo.result.patient)
    view.select_session(demo.second)
    view.set_current(demo.today)
    plan = repo.load_plan(demo.today)
    first = plan.targets()[0]
    repo.save_plan(
        demo.today,
        plan.with_annotations(
            a
            for a in plan.annotations
            if a.id != first.id and getattr(a, "target_id", "") != first.id
        ),
    )
    repo.update_session(demo.today, pain_after=1)
    view.refresh()
    assert view.selected_session_id() == demo.second
    row = _cells(view, view.row_of(demo.today))
    assert (row["Sites"], row["Planned"], row["Pain after"]) == ("3", "4.0 mL", "1")
    assert view.table.item(view.row_of(demo.today), 0).font().bold()
    assert not view.table.item(view.row_of(demo.second), 0).font().bold()


def _chart(qtbot, rows: list[TimelineRow]) -> tuple[PainChart, QImage]:
    chart = PainChart()
    qtbot.addWidget(chart)
    chart.resize(600, 240)
    chart.set_rows(rows)
    return chart, chart.grab().toImage()


def _near(image: QImage, x: float, y: float, colour: QColor, reach: int = 3) -> bool:
    """Whether a pixel of about `colour` lies within `reach` pixels of (x, y)."""
    for dx in range(-reach, reach + 1):
        for dy in range(-reach, reach + 1):
            c = image.pixelColor(round(x) + dx, round(y) + dy)
            if (
                abs(c.red() - colour.red()) < 25
                and abs(c.green() - colour.green()) < 25
                and abs(c.blue() - colour.blue()) < 25
            ):
                return True
    return False


def test_chart_draws_pain_before_and_after_oldest_first_with_volume_bars(qtbot, demo):
    rows = demo.repo.sessions_of(demo.result.patient.id)
    chart, image = _chart(qtbot, rows)
    points = chart.points
    assert [p.session_id for p in points] == [demo.first, demo.second, demo.today]
    assert [(p.pain_before, p.pain_after) for p in points] == [(7, 4), (5, 3), (3, None)]
    assert chart.volume_max == 10.0  # 5 mL at most, with headroom: bars stay below pain 10
    for i, p in enumerate(points):
        at = chart.pain_point(i, p.pain_before)
        assert _near(image, at.x(), at.y(), PAIN_BEFORE), f"pain before of session {i}"
    for i, p in enumerate(points[:2]):
        at = chart.pain_point(i, p.pain_after)
        # The 'after' dots are hollow: their ring is drawn in the after colour.
        assert _near(image, at.x() + 4.5, at.y(), PAIN_AFTER), f"pain after of session {i}"
    # No 'after' score today: nothing is drawn there in the after colour.
    missing = chart.pain_point(2, 3.0)
    assert not _near(image, missing.x(), chart.pain_y(0.5), PAIN_AFTER)
    # Session 1 has a procedure record: 4.0 mL planned (an outline) beside 4.0 mL given (a
    # filled bar); today's draft has none, so its planned bar alone is filled.
    planned, given = chart.bar_rect(0), chart.bar_rect(0, given=True)
    assert abs(planned.height() - chart.plot_rect().height() * 4.0 / 10.0) < 0.5
    assert abs(given.height() - planned.height()) < 0.5 and given.left() >= planned.right() - 0.5
    centre = image.pixelColor(round(given.center().x()), round(given.bottom() - 3))
    assert centre.blue() > centre.red() + 30  # the bar's blue, not the background
    inside = image.pixelColor(round(planned.center().x()), round(planned.bottom() - 3))
    assert not inside.blue() > inside.red() + 30  # an outline: not filled
    today = chart.bar_rect(2)
    centre = image.pixelColor(round(today.center().x()), round(today.bottom() - 3))
    assert centre.blue() > centre.red() + 30
    # Session 2's vasovagal episode is marked above its column, in amber.
    mark = chart.complication_mark(1)
    assert _near(image, mark.center().x(), mark.center().y() + 2, COMPLICATION)
    assert not _near(
        image, chart.complication_mark(0).center().x(), mark.center().y() + 2, COMPLICATION
    )
    assert chart.index_at(chart.column_x(1)) == 1
    assert "pain 5 before, 3 after" in chart.tooltip_at(chart.column_x(1))
    assert "5.5 mL given (5 mL planned)" in chart.tooltip_at(chart.column_x(1))
    assert "complications: vasovagal" in chart.tooltip_at(chart.column_x(1))


def test_chart_clicks_choose_a_session_and_an_empty_course_says_so(qtbot, demo):
    rows = demo.repo.sessions_of(demo.result.patient.id)
    chart, _image = _chart(qtbot, rows)
    clicked = []
    chart.session_clicked.connect(clicked.append)
    qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=chart.pain_point(0, 5).toPoint())
    assert clicked == [demo.first]
    empty, image = _chart(qtbot, [])
    assert empty.points == ()
    lit = sum(
        1
        for x in range(0, image.width(), 3)
        for y in range(0, image.height(), 3)
        if image.pixelColor(x, y).lightness() > 100
    )
    assert lit > 0  # the words "No sessions yet"


def test_nice_ceiling():
    assert [nice_ceiling(v) for v in (0, 0.4, 1.0, 1.2, 4.0, 6.25, 11, 27, 120)] == [
        1.0,
        1.0,
        1.0,
        2.0,
        5.0,
        10.0,
        20.0,
        50.0,
        200.0,
    ]


def test_a_theme_switch_recolours_the_rows_without_reading_the_store(qtbot, demo):
    """The State words take the theme's tones; switching the theme redraws the rows already
    read, and reads nothing (a window whose store is closed may still be listening)."""
    from PySide6.QtWidgets import QApplication

    from prolo_planner.ui import theme

    view = TimelineView(demo.repo)
    qtbot.addWidget(view)
    view.show_patient(demo.result.patient)
    state = COLUMNS.index("State")
    app = QApplication.instance()
    theme.apply_theme(app, "dark")
    try:
        draft = view.table.item(0, state).foreground().color().name()
        assert draft == theme.current().qcolor("warning_text").name()
        demo.repo.close()  # the switch must not need it
        light = theme.apply_theme(app, "light")
        assert view.table.item(0, state).foreground().color().name() == (
            light.qcolor("warning_text").name()
        )
        assert light.qcolor("warning_text").name() != draft
    finally:
        theme.apply_theme(app, "dark")
