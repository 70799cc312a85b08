"""Nothing lost: every change to the open session's plan is in the store within two seconds,
with no Save button, and the editing lease is kept alive while the window is open.

A change starts a short timer; further changes restart it (a drag is one save, not sixty),
but never past MAX_DELAY_MS after the first unsaved change, so a long drag still lands in
time. Saving is cheap and idempotent (Repository.save_plan writes nothing for an equal plan).
When the session cannot be changed here (signed, or open for editing in another window) the
service is read-only and says why; if another window takes the lease over, it turns read-only
and says so rather than overwrite the other window's work.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from prolo_planner.core.plan import ImagePlan, ImageRef, Plan
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.store import locks
from prolo_planner.store.records import Lease, PlanSaved, ReadOnlySession, StoreError
from prolo_planner.store.repository import Repository
from prolo_planner.ui.plan_controller import PlanController

log = logging.getLogger("prolo_planner.ui.sessions")

#: Quiet time after the last change before saving.
DELAY_MS = 1000
#: Longest a change waits, however long the clinician keeps dragging: under the 2 s promise.
MAX_DELAY_MS = 1700
#: After a failed save (the store busy in another window), try again this soon.
RETRY_MS = 1500


class AutosaveService(QObject):
    """Saves one session's plan as it changes, and holds its editing lease."""

    #: PlanSaved of each save that wrote (or found the plan already stored).
    saved = Signal(object)
    #: Why a save failed, in words; the service tries again.
    save_failed = Signal(str)
    #: The session became read-only here (the reason): the lease was lost to another window.
    became_read_only = Signal(str)

    def __init__(
        self,
        repo: Repository,
        session_id: int,
        controller: PlanController,
        lease: Lease | None,
        read_only_reason: str | None = None,
        *,
        delay_ms: int = DELAY_MS,
        max_delay_ms: int = MAX_DELAY_MS,
        heartbeat_ms: int = int(locks.HEARTBEAT_EVERY_S * 1000),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.repo = repo
        self.session_id = session_id
        self.lease = lease
        self._reason = read_only_reason if lease is None else None
        if lease is None and not self._reason:
            self._reason = "open read-only"
        self._delay_ms = delay_ms
        self._max_delay_ms = max_delay_ms
        self._first_unsaved: float | None = None
        #: Original image path -> the library copy's reference, so a file is copied once.
        self._adopted: dict[str, ImageRef] = {}
        self.closed = False

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.save_now)
        self._heartbeat = QTimer(self)
        self._heartbeat.setInterval(heartbeat_ms)
        self._heartbeat.timeout.connect(self.heartbeat)
        self.controller: PlanController | None = None
        self.set_controller(controller)
        if self.lease is not None:
            self._heartbeat.start()

    # -- state ------------------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return self._reason is not None

    @property
    def read_only_reason(self) -> str | None:
        return self._reason

    @property
    def pending(self) -> bool:
        """A change waits to be saved."""
        return self._first_unsaved is not None

    def set_controller(self, controller: PlanController) -> None:
        """Follow another workspace of the same session (the window replaced its controller)."""
        if self.controller is not None:
            self.controller.changed.disconnect(self._changed)
        self.controller = controller
        controller.changed.connect(self._changed)

    # -- saving -----------------------------------------------------------------------------
    def _changed(self, _changes: object) -> None:
        if self.read_only or self.closed:
            return
        now = time.monotonic()
        if self._first_unsaved is None:
            self._first_unsaved = now
        waited_ms = (now - self._first_unsaved) * 1000.0
        self._timer.start(int(max(0.0, min(self._delay_ms, self._max_delay_ms - waited_ms))))

    def save_now(self) -> PlanSaved | None:
        """Write the plan now (also what the timer calls); None when read-only or it failed."""
        self._timer.stop()
        if self.read_only or self.controller is None:
            self._first_unsaved = None
            return None
        plan = self.controller.plan
        revision = self.controller.revision
        try:
            result = self.repo.save_plan(self.session_id, self._in_library(plan))
        except ReadOnlySession as exc:
            self._lose_editing(exc.reason)
            return None
        except (StoreError, OSError) as exc:
            log.warning("autosave of session #%s failed: %s", self.session_id, exc)
            self.save_failed.emit(f"not saved yet, trying again: {exc}")
            self._timer.start(RETRY_MS)
            return None
        self._first_unsaved = None
        if self.controller.revision == revision:
            # Saved as it is now: the unsaved mark goes; undo still reaches further back.
            self.controller.mark_saved()
        self.saved.emit(result)
        return result

    def _in_library(self, plan: Plan) -> Plan:
        """The plan with each image outside the image library copied in (once), so the
        session never loses an image when the original file moves."""
        if not any(im.ref.path in self._adopted or _outside(im, self.repo) for im in plan.images):
            return plan
        images = []
        for im in plan.images:
            ref = self._adopted.get(im.ref.path)
            if ref is None and _outside(im, self.repo):
                try:
                    # A copy only: the session's door (admission) decides what is linked.
                    stored = self.repo.import_image(im.ref.path)
                except (ImageLoadError, StoreError, OSError) as exc:
                    log.warning("image %s not copied to the library: %s", im.ref.path, exc)
                else:
                    ref = self._adopted[im.ref.path] = replace(
                        im.ref,
                        path=str(stored.library_path),
                        sha256=stored.sha256,
                        sop_instance_uid=im.ref.sop_instance_uid or stored.sop_instance_uid,
                        name=im.ref.name or stored.name,
                    )
            images.append(im if ref is None else replace(im, ref=ref))
        return plan.with_images(images)

    # -- the lease --------------------------------------------------------------------------
    def heartbeat(self) -> bool:
        """Renew the lease; if it was lost, take it back when nobody else holds it, else
        turn read-only. False when this window may no longer edit."""
        if self.lease is None or self.closed:
            return False
        try:
            if self.repo.heartbeat(self.lease):
                return True
            reason = self.repo.read_only_reason(self.session_id)
            if reason is None:
                self.lease = self.repo.take_lease(self.session_id)
                return True
        except ReadOnlySession as exc:
            reason = exc.reason
        except StoreError as exc:  # busy: the next beat tries again, well inside the stale time
            log.warning("lease heartbeat of session #%s failed: %s", self.session_id, exc)
            return True
        self._lose_editing(reason)
        return False

    def _lose_editing(self, reason: str) -> None:
        self._timer.stop()
        self._heartbeat.stop()
        self.lease = None
        unsaved = " Changes since the last save were not stored." if self.pending else ""
        self._first_unsaved = None
        self._reason = f"{reason}.{unsaved}" if unsaved else reason
        self.became_read_only.emit(self._reason)

    # -- closing ----------------------------------------------------------------------------
    def close(self) -> None:
        """Save what is pending, then hand the lease back (the window closes or opens another
        session). Safe to call twice."""
        if self.closed:
            return
        if self.pending or (self.controller is not None and self.controller.is_modified):
            self.save_now()
        self.closed = True
        self._timer.stop()
        self._heartbeat.stop()
        if self.controller is not None:
            self.controller.changed.disconnect(self._changed)
        if self.lease is not None and not self.repo.db.closed:
            try:
                self.repo.release(self.lease)
            except StoreError as exc:  # it goes stale on its own within seconds
                log.warning("lease of session #%s not released: %s", self.session_id, exc)
            self.lease = None


def _outside(image: ImagePlan, repo: Repository) -> bool:
    path = Path(image.ref.path)
    try:
        path.resolve().relative_to(repo.library.root.resolve())
    except ValueError:
        return path.is_file()
    return False
