"""The main window's actions and menus: which action goes in which menu, with which key, and
the rows of Help > Keyboard shortcuts that say so. The actions live on this object (not as
attributes written onto the window)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from prolo_planner.core.overlay import ALL_KINDS
from prolo_planner.core.plan import AnnotationKind, SiteStatus
from prolo_planner.ui.help import Shortcut, show_about, tool_shortcuts
from prolo_planner.ui.recent_files import RecentFilesMenu
from prolo_planner.ui.tool_bar import TOOL_TEXT
from prolo_planner.ui.tools import TOOL_ENTRIES

if TYPE_CHECKING:
    from prolo_planner.ui.main_window import MainWindow


def label(text: str) -> str:
    """A menu text without its mnemonic '&' and shortcut column, for the shortcuts table."""
    return text.split("\t")[0].replace("&", "")


def _keys(action: QAction) -> str:
    return " or ".join(
        k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()
    )


class WindowActions:
    """Fills a window's menus and holds their actions; `rows` are its shortcuts, in menu
    order."""

    act_open: QAction
    act_close: QAction
    act_full_screen: QAction
    act_show_skin: QAction
    act_show_margins: QAction
    kind_actions: dict[AnnotationKind, QAction]
    recent: RecentFilesMenu

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.rows: list[Shortcut] = []

    @property
    def recent_menu(self) -> QMenu:
        return self.recent.menu

    def build(self) -> None:
        w = self.window
        file = w.menu("File")
        self.act_open = self.action(file, "&Open files…", w.door.choose_files, "Ctrl+O")
        self.action(file, "Open &folder or DICOMDIR…", w.door.choose_folder, "Ctrl+Shift+O")
        self.recent = RecentFilesMenu(w, file.addMenu("Open &recent"))
        file.addSeparator()
        for action in w.plan_files.actions:
            self.add(file, action)
        file.addSeparator()
        self.act_close = self.action(file, "&Close image", w.close_current_image, "Ctrl+W")
        file.addSeparator()
        self.action(file, "&Quit", w.close, "Ctrl+Q")

        edit = w.menu("Edit")
        e = w.edit_actions
        for action in (e.act_undo, e.act_redo, None, *e.annotation_actions[:4], None):
            if action is None:
                edit.addSeparator()
            else:
                self.add(edit, action, bind=False)
        self.add(edit, e.act_select_all, bind=False)

        view = w.menu("View")
        self.viewer_action(view, "fit", "&Fit to window")
        self.viewer_action(view, "one_to_one", "Actual pixels (&1:1)")
        self.viewer_action(view, "zoom_in", "Zoom &in")
        self.viewer_action(view, "zoom_out", "Zoom &out")
        self.viewer_action(view, "reset_view", "&Reset view")
        self.viewer_action(view, "reset_display", "Reset &brightness/contrast")
        view.addSeparator()
        self.show_menu(view.addMenu("&Annotations shown"))
        view.addSeparator()
        for dock, key in (
            (w.thumbnail_dock, "Ctrl+1"),
            (w.metadata_dock, "Ctrl+2"),
            (w.messages, "Ctrl+3"),
            (w.annotations_dock, None),
            (w.image_dock, None),
            (w.properties_dock, None),
            (w.warnings_dock, None),
        ):
            toggle = dock.toggleViewAction()
            toggle.setText(f"Show {dock.windowTitle().lower()} panel")
            self.bind(toggle, key, "View")
            view.addAction(toggle)
        view.addSeparator()
        self.act_full_screen = self.action(view, "F&ull screen", w.toggle_full_screen, "F11")
        self.act_full_screen.setCheckable(True)

        image = w.menu("Image")
        self.viewer_action(image, "play", "&Play / pause")
        self.viewer_action(image, "next_frame", "&Next frame")
        self.viewer_action(image, "previous_frame", "Pre&vious frame")
        self.viewer_action(image, "first_frame", "F&irst frame")
        self.viewer_action(image, "last_frame", "&Last frame")
        image.addSeparator()
        self.action(image, "Ne&xt image", lambda: w.select_relative(1), "PgDown")
        self.action(image, "Previous ima&ge", lambda: w.select_relative(-1), "PgUp")
        image.addSeparator()
        image.addAction(w.tool_bar.tool_actions["calibrate"])
        image.addAction(w.tool_bar.tool_actions["depth zero"])

        plan = w.menu("Plan")
        for name, action in w.tool_bar.tool_actions.items():
            action.setText(TOOL_TEXT.get(name, name))
            plan.addAction(action)
        self.rows += tool_shortcuts((t.name, t.key, t.what) for t in TOOL_ENTRIES)
        plan.addSeparator()
        status = plan.addMenu("Mark selected &targets")
        for s in SiteStatus:
            act = status.addAction(s.value.capitalize())
            act.setObjectName(f"mark_{s.name.lower()}")
            act.triggered.connect(
                lambda _c=False, s=s: w.plan.set_target_status(w.plan.selection, s)
            )

        help_menu = w.menu("Help")
        self.action(help_menu, "&Keyboard shortcuts…", w.show_shortcuts, "F1")
        self.action(help_menu, "&About Prolo Planner", lambda: show_about(w))

    def show_menu(self, menu: QMenu) -> None:
        """Show or hide annotations by kind, the skin line and the zones' margins."""
        self.kind_actions = {}
        for kind in AnnotationKind:
            act = menu.addAction(f"{kind.value.capitalize()}s")
            act.setObjectName(f"show_{kind.name.lower()}")
            act.setCheckable(True)
            act.setChecked(True)
            act.toggled.connect(lambda _on=False: self.apply_shown_kinds())
            self.kind_actions[kind] = act
        menu.addSeparator()
        self.act_show_skin = menu.addAction("Skin line")
        self.act_show_margins = menu.addAction("Avoid-zone margins")
        for act in (self.act_show_skin, self.act_show_margins):
            act.setCheckable(True)
            act.setChecked(True)
            act.toggled.connect(lambda _on=False: self.apply_shown_kinds())

    def apply_shown_kinds(self) -> None:
        """The plan's layer shows the kinds ticked, the skin line and margins if ticked."""
        layer = self.window.workspace.layer
        kinds = [k for k, act in self.kind_actions.items() if act.isChecked()]
        layer.set_visible_kinds(kinds if len(kinds) < len(ALL_KINDS) else ALL_KINDS)
        layer.set_style(
            replace(
                layer.style,
                show_skin_line=self.act_show_skin.isChecked(),
                show_margins=self.act_show_margins.isChecked(),
            )
        )

    # -- one action -------------------------------------------------------------------------
    def action(
        self, menu: QMenu, text: str, slot: Callable[[], object], key: str | None = None
    ) -> QAction:
        """A window-wide action: its key works whichever panel has the focus."""
        action = QAction(text, self.window)
        action.triggered.connect(lambda _checked=False: slot())
        self.bind(action, key, menu.title().replace("&", ""))
        menu.addAction(action)
        return action

    def add(self, menu: QMenu, action: QAction, bind: bool = True) -> None:
        """An action made elsewhere, in this menu; its keys join the shortcuts table."""
        if bind:
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.window.addAction(action)
        menu.addAction(action)
        if keys := _keys(action):
            self.rows.append(Shortcut(menu.title().replace("&", ""), keys, label(action.text())))

    def bind(self, action: QAction, key: str | None, group: str) -> None:
        if not key:
            return
        sequence = QKeySequence(key)
        action.setShortcut(sequence)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.window.addAction(action)
        shown = sequence.toString(QKeySequence.SequenceFormat.NativeText)
        self.rows.append(Shortcut(group, shown, label(action.text())))

    def viewer_action(self, menu: QMenu, name: str, text: str) -> QAction:
        """The viewer pane's own action in this menu: one key, one action, no ambiguity.

        The pane's actions answer only while the viewer has the focus (the same letters type
        text in other panels); the menu shows their keys and triggers them from anywhere.
        """
        action = self.window.pane.key_actions[name]
        action.setText(text)
        menu.addAction(action)
        self.rows.append(Shortcut(menu.title().replace("&", ""), _keys(action), label(text)))
        return action
