"""DICOM nodes in the preferences: this workstation's AE title, and the PACS and workstations it
talks to (AE title, host, port), each with a Test button that sends a C-ECHO."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.net.nodes import (
    DicomNode,
    NetworkSettings,
    NodeError,
    check_ae_title,
    load_settings,
    save_settings,
)
from prolo_planner.ui.exports.background import Task

OK_STYLE = "color: #5ad17a;"
BAD_STYLE = "color: #ff6b6b;"


class DicomNodesDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dicom_nodes_dialog")
        self.setWindowTitle("DICOM nodes")
        self.task: Task | None = None
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(BAD_STYLE)
        try:
            self.settings = load_settings()
        except NodeError as exc:
            self.settings = NetworkSettings()
            self.problem.setText(f"{exc}; starting from empty settings")

        self.calling = QLineEdit(self.settings.calling_ae_title)
        self.calling.setMaxLength(16)
        self.list = QListWidget()
        self.list.setObjectName("dicom_nodes")
        self.name = QLineEdit()
        self.ae_title = QLineEdit()
        self.ae_title.setMaxLength(16)
        self.host = QLineEdit()
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(104)
        self.add_button = QPushButton("New")
        self.save_button = QPushButton("Save node")
        self.remove_button = QPushButton("Remove")
        self.test_button = QPushButton("Test (C-ECHO)")
        self.echo_result = QLabel("")
        self.echo_result.setObjectName("echo_result")
        self.echo_result.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("AE title", self.ae_title)
        form.addRow("Host", self.host)
        form.addRow("Port", self.port)
        node_buttons = QHBoxLayout()
        for b in (self.add_button, self.save_button, self.remove_button, self.test_button):
            node_buttons.addWidget(b)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addLayout(node_buttons)
        right.addWidget(self.echo_result)
        right.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addLayout(right, 2)
        top = QFormLayout()
        top.addRow("This workstation's AE title", self.calling)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

        self.list.currentRowChanged.connect(self._show)
        self.add_button.clicked.connect(self.new_node)
        self.save_button.clicked.connect(self.save_node)
        self.remove_button.clicked.connect(self.remove_node)
        self.test_button.clicked.connect(self.test)
        self._fill()
        self.resize(640, 340)

    # -- the list ------------------------------------------------------------------------------
    def _fill(self, select: str | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for node in self.settings.nodes:
            self.list.addItem(f"{node.name}  ({node.address})")
        self.list.blockSignals(False)
        names = [n.name for n in self.settings.nodes]
        row = names.index(select) if select in names else (0 if names else -1)
        self.list.setCurrentRow(row)
        self._show(row)

    def _show(self, row: int) -> None:
        node = self.settings.nodes[row] if 0 <= row < len(self.settings.nodes) else None
        self.name.setText(node.name if node else "")
        self.ae_title.setText(node.ae_title if node else "")
        self.host.setText(node.host if node else "")
        self.port.setValue(node.port if node else 104)
        self.echo_result.setText("")

    def current(self) -> DicomNode | None:
        row = self.list.currentRow()
        return self.settings.nodes[row] if 0 <= row < len(self.settings.nodes) else None

    def form_node(self) -> DicomNode:
        """The node as the form describes it; NodeError says what is wrong."""
        return DicomNode(
            self.name.text(), self.ae_title.text(), self.host.text(), self.port.value()
        )

    def new_node(self) -> None:
        self.list.setCurrentRow(-1)
        self._show(-1)
        self.name.setFocus()

    def save_node(self) -> DicomNode | None:
        try:
            node = self.form_node()
            settings = self.settings
            old = self.current()
            if old is not None and old.name.casefold() != node.name.casefold():
                settings = settings.without_node(old.name)  # renamed: the old entry goes
            self.settings = settings.with_node(node)
        except NodeError as exc:
            self.problem.setText(str(exc))
            return None
        self.problem.setText("")
        self._fill(node.name)
        return node

    def remove_node(self) -> None:
        node = self.current()
        if node is not None:
            self.settings = self.settings.without_node(node.name)
            self._fill()

    # -- testing -------------------------------------------------------------------------------
    def test(self) -> Task | None:
        """C-ECHO the node in the form (saved or not) from this workstation's AE title."""
        try:
            node = self.form_node()
            calling = check_ae_title(self.calling.text(), "this workstation's AE title")
        except NodeError as exc:
            self.echo_result.setStyleSheet(BAD_STYLE)
            self.echo_result.setText(str(exc))
            return None
        from prolo_planner.net.echo import echo

        self.echo_result.setStyleSheet("")
        self.echo_result.setText(f"Asking {node.address}…")
        self.test_button.setEnabled(False)
        self.task = Task(lambda _progress: echo(node, calling_ae=calling), self, "echo")
        self.task.finished.connect(self._echoed)
        self.task.failed.connect(lambda reason: self._echoed(None, reason))
        return self.task.start()

    def _echoed(self, result, reason: str = "") -> None:
        self.test_button.setEnabled(True)
        ok = result is not None and result.ok
        self.echo_result.setStyleSheet(OK_STYLE if ok else BAD_STYLE)
        text = result.message if result is not None else reason
        self.echo_result.setText(("Success: " if ok else "Failed: ") + text)

    # -- saving --------------------------------------------------------------------------------
    def accept(self) -> None:
        if self.name.text().strip():
            try:
                unsaved = self.form_node() != self.current()
            except NodeError:
                unsaved = True
            if unsaved and self.save_node() is None:
                return  # the form's problem is shown: nothing is saved half-way
        try:
            calling = check_ae_title(self.calling.text(), "this workstation's AE title")
            self.settings = dataclasses.replace(self.settings, calling_ae_title=calling)
            save_settings(self.settings)
        except (NodeError, OSError) as exc:
            self.problem.setText(f"Not saved: {exc}")
            return
        super().accept()
