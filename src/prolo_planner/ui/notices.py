"""Non-blocking notices of problems: a status-bar message and a Messages dock, never a modal box."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger("prolo_planner.ui")

#: How long the status-bar summary of a notice stays, in milliseconds.
STATUS_TIMEOUT_MS = 12_000


@dataclass(frozen=True, slots=True)
class Notice:
    """One thing the clinician should know: which file (if any) and what went wrong."""

    reason: str
    path: Path | None = None

    @property
    def line(self) -> str:
        return f"{self.path.name}: {self.reason}" if self.path else self.reason


class MessagesDock(QDockWidget):
    """Lists every notice of the session; stays hidden until the first one arrives."""

    def __init__(self, status_bar: QStatusBar | None = None, parent: QWidget | None = None) -> None:
        super().__init__("Messages", parent)
        self.setObjectName("messages_dock")
        self._status_bar = status_bar
        self.list = QListWidget()
        self.list.setObjectName("messages_list")
        self.list.setWordWrap(True)
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.setAlternatingRowColors(True)

        copy = QPushButton("Copy")
        copy.setToolTip("Copy the selected messages (or all) to the clipboard")
        copy.clicked.connect(self.copy_to_clipboard)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.list.clear)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(copy)
        buttons.addWidget(clear)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        self.setWidget(body)
        self.hide()

    def report(self, notices: Iterable[Notice], summary: str | None = None) -> int:
        """Add notices to the list, show the dock and a one-line summary. Returns how many."""
        notices = list(notices)
        if not notices:
            return 0
        stamp = datetime.now().strftime("%H:%M:%S")
        for notice in notices:
            log.warning("%s", f"{notice.path}: {notice.reason}" if notice.path else notice.reason)
            item = QListWidgetItem(f"{stamp}  {notice.line}")
            item.setData(Qt.ItemDataRole.UserRole, notice.line)
            if notice.path:
                item.setToolTip(str(notice.path))
            self.list.addItem(item)
        self.list.scrollToBottom()
        self.show()
        self.raise_()
        if self._status_bar is not None:
            if summary is None:
                summary = (
                    notices[0].line
                    if len(notices) == 1
                    else f"{len(notices)} files could not be opened (see Messages)"
                )
            self._status_bar.showMessage(summary, STATUS_TIMEOUT_MS)
        return len(notices)

    def lines(self) -> list[str]:
        """Every notice as 'file: reason', oldest first."""
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def copy_to_clipboard(self) -> None:
        items = self.list.selectedItems() or [self.list.item(i) for i in range(self.list.count())]
        QGuiApplication.clipboard().setText("\n".join(item.text() for item in items))
