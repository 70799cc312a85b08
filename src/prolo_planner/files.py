"""Atomic, private file writes: a reader never sees half a file, and only this user reads it."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def make_dirs_private(path: Path) -> Path:
    """Create the folder and any missing parents, each readable by this user alone; folders
    that already exist (the user's own, chosen in a dialog) are left as they are."""
    missing: list[Path] = []
    current = Path(path)
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # made at the same moment by another thread or window
        # mkdir's mode is filtered by the umask; a permissive umask must not widen it.
        with contextlib.suppress(OSError):
            folder.chmod(PRIVATE_DIR_MODE)
    return path


def private_dir(path: Path) -> Path:
    """Create the folder (and missing parents) if needed; the app's own folder is made
    readable by this user alone even when it already existed."""
    make_dirs_private(path)
    with contextlib.suppress(OSError):  # a folder we do not own: what writes there still says
        path.chmod(PRIVATE_DIR_MODE)
    return path


def write_bytes_atomic(path: Path | str, data: bytes, mode: int = PRIVATE_FILE_MODE) -> Path:
    """Write data to path via a temporary file in the same folder and os.replace."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return path


def copy_file_atomic(source: Path | str, target: Path | str, mode: int = PRIVATE_FILE_MODE) -> Path:
    """Copy a file of any size to target the same way: streamed to a temporary file beside it,
    synced, then renamed over it."""
    target = Path(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, Path(source).open("rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return target
