"""Screenshots of the main screens, at a clinic's small monitor and a large one, from the demo.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--sizes 1366x768,1920x1080]
                                            [--theme dark|light]

Each size runs in its own virtual display of exactly that size (xvfb-run), on a fresh store
filled with the fictitious demo patient, as a new user would first see it. Written per size:
viewer.png, planning-warnings.png, session-timeline.png, compare.png, export-dialog.png,
viewer-light.png (the other theme), pdf-page.png and pdf-images.png (the report's first page
and its first page of key images, rendered by poppler's pdftoppm), and cut-text.txt, what
ui/cut_text.py finds cut short in each (empty when all text fits). Look at every one before
closing an issue that touches the screen; the README shows them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = ((1366, 768), (1920, 1080))
SCREENS = (
    "viewer",
    "planning-warnings",
    "session-timeline",
    "compare",
    "export-dialog",
    "viewer-light",
    "pdf-page",
    "pdf-images",
)


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--sizes", default=",".join(f"{w}x{h}" for w, h in SIZES))
    parser.add_argument("--theme", choices=("dark", "light"), default="dark")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [_size(s) for s in args.sizes.split(",") if s.strip()]
    if args.inside:
        (width, height) = sizes[0]
        return _shoot(args.out, width, height, args.theme)
    if shutil.which("xvfb-run") is None or shutil.which("pdftoppm") is None:
        print("screenshots need xvfb-run and pdftoppm (apt-get install xvfb poppler-utils)")
        return 1
    status = 0
    for width, height in sizes:
        folder = args.out / f"{width}x{height}"
        folder.mkdir(parents=True, exist_ok=True)
        command = [
            "xvfb-run",
            "-a",
            "-s",
            f"-screen 0 {width}x{height}x24 -dpi 96",
            sys.executable,
            __file__,
            "--inside",
            "--out",
            str(folder),
            "--sizes",
            f"{width}x{height}",
            "--theme",
            args.theme,
        ]
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        done = subprocess.run(command, env=env, check=False)
        status = status or done.returncode
        print(
            f"{width}x{height}: {'written to ' + str(folder) if not done.returncode else 'failed'}"
        )
    return status


# -- inside the virtual display ---------------------------------------------------------------
def _shoot(out: Path, width: int, height: int, theme: str) -> int:
    home = Path(tempfile.mkdtemp(prefix="prolo-shots-"))
    os.environ["PROLO_PLANNER_HOME"] = str(home)
    try:
        return _shoot_in(out, width, height, theme)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _settle(app, rounds: int = 6) -> None:  # noqa: ANN001
    from PySide6.QtCore import QEventLoop, QThread

    for _ in range(rounds):
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        QThread.msleep(30)


def _shoot_in(out: Path, width: int, height: int, theme: str) -> int:
    from PySide6.QtWidgets import QApplication

    from prolo_planner.ui.app import create_application
    from prolo_planner.ui.cut_text import cut_texts
    from prolo_planner.ui.exports.feature import install_exports
    from prolo_planner.ui.main_window import MainWindow
    from prolo_planner.ui.sessions.feature import install_sessions
    from prolo_planner.ui.sessions.startup import open_on_start
    from prolo_planner.ui.theme import apply_theme

    app = create_application()
    apply_theme(app, theme)
    # As run_gui starts the app: the window, its features, the layout restored (none yet).
    window = MainWindow()
    sessions = install_sessions(window)
    exports = install_exports(window)
    assert sessions is not None and exports is not None
    window.settings.restore_window(window)
    screen = app.primaryScreen().availableGeometry()
    window.setGeometry(screen)  # as a window manager maximises it
    window.show()
    _settle(app)
    open_on_start(sessions)
    _settle(app, 20)
    problems: list[str] = []

    def save(widget, name: str) -> None:  # noqa: ANN001
        _settle(app)
        widget.grab().save(str(out / f"{name}.png"))
        problems.extend(f"{name}: {line}" for line in cut_texts(widget))

    # The viewer: today's draft on the long-axis image, nothing selected.
    save(window, "viewer")

    # Planning with warnings: a target placed in the dura's margin, its path through the
    # spinal canal; the path selected, the warnings listed.
    path_id = _add_a_risky_site(window)
    if path_id is not None:
        window.show_annotations([path_id])
    window.warnings_dock.show()
    window.warnings_dock.raise_()
    save(window, "planning-warnings")
    window.plan.undo()
    window.plan.select([])

    # The session timeline: the Patients dock, the previous (signed) session chosen in it.
    sessions.dock.show()
    sessions.dock.raise_()
    table = sessions.timeline.table
    if table.rowCount() > 1:
        table.selectRow(1)
    save(sessions.dock, "session-timeline")
    if table.rowCount() > 1:
        table.selectRow(0)

    # Compare with the previous session.
    compare = sessions.review.compare_with_previous()
    if compare is not None:
        compare.setGeometry(screen)
        save(compare, "compare")
        sessions.review.close_compare()

    # The export dialog.
    dialog = exports.export_session()
    save(dialog, "export-dialog")
    dialog.close()

    # The other theme, as a lit procedure room would have it.
    other = "light" if theme == "dark" else "dark"
    apply_theme(app, other)
    save(window, f"viewer-{other}")
    apply_theme(app, theme)

    # The PDF report: its first page, and the first with the key images.
    assert sessions.session is not None
    _pdf_pages(sessions.session.id, sessions.repo, out, height)

    (out / "cut-text.txt").write_text("".join(f"{line}\n" for line in problems))
    for line in problems:
        print(f"cut text: {line}")
    window.close()
    _settle(app)
    QApplication.quit()
    return 0


def _add_a_risky_site(window) -> str | None:  # noqa: ANN001
    """A target just inside the avoid zone's margin, reached through the zone: the warnings
    a clinician must see. Returns the needle path's id."""
    from prolo_planner.core.edits import AddAnnotation, Compound
    from prolo_planner.core.geometry import Point
    from prolo_planner.core.plan import AvoidZone, NeedlePath, Target

    plan = window.plan.plan
    image_id = window.current_image_id()
    zone = next((a for a in plan.on_image(image_id) if isinstance(a, AvoidZone)), None)
    entry_y = min(
        (a.entry.y for a in plan.on_image(image_id) if isinstance(a, NeedlePath)), default=80.0
    )
    if zone is None:
        return None
    xs, ys = [p.x for p in zone.points], [p.y for p in zone.points]
    target = Target(
        image_id, Point((min(xs) + max(xs)) / 2 + 12, min(ys) + 8), name="L4-L5 interlaminar"
    )
    path = NeedlePath(image_id, Point(target.position.x + 70, entry_y), target.id)
    window.plan.push(Compound((AddAnnotation(target), AddAnnotation(path)), "Add a risky site"))
    return path.id


def _pdf_pages(session_id: int, repo, out: Path, height: int) -> None:  # noqa: ANN001
    from prolo_planner.report.session_export import ExportFormat, export_session

    with tempfile.TemporaryDirectory() as folder:
        files = export_session(repo, session_id, [ExportFormat.PDF], folder, audit=False)
        pdf = next(f for f in files if f.suffix == ".pdf")
        dpi = max(40, round(height / 11.69))  # an A4 page as tall as the screen
        for page, name in ((1, "pdf-page"), (2, "pdf-images")):
            target = out / name
            subprocess.run(
                ["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page),
                 "-singlefile", str(pdf), str(target)],
                check=True,
            )  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
