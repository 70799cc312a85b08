"""File > Open recent: the files and folders opened last, filled each time the menu opens, with
the ones that vanished since taken off the list (and said so)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

from prolo_planner.ui.notices import Notice

if TYPE_CHECKING:
    from prolo_planner.ui.window_protocol import PlannerWindow


class RecentFilesMenu:
    def __init__(self, window: PlannerWindow, menu: QMenu) -> None:
        self.window = window
        self.menu = menu
        menu.setObjectName("recent_menu")
        menu.aboutToShow.connect(self.fill)

    def fill(self) -> None:
        menu, settings = self.menu, self.window.settings
        menu.clear()
        entries = settings.recent_files()
        gone = [p for p in entries if not p.exists()]
        if gone:
            settings.remove_recent(gone)
            self.window.report(
                [Notice("no longer exists; removed from Open recent", p) for p in gone],
                f"{len(gone)} recent file{'s' if len(gone) != 1 else ''} no longer exist",
            )
        for n, path in enumerate(p for p in entries if p not in gone):
            act = menu.addAction(f"&{(n + 1) % 10}  {path.name}")
            act.setToolTip(str(path))
            act.setStatusTip(str(path))
            act.triggered.connect(lambda _c=False, p=path: self.open(p))
        if menu.isEmpty():
            menu.addAction("(none)").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear list", settings.clear_recent)

    def open(self, path: Path) -> None:
        if not path.exists():
            self.window.settings.remove_recent([path])
            self.window.report([Notice("no longer exists; removed from Open recent", path)])
            return
        self.window.door.open_paths([path], "Open recent")
