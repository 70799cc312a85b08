"""Images into the open session: copied into the image library, DICOM filed under its patient
(a file of another patient is held back and shown, never merged), and added to the session's
plan as one undo step."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from prolo_planner.core.edits import AddImage, Compound
from prolo_planner.core.plan import ImagePlan
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.open import classify
from prolo_planner.imaging.source import SourceKind
from prolo_planner.store.records import Session, StoredImage, StoreError
from prolo_planner.store.repository import Repository
from prolo_planner.ui.plan_controller import PlanController
from prolo_planner.ui.sessions.patient_list import PatientList


@dataclass(frozen=True, slots=True)
class ImportSummary:
    added: tuple[str, ...]  # ids of the plan images added
    held: int  # DICOM files of another patient, held back and listed in the Patients panel
    problems: tuple[str, ...]  # files that could not be read, in words

    def text(self) -> str:
        n = len(self.added)
        bits = [f"{n} image{'s' if n != 1 else ''} added to the session"]
        if self.held:
            bits.append(f"{self.held} held back: the patient in the file does not match")
        if self.problems:
            bits.append(f"{len(self.problems)} could not be read")
        return "; ".join(bits)


def import_into_session(
    repo: Repository,
    patients: PatientList,
    session: Session,
    controller: PlanController,
    paths: Iterable[Path],
) -> ImportSummary:
    stored: list[StoredImage] = []
    problems: list[str] = []
    held = 0
    for path in map(Path, paths):
        if classify(path) is SourceKind.DICOM:
            done, trouble = patients.import_dicom([path], session.id)
            problems += trouble
            for result in done:
                if result.mismatch is None:
                    stored.append(result.image)
                else:
                    held += 1
            continue
        try:
            stored.append(repo.import_image(path, session.id))
        except ImageLoadError as exc:
            problems.append(f"{Path(exc.path).name}: {exc.reason}")
        except StoreError as exc:
            problems.append(f"{path.name}: {exc}")
    added = add_to_plan(repo, session, controller, stored)
    return ImportSummary(added, held, tuple(problems))


def add_to_plan(
    repo: Repository, session: Session, controller: PlanController, images: Iterable[StoredImage]
) -> tuple[str, ...]:
    """Add stored images the plan does not have yet (one undo step); their new ids."""
    have = {im.ref.sha256 for im in controller.plan.images if im.ref.sha256}
    new: list[ImagePlan] = []
    for image in images:
        if image.sha256 in have:
            continue
        have.add(image.sha256)
        new.append(ImagePlan(repo.image_ref(image), region=session.region, side=session.side))
    if new:
        n = len(new)
        controller.push(
            Compound(tuple(AddImage(im) for im in new), f"Import {n} image{'s' if n != 1 else ''}")
        )
    return tuple(im.id for im in new)
