"""The app's log file: every problem with a file is recorded there as well as shown.

stderr carries the app's own lines and nothing else: Python warnings and the libraries' loggers
go to this log, and what C libraries print on file descriptor 2 themselves (libpng's "iCCP:
known incorrect sRGB profile", libjpeg's "Corrupt JPEG data", GDCM, Qt) to native.log beside it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from logging.handlers import RotatingFileHandler

from prolo_planner import paths
from prolo_planner.files import PRIVATE_FILE_MODE

_configured = False


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating log whose every file, the rotated ones too, only this user can read: the log
    names patients' files."""

    def _open(self):  # type: ignore[no-untyped-def] # noqa: ANN202 - logging's own signature
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE)
        os.chmod(self.baseFilename, PRIVATE_FILE_MODE)  # one made before this version
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)  # noqa: SIM115


#: What C libraries write on file descriptor 2, kept up to this size (then started afresh).
NATIVE_LOG = "native.log"
NATIVE_LOG_MAX_BYTES = 1_000_000


def setup_logging(level: int = logging.INFO) -> None:
    """The app's records at `level` and up, and the libraries' warnings, into the log file."""
    global _configured
    if _configured:
        return
    _configured = True
    logging.getLogger("prolo_planner").setLevel(level)
    root = logging.getLogger()  # libraries' loggers (pydicom, pynetdicom, py.warnings) too
    try:
        log_file = paths.log_dir() / "prolo-planner.log"
        handler = PrivateRotatingFileHandler(
            log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return  # a read-only home must not stop the app; problems are still shown on screen
    for n in range(1, handler.backupCount + 1):
        with contextlib.suppress(OSError):  # rotated by a version that left them readable
            os.chmod(f"{log_file}.{n}", PRIVATE_FILE_MODE)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)


def divert_library_output() -> None:
    """Keep stderr for the app's own lines: Python warnings become log records, and file
    descriptor 2, where C libraries print, is pointed at native.log while sys.stderr keeps the
    terminal. For the process's own entry point only (a test's captured stderr stays as it is).
    """
    logging.captureWarnings(True)
    try:
        native = paths.log_dir() / NATIVE_LOG
        if native.is_file() and native.stat().st_size > NATIVE_LOG_MAX_BYTES:
            os.replace(native, native.with_name(NATIVE_LOG + ".1"))
        fd = os.open(native, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE)
        os.chmod(native, PRIVATE_FILE_MODE)
        sys.stderr.flush()
        terminal = os.dup(2)
    except (OSError, ValueError):
        return  # no log folder, or no stderr at all: nothing to keep apart
    os.dup2(fd, 2)
    os.close(fd)
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    sys.stderr = io.TextIOWrapper(
        io.FileIO(terminal, "w"), encoding=encoding, errors="backslashreplace", line_buffering=True
    )
