"""The warnings panel: every safety warning of the plan, danger first, and the session's totals
against the clinic's limits for the patient's weight. Warnings inform; they never block."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.dose import SessionDose, session_dose
from prolo_planner.core.edits import SetPlanFields
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.plan import Anaesthetic, Plan
from prolo_planner.core.safety import SafetyWarning, Severity
from prolo_planner.ui.panels.binding import Bindings
from prolo_planner.ui.panels.icons import severity_colour, severity_icon
from prolo_planner.ui.plan_workspace import PlanWorkspace

IDS_ROLE = Qt.ItemDataRole.UserRole


def totals_lines(plan: Plan, limits: ClinicLimits) -> list[str]:
    """The session in words: volume and dextrose, then each anaesthetic against its limit."""
    dose: SessionDose = session_dose(plan.targets())
    sites = len(dose.sites)
    lines = [
        f"{sites} site{'s' if sites != 1 else ''}: {dose.total_ml:.1f} mL, "
        f"dextrose {dose.dextrose_g:.2f} g"
    ]
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


def summary_text(warnings: tuple[SafetyWarning, ...]) -> str:
    """'No warnings', '3 warnings', '4 warnings, 1 of them danger'."""
    if not warnings:
        return "No warnings"
    n = len(warnings)
    text = f"{n} warning{'s' if n != 1 else ''}"
    danger = sum(1 for w in warnings if w.severity is Severity.DANGER)
    if danger and danger < n:
        text += f", {danger} of them danger"
    elif danger:
        text += ", danger" if n == 1 else ", all danger"
    return text


class WarningsPanel(QWidget):
    #: The clinician picked a warning: show and select these annotations.
    warning_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("warnings_panel")
        self._workspace: PlanWorkspace | None = None
        self._bindings = Bindings()
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
        self.list.setAlternatingRowColors(False)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Patient weight", self.weight)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addWidget(self.totals)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)

    def set_workspace(self, workspace: PlanWorkspace) -> None:
        self._bindings.clear()
        self._workspace = workspace
        c = workspace.controller
        self._bindings.connect(c.changed, lambda _changes: self.refresh())
        self._bindings.connect(c.calibration_changed, lambda _id: self.refresh())
        self._bindings.connect(c.reset, self.refresh)
        self.weight.setEnabled(not workspace.read_only)
        self.refresh()

    @property
    def warnings(self) -> tuple[SafetyWarning, ...]:
        return self._workspace.controller.warnings if self._workspace else ()

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
        self.list.clear()
        for w in warnings:
            item = QListWidgetItem(severity_icon(w.severity), w.message)
            item.setData(IDS_ROLE, w.annotation_ids)
            item.setToolTip(f"{w.severity.value}: {w.message}")
            if w.severity is Severity.DANGER:
                item.setForeground(severity_colour(Severity.DANGER).lighter(130))
            self.list.addItem(item)
        counts = {s: sum(1 for w in warnings if w.severity is s) for s in Severity}
        self.summary.setText(summary_text(warnings))
        colour = severity_colour(Severity.DANGER) if counts[Severity.DANGER] else None
        self.summary.setStyleSheet(
            f"font-weight: bold; color: {colour.name()};" if colour else "font-weight: bold;"
        )

    def messages(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

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
