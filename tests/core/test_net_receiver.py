"""The receiving node, with pynetdicom playing the ultrasound scanner that pushes images."""

from __future__ import annotations

import socket
import stat

import pytest
from pydicom import dcmread
from pydicom.uid import JPEGBaseline8Bit
from pynetdicom import AE
from pynetdicom.sop_class import ComprehensiveSRStorage, UltrasoundMultiFrameImageStorage

from prolo_planner.net.nodes import DicomNode, ReceiverSettings
from prolo_planner.net.receiver import Receiver, ReceiverError, inbox_dir
from prolo_planner.net.send import send_files
from tests.conftest import pydicom_file

US_CINE = "examples_ybr_color.dcm"
SCANNER = "US_ROOM1"


@pytest.fixture
def receiver(tmp_path):
    arrived = []
    settings = ReceiverSettings(True, "PROLO_RX", "127.0.0.1", 0, (SCANNER, "US_ROOM2"))
    rx = Receiver(settings, arrived.append, inbox=tmp_path / "inbox")
    rx.start()
    rx.arrived = arrived
    yield rx
    rx.stop()


def _scanner(ae_title: str = SCANNER, *kinds) -> AE:
    ae = AE(ae_title=ae_title)
    for kind in kinds or (UltrasoundMultiFrameImageStorage,):
        ae.add_requested_context(kind, [JPEGBaseline8Bit])
        ae.add_requested_context(kind)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 5
    return ae


def test_a_listed_scanner_pushes_a_cine_into_the_inbox(receiver):
    original = dcmread(pydicom_file(US_CINE))
    assoc = _scanner().associate("127.0.0.1", receiver.port, ae_title="PROLO_RX")
    assert assoc.is_established
    status = assoc.send_c_store(original)
    assoc.release()
    assert status.Status == 0x0000

    (image,) = receiver.arrived
    assert image.path == receiver.inbox / f"{original.SOPInstanceUID}.dcm"
    assert (image.calling_ae_title, image.patient_id, image.study_instance_uid) == (
        SCANNER,
        "204",
        original.StudyInstanceUID,
    )
    assert image.sop_class_uid == UltrasoundMultiFrameImageStorage
    assert stat.S_IMODE(image.path.stat().st_mode) == 0o600
    received = dcmread(image.path)
    assert received.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    assert received.PixelData == original.PixelData
    assert [p.name for p in receiver.inbox.iterdir()] == [image.path.name]  # no temp files left


def test_an_unlisted_scanner_is_refused(receiver):
    assoc = _scanner("ROGUE").associate("127.0.0.1", receiver.port, ae_title="PROLO_RX")
    assert assoc.is_rejected and not assoc.is_established
    assert list(receiver.inbox.iterdir()) == [] and receiver.arrived == []


def test_a_report_is_not_an_image_and_is_refused(receiver):
    scanner = _scanner(SCANNER, UltrasoundMultiFrameImageStorage, ComprehensiveSRStorage)
    assoc = scanner.associate("127.0.0.1", receiver.port, ae_title="PROLO_RX")
    assert assoc.is_established
    refused = {cx.abstract_syntax for cx in assoc.rejected_contexts}
    accepted = {cx.abstract_syntax for cx in assoc.accepted_contexts}
    assoc.release()
    assert refused == {ComprehensiveSRStorage} and accepted == {UltrasoundMultiFrameImageStorage}

    # Our own sender, pointed at the receiver, says so in words.
    node = DicomNode("rx", "PROLO_RX", "127.0.0.1", receiver.port)
    (alone,) = send_files(node, [pydicom_file("test-SR.dcm")], calling_ae=SCANNER)
    report, cine = send_files(
        node, [pydicom_file("test-SR.dcm"), pydicom_file(US_CINE)], calling_ae=SCANNER
    )
    for result in (alone, report):
        assert not result.ok and not result.retryable
        assert result.message == f"{node.address} does not take Comprehensive SR Storage objects"
    assert cine.ok
    assert [a.sop_class_uid for a in receiver.arrived] == [UltrasoundMultiFrameImageStorage]


def test_the_called_ae_title_must_be_the_receivers(receiver):
    node = DicomNode("rx", "SOMEONE_ELSE", "127.0.0.1", receiver.port)
    (result,) = send_files(node, [pydicom_file(US_CINE)], calling_ae=SCANNER)
    assert result.message == (
        f"{node.address} refused the association: the called AE title is not the PACS's own "
        "(permanently)"
    )


def _outward_address() -> str | None:
    """This computer's address on its network, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = s.getsockname()[0]
    return None if address.startswith("127.") else address


def test_it_listens_only_on_the_chosen_address(receiver):
    def reachable(address: str) -> bool:
        with socket.socket() as probe:
            probe.settimeout(1)
            return probe.connect_ex((address, receiver.port)) == 0

    assert reachable("127.0.0.1")
    # Linux routes all of 127/8 to loopback: a server on every address would answer here.
    assert not reachable("127.0.0.2")
    outward = _outward_address()
    assert outward is None or not reachable(outward)


def test_it_is_off_by_default_and_refuses_to_start_open_to_anyone(tmp_path):
    assert not ReceiverSettings().enabled
    rx = Receiver(ReceiverSettings(port=0), inbox=tmp_path / "inbox")
    with pytest.raises(ReceiverError, match="at least one scanner"):
        rx.start()
    assert not rx.running


def test_a_port_in_use_is_said_in_words(receiver, tmp_path):
    taken = ReceiverSettings(True, port=receiver.port, allowed_calling_ae_titles=(SCANNER,))
    with pytest.raises(ReceiverError, match=f"cannot listen on 127.0.0.1:{receiver.port}"):
        Receiver(taken, inbox=tmp_path / "other").start()


def test_the_inbox_is_in_the_data_folder(private_home):
    assert inbox_dir().parent == private_home / "data"


def test_a_listener_that_fails_does_not_fail_the_scanner(tmp_path):
    def broken(_image):
        raise RuntimeError("a bug in the window")

    settings = ReceiverSettings(True, "PROLO_RX", port=0, allowed_calling_ae_titles=(SCANNER,))
    with Receiver(settings, broken, inbox=tmp_path / "inbox") as rx:
        node = DicomNode("rx", "PROLO_RX", "127.0.0.1", rx.port)
        (result,) = send_files(node, [pydicom_file(US_CINE)], calling_ae=SCANNER)
    assert result.ok and len(list((tmp_path / "inbox").iterdir())) == 1
