"""DICOM nodes in the preferences: this workstation's AE title and retrieve port, and the PACS and
workstations it talks to, each with a Test button: a DIMSE node (AE title, host, port, C-GET or
C-MOVE; tested with a C-ECHO) or a DICOMweb node (base URL, basic or bearer authentication, TLS
verification and the clinic's CA; tested with a QIDO-RS ping)."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.net.nodes import (
    AuthKind,
    DicomNode,
    DicomWebNode,
    NetworkSettings,
    Node,
    NodeError,
    RetrieveMethod,
    check_ae_title,
    load_settings,
    save_settings,
)
from prolo_planner.ui.exports.background import Task
from prolo_planner.ui.theme import set_tone


class DicomNodesDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dicom_nodes_dialog")
        self.setWindowTitle("DICOM nodes")
        self.task: Task | None = None
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        set_tone(self.problem, "danger")
        try:
            self.settings = load_settings()
        except NodeError as exc:
            self.settings = NetworkSettings()
            self.problem.setText(f"{exc}; starting from empty settings")

        self.calling = QLineEdit(self.settings.calling_ae_title)
        self.calling.setMaxLength(16)
        self.retrieve_port = QSpinBox()
        self.retrieve_port.setObjectName("retrieve_port")
        self.retrieve_port.setRange(1, 65535)
        self.retrieve_port.setValue(self.settings.retrieve_port or 11113)
        self.retrieve_port.setToolTip(
            "A PACS that offers only C-MOVE sends a retrieve to this port; its administrator "
            "adds this workstation's AE title with this computer's address and this port"
        )
        self.list = QListWidget()
        self.list.setObjectName("dicom_nodes")
        self.name = QLineEdit()
        self.kind = QComboBox()
        self.kind.setObjectName("node_kind")
        self.kind.addItem("DIMSE (AE title, host, port)", "dimse")
        self.kind.addItem("DICOMweb (URL)", "dicomweb")
        # DIMSE
        self.ae_title = QLineEdit()
        self.ae_title.setMaxLength(16)
        self.host = QLineEdit()
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(104)
        self.retrieve = QComboBox()
        self.retrieve.setObjectName("node_retrieve")
        self.retrieve.addItem("C-GET", RetrieveMethod.GET.value)
        self.retrieve.addItem("C-MOVE (the PACS offers only that)", RetrieveMethod.MOVE.value)
        # DICOMweb
        self.url = QLineEdit()
        self.url.setObjectName("node_url")
        self.url.setPlaceholderText("https://pacs.clinic/dicom-web")
        self.auth = QComboBox()
        self.auth.setObjectName("node_auth")
        self.auth.addItem("None", AuthKind.NONE.value)
        self.auth.addItem("User name and password (basic)", AuthKind.BASIC.value)
        self.auth.addItem("Token (bearer)", AuthKind.BEARER.value)
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.verify_tls = QCheckBox("Verify the server's TLS certificate")
        self.verify_tls.setChecked(True)
        self.ca_bundle = QLineEdit()
        self.ca_bundle.setPlaceholderText("the clinic's CA certificate file (optional)")
        self.add_button = QPushButton("New")
        self.save_button = QPushButton("Save node")
        self.remove_button = QPushButton("Remove")
        self.test_button = QPushButton("Test")
        self.test_button.setToolTip("C-ECHO a DIMSE node; ask a DICOMweb node for one study")
        self.echo_result = QLabel("")
        self.echo_result.setObjectName("echo_result")
        self.echo_result.setWordWrap(True)

        dimse = QWidget()
        dimse_form = QFormLayout(dimse)
        dimse_form.setContentsMargins(0, 0, 0, 0)
        dimse_form.addRow("AE title", self.ae_title)
        dimse_form.addRow("Host", self.host)
        dimse_form.addRow("Port", self.port)
        dimse_form.addRow("Retrieve with", self.retrieve)
        web = QWidget()
        web_form = QFormLayout(web)
        web_form.setContentsMargins(0, 0, 0, 0)
        web_form.addRow("URL", self.url)
        web_form.addRow("Authentication", self.auth)
        web_form.addRow("User name", self.username)
        web_form.addRow("Password", self.password)
        web_form.addRow("Token", self.token)
        web_form.addRow("", self.verify_tls)
        web_form.addRow("CA certificate", self.ca_bundle)
        self.pages = QStackedWidget()
        self.pages.addWidget(dimse)
        self.pages.addWidget(web)
        self.kind.currentIndexChanged.connect(self.pages.setCurrentIndex)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Kind", self.kind)
        node_buttons = QHBoxLayout()
        for b in (self.add_button, self.save_button, self.remove_button, self.test_button):
            node_buttons.addWidget(b)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.pages)
        right.addLayout(node_buttons)
        right.addWidget(self.echo_result)
        right.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addLayout(right, 2)
        top = QFormLayout()
        top.addRow("This workstation's AE title", self.calling)
        top.addRow("Retrieve port (C-MOVE)", self.retrieve_port)
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
        self.resize(720, 440)

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
        dimse = node if isinstance(node, DicomNode) else None
        web = node if isinstance(node, DicomWebNode) else None
        self.kind.setCurrentIndex(1 if web is not None else 0)
        self.ae_title.setText(dimse.ae_title if dimse else "")
        self.host.setText(dimse.host if dimse else "")
        self.port.setValue(dimse.port if dimse else 104)
        self.retrieve.setCurrentIndex(1 if dimse and dimse.retrieve is RetrieveMethod.MOVE else 0)
        self.url.setText(web.url if web else "")
        self.auth.setCurrentIndex(list(AuthKind).index(web.auth) if web else 0)
        self.username.setText(web.username if web else "")
        self.password.setText(web.password if web else "")
        self.token.setText(web.token if web else "")
        self.verify_tls.setChecked(web.verify_tls if web else True)
        self.ca_bundle.setText(web.ca_bundle if web else "")
        self.echo_result.setText("")

    def current(self) -> Node | None:
        row = self.list.currentRow()
        return self.settings.nodes[row] if 0 <= row < len(self.settings.nodes) else None

    def form_node(self) -> Node:
        """The node as the form describes it; NodeError says what is wrong."""
        if self.kind.currentData() == "dicomweb":
            return DicomWebNode(
                self.name.text(),
                self.url.text(),
                AuthKind(self.auth.currentData()),
                self.username.text().strip(),
                self.password.text(),
                self.token.text().strip(),
                self.verify_tls.isChecked(),
                self.ca_bundle.text().strip(),
            )
        return DicomNode(
            self.name.text(),
            self.ae_title.text(),
            self.host.text(),
            self.port.value(),
            RetrieveMethod(self.retrieve.currentData()),
        )

    def new_node(self) -> None:
        self.list.setCurrentRow(-1)
        self._show(-1)
        self.name.setFocus()

    def save_node(self) -> Node | None:
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
        """Test the node in the form (saved or not): C-ECHO from this workstation's AE title, or
        a QIDO-RS ping."""
        try:
            node = self.form_node()
            calling = check_ae_title(self.calling.text(), "this workstation's AE title")
        except NodeError as exc:
            set_tone(self.echo_result, "danger")
            self.echo_result.setText(str(exc))
            return None
        from prolo_planner.net.echo import echo

        set_tone(self.echo_result, "")
        self.echo_result.setText(f"Asking {node.address}…")
        self.test_button.setEnabled(False)
        self.task = Task(lambda _progress: echo(node, calling_ae=calling), self, "echo")
        self.task.finished.connect(self._echoed)
        self.task.failed.connect(lambda reason: self._echoed(None, reason))
        return self.task.start()

    def _echoed(self, result, reason: str = "") -> None:
        self.test_button.setEnabled(True)
        ok = result is not None and result.ok
        set_tone(self.echo_result, "ok" if ok else "danger")
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
            self.settings = dataclasses.replace(
                self.settings,
                calling_ae_title=calling,
                retrieve_port=self.retrieve_port.value(),
            )
            save_settings(self.settings)
        except (NodeError, OSError) as exc:
            self.problem.setText(f"Not saved: {exc}")
            return
        super().accept()
