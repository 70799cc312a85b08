"""Carry forward in the window: the dialog (which sites, and how) and placing what was carried
forward unplaced, one click on the image (PlaceTargetTool). The rule itself, by site, with
what is skipped and why, is core/carry_forward.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.carry_forward import (
    CarryForward,
    CarryMode,
    ImageChoice,
    already_planned,
    carry_forward,
    image_choices,
    site_text,
)
from prolo_planner.core.edits import ReplaceAnnotation
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import Plan, Target
from prolo_planner.ui.plan_controller import PlanController
from prolo_planner.ui.sessions.session_text import image_label


def choice_label(choice: ImageChoice) -> str:
    where = "today's" if choice.in_today else "from the prior session"
    return f"{image_label(choice.image, choice.number)} ({where})"


# -- the dialog ---------------------------------------------------------------------------------
class CarryForwardDialog(QDialog):
    """Which of last session's sites, and how: unplaced, or at the same positions on an image.
    Sites today's plan has already are shown, greyed, and cannot be ticked."""

    def __init__(
        self, prior: Plan, today: Plan, prior_title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Carry forward targets")
        self.setObjectName("carry_forward_dialog")
        self.prior, self.today = prior, today
        self.choices = image_choices(prior, today)
        planned = already_planned(prior, today)
        intro = QLabel(f"Sites of {prior_title}:")
        intro.setWordWrap(True)
        self.targets = QListWidget()
        self.targets.setObjectName("carry_targets")
        self.targets.setWordWrap(True)
        for t in prior.targets():
            ml = t.injectate.volume_ml
            text = (
                f"{site_text(t)} — {t.kind.value}, {ml:g} mL "
                f"dextrose {t.injectate.dextrose_percent:g} %"
            )
            if t.injectate.anaesthetic.value != "none":
                text += f" + {t.injectate.anaesthetic.value} {t.injectate.anaesthetic_percent:g} %"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, t.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            if t.id in planned:
                # Not again: a second copy would double the dose and the report's rows.
                item.setText(f"{site_text(t)} — {planned[t.id]}: not added again")
                item.setCheckState(Qt.CheckState.Unchecked)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip(f"{site_text(t)} is {planned[t.id]}: it is not carried again")
            else:
                item.setCheckState(Qt.CheckState.Checked)
            self.targets.addItem(item)
        self.note = QLabel("")
        self.note.setObjectName("carry_note")
        self.note.setWordWrap(True)
        self.unplaced = QRadioButton("Unplaced: a checklist to place on today's image")
        self.same = QRadioButton("At the same positions on:")
        group = QButtonGroup(self)
        group.addButton(self.unplaced)
        group.addButton(self.same)
        self.image = QComboBox()
        self.image.setObjectName("carry_image")
        for choice in self.choices:
            self.image.addItem(choice_label(choice))
        self.unplaced.setChecked(True)
        self.unplaced.setEnabled(any(c.in_today for c in self.choices))
        if not self.unplaced.isEnabled():
            self.same.setChecked(True)
        self.image.setEnabled(self.same.isChecked())
        self.same.toggled.connect(self.image.setEnabled)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Carry forward")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.targets.itemChanged.connect(lambda _item: self._update())
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.targets, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.unplaced)
        layout.addWidget(self.same)
        layout.addWidget(self.image)
        layout.addWidget(self.buttons)
        self.resize(620, 420)
        self._update()

    def _update(self) -> None:
        """Say what will happen: with nothing ticked, that nothing can be carried."""
        ticked = len(self.chosen_ids())
        skipped = len(already_planned(self.prior, self.today))
        if not ticked:
            text = "No site ticked: tick the sites to carry forward."
            if skipped and skipped == len(self.prior.targets()):
                text = "Every site of that session is already in today's plan: nothing to carry."
        else:
            text = f"{ticked} site{'s' if ticked != 1 else ''} to carry forward"
            if skipped:
                text += f"; {skipped} already in today's plan (greyed) will not be added again"
        self.note.setText(text)
        self.ok.setEnabled(ticked > 0)

    def chosen_ids(self) -> list[str]:
        return [
            self.targets.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.targets.count())
            if self.targets.item(i).checkState() == Qt.CheckState.Checked
        ]

    @property
    def mode(self) -> CarryMode:
        return CarryMode.SAME_POSITIONS if self.same.isChecked() else CarryMode.UNPLACED

    def onto(self, current_image_id: str | None = None) -> ImageChoice | None:
        if self.mode is CarryMode.SAME_POSITIONS:
            i = self.image.currentIndex()
            return self.choices[i] if 0 <= i < len(self.choices) else None
        today = [c for c in self.choices if c.in_today]
        chosen = next((c for c in today if c.image.id == current_image_id), None)
        return chosen or (today[0] if today else None)

    def result(self, current_image_id: str | None = None) -> CarryForward:
        """The carry-forward as chosen: its edit (None when nothing goes) and what it says."""
        onto = self.onto(current_image_id)
        if onto is None:
            return CarryForward(None, (), (), nothing_chosen=True)
        return carry_forward(self.prior, self.today, self.mode, onto, self.chosen_ids())


# -- placing what was carried forward unplaced ---------------------------------------------------
class PlaceTargetTool:
    """One click on the image puts an unplaced target there (one undo step), then hands the
    view back to the tool it had. Uses only the view's tool interface (ImageView.set_tool)."""

    cursor = Qt.CursorShape.CrossCursor

    def __init__(
        self,
        controller: PlanController,
        target_id: str,
        image_id: Callable[[], str | None],
        frame: Callable[[], int | None],
        done: Callable[[], None],
    ) -> None:
        self.controller = controller
        self.target_id = target_id
        self._image_id = image_id
        self._frame = frame
        self._done = done

    def press(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        pass

    def move(self, p: Point, dragging: bool, modifiers: Qt.KeyboardModifier) -> None:
        pass

    def release(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        place(self.controller, self.target_id, p, self._image_id(), self._frame())
        self._done()

    def double_click(self, p: Point, modifiers: Qt.KeyboardModifier) -> None:
        pass

    def key(self, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> bool:
        if key == Qt.Key.Key_Escape:
            self._done()
            return True
        return False

    def deactivate(self) -> None:
        pass


def place(
    controller: PlanController,
    target_id: str,
    at: Point,
    image_id: str | None,
    frame: int | None,
) -> bool:
    """Put a carried-forward target at an image point (on `image_id` if given)."""
    target = controller.plan.find(target_id)
    if not isinstance(target, Target):
        return False
    # Onto the image shown, unless a needle path already ties the target to its own image.
    if image_id is None or controller.plan.paths_to(target_id):
        image_id = target.image_id
    placed = replace(target, position=at, frame=frame, image_id=image_id)
    controller.push(ReplaceAnnotation(target, placed))
    controller.select([target_id])
    return True
