"""Writing a DICOM object that arrived over the network into a folder, atomically and safely."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from prolo_planner.files import write_bytes_atomic

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def file_name_for(sop_instance_uid: object) -> str:
    """The object's SOP Instance UID as its file name; the UID comes from the network, so
    anything that is not a well-formed UID (a '../' in it) gets a random name instead."""
    text = str(sop_instance_uid or "").strip()
    if _UID.match(text) and len(text) <= 64:
        return f"{text}.dcm"
    return f"unnamed-{uuid.uuid4().hex}.dcm"


def write_received(event: Any, folder: Path) -> Path:
    """Write the dataset of a pynetdicom C-STORE event (with its file meta) into `folder`.
    A file of the same instance is replaced: the sender sent that image again."""
    data = event.encoded_dataset(include_meta=True)
    return write_bytes_atomic(folder / file_name_for(event.request.AffectedSOPInstanceUID), data)
