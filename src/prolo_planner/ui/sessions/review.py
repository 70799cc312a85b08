"""Review in the main window: compare a session with the one before it, carry its targets
forward into today's plan, and place the ones carried forward unplaced."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QDialog

from prolo_planner.core.carry_forward import CarryForward, unplaced_targets
from prolo_planner.store.records import Session
from prolo_planner.ui.sessions.carry_forward import CarryForwardDialog, PlaceTargetTool
from prolo_planner.ui.sessions.compare import CompareWindow
from prolo_planner.ui.sessions.session_text import session_date

if TYPE_CHECKING:
    from prolo_planner.ui.sessions.feature import SessionsFeature


class SessionReview:
    """The feature's compare window and carry-forward actions."""

    def __init__(self, feature: SessionsFeature) -> None:
        self.feature = feature
        self.compare_window: CompareWindow | None = None

    def close_compare(self) -> None:
        if self.compare_window is not None:
            self.compare_window.close()
            self.compare_window = None

    def compare_with_previous(self, session_id: int | None = None) -> CompareWindow | None:
        """The session (the open one by default) beside the one before it."""
        f = self.feature
        session_id = session_id if session_id is not None else getattr(f.session, "id", None)
        if session_id is None:
            return None
        session = f.repo.session(session_id)
        patient = f.repo.patient(session.patient_id)
        if f.timeline.patient is None or f.timeline.patient.id != patient.id:
            f.timeline.show_patient(patient)
        previous = f.timeline.previous_of(session_id)
        if previous is None:
            f.tell("No earlier session to compare with")
            return None
        is_open = f.session is not None and f.session.id == session_id
        # The open session is compared live: edits in the main window show at once.
        current: Any = f.window.plan if is_open else f.repo.load_plan(session_id)
        self.close_compare()
        prior_title, current_title = _state_title(previous.session), _state_title(session)
        window = CompareWindow(
            f.repo.load_plan(previous.session.id),
            current,
            prior_title=prior_title,
            current_title=current_title,
            current_image_id=f.window.current_image_id() if is_open else None,
        )
        window.setWindowTitle(
            f"Compare — {patient.display_name}: {prior_title}  |  {current_title}"
        )
        window.show()
        self.compare_window = window
        return window

    def carry_forward(self, *, dialog: CarryForwardDialog | None = None) -> CarryForward | None:
        """Copy the previous session's sites into the open plan (one undo step), each site once;
        the clinician is told what was carried and what was not, and why."""
        f = self.feature
        if f.session is None or f.autosave is None or f.autosave.read_only:
            f.tell("Open today's session (a draft) to carry targets into it")
            return None
        previous = f.timeline.previous_of(f.session.id)
        if previous is None:
            f.tell("No earlier session to carry targets from")
            return None
        controller = f.window.plan
        if dialog is None:
            dialog = CarryForwardDialog(
                f.repo.load_plan(previous.session.id),
                controller.plan,
                f"the session of {session_date(previous.session)}",
                f.window.as_widget(),
            )
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
        result = dialog.result(f.window.current_image_id())
        if result.edit is not None:
            controller.push(result.edit)
        text = result.message()
        left = len(unplaced_targets(controller.plan))
        if result.edit is not None and left:
            text += f". {left} target(s) to place: Session > Place carried-forward target"
        f.tell(text)
        return result

    def fill_place_menu(self) -> None:
        menu = self.feature.place_menu
        menu.clear()
        for t in unplaced_targets(self.feature.window.plan.plan):
            action = menu.addAction(t.name or t.kind.value)
            action.triggered.connect(lambda _c=False, tid=t.id: self.start_placing(tid))

    def start_placing(self, target_id: str) -> PlaceTargetTool:
        """The next click on the image puts the target there; then the view's tool is back."""
        window = self.feature.window
        pane = window.pane
        before = pane.view.tool

        def done() -> None:
            pane.view.set_tool(before)

        def frame() -> int | None:
            # On the frame shown of a clip; on every frame of a still.
            return (
                pane.cine.index if pane.source is not None and pane.source.frame_count > 1 else None
            )

        tool = PlaceTargetTool(window.plan, target_id, window.current_image_id, frame, done)
        pane.view.set_tool(tool)
        self.feature.tell("Click on the image where the target goes (Esc: not now)")
        return tool


def _state_title(session: Session) -> str:
    state = "signed" if session.is_signed else "draft"
    return f"{session_date(session)} ({state})"
