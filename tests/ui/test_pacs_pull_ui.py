"""Find on PACS in the patient list, against a real Orthanc: the patient's plans listed, pulled
with progress, what became of each said; Cancel stops between objects with nothing half; the
nodes dialog makes a DICOMweb node and tests it; a conflict is shown and resolved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from prolo_planner.net.nodes import (
    AuthKind,
    DicomWebNode,
    NetworkSettings,
    load_settings,
    save_settings,
)
from prolo_planner.store.pacs_records import PulledSession
from prolo_planner.store.repository import Repository
from prolo_planner.ui.exports.nodes_dialog import DicomNodesDialog
from prolo_planner.ui.sessions.pacs_pull import PacsPullDialog
from prolo_planner.ui.sessions.patient_list import PatientList
from prolo_planner.ui.sessions.timeline import TimelineView
from tests.core.pacs_support import PHANTOM, course_of, phantom_course, send
from tests.core.store_support import make_plan
from tests.net_servers import OUR_AE, Orthanc

WAIT_MS = 60_000


@pytest.fixture(scope="module")
def pacs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Orthanc, Path]]:
    server = Orthanc(tmp_path_factory.mktemp("orthanc-ui"), dicomweb=True).start()
    a = tmp_path_factory.mktemp("store-a")
    with Repository.open(a) as repo:
        made = phantom_course(repo)
    for session in made.sessions:
        send(a, server.node.address, session.id)
    yield server, a
    server.stop()


def _settings(pacs: Orthanc) -> None:
    save_settings(
        NetworkSettings(
            calling_ae_title=OUR_AE,
            nodes=(pacs.node, DicomWebNode("clinic web", pacs.url)),
        )
    )


def test_find_on_pacs_pulls_the_patients_course(qtbot, pacs, tmp_path: Path) -> None:
    server, a = pacs
    _settings(server)
    repo = Repository.open(tmp_path / "b")
    widget = PatientList(repo)
    qtbot.addWidget(widget)
    assert widget.pacs_button.text() == "Find on PACS…"
    widget.search.setText(PHANTOM["mrn"])  # not in this store yet: the ID typed
    dialog = widget.find_on_pacs()
    qtbot.addWidget(dialog)
    assert dialog.patient.text() == PHANTOM["mrn"]
    assert [dialog.nodes.itemText(i) for i in range(dialog.nodes.count())][1].startswith(
        "clinic web"
    )
    dialog.nodes.setCurrentIndex(1)  # DICOMweb
    qtbot.mouseClick(dialog.find_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 3, timeout=WAIT_MS)
    assert dialog.status.text().startswith("3 plans of the patient found, 3 not here yet")
    # Each row says which session and version it is, from its record, and that it is new.
    rows = [
        [dialog.table.item(r, c).text() for c in range(dialog.table.columnCount())]
        for r in range(3)
    ]
    assert [r[0][:10] for r in rows] == ["2026-03-14", "2026-02-21", "2026-01-31"]
    assert [r[3] for r in rows] == ["draft", "signed", "signed"]
    assert {r[1] for r in rows} == {"Lumbar spine"} and {r[6] for r in rows} == {"new"}
    assert [r[5] for r in rows] == ["4", "4", "3"]
    assert dialog.pull_button.isEnabled()
    progress: list[tuple[int, int, str]] = []
    chosen: list = []
    widget.patient_chosen.connect(chosen.append)
    task = dialog.start_pull()
    task.progress.connect(lambda d, t, w: progress.append((d, t, w)))
    assert dialog.cancel_button.isEnabled() and not dialog.find_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=WAIT_MS)
    lines = dialog.result_lines()
    assert sum(line.startswith("New: session #") for line in lines) == 3, lines
    assert "3 session version(s) new" in lines[0]
    assert any(t > 0 for _d, t, _w in progress)  # the bar knew how far it had to go
    # The patient list shows the patient the pull filed; the table says what is here now.
    assert [p.mrn for p in chosen] == [PHANTOM["mrn"]]
    assert [p.mrn for p in widget.shown_patients()] == [PHANTOM["mrn"]]
    # The list is read again: everything is here now.
    qtbot.waitUntil(lambda: "all here already" in dialog.status.text(), timeout=WAIT_MS)
    assert {dialog.table.item(r, 6).text() for r in range(3)} == {"here"}
    qtbot.waitUntil(lambda: not dialog.busy, timeout=WAIT_MS)
    assert not dialog.cancel_button.isEnabled() and not dialog.pull_button.isEnabled()
    with Repository.open(a) as a_repo:
        assert course_of(repo) == course_of(a_repo)
    dialog.close()
    repo.close()


def test_cancel_stops_with_nothing_half(qtbot, pacs, tmp_path: Path) -> None:
    server, _a = pacs
    _settings(server)
    repo = Repository.open(tmp_path / "c")
    dialog = PacsPullDialog(repo, PHANTOM["mrn"])
    qtbot.addWidget(dialog)
    dialog.find()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 3, timeout=WAIT_MS)
    task = dialog.start_pull()
    assert task is not None
    # The clinician's Cancel lands while the first report is on its way: pressed from the
    # worker's first progress report, so the moment is the same on every run.
    task.progress.connect(lambda *_args: dialog.cancel.set(), Qt.ConnectionType.DirectConnection)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=WAIT_MS)
    assert dialog.report.cancelled and dialog.report.filed == []
    assert "cancelled" in dialog.status.text()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=WAIT_MS)
    assert repo.patient_by_mrn(PHANTOM["mrn"]) is None or not repo.sessions_of(
        repo.patient_by_mrn(PHANTOM["mrn"]).id
    )
    # The button itself: it asks the running job to stop.
    dialog.start_pull()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.cancel.is_set()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=WAIT_MS)
    repo.close()


def test_a_node_that_does_not_answer_is_said(qtbot, tmp_path: Path) -> None:
    save_settings(NetworkSettings(nodes=(DicomWebNode("gone", "http://127.0.0.1:9/dicom-web"),)))
    repo = Repository.open(tmp_path / "d")
    dialog = PacsPullDialog(repo, "P-1")
    qtbot.addWidget(dialog)
    dialog.find()
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Not done"), timeout=WAIT_MS)
    assert "no answer from http://127.0.0.1:9/dicom-web" in dialog.status.text()
    assert dialog.find_button.isEnabled()
    repo.close()


def test_the_nodes_dialog_makes_and_tests_a_dicomweb_node(qtbot, pacs) -> None:
    server, _a = pacs
    save_settings(NetworkSettings())
    dialog = DicomNodesDialog()
    qtbot.addWidget(dialog)
    dialog.new_node()
    dialog.name.setText("clinic web")
    dialog.kind.setCurrentIndex(1)
    assert dialog.pages.currentIndex() == 1
    dialog.url.setText(server.url + "/")
    dialog.auth.setCurrentIndex(2)  # bearer, without a token: said, not saved
    assert dialog.save_node() is None and "needs a token" in dialog.problem.text()
    dialog.auth.setCurrentIndex(0)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.echo_result.text().startswith("Success"), timeout=WAIT_MS)
    dialog.retrieve_port.setValue(11999)
    dialog.accept()
    saved = load_settings()
    (node,) = saved.nodes
    assert isinstance(node, DicomWebNode) and node.url == server.url  # the slash dropped
    assert node.auth is AuthKind.NONE and node.verify_tls and saved.retrieve_port == 11999


def test_a_conflict_is_shown_and_resolved(qtbot, tmp_path: Path) -> None:
    """Store-made conflict (as a pull files one): the timeline says it in red, Resolve keeps the
    chosen version and sets the other aside."""
    from prolo_planner.ui.theme import tone_colour

    repo = Repository.open(tmp_path / "e")
    patient = repo.create_patient("P-9", "DOE^Jo")
    base = PulledSession(
        uid="a" * 32,
        version=1,
        started_at="2026-03-14T09:30:00",
        state="signed",
        signed_by="dr_b",
        sr_instance_uid="2.25.1",
        node="PACS",
    )
    v1 = repo.file_pulled(patient.id, base, make_plan()).session
    mine = repo.amend(v1.id)
    theirs = repo.file_pulled(
        patient.id,
        PulledSession(
            uid="b" * 32,
            version=2,
            started_at="2026-03-14T09:30:00",
            amends_uid="a" * 32,
            state="signed",
            signed_by="dr_b",
            sr_instance_uid="2.25.2",
            node="PACS",
        ),
        make_plan(sites=1),
    ).session
    timeline = TimelineView(repo)
    qtbot.addWidget(timeline)
    timeline.show_patient(patient)
    assert timeline.in_conflict == {theirs.id: mine.id, mine.id: theirs.id}
    state = timeline.table.item(timeline.row_of(mine.id), timeline.column("State"))
    assert "CONFLICT with #" in state.text()
    assert state.foreground().color() == tone_colour("danger")  # the theme's red
    date = timeline.table.item(timeline.row_of(mine.id), timeline.column("Date"))
    assert date.foreground().color() == tone_colour("danger") and "In conflict" in date.toolTip()
    timeline.select_session(mine.id)
    assert timeline.resolve_button.isVisibleTo(timeline) and timeline.resolve_button.isEnabled()
    asked = []
    timeline.resolve_requested.connect(asked.append)
    timeline.resolve_button.click()
    assert asked == [mine.id]
    repo.resolve_conflict(theirs.id)
    timeline.refresh()
    assert timeline.in_conflict == {} and not timeline.resolve_button.isVisibleTo(timeline)
    assert [r.session.id for r in timeline.rows] == [theirs.id]
    repo.close()
