"""Files and folders the app makes are readable by this user alone, wherever they are made:
the PROLO_PLANNER_HOME root, every folder between it and a file, rotated logs, the outbox and
the folders an export creates. Folders the user chose and already had are left alone."""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
from pathlib import Path

import pytest

from prolo_planner import logs, paths
from prolo_planner.files import make_dirs_private, private_dir
from prolo_planner.report.session_export import export_session
from prolo_planner.store import demo
from prolo_planner.store.repository import Repository


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    """A umask that lets everyone read: what a desktop session commonly has."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_every_missing_parent_is_made_private(tmp_path: Path, loose_umask) -> None:
    leaf = private_dir(tmp_path / "a" / "b" / "c")
    for folder in (tmp_path / "a", tmp_path / "a" / "b", leaf):
        assert _mode(folder) == 0o700, folder


def test_a_folder_the_user_already_had_is_left_as_it_was(tmp_path: Path, loose_umask) -> None:
    chosen = tmp_path / "Desktop"
    chosen.mkdir(mode=0o755)
    made = make_dirs_private(chosen / "export" / "2026")
    assert _mode(chosen) == 0o755
    assert _mode(chosen / "export") == 0o700 and _mode(made) == 0o700


def test_the_home_root_is_private_even_when_it_existed_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loose_umask
) -> None:
    home = tmp_path / "prolo-home"
    home.mkdir(mode=0o755)
    monkeypatch.setenv(paths.HOME_ENV, str(home))
    data = paths.data_dir()
    assert _mode(home) == 0o700
    assert _mode(data) == 0o700


def test_a_new_home_root_and_its_parents_are_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loose_umask
) -> None:
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "new" / "home"))
    paths.log_dir()
    assert _mode(tmp_path / "new") == 0o700
    assert _mode(tmp_path / "new" / "home") == 0o700


def test_rotated_logs_stay_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loose_umask
) -> None:
    log_file = tmp_path / "app.log"
    handler = logs.PrivateRotatingFileHandler(log_file, maxBytes=200, backupCount=2)
    logger = logging.getLogger("prolo_planner.test_rotation")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for n in range(30):
            logger.warning("line %d of a log that rotates after a few lines", n)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(tmp_path.glob("app.log*"))
    assert [f.name for f in files] == ["app.log", "app.log.1", "app.log.2"]
    for f in files:
        assert _mode(f) == 0o600, f


def test_setup_tightens_rotated_logs_left_readable(
    private_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = paths.log_dir()
    old = folder / "prolo-planner.log.1"
    old.write_text("an old line\n")
    old.chmod(0o644)
    monkeypatch.setattr(logs, "_configured", False)
    root = logging.getLogger("prolo_planner")
    before = list(root.handlers)
    try:
        logs.setup_logging()
        assert _mode(old) == 0o600
        assert _mode(folder / "prolo-planner.log") == 0o600
    finally:
        for h in root.handlers[len(before) :]:
            root.removeHandler(h)
            h.close()


def test_export_folders_it_makes_are_private(tmp_path: Path, loose_umask) -> None:
    data = tmp_path / "data"
    with Repository.open(data) as repo:
        demo.fill_demo(repo, today=dt.date(2026, 3, 14))
        out = tmp_path / "chart" / "session 2"
        written = export_session(repo, 2, ["png", "pdf"], out)
    assert written
    assert _mode(tmp_path / "chart") == 0o700 and _mode(out) == 0o700
    for f in written:
        assert _mode(f) == 0o600, f
