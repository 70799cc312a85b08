"""The one error an export raises, in words a clinician can act on."""

from __future__ import annotations


class ExportError(Exception):
    """An export could not be made: the message says what is missing or wrong."""
