"""C-ECHO and C-STORE against dcmtk's storescp, started here on loopback; and the commands."""

from __future__ import annotations

import subprocess

import cv2
import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEGBaseline8Bit

from prolo_planner import paths
from prolo_planner.cli import main
from prolo_planner.net.echo import echo
from prolo_planner.net.nodes import DicomNode, NetworkSettings, save_settings
from prolo_planner.net.send import SendOutcome, send_files
from prolo_planner.store.repository import Repository
from tests.conftest import pydicom_file
from tests.net_servers import OUR_AE, SilentPacs, Storescp, free_port, require

US_CINE = "examples_ybr_color.dcm"  # real ultrasound cine: YBR_FULL_422, JPEG Baseline, 30 frames


def _nobody() -> DicomNode:
    return DicomNode("PACS", "PACS", "127.0.0.1", free_port())


def _same_dataset(received, original) -> None:
    """Every element of the original arrived with its value (the file meta aside, which the
    receiver writes itself)."""
    for elem in original:
        assert received[elem.tag].value == elem.value, elem.keyword


def test_a_missing_server_binary_fails_the_test_loudly():
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y no-such-package"):
        require("no-such-dicom-server", "no-such-package")


# -- echo -----------------------------------------------------------------------------------------
def test_echo_answers(storescp_plain):
    result = echo(storescp_plain.node, calling_ae=OUR_AE)
    assert result.ok and result.status == 0x0000
    assert result.message.startswith(f"STORESCP@127.0.0.1:{storescp_plain.port} answered in")


def test_echo_with_nothing_listening_says_connection_refused():
    node = _nobody()
    result = echo(node, calling_ae=OUR_AE, timeout=5)
    assert not result.ok
    assert result.message == f"no answer from PACS@127.0.0.1:{node.port}: connection refused"


def test_echo_to_a_hung_pacs_gives_up_after_the_timeout():
    silent = SilentPacs()
    try:
        result = echo(silent.node, calling_ae=OUR_AE, timeout=0.5)
    finally:
        silent.close()
    assert not result.ok
    assert result.message == (
        f"no answer from SILENT@127.0.0.1:{silent.port}: connected, but no association within 0.5 s"
    )


def test_echo_to_an_unknown_host_names_it():
    result = echo(DicomNode("P", "P", "no-such-host.invalid", 104), calling_ae=OUR_AE)
    assert not result.ok and "unknown host 'no-such-host.invalid'" in result.message


# -- send -----------------------------------------------------------------------------------------
def test_jpeg_cine_arrives_as_jpeg_where_the_peer_takes_it(storescp_jpeg):
    path = pydicom_file(US_CINE)
    seen = []
    (result,) = send_files(storescp_jpeg.node, [path], lambda *a: seen.append(a), calling_ae=OUR_AE)
    assert result.outcome is SendOutcome.SENT and result.status == 0x0000
    assert result.transfer_syntax == JPEGBaseline8Bit
    assert seen == [(1, 1, result)]
    original = dcmread(path)
    received = dcmread(storescp_jpeg.received(original.SOPInstanceUID))
    assert received.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    assert received.PixelData == original.PixelData  # the JPEG frames, byte for byte
    _same_dataset(received, original)


def test_jpeg_cine_is_decompressed_for_a_peer_that_refuses_jpeg(storescp_plain):
    path = pydicom_file(US_CINE)
    (result,) = send_files(storescp_plain.node, [path], calling_ae=OUR_AE)
    assert result.ok, result.message
    assert result.transfer_syntax in (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
    original = dcmread(path)
    received = dcmread(storescp_plain.received(original.SOPInstanceUID))
    assert received.file_meta.TransferSyntaxUID in (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
    assert received.SOPInstanceUID == original.SOPInstanceUID  # the same image, not a copy
    assert received.PhotometricInterpretation == "RGB" and received.NumberOfFrames == 30
    np.testing.assert_array_equal(received.pixel_array, original.pixel_array)
    # It went through JPEG once: the uncompressed copy still says it was lossy.
    assert received.LossyImageCompression == "01"
    assert "ISO_10918_1" in received.LossyImageCompressionMethod
    assert received.PatientID == original.PatientID


def test_big_endian_words_are_swapped_for_a_little_endian_peer(storescp_implicit, tmp_path):
    # dcmtk itself writes the big endian copy of a real 16-bit MR image.
    big = tmp_path / "mr-big-endian.dcm"
    subprocess.run(
        [require("dcmconv", "dcmtk"), "+tb", str(pydicom_file("MR_small.dcm")), str(big)],
        check=True,
    )
    original = dcmread(big)
    assert not original.file_meta.TransferSyntaxUID.is_little_endian
    (result,) = send_files(storescp_implicit.node, [big], calling_ae=OUR_AE)
    assert result.ok and result.transfer_syntax == ImplicitVRLittleEndian, result.message
    received = dcmread(storescp_implicit.received(original.SOPInstanceUID))
    np.testing.assert_array_equal(received.pixel_array, original.pixel_array)
    assert received.pixel_array.max() > 255  # 16-bit values: a missed swap would show


def test_each_file_gets_its_own_result_and_bad_files_do_not_stop_the_rest(storescp_jpeg, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    files = [pydicom_file("SC_rgb_small_odd_jpeg.dcm"), text, tmp_path / "gone.dcm"]
    files.append(pydicom_file("MR_small_jpeg_ls_lossless.dcm"))
    results = send_files(storescp_jpeg.node, files, calling_ae=OUR_AE)
    assert [r.path for r in results] == files
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[1].message == "not a DICOM object (no SOP class or instance UID)"
    assert results[2].message == "file not found"
    assert not results[1].retryable and not results[2].retryable
    for sent in (results[0], results[3]):
        received = dcmread(storescp_jpeg.received(sent.sop_instance_uid))
        assert received.PixelData == dcmread(sent.path).PixelData


def test_nothing_listening_fails_every_file_as_worth_retrying():
    node = _nobody()
    files = [pydicom_file(US_CINE), pydicom_file("MR_small.dcm")]
    results = send_files(node, files, calling_ae=OUR_AE)
    assert [r.outcome for r in results] == [SendOutcome.FAILED] * 2
    assert all(r.retryable for r in results)
    assert results[0].message == f"no answer from PACS@127.0.0.1:{node.port}: connection refused"


def test_a_pacs_that_aborts_mid_send_leaves_every_file_worth_retrying(tmp_path):
    aborting = Storescp(tmp_path / "aborting", extra=("--abort-after",)).start()
    try:
        files = [pydicom_file("MR_small.dcm"), pydicom_file("SC_rgb_small_odd.dcm")]
        results = send_files(aborting.node, files, calling_ae=OUR_AE, timeout=20)
    finally:
        aborting.stop()
    assert [r.ok for r in results] == [False, False]
    assert all(r.retryable for r in results)
    assert results[0].message == f"{aborting.node.address} broke off the association while sending"


def test_a_refused_association_is_reported_with_its_reason(tmp_path):
    refusing = Storescp(tmp_path / "refusing", extra=("--refuse",)).start()
    try:
        result = echo(refusing.node, calling_ae=OUR_AE)
    finally:
        refusing.stop()
    assert result.message == (
        f"{refusing.node.address} refused the association: no reason given (permanently)"
    )


# -- the commands ---------------------------------------------------------------------------------
def test_echo_command(storescp_plain, capsys):
    assert main(["echo", "--to", storescp_plain.node.address, "--calling-aet", OUR_AE]) == 0
    assert capsys.readouterr().out.startswith(f"echo ok: {storescp_plain.node.address} answered")
    save_settings(NetworkSettings(OUR_AE, (storescp_plain.node,)))
    assert main(["echo", "--node", "storescp"]) == 0

    node = _nobody()
    assert main(["echo", "--to", node.address]) == 1
    assert capsys.readouterr().err.strip() == (
        f"prolo-planner: no answer from PACS@127.0.0.1:{node.port}: connection refused"
    )
    assert main(["echo", "--node", "elsewhere"]) == 2
    assert "no DICOM node named 'elsewhere' (known: storescp)" in capsys.readouterr().err


def test_send_command_with_files(storescp_jpeg, capsys):
    path = pydicom_file("SC_rgb_small_odd.dcm")
    assert main(["send", "--to", storescp_jpeg.node.address, str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[1/1] sent SC_rgb_small_odd.dcm (sent as Explicit VR Little Endian)"
    assert out[-1] == f"1 of 1 file(s) sent to {storescp_jpeg.node.address}"
    storescp_jpeg.received(dcmread(path).SOPInstanceUID)

    node = _nobody()
    assert main(["send", "--to", node.address, str(path)]) == 1
    err = capsys.readouterr()
    assert "NOT sent SC_rgb_small_odd.dcm: no answer from" in err.out
    assert err.err.strip() == (
        f"prolo-planner: 0 of 1 file(s) sent to {node.address}; 1 kept in the queue "
        "(`prolo-planner queue` lists them)"
    )


def test_send_command_with_a_session(storescp_jpeg, tmp_path, capsys, monkeypatch):
    # --data-dir sets the data folder for the rest of the process: undone after this test.
    monkeypatch.setattr(paths, "_data_dir_override", None)
    data = tmp_path / "data"
    still = tmp_path / "photo.png"
    cv2.imwrite(str(still), np.full((8, 8, 3), 200, np.uint8))
    with Repository.open(data) as repo:
        patient = repo.create_patient("204", "PLA")
        session = repo.create_session(patient.id, region="knee")
        cine = repo.admit(pydicom_file(US_CINE), session.id)
        asked = repo.admit(still, session.id)  # names nobody: the clinician says it is PLA's
        repo.confirm_unidentified(session.id, asked.image.sha256, True)
    argv = ["--data-dir", str(data), "send", "--to", storescp_jpeg.node.address]
    assert main([*argv, "--session", str(session.id)]) == 0
    out = capsys.readouterr().out
    assert "skipped photo.png: a still image, not DICOM" in out
    assert f"[1/1] sent {US_CINE} (sent as JPEG Baseline (Process 1))" in out
    assert f"1 of 1 file(s) sent to {storescp_jpeg.node.address}" in out
    received = storescp_jpeg.received(cine.image.sop_instance_uid)
    assert dcmread(received).PixelData == dcmread(cine.image.library_path).PixelData
    with Repository.open(data) as repo:
        assert repo.audit_log(session_id=session.id)[-1].detail == (
            f"sent 1 image(s) to {storescp_jpeg.node.address}"
        )

    assert main([*argv, "--session", "99"]) == 2
    assert capsys.readouterr().err.strip() == "prolo-planner: no session #99 in the store"
    assert main([*argv, "--session", str(session.id), str(still)]) == 2
    assert "either --session ID or FILE..., not both" in capsys.readouterr().err
