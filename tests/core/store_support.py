"""Plans for the store tests, and the worker processes the crash and two-window tests start.

Run as `python -m tests.core.store_support COMMAND ...` by those tests: each worker is a real
Prolo Planner process writing to the same store as the test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    Anaesthetic,
    AvoidKind,
    AvoidZone,
    ImagePlan,
    ImageRef,
    Injectate,
    NeedlePath,
    Plan,
    SiteStatus,
    Target,
    ZoneShape,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def make_plan(
    image_path: str = "/nowhere/image.dcm",
    *,
    sites: int = 2,
    title: str = "",
    sha256: str = "",
    volume_ml: float = 1.5,
    ids: str = "p",
) -> Plan:
    """A plan on one image with `sites` targets (each with a needle path) and an avoid zone.
    Ids are derived from `ids`, so the same arguments give an equal plan."""
    image = ImagePlan(ImageRef(image_path, sha256=sha256), region="lumbar_spine", id=f"{ids}-im")
    annotations: list = []
    for i in range(sites):
        target = Target(
            image.id,
            Point(100.0 + 10 * i, 200.0 + i),
            name=f"site {i}",
            injectate=Injectate(15.0, Anaesthetic.LIDOCAINE, 0.5, volume_ml),
            status=SiteStatus.PLANNED if i % 3 else SiteStatus.INJECTED,
            id=f"{ids}-t{i}",
        )
        annotations.append(target)
        annotations.append(
            NeedlePath(image.id, Point(90.0 + 10 * i, 80.0), target.id, id=f"{ids}-n{i}")
        )
    annotations.append(
        AvoidZone(
            image.id,
            ZoneShape.ELLIPSE,
            (Point(10, 300), Point(60, 340)),
            kind=AvoidKind.ARTERY,
            name="artery",
            id=f"{ids}-z",
        )
    )
    return Plan((image,), tuple(annotations), 70.0, title, id=f"{ids}-plan")


def revision_plan(n: int) -> Plan:
    """The plan the autosave worker writes as its n-th save: big enough that a save takes a
    while, so the kill often lands inside one."""
    return make_plan(title=f"autosave {n}", sites=40 + n % 7, volume_ml=0.5 + n % 5, ids="crash")


# -- workers ------------------------------------------------------------------------------------
def _autosave(data_dir: str, session_id: str) -> None:
    """Save a new plan as fast as possible, printing each revision once it is committed."""
    from prolo_planner.store.repository import Repository

    repo = Repository.open(data_dir)
    n = 0
    while True:
        n += 1
        repo.save_plan(int(session_id), revision_plan(n))
        print(n, flush=True)


def _writer(data_dir: str, name: str, count: str, shared_session: str) -> None:
    """Create patients, sessions and plans; try the shared session, whose lease another
    process holds; report what was refused as JSON."""
    from prolo_planner.store.records import SessionLocked
    from prolo_planner.store.repository import Repository

    repo = Repository.open(data_dir, who=name)
    refused = 0
    for i in range(int(count)):
        patient = repo.create_patient(f"{name}-{i:03d}", f"{name.upper()}^Patient{i}")
        session = repo.create_session(patient.id, region="knee", pain_before=i % 11)
        for rev in range(3):
            repo.save_plan(session.id, make_plan(title=f"{name} {i} rev {rev}", ids=f"{name}{i}"))
        try:
            repo.save_plan(int(shared_session), make_plan(title=f"{name} stole it"))
        except SessionLocked:
            refused += 1
    repo.close()
    print(json.dumps({"refused": refused}), flush=True)


def _hold(data_dir: str, session_id: str) -> None:
    """Take the session's lease, say so, and keep it alive until told to stop (or killed)."""
    from prolo_planner.store.repository import Repository

    repo = Repository.open(data_dir, who="holder")
    lease = repo.take_lease(int(session_id))
    print("held", flush=True)
    while True:
        line = sys.stdin.readline()
        if not line or line.strip() == "release":
            break
        repo.heartbeat(lease)
    repo.release(lease)
    repo.close()
    print("released", flush=True)


def worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.core.store_support", *args]


if __name__ == "__main__":
    commands = {"autosave": _autosave, "writer": _writer, "hold": _hold}
    commands[sys.argv[1]](*sys.argv[2:])
