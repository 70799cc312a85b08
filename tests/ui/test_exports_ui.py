"""The export and PACS windows against real servers on loopback: the Test button echoes dcmtk's
storescp, a send from the queue panel arrives (and waits, and goes once the PACS is back, and is
still there after a restart), Orthanc answers Query/Retrieve, and pynetdicom plays the scanner
that pushes into the inbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import UltrasoundImageStorage
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from prolo_planner.net.nodes import NetworkSettings, ReceiverSettings, load_settings, save_settings
from prolo_planner.net.queue import Backoff, QueueState
from prolo_planner.store import demo
from prolo_planner.store.repository import Repository
from prolo_planner.ui.exports.export_dialog import ExportDialog
from prolo_planner.ui.exports.feature import ExportsFeature, install_exports
from prolo_planner.ui.exports.nodes_dialog import DicomNodesDialog
from prolo_planner.ui.exports.query_dialog import QueryRetrieveDialog
from prolo_planner.ui.exports.receiver_panel import ReceiverPanel
from prolo_planner.ui.exports.send_queue import SendDialog, SendQueuePanel
from tests.conftest import SAMPLE_IMAGES, pydicom_file
from tests.net_servers import OUR_AE, Orthanc, Storescp, free_port

WAIT_MS = 20_000


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repository]:
    with Repository.open(tmp_path / "data") as r:
        demo.fill_demo(r, today=dt.date(2026, 3, 14))
        yield r


@pytest.fixture
def storescp(tmp_path: Path) -> Iterator[Storescp]:
    server = Storescp(tmp_path / "pacs").start()
    yield server
    server.stop()


def use_nodes(*nodes) -> None:
    save_settings(NetworkSettings(calling_ae_title=OUR_AE, nodes=tuple(nodes)))


# -- DICOM nodes -----------------------------------------------------------------------------------
def test_the_test_button_echoes_a_real_node_and_says_when_it_cannot(qtbot, storescp) -> None:
    dialog = DicomNodesDialog()
    qtbot.addWidget(dialog)
    dialog.name.setText("Clinic PACS")
    dialog.ae_title.setText(storescp.ae_title)
    dialog.host.setText("127.0.0.1")
    dialog.port.setValue(storescp.port)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.echo_result.text().startswith("Success"), timeout=WAIT_MS)
    assert f"{storescp.node.address} answered in" in dialog.echo_result.text()

    dialog.port.setValue(free_port())  # nothing listens there
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.echo_result.text().startswith("Failed"), timeout=WAIT_MS)

    dialog.port.setValue(storescp.port)
    dialog.ae_title.setText("BAD\\TITLE")
    assert dialog.save_node() is None
    assert "backslash" in dialog.problem.text() or "letters" in dialog.problem.text()
    dialog.ae_title.setText(storescp.ae_title)
    dialog.calling.setText("WORKSTATION1")
    dialog.accept()  # the unsaved form is saved with the rest
    assert dialog.result() == QDialog.DialogCode.Accepted
    saved = load_settings()
    assert saved.calling_ae_title == "WORKSTATION1"
    assert saved.node("clinic pacs").address == storescp.node.address


# -- export ----------------------------------------------------------------------------------------
def test_the_export_dialog_writes_the_chosen_formats(qtbot, repo, tmp_path: Path) -> None:
    dialog = ExportDialog(repo, session_id=2)
    qtbot.addWidget(dialog)
    for fmt, box in dialog.formats.items():
        box.setChecked(fmt.value in ("png", "pdf", "sr"))
    assert dialog.review.isHidden()
    dialog.deidentify.setChecked(True)
    # The texts under the clinician's eyes: catalog names ticked, typed text not.
    assert not dialog.review.isHidden()
    rows = {
        dialog.texts.item(i).text(): dialog.texts.item(i).checkState() == Qt.CheckState.Checked
        for i in range(dialog.texts.count())
    }
    assert rows["Text 1 text (typed): L4 spinous process"] is False
    assert rows["Caliper 1 label (typed): skin to supraspinous ligament"] is False
    assert rows["Plan title (typed): Lumbar prolotherapy, session 2"] is False
    assert any(ticked for text, ticked in rows.items() if "(catalog name)" in text)
    note = next(
        i
        for i in range(dialog.texts.count())
        if "L4 spinous process" in dialog.texts.item(i).text()
    )
    dialog.texts.item(note).setCheckState(Qt.CheckState.Checked)  # this one may go
    dialog.folder.setText(str(tmp_path / "teaching"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.results.count() > 0, timeout=WAIT_MS)
    written = sorted(p.name for p in (tmp_path / "teaching").iterdir())
    stem = written[0].split("_")[0]
    assert stem.startswith("ANON-")
    assert written == [
        f"{stem}_image-1_frame1.png",
        f"{stem}_image-2_frame1.png",
        f"{stem}_report.pdf",
        f"{stem}_source1.dcm",  # the SR points at the images: they go with it
        f"{stem}_source2.dcm",
        f"{stem}_sr.dcm",
    ]
    shown = [dialog.results.item(i).text() for i in range(dialog.results.count())]
    assert sorted(shown) == written
    assert dialog.status.text() == f"6 file(s) written to {tmp_path / 'teaching'}"
    assert dialog.progress.value() == dialog.progress.maximum()
    assert dialog.sessions.currentText().startswith("DEMO, Alex (DEMO-0001): #2 2026-02-21")
    sr = pydicom.dcmread(tmp_path / "teaching" / f"{stem}_sr.dcm")
    texts = {e.value for e in sr.iterall() if e.keyword == "TextValue"}
    assert "L4 spinous process" in texts  # approved
    assert "skin to supraspinous ligament" not in texts  # not approved


def test_an_export_that_cannot_be_made_says_why(qtbot, repo, tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("in the way")
    dialog = ExportDialog(repo, session_id=2)
    qtbot.addWidget(dialog)
    dialog.folder.setText(str(blocker / "inside"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Not exported"), timeout=WAIT_MS)
    assert "cannot be made" in dialog.status.text()
    assert dialog.export_button.isEnabled()


# -- send ------------------------------------------------------------------------------------------
@pytest.fixture
def panels(repo) -> Iterator[list[SendQueuePanel]]:
    """Queue panels to stop before their store closes, whatever the test's outcome."""
    made: list[SendQueuePanel] = []
    yield made
    for panel in made:
        panel.stop()


def _states(panel: SendQueuePanel) -> list[QueueState]:
    return [row.state for row in panel.rows()]


def test_a_send_from_the_queue_panel_arrives_waits_and_survives_a_restart(
    qtbot, repo, storescp, panels
) -> None:
    use_nodes(storescp.node)
    panel = SendQueuePanel(repo, backoff=Backoff(first_s=600.0), idle_s=0.2, timeout=5)
    qtbot.addWidget(panel)
    panels.append(panel)
    dialog = SendDialog(repo, panel, session_id=1)
    qtbot.addWidget(dialog)
    dialog.send_button.click()
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: _states(panel) == [QueueState.SENT] * 4, timeout=WAIT_MS)
    names = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]
    assert names == [
        "lumbar_long_axis_rgb.dcm",
        "session1_sc1.dcm",
        "session1_sr.dcm",
        "session1_pr1.dcm",
    ]
    arrived = {pydicom.dcmread(p).SOPInstanceUID for p in storescp.folder.iterdir()}
    assert arrived == {row.sop_instance_uid for row in panel.rows()}
    # The label follows the worker's results as they reach the GUI thread.
    qtbot.waitUntil(lambda: panel.summary.text() == "4 sent, 0 waiting, 0 refused")

    # The PACS goes down: the next session's files wait, and the panel says when they go.
    storescp.stop()
    second = SendDialog(repo, panel, session_id=2)
    qtbot.addWidget(second)
    second.send_button.click()
    qtbot.waitUntil(lambda: len(panel.rows()) == 11, timeout=WAIT_MS)
    waiting = lambda: [r for r in panel.rows() if r.state is QueueState.WAITING and r.attempts]  # noqa: E731
    qtbot.waitUntil(lambda: len(waiting()) == 7, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "next try in" in panel.table.item(10, 4).text(), timeout=WAIT_MS)
    panel.stop()

    # The app closes and opens again: the queue is the store's, nothing was lost.
    with Repository.open(repo.data_dir) as again:
        storescp.start()
        reopened = SendQueuePanel(again, backoff=Backoff(first_s=600.0), idle_s=0.2, timeout=5)
        qtbot.addWidget(reopened)
        panels.append(reopened)
        assert len(reopened.rows()) == 11
        assert reopened.summary.text() == "4 sent, 7 waiting, 0 refused"
        reopened.table.selectAll()
        assert reopened.retry() == 7  # Retry now: no need to wait for the back-off
        qtbot.waitUntil(lambda: _states(reopened) == [QueueState.SENT] * 11, timeout=WAIT_MS)
        reopened.stop()
        rows = reopened.rows()
    # Both sessions' images, SCs, SRs and PRs (the long axis image is in both: sent twice).
    arrived = {pydicom.dcmread(p).SOPInstanceUID for p in storescp.folder.iterdir()}
    assert arrived == {row.sop_instance_uid for row in rows} and len(arrived) == 10


# -- query / retrieve ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    server = Orthanc(tmp_path_factory.mktemp("orthanc")).start()
    server.upload(SAMPLE_IMAGES / "cervical_pillars_mono2.dcm")
    yield server
    server.stop()


def test_query_and_retrieve_from_orthanc_into_the_store(qtbot, repo, orthanc) -> None:
    source = pydicom.dcmread(SAMPLE_IMAGES / "cervical_pillars_mono2.dcm")
    use_nodes(orthanc.node)
    dialog = QueryRetrieveDialog(repo, str(source.PatientID))
    qtbot.addWidget(dialog)
    dialog.find_button.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=WAIT_MS)
    assert dialog.status.text() == "1 study found"
    assert dialog.studies[0].study_instance_uid == source.StudyInstanceUID
    dialog.table.selectRow(0)
    dialog.fetch_button.click()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("1 image(s) filed"), timeout=WAIT_MS)
    patient = repo.patient_by_mrn(str(source.PatientID))
    assert patient is not None
    (imported,) = dialog.fetched[0].imported
    assert imported.image.sop_instance_uid == source.SOPInstanceUID

    dialog.patient.setText("NOBODY-HERE")
    dialog.find_button.click()
    qtbot.waitUntil(lambda: dialog.status.text() == "0 studies found", timeout=WAIT_MS)


# -- receiving -------------------------------------------------------------------------------------
def test_a_scanner_pushes_into_the_inbox_and_the_image_is_filed(qtbot, repo) -> None:
    port = free_port()
    panel = ReceiverPanel(repo)
    qtbot.addWidget(panel)
    assert panel.receiver is None  # off by default
    panel.enabled.setChecked(True)
    panel.port.setValue(port)
    panel.allowed.setText("US_ROOM1, US_ROOM2")
    assert panel.apply()
    assert panel.state.text() == (
        f"Receiving as PROLO_PLANNER on 127.0.0.1:{port} from US_ROOM1, US_ROOM2"
    )
    assert load_settings().receiver == ReceiverSettings(
        True, "PROLO_PLANNER", "127.0.0.1", port, ("US_ROOM1", "US_ROOM2")
    )

    image = pydicom.dcmread(SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm")
    scanner = AE(ae_title="US_ROOM1")
    scanner.add_requested_context(UltrasoundImageStorage, [ExplicitVRLittleEndian])
    scanner.acse_timeout = scanner.dimse_timeout = scanner.network_timeout = 5
    assoc = scanner.associate("127.0.0.1", port, ae_title="PROLO_PLANNER")
    assert assoc.is_established
    assert assoc.send_c_store(image).Status == 0x0000
    assoc.release()
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=WAIT_MS)
    assert panel.table.item(0, 0).text() == str(image.PatientID)

    # The image names the demo patient: choosing it suggests their latest session.
    patient = repo.patient_by_mrn(str(image.PatientID))
    latest, *older = [r.session for r in repo.sessions_of(patient.id)]
    panel.table.selectRow(0)
    assert panel.sessions.session_id() == latest.id not in {s.id for s in older}
    assert panel.file_selected() == [
        f"{image.SOPInstanceUID}.dcm: filed under session #{latest.id}"
    ]
    assert panel.table.rowCount() == 0  # out of the inbox, into the store
    filed = [i.sop_instance_uid for i in repo.images_of(latest.id)]
    assert image.SOPInstanceUID in filed

    # Another patient's image (a real SonoSite file, PLA, ID 204) filed under the same session
    # goes through the session's door: held back with the reason, not filed.
    foreign = pydicom.dcmread(pydicom_file("examples_ybr_color.dcm"))
    scanner.add_requested_context(foreign.SOPClassUID, [foreign.file_meta.TransferSyntaxUID])
    assoc = scanner.associate("127.0.0.1", port, ae_title="PROLO_PLANNER")
    assert assoc.send_c_store(foreign).Status == 0x0000
    assoc.release()
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=WAIT_MS)
    panel.table.selectRow(0)
    panel.sessions.select(latest.id)
    (line,) = panel.file_selected()
    assert line == (
        f"{foreign.SOPInstanceUID}.dcm: held back, not filed: patient ID 204 in the file, "
        "DEMO-0001 in the session; name PLA in the file, DEMO^Alex in the session"
    )
    assert foreign.SOPInstanceUID not in [i.sop_instance_uid for i in repo.images_of(latest.id)]
    (held,) = repo.held_images(latest.id)
    assert held.origin == "receiver"

    panel.enabled.setChecked(False)
    assert panel.apply()
    assert panel.receiver is None and panel.state.text().startswith("Off")


# -- in the main window ----------------------------------------------------------------------------
def test_the_main_window_exports_and_sends_the_open_session(qtbot, repo, storescp, panels) -> None:
    from prolo_planner.ui.main_window import MainWindow
    from prolo_planner.ui.sessions.feature import install_sessions

    use_nodes(storescp.node)
    window = MainWindow()
    qtbot.addWidget(window)
    sessions = install_sessions(window, repo)
    feature = install_exports(window)  # as the app does: after the sessions
    assert isinstance(feature, ExportsFeature)
    panels.append(feature.queue_panel)
    window.show()
    assert feature.repo is repo  # one store for the window
    assert window.findChild(ExportsFeature, "exports_feature") is feature
    texts = [a.text() for a in window.menu("Export").actions() if a.text()]
    assert texts == [
        "Export session…",
        "Send to PACS…",
        "Prior studies on the PACS…",
        "DICOM nodes…",
        "Show send queue panel",
        "Show receiver and inbox panel",
    ]
    # Nothing waits to be sent and the receiver is off: their docks stay out of the way.
    assert not feature.queue_dock.isVisible() and not feature.receiver_dock.isVisible()
    assert feature.queue_panel.worker.running is False

    sessions.open_session(2)
    assert feature.current_session_id() == 2
    feature.actions["export"].trigger()
    assert feature.dialogs["export"].sessions.session_id() == 2

    feature.actions["nodes"].trigger()
    nodes = feature.dialogs["nodes"]
    assert nodes.name.text() == "storescp"
    nodes.test_button.click()
    qtbot.waitUntil(lambda: nodes.echo_result.text().startswith("Success"), timeout=WAIT_MS)

    feature.actions["send"].trigger()
    send = feature.dialogs["send"]
    assert feature.queue_dock.isVisible() and send.sessions.session_id() == 2
    send.plan.setChecked(False)  # the images only
    send.send_button.click()
    qtbot.waitUntil(lambda: _states(feature.queue_panel) == [QueueState.SENT] * 2, timeout=WAIT_MS)
    assert len(list(storescp.folder.iterdir())) == 2
