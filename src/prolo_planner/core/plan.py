"""The injection plan: targets, needle paths, avoid zones and measurements on images.

Everything is stored in image pixels (column, row) on one frame of one image, or on all frames
(frame None); millimetres are derived through the image's calibration, never stored as truth.
Values are frozen: an edit builds a new value with dataclasses.replace, so undo keeps the
before and after values. Unknown keys read from a newer file are kept in `extra` and written
back unchanged.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypeAlias

from prolo_planner.core.geometry import Point


def new_id() -> str:
    return uuid.uuid4().hex


class TargetKind(StrEnum):
    LIGAMENT = "ligament"
    PERIOSTEUM = "periosteum"  # periosteum or enthesis: where ligament and tendon meet bone
    JOINT_CAPSULE = "joint capsule"
    TENDON = "tendon"
    BURSA = "bursa"
    OTHER = "other"


class Side(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    MIDLINE = "midline"
    BILATERAL = "bilateral"
    UNSPECIFIED = "unspecified"


class SiteStatus(StrEnum):
    PLANNED = "planned"
    INJECTED = "injected"
    SKIPPED = "skipped"


class Anaesthetic(StrEnum):
    LIDOCAINE = "lidocaine"
    PROCAINE = "procaine"
    NONE = "none"


class Approach(StrEnum):
    IN_PLANE = "in-plane"
    OUT_OF_PLANE = "out-of-plane"


class AvoidKind(StrEnum):
    ARTERY = "artery"
    VEIN = "vein"
    NERVE = "nerve"
    SPINAL_CANAL = "spinal canal or dura"
    PLEURA = "pleura or lung"
    BONE = "bone"
    OTHER = "other"


class ZoneShape(StrEnum):
    POLYGON = "polygon"
    ELLIPSE = "ellipse"  # points = (corner, opposite corner) of its axis-aligned bounding box


class ProbeShape(StrEnum):
    """How the beams run: parallel (linear array), or radiating from a virtual apex above the
    image (curvilinear array; a phased array's sector is the same with a small face)."""

    LINEAR = "linear"
    CURVED = "curvilinear"
    SECTOR = "sector"


class ProbeOrientation(StrEnum):
    LONG_AXIS = "long axis"
    SHORT_AXIS = "short axis"
    UNSPECIFIED = "unspecified"


@dataclass(frozen=True, slots=True)
class Injectate:
    """What goes in at one site. Percentages are w/v: 1 % = 10 mg/mL."""

    dextrose_percent: float = 15.0
    anaesthetic: Anaesthetic = Anaesthetic.LIDOCAINE
    anaesthetic_percent: float = 0.2
    volume_ml: float = 1.0
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Target:
    """An injection site. `position` None means carried forward and not placed yet."""

    image_id: str
    position: Point | None
    frame: int | None = None
    kind: TargetKind = TargetKind.LIGAMENT
    name: str = ""
    side: Side = Side.UNSPECIFIED
    status: SiteStatus = SiteStatus.PLANNED
    injectate: Injectate = field(default_factory=Injectate)
    note: str = ""
    id: str = field(default_factory=new_id)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class NeedlePath:
    """From the skin entry point to a target; its far end is always the target's position."""

    image_id: str
    entry: Point
    target_id: str
    frame: int | None = None
    approach: Approach = Approach.IN_PLANE
    needle_gauge: int = 25
    needle_length_mm: float = 38.0
    id: str = field(default_factory=new_id)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class AvoidZone:
    """A structure the needle must keep clear of, by at least `margin_mm`."""

    image_id: str
    shape: ZoneShape
    points: tuple[Point, ...]
    frame: int | None = None
    kind: AvoidKind = AvoidKind.OTHER
    name: str = ""
    margin_mm: float = 3.0
    id: str = field(default_factory=new_id)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Caliper:
    image_id: str
    a: Point
    b: Point
    frame: int | None = None
    label: str = ""
    id: str = field(default_factory=new_id)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class AngleMeasurement:
    """The angle at `vertex` between the rays to `a` and to `b`."""

    image_id: str
    vertex: Point
    a: Point
    b: Point
    frame: int | None = None
    label: str = ""
    id: str = field(default_factory=new_id)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class TextNote:
    """Free text at `text_at`, with an arrow pointing to `arrow_to`."""

    image_id: str
    arrow_to: Point
    text_at: Point
    text: str
    frame: int | None = None
    id: str = field(default_factory=new_id)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)


Annotation: TypeAlias = Target | NeedlePath | AvoidZone | Caliper | AngleMeasurement | TextNote


class AnnotationKind(StrEnum):
    TARGET = "target"
    NEEDLE_PATH = "needle path"
    AVOID_ZONE = "avoid zone"
    CALIPER = "caliper"
    ANGLE = "angle"
    TEXT = "text"


KIND_OF: dict[type, AnnotationKind] = {
    Target: AnnotationKind.TARGET,
    NeedlePath: AnnotationKind.NEEDLE_PATH,
    AvoidZone: AnnotationKind.AVOID_ZONE,
    Caliper: AnnotationKind.CALIPER,
    AngleMeasurement: AnnotationKind.ANGLE,
    TextNote: AnnotationKind.TEXT,
}


def kind_of(annotation: Annotation) -> AnnotationKind:
    return KIND_OF[type(annotation)]


@dataclass(frozen=True, slots=True)
class ManualCalibration:
    """Two depth-scale ticks the clinician clicked and the millimetres between them."""

    a: Point
    b: Point
    mm: float
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class ProbeSetting:
    """What the clinician set of the probe's geometry; None keeps what the file or the image says.

    `zero_y` is the image row of depth zero on the centre beam (the depth scale's 0 tick,
    clicked); `radius_mm` the face radius of a curvilinear or sector probe; `centre_x` the
    column of its centre beam.
    """

    shape: ProbeShape | None = None
    radius_mm: float | None = None
    zero_y: float | None = None
    centre_x: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class ImageRef:
    """Which image file a plan's annotations lie on, found again by UID, content or path."""

    path: str
    sop_instance_uid: str = ""
    sha256: str = ""
    frame_count: int = 1
    #: The clinician's name for the file (a library copy at `path` is named by its hash).
    name: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def title(self) -> str:
        """How every text names the image: the clinician's file name, else the path's."""
        if self.name:
            return self.name
        return self.path.replace("\\", "/").rsplit("/", 1)[-1] or "image"


@dataclass(frozen=True, slots=True)
class ImagePlan:
    """What the clinician says of one image: where on the body, and what goes to the chart."""

    ref: ImageRef
    region: str = ""  # catalog region id, e.g. "lumbar_spine"
    side: Side = Side.UNSPECIFIED
    probe_orientation: ProbeOrientation = ProbeOrientation.UNSPECIFIED
    body_marker: str = ""
    key_frames: tuple[int, ...] = ()
    #: The skin surface the clinician drew; depth is measured along the beam below it (else
    #: below the transducer face).
    skin_line: tuple[Point, Point] | None = None
    manual_calibration: ManualCalibration | None = None
    #: The clinician's corrections of the probe geometry and depth zero (None: as found).
    probe: ProbeSetting | None = None
    id: str = field(default_factory=new_id)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)


# -- the procedure record (core/procedure.py has its rules) ----------------------------------
class Consent(StrEnum):
    WRITTEN = "written"
    VERBAL = "verbal"


class SkinPrep(StrEnum):
    CHLORHEXIDINE = "chlorhexidine in alcohol"
    POVIDONE_IODINE = "povidone-iodine"
    ALCOHOL = "alcohol"
    OTHER = "other"


class Complication(StrEnum):
    VASOVAGAL = "vasovagal"
    BLEEDING = "bleeding"
    PARAESTHESIA = "paraesthesia"
    OTHER = "other"


class NotDoneReason(StrEnum):
    """Why a planned site was not injected."""

    PATIENT_DECLINED = "patient declined"
    NOT_TOLERATED = "not tolerated"
    NOT_SEEN = "target not seen on ultrasound"
    COMPLICATION = "stopped after a complication"
    NOT_NEEDED = "no longer needed"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class KeyImage:
    """A frame of one of the plan's images: the image that shows the needle tip at the target."""

    image_id: str
    frame: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class SiteRecord:
    """What was done at one site (a target of the plan, by id).

    For an injected site: what was given, the needle, the approach, and whether the tip was seen
    at the target (None: not stated yet) with the key image. For a skipped site: why not.
    """

    target_id: str
    given: Injectate = field(default_factory=Injectate)
    lot_number: str = ""
    needle_gauge: int = 25
    needle_length_mm: float = 38.0
    approach: Approach = Approach.IN_PLANE
    tip_seen: bool | None = None
    key_image: KeyImage | None = None
    not_done_reason: NotDoneReason | None = None
    #: The reason in words (required with OTHER; a note beside any other reason).
    not_done_text: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class ProcedureRecord:
    """The record of one session's procedure. None in a field means "not stated yet"."""

    indication: str = ""
    #: When the procedure was done (ISO, the clinic's local time); "" until stated.
    performed_at: str = ""
    consent: Consent | None = None
    consent_by: str = ""
    time_out: bool | None = None
    skin_prep: SkinPrep | None = None
    skin_prep_text: str = ""
    sites: tuple[SiteRecord, ...] = ()
    #: () says "no complications"; None says nothing yet.
    complications: tuple[Complication, ...] | None = None
    complication_text: str = ""
    instructions: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def site(self, target_id: str) -> SiteRecord | None:
        for s in self.sites:
            if s.target_id == target_id:
                return s
        return None

    def with_site(self, site: SiteRecord) -> ProcedureRecord:
        """The record with this site's entry replaced (or added at the end)."""
        sites = list(self.sites)
        for i, s in enumerate(sites):
            if s.target_id == site.target_id:
                sites[i] = site
                return replace(self, sites=tuple(sites))
        return replace(self, sites=(*sites, site))

    @property
    def complications_text(self) -> str:
        """'none', 'vasovagal, bleeding', 'other: ...', or '' when not stated."""
        if self.complications is None:
            return ""
        if not self.complications:
            return "none"
        words = []
        for c in self.complications:
            if c is Complication.OTHER:
                words.append(
                    f"other: {self.complication_text}" if self.complication_text else "other"
                )
            else:
                words.append(c.value)
        return ", ".join(words)

    @property
    def skin_prep_words(self) -> str:
        if self.skin_prep is None:
            return ""
        if self.skin_prep is SkinPrep.OTHER:
            return self.skin_prep_text or "other"
        return self.skin_prep.value


@dataclass(frozen=True, slots=True)
class Plan:
    """One treatment session's plan: its images and every annotation on them, and the record
    of what was done."""

    images: tuple[ImagePlan, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    patient_weight_kg: float | None = None
    title: str = ""
    note: str = ""
    #: What was done (None until the clinician starts the record).
    procedure: ProcedureRecord | None = None
    id: str = field(default_factory=new_id)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: Unknown keys of the plan file's top level (beside "plan"), written back on save.
    file_extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    # -- lookup ---------------------------------------------------------------------------
    def annotation(self, annotation_id: str) -> Annotation:
        return _lookups(self).by_id[annotation_id]

    def find(self, annotation_id: str) -> Annotation | None:
        try:
            return self.annotation(annotation_id)
        except KeyError:
            return None

    def image(self, image_id: str) -> ImagePlan:
        for im in self.images:
            if im.id == image_id:
                return im
        raise KeyError(image_id)

    def targets(self) -> tuple[Target, ...]:
        return tuple(a for a in self.annotations if isinstance(a, Target))

    def on_image(self, image_id: str, frame: int | None = None) -> tuple[Annotation, ...]:
        """Annotations of an image; with a frame, those shown on that frame."""
        return tuple(
            a
            for a in self.annotations
            if a.image_id == image_id and (frame is None or a.frame is None or a.frame == frame)
        )

    def paths_to(self, target_id: str) -> tuple[NeedlePath, ...]:
        return _lookups(self).paths_to(target_id)

    def path_end(self, path: NeedlePath) -> Point | None:
        target = self.find(path.target_id)
        return target.position if isinstance(target, Target) else None

    def annotated_frames(self, image_id: str) -> frozenset[int]:
        return frozenset(
            a.frame for a in self.annotations if a.image_id == image_id and a.frame is not None
        )

    # -- building new values --------------------------------------------------------------
    def with_annotations(self, annotations: Iterable[Annotation]) -> Plan:
        return replace(self, annotations=tuple(annotations))

    def with_images(self, images: Iterable[ImagePlan]) -> Plan:
        return replace(self, images=tuple(images))


class _Lookups:
    """A plan's annotations by id, and its needle paths by target, made once per plan object."""

    def __init__(self, plan: Plan) -> None:
        self.by_id: dict[str, Annotation] = {}
        for a in plan.annotations:
            self.by_id.setdefault(a.id, a)  # the first of a duplicated id, as a scan finds
        self._plan = plan
        self._paths: dict[str, tuple[NeedlePath, ...]] | None = None

    def paths_to(self, target_id: str) -> tuple[NeedlePath, ...]:
        if self._paths is None:
            paths: dict[str, list[NeedlePath]] = {}
            for a in self._plan.annotations:
                if isinstance(a, NeedlePath):
                    paths.setdefault(a.target_id, []).append(a)
            self._paths = {k: tuple(v) for k, v in paths.items()}
        return self._paths.get(target_id, ())


#: The lookups of the plans looked up last (every view looks annotations up by id on each edit,
#: and a scan each made an edit O(n^2) for a plan of n). Keyed by the plan object, which is
#: immutable; a few plans (the current one, a preview, the undo neighbours) suffice.
_LOOKUPS: OrderedDict[int, tuple[Plan, _Lookups]] = OrderedDict()
_LOOKUPS_KEPT = 8
_lookups_lock = threading.Lock()


def _lookups(plan: Plan) -> _Lookups:
    with _lookups_lock:
        found = _LOOKUPS.get(id(plan))
        if found is not None and found[0] is plan:
            _LOOKUPS.move_to_end(id(plan))
            return found[1]
    made = _Lookups(plan)
    with _lookups_lock:
        _LOOKUPS[id(plan)] = (plan, made)
        while len(_LOOKUPS) > _LOOKUPS_KEPT:
            _LOOKUPS.popitem(last=False)
    return made
