"""The receiver's inbox read without a display (net/inbox.py): each file's patient and sender
from its header, oldest first; a damaged file is listed as such, not dropped."""

from __future__ import annotations

import os
import shutil

import pydicom

from prolo_planner.net.inbox import read_inbox
from tests.conftest import pydicom_file


def test_the_inbox_lists_patient_sender_and_damage_oldest_first(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    ds = pydicom.dcmread(pydicom_file("examples_ybr_color.dcm"))
    ds.file_meta.SourceApplicationEntityTitle = "US_ROOM1"
    first = inbox / "1.2.3.dcm"
    ds.save_as(first)
    damaged = inbox / "1.2.4.dcm"
    damaged.write_bytes(b"DICM but not really")
    os.utime(first, (1_000_000, 1_000_000))
    os.utime(damaged, (2_000_000, 2_000_000))
    shutil.copyfile(pydicom_file("MR_small.dcm"), inbox / "notes.txt")  # not *.dcm: not listed
    listed = read_inbox(inbox)
    assert [im.path.name for im in listed] == ["1.2.3.dcm", "1.2.4.dcm"]
    sonosite, broken = listed
    # Read by hand from the SonoSite header: ID 204, name PLA, an ultrasound cine.
    assert (sonosite.patient_id, sonosite.patient_name, sonosite.sender) == (
        "204",
        "PLA",
        "US_ROOM1",
    )
    assert sonosite.description.startswith("US")
    assert broken.patient_id == "" and broken.description.startswith("cannot be read: ")
    assert read_inbox(tmp_path / "no such folder") == []
