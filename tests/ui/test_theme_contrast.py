"""Both themes read at a glance: every text colour of the stylesheet and the palette at 4.5:1
or more against what it is drawn on, every control's boundary at 3:1 (WCAG 2.1, 1.4.3 and
1.4.11), measured on the stylesheet the app applies. The preferences switch the theme."""

from __future__ import annotations

import re

import pytest
from PySide6.QtGui import QPalette

from prolo_planner.ui.theme import (
    DARK,
    LIGHT,
    THEMES,
    Theme,
    ThemeName,
    apply_theme,
    contrast,
    palette,
    stylesheet,
)

TEXT = 4.5
BOUNDARY = 3.0
#: Controls that cannot be used now: WCAG asks nothing of them; we ask 3:1.
DISABLED = 3.0
CONTROLS = (
    "QPushButton",
    "QToolButton",
    "QComboBox",
    "QLineEdit",
    "QSpinBox",
    "QDoubleSpinBox",
    "QDateEdit",
    "QPlainTextEdit",
    "QTextEdit",
    "::indicator",
    "QSlider::groove",
    "QProgressBar",
)
HEX = re.compile(r"#[0-9a-fA-F]{6}\b")


def rules(qss: str) -> list[tuple[str, dict[str, str]]]:
    """(selector, {property: value}) of every rule, comments left out."""
    qss = re.sub(r"/\*.*?\*/", "", qss, flags=re.S)
    out = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", qss):
        props = {}
        for item in body.split(";"):
            name, _, value = item.partition(":")
            if value.strip():
                props[name.strip()] = value.strip()
        out.append((" ".join(selector.split()), props))
    return out


def colour(value: str | None) -> str | None:
    found = HEX.search(value or "")
    return found.group(0).lower() if found else None


def test_the_rules_are_read_as_written() -> None:
    parsed = dict(
        rules("/* x { color: #000000 } */ QLabel#a { color: #112233; background: #ffffff; }")
    )
    assert parsed == {"QLabel#a": {"color": "#112233", "background": "#ffffff"}}
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # WCAG's own example


@pytest.mark.parametrize("theme", [DARK, LIGHT], ids=lambda t: t.name)
def test_every_text_reads_at_4_5_to_1(qapp, theme: Theme) -> None:
    checked = 0
    failures = []
    for selector, props in rules(stylesheet(theme)):
        fg = colour(props.get("color"))
        if fg is None:
            continue
        bg = colour(props.get("background") or props.get("background-color"))
        # Text on its own background is measured there; text on no background of its own
        # against every surface of the theme it may be drawn on.
        grounds = [bg] if bg else list(theme.surfaces.values())
        need = DISABLED if ":disabled" in selector else TEXT
        for ground in grounds:
            checked += 1
            ratio = contrast(fg, ground)
            if ratio < need:
                failures.append(f"{selector}: {fg} on {ground} is {ratio:.2f}:1")
    assert checked > 60
    assert failures == []


@pytest.mark.parametrize("theme", [DARK, LIGHT], ids=lambda t: t.name)
def test_every_control_boundary_reads_at_3_to_1(qapp, theme: Theme) -> None:
    """Fields, buttons, check boxes and radio buttons (the issue's unchecked boxes were 1.1:1)
    are told from the surface they sit on by their border, or their fill when checked."""
    failures = []
    checked = 0
    grounds = [theme.window, theme.panel, theme.base, theme.alternate, theme.menu]
    for selector, props in rules(stylesheet(theme)):
        if not any(c in selector for c in CONTROLS) or ":disabled" in selector:
            continue
        edge = colour(props.get("border"))
        fill = colour(props.get("background"))
        if edge is None:
            continue
        for ground in grounds:
            checked += 1
            best = max(contrast(edge, ground), contrast(fill, ground) if fill else 0.0)
            if best < BOUNDARY:
                failures.append(f"{selector}: {edge} on {ground} is {contrast(edge, ground):.2f}:1")
    assert checked > 40
    assert failures == []
    # Scroll bar handles against their groove.
    for selector, props in rules(stylesheet(theme)):
        if "QScrollBar::handle" in selector:
            handle = colour(props.get("background"))
            assert handle and contrast(handle, theme.base) >= BOUNDARY, selector


@pytest.mark.parametrize("theme", [DARK, LIGHT], ids=lambda t: t.name)
def test_the_palette_and_the_named_texts_read_too(qapp, theme: Theme) -> None:
    """What Fusion draws from the palette, and the texts code colours by name (warnings,
    signed, failed), on every surface."""
    p = palette(theme)
    roles = QPalette.ColorRole
    pairs = [
        (roles.WindowText, roles.Window),
        (roles.Text, roles.Base),
        (roles.Text, roles.AlternateBase),
        (roles.ButtonText, roles.Button),
        (roles.HighlightedText, roles.Highlight),
        (roles.PlaceholderText, roles.Base),
        (roles.ToolTipText, roles.ToolTipBase),
    ]
    for fg, bg in pairs:
        ratio = contrast(p.color(fg).name(), p.color(bg).name())
        assert ratio >= TEXT, (fg, bg, ratio)
    for name, text in theme.texts.items():
        for ground_name, ground in theme.surfaces.items():
            assert contrast(text, ground) >= TEXT, (name, ground_name, contrast(text, ground))
    assert contrast(theme.accent_text, theme.accent) >= TEXT
    assert contrast(theme.text_disabled, theme.window) >= DISABLED


def test_the_two_themes_are_dark_and_light(qapp) -> None:
    assert set(THEMES) == {ThemeName.DARK, ThemeName.LIGHT}
    assert contrast(DARK.window, "#000000") < contrast(DARK.window, "#ffffff")
    assert contrast(LIGHT.window, "#ffffff") < contrast(LIGHT.window, "#000000")
    # The image keeps its dark surround in both: ultrasound is read on black.
    assert DARK.image_background == LIGHT.image_background


def test_applying_a_theme_sets_the_stylesheet_and_palette(qapp) -> None:
    try:
        apply_theme(qapp, "light")
        assert LIGHT.window in qapp.styleSheet()
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == LIGHT.window
        apply_theme(qapp, "no such theme")  # unknown: the dark one
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == DARK.window
    finally:
        apply_theme(qapp, "dark")


def test_the_preferences_switch_the_theme_and_keep_it(qapp, qtbot) -> None:
    from prolo_planner.ui.preferences import PreferencesDialog
    from prolo_planner.ui.settings import AppSettings, theme_preference

    settings = AppSettings()
    dialog = PreferencesDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.theme_buttons[ThemeName.DARK].isChecked()
    try:
        dialog.theme_buttons[ThemeName.LIGHT].click()
        # At once, in the whole app, and for the next start.
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == LIGHT.window
        assert LIGHT.text in qapp.styleSheet()
        assert theme_preference() == "light" and AppSettings().theme == "light"
        dialog.theme_buttons[ThemeName.DARK].click()
        assert theme_preference() == "dark"
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == DARK.window
    finally:
        apply_theme(qapp, "dark")
        settings.theme = "dark"


def test_edit_preferences_opens_the_dialog(qtbot) -> None:
    from prolo_planner.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    action = window.findChild(type(window.menu("Edit").menuAction()), "preferences")
    assert action is not None and action in window.menu("Edit").actions()
    action.trigger()
    assert window.preferences_dialog.isVisible()
    window.preferences_dialog.close()
