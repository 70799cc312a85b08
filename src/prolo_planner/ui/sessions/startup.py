"""What the window opens on when started without files: the demo for a new user, else the work
in progress.

An empty store gets the fictitious demo patient (store.demo.fill_demo) and opens its latest
session, a draft, so a new user meets a living example rather than an empty window. A store in
use opens the latest draft session, the one the clinician was working on; with no draft the
Patients dock is shown for choosing one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.store.demo import fill_demo
from prolo_planner.store.records import StoreError
from prolo_planner.store.repository import Repository
from prolo_planner.ui.sessions.feature import SessionsFeature

log = logging.getLogger("prolo_planner.ui.sessions")


class Opened(StrEnum):
    DEMO = "demo"  # the store was empty: the demo was added and its draft opened
    LATEST_DRAFT = "latest draft"
    NOTHING = "nothing"  # no draft in the store: the patient list is shown


@dataclass(frozen=True, slots=True)
class StartResult:
    opened: Opened
    session_id: int | None = None


def store_is_empty(repo: Repository) -> bool:
    return not repo.search_patients("", limit=1)


def latest_draft(repo: Repository) -> int | None:
    """The draft session changed last (not one an amendment replaced), or None.

    One query rather than a walk over every patient: start-up stays fast with
    100,000 sessions. (A Repository method would be its natural home.)
    """
    with repo.db.read() as conn:
        row = conn.execute(
            "SELECT s.id FROM sessions s WHERE s.state = 'draft'"
            " AND NOT EXISTS (SELECT 1 FROM sessions n WHERE n.amends = s.id)"
            " ORDER BY s.updated_at DESC, s.id DESC LIMIT 1"
        ).fetchone()
    return None if row is None else int(row[0])


def open_on_start(feature: SessionsFeature, *, with_demo: bool = True) -> StartResult:
    """Open the demo (empty store, `with_demo`) or the latest draft session in the feature's
    window."""
    repo = feature.repo
    opened = Opened.LATEST_DRAFT
    if with_demo and store_is_empty(repo):
        try:
            fill_demo(repo)
            opened = Opened.DEMO
        except (StoreError, ImageLoadError, OSError) as exc:
            # Without the sample images (a trimmed install) the app still starts, empty.
            log.warning("demo not added: %s", exc)
            feature.show_patients()
            return StartResult(Opened.NOTHING)
    session_id = latest_draft(repo)
    if session_id is None:
        feature.show_patients()
        return StartResult(Opened.NOTHING)
    feature.open_session(session_id)
    feature.patients.run_search()
    feature.patients.select_patient(feature.session.patient_id if feature.session else -1)
    return StartResult(opened, session_id)
