"""The `prolo-planner` command: the viewer by default, headless subcommands for scripts."""

from __future__ import annotations

import argparse
import logging
import os
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
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="folder of the session store and image library (default: the app's data folder, "
        "or $PROLO_PLANNER_HOME/data)",
    )
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

    sessions = sub.add_parser("sessions", help="list patients' sessions, their sites and totals")
    sessions.add_argument("--patient", metavar="ID", help="only this patient (the clinic's ID)")
    sessions.add_argument("--json", action="store_true", help="print JSON")
    sub.add_parser("demo", help="add a fictitious patient with three sessions on the sample images")
    from prolo_planner.commands.echo import add_echo_parser
    from prolo_planner.commands.export import add_export_parser
    from prolo_planner.commands.measure import add_measure_parser
    from prolo_planner.commands.pull import add_pull_parser
    from prolo_planner.commands.queue import add_queue_parser
    from prolo_planner.commands.send import add_send_parser

    add_send_parser(sub)
    add_queue_parser(sub)
    add_pull_parser(sub)
    add_echo_parser(sub)
    add_export_parser(sub)
    add_measure_parser(sub)
    return parser


COMMANDS = frozenset(
    {
        "gui",
        "info",
        "render",
        "sessions",
        "demo",
        "send",
        "queue",
        "pull",
        "echo",
        "export",
        "measure",
    }  # fmt: skip
)


def _with_default_command(argv: list[str]) -> list[str]:
    """Bare `prolo-planner [--data-dir D] FILE...` opens the viewer, like any desktop viewer."""
    i = 0
    while i < len(argv) and argv[i].startswith("--data-dir"):
        i += 1 if "=" in argv[i] else 2
    rest = argv[i:]
    if not rest or (rest[0] not in COMMANDS and not rest[0].startswith("-")):
        return [*argv[:i], "gui", *rest]
    return argv


#: A reader that closed the pipe early (`prolo-planner sessions --json | head`): the status a
#: Unix tool killed by SIGPIPE has, 128 + 13.
CLOSED_PIPE_STATUS = 141


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:  # the process's own command line: `prolo-planner ...`, `python -m ...`
        from prolo_planner.logs import divert_library_output

        divert_library_output()
    argv = _with_default_command(list(sys.argv[1:] if argv is None else argv))
    args = _build_parser().parse_args(argv)
    try:
        status = _run(args)
        sys.stdout.flush()  # here, not at exit, so a closed pipe is caught below
    except BrokenPipeError:
        # The reader has all it wanted. Point stdout at nothing so that Python's own flush at
        # exit does not raise again, and end quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return CLOSED_PIPE_STATUS
    return status


def _run(args: argparse.Namespace) -> int:
    if args.data_dir is not None:
        from prolo_planner import paths

        paths.set_data_dir(args.data_dir)

    from prolo_planner.logs import setup_logging

    setup_logging()
    if args.command == "info":
        from prolo_planner.commands.info import run_info

        return run_info(args.files, as_json=args.json)
    if args.command == "render":
        from prolo_planner.commands.render import run_render

        return run_render(args.file, args.frame, args.out)
    if args.command == "sessions":
        from prolo_planner.commands.sessions import run_sessions

        return run_sessions(args.patient, as_json=args.json, data_dir=args.data_dir)
    if args.command == "demo":
        from prolo_planner.commands.demo import run_demo

        return run_demo(args.data_dir)
    if args.command == "send":
        from prolo_planner.commands.send import run_send

        return run_send(
            args.node,
            args.to,
            args.session,
            args.files,
            calling_aet=args.calling_aet,
            data_dir=args.data_dir,
            images_only=args.images_only,
            url=args.url,
        )
    if args.command == "pull":
        from prolo_planner.commands.pull import run_pull

        return run_pull(
            args.node,
            args.to,
            args.url,
            args.patient,
            calling_aet=args.calling_aet,
            data_dir=args.data_dir,
        )
    if args.command == "export":
        from prolo_planner.commands.export import run_export

        return run_export(
            args.session,
            args.format,
            args.out,
            deidentify=args.deidentify,
            data_dir=args.data_dir,
            plan_file=args.plan,
            dates=args.dates,
            keep_text=args.keep_text,
        )
    if args.command == "measure":
        from prolo_planner.commands.measure import run_measure

        return run_measure(args.file, args.a, args.b, args.frame, as_json=args.json)
    if args.command == "queue":
        from prolo_planner.commands.queue import run_queue

        return run_queue(
            args.ids,
            retry=args.retry,
            drop=args.drop,
            show_all=args.all,
            calling_aet=args.calling_aet,
            data_dir=args.data_dir,
        )
    if args.command == "echo":
        from prolo_planner.commands.echo import run_echo

        return run_echo(args.node, args.to, args.calling_aet, args.url)
    from prolo_planner.ui.app import run_gui

    return run_gui(args.files)
