"""The images held back from the open session, with why and how each came; attaching one anyway
is an explicit, audited decision for this session alone, dismissing keeps it out.

The list belongs to the session shown: another session (or none) shows its own list, so an image
held for one patient is never one click from another patient's session.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.store.records import HeldImage, Session, StoredImage, StoreError
from prolo_planner.store.repository import Repository
from prolo_planner.ui.sessions.session_text import session_date
from prolo_planner.ui.theme import set_tone, tone_colour

#: (parent, the held image, the session) -> whether the clinician confirms attaching it.
ConfirmAttach = Callable[[QWidget, HeldImage, Session], bool]


def confirm_attach(parent: QWidget, held: HeldImage, session: Session) -> bool:
    box = QMessageBox(parent)
    box.setObjectName("confirm_attach_held")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Attach an image of another patient?")
    box.setText(
        f"{held.image.name} was held back from the session of {session_date(session)}:\n\n"
        + "\n".join(f"  • {r}" for r in held.reasons)
    )
    box.setInformativeText(
        "Attach it to this session only if you are sure it shows this session's patient (a "
        "typing error at the scanner). Your decision is recorded in the audit log."
    )
    attach = box.addButton("Attach to this session", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is attach


class HeldImagesPanel(QWidget):
    #: An image was attached anyway (StoredImage): the open plan takes it.
    attached = Signal(object)
    #: Something went wrong, in words.
    failed = Signal(str)

    def __init__(self, repo: Repository, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("held_images")
        self.repo = repo
        self.session: Session | None = None
        self.items: list[HeldImage] = []
        #: Asks before attaching; tests answer for the clinician.
        self.confirm: ConfirmAttach = confirm_attach
        self.title = QLabel("")
        self.title.setObjectName("held_title")
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold")
        set_tone(self.title, "warning")
        self.list = QListWidget()
        self.list.setObjectName("held_list")
        self.list.setWordWrap(True)
        self.attach_button = QPushButton("Attach to this session anyway…")
        self.attach_button.setObjectName("held_attach")
        self.attach_button.setToolTip(
            "Only when you are sure the file shows this session's patient; it is audited"
        )
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setObjectName("held_dismiss")
        self.dismiss_button.setToolTip("Keep the file out of the session (it stays in the library)")
        self.attach_button.clicked.connect(self.attach_chosen)
        self.dismiss_button.clicked.connect(self.dismiss_chosen)
        buttons = QHBoxLayout()
        buttons.addWidget(self.attach_button)
        buttons.addWidget(self.dismiss_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.hide()

    def show_session(self, session: Session | None, editable: bool = True) -> None:
        """Show what is held back from this session (nothing, with no session). A session that
        cannot take images (signed, read-only here) lists them but attaches none."""
        self.session = session
        self.attach_button.setEnabled(editable)
        self.attach_button.setToolTip(
            "Only when you are sure the file shows this session's patient; it is audited"
            if editable
            else "The session is read only: amend it to attach an image"
        )
        self.refresh()

    def refresh(self) -> list[HeldImage]:
        s = self.session
        self.items = (
            self.repo.held_images(s.id) if s is not None and not self.repo.db.closed else []
        )
        self.list.clear()
        for held in self.items:
            item = QListWidgetItem(
                f"{held.image.name} ({held.origin or 'brought in'}): " + "; ".join(held.reasons)
            )
            item.setForeground(tone_colour("warning"))
            item.setToolTip(
                "Not in the session: the file is kept in the library, filed under nobody.\n"
                + "\n".join(held.reasons)
            )
            item.setData(Qt.ItemDataRole.UserRole, held.image.sha256)
            self.list.addItem(item)
        if self.items:
            self.list.setCurrentRow(0)
            n = len(self.items)
            self.title.setText(
                f"Held back from the session of {session_date(s)}: {n} image"  # type: ignore[arg-type]
                f"{'s' if n != 1 else ''} not this patient's"
            )
        was_hidden = self.isHidden()
        self.setVisible(bool(self.items))
        holder = self.parentWidget()
        if self.items and was_hidden and isinstance(holder, QSplitter):
            # Room to read the reasons: most of the column, the patient list keeps a little.
            total = sum(holder.sizes()) or 300
            holder.setSizes([total // 3, total - total // 3])
        return self.items

    def lines(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _chosen(self) -> HeldImage | None:
        row = self.list.currentRow()
        return self.items[row] if 0 <= row < len(self.items) else None

    def attach_chosen(self) -> StoredImage | None:
        held, session = self._chosen(), self.session
        if held is None or session is None:
            return None
        if not self.confirm(self, held, session):
            return None
        try:
            stored = self.repo.attach_held(session.id, held.image.sha256)
        except StoreError as exc:
            self.failed.emit(f"{held.image.name} not attached: {exc}")
            return None
        self.refresh()
        self.attached.emit(stored)
        return stored

    def dismiss_chosen(self) -> None:
        held, session = self._chosen(), self.session
        if held is None or session is None:
            return
        try:
            self.repo.dismiss_held(session.id, held.image.sha256)
        except StoreError as exc:
            self.failed.emit(f"{held.image.name} not dismissed: {exc}")
        self.refresh()
