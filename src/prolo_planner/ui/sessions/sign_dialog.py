"""Signing a session: what signing means, what is still unresolved in the plan (core/signing.py),
and, when anything is, an explicit confirmation that the clinician signs over it."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.store.records import Session
from prolo_planner.ui.sessions.session_text import session_date

UNRESOLVED_COLOUR = "#ffb200"


class SignDialog(QDialog):
    def __init__(
        self, session: Session, unresolved: Sequence[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sign_dialog")
        self.setWindowTitle("Sign session")
        intro = QLabel(
            f"Sign the session of {session_date(session)}?\n\nA signed session is read-only; a "
            "change then needs an amendment (a new version; the signed one is kept)."
        )
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        self.items = QListWidget()
        self.items.setObjectName("sign_unresolved")
        self.items.setWordWrap(True)
        self.confirm = QCheckBox("")
        self.confirm.setObjectName("sign_over")
        if unresolved:
            n = len(unresolved)
            heading = QLabel(
                f"{n} thing{'s' if n != 1 else ''} in this plan {'are' if n != 1 else 'is'} "
                "unresolved:"
            )
            heading.setStyleSheet(f"color: {UNRESOLVED_COLOUR}; font-weight: bold")
            layout.addWidget(heading)
            self.items.addItems(list(unresolved))
            layout.addWidget(self.items, 1)
            self.confirm.setText("I have read these and sign over them (the report will list them)")
            layout.addWidget(self.confirm)
        else:
            self.items.hide()
            self.confirm.setChecked(True)
            self.confirm.hide()
            layout.addWidget(QLabel("Nothing in the plan is unresolved."))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.sign_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.sign_button.setText("Sign over these" if unresolved else "Sign")
        self.sign_button.setEnabled(self.confirm.isChecked())
        self.confirm.toggled.connect(self.sign_button.setEnabled)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(560, 380 if unresolved else 200)

    def lines(self) -> list[str]:
        return [self.items.item(i).text() for i in range(self.items.count())]


def ask_sign(parent: QWidget, session: Session, unresolved: Sequence[str]) -> bool:
    return SignDialog(session, unresolved, parent).exec() == QDialog.DialogCode.Accepted
