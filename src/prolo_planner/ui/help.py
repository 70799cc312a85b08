"""Help menu content: the keyboard and mouse shortcuts dialog, and About."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from prolo_planner import __version__, paths


@dataclass(frozen=True, slots=True)
class Shortcut:
    group: str
    keys: str
    what: str


#: What the mouse (and Esc) does in the image view: the viewer pane's own gestures.
MOUSE_GESTURES: tuple[Shortcut, ...] = (
    Shortcut("Mouse", "Wheel", "Zoom in or out at the cursor"),
    Shortcut("Mouse", "Left or middle drag", "Pan the image"),
    Shortcut("Mouse", "Right drag", "Brightness (up/down) and contrast (left/right)"),
    Shortcut("Mouse", "Two left clicks", "While calibrating: mark two ticks of the depth scale"),
    Shortcut("Image", "Esc", "Cancel a calibration in progress"),
    Shortcut("Mouse", "Drag and drop", "Drop files or folders onto the window to open them"),
)


#: What the mouse and keys do while planning on the image, beside the tools' own keys.
PLAN_GESTURES: tuple[Shortcut, ...] = (
    Shortcut("Plan", "Esc", "Cancel what is half drawn; again: back to the select tool"),
    Shortcut("Plan", "Enter", "Close an avoid-zone outline (or double-click its last point)"),
    Shortcut("Plan", "Backspace", "Take back the last point of an outline"),
    Shortcut("Mouse", "Shift+click", "Add to or take from the selection"),
    Shortcut("Mouse", "Drag on an annotation", "Move it, or its point under a handle"),
    Shortcut("Mouse", "Right click on an annotation", "Delete, copy, paste, target status"),
)


def tool_shortcuts(entries: Iterable[tuple[str, str, str]]) -> list[Shortcut]:
    """Rows of the tools for the shortcuts table: (name, key, what it does) of each tool."""
    return [Shortcut("Plan", key, f"{name.capitalize()}: {what}") for name, key, what in entries]


#: Keys Qt lists for standard actions that a PC keyboard does not have (F13 to F35, and the
#: Undo, Redo, Cut, Copy and Paste keys of some Unix keyboards).
_NOT_ON_A_KEYBOARD = re.compile(r"^(F(1[3-9]|2\d|3[0-5])|Undo|Redo|Cut|Copy|Paste)$")


def keyboard_keys(keys: str) -> str:
    """'Ctrl+Z or Alt+Backspace or Undo' as the keys on the keyboard, one a line."""
    found = [k for k in keys.split(" or ") if not _NOT_ON_A_KEYBOARD.match(k.strip())]
    return "\n".join(found or [keys])


class ShortcutsDialog(QDialog):
    """A table of every shortcut, grouped as in the menus. Non-modal: it can stay open."""

    def __init__(self, shortcuts: Iterable[Shortcut], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcuts_dialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.shortcuts = list(shortcuts)
        self.table = QTableWidget(len(self.shortcuts), 3)
        self.table.setHorizontalHeaderLabels(["Menu", "Keys", "Does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        # Each alternative of a key on its own line, so neither column squeezes the other.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        for row, s in enumerate(self.shortcuts):
            for col, text in enumerate((s.group, keyboard_keys(s.keys), s.what)):
                item = QTableWidgetItem(text)
                if col == 1:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, col, item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.table.resizeRowsToContents()
        self.resize(600, 640)

    def keys(self) -> list[str]:
        return [s.keys for s in self.shortcuts]


def about_html() -> str:
    import pydicom

    return (
        f"<h3>Prolo Planner {__version__}</h3>"
        "<p>Viewing and planning of ultrasound-guided prolotherapy.</p>"
        "<p>Prolo Planner informs and warns; it never prescribes. Measurements are only as "
        "good as the calibration shown beside them in the details panel.</p>"
        f"<p>Settings: {paths.config_dir()}<br>Log: {paths.log_dir() / 'prolo-planner.log'}</p>"
        f"<p>Qt for Python {pyside_version}, pydicom {pydicom.__version__}. "
        "Licence: MIT.</p>"
    )


def show_about(parent: QWidget | None) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName("about_box")
    box.setWindowTitle("About Prolo Planner")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_html())
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    label = box.findChild(QLabel, "qt_msgbox_label")
    if label is not None:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()  # window-modal, returns at once
    return box
