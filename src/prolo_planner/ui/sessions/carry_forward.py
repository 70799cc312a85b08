"""Carry forward: a prior session's targets (names, kinds, injectate) copied into today's plan,
unplaced (a checklist to place) or at the same positions on a chosen image, as one undo step.

The clinician usually treats the same sites as last time; carrying them forward saves typing
every name and dose again. Each copy is a new target, planned (not injected), with a new id:
today's record never points into last session's. Placing an unplaced target is one click on
the image (PlaceTargetTool).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

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

from prolo_planner.core.edits import AddAnnotation, AddImage, Compound, Edit, ReplaceAnnotation
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import ImagePlan, NeedlePath, Plan, SiteStatus, Target, new_id
from prolo_planner.ui.plan_controller import PlanController
from prolo_planner.ui.sessions.session_text import image_label


class CarryMode(StrEnum):
    UNPLACED = "unplaced"  # a checklist to place on today's image
    SAME_POSITIONS = "same positions"


@dataclass(frozen=True, slots=True)
class ImageChoice:
    """An image the copies can go on: today's, or a prior one added to today's plan."""

    image: ImagePlan
    in_today: bool

    number: int = 1

    @property
    def label(self) -> str:
        where = "today's" if self.in_today else "from the prior session"
        return f"{image_label(self.image, self.number)} ({where})"


def image_choices(prior: Plan, today: Plan) -> list[ImageChoice]:
    """Today's images first, then the prior session's (by file) that today's plan lacks."""
    choices = [ImageChoice(im, True, n) for n, im in enumerate(today.images, start=1)]
    have = {(im.ref.sha256 or im.ref.path) for im in today.images}
    for n, im in enumerate(prior.images, start=1):
        if (im.ref.sha256 or im.ref.path) not in have:
            choices.append(ImageChoice(im, False, n))
    return choices


def carry_forward(
    prior: Plan,
    today: Plan,
    mode: CarryMode,
    onto: ImageChoice,
    target_ids: Iterable[str] | None = None,
    *,
    with_paths: bool = True,
) -> Compound:
    """One undo step adding copies of the prior plan's targets (all, or `target_ids`) to today.

    UNPLACED: position None on `onto` (they count in the dose, and the warnings list them as
    not placed). SAME_POSITIONS: where they were, on `onto`, with their needle paths when
    `with_paths`. An `onto` image not in today's plan is added to it in the same step.
    """
    wanted = None if target_ids is None else set(target_ids)
    targets = [t for t in prior.targets() if wanted is None or t.id in wanted]
    if not targets:
        raise ValueError("no targets to carry forward")
    edits: list[Edit] = []
    image = onto.image
    if not onto.in_today:
        image = replace(image, id=new_id(), key_frames=())
        edits.append(AddImage(image))
    placed = mode is CarryMode.SAME_POSITIONS
    copies: dict[str, Target] = {}
    for t in targets:
        copy = Target(
            image.id,
            t.position if placed else None,
            frame=_frame_on(image, t.frame) if placed else None,
            kind=t.kind,
            name=t.name,
            side=t.side,
            status=SiteStatus.PLANNED,
            injectate=replace(t.injectate, extra=dict(t.injectate.extra)),
        )
        copies[t.id] = copy
        edits.append(AddAnnotation(copy))
    if placed and with_paths:
        for path in prior.annotations:
            if isinstance(path, NeedlePath) and path.target_id in copies:
                target = copies[path.target_id]
                edits.append(
                    AddAnnotation(
                        NeedlePath(
                            image.id,
                            path.entry,
                            target.id,
                            frame=target.frame,
                            approach=path.approach,
                            needle_gauge=path.needle_gauge,
                            needle_length_mm=path.needle_length_mm,
                        )
                    )
                )
    n = len(targets)
    how = "unplaced" if not placed else "at the same positions"
    return Compound(tuple(edits), f"Carry forward {n} target{'s' if n != 1 else ''} {how}")


def _frame_on(image: ImagePlan, frame: int | None) -> int | None:
    """The prior frame if the image has it; else on every frame (a still, a shorter clip)."""
    if frame is None or image.ref.frame_count <= 1 or frame >= image.ref.frame_count:
        return None
    return frame


def unplaced_targets(plan: Plan) -> tuple[Target, ...]:
    return tuple(t for t in plan.targets() if t.position is None)


# -- the dialog ---------------------------------------------------------------------------------
class CarryForwardDialog(QDialog):
    """Which of last session's targets, and how: unplaced, or at the same positions on an image."""

    def __init__(
        self, prior: Plan, today: Plan, prior_title: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Carry forward targets")
        self.setObjectName("carry_forward_dialog")
        self.prior, self.today = prior, today
        self.choices = image_choices(prior, today)
        today_names = {t.name for t in today.targets() if t.name}
        intro = QLabel(f"Targets of {prior_title}:")
        intro.setWordWrap(True)
        self.targets = QListWidget()
        self.targets.setObjectName("carry_targets")
        for t in prior.targets():
            ml = t.injectate.volume_ml
            text = (
                f"{t.name or t.kind.value} — {t.kind.value}, {ml:g} mL "
                f"dextrose {t.injectate.dextrose_percent:g} %"
            )
            if t.injectate.anaesthetic.value != "none":
                text += f" + {t.injectate.anaesthetic.value} {t.injectate.anaesthetic_percent:g} %"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, t.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            # Sites already in today's plan are left unticked: no double dose by accident.
            already = bool(t.name) and t.name in today_names
            item.setCheckState(Qt.CheckState.Unchecked if already else Qt.CheckState.Checked)
            if already:
                item.setToolTip("Already in today's plan")
            self.targets.addItem(item)
        self.unplaced = QRadioButton("Unplaced: a checklist to place on today's image")
        self.same = QRadioButton("At the same positions on:")
        group = QButtonGroup(self)
        group.addButton(self.unplaced)
        group.addButton(self.same)
        self.image = QComboBox()
        self.image.setObjectName("carry_image")
        for choice in self.choices:
            self.image.addItem(choice.label)
        self.unplaced.setChecked(True)
        self.unplaced.setEnabled(any(c.in_today for c in self.choices))
        if not self.unplaced.isEnabled():
            self.same.setChecked(True)
        self.image.setEnabled(self.same.isChecked())
        self.same.toggled.connect(self.image.setEnabled)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Carry forward")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.targets, 1)
        layout.addWidget(self.unplaced)
        layout.addWidget(self.same)
        layout.addWidget(self.image)
        layout.addWidget(self.buttons)

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

    def edit(self, current_image_id: str | None = None) -> Compound | None:
        """The carry-forward as chosen, or None when nothing was ticked."""
        ids = self.chosen_ids()
        onto = self.onto(current_image_id)
        if not ids or onto is None:
            return None
        return carry_forward(self.prior, self.today, self.mode, onto, ids)


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
