"""Where the app keeps its settings, logs and data on this workstation."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from prolo_planner.files import private_dir

APP_NAME = "prolo-planner"
HOME_ENV = "PROLO_PLANNER_HOME"


_data_dir_override: Path | None = None


def set_data_dir(path: Path | str | None) -> None:
    """Use `path` as the data folder for the rest of this process (the --data-dir option)."""
    global _data_dir_override
    _data_dir_override = Path(path).expanduser().resolve() if path is not None else None


def home() -> Path | None:
    """The single folder that overrides every platform location, if set. It holds nothing but
    the app's own folders, so it is made readable by this user alone like them."""
    value = os.environ.get(HOME_ENV)
    return private_dir(Path(value).expanduser()) if value else None


def config_dir() -> Path:
    root = home()
    return private_dir(root / "config" if root else Path(platformdirs.user_config_dir(APP_NAME)))


def data_dir() -> Path:
    """The session store and image library: --data-dir, else PROLO_PLANNER_HOME, else the OS's."""
    if _data_dir_override is not None:
        return private_dir(_data_dir_override)
    root = home()
    return private_dir(root / "data" if root else Path(platformdirs.user_data_dir(APP_NAME)))


def log_dir() -> Path:
    root = home()
    return private_dir(root / "logs" if root else Path(platformdirs.user_log_dir(APP_NAME)))
