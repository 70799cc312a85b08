"""Sessions in the main window: the Session menu, the Patients dock, and the open session kept
in the store as it is edited.

Installed with `install_sessions(window)`; it sees the window through its typed contract
(ui/window_protocol.PlannerWindow). Opening a session takes its
editing lease, or opens it read-only with the reason; autosave follows the window's plan until
another session (or another plan) replaces it.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QFileDialog,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from prolo_planner.core.carry_forward import unplaced_targets
from prolo_planner.core.plan import Plan, Side
from prolo_planner.core.procedure import record_edit, start_record
from prolo_planner.core.signing import unresolved
from prolo_planner.store.records import Patient, PlanSaved, Session, StoredImage, StoreError
from prolo_planner.store.repository import OpenedSession, Repository
from prolo_planner.ui.notices import Notice
from prolo_planner.ui.sessions.autosave import AutosaveService
from prolo_planner.ui.sessions.held_images import HeldImagesPanel
from prolo_planner.ui.sessions.patient_list import PatientList
from prolo_planner.ui.sessions.procedure_dialog import ProcedureDialog, RecordResult
from prolo_planner.ui.sessions.review import SessionReview
from prolo_planner.ui.sessions.session_door import DoorResult, SessionDoor, add_to_plan
from prolo_planner.ui.sessions.session_form import NewSessionDialog, SessionForm
from prolo_planner.ui.sessions.session_text import session_date, session_title
from prolo_planner.ui.sessions.sign_dialog import ask_sign
from prolo_planner.ui.sessions.timeline import TimelineView
from prolo_planner.ui.window_protocol import PlannerWindow

log = logging.getLogger("prolo_planner.ui.sessions")

Confirm = Callable[[str, str], bool]
#: (parent, the session, what is unresolved in its plan) -> whether the clinician signs.
ConfirmSign = Callable[[QWidget, Session, Sequence[str]], bool]
#: The Patients dock's first height, and the least it can be made, in pixels.
DOCK_HEIGHT = 250
#: Tall enough, when images are held back, to read their reasons.
HELD_DOCK_HEIGHT = 380
PANEL_MIN_HEIGHT = 185


def ask(parent: QWidget) -> Confirm:
    def confirm(title: str, question: str) -> bool:
        answer = QMessageBox.question(parent, title, question)
        return answer == QMessageBox.StandardButton.Yes

    return confirm


class SessionsFeature(QObject):
    """What install_sessions adds to a window; its methods are what the menu items do."""

    #: The session now open in the window (Session), or None when the window left it.
    session_changed = Signal(object)
    #: Each autosave that wrote something (PlanSaved).
    saved = Signal(object)
    #: The store is about to close (the window closed, the app quits): whoever shares it
    #: (the exports' send queue) stops using it now.
    store_closing = Signal()

    def __init__(self, window: PlannerWindow, repo: Repository | None = None) -> None:
        super().__init__(window.as_widget())
        self.setObjectName("sessions_feature")
        self.window = window
        self.repo = repo or Repository.open()
        self.session: Session | None = None
        self.patient: Patient | None = None
        self.autosave: AutosaveService | None = None
        self.review = SessionReview(self)
        self._opening = False
        #: Asks yes or no before amending; tests answer for the clinician.
        self.confirm: Confirm = ask(window.as_widget())
        #: Shows what is unresolved and asks before signing; tests answer for the clinician.
        self.confirm_sign: ConfirmSign = ask_sign
        #: Chooses which of two conflicting versions the course continues with (None:
        #: cancelled); tests answer for the clinician.
        self.choose_version: Callable[[Session, Session], int | None] = self._choose_version
        #: Fills in a new session (None: cancelled); tests answer for the clinician.
        self.ask_new_session: Callable[[Patient], dict[str, Any] | None] = self._new_session_dialog
        #: Shows the procedure record (True: saved); tests answer for the clinician.
        self.ask_record: Callable[[ProcedureDialog], bool] = _exec
        #: Signing an incomplete record: names what is missing (True: fill it in now).
        self.ask_missing: Callable[[list[str]], bool] = self._ask_missing

        self.patients = PatientList(self.repo)
        self.held = HeldImagesPanel(self.repo)
        self.timeline = TimelineView(self.repo)
        self.form = SessionForm(self.repo)
        self.panel = _panel(self.patients, self.held, self.timeline, self.form)
        #: Every image brought while a session is open comes through here (the window's door
        #: hands it over): checked against the session's patient.
        self.door = SessionDoor(self)
        window.door.gate = self.door
        # A strip under the image: the image keeps most of the height.
        self.dock: QDockWidget = window.add_dock(
            "Patients",
            "patients_dock",
            self.panel,
            Qt.DockWidgetArea.BottomDockWidgetArea,
            height=DOCK_HEIGHT,
        )
        self.patients.patient_chosen.connect(self.show_patient)
        self.held.attached.connect(self._attached_anyway)
        self.held.failed.connect(self.tell)
        self.timeline.open_requested.connect(self.open_session)
        # Library copies are named by their hash: the thumbnails and Details show the original.
        window.original_name = self.original_name
        self.timeline.sign_requested.connect(self.sign)
        self.timeline.amend_requested.connect(self.amend)
        self.timeline.compare_requested.connect(lambda sid: self.review.compare_with_previous(sid))
        self.timeline.resolve_requested.connect(self.resolve_conflict)
        self.timeline.new_session_requested.connect(lambda pid: self.new_session(pid))
        self.form.changed.connect(self._fields_written)
        self.form.failed.connect(self.tell)
        window.plan_replaced.connect(self._plan_replaced)
        self.actions = self._build_menu()
        window.closing.connect(self._window_closing)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close)
        self._update_actions()

    # -- the menu ---------------------------------------------------------------------------
    def _build_menu(self) -> dict[str, QAction]:
        menu = self.window.menu("Session")
        actions: dict[str, QAction] = {}

        def add(name: str, text: str, slot: Callable[[], object], key: str = "") -> None:
            action = QAction(text, self.window.as_widget())
            action.setObjectName(f"session_{name}")
            if key:
                action.setShortcut(key)
            action.triggered.connect(lambda _checked=False: slot())
            menu.addAction(action)
            actions[name] = action

        add("patients", "&Patients…", self.show_patients, "Ctrl+Shift+P")
        add("pacs", "Find on P&ACS…", lambda: self.patients.find_on_pacs())
        add("new", "&New session", lambda: self.new_session())
        add("import", "&Import images into this session…", self.choose_files_to_import)
        add("record", "Procedure &record…", lambda: self.record_procedure(), "Ctrl+Shift+R")
        menu.addSeparator()
        add("sign", "&Sign…", lambda: self.sign())
        add("amend", "&Amend…", lambda: self.amend())
        add("resolve", "&Resolve conflict…", self._resolve_chosen)
        menu.addSeparator()
        add("compare", "&Compare with previous…", lambda: self.review.compare_with_previous())
        add("carry", "Carry &forward…", lambda: self.review.carry_forward())
        self.place_menu = menu.addMenu("P&lace carried-forward target")
        self.place_menu.aboutToShow.connect(self.review.fill_place_menu)
        menu.aboutToShow.connect(self._update_actions)
        return actions

    @property
    def editable(self) -> bool:
        """A session is open in this window and may be changed (a draft, with its lease)."""
        return (
            self.session is not None and self.autosave is not None and not self.autosave.read_only
        )

    def _update_actions(self) -> None:
        s = self.session
        editable = self.editable
        self.actions["new"].setEnabled(self.patient is not None)
        self.actions["import"].setEnabled(editable)
        self.actions["record"].setEnabled(s is not None)
        self.actions["sign"].setEnabled(editable)
        self.actions["amend"].setEnabled(
            s is not None and s.is_signed and self.repo.read_only_reason(s.id) is not None
        )
        has_previous = s is not None and self.timeline.previous_of(s.id) is not None
        self.actions["compare"].setEnabled(has_previous)
        self.actions["resolve"].setEnabled(bool(self.timeline.in_conflict))
        self.actions["carry"].setEnabled(editable and has_previous)
        self.place_menu.setEnabled(editable and bool(unplaced_targets(self.window.plan.plan)))

    # -- patients ---------------------------------------------------------------------------
    def show_patients(self) -> None:
        self.dock.show()
        self.dock.raise_()
        self.patients.search.setFocus()
        self.patients.search.selectAll()

    def show_patient(self, patient: Patient | None) -> None:
        self.patient = patient
        self.timeline.show_patient(patient)
        self._update_actions()

    def _own_saving(self) -> None:
        """The open session is saved as it is edited: File > Save saves it now, nothing asks
        about unsaved work, and a plan file exported from it is named by the session's day."""
        self.window.plan_files.session_saver = self.save_now
        if self.session is not None:
            self.window.workspace.plan_date = self.session.started_at[:10]

    def save_now(self) -> bool:
        """File > Save in a session: what is pending goes to the store now."""
        if self.autosave is None or self.autosave.read_only:
            self.tell("Nothing to save: the session is read only")
            return False
        saved = self.autosave.save_now()
        self.form.write_notes()
        if saved is None and self.autosave.pending:
            return False  # the autosave said why
        self.window.show_status("Saved (the session is saved as you work)", 4000)
        return True

    def show_held(self) -> None:
        """Show the images held back from the open session (in the Patients panel), with room
        to read why."""
        self.dock.show()
        self.dock.raise_()
        self.window.grow_dock(self.dock, HELD_DOCK_HEIGHT)

    def _attached_anyway(self, stored: StoredImage) -> None:
        """The clinician attached a held image to the open session (audited by the store)."""
        if self.session is None:
            return
        if self.editable:
            add_to_plan(self.repo, self.session, self.window.plan, [stored])
        self.tell(f"{stored.name} attached to the session of {session_date(self.session)}")

    def choose_files_to_import(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self.window.as_widget(), "Import images into this session", "", "All files (*)"
        )
        if files:
            self.import_files([Path(f) for f in files])

    def import_files(self, paths: list[Path], origin: str = "Session > Import") -> DoorResult:
        """Bring files into the open session through its door."""
        return self.door.admit(paths, origin)

    # -- opening ----------------------------------------------------------------------------
    def open_session(self, session_id: int) -> OpenedSession:
        """Show the session's plan in the window: editable with its lease, or read-only with
        the reason (signed, replaced by an amendment, open in another window)."""
        self.leave_session()
        opened = self.repo.open_session(session_id)
        session = opened.session
        patient = self.repo.patient(session.patient_id)
        reason = opened.read_only_reason or ""
        self._opening = True
        try:
            self.window.set_plan(
                opened.plan,
                read_only=opened.read_only,
                read_only_reason=reason,
                title=session_title(patient, session),
                base_dir=self.repo.data_dir,
            )
        finally:
            self._opening = False
        self.session, self.patient = session, patient
        self._own_saving()
        self.autosave = AutosaveService(
            self.repo, session.id, self.window.plan, opened.lease, reason or None, parent=self
        )
        self.autosave.saved.connect(self._saved)
        self.autosave.save_failed.connect(self.tell)
        self.autosave.became_read_only.connect(self._lost_editing)
        if self.timeline.patient is None or self.timeline.patient.id != patient.id:
            self.timeline.show_patient(patient)
        self.timeline.set_current(session.id)
        self.timeline.select_session(session.id)
        self.patients.select_patient(patient.id)
        self.form.show_session(session, session_title(patient, session), reason or None)
        self.held.show_session(session, editable=not reason)
        if reason:
            self.tell(f"Opened read-only: {reason}")
        self._update_actions()
        self.session_changed.emit(session)
        return opened

    def leave_session(self) -> None:
        """Save what is pending and hand the lease back; the window keeps showing the plan."""
        self.review.close_compare()
        if self.autosave is not None:
            self.autosave.close()
            self.autosave.deleteLater()
            self.autosave = None
        self.form.write_notes()

    def _plan_replaced(self, controller: object) -> None:
        if self._opening or self.session is None:
            return
        # Another plan took the window (File > New plan, a plan file): the session is saved
        # and left, not edited by a workspace that is no longer its own.
        self.leave_session()
        self.session = None
        self.window.plan_files.session_saver = None
        self.timeline.set_current(None)
        self.form.show_session(None)
        self.held.show_session(None)
        self._update_actions()
        self.session_changed.emit(None)

    def new_session(self, patient_id: int | None = None, **fields: Any) -> Session | None:
        """Start a draft session for the patient (the one shown if not given) and open it.
        Without fields, the clinician fills them in. A plan already drawn in the window that
        belongs to no session becomes the new session's plan."""
        patient_id = patient_id if patient_id is not None else getattr(self.patient, "id", None)
        if patient_id is None:
            self.show_patients()
            self.tell("Choose or add the patient first")
            return None
        patient = self.repo.patient(patient_id)
        if not fields:
            asked = self.ask_new_session(patient)
            if asked is None:
                return None
            fields = asked
        plan = self._plan_for_new_session(patient)
        try:
            session = self.repo.create_session(patient.id, **fields)
        except StoreError as exc:
            self.tell(f"Session not started: {exc}")
            return None
        if plan.images:
            # Images opened before the session existed come in through its door now.
            plan = self._adopt(plan, session)
        try:
            self.repo.save_plan(session.id, plan)
        except StoreError as exc:
            self.tell(f"The plan was not saved in the new session: {exc}")
        self.timeline.show_patient(patient)
        self.open_session(session.id)
        return session

    def _adopt(self, plan: Plan, session: Session) -> Plan:
        """The plan of images opened before the session, through the session's door: what is
        the patient's points at its library copy; an image held back leaves the plan with its
        annotations (and the clinician is told)."""
        outside = [im for im in plan.images if not self.repo.in_library(im.ref.path)]
        outside_ids = {im.id for im in outside}
        result = self.door.admit(
            [Path(im.ref.path) for im in outside], "opened before the session", session.id
        )
        images, dropped = [], set()
        for im in plan.images:
            stored = result.attached_from.get(str(Path(im.ref.path)))
            if stored is not None:
                ref = self.repo.image_ref(stored)
                images.append(replace(im, ref=replace(ref, name=Path(im.ref.path).name)))
            elif im.id in outside_ids:
                dropped.add(im.id)
            else:
                images.append(im)
        if dropped:
            left = [a for a in plan.annotations if a.image_id in dropped]
            self.tell(
                f"{len(dropped)} image(s) not this patient's left out of the new session, with "
                f"their {len(left)} annotation(s); see Held back in the Patients panel"
            )
        return replace(
            plan.with_images(images),
            annotations=tuple(a for a in plan.annotations if a.image_id not in dropped),
        )

    def _plan_for_new_session(self, patient: Patient) -> Plan:
        current: Plan = self.window.plan.plan
        plan = current if self.session is None and current.images else Plan()
        if plan.patient_weight_kg is None and patient.weight_kg is not None:
            plan = replace(plan, patient_weight_kg=patient.weight_kg)
        return plan

    def _new_session_dialog(self, patient: Patient) -> dict[str, Any] | None:
        last = self.repo.sessions_of(patient.id)
        region = last[0].session.region if last else ""
        side = last[0].session.side if last else Side.UNSPECIFIED
        clinician = last[0].session.clinician if last else ""
        dialog = NewSessionDialog(
            patient, self.window.as_widget(), region=region, side=side, clinician=clinician
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.fields()

    # -- signing and amending ---------------------------------------------------------------
    def sign(self, session_id: int | None = None) -> Session | None:
        """Sign a session after the clinician has seen what is unresolved in its plan (danger
        warnings not acknowledged, targets not placed, images without millimetres, a guessed
        depth zero) and confirmed signing over it; the store keeps that list with the
        signature, and the report prints it. A procedure record with a required field empty is
        not signed over: the clinician is asked for the fields by name (Session > Procedure
        record). A session not open is opened first, so its plan is checked as the window shows
        it."""
        session_id = session_id if session_id is not None else getattr(self.session, "id", None)
        if session_id is None:
            return None
        if self.session is None or self.session.id != session_id:
            self.open_session(session_id)
            if self.session is None or self.session.id != session_id:
                return None
        session = self.repo.session(session_id)
        # Saved first: the record is checked, and the unresolved list made, as the store has it.
        if self.autosave is not None:
            self.autosave.save_now()
        self.form.write_notes()
        if not self._record_complete(session_id):
            return None
        controller = self.window.plan
        over = unresolved(controller.plan, controller.warnings)
        if not self.confirm_sign(self.window.as_widget(), session, over):
            return None
        try:
            signed = self.repo.sign(session_id, signed_over=over)
        except StoreError as exc:
            self.tell(f"Not signed: {exc}")
            return None
        self.open_session(session_id)  # again, now read-only
        said = f"Session of {session_date(signed)} signed"
        if over:
            said += f" over {len(over)} unresolved item(s), listed in its report"
        self.tell(said)
        return signed

    def _record_complete(self, session_id: int) -> bool:
        """Whether the open session's procedure record can be signed; if not, the clinician is
        asked for the missing fields by name and taken to the record. Unlike what is unresolved
        in a plan, a record's required field cannot be signed over."""
        missing = self.repo.record_missing(session_id)
        if not missing:
            return True
        if not self.ask_missing(missing):
            return False
        self.record_procedure()
        still = self.repo.record_missing(session_id)
        if still:
            self.tell("Not signed: the procedure record still misses " + "; ".join(still))
            return False
        return True

    def _ask_missing(self, missing: list[str]) -> bool:
        listed = "\n".join(f"• {m}" for m in missing)
        answer = QMessageBox.question(
            self.window.as_widget(),
            "Procedure record not complete",
            f"Before it is signed, the procedure record needs:\n\n{listed}\n\nFill them in now?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    # -- the procedure record ---------------------------------------------------------------
    def record_procedure(self) -> RecordResult | None:
        """Show the open session's procedure record (a new one from the plan's defaults and the
        previous session's record); what the clinician saves is one undo step of the plan, and
        the pain scores go to the session. Read-only sessions show their record."""
        session = self.session
        if session is None:
            self.tell("Open a session to record its procedure")
            return None
        controller = self.window.plan
        plan = controller.plan
        reason = ""
        if self.autosave is None or self.autosave.read_only:
            reason = self.repo.read_only_reason(session.id) or "this session is read-only"
        record = plan.procedure or start_record(
            plan,
            previous=self.repo.previous_record(session.id),
            clinician=session.clinician,
            performed_at=session.started_at,
        )
        names = {im.sha256: im.name for im in self.repo.images_of(session.id)}
        dialog = ProcedureDialog(
            plan,
            record,
            pain_before=session.pain_before,
            pain_after=session.pain_after,
            names={im.id: names.get(im.ref.sha256, "") for im in plan.images},
            read_only_reason=reason,
            parent=self.window.as_widget(),
        )
        try:
            if not self.ask_record(dialog) or reason:
                return None
            result = dialog.value()
        finally:
            dialog.deleteLater()
        controller.push(record_edit(controller.plan, result.record, result.statuses))
        pains = {"pain_before": result.pain_before, "pain_after": result.pain_after}
        changed = {k: v for k, v in pains.items() if getattr(session, k) != v}
        if changed:
            try:
                self.session = self.repo.update_session(session.id, **changed)
            except StoreError as exc:
                self.tell(f"Pain scores not saved: {exc}")
            self.form.show_session(self.session, self.form.title.text())
        if self.autosave is not None:
            self.autosave.save_now()
        self.timeline.refresh()
        missing = self.repo.record_missing(session.id)
        self.window.show_status(
            "Procedure recorded"
            + (f"; still to fill in: {'; '.join(missing)}" if missing else ": ready to sign"),
            6000,
        )
        return result

    def amend(self, session_id: int | None = None) -> Session | None:
        session_id = session_id if session_id is not None else getattr(self.session, "id", None)
        if session_id is None:
            return None
        session = self.repo.session(session_id)
        if not self.confirm(
            "Amend session",
            f"Make version {session.version + 1} of the session of {session_date(session)} "
            "to change it? The signed version is kept as it was.",
        ):
            return None
        try:
            new = self.repo.amend(session_id)
        except StoreError as exc:
            self.tell(f"Not amended: {exc}")
            return None
        self.open_session(new.id)
        return new

    def _resolve_chosen(self) -> None:
        """The conflict of the session chosen in the timeline, else of the open one, else the
        patient's first."""
        pairs = self.timeline.in_conflict
        for candidate in (self.timeline.selected_session_id(), getattr(self.session, "id", None)):
            if candidate in pairs:
                self.resolve_conflict(candidate)
                return
        if pairs:
            self.resolve_conflict(next(iter(pairs)))

    def resolve_conflict(self, session_id: int) -> Session | None:
        """Two versions amend one session (one pulled from the PACS): the clinician chooses the
        one the course continues with; the other is set aside, kept for review."""
        pair = self.repo.conflict(session_id)
        if pair is None:
            self.tell("There is no conflict to resolve for this session")
            return None
        keep = self.choose_version(*pair)
        if keep is None:
            return None
        try:
            kept = self.repo.resolve_conflict(keep)
        except StoreError as exc:
            self.tell(f"Not resolved: {exc}")
            return None
        self.timeline.refresh()
        self.timeline.select_session(kept.id)
        self.tell(f"The course continues with session #{kept.id}; the other version is kept")
        return kept

    def _choose_version(self, pulled: Session, here: Session) -> int | None:
        def describe(s: Session) -> str:
            plan = self.repo.load_plan(s.id)
            ml = sum(t.injectate.volume_ml for t in plan.targets())
            who = f", signed by {s.signed_by}" if s.signed_by else ", a draft"
            sites = len(plan.targets())
            return f"#{s.id}: {s.clinician or 'no clinician'}{who}; {sites} sites, {ml:g} mL"

        box = QMessageBox(self.window.as_widget())
        box.setWindowTitle("Resolve conflict")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setText(
            f"Two versions amend the session of {session_date(here)}. Choose the one the "
            "course continues with; the other is kept for review, out of the timeline."
        )
        box.setInformativeText(
            f"This workstation's: {describe(here)}\nFrom the PACS: {describe(pulled)}"
        )
        mine = box.addButton(
            f"Continue with #{here.id} (here, {here.clinician or 'no clinician'})",
            QMessageBox.ButtonRole.AcceptRole,
        )
        theirs = box.addButton(
            f"Continue with #{pulled.id} (from the PACS, {pulled.clinician or 'no clinician'})",
            QMessageBox.ButtonRole.AcceptRole,
        )
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        chosen = box.clickedButton()
        return here.id if chosen is mine else pulled.id if chosen is theirs else None

    # -- what the store says ----------------------------------------------------------------
    def _saved(self, result: PlanSaved) -> None:
        if result.changed:
            self.timeline.refresh()
            self.held.refresh()  # an image attached anyway and taken out again is held again
            self.saved.emit(result)
        self.window.show_status(f"Saved at {_local_time(result.saved_at)}", 4000)

    def _fields_written(self, session: Session) -> None:
        self.session = session
        self.timeline.refresh()

    def _lost_editing(self, reason: str) -> None:
        """Another window took the session over: keep showing it, read-only, and say why."""
        controller = self.window.plan
        self._opening = True
        try:
            self.window.set_plan(
                controller.plan,
                read_only=True,
                read_only_reason=reason,
                title=session_title(self.patient, self.session) if self.session else "",
                base_dir=self.repo.data_dir,
            )
        finally:
            self._opening = False
        if self.autosave is not None:
            self.autosave.set_controller(self.window.plan)
        self._own_saving()
        self.form.set_read_only(reason)
        self.tell(f"Now read-only: {reason}")
        self._update_actions()

    def tell(self, text: str) -> None:
        self.window.report([Notice(text)], text)

    # -- closing ----------------------------------------------------------------------------
    def _window_closing(self) -> None:
        # Save before the window goes; the lease is handed back once it has really closed.
        if self.autosave is not None:
            self.autosave.save_now()
        self.form.write_notes()
        QTimer.singleShot(0, self._closed_maybe)

    def _closed_maybe(self) -> None:
        if not self.window.as_widget().isVisible():
            self.close()

    def original_name(self, path: Path) -> str | None:
        """The name the file had when it was imported, for a file in the library; else None."""
        if self.repo.db.closed:
            return None
        try:
            inside = Path(path).resolve().relative_to(self.repo.library.root.resolve())
        except (OSError, ValueError):
            return None
        if len(inside.parts) != 2:
            return None
        # library/ab/<the other 62 hex digits><suffix>
        sha256 = inside.parts[0] + inside.parts[1][:62]
        try:
            stored = self.repo.image(sha256)
        except StoreError:
            return None
        return Path(stored.original_path.replace("\\", "/")).name or None

    def close(self) -> None:
        """Save, hand the lease back and close the store (the window closed or the app quits)."""
        if self.repo.db.closed:
            return
        self.leave_session()
        self.store_closing.emit()
        self.repo.close()


def _exec(dialog: QDialog) -> bool:
    return dialog.exec() == QDialog.DialogCode.Accepted


def _local_time(utc_iso: str) -> str:
    """'14:03:27' on this workstation's clock, from the store's UTC time."""
    try:
        when = _dt.datetime.fromisoformat(utc_iso.replace("Z", "+00:00"))
    except ValueError:
        return utc_iso
    return when.astimezone().strftime("%H:%M:%S")


def _panel(
    patients: PatientList, held: HeldImagesPanel, timeline: TimelineView, form: SessionForm
) -> QWidget:
    """Patients on the left (the images held back from the open session under them), the
    timeline in the middle, the open session's fields beside."""
    panel = QWidget()
    panel.setObjectName("patients_panel")
    # Never so short that the timeline shows fewer than three sessions (1366 x 768 keeps
    # the rest for the image).
    panel.setMinimumHeight(PANEL_MIN_HEIGHT)
    left = QSplitter(Qt.Orientation.Vertical)
    left.addWidget(patients)
    left.addWidget(held)
    left.setChildrenCollapsible(False)
    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(left)
    split.addWidget(timeline)
    split.addWidget(form)
    split.setStretchFactor(0, 2)
    split.setStretchFactor(1, 8)
    split.setStretchFactor(2, 2)
    split.setChildrenCollapsible(False)
    layout = QVBoxLayout(panel)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addWidget(split)
    return panel


def install_sessions(
    window: PlannerWindow, repo: Repository | None = None
) -> SessionsFeature | None:
    """Add the Session menu and the Patients dock to the main window. If the session store
    cannot be opened (a newer app's store, an unreadable folder) the viewer still starts: the
    Session menu says why, and None is returned."""
    if repo is None:
        try:
            repo = Repository.open()
        except StoreError as exc:
            log.error("session store not opened: %s", exc)
            unavailable = QAction(f"Sessions unavailable: {exc}", window.as_widget())
            unavailable.setEnabled(False)
            window.menu("Session").addAction(unavailable)
            window.report([Notice(f"session store not opened: {exc}")])
            return None
    return SessionsFeature(window, repo)
