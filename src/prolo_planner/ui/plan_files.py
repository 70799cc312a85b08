"""File > New plan, Open plan file…, Save, Export plan file…: the plan file on disk, the prompt
before unsaved work is thrown away, and finding an image that moved since the plan was saved.

Saving is one idea. A session's plan is saved as it is edited (the sessions feature sets
`session_saver`): Save only saves it now, and nothing asks about unsaved work. A plan file is
something else, made on purpose: "Export plan file" writes one, under a name that carries no
patient identity. A plan outside any session (images opened with no session) is saved to its
plan file.

Every dialog is a replaceable callable, so tests answer them without a modal loop.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from prolo_planner.core.plan import ImagePlan
from prolo_planner.store.plan_file import (
    PlanFileError,
    missing_images,
    read_plan_file,
    save_plan,
)
from prolo_planner.ui.plan_workspace import image_name

if TYPE_CHECKING:
    from prolo_planner.ui.window_protocol import PlannerWindow

PLAN_SUFFIX = ".prolo.json"


def default_file_name(day: str) -> str:
    """A plan file's suggested name: the day only, nothing of who the patient is."""
    return f"plan {day}{PLAN_SUFFIX}"


PLAN_FILTER = "Prolo Planner plans (*.prolo.json *.json);;All files (*)"


class UnsavedChoice(StrEnum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


# -- the dialogs (each replaceable) ---------------------------------------------------------
def ask_unsaved(parent: QWidget, plan_name: str) -> UnsavedChoice:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Unsaved plan")
    box.setText(f"The plan “{plan_name}” has changes that are not saved.")
    box.setInformativeText("Save them before going on?")
    save = box.addButton("Save", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Don't save", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save)
    box.exec()
    if box.clickedButton() is save:
        return UnsavedChoice.SAVE
    if box.clickedButton() is discard:
        return UnsavedChoice.DISCARD
    return UnsavedChoice.CANCEL


def choose_plan_to_open(parent: QWidget, folder: Path) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open plan", str(folder), PLAN_FILTER)
    return Path(path) if path else None


def choose_plan_save_path(parent: QWidget, suggested: Path) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, "Save plan as", str(suggested), PLAN_FILTER)
    if not path:
        return None
    chosen = Path(path)
    return chosen if chosen.name.endswith(".json") else chosen.with_name(chosen.name + PLAN_SUFFIX)


def choose_image_location(parent: QWidget, image: ImagePlan, folder: Path) -> Path | None:
    name = image_name(image)
    path, _ = QFileDialog.getOpenFileName(
        parent, f"Locate {name} (moved or renamed since the plan was saved)", str(folder),
        f"{name} ({name});;All files (*)",
    )  # fmt: skip
    return Path(path) if path else None


def show_plan_error(parent: QWidget, title: str, message: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Ok)
    box.setParent(parent, box.windowFlags())
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.exec()


class PlanFiles(QObject):
    """The plan's file actions for one window."""

    def __init__(self, window: PlannerWindow) -> None:
        super().__init__(window.as_widget())
        self.window = window
        #: Replaceable dialogs: (parent, plan name) -> choice; (parent, folder) -> path; ...
        self.ask_unsaved: Callable[[QWidget, str], UnsavedChoice] = ask_unsaved
        self.choose_open_path: Callable[[QWidget, Path], Path | None] = choose_plan_to_open
        self.choose_save_path: Callable[[QWidget, Path], Path | None] = choose_plan_save_path
        self.locate_image: Callable[[QWidget, ImagePlan, Path], Path | None] = choose_image_location
        self.show_error: Callable[[QWidget, str, str], None] = show_plan_error
        #: Set while a session owns the window's plan: saves it now (the session's autosave);
        #: False if it could not.
        self.session_saver: Callable[[], bool] | None = None
        self.act_new = self._action("&New plan", self.new_plan, "Ctrl+N")
        # No key: Ctrl+Shift+P is Session > Patients, and two actions on one key answer neither.
        self.act_open = self._action("Open plan &file…", self.open_plan, "")
        self.act_save = self._action("&Save", self.save, "Ctrl+S")
        self.act_save.setToolTip(
            "A session is saved as you work: this saves it now. A plan outside a session is "
            "saved to its plan file."
        )
        self.act_export = self._action("E&xport plan file…", self.save_as, "Ctrl+Shift+S")
        self.act_export.setObjectName("plan_export")
        self.act_export.setToolTip("Write the plan to a plan file (a name without the patient's)")

    def _action(self, text: str, slot: Callable[[], object], key: str) -> QAction:
        action = QAction(text, self.window.as_widget())
        action.setObjectName("plan_" + text.split()[0].strip("&").lower())
        if key:
            action.setShortcut(QKeySequence(key))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    @property
    def actions(self) -> tuple[QAction, ...]:
        return (self.act_new, self.act_open, self.act_save, self.act_export)

    def _folder(self) -> Path:
        current = self.window.workspace.file_path
        if current is not None:
            return current.parent
        return self.window.settings.last_folder or Path.home()

    # -- unsaved work -----------------------------------------------------------------------
    def needs_saving(self) -> bool:
        """Unsaved changes worth a question: work done on the plan, or any change to a plan
        that has a file. A scratch plan of images merely opened is not asked about."""
        ws = self.window.workspace
        if self.session_saver is not None:
            return False  # the session saves itself
        if ws.read_only or not ws.controller.is_modified:
            return False
        return ws.has_work() or ws.file_path is not None

    def keep_or_discard_changes(self) -> bool:
        """Before the plan is replaced or the window closes: True to go on (saved, or the
        clinician chose not to save), False to stay."""
        if not self.needs_saving():
            return True
        choice = self.ask_unsaved(self.window.as_widget(), self.window.workspace.name)
        if choice is UnsavedChoice.SAVE:
            return self.save()
        return choice is UnsavedChoice.DISCARD

    # -- the actions ------------------------------------------------------------------------
    def new_plan(self) -> bool:
        if not self.keep_or_discard_changes():
            return False
        self.window.new_plan()
        return True

    def open_plan(self, path: Path | None = None) -> bool:
        """Open a plan file: refused with the file's own reason if it cannot be read (a newer
        format, a broken file); images that moved are looked for, one dialog each."""
        if not self.keep_or_discard_changes():
            return False
        if path is None:
            path = self.choose_open_path(self.window.as_widget(), self._folder())
            if path is None:
                return False
        try:
            loaded = read_plan_file(path)
        except PlanFileError as exc:
            self.show_error(self.window.as_widget(), "Cannot open the plan", str(exc))
            return False
        plan = loaded.plan
        located: dict[str, Path] = {}
        for image in missing_images(plan, None):
            found = self.locate_image(self.window.as_widget(), image, path.parent)
            if found is not None and found.is_file():
                located[image.id] = found
        self.window.settings.last_folder = path.parent
        self.window.install_plan(
            plan, title="", base_dir=path.parent, file_path=path, located=located
        )
        if loaded.was_upgraded:
            self.window.show_status(
                f"Plan of format {loaded.format_version} read; Save writes it in the current "
                "format",
                10_000,
            )
        return True

    def save(self) -> bool:
        """Save: a session's plan now (it is saved as it is edited anyway); a plan outside any
        session to its plan file, asked for the first time."""
        if self.session_saver is not None:
            return self.session_saver()
        ws = self.window.workspace
        if ws.file_path is None:
            return self.save_as()
        return self._write(ws.file_path)

    def save_as(self, path: Path | None = None) -> bool:
        """Export plan file: write the plan to a file chosen by the clinician, suggested under
        a name with no patient identity in it ("plan 2026-03-14.prolo.json")."""
        if path is None:
            suggested = self._folder() / default_file_name(self._plan_date())
            path = self.choose_save_path(self.window.as_widget(), suggested)
            if path is None:
                return False
        return self._write(path)

    def _plan_date(self) -> str:
        """The plan's day: its session's, when a session owns it, else today."""
        return self.window.workspace.plan_date or _dt.date.today().isoformat()

    def _write(self, path: Path) -> bool:
        ws = self.window.workspace
        try:
            written = save_plan(path, ws.controller.plan)
        except PlanFileError as exc:
            self.show_error(self.window.as_widget(), "Cannot save the plan", str(exc))
            return False
        if self.session_saver is not None:
            # A copy of a session's plan: the session stays where the plan lives.
            self.window.show_status(f"Plan file exported to {written}", 8000)
            return True
        if not ws.read_only:
            ws.file_path = written
            ws.controller.mark_saved()
        self.window.settings.last_folder = written.parent
        self.window.update_title()
        self.window.show_status(f"Plan saved to {written}", 8000)
        return True
