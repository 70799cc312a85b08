"""Drives the real app for the crash and two-instance tests, in a subprocess of its own.

    python -m tests.ui.crash_driver DATA_DIR MODE [N]

Starts `prolo-planner --data-dir DATA_DIR` through its real command line (which opens the
store's latest draft session) and, once the session is open, prints `OPEN {...}` with whether
it is editable and the read-only notice. Then, by MODE:
  steps N   moves the session's first target N times, 150 ms apart, through the window's plan
            controller as a drag would, printing `EDIT {...}` for each, then `DONE` and idles;
  stream    keeps moving it every 40 ms until killed;
  watch     edits nothing and idles (the other instance of the two-instance test).
"""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from prolo_planner.core.edits import ReplaceAnnotation
from prolo_planner.core.geometry import Point
from prolo_planner.ui.app import create_application


def _say(word: str, **values: object) -> None:
    print(f"{word} {json.dumps(values)}", flush=True)


class Driver:
    def __init__(self, mode: str, count: int) -> None:
        self.mode, self.count, self.done = mode, count, 0
        self.feature = None
        self.window = None

    def poll(self) -> None:
        from prolo_planner.ui.main_window import MainWindow
        from prolo_planner.ui.sessions.feature import SessionsFeature

        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        feature = windows[0].findChild(SessionsFeature, "sessions_feature") if windows else None
        if feature is None or feature.session is None or feature.autosave is None:
            QTimer.singleShot(20, self.poll)
            return
        self.window, self.feature = windows[0], feature
        _say(
            "OPEN",
            session=feature.session.id,
            editable=not feature.autosave.read_only,
            notice=feature.autosave.read_only_reason,
        )
        if self.mode == "steps":
            QTimer.singleShot(150, self.step)
        elif self.mode == "stream":
            QTimer.singleShot(40, self.step)

    def step(self) -> None:
        controller = self.window.plan
        target = controller.plan.targets()[0]
        moved = Point(round(target.position.x + 1.0, 3), target.position.y)
        controller.push(ReplaceAnnotation.of(controller.plan, target.id, position=moved))
        self.done += 1
        _say("EDIT", n=self.done, target=target.id, x=moved.x, y=moved.y)
        if self.mode == "stream":
            QTimer.singleShot(40, self.step)
        elif self.done < self.count:
            QTimer.singleShot(150, self.step)
        else:
            _say("DONE", n=self.done)


def main() -> int:
    data_dir, mode = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    create_application()
    driver = Driver(mode, count)
    QTimer.singleShot(0, driver.poll)
    from prolo_planner.cli import main as cli_main

    return cli_main(["--data-dir", data_dir])


if __name__ == "__main__":
    sys.exit(main())
