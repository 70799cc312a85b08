"""`prolo-planner echo`: does a node answer? (C-ECHO, or a QIDO-RS ping for DICOMweb), for
scripts and set-up checks."""

from __future__ import annotations

import argparse
import sys

from prolo_planner.net.nodes import (
    DicomNode,
    DicomWebNode,
    Node,
    NodeError,
    check_ae_title,
    load_settings,
)

NODE_HELP = "a DICOM node from the preferences, by name (DIMSE or DICOMweb)"
TO_HELP = "a DIMSE node given directly, e.g. PACS@192.168.1.20:104"
URL_HELP = (
    "a DICOMweb node given directly, e.g. https://pacs.clinic/dicom-web (the credentials of "
    "the node of that URL in the preferences are used)"
)
CALLING_HELP = "the AE title to call with (default: the one in the preferences)"


def add_node_options(parser: argparse.ArgumentParser) -> None:
    """--node NAME | --to AET@HOST:PORT | --url URL, and --calling-aet; shared with `send` and
    `pull`."""
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--node", metavar="NAME", help=NODE_HELP)
    target.add_argument("--to", metavar="AET@HOST:PORT", help=TO_HELP)
    target.add_argument("--url", metavar="URL", help=URL_HELP)
    parser.add_argument("--calling-aet", metavar="AET", help=CALLING_HELP)


def add_echo_parser(sub: argparse._SubParsersAction) -> None:
    echo = sub.add_parser("echo", help="check that a DICOM node answers (C-ECHO)")
    add_node_options(echo)


def chosen_node(node_name: str | None, to: str | None, url: str | None = None) -> Node:
    """The node named in the preferences, or given as AET@HOST:PORT or as a DICOMweb URL.
    Raises NodeError."""
    if to is not None:
        return DicomNode.from_address(to)
    if url is not None:
        return load_settings().node_with_url(url) or DicomWebNode.from_url(url)
    return load_settings().node(node_name or "")


def calling_ae_title(given: str | None) -> str:
    if given is not None:
        return check_ae_title(given, "--calling-aet")
    return load_settings().calling_ae_title


def run_echo(
    node_name: str | None, to: str | None, calling_aet: str | None = None, url: str | None = None
) -> int:
    from prolo_planner.net.echo import echo  # pynetdicom: loaded only when needed

    try:
        node = chosen_node(node_name, to, url)
        calling = calling_ae_title(calling_aet)
    except NodeError as exc:
        print(f"prolo-planner: {exc}", file=sys.stderr)
        return 2
    result = echo(node, calling_ae=calling)
    if not result.ok:
        print(f"prolo-planner: {result.message}", file=sys.stderr)
        return 1
    print(f"echo ok: {result.message}")
    return 0
