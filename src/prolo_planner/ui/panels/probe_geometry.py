"""How the shown image's depths are measured: the probe's geometry and depth zero, each with
where it comes from, and the clinician's corrections (shape, face radius, the 0 tick, the skin
line). A guessed depth zero says so in amber and offers the two ways to set it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.image_calibration import describe_geometry, guessed_zero
from prolo_planner.core.plan import ImagePlan, ProbeSetting, ProbeShape
from prolo_planner.ui.theme import set_tone

AS_FOUND = "as the file and image say"
GUESS_TEXT = (
    "Depth zero is a guess (the top of the region): neither the file nor the image shows "
    "where the transducer face is. Click the depth scale's 0 tick, or draw the skin line."
)


class ProbeGeometryBox(QWidget):
    #: The clinician asked for a tool: "depth zero" (click the 0 tick) or "skin line".
    tool_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("probe_geometry")
        self._image: ImagePlan | None = None
        #: Pushes the image's new probe setting (one undo step); set by the panel.
        self.commit: Callable[[ProbeSetting | None], bool] = lambda _setting: False
        self.summary = QLabel("")
        self.summary.setObjectName("probe_summary")
        self.summary.setWordWrap(True)
        self.guess = QLabel(GUESS_TEXT)
        self.guess.setObjectName("depth_zero_guess")
        self.guess.setWordWrap(True)
        set_tone(self.guess, "warning")
        self.shape = QComboBox()
        self.shape.setObjectName("probe_shape")
        self.shape.addItem(AS_FOUND, "")
        for shape in ProbeShape:
            self.shape.addItem(shape.value, shape.value)
        self.shape.activated.connect(lambda _i: self._changed())
        self.radius = QDoubleSpinBox()
        self.radius.setObjectName("probe_radius")
        self.radius.setRange(0.0, 300.0)
        self.radius.setDecimals(1)
        self.radius.setSuffix(" mm")
        self.radius.setSpecialValueText(AS_FOUND)  # 0: the radius found in the image
        self.radius.setToolTip("The face radius of a curvilinear probe (its data sheet says)")
        self.radius.editingFinished.connect(self._changed)
        self.zero_tick = QPushButton("Click the 0 tick")
        self.zero_tick.setObjectName("click_zero_tick")
        self.zero_tick.setToolTip("Depth zero on the row of the depth scale's 0 tick (0)")
        self.zero_tick.clicked.connect(lambda: self.tool_requested.emit("depth zero"))
        self.skin_line = QPushButton("Draw the skin line")
        self.skin_line.setObjectName("draw_skin_line")
        self.skin_line.setToolTip("Depth zero along every beam where it meets the line (K)")
        self.skin_line.clicked.connect(lambda: self.tool_requested.emit("skin line"))
        self.reset = QPushButton("As found")
        self.reset.setObjectName("reset_probe")
        self.reset.setToolTip("Forget the corrections: the file's and the image's geometry")
        self.reset.clicked.connect(lambda: self.commit(None))
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("Probe shape"), 0, 0)
        grid.addWidget(self.shape, 0, 1, 1, 2)
        grid.addWidget(QLabel("Face radius"), 1, 0)
        grid.addWidget(self.radius, 1, 1, 1, 2)
        grid.addWidget(self.zero_tick, 2, 0)
        grid.addWidget(self.skin_line, 2, 1)
        grid.addWidget(self.reset, 2, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.guess)
        layout.addLayout(grid)

    def show_image(
        self, image: ImagePlan | None, calibration: Calibration | None, editable: bool
    ) -> None:
        self._image = image
        if image is None or calibration is None or not calibration.is_calibrated:
            self.summary.setText(
                "Depth: no millimetres until the image is calibrated" if image else ""
            )
            self.guess.hide()
            for widget in (self.shape, self.radius, self.zero_tick, self.skin_line, self.reset):
                widget.setEnabled(False)
            return
        self.summary.setText("\n".join(describe_geometry(calibration)))
        self.guess.setVisible(guessed_zero(calibration))
        setting = image.probe or ProbeSetting()
        with QSignalBlocker(self.shape):
            found = self.shape.findData(setting.shape.value if setting.shape else "")
            self.shape.setCurrentIndex(max(found, 0))
        if not self.radius.hasFocus():
            with QSignalBlocker(self.radius):
                self.radius.setValue(setting.radius_mm or 0.0)
        for widget in (self.shape, self.zero_tick, self.skin_line):
            widget.setEnabled(editable)
        self.radius.setEnabled(editable and self._radial(calibration, setting))
        self.reset.setEnabled(editable and image.probe is not None)

    @staticmethod
    def _radial(calibration: Calibration, setting: ProbeSetting) -> bool:
        if setting.shape is not None:
            return setting.shape is not ProbeShape.LINEAR
        return any(r.probe is not None and r.probe.shape is not ProbeShape.LINEAR
                   for r in calibration.regions)  # fmt: skip

    def _changed(self) -> None:
        if self._image is None:
            return
        data = self.shape.currentData()
        shape = ProbeShape(data) if data else None
        radius = self.radius.value() or None
        before = self._image.probe or ProbeSetting()
        after = ProbeSetting(shape, radius, before.zero_y, before.centre_x, before.extra)
        empty = after == ProbeSetting()
        if (None if empty else after) != self._image.probe:
            self.commit(None if empty else after)
