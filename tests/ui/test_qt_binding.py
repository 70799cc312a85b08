"""Guards against a broken Qt binding: PySide6 6.12.0 leaked None references and aborted."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_qt_calls_do_not_leak_references_to_none(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
        label.update()
    # A tolerance for unrelated interpreter activity; the bug lost exactly one per call.
    assert abs(sys.getrefcount(None) - before) < 100
