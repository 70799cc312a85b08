"""Reading a measurement report made by Prolo Planner back into a plan, on another workstation.

A report carries the plan twice: its session record (export.plan_record: the whole plan
document, lossless) and the TID 1500 content other viewers read. The record is the plan; the
TID 1500 content is read with highdicom's SR API, for the values the report holds and as the
plan of a report without a record (one whose PACS dropped private elements, or made before
records existed), which knows only what TID 1500 can say: targets, needle paths, avoid zones,
calipers, angles and notes with their positions, frames, kinds, names and injectates, and the
skin lines. Its images are known by SOP Instance UID only (ImageRef without a path), each
ImagePlan id derived from that UID, so reading the same report twice gives the same plan.
Positions come back to 1e-4 px: SCOORDs are 32-bit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import highdicom as hd
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
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
from prolo_planner.export.plan_record import PlanRecord, RecordError, read_record
from prolo_planner.export.sr_procedure import ReadSite, read_procedure

_SR_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
        "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
        "1.2.840.10008.5.1.4.1.1.88.34",  # Comprehensive 3D SR
    }
)
_TRACKING_UID = ("112040", "DCM")
_IMAGE_REGION = ("111030", "DCM")
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
    #: The session record, when the report has one: then `plan` is the record's plan.
    record: PlanRecord | None = None


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
    #: Numbers of concepts that are no plan quantity: what was given (export.sr_procedure).
    other_numbers: dict[tuple[str, str], float] = field(default_factory=dict)
    graphic_type: str = ""
    points: list[Point] = field(default_factory=list)
    sop_instance_uid: str = ""
    frame: int | None = None


def read_report(source: Dataset | Path | str) -> ReadReport:
    """The plan in a Prolo Planner measurement report (a dataset or a file), with the values
    its TID 1500 content holds. Raises ReportReadError with a reason a clinician can read."""
    ds = _dataset(source)
    _check_sr(ds)
    try:
        record = read_record(ds)
    except RecordError as exc:
        raise ReportReadError(str(exc)) from None
    groups = [_read_group(g) for g in _measurement_groups(ds)]
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
    if record is not None:
        plan = record.plan
    else:
        # The plan's id comes from the report's: reading one report twice gives one plan.
        plan_id = uuid.uuid5(uuid.NAMESPACE_OID, str(ds.get("SOPInstanceUID", ""))).hex
        plan = Plan(images=tuple(images.values()), annotations=tuple(annotations), id=plan_id)
        sites = {
            g.tracking_id: ReadSite(g.other_numbers, g.coded, g.texts)
            for g in groups
            if g.category is AnnotationKind.TARGET
        }
        plan = read_procedure(ds, plan, sites)
    return ReadReport(plan, MappingProxyType(values), MappingProxyType(clearances), record)


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


def _check_sr(ds: Dataset) -> None:
    sop_class = str(ds.get("SOPClassUID", ""))
    if sop_class not in _SR_CLASSES:
        name = UID(sop_class).name if sop_class else "no SOP class"
        raise ReportReadError(f"not a structured report with measurements ({name})")


def is_ours(ds: Dataset) -> bool:
    """Whether an SR reports a Prolo Planner plan (its Procedure Reported says so)."""
    root = ds.get("ContentSequence") or []
    try:
        return C.key(C.PROCEDURE) in {
            _code(i.ConceptCodeSequence[0]) for i in root if _concept(i) == _PROCEDURE_REPORTED
        }
    except (AttributeError, IndexError, TypeError):
        return False


def _measurement_groups(ds: Dataset) -> list[Group]:
    """The report's measurement groups in their order, each read by highdicom's TID 1410 or
    TID 1501 template."""
    if not is_ours(ds):
        raise ReportReadError("not a plan report made by Prolo Planner")
    try:
        report = hd.sr.MeasurementReport.from_sequence([ds], copy=False)
        containers = [i for i in report[0].ContentSequence if _concept(i) == _IMAGING_MEASUREMENTS]
        items = containers[0].get("ContentSequence", []) if containers else []
        return [_template(i) for i in items if _concept(i) == _MEASUREMENT_GROUP]
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
        # A content item without the attributes its value type needs.
        raise ReportReadError(f"damaged report content ({exc})") from None


Group = (
    hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations
    | hd.sr.MeasurementsAndQualitativeEvaluations
)


def _template(item: Dataset) -> Group:
    regions = [c for c in item.get("ContentSequence", []) if _concept(c) == _IMAGE_REGION]
    if regions:
        return hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations.from_sequence([item])
    return hd.sr.MeasurementsAndQualitativeEvaluations.from_sequence([item])


def _read_group(group: Group) -> _Group:
    g = _Group()
    try:
        g.tracking_id = str(group.tracking_identifier or "")
        g.tracking_uid = str(group.tracking_uid or "")
        if group.finding_category is not None:
            g.category = _CATEGORIES.get(C.key(group.finding_category))
        if group.finding_type is not None:
            g.finding = C.key(group.finding_type)
        for m in group.get_measurements():
            _read_number(g, m)
        for q in group.get_qualitative_evaluations():
            g.coded[C.key(q.name)] = _code(q[0].ConceptCodeSequence[0])
        for child in group[0].ContentSequence:
            if child.ValueType == "TEXT":
                g.texts[C.key(child.name)] = str(child.value)
            elif child.ValueType == "UIDREF":
                g.uids[C.key(child.name)] = str(child.value)
        roi = getattr(group, "roi", None)
        if isinstance(group, hd.sr.MeasurementsAndQualitativeEvaluations):
            for ref in group.source_images:
                _read_image(g, ref)
        elif roi is not None:
            g.graphic_type = str(roi.graphic_type.value)
            data = [round(float(v), _POSITION_DECIMALS) for v in roi.GraphicData]
            g.points = [Point(data[i], data[i + 1]) for i in range(0, len(data) - 1, 2)]
            for ref in roi.ContentSequence:
                _read_image(g, ref)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
        raise ReportReadError(f"damaged report content ({exc})") from None
    return g


def _read_number(g: _Group, m: hd.sr.Measurement) -> None:
    quantity = _QUANTITIES.get(C.key(m.name))
    if m.value is None:
        return
    if quantity is None:
        g.other_numbers[C.key(m.name)] = float(m.value)
        return
    value = float(m.value)
    if quantity is C.Quantity.CLEARANCE:
        about = [c for c in m[0].get("ContentSequence", []) if _concept(c) == _TRACKING_UID]
        if about:
            g.clearances[str(about[0].UID)] = value
        return
    g.numbers[quantity] = value


def _read_image(g: _Group, item: Any) -> None:
    uid = getattr(item, "referenced_sop_instance_uid", None)
    if not uid:
        return
    g.sop_instance_uid = str(uid)
    frames = getattr(item, "referenced_frame_numbers", None)
    if frames:
        g.frame = int(frames[0]) - 1  # DICOM counts frames from 1


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
