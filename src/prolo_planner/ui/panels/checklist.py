"""The region's catalog targets, ticked when placed on an image of that region; a double-click
on one not yet placed arms the target tool with its name."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from prolo_planner.core.catalog import checklist
from prolo_planner.ui.panels.binding import Bindings
from prolo_planner.ui.panels.icons import dot_icon, qcolor
from prolo_planner.ui.plan_workspace import PlanWorkspace
from prolo_planner.ui.theme import tone_colour

PLACED = "✓"
NOT_PLACED = "○"
NAME_ROLE = Qt.ItemDataRole.UserRole


class Checklist(QWidget):
    #: Place a target of this name next (a catalog target not yet placed).
    target_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("checklist")
        self._workspace: PlanWorkspace | None = None
        self._bindings = Bindings()
        self._image_id: str | None = None
        self.heading = QLabel("")
        self.heading.setObjectName("checklist_heading")
        self.heading.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("checklist_list")
        self.list.setToolTip("Double-click a target not yet placed to place it next")
        self.list.itemDoubleClicked.connect(self._double_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.list, 1)

    def set_workspace(self, workspace: PlanWorkspace) -> None:
        self._bindings.clear()
        self._workspace = workspace
        self._bindings.connect(workspace.controller.changed, lambda _changes: self.refresh())
        self._bindings.connect(workspace.controller.reset, self.refresh)
        self.show_image(None)

    def show_image(self, image_id: str | None) -> None:
        self._image_id = image_id
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        ws = self._workspace
        region = ws.region(self._image_id) if ws else None
        if ws is None or region is None:
            self.heading.setText("Choose the image's region to see its catalog of targets.")
            return
        rows = checklist(ws.controller.plan, region)
        done = sum(1 for _, placed in rows if placed)
        self.heading.setText(f"{region.name}: {done} of {len(rows)} catalog targets placed")
        green = qcolor(ws.layer.style.target)
        for name, placed in rows:
            item = QListWidgetItem(f"{PLACED if placed else NOT_PLACED}  {name}")
            item.setData(NAME_ROLE, name)
            item.setIcon(dot_icon(green, ring=not placed))
            if not placed:
                item.setForeground(tone_colour("dim"))
            self.list.addItem(item)

    def rows(self) -> list[tuple[str, bool]]:
        return [
            (self.list.item(i).data(NAME_ROLE), self.list.item(i).text().startswith(PLACED))
            for i in range(self.list.count())
        ]

    def _double_clicked(self, item: QListWidgetItem) -> None:
        if self._workspace is None or self._workspace.read_only:
            return
        if not item.text().startswith(PLACED):
            self.target_chosen.emit(item.data(NAME_ROLE))
