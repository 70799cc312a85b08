"""Writing a DICOM object that arrived over the network into a folder, atomically and safely."""

from __future__ import annotations

import errno
import os
import re
import uuid
from pathlib import Path
from typing import Any

from pynetdicom import _config

from prolo_planner.files import PRIVATE_FILE_MODE, copy_file_atomic, write_bytes_atomic

# Received datasets go to a file as they arrive instead of a buffer in memory (held twice: 2 GB
# for a 1 GB object); the C-STORE handler gets its path, event.dataset_path. For every C-STORE
# this process takes in: the receiving node's, and those of C-GET and C-MOVE retrievals.
_config.STORE_RECV_CHUNKED_DATASET = True

_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def file_name_for(sop_instance_uid: object) -> str:
    """The object's SOP Instance UID as its file name; the UID comes from the network, so
    anything that is not a well-formed UID (a '../' in it) gets a random name instead."""
    text = str(sop_instance_uid or "").strip()
    if _UID.match(text) and len(text) <= 64:
        return f"{text}.dcm"
    return f"unnamed-{uuid.uuid4().hex}.dcm"


def write_received(event: Any, folder: Path) -> Path:
    """Put the dataset of a pynetdicom C-STORE event (with its file meta) into `folder`, named by
    its instance. A file of the same instance is replaced: the sender sent that image again.

    A dataset pynetdicom streamed to a file as it arrived (chunked receive) is moved there, a
    rename when it was spooled beside the folder; one it held in memory is written out."""
    target = folder / file_name_for(event.request.AffectedSOPInstanceUID)
    try:
        spooled = Path(event.dataset_path)
    except AttributeError:  # not streamed: the bytes are in memory
        return write_bytes_atomic(target, event.encoded_dataset(include_meta=True))
    try:
        os.chmod(spooled, PRIVATE_FILE_MODE)
        os.replace(spooled, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        copy_file_atomic(spooled, target)  # another file system: copied in a stream
    return target
