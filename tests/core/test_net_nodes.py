"""DICOM node settings: validated, kept in a private JSON file, unknown keys surviving a save."""

from __future__ import annotations

import json
import stat

import pytest

from prolo_planner.net.nodes import (
    DicomNode,
    NetworkSettings,
    NodeError,
    ReceiverSettings,
    load_settings,
    save_settings,
    settings_path,
)


def test_settings_round_trip_through_a_private_file(private_home):
    pacs = DicomNode("Clinic PACS", "PACS_MAIN", "192.168.1.20", 104)
    spare = DicomNode("Spare", "ORTHANC", "pacs.clinic.example", 4242)
    rx = ReceiverSettings(True, "PROLO_RX", "0.0.0.0", 11113, ("US_ROOM1", "US_ROOM2"))
    settings = NetworkSettings("PROLO_WS1", (pacs, spare), rx)

    path = save_settings(settings)
    assert path == settings_path() and path.is_relative_to(private_home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings() == settings
    assert load_settings().node("clinic pacs") == pacs  # names are matched case-blind
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_no_file_means_defaults_receiver_off_on_loopback():
    s = load_settings()
    assert s.nodes == () and s.calling_ae_title == "PROLO_PLANNER"
    assert not s.receiver.enabled and s.receiver.address == "127.0.0.1"
    assert s.receiver.allowed_calling_ae_titles == ()


def test_unknown_keys_of_a_newer_version_survive_a_save():
    path = settings_path()
    path.write_text(
        json.dumps(
            {
                "format": "prolo-planner/dicom-network",
                "format_version": "1.3",
                "nodes": [{"name": "P", "ae_title": "P", "host": "h", "port": 1, "tls": True}],
                "worklist": {"node": "P"},
            }
        )
    )
    s = load_settings()
    assert s.node("P").port == 1
    save_settings(s.with_node(DicomNode("Q", "Q", "::1", 2)))
    saved = json.loads(path.read_text())
    assert saved["worklist"] == {"node": "P"}
    assert [n["name"] for n in saved["nodes"]] == ["P", "Q"]


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("PACS@192.168.1.20:104", ("PACS", "192.168.1.20", 104)),
        (" ORTHANC@localhost:4242 ", ("ORTHANC", "localhost", 4242)),
        ("A@B@[::1]:11112", ("A@B", "::1", 11112)),
    ],
)
def test_address_parsing(text, node):
    parsed = DicomNode.from_address(text)
    assert (parsed.ae_title, parsed.host, parsed.port) == node
    assert DicomNode.from_address(parsed.address) == parsed


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("PACS192.168.1.20:104", "expected AET@HOST:PORT"),
        ("PACS@host", "expected AET@HOST:PORT"),
        ("PACS@host:http", "port must be a number"),
        ("PACS@host:70000", "from 1 to 65535"),
        ("A_TITLE_LONGER_THAN_16@host:104", "at most 16 characters"),
        ("BAD\\AE@host:104", "plain punctuation"),
        ("PACS@bad host:104", "host name or IP address"),
    ],
)
def test_bad_addresses_are_refused_in_words(text, words):
    with pytest.raises(NodeError, match=words):
        DicomNode.from_address(text)


def test_a_broken_file_is_reported_where_it_is_wrong():
    path = settings_path()
    path.write_text('{"nodes": [{"name": "P", "ae_title": "P", "host": "h", "port": 0}]}')
    with pytest.raises(NodeError, match=r"nodes\[0\]: P: port: a number from 1 to 65535"):
        load_settings()
    path.write_text('{"nodes": [')
    with pytest.raises(NodeError, match="not valid JSON"):
        load_settings()
    path.write_text('{"format": "prolo-planner/dicom-network", "format_version": "2.0"}')
    with pytest.raises(NodeError, match="format 1.x"):
        load_settings()


def test_node_names_are_unique_and_lookups_say_what_exists():
    a = DicomNode("PACS", "A", "h", 1)
    with pytest.raises(NodeError, match="two DICOM nodes"):
        NetworkSettings(nodes=(a, DicomNode("pacs", "B", "h", 2)))
    s = NetworkSettings(nodes=(a,))
    assert s.with_node(DicomNode("pacs", "B", "h", 2)).node("PACS").ae_title == "B"
    with pytest.raises(NodeError, match=r"no DICOM node named 'Other' \(known: PACS\)"):
        s.node("Other")
    assert s.without_node("PACS").nodes == ()
