"""Window layout and preferences kept between runs, in a private settings.ini."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from prolo_planner import paths

#: How many files File > Open recent remembers.
MAX_RECENT = 10

_GEOMETRY = "window/geometry"
_STATE = "window/state"
_RECENT = "files/recent"
_LAST_FOLDER = "files/last_folder"
_THEME = "view/theme"
# Bump when the dock layout changes incompatibly, so an old saved state is not applied.
_STATE_VERSION = 1


def settings_file() -> Path:
    return paths.config_dir() / "settings.ini"


class AppSettings:
    """The viewer's persisted preferences. Every write is flushed at once, file mode 0600.

    Recent files may name patients' files, so the file is readable by this user only.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings_file()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # Create it private before QSettings writes anything into it.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    def sync(self) -> None:
        self._qs.sync()
        # QSettings saves through a temporary file and a rename: re-assert the mode.
        with contextlib.suppress(OSError):
            self.path.chmod(0o600)

    # -- recent files ---------------------------------------------------------------------
    def recent_files(self) -> list[Path]:
        value = self._qs.value(_RECENT, [])
        if isinstance(value, str):  # QSettings returns a lone entry as a plain string
            value = [value]
        return [Path(v) for v in (value or []) if v]

    def add_recent(self, path: Path) -> None:
        path = Path(path).absolute()
        entries = [p for p in self.recent_files() if p != path]
        self._set_recent([path, *entries][:MAX_RECENT])

    def remove_recent(self, gone: list[Path]) -> None:
        drop = {Path(p) for p in gone}
        self._set_recent([p for p in self.recent_files() if p not in drop])

    def clear_recent(self) -> None:
        self._set_recent([])

    def _set_recent(self, entries: list[Path]) -> None:
        self._qs.setValue(_RECENT, [str(p) for p in entries])
        self.sync()

    # -- last folder ----------------------------------------------------------------------
    @property
    def last_folder(self) -> Path | None:
        value = self._qs.value(_LAST_FOLDER, "")
        return Path(value) if value else None

    @last_folder.setter
    def last_folder(self, folder: Path) -> None:
        self._qs.setValue(_LAST_FOLDER, str(folder))
        self.sync()

    # -- appearance -----------------------------------------------------------------------
    @property
    def theme(self) -> str:
        """'dark' (the default) or 'light'."""
        value = self._qs.value(_THEME, "dark")
        return value if value in ("dark", "light") else "dark"

    @theme.setter
    def theme(self, name: str) -> None:
        self._qs.setValue(_THEME, name)
        self.sync()

    # -- window layout --------------------------------------------------------------------
    def save_window(self, window: QMainWindow) -> None:
        self._qs.setValue(_GEOMETRY, window.saveGeometry())
        self._qs.setValue(_STATE, window.saveState(_STATE_VERSION))
        self.sync()

    def restore_window(self, window: QMainWindow) -> bool:
        """Apply the saved geometry and dock layout; False when there is none yet."""
        geometry = self._qs.value(_GEOMETRY)
        state = self._qs.value(_STATE)
        restored = False
        if isinstance(geometry, QByteArray | bytes) and geometry:
            restored = window.restoreGeometry(QByteArray(geometry))
        if isinstance(state, QByteArray | bytes) and state:
            restored = window.restoreState(QByteArray(state), _STATE_VERSION) or restored
        return restored


def theme_preference() -> str:
    """The theme the preferences chose, before any window opens."""
    try:
        return AppSettings().theme
    except OSError:
        return "dark"
