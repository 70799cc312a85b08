"""The demo patient: a fictitious course of three lumbar sessions on the bundled sample images.

A new user opens the app on a living example: DEMO^Alex (ID DEMO-0001), the patient the lumbar
sample images name (tests/synthetic/scanner.py makes them for this patient), three sessions three
weeks apart with targets from the lumbar catalog, needle paths, the spinal canal as a zone to
avoid, and pain scores that improve; the first two signed, the third a draft for today.
Positions are in the sample images' pixels, placed from the geometry the images were made
with (tests/synthetic/scanner.py; tests/core/test_store_demo.py checks they still agree).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, replace
from pathlib import Path

from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    Anaesthetic,
    Annotation,
    Approach,
    AvoidKind,
    AvoidZone,
    Caliper,
    Complication,
    Consent,
    ImagePlan,
    Injectate,
    ManualCalibration,
    NeedlePath,
    Plan,
    ProbeOrientation,
    ProbeSetting,
    ProcedureRecord,
    Side,
    SiteStatus,
    SkinPrep,
    Target,
    TargetKind,
    TextNote,
    ZoneShape,
)
from prolo_planner.core.procedure import start_record
from prolo_planner.resources import sample_images_dir
from prolo_planner.store.records import Admitted, Patient, Session, StoredImage, StoreError
from prolo_planner.store.repository import Repository

DEMO_MRN = "DEMO-0001"
DEMO_NAME = "DEMO^Alex"
DEMO_BIRTH_DATE = "1971-05-20"
DEMO_SEX = "O"
DEMO_WEIGHT_KG = 72.0
DEMO_CLINICIAN = "Dr Demo (fictitious)"
#: Who signs the demo's sessions in the audit log: not the user who ran `prolo-planner demo`.
DEMO_SIGNER = "demo (fictitious clinician)"
REGION = "lumbar_spine"

LONG_AXIS_FILE = "lumbar_long_axis_rgb.dcm"
DUAL_VIEW_FILE = "lumbar_dual_view_ybr422_jpeg.dcm"
CLIP_FILE = "lumbar_long_axis_clip.mp4"


@dataclass(frozen=True, slots=True)
class ViewGeometry:
    """Where depth 0 of a view lies (column, row) and its millimetres per pixel."""

    skin_x: float
    skin_y: float
    mm_per_px: float

    def at(self, x_mm: float, depth_mm: float) -> Point:
        """The point x_mm beside the probe's centre line, depth_mm below the skin."""
        return Point(self.skin_x + x_mm / self.mm_per_px, self.skin_y + depth_mm / self.mm_per_px)


#: Lumbar long axis (the .dcm and the .mp4 clip): spinous tips of L3, L4, L5 at -29, 0, +29 mm.
LONG_AXIS = ViewGeometry(342, 82, 0.15883620248712954)
#: The transverse (right) half of the dual view, over the L4 spinous process.
TRANSVERSE = ViewGeometry(576, 70, 0.1282583486764365)
#: Depth-scale ticks of the clip (column, rows of 0 and 40 mm), for its manual calibration.
CLIP_TICKS = (600.0, 82.5, 333.5, 40.0)
#: The sample's convex probe (C5-1): face radius, and how far its face's ends lie above the
#: centre of the face: 50 mm (1 - cos 21.16 deg), the sector the long-axis view was made with.
PROBE_RADIUS_MM = 50.0
FACE_END_RISE_MM = 3.37
#: In-plane approach: the needle enters the skin beside the probe's end, level with the face's
#: end, and runs at 45 degrees to the target (shallow enough to see, well under the clinic's
#: steepness limit once the convex beam's own tilt is counted).
APPROACH_DEG = 45.0


@dataclass(frozen=True, slots=True)
class DemoResult:
    patient: Patient
    sessions: tuple[Session, ...]
    created: bool  # False: the demo patient was already there and nothing changed


@dataclass(frozen=True, slots=True)
class _Site:
    name: str
    x_mm: float
    depth_mm: float
    volume_ml: float
    needle_gauge: int = 25
    needle_length_mm: float = 50.0
    kind: TargetKind = TargetKind.LIGAMENT

    @property
    def entry(self) -> tuple[float, float]:
        """The in-plane skin entry (x mm, depth mm): beside the nearer end of the probe, level
        with the face's end, APPROACH_DEG from the target; the deeper sites' entries lie
        beyond the image's side, as at the bedside."""
        drop = self.depth_mm + FACE_END_RISE_MM
        across = drop / math.tan(math.radians(APPROACH_DEG))
        return (self.x_mm + math.copysign(across, self.x_mm), -FACE_END_RISE_MM)


_SUPRASPINOUS_L4_L5 = _Site("L4-L5 supraspinous ligament", 14.5, 19.0, 1.0)
_SUPRASPINOUS_L3_L4 = _Site("L3-L4 supraspinous ligament", -14.5, 19.0, 1.0)
_INTERSPINOUS_L3_L4 = _Site("L3-L4 interspinous ligament", -14.5, 30.0, 1.5, 22, 63.0)
_INTERSPINOUS_L4_L5 = _Site("L4-L5 interspinous ligament", 14.5, 30.0, 1.5, 22, 63.0)
_FIRST_SITES = (_SUPRASPINOUS_L4_L5, _INTERSPINOUS_L3_L4, _INTERSPINOUS_L4_L5)
_ALL_SITES = (_SUPRASPINOUS_L3_L4, _SUPRASPINOUS_L4_L5, _INTERSPINOUS_L3_L4, _INTERSPINOUS_L4_L5)


def fill_demo(
    repo: Repository, *, today: _dt.date | None = None, samples: Path | None = None
) -> DemoResult:
    """Add the demo patient and sessions; a no-op if the demo patient is already there."""
    existing = repo.patient_by_mrn(DEMO_MRN)
    if existing is not None:
        rows = repo.sessions_of(existing.id)
        return DemoResult(existing, tuple(r.session for r in reversed(rows)), created=False)
    samples = samples or sample_images_dir()
    today = today or _dt.date.today()
    # Images first: a missing sample file stops the demo before anything else is written.
    files = {
        name: repo.import_image(samples / name, who=DEMO_SIGNER)
        for name in (LONG_AXIS_FILE, DUAL_VIEW_FILE, CLIP_FILE)
    }
    sample_names = {stored.sha256: name for name, stored in files.items()}
    patient = repo.create_patient(
        DEMO_MRN, DEMO_NAME, DEMO_BIRTH_DATE, DEMO_SEX, DEMO_WEIGHT_KG, who=DEMO_SIGNER
    )
    made = []
    courses = (
        (42, 7, 4, SiteStatus.INJECTED, "First session: chronic low back pain over L3-L5."),
        (21, 5, 3, SiteStatus.INJECTED, "Second session: less pain on flexion."),
        (0, 3, None, SiteStatus.PLANNED, "Third session, planned on the scanner's clip."),
    )
    for number, (days_ago, before, after, status, note) in enumerate(courses, start=1):
        when = _dt.datetime.combine(today - _dt.timedelta(days=days_ago), _dt.time(9, 30))
        session = repo.create_session(
            patient.id,
            started_at=when,
            region=REGION,
            side=Side.MIDLINE,
            clinician=DEMO_CLINICIAN,
            pain_before=before,
            pain_after=after,
            notes=note,
            who=DEMO_SIGNER,
        )
        plan = _plan(repo, number, status, files)
        # In through the session's door like any image: the DICOM samples name the demo
        # patient; the clip names nobody, and the demo clinician says it is theirs.
        for image in plan.images:
            name = sample_names[image.ref.sha256]
            admitted = repo.admit(samples / name, session.id, origin="demo", who=DEMO_SIGNER)
            if admitted.state is Admitted.UNIDENTIFIED:
                admitted = repo.confirm_unidentified(
                    session.id, admitted.image.sha256, True, origin="demo", who=DEMO_SIGNER
                )
            if not admitted.attached:
                raise StoreError(
                    f"demo: {name} does not belong to the demo patient: "
                    + "; ".join(admitted.reasons)
                )
        if number < 3:  # what was done in the sessions already held
            plan = replace(plan, procedure=_record(plan, number, when))
        repo.save_plan(session.id, plan, who=DEMO_SIGNER)
        if number < 3:
            session = repo.sign(session.id, who=DEMO_SIGNER)
        made.append(session)
    return DemoResult(patient, tuple(made), created=True)


#: The demo's lot of dextrose, as a clinic would write it from the vial.
DEMO_LOT = "DX15-2603"


def _record(plan: Plan, number: int, when: _dt.datetime) -> ProcedureRecord:
    """The procedure record of a past demo session: the first as planned, the second with more
    at one site than planned and a brief vasovagal episode."""
    record = start_record(
        plan, clinician=DEMO_CLINICIAN, performed_at=(when + _dt.timedelta(minutes=10)).isoformat()
    )
    sites = []
    for n, site in enumerate(record.sites):
        site = replace(site, lot_number=DEMO_LOT, tip_seen=True)
        if number == 2 and n == 2:
            site = replace(site, given=replace(site.given, volume_ml=site.given.volume_ml + 0.5))
        sites.append(site)
    return replace(
        record,
        indication="Chronic low back pain over L3-L5 with tender supraspinous and interspinous "
        "ligaments; prolotherapy course.",
        consent=Consent.WRITTEN,
        time_out=True,
        skin_prep=SkinPrep.CHLORHEXIDINE,
        sites=tuple(sites),
        complications=(Complication.VASOVAGAL,) if number == 2 else (),
    )


def _plan(repo: Repository, number: int, status: SiteStatus, files: dict[str, StoredImage]) -> Plan:
    title = f"Lumbar prolotherapy, session {number}"
    if number == 3:
        clip = files[CLIP_FILE]
        column, row0, row40, mm = CLIP_TICKS
        # The clip has no regions: the clinician calibrates on its depth scale, clicks its 0 tick
        # for depth zero (else the banner would count) and gives the C5-1's face radius.
        image = _image(
            repo,
            clip,
            manual=ManualCalibration(Point(column, row0), Point(column, row40), mm),
            probe=ProbeSetting(radius_mm=PROBE_RADIUS_MM, zero_y=row0),
        )
        annotations = _long_axis(image, _ALL_SITES, status, dextrose=12.5)
        return Plan((image,), annotations, DEMO_WEIGHT_KG, title)
    image = _image(repo, files[LONG_AXIS_FILE])
    if number == 1:
        return Plan((image,), _long_axis(image, _FIRST_SITES, status), DEMO_WEIGHT_KG, title)
    transverse = _image(repo, files[DUAL_VIEW_FILE], orientation=ProbeOrientation.SHORT_AXIS)
    measures: tuple[Annotation, ...] = (
        Caliper(
            transverse.id,
            TRANSVERSE.at(0, 1.0),
            TRANSVERSE.at(0, 15.0),
            label="skin to supraspinous ligament",
        ),
        TextNote(
            transverse.id, TRANSVERSE.at(0, 17.5), TRANSVERSE.at(-14.0, 8.0), "L4 spinous process"
        ),
    )
    annotations = _long_axis(image, _ALL_SITES, status) + measures
    return Plan((image, transverse), annotations, DEMO_WEIGHT_KG, title)


def _image(
    repo: Repository,
    stored: StoredImage,
    *,
    orientation: ProbeOrientation = ProbeOrientation.LONG_AXIS,
    manual: ManualCalibration | None = None,
    skin_line: tuple[Point, Point] | None = None,
    probe: ProbeSetting | None = None,
) -> ImagePlan:
    return ImagePlan(
        ref=repo.image_ref(stored),
        region=REGION,
        side=Side.MIDLINE,
        probe_orientation=orientation,
        body_marker="lumbar midline, cranial to the left",
        key_frames=(0,),
        manual_calibration=manual,
        skin_line=skin_line,
        probe=probe,
    )


def _long_axis(
    image: ImagePlan, sites: tuple[_Site, ...], status: SiteStatus, dextrose: float = 15.0
) -> tuple[Annotation, ...]:
    out: list[Annotation] = []
    for site in sites:
        injectate = Injectate(dextrose, Anaesthetic.LIDOCAINE, 0.2, site.volume_ml)
        target = Target(
            image.id,
            LONG_AXIS.at(site.x_mm, site.depth_mm),
            kind=site.kind,
            name=site.name,
            side=Side.MIDLINE,
            status=status,
            injectate=injectate,
        )
        out.append(target)
        out.append(
            NeedlePath(
                image.id,
                LONG_AXIS.at(*site.entry),
                target.id,
                approach=Approach.IN_PLANE,
                needle_gauge=site.needle_gauge,
                needle_length_mm=site.needle_length_mm,
            )
        )
    canal = [LONG_AXIS.at(x, d) for x, d in ((-22, 46.5), (22, 46.5), (22, 56.5), (-22, 56.5))]
    out.append(
        AvoidZone(
            image.id,
            ZoneShape.POLYGON,
            tuple(canal),
            kind=AvoidKind.SPINAL_CANAL,
            name="spinal canal and dura (interlaminar window)",
            margin_mm=5.0,
        )
    )
    return tuple(out)
