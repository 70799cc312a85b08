"""The door of the open session in the window: every file the clinician brings while a session is
open (File > Open, a folder or DICOMDIR, drag and drop, Open recent, the command line, Session >
Import, the receiver's inbox, a PACS retrieve) comes here, and only here.

The store checks each file against the session's patient (store/admission.py). What is the
patient's joins the session and its plan (one undo step); what names another patient is held
back, listed with the reasons beside the patient list; files that name nobody (videos, frame
grabs) are asked about once, all together, before anything of them is filed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox, QWidget

from prolo_planner.core.catalog import load_catalogs
from prolo_planner.core.edits import AddImage, Compound
from prolo_planner.core.plan import ImagePlan
from prolo_planner.core.region_guess import guess_region
from prolo_planner.imaging.anatomy import file_anatomy_evidence
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.store.records import (
    Admission,
    Admitted,
    Patient,
    Session,
    StoredImage,
    StoreError,
)
from prolo_planner.store.repository import Repository
from prolo_planner.ui.notices import Notice
from prolo_planner.ui.plan_controller import PlanController
from prolo_planner.ui.sessions.session_text import session_date

if TYPE_CHECKING:
    from prolo_planner.ui.sessions.feature import SessionsFeature

#: (parent, patient, names of files that name nobody) -> whether they are this patient's.
AskWhose = Callable[[QWidget, Patient, Sequence[str]], bool]


def ask_whose(parent: QWidget, patient: Patient, names: Sequence[str]) -> bool:
    """One question for every file of a batch that names no patient."""
    shown = "\n".join(f"  • {n}" for n in names[:12])
    more = f"\n  … and {len(names) - 12} more" if len(names) > 12 else ""
    box = QMessageBox(parent)
    box.setObjectName("ask_whose_images")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Whose images are these?")
    who = f"{patient.display_name} ({patient.mrn}"
    who += f", born {patient.birth_date})" if patient.birth_date else ")"
    box.setText(
        f"{len(names)} file{'s' if len(names) != 1 else ''} name{'s' if len(names) == 1 else ''}"
        f" no patient (a video, a frame grab, an anonymised file):\n{shown}{more}"
    )
    box.setInformativeText(f"Are they images of {who}?")
    yes = box.addButton(f"Yes, {patient.display_name}'s", QMessageBox.ButtonRole.YesRole)
    no = box.addButton("No: hold them back", QMessageBox.ButtonRole.NoRole)
    box.setDefaultButton(no)
    box.exec()
    return box.clickedButton() is yes


@dataclass
class DoorResult:
    """What one batch through the door did."""

    added: tuple[str, ...] = ()  # ids of the plan images added (the open session only)
    attached: list[StoredImage] = field(default_factory=list)
    #: The file brought (as text) -> its library copy, for what was attached.
    attached_from: dict[str, StoredImage] = field(default_factory=dict)
    held: list[Admission] = field(default_factory=list)
    problems: list[Notice] = field(default_factory=list)
    refused: str = ""  # why nothing could be brought in (a signed session), or ""
    #: Each file brought (as text) -> what became of it, in words.
    outcomes: dict[str, str] = field(default_factory=dict)

    def names(self) -> dict[str, str]:
        """sha256 -> the name of the file the clinician brought (the library may know the
        same content by the name of an earlier import)."""
        return {stored.sha256: Path(p).name for p, stored in self.attached_from.items()}

    def took(self, path: Path, done: Admission, session_id: int) -> None:
        if done.attached:
            self.attached.append(done.image)
            self.attached_from[str(path)] = done.image
            self.outcomes[str(path)] = f"filed under session #{session_id}"
        else:
            self.held.append(done)
            self.outcomes[str(path)] = "held back, not filed: " + "; ".join(done.reasons)

    def text(self, session: Session | None) -> str:
        if self.refused:
            return self.refused
        n = len(self.attached)
        where = f"the session of {session_date(session)}" if session is not None else "the session"
        bits = [f"{n} image{'s' if n != 1 else ''} added to {where}"] if n else []
        if self.held:
            h = len(self.held)
            what = self.held[0].image.name if h == 1 else f"{h} images"
            bits.append(
                f"{what} held back, not this patient's (see Held back in the Patients panel)"
            )
        if not bits:
            bits.append(f"No image added to {where}")
        if self.problems:
            bits.append(f"{len(self.problems)} could not be read (see Messages)")
        return "; ".join(bits)


class SessionDoor:
    """The image door's gate while a session is open (ImageDoor.gate)."""

    def __init__(self, feature: SessionsFeature) -> None:
        self.feature = feature
        #: Asks whose the files that name nobody are; tests answer for the clinician.
        self.ask_whose: AskWhose = ask_whose

    @property
    def repo(self) -> Repository:
        return self.feature.repo

    def takes_images(self) -> bool:
        """A session is open: whatever is brought goes to it, through the patient check."""
        return self.feature.session is not None

    def admit(
        self, paths: Sequence[Path], origin: str, session_id: int | None = None
    ) -> DoorResult:
        """Bring files into a session (the open one by default): checked, held or asked
        about; what is the patient's joins the session, and the open plan as one undo step."""
        f = self.feature
        target = session_id if session_id is not None else getattr(f.session, "id", None)
        result = DoorResult()
        if target is None:
            result.refused = "Open a session to bring images into it"
            return self._said(result, None)
        session = self.repo.session(target)
        is_open = f.session is not None and f.session.id == target
        reason = self.repo.read_only_reason(target)
        if reason is None and is_open and not f.editable:
            reason = "read only in this window"
        if reason is not None:
            when = session_date(session)
            result.refused = f"Images not added: the session of {when} is {reason}"
            return self._said(result, session)
        unidentified: list[tuple[Path, Admission]] = []
        for path in map(Path, paths):
            try:
                done = self.repo.admit(path, target, origin=origin)
            except ImageLoadError as exc:
                result.problems.append(Notice(exc.reason, exc.path))
                result.outcomes[str(path)] = f"not filed: {exc.reason}"
                continue
            except (StoreError, OSError) as exc:
                result.problems.append(Notice(str(exc), path))
                result.outcomes[str(path)] = f"not filed: {exc}"
                continue
            if done.state is Admitted.UNIDENTIFIED:
                unidentified.append((path, done))
            else:
                result.took(path, done, target)
        if unidentified:
            patient = self.repo.patient(session.patient_id)
            names = [path.name for path, _ in unidentified]
            belongs = self.ask_whose(f.window.as_widget(), patient, names)
            for path, asked in unidentified:
                done = self.repo.confirm_unidentified(
                    target, asked.image.sha256, belongs, origin=origin
                )
                result.took(path, done, target)
        if is_open and result.attached:
            result.added = add_to_plan(
                self.repo, session, f.window.plan, result.attached, result.names()
            )
        return self._said(result, session)

    def retrieved(self, admissions: Sequence[Admission], session_id: int) -> DoorResult:
        """Images a PACS retrieve brought to a session, already through the store's door: the
        ones that name nobody are asked about here, what is the patient's joins the open plan."""
        f = self.feature
        session = self.repo.session(session_id)
        result = DoorResult()
        unidentified = [a for a in admissions if a.state is Admitted.UNIDENTIFIED]
        for done in admissions:
            if done.state is not Admitted.UNIDENTIFIED:
                result.took(Path(done.image.original_path), done, session_id)
        if unidentified:
            patient = self.repo.patient(session.patient_id)
            names = [a.image.name for a in unidentified]
            belongs = self.ask_whose(f.window.as_widget(), patient, names)
            for asked in unidentified:
                done = self.repo.confirm_unidentified(
                    session_id, asked.image.sha256, belongs, origin="PACS retrieve"
                )
                result.took(Path(asked.image.original_path), done, session_id)
        is_open = f.session is not None and f.session.id == session_id
        if is_open and f.editable and result.attached:
            result.added = add_to_plan(
                self.repo, session, f.window.plan, result.attached, result.names()
            )
        return self._said(result, session)

    def file_from_inbox(self, paths: Sequence[Path], session_id: int) -> list[str]:
        """The receiver's "File under session": through this door; a file leaves the inbox
        once the store holds it (attached or held back). One line per file."""
        result = self.admit(paths, "receiver", session_id)
        lines = []
        for path in paths:
            outcome = result.outcomes.get(str(path), result.refused or "not filed")
            if str(path) in result.attached_from or outcome.startswith("held back"):
                path.unlink(missing_ok=True)
            lines.append(f"{path.name}: {outcome}")
        return lines

    def _said(self, result: DoorResult, session: Session | None) -> DoorResult:
        """Messages for what was held or refused (each file with its reason), the summary in
        the status bar, and the held list shown when something was held."""
        f = self.feature
        notices = list(result.problems)
        notices += [
            Notice("held back, not this patient's: " + "; ".join(a.reasons), Path(a.image.name))
            for a in result.held
        ]
        if result.refused:
            notices.append(Notice(result.refused))
        summary = result.text(session)
        if notices:
            f.window.report(notices, summary)
        else:
            f.window.show_status(summary, 12_000)
        if result.held:
            f.held.refresh()
            f.show_held()
        return result


def add_to_plan(
    repo: Repository,
    session: Session,
    controller: PlanController,
    images: Iterable[StoredImage],
    names: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """Add stored images the plan does not have yet (one undo step), each named as the
    clinician knows it (`names`: sha256 -> name, else the store's); their new ids."""
    names = names or {}
    have = {im.ref.sha256 for im in controller.plan.images if im.ref.sha256}
    catalogs = load_catalogs()
    new: list[ImagePlan] = []
    for image in images:
        if image.sha256 in have:
            continue
        have.add(image.sha256)
        ref = repo.image_ref(image)
        if names.get(image.sha256):
            ref = replace(ref, name=names[image.sha256])
        # The file's own body part first: a hip image in a lumbar session is named as a hip.
        evidence = file_anatomy_evidence(
            image.library_path, names.get(image.sha256) or image.original_path
        )
        region = guess_region(evidence, catalogs) or session.region
        new.append(ImagePlan(ref, region=region, side=session.side))
    if not new:
        return ()
    n = len(new)
    what = f"Add {new[0].ref.title}" if n == 1 else f"Add {n} images"
    controller.push(Compound(tuple(AddImage(im) for im in new), what))
    return tuple(im.id for im in new)
