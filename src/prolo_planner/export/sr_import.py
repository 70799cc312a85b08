"""Reading a measurement report made by Prolo Planner back into a plan, for review elsewhere.

Another workstation retrieves the SR from the PACS and gets the plan it carries: targets, needle
paths, avoid zones, calipers, angles and notes with their positions, frames, kinds, names and
injectates, and the skin lines. The images are known by SOP Instance UID only (ImageRef without
a path), to be found again in the store; each ImagePlan id is derived from that UID, so reading
the same report twice gives the same plan. Positions come back to 1e-4 px: SCOORDs are 32-bit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.uid import UID

from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    AngleMeasurement,
    Annotation,
    AnnotationKind,
    Approach,
    AvoidKind,
    AvoidZone,
    Caliper,
    ImagePlan,
    ImageRef,
    Injectate,
    NeedlePath,
    Plan,
    Side,
    SiteStatus,
    Target,
    TargetKind,
    TextNote,
    ZoneShape,
)
from prolo_planner.export import sr_codes as C

_SR_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
        "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
        "1.2.840.10008.5.1.4.1.1.88.34",  # Comprehensive 3D SR
    }
)
_TRACKING_ID = ("112039", "DCM")
_TRACKING_UID = ("112040", "DCM")
_FINDING = ("121071", "DCM")
_FINDING_CATEGORY = ("276214006", "SCT")
_IMAGE_REGION = ("111030", "DCM")
_SOURCE_OF_MEASUREMENT = ("121112", "DCM")
_PROCEDURE_REPORTED = ("121058", "DCM")
_IMAGING_MEASUREMENTS = ("126010", "DCM")
_MEASUREMENT_GROUP = ("125007", "DCM")
_POSITION_DECIMALS = 4

_CATEGORIES = C.reverse(C.CATEGORY)
_TARGET_KINDS = C.reverse(C.TARGET_KIND)
_AVOID_KINDS = C.reverse(C.AVOID_KIND)
_SIDES = C.reverse(C.SIDE)
_STATUSES = C.reverse(C.STATUS)
_APPROACHES = C.reverse(C.APPROACHES)
_ANAESTHETICS = C.reverse(C.ANAESTHETICS)
_QUANTITIES = {C.key(q.concept): q for q in C.Quantity}


class ReportReadError(Exception):
    """The file is not a measurement report this version of Prolo Planner can read."""


@dataclass(frozen=True, slots=True)
class ReadReport:
    """The plan a report carries, and the values it reported (what its reader saw)."""

    plan: Plan
    #: Per annotation id: the numbers the report holds for it, by quantity.
    values: Mapping[str, Mapping[C.Quantity, float]] = field(default_factory=dict)
    #: Per (needle path id, avoid zone id): the clearance in mm the report holds.
    clearances: Mapping[tuple[str, str], float] = field(default_factory=dict)


@dataclass(slots=True)
class _Group:
    """One measurement group's content items, by what they are."""

    tracking_id: str = ""
    tracking_uid: str = ""
    category: Any = None
    finding: tuple[str, str] | None = None
    numbers: dict[C.Quantity, float] = field(default_factory=dict)
    clearances: dict[str, float] = field(default_factory=dict)  # by zone tracking UID
    coded: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    texts: dict[tuple[str, str], str] = field(default_factory=dict)
    uids: dict[tuple[str, str], str] = field(default_factory=dict)
    graphic_type: str = ""
    points: list[Point] = field(default_factory=list)
    sop_instance_uid: str = ""
    frame: int | None = None


def read_report(source: Dataset | Path | str) -> ReadReport:
    """The plan in a Prolo Planner measurement report (a dataset or a file). Raises
    ReportReadError with a reason a clinician can read."""
    ds = _dataset(source)
    try:
        groups = [_read_group(g) for g in _measurement_groups(ds)]
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
        # A content item without the attributes its value type needs.
        raise ReportReadError(f"damaged report content ({exc})") from None
    ids_by_uid = {g.tracking_uid: g.tracking_id for g in groups if g.tracking_uid}
    images: dict[str, ImagePlan] = {}
    annotations: list[Annotation] = []
    values: dict[str, Mapping[C.Quantity, float]] = {}
    clearances: dict[tuple[str, str], float] = {}
    for n, g in enumerate(groups, start=1):
        if not g.sop_instance_uid:
            raise ReportReadError(f"measurement group {n}: refers to no image")
        image = images.setdefault(g.sop_instance_uid, _image_plan(g.sop_instance_uid))
        if g.category == "skin line":
            if len(g.points) == 2:
                images[g.sop_instance_uid] = _with_skin(image, g.points)
            continue
        annotation = _annotation(g, image.id, ids_by_uid, n)
        annotations.append(annotation)
        values[annotation.id] = MappingProxyType(dict(g.numbers))
        for zone_uid, mm in g.clearances.items():
            clearances[(annotation.id, ids_by_uid.get(zone_uid, _id_of_uid(zone_uid)))] = mm
    # The plan's id comes from the report's: reading one report twice gives one plan.
    plan_id = uuid.uuid5(uuid.NAMESPACE_OID, str(ds.get("SOPInstanceUID", ""))).hex
    plan = Plan(images=tuple(images.values()), annotations=tuple(annotations), id=plan_id)
    return ReadReport(plan, MappingProxyType(values), MappingProxyType(clearances))


def read_plan(source: Dataset | Path | str) -> Plan:
    return read_report(source).plan


# -- the document -------------------------------------------------------------------------------
def _dataset(source: Dataset | Path | str) -> Dataset:
    if isinstance(source, Dataset):
        return source
    path = Path(source)
    try:
        return pydicom.dcmread(path)
    except (InvalidDicomError, OSError, ValueError) as exc:
        raise ReportReadError(f"{path.name}: cannot be read as DICOM ({exc})") from None


def _measurement_groups(ds: Dataset) -> list[Dataset]:
    sop_class = str(ds.get("SOPClassUID", ""))
    if sop_class not in _SR_CLASSES:
        name = UID(sop_class).name if sop_class else "no SOP class"
        raise ReportReadError(f"not a structured report with measurements ({name})")
    root = ds.get("ContentSequence") or []
    procedures = {
        _code(i.ConceptCodeSequence[0]) for i in root if _concept(i) == _PROCEDURE_REPORTED
    }
    if C.key(C.PROCEDURE) not in procedures:
        raise ReportReadError("not a plan report made by Prolo Planner")
    containers = [i for i in root if _concept(i) == _IMAGING_MEASUREMENTS]
    if not containers:
        return []
    return [
        i for i in containers[0].get("ContentSequence", []) if _concept(i) == _MEASUREMENT_GROUP
    ]


def _read_group(item: Dataset) -> _Group:
    g = _Group()
    for child in item.get("ContentSequence", []):
        concept, kind = _concept(child), child.ValueType
        if concept == _TRACKING_ID:
            g.tracking_id = str(child.TextValue)
        elif concept == _TRACKING_UID:
            g.tracking_uid = str(child.UID)
        elif concept == _FINDING_CATEGORY:
            g.category = _CATEGORIES.get(_code(child.ConceptCodeSequence[0]))
        elif concept == _FINDING:
            g.finding = _code(child.ConceptCodeSequence[0])
        elif kind == "NUM" and child.get("MeasuredValueSequence"):
            _read_number(g, concept, child)
        elif kind == "CODE":
            g.coded[concept] = _code(child.ConceptCodeSequence[0])
        elif kind == "TEXT":
            g.texts[concept] = str(child.TextValue)
        elif kind == "UIDREF":
            g.uids[concept] = str(child.UID)
        elif kind == "SCOORD" and concept == _IMAGE_REGION:
            g.graphic_type = str(child.GraphicType)
            data = [round(float(v), _POSITION_DECIMALS) for v in child.GraphicData]
            g.points = [Point(data[i], data[i + 1]) for i in range(0, len(data) - 1, 2)]
            for ref in child.get("ContentSequence", []):
                _read_image(g, ref)
        elif kind == "IMAGE" and concept == _SOURCE_OF_MEASUREMENT:
            _read_image(g, child)
    return g


def _read_number(g: _Group, concept: tuple[str, str], item: Dataset) -> None:
    quantity = _QUANTITIES.get(concept)
    if quantity is None:
        return
    value = float(item.MeasuredValueSequence[0].NumericValue)
    if quantity is C.Quantity.CLEARANCE:
        about = [c for c in item.get("ContentSequence", []) if _concept(c) == _TRACKING_UID]
        if about:
            g.clearances[str(about[0].UID)] = value
        return
    g.numbers[quantity] = value


def _read_image(g: _Group, item: Dataset) -> None:
    refs = item.get("ReferencedSOPSequence") or []
    if not refs:
        return
    g.sop_instance_uid = str(refs[0].ReferencedSOPInstanceUID)
    frames = refs[0].get("ReferencedFrameNumber")
    if frames is not None and frames != "":
        numbers = list(frames) if isinstance(frames, MultiValue | list) else [frames]
        g.frame = int(numbers[0]) - 1  # DICOM counts frames from 1


# -- building plan values -----------------------------------------------------------------------
def _annotation(g: _Group, image_id: str, ids_by_uid: dict[str, str], n: int) -> Annotation:
    where = f"measurement group {n} ({g.tracking_id or 'no tracking identifier'})"
    if not g.tracking_id:
        raise ReportReadError(f"{where}: has no tracking identifier")
    name = g.texts.get(C.key(C.NAME), "")
    pts, frame, ident = g.points, g.frame, g.tracking_id
    try:
        if g.category is AnnotationKind.TARGET:
            return Target(
                image_id,
                pts[0] if pts else None,
                frame=frame,
                kind=_choice(_TARGET_KINDS, g.finding, TargetKind.OTHER),
                name=name,
                side=_choice(_SIDES, g.coded.get(C.key(C.LATERALITY)), Side.UNSPECIFIED),
                status=_choice(_STATUSES, g.coded.get(C.key(C.SITE_STATUS)), SiteStatus.PLANNED),
                injectate=_injectate(g),
                note=g.texts.get(C.key(C.COMMENT), ""),
                id=ident,
            )
        if g.category is AnnotationKind.NEEDLE_PATH:
            target_uid = g.uids.get(C.key(C.TARGET_UID), "")
            defaults = NeedlePath(image_id, pts[0], "")
            return NeedlePath(
                image_id,
                pts[0],
                ids_by_uid.get(target_uid, _id_of_uid(target_uid)),
                frame=frame,
                approach=_choice(_APPROACHES, g.coded.get(C.key(C.APPROACH)), Approach.IN_PLANE),
                needle_gauge=round(g.numbers.get(C.Quantity.NEEDLE_GAUGE, defaults.needle_gauge)),
                needle_length_mm=g.numbers.get(C.Quantity.NEEDLE_LENGTH, defaults.needle_length_mm),
                id=ident,
            )
        if g.category is AnnotationKind.AVOID_ZONE:
            shape, points = _zone_outline(g)
            return AvoidZone(
                image_id,
                shape,
                points,
                frame=frame,
                kind=_choice(_AVOID_KINDS, g.finding, AvoidKind.OTHER),
                name=name,
                margin_mm=g.numbers.get(
                    C.Quantity.MARGIN, AvoidZone(image_id, shape, ()).margin_mm
                ),
                id=ident,
            )
        if g.category is AnnotationKind.CALIPER:
            return Caliper(image_id, pts[0], pts[1], frame=frame, label=name, id=ident)
        if g.category is AnnotationKind.ANGLE:
            return AngleMeasurement(
                image_id, pts[1], pts[0], pts[2], frame=frame, label=name, id=ident
            )
        if g.category is AnnotationKind.TEXT:
            text = g.texts.get(C.key(C.COMMENT), "")
            return TextNote(image_id, pts[1], pts[0], text, frame=frame, id=ident)
    except IndexError:
        raise ReportReadError(f"{where}: its outline has too few points") from None
    raise ReportReadError(f"{where}: not an annotation Prolo Planner knows")


def _injectate(g: _Group) -> Injectate:
    d = Injectate()
    return Injectate(
        dextrose_percent=g.numbers.get(C.Quantity.DEXTROSE, d.dextrose_percent),
        anaesthetic=_choice(_ANAESTHETICS, g.coded.get(C.key(C.ANAESTHETIC)), d.anaesthetic),
        anaesthetic_percent=g.numbers.get(C.Quantity.ANAESTHETIC_PERCENT, d.anaesthetic_percent),
        volume_ml=g.numbers.get(C.Quantity.VOLUME, d.volume_ml),
    )


def _zone_outline(g: _Group) -> tuple[ZoneShape, tuple[Point, ...]]:
    pts = g.points
    if g.graphic_type == "ELLIPSE":
        # The plan keeps an ellipse as its box: the axes' end points span it.
        xs, ys = [p.x for p in pts], [p.y for p in pts]
        return ZoneShape.ELLIPSE, (Point(min(xs), min(ys)), Point(max(xs), max(ys)))
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]  # the closing point repeats the first
    return ZoneShape.POLYGON, tuple(pts)


def _image_plan(sop_instance_uid: str) -> ImagePlan:
    image_id = uuid.uuid5(uuid.NAMESPACE_OID, sop_instance_uid).hex
    return ImagePlan(ImageRef(path="", sop_instance_uid=sop_instance_uid), id=image_id)


def _with_skin(image: ImagePlan, points: list[Point]) -> ImagePlan:
    return replace(image, skin_line=(points[0], points[1]))


def _choice(
    table: Mapping[tuple[str, str], object], code: tuple[str, str] | None, default: Any
) -> Any:
    return table.get(code, default) if code is not None else default


def _id_of_uid(uid: str) -> str:
    """An annotation id back from its tracking UID when the UID is a uuid in 2.25 form."""
    if uid.startswith("2.25."):
        try:
            return f"{int(uid[5:]):032x}"
        except ValueError:
            pass
    return uid


def _concept(item: Dataset) -> tuple[str, str]:
    seq = item.get("ConceptNameCodeSequence")
    return _code(seq[0]) if seq else ("", "")


def _code(item: Dataset) -> tuple[str, str]:
    value = item.get("CodeValue") or item.get("LongCodeValue") or item.get("URNCodeValue") or ""
    return str(value), str(item.get("CodingSchemeDesignator", ""))
