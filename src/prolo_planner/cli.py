"""The `prolo-planner` command: the viewer by default, headless subcommands for scripts."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from prolo_planner import __version__

log = logging.getLogger("prolo_planner")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prolo-planner",
        description="Ultrasound-guided prolotherapy planning. With no subcommand, opens the "
        "viewer on FILES (or on the bundled sample images).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command")

    gui = sub.add_parser("gui", help="open the viewer (the default)")
    gui.add_argument("files", nargs="*", type=Path, help="files or folders to open")

    info = sub.add_parser("info", help="describe image files")
    info.add_argument("files", nargs="+", type=Path)
    info.add_argument("--json", action="store_true", help="print one JSON array")

    render = sub.add_parser("render", help="write a frame as the viewer shows it, as PNG")
    render.add_argument("file", type=Path)
    render.add_argument("--frame", type=int, default=0, help="frame index, from 0")
    render.add_argument("--out", type=Path, required=True, help="PNG file to write")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"gui", "info", "render"}
    # Bare `prolo-planner FILE...` opens the viewer, like any desktop viewer.
    if not argv or (argv[0] not in commands and not argv[0].startswith("-")):
        argv = ["gui", *argv]
    args = _build_parser().parse_args(argv)

    from prolo_planner.logs import setup_logging

    setup_logging()
    if args.command == "info":
        from prolo_planner.commands.info import run_info

        return run_info(args.files, as_json=args.json)
    if args.command == "render":
        from prolo_planner.commands.render import run_render

        return run_render(args.file, args.frame, args.out)
    from prolo_planner.ui.app import run_gui

    return run_gui(args.files)
