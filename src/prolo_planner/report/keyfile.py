"""The clinic's pseudonym key for de-identified exports: made once, kept in the data folder (0600).

One key for every export, so the same patient always gets the same pseudonym and date shift and
teaching files of several sessions stay one patient. Losing the key only means later exports
get new pseudonyms; nobody can go back from a pseudonym to a patient without it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from prolo_planner.export.deidentify import PseudonymKey
from prolo_planner.export.errors import ExportError
from prolo_planner.files import make_dirs_private

KEY_FILE = "pseudonym-key.txt"


def key_path(data_dir: Path) -> Path:
    return Path(data_dir) / KEY_FILE


def load_or_create_key(data_dir: Path) -> PseudonymKey:
    """The key in the data folder, made (readable by this user only) on first use; the folder
    too, for an export of a plan file on a machine that never opened a session store."""
    path = key_path(data_dir)
    try:
        make_dirs_private(path.parent)
    except OSError as exc:
        raise ExportError(f"the pseudonym key cannot be made in {path.parent}: {exc}") from None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    except OSError as exc:
        raise ExportError(f"the pseudonym key cannot be made in {path.parent}: {exc}") from None
    key = PseudonymKey.generate()
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(key.hex() + "\n")
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    return key


def _read(path: Path) -> PseudonymKey:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"the pseudonym key {path} cannot be read: {exc}") from None
    if not text.strip():
        # Another export is writing it this instant (it is created before it is filled).
        raise ExportError(f"the pseudonym key {path} is empty; try again")
    try:
        key = PseudonymKey.from_hex(text)
    except ValueError:
        raise ExportError(f"the pseudonym key {path} is damaged (not hexadecimal)") from None
    if len(key.secret) < 16:
        raise ExportError(f"the pseudonym key {path} is too short to be safe")
    return key
