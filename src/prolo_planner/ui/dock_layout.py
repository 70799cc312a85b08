"""The docks around the image: where each one goes, sizes that fit the screen the window is on
(a clinic's 1366 x 768 as well as 1920 x 1080), View > Reset layout, and no dock turned into a
tab by dropping it on another (the window's own tabs, Annotations | Image | Details, stay)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

Area = Qt.DockWidgetArea


@dataclass(frozen=True, slots=True)
class DockPlace:
    """Where a dock goes when the layout is made or reset."""

    area: Qt.DockWidgetArea
    #: Tabbed with this dock (object name), or split below it, or neither (its own place).
    tab_with: str = ""
    below: str = ""
    #: Shown after a reset (True or False), or left as it is (None: a panel shown when it
    #: has something to show, as the send queue).
    shown: bool | None = True
    #: Its share of the window's height (a strip under the image), when it has one.
    height_share: float = 0.0
    #: Its part of a column shared with others (more for what must not be scrolled to).
    weight: float = 1.0


#: The window's share each way, and the limits in pixels: at 1366 x 768 the image keeps more
#: than half of the window's width and more than half of its height.
LEFT_SHARE, LEFT_PX = 0.12, (140, 210)
RIGHT_SHARE, RIGHT_PX = 0.26, (320, 460)
BOTTOM_PX = (170, 330)
#: A feature asks for a strip of so many pixels of a window this tall (add_dock's height).
REFERENCE_HEIGHT = 1000


def _clamp(value: float, limits: tuple[int, int]) -> int:
    return int(min(max(value, limits[0]), limits[1]))


class DockLayout(QObject):
    """Places the docks of one main window and puts them back on request."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._fit_when_shown = False
        window.installEventFilter(self)
        # Docks may be moved and split beside each other, but dropping one on another does
        # not make tabs: that was too easy to do by accident while dragging.
        window.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowNestedDocks
        )
        # The right column (annotations, properties, warnings) runs the window's full height:
        # a strip under the image (the patients) does not take the warnings' room.
        window.setCorner(Qt.Corner.BottomRightCorner, Area.RightDockWidgetArea)
        window.setCorner(Qt.Corner.TopRightCorner, Area.RightDockWidgetArea)
        self._places: dict[str, tuple[QDockWidget, DockPlace]] = {}
        #: Called after a reset, for what else the layout decides (the tool bar's place).
        self.after_reset: list[Callable[[], None]] = []

    def place(self, dock: QDockWidget, where: DockPlace) -> QDockWidget:
        """Put a dock in its place now, and there again on every reset."""
        self._places[dock.objectName()] = (dock, where)
        self._put(dock, where)
        if where.shown is not None:
            dock.setVisible(where.shown)
        return dock

    def _put(self, dock: QDockWidget, where: DockPlace) -> None:
        w = self.window
        other = self._places.get(where.tab_with or where.below)
        if other is not None and where.tab_with:
            if w.dockWidgetArea(other[0]) == Area.NoDockWidgetArea:
                w.addDockWidget(where.area, other[0])
            w.tabifyDockWidget(other[0], dock)
            self._leader(dock).raise_()  # a tab added behind, not in front
        elif other is not None and where.below:
            w.splitDockWidget(other[0], dock, Qt.Orientation.Vertical)
        else:
            w.addDockWidget(where.area, dock)

    def _leader(self, dock: QDockWidget) -> QDockWidget:
        """The first dock of the tabs `dock` is in (the one shown in front)."""
        seen = set()
        while True:
            where = self._places[dock.objectName()][1]
            if not where.tab_with or where.tab_with in seen or where.tab_with not in self._places:
                return dock
            seen.add(where.tab_with)
            dock = self._places[where.tab_with][0]

    def docks(self) -> list[QDockWidget]:
        return [dock for dock, _ in self._places.values()]

    # -- sizes ------------------------------------------------------------------------------
    def fit(self) -> None:
        """Dock sizes for the window's size now: the image keeps most of it."""
        w = self.window
        width, height = max(w.width(), 800), max(w.height(), 600)
        by_area: dict[Qt.DockWidgetArea, list[QDockWidget]] = {}
        for dock, _ in self._places.values():
            if dock.isVisible() and not dock.isFloating():
                by_area.setdefault(w.dockWidgetArea(dock), []).append(dock)
        across = []
        sizes = []
        # The strip under the image spans the left column and the image: the right column
        # takes no more than it leaves (else the strip and the column would overlap).
        bottom_min = max(
            (d.minimumSizeHint().width() for d in by_area.get(Area.BottomDockWidgetArea, [])),
            default=0,
        )
        for area, share, limits in (
            (Area.LeftDockWidgetArea, LEFT_SHARE, LEFT_PX),
            (Area.RightDockWidgetArea, RIGHT_SHARE, RIGHT_PX),
        ):
            if by_area.get(area):
                across.append(by_area[area][0])
                size = _clamp(width * share, limits)
                if area == Area.RightDockWidgetArea and bottom_min:
                    size = max(limits[0], min(size, width - bottom_min - 8))
                sizes.append(size)
        if across:
            w.resizeDocks(across, sizes, Qt.Orientation.Horizontal)
        # One size per section of the column: a group of tabs is sized by its first dock.
        right = [
            d
            for d in by_area.get(Area.RightDockWidgetArea, [])
            if not self._places[d.objectName()][1].tab_with
        ]
        if right:
            column = height - 120
            weights = [self._places[d.objectName()][1].weight for d in right]
            sizes = [int(column * wt / sum(weights)) for wt in weights]
            w.resizeDocks(right, sizes, Qt.Orientation.Vertical)
        bottom = by_area.get(Area.BottomDockWidgetArea, [])
        strips = [d for d in bottom if self._places[d.objectName()][1].height_share]
        if strips:
            sizes = [
                _clamp(height * self._places[d.objectName()][1].height_share, BOTTOM_PX)
                for d in strips
            ]
            w.resizeDocks(strips, sizes, Qt.Orientation.Vertical)

    def first_run(self) -> None:
        """No layout saved yet: most of the screen, and the docks sized for it (again once
        the window is shown: Qt sizes docks for good only then)."""
        w = self.window
        screen = w.screen().availableGeometry()
        width = min(1600, int(screen.width() * 0.96))
        height = min(1000, int(screen.height() * 0.96))
        w.resize(width, height)
        w.move(screen.center() - w.rect().center())
        self.fit()
        self._fit_when_shown = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.window and event.type() == QEvent.Type.Show and self._fit_when_shown:
            self._fit_when_shown = False
            QTimer.singleShot(0, self, self.fit)
        return False

    # -- reset ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Every dock back in its place, docked, at the sizes for this window."""
        w = self.window
        was_shown = {name: dock.isVisible() for name, (dock, _) in self._places.items()}
        for dock, _ in self._places.values():
            dock.setFloating(False)
            w.removeDockWidget(dock)
        for name, (dock, where) in self._places.items():
            self._put(dock, where)
            dock.setVisible(was_shown[name] if where.shown is None else where.shown)
        # The first of each group of tabs in front (Annotations before Image and Details).
        for dock, where in self._places.values():
            if not where.tab_with and dock.isVisible():
                dock.raise_()
        for call in self.after_reset:
            call()
        self.fit()

    def add_action(self, menu: QMenu) -> QAction:
        """View > Reset layout."""
        action = QAction("Reset &layout", self.window)
        action.setObjectName("reset_layout")
        # No key of its own: rarely wanted, and every free key is worth more elsewhere.
        action.setStatusTip("Every panel back in its place, sized for this window")
        action.triggered.connect(lambda _checked=False: self.reset())
        self.window.addAction(action)
        menu.addAction(action)
        return action
