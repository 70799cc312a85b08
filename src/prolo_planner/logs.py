"""The app's log file: every problem with a file is recorded there as well as shown."""

from __future__ import annotations

import contextlib
import logging
import os
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


def setup_logging(level: int = logging.INFO) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    root = logging.getLogger("prolo_planner")
    root.setLevel(level)
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
