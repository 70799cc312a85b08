"""The one error an image source raises: which file, and why, in words for the clinician."""

from __future__ import annotations

from pathlib import Path


class ImageLoadError(Exception):
    """A file could not be opened or a frame could not be decoded."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
