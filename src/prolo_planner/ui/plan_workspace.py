"""One plan on the screen: its controller and annotation layer, which plan image each open file
is, and the calibrations the files carry or the clinician makes.

The main window makes one workspace per plan (set_plan, new_plan) and throws the old one away.
Opening a file adds it to the plan as one undo step (AddImage); a manual calibration becomes the
image's ManualCalibration (ReplaceImage), so it is saved and undone like any other change.
A read-only workspace (a signed session, a plan another window is editing) refuses every edit
in one place, its controller, whatever tried to make it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QGraphicsScene

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.catalog import CatalogSet, RegionCatalog
from prolo_planner.core.document import Change, ChangeKind
from prolo_planner.core.edits import AddImage, Compound, Edit, ReplaceImage
from prolo_planner.core.limits import ClinicLimits
from prolo_planner.core.plan import ImagePlan, ImageRef, Plan
from prolo_planner.core.region_guess import guess_region
from prolo_planner.imaging.anatomy import anatomy_evidence
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.facts import image_facts
from prolo_planner.imaging.open import open_image
from prolo_planner.imaging.source import ImageSource
from prolo_planner.store.plan_file import resolve_image_path
from prolo_planner.ui.annotation_layer import AnnotationLayer
from prolo_planner.ui.image_view import ImageView
from prolo_planner.ui.loaded_images import LoadedImages
from prolo_planner.ui.notices import Notice
from prolo_planner.ui.plan_controller import PlanController

UNTITLED = "Untitled plan"


class WorkspaceController(PlanController):
    """A PlanController that can be locked: while read only, every edit is refused (and said
    so), from a tool, a menu, a panel or the context menu alike."""

    #: An edit was refused: what was tried and why, for the status bar.
    refused = Signal(str)

    def __init__(
        self,
        plan: Plan | None = None,
        limits: ClinicLimits | None = None,
        read_only_reason: str = "",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(plan, limits, parent)
        self._read_only_reason = read_only_reason

    @property
    def read_only(self) -> bool:
        return bool(self._read_only_reason)

    @property
    def read_only_reason(self) -> str:
        return self._read_only_reason

    def push(self, edit: Edit) -> tuple[Change, ...]:
        if self.read_only:
            self.refused.emit(
                f"{edit.text}: not done, the plan is read only ({self.read_only_reason})"
            )
            return ()
        return super().push(edit)

    def undo(self) -> None:
        if not self.read_only:
            super().undo()

    def redo(self) -> None:
        if not self.read_only:
            super().redo()


def image_name(image: ImagePlan) -> str:
    """How every text names the image: the clinician's file name (never the library's hash)."""
    return image.ref.title


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a.absolute() == b.absolute()


class PlanWorkspace(QObject):
    """A plan open in the window: its controller, its layer on the viewer, and the link from
    each of its images to the file open for it."""

    def __init__(
        self,
        view: ImageView,
        plan: Plan,
        *,
        limits: ClinicLimits | None = None,
        catalogs: CatalogSet | None = None,
        read_only_reason: str = "",
        title: str = "",
        base_dir: Path | None = None,
        file_path: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.view = view
        self.controller = WorkspaceController(plan, limits, read_only_reason, self)
        self.layer = AnnotationLayer(view, self.controller, parent=self)
        self.catalogs = catalogs or CatalogSet()
        self.title = title
        #: The day (ISO) of the session the plan belongs to, for names that must not say
        #: whose it is; "" outside a session.
        self.plan_date = ""
        self.base_dir = base_dir
        #: The plan file it was opened from or last saved to, if any.
        self.file_path = file_path
        self._links: dict[str, Path] = {}
        #: Images whose file could not be opened, and the path tried (not tried again).
        self.missing: dict[str, Path] = {}

    # -- what it is called ------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return self.controller.read_only

    @property
    def name(self) -> str:
        """How the window title and prompts call the plan."""
        if self.title:
            return self.title
        if self.controller.plan.title:
            return self.controller.plan.title
        if self.file_path is not None:
            name = self.file_path.name
            for suffix in (".prolo.json", ".json"):
                if name.endswith(suffix) and len(name) > len(suffix):
                    return name[: -len(suffix)]
            return name
        return UNTITLED

    @property
    def is_scratch(self) -> bool:
        """Never saved, no title, nothing in it: the window calls itself plain 'Prolo Planner'."""
        plan = self.controller.plan
        return (
            self.file_path is None
            and not self.title
            and not plan.title
            and not plan.images
            and not plan.annotations
        )

    def has_work(self) -> bool:
        """Whether closing without saving would lose something the clinician did: annotations,
        what was said of an image, the weight or a note. Images merely opened are not work,
        nor is a calibration alone (two clicks on the depth scale make it again), nor the
        region (read from the file when it opens, one choice in a list otherwise)."""
        plan = self.controller.plan
        if plan.annotations or plan.patient_weight_kg is not None or plan.title or plan.note:
            return True
        return any(
            replace(im, manual_calibration=None, region="")
            != ImagePlan(im.ref, id=im.id, extra=im.extra)
            for im in plan.images
        )

    # -- images and files -------------------------------------------------------------------
    def image_path(self, image_id: str) -> Path:
        """Where the plan says the image's file is (relative paths from base_dir)."""
        return resolve_image_path(self.controller.plan.image(image_id).ref.path, self.base_dir)

    def linked_path(self, image_id: str) -> Path | None:
        return self._links.get(image_id)

    def linked_ids(self) -> frozenset[str]:
        return frozenset(self._links)

    def image_id_for_path(self, path: Path) -> str | None:
        """The plan image whose file is open at `path`, or None."""
        for image_id, linked in self._links.items():
            if same_file(linked, path):
                return image_id
        return None

    def image_id_for(self, source: ImageSource) -> str | None:
        """The plan image a file is: by its linked or recorded path, else by SOP Instance UID."""
        path = source.info.path
        found = self.image_id_for_path(path)
        if found is not None:
            return found
        uid = source.info.sop_instance_uid
        for im in self.controller.plan.images:
            if same_file(self.image_path(im.id), path):
                return im.id
            if uid and im.ref.sop_instance_uid == uid and im.id not in self._links:
                return im.id
        return None

    def link(self, image_id: str, source: ImageSource) -> None:
        """`source` is the open file of a plan image: its calibration feeds the measurements."""
        self._links[image_id] = source.info.path
        self.missing.pop(image_id, None)
        self.controller.set_source_facts(image_id, image_facts(source))

    def unlink(self, image_id: str) -> None:
        self._links.pop(image_id, None)

    def add_images(self, sources: Sequence[ImageSource]) -> list[str]:
        """Put files just opened into the plan, one undo step for all; those already in it are
        linked. Returns the ids of the images added."""
        edits: list[AddImage] = []
        for source in sources:
            known = self.image_id_for(source)
            if known is not None:
                self.link(known, source)
                continue
            info = source.info
            image = ImagePlan(
                ImageRef(
                    str(info.path),
                    sop_instance_uid=info.sop_instance_uid,
                    frame_count=max(1, info.frame_count),
                ),
                region=self._likely_region(source),
            )
            self.link(image.id, source)
            edits.append(AddImage(image))
        if not edits or self.read_only:
            for e in edits:
                self.unlink(e.image.id)  # viewed, not planned on
            return []
        if len(edits) == 1:
            self.controller.push(edits[0])
        else:
            self.controller.push(Compound(tuple(edits), f"Add {len(edits)} images"))
        return [e.image.id for e in edits]

    def sync_files(
        self, images: LoadedImages, close_row: Callable[[int], None]
    ) -> tuple[list[ImageSource], list[Notice]]:
        """Bring the open files in step with the plan: the files of images the plan dropped
        are closed (close_row), those open already linked, the others opened. Returns the
        files opened, for the viewer to add, and what could not be opened."""
        plan = self.controller.plan
        for image_id in self.linked_ids() - {im.id for im in plan.images}:
            path = self._links.pop(image_id)
            row = images.index_of(path)
            if row is not None:
                close_row(row)
        opened: list[ImageSource] = []
        problems: list[Notice] = []
        for im in plan.images:
            want = self.image_path(im.id)
            linked = self.linked_path(im.id)
            if linked is not None and same_file(linked, want):
                continue
            if linked is not None:  # the plan points elsewhere now (located, or undone)
                self.unlink(im.id)
                row = images.index_of(linked)
                if row is not None:
                    close_row(row)
            row = images.index_of(want)
            if row is not None:
                self.link(im.id, images[row].source)
                continue
            if self.missing.get(im.id) == want:
                continue  # said once already
            try:
                source = open_image(want)
            except ImageLoadError as exc:
                self.missing[im.id] = want
                on_it = sum(1 for a in plan.annotations if a.image_id == im.id)
                problems.append(
                    Notice(
                        f"image of the plan cannot be opened ({exc.reason}); its {on_it} "
                        "annotation(s) are kept but not shown",
                        want,
                    )
                )
                continue
            self.link(im.id, source)
            opened.append(source)
        return opened, problems

    def _likely_region(self, source: ImageSource) -> str:
        """The region the file says it shows (its body part, descriptions, name); else, as a
        new image of a session most often shows, the region of the images before it."""
        told = guess_region(anatomy_evidence(source), self.catalogs)
        if told:
            return told
        regions = [im.region for im in self.controller.plan.images if im.region]
        return regions[-1] if regions else ""

    # -- what is shown ----------------------------------------------------------------------
    @property
    def image_id(self) -> str | None:
        return self.layer.image_id

    def show(self, image_id: str | None, frame_count: int = 1, frame: int = 0) -> None:
        self.controller.clear_selection()
        self.layer.show_image(image_id, frame_count, frame)

    def image(self, image_id: str | None) -> ImagePlan | None:
        if image_id is None:
            return None
        try:
            return self.controller.plan.image(image_id)
        except KeyError:
            return None

    def region(self, image_id: str | None) -> RegionCatalog | None:
        image = self.image(image_id)
        return self.catalogs.region(image.region) if image and image.region else None

    # -- calibration ------------------------------------------------------------------------
    def calibration(self, image_id: str) -> Calibration:
        return self.controller.calibration(image_id)

    def clear_manual_calibration(self, image_id: str) -> bool:
        image = self.image(image_id)
        if image is None or image.manual_calibration is None:
            return False
        return bool(
            self.controller.push(ReplaceImage(image, replace(image, manual_calibration=None)))
        )

    # -- frames -----------------------------------------------------------------------------
    def annotated_frames(self, image_id: str | None) -> frozenset[int]:
        if image_id is None:
            return frozenset()
        return self.controller.plan.annotated_frames(image_id)

    def key_frames(self, image_id: str | None) -> tuple[int, ...]:
        image = self.image(image_id)
        return image.key_frames if image else ()

    # -- going away -------------------------------------------------------------------------
    def dispose(self) -> None:
        """Take this plan's drawing off the viewer; the window shows another plan now."""
        self.layer.show_image(None)
        scene: QGraphicsScene = self.view.scene()
        for item in (self.layer.preview, self.layer.handles):
            if item.scene() is scene:
                scene.removeItem(item)
        self.layer.deleteLater()
        self.controller.deleteLater()
        self.deleteLater()


def changed_images(changes: Iterable[Change]) -> frozenset[str]:
    """The image ids an apply or revert touched (added, removed or changed)."""
    return frozenset().union(*(c.ids for c in changes if c.kind is ChangeKind.IMAGES))
