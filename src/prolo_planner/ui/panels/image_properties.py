"""What the clinician says of the shown image: region, side, probe orientation, body marker,
whether this frame goes to the chart; how the image is calibrated and how its depths are
measured (probe geometry, depth zero). Each change is one undo step (ReplaceImage)."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.edits import ReplaceImage
from prolo_planner.core.plan import ImagePlan, ProbeOrientation, Side
from prolo_planner.ui.panels.binding import Bindings
from prolo_planner.ui.panels.checklist import Checklist
from prolo_planner.ui.panels.probe_geometry import ProbeGeometryBox
from prolo_planner.ui.plan_workspace import PlanWorkspace, image_name

NO_REGION = "— choose a region —"


class ImageProperties(QWidget):
    #: The shown image's region changed (its catalog id, "" for none).
    region_changed = Signal(str)
    #: The clinician asked for a tool from the depth box ("depth zero", "skin line").
    tool_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("image_properties")
        self._workspace: PlanWorkspace | None = None
        self._bindings = Bindings()
        self._image_id: str | None = None
        self._frame_count = 1
        self._frame = 0
        self.name = QLabel("No image")
        self.name.setObjectName("image_name")
        self.name.setWordWrap(True)  # a long file name wraps rather than widen the panel
        self.name.setStyleSheet("font-weight: bold;")
        self.region = QComboBox()
        self.region.setObjectName("image_region")
        self.region.activated.connect(lambda _i: self._region_chosen())
        self.side = self._enum_box(Side, "image_side", "side")
        self.orientation = self._enum_box(
            ProbeOrientation, "probe_orientation", "probe_orientation"
        )
        self.body_marker = QLineEdit()
        self.body_marker.setObjectName("body_marker")
        self.body_marker.setPlaceholderText("e.g. L4-L5 midline, probe sagittal")
        self.body_marker.editingFinished.connect(
            lambda: self._commit(body_marker=self.body_marker.text().strip())
        )
        self.key_frame = QCheckBox("Key frame: goes to the chart")
        self.key_frame.setObjectName("key_frame")
        self.key_frame.toggled.connect(self._key_frame_toggled)
        self.calibration = QLabel("")
        self.calibration.setObjectName("image_calibration")
        self.calibration.setWordWrap(True)
        self.clear_calibration = QPushButton("Forget manual calibration")
        self.clear_calibration.setObjectName("clear_calibration")
        self.clear_calibration.clicked.connect(self._clear_calibration)
        self.probe = ProbeGeometryBox()
        self.probe.commit = lambda setting: self._commit(probe=setting)
        self.probe.tool_requested.connect(self.tool_requested)
        self.checklist = Checklist()
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Region", self.region)
        form.addRow("Side", self.side)
        form.addRow("Probe", self.orientation)
        form.addRow("Body marker", self.body_marker)
        calibration_row = QHBoxLayout()
        calibration_row.addWidget(self.calibration, 1)
        calibration_row.addWidget(self.clear_calibration)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.name)
        layout.addLayout(form)
        layout.addWidget(self.key_frame)
        layout.addLayout(calibration_row)
        layout.addWidget(self.probe)
        layout.addWidget(self.checklist, 1)

    def _enum_box(self, enum: type[StrEnum], object_name: str, field: str) -> QComboBox:
        box = QComboBox()
        box.setObjectName(object_name)
        for member in enum:
            box.addItem(member.value, member.value)
        box.activated.connect(lambda _i: self._commit(**{field: enum(box.currentData())}))
        return box

    # -- what it shows ----------------------------------------------------------------------
    def set_workspace(self, workspace: PlanWorkspace) -> None:
        self._bindings.clear()
        self._workspace = workspace
        c = workspace.controller
        self._bindings.connect(c.changed, lambda _changes: self.refresh())
        self._bindings.connect(c.calibration_changed, lambda _id: self.refresh())
        self._bindings.connect(c.reset, self.refresh)
        with QSignalBlocker(self.region):
            self.region.clear()
            self.region.addItem(NO_REGION, "")
            for region in workspace.catalogs.regions.values():
                self.region.addItem(region.name, region.id)
        self.checklist.set_workspace(workspace)
        editable = not workspace.read_only
        for widget in (self.region, self.side, self.orientation, self.body_marker):
            widget.setEnabled(editable)
        self.key_frame.setEnabled(editable)
        self.show_image(None)

    def show_image(self, image_id: str | None, frame_count: int = 1) -> None:
        self._image_id, self._frame_count, self._frame = image_id, max(1, frame_count), 0
        self.checklist.show_image(image_id)
        self.refresh()

    def set_frame(self, frame: int) -> None:
        if frame != self._frame:
            self._frame = frame
            self.refresh()

    def image(self) -> ImagePlan | None:
        return self._workspace.image(self._image_id) if self._workspace else None

    def refresh(self) -> None:
        image = self.image()
        ws = self._workspace
        self.setEnabled(image is not None)
        if image is None or ws is None:
            self.name.setText("No image in the plan" if ws else "No image")
            self.calibration.setText("")
            self.clear_calibration.hide()
            self.probe.show_image(None, None, False)
            return
        self.name.setText(image_name(image))
        with QSignalBlocker(self.region):
            found = self.region.findData(image.region)
            if found < 0 and image.region:  # a region whose catalog is not installed here
                self.region.addItem(f"{image.region} (no catalog)", image.region)
                found = self.region.count() - 1
            self.region.setCurrentIndex(max(found, 0))
        for box, value in ((self.side, image.side), (self.orientation, image.probe_orientation)):
            with QSignalBlocker(box):
                box.setCurrentIndex(box.findData(value.value))
        if not self.body_marker.hasFocus():
            self.body_marker.setText(image.body_marker)
        frame = self._frame if self._frame_count > 1 else 0
        with QSignalBlocker(self.key_frame):
            self.key_frame.setChecked(frame in image.key_frames)
        self.key_frame.setText(
            f"Key frame {frame + 1}: goes to the chart"
            if self._frame_count > 1
            else "Key image: goes to the chart"
        )
        calibration = ws.calibration(image.id)
        self.calibration.setText(f"Calibration: {calibration.provenance()}")
        self.clear_calibration.setVisible(image.manual_calibration is not None and not ws.read_only)
        self.probe.show_image(image, calibration, not ws.read_only)

    # -- changes ----------------------------------------------------------------------------
    def _commit(self, **changes: Any) -> bool:
        ws, image = self._workspace, self.image()
        if ws is None or image is None:
            return False
        after = replace(image, **changes)
        if after == image:
            return False
        return bool(ws.controller.push(ReplaceImage(image, after)))

    def _region_chosen(self) -> None:
        region = self.region.currentData() or ""
        if self._commit(region=region):
            self.region_changed.emit(region)

    def _key_frame_toggled(self, on: bool) -> None:
        image = self.image()
        if image is None:
            return
        frame = self._frame if self._frame_count > 1 else 0
        frames = set(image.key_frames)
        frames = frames | {frame} if on else frames - {frame}
        self._commit(key_frames=tuple(sorted(frames)))

    def _clear_calibration(self) -> None:
        if self._workspace is not None and self._image_id is not None:
            self._workspace.clear_manual_calibration(self._image_id)
