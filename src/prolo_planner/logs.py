"""The app's log file: every problem with a file is recorded there as well as shown."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler

from prolo_planner import paths

_configured = False


def setup_logging(level: int = logging.INFO) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    root = logging.getLogger("prolo_planner")
    root.setLevel(level)
    try:
        log_file = paths.log_dir() / "prolo-planner.log"
        handler = RotatingFileHandler(log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        log_file.chmod(0o600)
    except OSError:
        return  # a read-only home must not stop the app; problems are still shown on screen
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
