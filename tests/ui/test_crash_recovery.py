"""Nothing lost: the real app, in a subprocess, edits a session and is killed with SIGKILL; the
store then holds the plan as of the last autosave and passes PRAGMA integrity_check. Two
instances on one store: the second opens the session read-only with a notice, and a killed
holder does not lock the session for good."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from prolo_planner.core.geometry import Point
from prolo_planner.store.demo import fill_demo
from prolo_planner.store.repository import Repository
from prolo_planner.ui.main_window import MainWindow
from prolo_planner.ui.sessions.feature import install_sessions
from tests.conftest import REPO
from tests.ui.sessions_support import TODAY

STARTUP_TIMEOUT_S = 60.0


class App:
    """The real app in a subprocess, driven by tests/ui/crash_driver.py; reads its report."""

    def __init__(self, data_dir: Path, home: Path, mode: str, count: int = 0) -> None:
        env = dict(
            os.environ,
            QT_QPA_PLATFORM="offscreen",
            PROLO_PLANNER_HOME=str(home),
            PYTHONPATH=str(REPO),
        )
        home.mkdir(parents=True, exist_ok=True)
        # A file, not a pipe: a chatty stderr nobody reads must never block the app.
        self.stderr_path = home / f"stderr-{mode}-{time.monotonic_ns()}.txt"
        with self.stderr_path.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.ui.crash_driver", str(data_dir), mode, str(count)],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def next(self, word: str, timeout: float = STARTUP_TIMEOUT_S) -> dict:
        """The next report of that kind (earlier ones of other kinds are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(0.01, left))
            except queue.Empty:
                err = self.stderr_path.read_text(errors="replace")[-3000:]
                raise AssertionError(f"no {word} from the app in {timeout} s: {err}") from None
            head, _, rest = line.partition(" ")
            if head == word:
                return json.loads(rest) if rest else {}

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed, the lease stays behind."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        assert self.proc.returncode == -signal.SIGKILL


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, Path, int]:
    """A store with the demo in it; the id of today's draft (what the app opens)."""
    data = tmp_path / "data"
    with Repository.open(data) as repo:
        today = fill_demo(repo, today=TODAY).sessions[-1].id
    return data, tmp_path / "home", today


def _wait_for_position(data: Path, session_id: int, where: Point, timeout: float) -> float:
    """Seconds until another reader sees the first target at `where`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with Repository.open(data) as reader:
            if reader.load_plan(session_id).targets()[0].position == where:
                return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"the edit never reached the store in {timeout} s")


def test_killed_app_keeps_the_plan_as_of_the_last_autosave(store):
    data, home, today = store
    app = App(data, home, "steps", 5)
    try:
        opened = app.next("OPEN")
        assert opened == {"session": today, "editable": True, "notice": None}
        edits = [app.next("EDIT") for _ in range(5)]
        app.next("DONE")
        last = Point(edits[-1]["x"], edits[-1]["y"])
        # Autosave lands with no Save: a reader in this process sees it (the app promises
        # two seconds; the wait allows for a slow test machine).
        _wait_for_position(data, today, last, timeout=10.0)
    finally:
        app.kill()
    with Repository.open(data) as repo:
        assert repo.db.integrity_check() == ["ok"]
        plan = repo.load_plan(today)
        assert plan.targets()[0].position == last
        assert plan.targets()[0].id == edits[-1]["target"]
        assert any("plan revision" in e.detail for e in repo.audit_log(session_id=today))
        # The killed window's lease does not lock the session: its process is gone.
        holder = repo.lease_holder(today)
        assert holder is not None and holder.pid == app.proc.pid
        reopened = repo.open_session(today)
        assert not reopened.read_only
        assert reopened.lease.taken_over_from.pid == app.proc.pid
        repo.release(reopened.lease)
    # The app started again opens the session for editing, as it was last saved.
    again = App(data, home, "watch")
    try:
        assert again.next("OPEN") == {"session": today, "editable": True, "notice": None}
    finally:
        again.kill()


def test_killed_in_the_middle_of_a_drag_leaves_a_sound_store(store):
    data, home, today = store
    with Repository.open(data) as repo:
        start_revision = repo.plan_revision(today)
    app = App(data, home, "stream")
    printed: dict[tuple[float, float], int] = {}
    try:
        app.next("OPEN")
        deadline = time.monotonic() + 20.0
        # Keep editing until an autosave has landed, then kill mid-stream.
        while time.monotonic() < deadline:
            edit = app.next("EDIT")
            printed[(edit["x"], edit["y"])] = edit["n"]
            with Repository.open(data) as reader:
                if reader.plan_revision(today) > start_revision:
                    break
        else:
            raise AssertionError("autosave never landed while editing")
        for _ in range(3):  # a few more, so a save may be under way when the kill comes
            edit = app.next("EDIT")
            printed[(edit["x"], edit["y"])] = edit["n"]
    finally:
        app.kill()
    last_n = max(printed.values())
    with Repository.open(data) as repo:
        assert repo.db.integrity_check() == ["ok"]
        stored = repo.load_plan(today).targets()[0].position
        # A whole edit the app made, not a torn or older-than-saved state.
        assert (stored.x, stored.y) in printed
        assert repo.plan_revision(today) > start_revision
        # Edits every 40 ms: what was lost is at most the last few seconds.
        assert printed[(stored.x, stored.y)] >= last_n - 100


def test_a_second_instance_opens_the_session_read_only_with_a_notice(store, qtbot):
    data, home, today = store
    first = App(data, home, "watch")
    try:
        assert first.next("OPEN")["editable"] is True
        second = App(data, home, "watch")
        try:
            opened = second.next("OPEN")
        finally:
            second.kill()
        assert opened["session"] == today and opened["editable"] is False
        notice = opened["notice"]
        assert notice.startswith("open for editing in another Prolo Planner window since")
        assert f"pid {first.proc.pid}" in notice
        # A window in this process says the same, in its banner.
        repo = Repository.open(data)
        window = MainWindow()
        qtbot.addWidget(window)
        feature = install_sessions(window, repo)
        assert feature.open_session(today).read_only
        assert f"pid {first.proc.pid}" in window.banner.text()
        first.kill()
        # The holder died: opening again takes the session over for editing.
        assert not feature.open_session(today).read_only
        assert not window.plan.read_only and not window.banner.isVisible()
        feature.close()
    finally:
        first.kill()
