"""The Export menu and the PACS docks, installed on the main window by install_exports."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget

from prolo_planner.store.records import StoreError
from prolo_planner.store.repository import Repository
from prolo_planner.ui.exports.receiver_panel import ReceiverPanel
from prolo_planner.ui.exports.send_queue import SendDialog, SendQueuePanel
from prolo_planner.ui.window_protocol import PlannerWindow

if TYPE_CHECKING:  # the dialogs (and the export and DICOM stack behind them) load when first
    # opened: at start-up they cost about a second of imports for nothing on screen.
    from prolo_planner.ui.exports.export_dialog import ExportDialog
    from prolo_planner.ui.exports.nodes_dialog import DicomNodesDialog
    from prolo_planner.ui.exports.query_dialog import QueryRetrieveDialog

log = logging.getLogger("prolo_planner.ui")


class ExportsFeature(QObject):
    """What install_exports adds to a window; its methods are what the menu items do."""

    def __init__(
        self,
        window: PlannerWindow,
        repo: Repository | None = None,
        *,
        owns_store: bool = False,
    ) -> None:
        super().__init__(window.as_widget())
        self.setObjectName("exports_feature")
        self.window = window
        # The sessions feature's store when it is installed (one store per window), else ours.
        self._sessions = window.as_widget().findChild(QObject, "sessions_feature")
        found = repo or getattr(self._sessions, "repo", None)
        self.repo: Repository = found if found is not None else Repository.open()
        #: Whether this feature opened the store (and closes it when the window goes).
        self.owns_store = owns_store or found is None
        self.dialogs: dict[str, Any] = {}

        self.queue_panel = SendQueuePanel(self.repo)
        if self.owns_store:

            def close_store(*_args: object, worker=self.queue_panel.worker, r=self.repo) -> None:
                worker.stop(timeout=5)  # the sending stops before its store closes
                r.close()

            window.as_widget().destroyed.connect(close_store)
        elif self._sessions is not None and hasattr(self._sessions, "store_closing"):
            # The sessions feature owns the shared store: stop sending and receiving first.
            self._sessions.store_closing.connect(self.close)
        self.queue_dock: QDockWidget = window.add_dock(
            "Send queue",
            "send_queue_dock",
            self.queue_panel,
            Qt.DockWidgetArea.BottomDockWidgetArea,
        )
        self.queue_panel.send_button.clicked.connect(self.send_session)
        # The inbox files through the open session's door when sessions are installed.
        door = getattr(self._sessions, "door", None)
        self.receiver_panel = ReceiverPanel(
            self.repo, file_into=door.file_from_inbox if door is not None else None
        )
        self.receiver_dock: QDockWidget = window.add_dock(
            "Receiver and inbox", "receiver_dock", self.receiver_panel
        )
        # Shown when they have something to show: files still to send, a node switched on.
        self.queue_dock.setVisible(self.queue_panel.queue.pending_count() > 0)
        self.receiver_dock.setVisible(self.receiver_panel.receiver is not None)

        menu = window.menu("Export")
        self.actions: dict[str, QAction] = {}
        for name, text, slot, key in (
            ("export", "Export session…", self.export_session, "Ctrl+E"),
            ("send", "Send to PACS…", self.send_session, "Ctrl+Shift+E"),
            ("query", "Prior studies on the PACS…", self.query_retrieve, ""),
            ("nodes", "DICOM nodes…", self.dicom_nodes, ""),
        ):
            action = QAction(text, window.as_widget())
            action.setObjectName(f"action_{name}")
            if key:
                action.setShortcut(QKeySequence(key))
            action.triggered.connect(slot)
            menu.addAction(action)
            self.actions[name] = action
            if name == "query":
                menu.addSeparator()
        menu.addSeparator()
        menu.addAction(self.queue_dock.toggleViewAction())
        menu.addAction(self.receiver_dock.toggleViewAction())
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close)

    def current_session_id(self) -> int | None:
        """The session open in the window, when the sessions feature has one."""
        session = getattr(self._sessions, "session", None)
        return getattr(session, "id", None)

    def _show(self, name: str, dialog: Any) -> Any:
        old = self.dialogs.get(name)
        if old is not None:
            old.close()
        self.dialogs[name] = dialog
        dialog.show()
        dialog.raise_()
        return dialog

    # -- what the menu items do ----------------------------------------------------------------
    def export_session(self) -> ExportDialog:
        from prolo_planner.ui.exports.export_dialog import ExportDialog

        return self._show(
            "export", ExportDialog(self.repo, self.current_session_id(), self.window.as_widget())
        )

    def send_session(self) -> SendDialog:
        self.queue_dock.show()
        dialog = SendDialog(
            self.repo, self.queue_panel, self.current_session_id(), self.window.as_widget()
        )
        return self._show("send", dialog)

    def query_retrieve(self) -> QueryRetrieveDialog:
        from prolo_planner.ui.exports.query_dialog import QueryRetrieveDialog

        patient = getattr(self._sessions, "patient", None)
        mrn = getattr(patient, "mrn", "")
        door = getattr(self._sessions, "door", None)
        dialog = QueryRetrieveDialog(
            self.repo,
            mrn,
            self.window.as_widget(),
            session_id=self.current_session_id() if door is not None else None,
            on_admitted=door.retrieved if door is not None else None,
        )
        return self._show("query", dialog)

    def dicom_nodes(self) -> DicomNodesDialog:
        from prolo_planner.ui.exports.nodes_dialog import DicomNodesDialog

        return self._show("nodes", DicomNodesDialog(self.window.as_widget()))

    def close(self) -> None:
        """Stop sending and receiving (files not yet sent stay queued in the store); close the
        store if this feature opened it."""
        self.queue_panel.stop()
        self.receiver_panel.stop()
        if self.owns_store:
            self.repo.close()


def install_exports(window: PlannerWindow, repo: Repository | None = None) -> ExportsFeature | None:
    """Add the Export menu, the send queue and the receiver docks to the main window. Install it
    after the sessions feature, whose store it shares and whose open session it exports. If the
    store cannot be opened the viewer still starts: the Export menu says why, None is returned."""
    sessions = window.as_widget().findChild(QObject, "sessions_feature")
    if repo is None and getattr(sessions, "repo", None) is None:
        try:
            repo = Repository.open()
        except StoreError as exc:
            log.error("exports: session store not opened: %s", exc)
            unavailable = QAction(f"Exports unavailable: {exc}", window.as_widget())
            unavailable.setEnabled(False)
            window.menu("Export").addAction(unavailable)
            return None
        return ExportsFeature(window, repo, owns_store=True)
    return ExportsFeature(window, repo)
