"""The app's two themes, dark for a darkened scan room and light for a lit procedure room: one
set of named colours each, filled into the stylesheet (resources/style.qss) and the palette.

Every text colour reads at 4.5:1 or more on every surface it is drawn on, and every control's
boundary at 3:1 (WCAG 2.1, 1.4.3 and 1.4.11); tests/ui/test_theme_contrast.py measures the
stylesheet this module renders.
"""

from __future__ import annotations

import logging
import string
from dataclasses import asdict, dataclass
from enum import StrEnum

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget

from prolo_planner.resources import resource_path

log = logging.getLogger("prolo_planner.ui")


class ThemeName(StrEnum):
    DARK = "dark"
    LIGHT = "light"


@dataclass(frozen=True, slots=True)
class Theme:
    """Named colours, as #rrggbb. Surfaces are what things are drawn on; texts and boundaries
    what is drawn on them."""

    name: ThemeName
    # surfaces
    window: str  # the main window and dialogs
    panel: str  # dock titles, headers, the menu bar, the status bar, detail panes
    base: str  # fields, lists, tables: where values are typed and read
    alternate: str  # every other row of a list
    raised: str  # buttons
    menu: str  # menus and drop-down lists
    tooltip: str
    # texts
    text: str
    text_dim: str  # labels beside values, hints
    text_disabled: str  # controls that cannot be used now
    heading: str  # section titles
    warning_text: str
    danger_text: str
    ok_text: str
    info_text: str
    # lines
    border: str  # a control's boundary: fields, buttons, check boxes
    separator: str  # lines between areas (decorative)
    accent: str  # selection, checked boxes, the current tab
    accent_text: str  # text on the accent
    hover: str
    scroll_handle: str
    image_background: str  # around the image in the viewer: dark in both themes

    @property
    def surfaces(self) -> dict[str, str]:
        """The colours text and controls are drawn on."""
        return {
            k: getattr(self, k)
            for k in ("window", "panel", "base", "alternate", "raised", "menu", "tooltip")
        }

    @property
    def texts(self) -> dict[str, str]:
        return {
            k: getattr(self, k)
            for k in (
                "text",
                "text_dim",
                "heading",
                "warning_text",
                "danger_text",
                "ok_text",
                "info_text",
            )
        }

    def qcolor(self, token: str) -> QColor:
        return QColor(getattr(self, token))


DARK = Theme(
    name=ThemeName.DARK,
    window="#252629",
    panel="#1f2022",
    base="#1a1b1d",
    alternate="#222326",
    raised="#323438",
    menu="#2a2b2e",
    tooltip="#303135",
    text="#e2e2e4",
    text_dim="#a9abb0",
    text_disabled="#8a8c92",
    heading="#86b8ea",
    warning_text="#ffb84d",
    danger_text="#ff8a80",
    ok_text="#6ed98a",
    info_text="#8fbcf0",
    border="#8a8d94",
    separator="#3a3c40",
    accent="#3c75c9",
    accent_text="#ffffff",
    hover="#3c3e43",
    scroll_handle="#8a8d94",
    image_background="#121214",
)

LIGHT = Theme(
    name=ThemeName.LIGHT,
    window="#eceef1",
    panel="#f6f7f9",
    base="#ffffff",
    alternate="#f2f4f7",
    raised="#e2e5e9",
    menu="#ffffff",
    tooltip="#fffbe6",
    text="#16181c",
    text_dim="#4b5058",
    text_disabled="#6b7079",
    heading="#1b5498",
    warning_text="#7a4f00",
    danger_text="#a8211a",
    ok_text="#17692f",
    info_text="#1b5498",
    border="#6b7079",
    separator="#c9cdd3",
    accent="#1d5fae",
    accent_text="#ffffff",
    hover="#d6dae0",
    scroll_handle="#6b7079",
    image_background="#121214",
)

THEMES = {t.name: t for t in (DARK, LIGHT)}


# -- contrast (WCAG 2.1) ----------------------------------------------------------------------
def relative_luminance(colour: str) -> float:
    c = QColor(colour)

    def linear(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(c.redF()) + 0.7152 * linear(c.greenF()) + 0.0722 * linear(c.blueF())


def contrast(a: str, b: str) -> float:
    """The contrast ratio of two opaque colours, 1 to 21."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# -- the stylesheet and the palette -----------------------------------------------------------
def stylesheet(theme: Theme) -> str:
    """resources/style.qss with the theme's colours (and the icons' folder) filled in."""
    template = string.Template(resource_path("style.qss").read_text(encoding="utf-8"))
    icons = resource_path("icons").as_posix()
    return template.substitute(asdict(theme), icons=icons)


def palette(theme: Theme) -> QPalette:
    """The palette Fusion draws what the stylesheet leaves to it with."""
    p = QPalette()
    roles = QPalette.ColorRole
    c = theme.qcolor
    for role, token in (
        (roles.Window, "window"),
        (roles.WindowText, "text"),
        (roles.Base, "base"),
        (roles.AlternateBase, "alternate"),
        (roles.ToolTipBase, "tooltip"),
        (roles.ToolTipText, "text"),
        (roles.PlaceholderText, "text_dim"),
        (roles.Text, "text"),
        (roles.Button, "raised"),
        (roles.ButtonText, "text"),
        (roles.BrightText, "danger_text"),
        (roles.Link, "heading"),
        (roles.Highlight, "accent"),
        (roles.HighlightedText, "accent_text"),
        (roles.Light, "hover"),
        (roles.Midlight, "raised"),
        (roles.Mid, "border"),
        (roles.Dark, "border"),
        (roles.Shadow, "separator"),
    ):
        p.setColor(role, c(token))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        p.setColor(disabled, role, c("text_disabled"))
    p.setColor(disabled, roles.Highlight, c("raised"))
    return p


class _Announcer(QObject):
    changed = Signal(object)  # the Theme now in force


_announcer: _Announcer | None = None
_current: Theme = DARK


def current() -> Theme:
    """The theme in force (colours drawn by code read it when they draw)."""
    return _current


def announcer() -> _Announcer:
    """Its `changed` signal says the theme was switched: what caches colours redraws."""
    global _announcer
    if _announcer is None:
        _announcer = _Announcer()
    return _announcer


#: The words of a label that says how things stand, as the stylesheet colours them.
TONES = {"warning": "warning_text", "danger": "danger_text", "ok": "ok_text", "dim": "text_dim"}


def set_tone(widget: QWidget, tone: str) -> None:
    """Colour a label's words by what they say ("warning", "danger", "ok", "dim", "" for
    plain), in the theme in force and in any the clinician switches to."""
    widget.setProperty("tone", tone)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


def tone_colour(tone: str) -> QColor:
    """The colour of a tone in the theme in force, for items that are not labels."""
    return current().qcolor(TONES.get(tone, "text"))


def apply_theme(app: QApplication, name: ThemeName | str = ThemeName.DARK) -> Theme:
    """Fusion, the palette and the stylesheet of the named theme (dark when unknown)."""
    global _current
    theme = THEMES.get(ThemeName(name) if name in ThemeName._value2member_map_ else "", DARK)
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None and app.style().name().lower() != "fusion":
        app.setStyle(fusion)
    app.setPalette(palette(theme))
    try:
        app.setStyleSheet(stylesheet(theme))
    except (OSError, KeyError, ValueError) as exc:
        log.warning("stylesheet not applied: %s", exc)
    _current = theme
    announcer().changed.emit(theme)
    return theme
