"""Start-up does not import what only a dialog needs: the export stack (report, highdicom,
the de-identification table) and the PACS pull load when their dialog first opens. Measured:
about 0.5 s of a 2 s start (README, Speed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

#: Modules only the Export, Query, DICOM nodes and Find on PACS dialogs need.
DIALOG_ONLY = (
    "prolo_planner.ui.exports.export_dialog",
    "prolo_planner.ui.exports.query_dialog",
    "prolo_planner.ui.exports.nodes_dialog",
    "prolo_planner.ui.sessions.pacs_pull",
    "prolo_planner.pacs.pull",
    "prolo_planner.report.session_export",
    "prolo_planner.export.deidentify_profile",
    "dicomanonymizer",
)

CHILD = """
import json, sys
from prolo_planner.ui.app import run_gui  # what the window's start imports
import prolo_planner.ui.exports.feature, prolo_planner.ui.sessions.feature
print(json.dumps(sorted(m for m in sys.modules if m.startswith(tuple(sys.argv[1:])))))
"""


def test_the_window_starts_without_the_dialogs_stacks(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PROLO_PLANNER_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *DIALOG_ONLY],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_dialogs_still_open(qtbot, tmp_path, monkeypatch):
    """The deferred imports are real: each menu action opens its dialog."""
    monkeypatch.setenv("PROLO_PLANNER_HOME", str(tmp_path))
    from prolo_planner.ui.exports.feature import install_exports
    from prolo_planner.ui.main_window import MainWindow
    from prolo_planner.ui.sessions.patient_list import PatientList

    window = MainWindow()
    qtbot.addWidget(window)
    feature = install_exports(window)  # its own store, closed when the window goes
    assert feature is not None and feature.owns_store
    for dialog in (feature.export_session(), feature.query_retrieve(), feature.dicom_nodes()):
        assert dialog.isVisible()
        dialog.close()
    patients = PatientList(feature.repo, window)
    found = patients.find_on_pacs()
    assert found.isVisible()
    found.close()
