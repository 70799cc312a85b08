"""`prolo-planner demo`: fill the store with the fictitious demo patient and three sessions."""

from __future__ import annotations

import sys
from pathlib import Path

from prolo_planner.commands.sessions import list_sessions, print_listing
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.store.demo import DEMO_MRN, fill_demo
from prolo_planner.store.records import StoreError
from prolo_planner.store.repository import Repository


def run_demo(data_dir: Path | None = None) -> int:
    try:
        with Repository.open(data_dir) as repo:
            result = fill_demo(repo)
            listing = list_sessions(repo, DEMO_MRN)
            where = repo.data_dir
    except (StoreError, ImageLoadError, OSError) as exc:
        print(f"prolo-planner: demo not added: {exc}", file=sys.stderr)
        return 1
    if result.created:
        print(f"Added a fictitious patient with {len(result.sessions)} sessions to {where}:\n")
    else:
        print(f"The demo patient {DEMO_MRN} is already in the store ({where}); nothing changed.\n")
    print_listing(listing)
    return 0
