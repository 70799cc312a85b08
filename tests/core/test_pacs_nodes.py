"""The kinds of node a clinic has: a PACS that offers only C-MOVE; DICOMweb behind basic
authentication, and behind an HTTPS gateway that wants a bearer token and a trusted
certificate; the send queue delivering to DICOMweb, through the node going down and back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prolo_planner.cli import main
from prolo_planner.net.dicomweb import store_files
from prolo_planner.net.echo import echo
from prolo_planner.net.nodes import (
    AuthKind,
    DicomNode,
    DicomWebNode,
    NetworkSettings,
    RetrieveMethod,
    save_settings,
    settings_path,
)
from prolo_planner.net.queue import Backoff, QueueState, SendQueue
from prolo_planner.store.repository import Repository
from tests.conftest import SAMPLE_IMAGES
from tests.core.pacs_support import course_of, phantom_course, pull, send
from tests.net_servers import OUR_AE, Orthanc, TokenGateway, free_port

LUMBAR = SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm"
DUAL = SAMPLE_IMAGES / "lumbar_dual_view_ybr422_jpeg.dcm"


def test_a_pacs_that_offers_only_c_move(tmp_path: Path, capsys) -> None:
    """Orthanc refusing C-GET to this workstation: a C-GET node says so in words; set to
    C-MOVE, the pull listens on the retrieve port while the PACS sends, and the course comes
    back whole."""
    move_port = free_port()
    folder = tmp_path / "orthanc"
    folder.mkdir()
    pacs = Orthanc(folder, modalities={OUR_AE: move_port}, move_only=True).start()
    try:
        a = tmp_path / "a"
        with Repository.open(a) as repo:
            made = phantom_course(repo)
        for session in made.sessions:
            send(a, pacs.node.address, session.id)
        capsys.readouterr()
        by_get = DicomNode("pacs-get", pacs.ae_title, "127.0.0.1", pacs.dicom_port)
        assert pacs.node.retrieve is RetrieveMethod.MOVE
        save_settings(
            NetworkSettings(
                calling_ae_title=OUR_AE,
                nodes=(pacs.node, by_get),
                retrieve_port=move_port,
                retrieve_address="127.0.0.1",
            )
        )
        b = tmp_path / "b"
        assert pull(b, "--node", "pacs-get") == 1
        err = capsys.readouterr().err
        assert "if it offers only C-MOVE, set the node to retrieve with C-MOVE" in err
        assert pull(b, "--node", "orthanc") == 0
        with Repository.open(a) as a_repo, Repository.open(b) as b_repo:
            assert course_of(b_repo) == course_of(a_repo)
    finally:
        pacs.stop()


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory):
    """Orthanc's DICOMweb behind basic authentication, and an HTTPS gateway before it."""
    folder = tmp_path_factory.mktemp("orthanc-auth")
    pacs = Orthanc(folder, dicomweb=True, users={"room-a": "s3cret pass"}).start()
    gateway = TokenGateway(folder, pacs, token="t0ken-of-the-clinic")
    yield pacs, gateway
    gateway.close()
    pacs.stop()


def test_basic_authentication(locked, tmp_path: Path) -> None:
    pacs, _gateway = locked
    wrong = pacs.web_node(auth=AuthKind.BASIC, username="room-a", password="guess")
    result = echo(wrong)
    assert not result.ok and "refused our credentials" in result.message
    assert "HTTP 401" in result.message
    right = pacs.web_node(auth=AuthKind.BASIC, username="room-a", password="s3cret pass")
    assert echo(right).ok
    (sent,) = store_files(right, [LUMBAR])
    assert sent.ok, sent.message
    (refused,) = store_files(wrong, [DUAL])
    assert not refused.ok and not refused.retryable and "credentials" in refused.message


def test_a_bearer_token_over_verified_tls(locked, tmp_path: Path) -> None:
    pacs, gateway = locked
    untrusted = gateway.node("t0ken-of-the-clinic", trusted=False)
    result = echo(untrusted)
    assert not result.ok and "TLS certificate is not trusted" in result.message
    assert "certificate verify failed" in result.message
    assert not echo(gateway.node("stolen")).ok
    trusted = gateway.node("t0ken-of-the-clinic")
    assert echo(trusted).ok, echo(trusted).message
    # Send a course through the gateway and pull it into another store, over HTTPS.
    a = tmp_path / "a"
    with Repository.open(a) as repo:
        made = phantom_course(repo)
    save_settings(NetworkSettings(calling_ae_title=OUR_AE, nodes=(trusted,)))
    for session in made.sessions[:2]:
        assert (
            main(["--data-dir", str(a), "send", "--node", "gateway", "--session", str(session.id)])
            == 0
        )
    b = tmp_path / "b"
    assert pull(b, "--url", gateway.url) == 0, (
        gateway.errors
    )  # the node of that URL lends its credentials
    with Repository.open(a) as a_repo, Repository.open(b) as b_repo:
        assert course_of(b_repo) == course_of(a_repo)[:2]
    saved = json.loads(settings_path().read_text())
    assert saved["nodes"][0]["kind"] == "dicomweb" and saved["nodes"][0]["auth"] == "bearer"


def test_the_queue_delivers_to_dicomweb_through_an_outage(tmp_path: Path) -> None:
    """Queued for a DICOMweb node that is down: waiting, with the reason; back up: sent.
    The credentials are found in the settings when sending, never kept in the store."""
    folder = tmp_path / "orthanc"
    folder.mkdir()
    http_port = free_port()
    pacs = Orthanc(folder, dicomweb=True, users={"q": "pw"}, http_port=http_port)
    node = pacs.web_node(auth=AuthKind.BASIC, username="q", password="pw")
    save_settings(NetworkSettings(nodes=(node,)))
    now = [1000.0]
    with Repository.open(tmp_path / "data") as repo:
        queue = SendQueue.of(repo, clock=lambda: now[0], backoff=Backoff(first_s=30))
        queue.add(node, [LUMBAR, DUAL])
        with repo.db.read() as conn:
            stored = [tuple(r) for r in conn.execute("SELECT * FROM send_queue")]
        assert not any("pw" in str(v) for row in stored for v in row)
        first = queue.run_due()
        assert [f.state for f in first] == [QueueState.WAITING, QueueState.WAITING]
        assert "no answer from" in first[0].last_error
        pacs.start()
        try:
            now[0] += 31
            second = queue.run_due()
            assert [f.state for f in second] == [QueueState.SENT, QueueState.SENT]
            assert len(pacs.instance_uids()) == 2
        finally:
            pacs.stop()


def test_echo_takes_a_url(locked, capsys) -> None:
    pacs, _gateway = locked
    save_settings(
        NetworkSettings(
            nodes=(
                DicomWebNode(
                    "web", pacs.url, AuthKind.BASIC, username="room-a", password="s3cret pass"
                ),
            )
        )
    )
    assert main(["echo", "--url", pacs.url]) == 0
    assert "echo ok:" in capsys.readouterr().out
    assert main(["echo", "--url", "http://127.0.0.1:9/dicom-web"]) == 1
    assert "no answer from http://127.0.0.1:9/dicom-web" in capsys.readouterr().err


def test_a_pull_while_the_node_is_down_says_so_and_works_when_it_is_back(
    tmp_path: Path, capsys
) -> None:
    folder = tmp_path / "orthanc"
    folder.mkdir()
    pacs = Orthanc(folder, dicomweb=True).start()
    try:
        a = tmp_path / "a"
        with Repository.open(a) as repo:
            made = phantom_course(repo)
        assert send(a, pacs.node.address, made.sessions[0].id) == 0
        pacs.stop()
        capsys.readouterr()
        b = tmp_path / "b"
        assert pull(b, "--to", pacs.node.address, calling=OUR_AE) == 1
        assert f"no answer from {pacs.node.address}: connection refused" in capsys.readouterr().err
        assert pull(b, "--url", pacs.url) == 1
        assert f"no answer from {pacs.url}" in capsys.readouterr().err
        pacs.start()  # the same ports and storage
        assert pull(b, "--to", pacs.node.address, calling=OUR_AE) == 0
        with Repository.open(a) as a_repo, Repository.open(b) as b_repo:
            assert course_of(b_repo) == course_of(a_repo)[:1]
    finally:
        pacs.stop()
