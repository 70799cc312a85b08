"""The property editor: the fields of the one selected annotation, each change one undo step.

Lists come from the shown image's region catalog (target names, structures to avoid); a name
picked from the catalog brings its kind (and a zone's margin) with it. Repeated changes of one
field while it keeps the focus (spin box arrows) merge into one step; leaving it starts another.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.dose import site_dose
from prolo_planner.core.edits import EditError, ReplaceAnnotation
from prolo_planner.core.overlay import measurement_text
from prolo_planner.core.plan import (
    Anaesthetic,
    AngleMeasurement,
    Annotation,
    Approach,
    AvoidKind,
    AvoidZone,
    Caliper,
    NeedlePath,
    Side,
    SiteStatus,
    Target,
    TargetKind,
    TextNote,
    kind_of,
)
from prolo_planner.ui.panels.binding import Bindings
from prolo_planner.ui.plan_workspace import PlanWorkspace

NOTHING_SELECTED = "Select an annotation on the image or in the list to edit it."


def _enum_box(enum: type[StrEnum], name: str) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    for member in enum:
        box.addItem(member.value, member.value)
    return box


def _spin(
    name: str, low: float, high: float, step: float, suffix: str, decimals: int = 1
) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setObjectName(name)
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setSuffix(suffix)
    # Commit on Enter, an arrow step or leaving the field: not on every digit typed.
    box.setKeyboardTracking(False)
    return box


class PropertyEditor(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("property_editor")
        self._workspace: PlanWorkspace | None = None
        self._bindings = Bindings()
        self._image_id: str | None = None
        self._frame_count = 1
        self._annotation_id: str | None = None
        self._gesture: tuple[str, str] | None = None  # (field, token) of the field in focus
        self._filling = False

        self.stack = QStackedWidget()
        self.hint = QLabel(NOTHING_SELECTED)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.hint.setObjectName("property_hint")
        self.stack.addWidget(self.hint)
        self.pages: dict[str, QWidget] = {}
        self._build_target_page()
        self._build_path_page()
        self._build_zone_page()
        self._build_measure_page()
        self._build_text_page()
        self.title = QLabel("")
        self.title.setObjectName("property_title")
        self.title.setStyleSheet("font-weight: bold;")
        self.every_frame = QCheckBox("On every frame of the cine")
        self.every_frame.setObjectName("every_frame")
        self.every_frame.setToolTip("Shown on all frames, not only the frame it was drawn on")
        self.every_frame.toggled.connect(self._every_frame_toggled)
        self.derived = QLabel("")
        self.derived.setObjectName("property_derived")
        self.derived.setWordWrap(True)
        self.derived.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.stack)
        layout.addWidget(self.every_frame)
        layout.addWidget(self.derived)
        layout.addStretch(1)
        self._show_page(None)

    # -- the pages --------------------------------------------------------------------------
    def _page(self, key: str) -> QFormLayout:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.pages[key] = page
        self.stack.addWidget(page)
        return form

    def _build_target_page(self) -> None:
        form = self._page("target")
        self.target_name = QComboBox()
        self.target_name.setObjectName("target_name")
        self.target_name.setEditable(True)
        _narrow(self.target_name)
        self.target_name.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.target_name.activated.connect(lambda _i: self._target_name_chosen())
        self.target_name.lineEdit().editingFinished.connect(self._target_name_chosen)
        self.target_kind = _enum_box(TargetKind, "target_kind")
        self.target_side = _enum_box(Side, "target_side")
        self.target_status = _enum_box(SiteStatus, "target_status")
        self.dextrose = _spin("dextrose_percent", 0.0, 75.0, 2.5, " %")
        self.anaesthetic = _enum_box(Anaesthetic, "anaesthetic")
        self.anaesthetic_percent = _spin("anaesthetic_percent", 0.0, 10.0, 0.1, " %", 2)
        self.volume = _spin("volume_ml", 0.0, 50.0, 0.5, " mL")
        self.target_note = QLineEdit()
        self.target_note.setObjectName("target_note")
        self._enum_field(self.target_kind, "kind", TargetKind)
        self._enum_field(self.target_side, "side", Side)
        self._enum_field(self.target_status, "status", SiteStatus)
        self._injectate_field(self.dextrose, "dextrose_percent")
        self._injectate_field(self.anaesthetic_percent, "anaesthetic_percent")
        self._injectate_field(self.volume, "volume_ml")
        self.anaesthetic.activated.connect(
            lambda _i: self._commit_injectate(
                "anaesthetic", Anaesthetic(self.anaesthetic.currentData())
            )
        )
        self.target_note.editingFinished.connect(
            lambda: self._commit("note", note=self.target_note.text().strip())
        )
        form.addRow("Name", self.target_name)
        form.addRow("Kind", self.target_kind)
        form.addRow("Side", self.target_side)
        form.addRow("Status", self.target_status)
        form.addRow("Dextrose", self.dextrose)
        form.addRow("Anaesthetic", self.anaesthetic)
        form.addRow("Anaesthetic strength", self.anaesthetic_percent)
        form.addRow("Volume", self.volume)
        form.addRow("Note", self.target_note)

    def _build_path_page(self) -> None:
        form = self._page("path")
        self.path_target = QLabel("")
        self.approach = _enum_box(Approach, "approach")
        self.gauge = QSpinBox()
        self.gauge.setObjectName("needle_gauge")
        self.gauge.setRange(14, 34)
        self.gauge.setSuffix(" G")
        self.gauge.setKeyboardTracking(False)
        self.needle_length = _spin("needle_length_mm", 5.0, 250.0, 1.0, " mm")
        self._enum_field(self.approach, "approach", Approach)
        self._watch(self.gauge)
        self.gauge.valueChanged.connect(lambda v: self._commit("needle_gauge", needle_gauge=v))
        self._watch(self.needle_length)
        self.needle_length.valueChanged.connect(
            lambda v: self._commit("needle_length_mm", needle_length_mm=round(v, 1))
        )
        form.addRow("Target", self.path_target)
        form.addRow("Approach", self.approach)
        form.addRow("Needle gauge", self.gauge)
        form.addRow("Needle length", self.needle_length)

    def _build_zone_page(self) -> None:
        form = self._page("zone")
        self.zone_name = QComboBox()
        self.zone_name.setObjectName("zone_name")
        self.zone_name.setEditable(True)
        _narrow(self.zone_name)
        self.zone_name.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.zone_name.activated.connect(lambda _i: self._zone_name_chosen())
        self.zone_name.lineEdit().editingFinished.connect(self._zone_name_chosen)
        self.zone_kind = _enum_box(AvoidKind, "zone_kind")
        self.margin = _spin("margin_mm", 0.0, 50.0, 0.5, " mm")
        self.zone_shape = QLabel("")
        self._enum_field(self.zone_kind, "kind", AvoidKind)
        self._watch(self.margin)
        self.margin.valueChanged.connect(lambda v: self._commit("margin_mm", margin_mm=round(v, 1)))
        form.addRow("Structure", self.zone_name)
        form.addRow("Kind", self.zone_kind)
        form.addRow("Safety margin", self.margin)
        form.addRow("Outline", self.zone_shape)

    def _build_measure_page(self) -> None:
        form = self._page("measure")
        self.measure_label = QLineEdit()
        self.measure_label.setObjectName("measure_label")
        self.measure_label.setPlaceholderText("e.g. skin to lamina")
        self.measure_label.editingFinished.connect(
            lambda: self._commit("label", label=self.measure_label.text().strip())
        )
        form.addRow("Label", self.measure_label)

    def _build_text_page(self) -> None:
        form = self._page("text")
        self.note_text = QLineEdit()
        self.note_text.setObjectName("note_text")
        self.note_text.editingFinished.connect(self._note_text_done)
        form.addRow("Text", self.note_text)

    def _enum_field(self, box: QComboBox, name: str, enum: type[StrEnum]) -> None:
        box.activated.connect(lambda _i: self._commit(name, **{name: enum(box.currentData())}))

    def _injectate_field(self, box: QDoubleSpinBox, name: str) -> None:
        self._watch(box)
        box.valueChanged.connect(lambda v: self._commit_injectate(name, round(v, 3)))

    def _watch(self, widget: QWidget) -> None:
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.FocusIn:
            self._gesture = None  # a field entered anew: its next change is a new undo step
        return super().eventFilter(watched, event)

    # -- what it edits ----------------------------------------------------------------------
    def set_workspace(self, workspace: PlanWorkspace) -> None:
        self._bindings.clear()
        self._workspace = workspace
        c = workspace.controller
        self._bindings.connect(c.selection_changed, lambda _ids: self.refresh())
        self._bindings.connect(c.changed, lambda _changes: self.refresh())
        self._bindings.connect(c.calibration_changed, lambda _id: self.refresh())
        self._bindings.connect(c.reset, self.refresh)
        self.setEnabled(not workspace.read_only)
        self.show_image(None)

    def show_image(self, image_id: str | None, frame_count: int = 1) -> None:
        self._image_id, self._frame_count = image_id, max(1, frame_count)
        self._fill_catalog_lists()
        self.refresh()

    def selected(self) -> Annotation | None:
        ws = self._workspace
        if ws is None:
            return None
        ids = ws.controller.selection
        if len(ids) != 1:
            return None
        return ws.controller.plan.find(next(iter(ids)))

    def refresh(self) -> None:
        ws = self._workspace
        a = self.selected()
        if a is None or ws is None:
            n = len(ws.controller.selection) if ws else 0
            self.hint.setText(f"{n} annotations selected." if n > 1 else NOTHING_SELECTED)
            self._show_page(None)
            return
        if a.id != self._annotation_id:
            self._gesture = None
            self._annotation_id = a.id
        self._filling = True
        try:
            self._fill(a)
        finally:
            self._filling = False

    def _show_page(self, key: str | None) -> None:
        self.stack.setCurrentWidget(self.pages[key] if key else self.hint)
        if key is None:
            self.title.setText("")
            self.derived.setText("")
            self.every_frame.hide()
            self._annotation_id = None

    def _fill(self, a: Annotation) -> None:
        ws = self._workspace
        assert ws is not None
        c = ws.controller
        self.title.setText(kind_of(a).value.capitalize())
        self.every_frame.setVisible(self._frame_count > 1)
        with QSignalBlocker(self.every_frame):
            self.every_frame.setChecked(a.frame is None)
        derived = [f"{m.name}: {measurement_text(m)}" for m in c.measurements.of(a.id)]
        if isinstance(a, Target):
            self._show_page("target")
            _set_combo_text(self.target_name, a.name)
            _set_enum(self.target_kind, a.kind)
            _set_enum(self.target_side, a.side)
            _set_enum(self.target_status, a.status)
            inj = a.injectate
            _set_value(self.dextrose, inj.dextrose_percent)
            _set_enum(self.anaesthetic, inj.anaesthetic)
            _set_value(self.anaesthetic_percent, inj.anaesthetic_percent)
            self.anaesthetic_percent.setEnabled(inj.anaesthetic is not Anaesthetic.NONE)
            _set_value(self.volume, inj.volume_ml)
            if not self.target_note.hasFocus():
                self.target_note.setText(a.note)
            dose, _ = site_dose(a)
            line = f"{dose.volume_ml:g} mL: dextrose {dose.dextrose_g:.2f} g"
            if dose.anaesthetic is not Anaesthetic.NONE:
                line += f", {dose.anaesthetic.value} {dose.anaesthetic_mg:.0f} mg"
            derived.append(line)
        elif isinstance(a, NeedlePath):
            self._show_page("path")
            target = c.plan.find(a.target_id)
            self.path_target.setText(
                (target.name or target.kind.value) if isinstance(target, Target) else "?"
            )
            _set_enum(self.approach, a.approach)
            _set_value(self.gauge, a.needle_gauge)
            _set_value(self.needle_length, a.needle_length_mm)
            geometry = c.measurements.path(a.id)
            if geometry is not None:
                for zd in geometry.zone_distances:
                    if zd.crosses:
                        where = "crosses it"
                    elif zd.distance_mm is not None:
                        where = f"{zd.distance_mm:.1f} mm"
                    else:
                        where = f"{zd.distance_px:.0f} px"
                    derived.append(f"clearance to {zd.zone_name or 'zone'}: {where}")
        elif isinstance(a, AvoidZone):
            self._show_page("zone")
            _set_combo_text(self.zone_name, a.name)
            _set_enum(self.zone_kind, a.kind)
            _set_value(self.margin, a.margin_mm)
            self.zone_shape.setText(f"{a.shape.value}, {len(a.points)} points")
        elif isinstance(a, Caliper | AngleMeasurement):
            self._show_page("measure")
            if not self.measure_label.hasFocus():
                self.measure_label.setText(a.label)
        elif isinstance(a, TextNote):
            self._show_page("text")
            if not self.note_text.hasFocus():
                self.note_text.setText(a.text)
        warnings = [w.message for w in c.warnings if a.id in w.annotation_ids]
        self.derived.setText("\n".join(derived + [f"⚠ {m}" for m in warnings]))

    def _fill_catalog_lists(self) -> None:
        ws = self._workspace
        region = ws.region(self._image_id) if ws else None
        with QSignalBlocker(self.target_name):
            self.target_name.clear()
            if region is not None:
                self.target_name.addItems(region.target_names())
        with QSignalBlocker(self.zone_name):
            self.zone_name.clear()
            if region is not None:
                self.zone_name.addItems([z.name for z in region.avoid])

    # -- changes ----------------------------------------------------------------------------
    def _commit(self, field: str, **changes: Any) -> bool:
        """One edit of the selected annotation; merged with the last while the field keeps the
        focus. False when nothing changed or the edit was refused."""
        ws = self._workspace
        a = self.selected()
        if self._filling or ws is None or a is None:
            return False
        if all(getattr(a, k) == v for k, v in changes.items()):
            return False
        if self._gesture is None or self._gesture[0] != field:
            self._gesture = (field, uuid.uuid4().hex)
        try:
            edit = ReplaceAnnotation.of(ws.controller.plan, a.id, self._gesture[1], **changes)
            return bool(ws.controller.push(edit))
        except (EditError, ValueError):
            self.refresh()
            return False

    def _commit_injectate(self, field: str, value: Any) -> bool:
        a = self.selected()
        if not isinstance(a, Target):
            return False
        return self._commit(field, injectate=replace(a.injectate, **{field: value}))

    def _target_name_chosen(self) -> None:
        a = self.selected()
        ws = self._workspace
        if not isinstance(a, Target) or ws is None:
            return
        name = " ".join(self.target_name.currentText().split())
        changes: dict[str, Any] = {"name": name}
        region = ws.region(self._image_id)
        entry = region.target(name) if region is not None and name else None
        # Only a name newly chosen brings the catalog's kind: leaving the field (Esc on the
        # list, a click elsewhere) must not undo a kind the clinician set by hand.
        if entry is not None and entry.name != a.name:
            changes["name"], changes["kind"] = entry.name, entry.kind
        elif entry is not None:
            changes["name"] = entry.name
        self._commit("name", **changes)

    def _zone_name_chosen(self) -> None:
        a = self.selected()
        ws = self._workspace
        if not isinstance(a, AvoidZone) or ws is None:
            return
        name = " ".join(self.zone_name.currentText().split())
        changes: dict[str, Any] = {"name": name}
        region = ws.region(self._image_id)
        entry = region.avoid_entry(name) if region is not None and name else None
        if entry is not None and entry.name != a.name:
            changes.update(name=entry.name, kind=entry.kind, margin_mm=entry.margin_mm)
        self._commit("name", **changes)

    def _note_text_done(self) -> None:
        text = self.note_text.text().strip()
        if text:  # a note without words would be an arrow pointing at nothing said
            self._commit("text", text=text)
        else:
            self.refresh()

    def _every_frame_toggled(self, on: bool) -> None:
        ws = self._workspace
        a = self.selected()
        if ws is None or a is None:
            return
        frame = None if on else ws.layer.frame
        self._commit("frame", frame=frame)


def _set_combo_text(box: QComboBox, text: str) -> None:
    if box.lineEdit() is not None and box.lineEdit().hasFocus():
        return
    with QSignalBlocker(box):
        box.setCurrentIndex(box.findText(text))
        box.setEditText(text)
    box.lineEdit().setCursorPosition(0)  # a long name shows its beginning


def _set_enum(box: QComboBox, value: StrEnum) -> None:
    with QSignalBlocker(box):
        box.setCurrentIndex(box.findData(value.value))


def _set_value(box: QDoubleSpinBox | QSpinBox, value: float) -> None:
    with QSignalBlocker(box):
        box.setValue(value)


def _narrow(box: QComboBox) -> None:
    """A name field as wide as its column, not as its longest catalog name: the panel must
    fit its dock on a 1366-pixel screen."""
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(12)
