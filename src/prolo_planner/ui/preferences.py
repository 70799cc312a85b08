"""Edit > Preferences: the theme, dark for a darkened scan room or light for a lit procedure
room; it applies at once and is kept for the next start."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QMainWindow,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.ui.settings import AppSettings
from prolo_planner.ui.theme import ThemeName, apply_theme, set_tone

THEME_TEXT = {
    ThemeName.DARK: "Dark: for a darkened scanning room",
    ThemeName.LIGHT: "Light: for a lit procedure room",
}


class PreferencesDialog(QDialog):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferences_dialog")
        self.setWindowTitle("Preferences")
        self.settings = settings
        self.theme_buttons: dict[ThemeName, QRadioButton] = {}
        group = QButtonGroup(self)
        box = QGroupBox("Theme")
        column = QVBoxLayout(box)
        for name, text in THEME_TEXT.items():
            button = QRadioButton(text)
            button.setObjectName(f"theme_{name.value}")
            button.setChecked(settings.theme == name.value)
            button.toggled.connect(lambda on, n=name: on and self.choose_theme(n))
            group.addButton(button)
            column.addWidget(button)
            self.theme_buttons[name] = button
        hint = QLabel(
            "The image keeps its dark surround in either: ultrasound is read on black. "
            "Applies at once, and at the next start."
        )
        hint.setWordWrap(True)
        set_tone(hint, "dim")
        column.addWidget(hint)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    def choose_theme(self, name: ThemeName) -> None:
        self.settings.theme = name.value
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, name)


def install_preferences(
    window: QMainWindow, settings: AppSettings, menu_name: str = "Edit"
) -> QAction:
    """Edit > Preferences… (Ctrl+,) on the window."""
    menu = window.menu(menu_name)  # type: ignore[attr-defined]
    menu.addSeparator()
    action = QAction("&Preferences…", window)
    action.setObjectName("preferences")
    action.setShortcut(QKeySequence(QKeySequence.StandardKey.Preferences))
    if action.shortcut().isEmpty():
        action.setShortcut(QKeySequence("Ctrl+,"))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    window.addAction(action)

    def show() -> PreferencesDialog:
        dialog = PreferencesDialog(settings, window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        window.preferences_dialog = dialog  # type: ignore[attr-defined]
        return dialog

    action.triggered.connect(lambda _checked=False: show())
    menu.addAction(action)
    return action
