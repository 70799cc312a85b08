"""The Edit menu of the plan: undo and redo (named after the step), cut, copy, paste, delete and
select all on the shown image. The actions stay; the plan they act on changes with set_plan."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from prolo_planner.ui.panels.binding import Bindings, alive
from prolo_planner.ui.plan_workspace import PlanWorkspace


class EditActions(QObject):
    def __init__(self, window: QWidget, annotation_hosts: tuple[QWidget, ...]) -> None:
        super().__init__(window)
        self._workspace: PlanWorkspace | None = None
        self._bindings = Bindings()
        self.act_undo = self._action(window, "&Undo", self._undo, QKeySequence.StandardKey.Undo)
        self.act_redo = self._action(window, "&Redo", self._redo, QKeySequence.StandardKey.Redo)
        # Cut, copy, paste, delete and select all act on annotations: they answer while the
        # viewer or the annotation list has the focus, so text fields keep their own.
        self.act_cut = self._action(window, "Cu&t", self.cut, QKeySequence.StandardKey.Cut)
        self.act_copy = self._action(window, "&Copy", self.copy, QKeySequence.StandardKey.Copy)
        self.act_paste = self._action(window, "&Paste", self.paste, QKeySequence.StandardKey.Paste)
        self.act_delete = self._action(window, "&Delete", self.delete, "Delete")
        self.act_select_all = self._action(
            window, "Select &all on image", self.select_all, QKeySequence.StandardKey.SelectAll
        )
        for action in self.annotation_actions:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            for host in annotation_hosts:
                host.addAction(action)
        for action in (self.act_undo, self.act_redo):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(action)
        self._update()

    def _action(
        self,
        window: QWidget,
        text: str,
        slot: Callable[[], object],
        key: QKeySequence.StandardKey | str,
    ) -> QAction:
        action = QAction(text, window)
        action.setObjectName("edit_" + text.replace("&", "").split()[0].lower())
        if isinstance(key, str):
            action.setShortcut(QKeySequence(key))
        else:
            action.setShortcuts(QKeySequence.keyBindings(key))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    @property
    def annotation_actions(self) -> tuple[QAction, ...]:
        return (self.act_cut, self.act_copy, self.act_paste, self.act_delete, self.act_select_all)

    @property
    def actions(self) -> tuple[QAction, ...]:
        return (self.act_undo, self.act_redo, *self.annotation_actions)

    def set_workspace(self, workspace: PlanWorkspace) -> None:
        self._bindings.clear()
        self._workspace = workspace
        c = workspace.controller
        stack = c.undo_stack
        for signal in (stack.indexChanged, stack.cleanChanged, c.selection_changed, c.changed):
            self._bindings.connect(signal, self._update)
        self._update()

    def _update(self, *_args: object) -> None:
        ws = self._workspace
        if ws is not None and not alive(ws.controller):
            ws = self._workspace = None  # the window is closing
        editable = ws is not None and not ws.read_only
        stack = ws.controller.undo_stack if ws else None
        can_undo = bool(editable and stack and stack.canUndo())
        can_redo = bool(editable and stack and stack.canRedo())
        self.act_undo.setEnabled(can_undo)
        self.act_redo.setEnabled(can_redo)
        self.act_undo.setText(f"&Undo {stack.undoText()}" if can_undo and stack else "&Undo")
        self.act_redo.setText(f"&Redo {stack.redoText()}" if can_redo and stack else "&Redo")
        selected = bool(ws and ws.controller.selection)
        self.act_copy.setEnabled(selected)
        self.act_cut.setEnabled(selected and editable)
        self.act_delete.setEnabled(selected and editable)
        self.act_paste.setEnabled(bool(editable and ws and ws.controller.can_paste))
        self.act_select_all.setEnabled(ws is not None and ws.layer.image_id is not None)

    # -- what they do -----------------------------------------------------------------------
    def _undo(self) -> None:
        if self._workspace is not None:
            self._workspace.controller.undo()

    def _redo(self) -> None:
        if self._workspace is not None:
            self._workspace.controller.redo()

    def copy(self) -> int:
        if self._workspace is None:
            return 0
        n = self._workspace.controller.copy()
        self._update()
        return n

    def cut(self) -> int:
        n = self.copy()
        if n:
            self.delete()
        return n

    def paste(self) -> tuple[str, ...]:
        if self._workspace is None:
            return ()
        return self._workspace.layer.paste()

    def delete(self) -> bool:
        return self._workspace.controller.delete() if self._workspace else False

    def select_all(self) -> None:
        """Everything drawn on the shown image and frame (what the eye can see)."""
        ws = self._workspace
        if ws is not None:
            plan = ws.controller.plan
            ws.controller.select(i for i in ws.layer.shown_ids() if plan.find(i) is not None)
