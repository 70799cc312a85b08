"""The one error an image source raises: which file, and why, in words for the clinician."""

from __future__ import annotations

import re
from pathlib import Path

#: Control characters (line breaks included): a reason quotes what the file says (a UID, a
#: name), and a damaged file's bytes must not break the one line a problem is told in.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """The text with each control character shown as its escape (\\n, \\x00), on one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class ImageLoadError(Exception):
    """A file could not be opened or a frame could not be decoded."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = one_line(reason)
        super().__init__(f"{self.path}: {self.reason}")
