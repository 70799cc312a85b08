"""The image library: imported files copied into the data folder under their SHA-256.

A file lives at library/ab/cdef...<suffix>, named by the hash of its bytes, so a plan never
loses its image when the original moves, and a file imported twice is stored once. Copies are
atomic (a temporary file in the library, then a rename) and readable by this user alone. The
suffix is kept because video and still readers go by it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from prolo_planner.files import PRIVATE_FILE_MODE, private_dir

LIBRARY_DIR = "library"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class LibraryFile:
    sha256: str
    path: Path  # absolute, inside the library
    size_bytes: int
    added: bool  # False when identical content was already in the library


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ImageLibrary:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.root = data_dir / LIBRARY_DIR

    def path_for(self, sha256: str, suffix: str) -> Path:
        return self.root / sha256[:2] / (sha256[2:] + suffix.lower())

    def find(self, sha256: str) -> Path | None:
        """The library file holding this content, whatever its suffix."""
        folder = self.root / sha256[:2]
        if not folder.is_dir():
            return None
        for candidate in folder.glob(sha256[2:] + "*"):
            if candidate.is_file() and not candidate.name.startswith("."):
                return candidate
        return None

    def relative(self, path: Path) -> str:
        """How the store records a library file: relative to the data folder, '/'-separated."""
        return path.relative_to(self.data_dir).as_posix()

    def absolute(self, relative: str) -> Path:
        return self.data_dir / Path(relative)

    def add(self, source: Path) -> LibraryFile:
        """Copy `source` into the library (unless its content is there already).

        The file is hashed first, so a file already in the library is never written again; the
        copy is hashed as it is written and named by that hash, so a file that changes while it
        is copied is still stored under the hash of what was copied.
        """
        source = Path(source)
        sha = file_sha256(source)
        existing = self.find(sha)
        if existing is not None:
            return LibraryFile(sha, existing, existing.stat().st_size, added=False)
        private_dir(self.root)
        fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", suffix=".tmp", dir=self.root)
        tmp = Path(tmp_name)
        try:
            digest, size = hashlib.sha256(), 0
            with os.fdopen(fd, "wb") as out, source.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, PRIVATE_FILE_MODE)
            sha = digest.hexdigest()
            existing = self.find(sha)
            if existing is not None:  # another window stored the same content meanwhile
                tmp.unlink()
                return LibraryFile(sha, existing, existing.stat().st_size, added=False)
            final = self.path_for(sha, source.suffix)
            private_dir(final.parent)
            os.replace(tmp, final)
            _sync_dir(final.parent)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return LibraryFile(sha, final, size, added=True)


def _sync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
