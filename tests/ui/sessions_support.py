"""Shared ground of the session UI tests: a real store filled with the demo patient."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from prolo_planner.store.demo import DemoResult, fill_demo
from prolo_planner.store.repository import Repository

TODAY = dt.date(2026, 3, 14)


@dataclass(frozen=True, slots=True)
class Demo:
    repo: Repository
    result: DemoResult

    @property
    def first(self) -> int:
        return self.result.sessions[0].id

    @property
    def second(self) -> int:
        return self.result.sessions[1].id

    @property
    def today(self) -> int:
        """The third session: today's draft."""
        return self.result.sessions[2].id


# Named fixtures: a test module imports `store_dir_fixture` and `demo_fixture` and asks for
# `store_dir` and `demo`, without shadowing the imported names.
@pytest.fixture(name="store_dir")
def store_dir_fixture(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture(name="demo")
def demo_fixture(store_dir: Path) -> Iterator[Demo]:
    repo = Repository.open(store_dir, who="dr_test")
    result = fill_demo(repo, today=TODAY)
    yield Demo(repo, result)
    repo.close()
