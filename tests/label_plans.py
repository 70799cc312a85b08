"""Generated plans for the label-placement tests: crowded, random, realistic in their names
and sizes, each with the scale bar and burned-in text an image would bring."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from prolo_planner.core.calibration import CalibratedRegion, Calibration, CalibrationSource
from prolo_planner.core.catalog import load_catalogs
from prolo_planner.core.geometry import Point
from prolo_planner.core.image_calibration import ImageFacts, calibration_in_force
from prolo_planner.core.label_placement import Box
from prolo_planner.core.plan import (
    AngleMeasurement,
    Annotation,
    AvoidKind,
    AvoidZone,
    Caliper,
    ImagePlan,
    ImageRef,
    NeedlePath,
    Plan,
    SiteStatus,
    Target,
    TextNote,
    ZoneShape,
)

SIZES = ((640, 480), (800, 600), (1024, 768), (480, 360))
NOTES = ("Hyperechoic enthesis", "L4 spinous process", "fluid?", "anisotropy: tilt probe")


@dataclass(frozen=True)
class GeneratedPlan:
    plan: Plan
    image: ImagePlan
    calibration: Calibration
    size: tuple[int, int]
    #: Image pixels per screen pixel the labels are drawn at (1/zoom, or an export's scale).
    k: float
    scale_bar: Box
    burned_in: tuple[Box, ...]


def _point(rng: random.Random, w: int, h: int, margin: float = 0.02) -> Point:
    return Point(
        rng.uniform(w * margin, w * (1 - margin)), rng.uniform(h * margin, h * (1 - margin))
    )


def generated_plan(seed: int, *, targets: tuple[int, int] = (1, 12)) -> GeneratedPlan:
    """One random plan on one image: `targets` (least, most) targets, most with a path."""
    rng = random.Random(seed)
    w, h = rng.choice(SIZES)
    k = rng.choice((0.6, 0.8, 1.0, 1.0, 1.25, 1.6))
    image = ImagePlan(ImageRef(f"generated-{seed}.dcm"), region="lumbar_spine")
    mm_per_px = 60.0 / h
    calibration = Calibration(
        CalibrationSource.ULTRASOUND_REGIONS,
        (CalibratedRegion(0, 0, w - 1, h - 1, mm_per_px, mm_per_px),),
    )
    catalog = load_catalogs().region("lumbar_spine")
    assert catalog is not None
    names = [t.name for t in catalog.targets] + ["", "x"]
    annotations: list[Annotation] = []
    for _ in range(rng.randint(*targets)):
        t = Target(
            image.id,
            _point(rng, w, h, 0.01),
            name=rng.choice(names),
            status=rng.choice(list(SiteStatus)),
        )
        annotations.append(t)
        if rng.random() < 0.8:
            entry = Point(rng.uniform(0, w), rng.uniform(0, h * 0.2))
            annotations.append(NeedlePath(image.id, entry, t.id))
    for _ in range(rng.randint(0, 3)):
        a, b = _point(rng, w, h), _point(rng, w, h)
        corner = Point(min(a.x, b.x), min(a.y, b.y))
        opposite = Point(max(a.x, b.x), max(a.y, b.y))
        shape = rng.choice((ZoneShape.ELLIPSE, ZoneShape.POLYGON))
        points = (
            (corner, opposite)
            if shape is ZoneShape.ELLIPSE
            else (corner, Point(opposite.x, corner.y), opposite)
        )
        annotations.append(
            AvoidZone(
                image.id,
                shape,
                points,
                kind=rng.choice(list(AvoidKind)),
                name=rng.choice(("spinal canal and dura (interlaminar window)", "L5 root", "")),
                margin_mm=rng.choice((0.0, 2.0, 5.0)),
            )
        )
    for _ in range(rng.randint(0, 3)):
        annotations.append(
            Caliper(image.id, _point(rng, w, h), _point(rng, w, h), label=rng.choice(("", "fat")))
        )
    for _ in range(rng.randint(0, 2)):
        v = _point(rng, w, h)
        angle = rng.uniform(0, 2 * math.pi)
        a = Point(v.x + 60 * math.cos(angle), v.y + 60 * math.sin(angle))
        b = Point(v.x + 60 * math.cos(angle + 1.0), v.y + 60 * math.sin(angle + 1.0))
        annotations.append(AngleMeasurement(image.id, v, a, b))
    for _ in range(rng.randint(0, 2)):
        at = _point(rng, w, h, 0.1)
        annotations.append(TextNote(image.id, _point(rng, w, h), at, rng.choice(NOTES)))
    rng.shuffle(annotations)
    # Targets before their paths (a plan's paths name targets it holds).
    annotations.sort(key=lambda a: not isinstance(a, Target))
    if rng.random() < 0.5:
        skin = (Point(0, h * 0.1), Point(w, h * 0.1))
        image = ImagePlan(image.ref, region=image.region, skin_line=skin, id=image.id)
    bar_w, bar_h = 120 * k, 32 * k
    scale_bar = (w - 14 * k - bar_w, h - 14 * k - bar_h, w - 14 * k, h - 14 * k)
    burned_in = (
        (4.0, 4.0, w * 0.45, 20.0),  # the patient banner
        (w - 150.0, 4.0, w - 4.0, 20.0),  # date and time
        (4.0, h * 0.2, 40.0, h * 0.5),  # the scanner's settings
    )
    plan = Plan((image,), tuple(annotations), patient_weight_kg=70.0)
    facts = ImageFacts(rows=h, columns=w, frame_count=1, calibration=calibration)
    in_force = calibration_in_force(facts, image)
    return GeneratedPlan(plan, image, in_force, (w, h), k, scale_bar, burned_in)
