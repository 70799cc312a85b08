"""The signal connections a panel makes to one plan, undone when another plan takes its place."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import shiboken6


def alive(obj: object) -> bool:
    """Whether a Qt object still exists (a plan's objects go when another plan comes)."""
    return obj is not None and shiboken6.isValid(obj)


class Bindings:
    """Connections to the current plan's signals; clear() undoes them all."""

    def __init__(self) -> None:
        self._made: list[tuple[Any, Callable[..., Any]]] = []

    def connect(self, signal: Any, slot: Callable[..., Any]) -> None:
        signal.connect(slot)
        self._made.append((signal, slot))

    def clear(self) -> None:
        for signal, slot in self._made:
            # The plan's objects may already be gone with the old workspace.
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect(slot)
        self._made.clear()
