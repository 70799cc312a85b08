"""The warnings panel: every safety warning of the plan, danger first, and the session's totals
against the clinic's limits for the patient's weight. Warnings inform; they never block.

The clinician acknowledges a warning (button or context menu, one undo step) to record that it
was read; the PDF report prints it. An acknowledged warning is greyed here and says so, but
acknowledging changes nothing on the image, at any severity: a path near the dura stays red and
one near a vessel stays amber, because the image shows the risk, not who has read about it.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.acknowledged import WarningKey, acknowledged_keys
from prolo_planner.core.dose import SessionDose, session_dose
from prolo_planner.core.edits import AcknowledgeWarnings, SetPlanFields
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.plan import Anaesthetic, Plan
from prolo_planner.core.safety import SafetyWarning, Severity
from prolo_planner.ui import theme
from prolo_planner.ui.panels.binding import Bindings
from prolo_planner.ui.panels.icons import severity_icon
from prolo_planner.ui.plan_workspace import PlanWorkspace
from prolo_planner.ui.theme import set_tone, tone_colour

IDS_ROLE = Qt.ItemDataRole.UserRole
#: The row's SafetyWarning, so actions work on warnings rather than on display text.
WARNING_ROLE = Qt.ItemDataRole.UserRole + 1
ACKNOWLEDGED_ROLE = Qt.ItemDataRole.UserRole + 2
ACKNOWLEDGED_SUFFIX = " — acknowledged"
#: Read warnings step back; the severity dot keeps its colour so danger still reads as danger.


def totals_lines(plan: Plan, limits: ClinicLimits) -> list[str]:
    """The session in words: volume and dextrose, then each anaesthetic against its limit."""
    dose: SessionDose = session_dose(plan.targets())
    sites = len(dose.sites)
    lines = [
        f"{sites} site{'s' if sites != 1 else ''} placed: {dose.total_ml:.1f} mL, "
        f"dextrose {dose.dextrose_g:.2f} g"
    ]
    if dose.unplaced:
        lines.append(unplaced_line(dose))
    weight = plan.patient_weight_kg
    for agent in Anaesthetic:
        limit = limits.anaesthetic(agent)
        mg = dose.mg_of(agent)
        if limit is None or mg <= 0:
            continue
        if weight:
            by_weight = limit.mg_per_kg * weight
            allowed = (
                f"limit {min(by_weight, limit.max_mg):.0f} mg ({limit.mg_per_kg:g} mg/kg × "
                f"{weight:g} kg = {by_weight:.0f} mg, at most {limit.max_mg:g} mg)"
            )
        else:
            allowed = (
                f"limit {limit.max_mg:g} mg; {limit.mg_per_kg:g} mg/kg cannot be checked "
                "without the weight"
            )
        lines.append(f"{agent.value.capitalize()} {mg:.0f} mg — {allowed}")
    return lines


def unplaced_line(dose: SessionDose) -> str:
    """'Not placed yet, not in the totals: 2 sites, 2.5 mL (L3-L4 ..., L4-L5 ...)'."""
    n = len(dose.unplaced)
    names = ", ".join(s.name or "unnamed site" for s in dose.unplaced)
    return (
        f"Not placed yet, not in the totals: {n} site{'s' if n != 1 else ''}, "
        f"{dose.unplaced_ml:.1f} mL ({names})"
    )


def summary_text(warnings: tuple[SafetyWarning, ...], acknowledged: int = 0) -> str:
    """'No warnings', '3 warnings', '4 warnings, 1 of them danger', '3 warnings, 2 acknowledged'."""
    if not warnings:
        return "No warnings"
    n = len(warnings)
    text = f"{n} warning{'s' if n != 1 else ''}"
    danger = sum(1 for w in warnings if w.severity is Severity.DANGER)
    if danger and danger < n:
        text += f", {danger} of them danger"
    elif danger:
        text += ", danger" if n == 1 else ", all danger"
    if acknowledged:
        text += f", {acknowledged} acknowledged"
    return text


class WarningsPanel(QWidget):
    #: The clinician picked a warning: show and select these annotations.
    warning_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("warnings_panel")
        self._workspace: PlanWorkspace | None = None
        self._bindings = Bindings()
        #: The warnings and acknowledgements the list shows (None: not filled yet).
        self._shown: tuple[tuple[SafetyWarning, ...], frozenset[WarningKey]] | None = None
        self.weight = QDoubleSpinBox()
        self.weight.setObjectName("patient_weight")
        self.weight.setRange(0.0, 400.0)
        self.weight.setDecimals(1)
        self.weight.setSingleStep(0.5)
        self.weight.setSuffix(" kg")
        self.weight.setSpecialValueText("unknown")  # 0: no weight known
        self.weight.setKeyboardTracking(False)
        self.weight.setToolTip("For the anaesthetic limit in mg/kg")
        self.weight.valueChanged.connect(self._weight_changed)
        self.totals = QLabel("")
        self.totals.setObjectName("session_totals")
        self.totals.setWordWrap(True)
        self.summary = QLabel("")
        self.summary.setObjectName("warnings_summary")
        self.list = QListWidget()
        self.list.setObjectName("warnings_list")
        self.list.setWordWrap(True)
        # Each warning wraps at the panel's width and is read whole: never scrolled sideways.
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.list.setAlternatingRowColors(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        self.list.itemSelectionChanged.connect(self._update_actions)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.act_acknowledge = QAction("Acknowledge", self)
        self.act_acknowledge.setObjectName("acknowledge_warnings")
        self.act_acknowledge.setToolTip("Record that the selected warnings were read")
        self.act_acknowledge.triggered.connect(lambda: self.acknowledge_selected(True))
        self.act_unacknowledge = QAction("Unacknowledge", self)
        self.act_unacknowledge.setObjectName("unacknowledge_warnings")
        self.act_unacknowledge.setToolTip("The selected warnings must be read again")
        self.act_unacknowledge.triggered.connect(lambda: self.acknowledge_selected(False))
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        self.acknowledge_button = self._button(self.act_acknowledge)
        self.unacknowledge_button = self._button(self.act_unacknowledge)
        buttons.addWidget(self.acknowledge_button)
        buttons.addWidget(self.unacknowledge_button)
        buttons.addStretch(1)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Patient weight", self.weight)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addWidget(self.totals)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self._update_actions()
        # Its words' colours are the theme's: listed again when the clinician switches it.
        theme.announcer().changed.connect(self._theme_changed)

    @staticmethod
    def _button(action: QAction) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(action)  # follows the action's text and enabled state
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setObjectName(f"{action.objectName()}_button")
        return button

    def set_workspace(self, workspace: PlanWorkspace) -> None:
        self._bindings.clear()
        self._workspace = workspace
        self._shown = None
        c = workspace.controller
        self._bindings.connect(c.changed, lambda _changes: self.refresh())
        self._bindings.connect(c.calibration_changed, lambda _id: self.refresh())
        self._bindings.connect(c.reset, self.refresh)
        self.weight.setEnabled(not workspace.read_only)
        self.refresh()

    @property
    def warnings(self) -> tuple[SafetyWarning, ...]:
        return self._workspace.controller.warnings if self._workspace else ()

    def _theme_changed(self, _theme: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        ws = self._workspace
        if ws is None:
            return
        c = ws.controller
        plan = c.plan
        with QSignalBlocker(self.weight):
            self.weight.setValue(plan.patient_weight_kg or 0.0)
        self.totals.setText("\n".join(totals_lines(plan, c.limits)))
        warnings = c.warnings
        done = acknowledged_keys(plan)
        # Rebuilt on every change: keep the rows the clinician had selected (by warning, since
        # wording can change) so Acknowledge then Undo leaves the selection where it was.
        selected = {WarningKey.of(w) for w in self.selected_warnings()}
        shown = (warnings, done)
        if shown != self._shown:  # most edits change no warning: the list stays as it is
            self._shown = shown
            with QSignalBlocker(self.list):
                self.list.clear()
                for w in warnings:
                    item = self._item(w, WarningKey.of(w) in done)
                    self.list.addItem(item)
                    item.setSelected(WarningKey.of(w) in selected)
        counts = {s: sum(1 for w in warnings if w.severity is s) for s in Severity}
        acknowledged = sum(1 for w in warnings if WarningKey.of(w) in done)
        self.summary.setText(summary_text(warnings, acknowledged))
        set_tone(self.summary, "danger" if counts[Severity.DANGER] else "")

        self._update_actions()

    @staticmethod
    def _item(w: SafetyWarning, acknowledged: bool) -> QListWidgetItem:
        text = w.message + (ACKNOWLEDGED_SUFFIX if acknowledged else "")
        item = QListWidgetItem(severity_icon(w.severity), text)
        item.setData(IDS_ROLE, w.annotation_ids)
        item.setData(WARNING_ROLE, w)
        item.setData(ACKNOWLEDGED_ROLE, acknowledged)
        item.setToolTip(
            f"{w.severity.value}: {w.message}" + (" (acknowledged)" if acknowledged else "")
        )
        if acknowledged:
            item.setForeground(tone_colour("dim"))
            font = QFont(item.font())
            font.setItalic(True)
            item.setFont(font)
        elif w.severity is Severity.DANGER:
            item.setForeground(tone_colour("danger"))
        return item

    def messages(self) -> list[str]:
        """The warnings' messages, in the list's order (without the acknowledged mark)."""
        return [self.list.item(i).data(WARNING_ROLE).message for i in range(self.list.count())]

    def is_acknowledged_row(self, row: int) -> bool:
        return bool(self.list.item(row).data(ACKNOWLEDGED_ROLE))

    # -- acknowledging ------------------------------------------------------------------------
    def selected_warnings(self) -> list[SafetyWarning]:
        return [
            self.list.item(i).data(WARNING_ROLE)
            for i in range(self.list.count())
            if self.list.item(i).isSelected()
        ]

    def acknowledge_selected(self, done: bool = True) -> None:
        """Acknowledge (or take back) the selected warnings as one undo step."""
        ws = self._workspace
        if ws is None or ws.read_only:
            return
        c = ws.controller
        edit = AcknowledgeWarnings.of(c.plan, self.selected_warnings(), done, current=c.warnings)
        if not edit.is_noop:
            c.push(edit)

    def _update_actions(self) -> None:
        ws = self._workspace
        editable = ws is not None and not ws.read_only
        done = acknowledged_keys(ws.controller.plan) if ws is not None else frozenset()
        states = [WarningKey.of(w) in done for w in self.selected_warnings()]
        self.act_acknowledge.setEnabled(editable and not all(states))
        self.act_unacknowledge.setEnabled(editable and any(states))

    def _context_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        if not item.isSelected():
            self.list.setCurrentItem(item)  # right-click on another row acts on that row
        menu = QMenu(self)
        menu.addAction(self.act_acknowledge)
        menu.addAction(self.act_unacknowledge)
        menu.exec(self.list.viewport().mapToGlobal(pos))

    def _clicked(self, item: QListWidgetItem) -> None:
        ids = tuple(item.data(IDS_ROLE) or ())
        if ids:
            self.warning_chosen.emit(ids)

    def _weight_changed(self, value: float) -> None:
        ws = self._workspace
        if ws is None:
            return
        weight = round(value, 1) if value > 0 else None
        if weight == ws.controller.plan.patient_weight_kg:
            return
        ws.controller.push(SetPlanFields.of(ws.controller.plan, patient_weight_kg=weight))
