"""The plan as a DICOM Comprehensive SR: a TID 1500 Measurement Report, a group per annotation.

Each target, needle path, avoid zone, caliper, angle and text note is a Planar ROI group (TID
1410): its tracking identifier is the annotation's id (and its tracking UID the same id as a
2.25 UID), its outline is an SCOORD on the source image and frame (POINT for a target, POLYLINE
for a path, caliper, angle or note, a closed POLYLINE or an ELLIPSE for an avoid zone), its
values are measurements in mm and degrees (UCUM), and its kinds are codes (sr_codes). A value
without millimetres (uncalibrated image) is left out rather than reported in pixels. Everything
a plan needs to be rebuilt is in standard content items, so sr_import reads it back. The
procedure record (what was done) goes into the report's Qualitative Evaluations and each
target's group (export.sr_procedure).

Open POLYLINE regions for lines and angles follow the planar-annotation SR conventions viewers
read (D. Clunie's "DICOM SR for communicating planar annotations", used by dcmjs/OHIF and dwv):
2 points a length, 3 points an angle, first point repeated a closed outline.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence

import highdicom as hd
import numpy as np
from highdicom.sr import CodedConcept
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from prolo_planner.core.geometry import Point
from prolo_planner.core.measure import Measurement, PlanMeasurements, Units
from prolo_planner.core.plan import (
    AngleMeasurement,
    Annotation,
    AnnotationKind,
    AvoidZone,
    Caliper,
    ImagePlan,
    NeedlePath,
    Plan,
    Side,
    Target,
    TextNote,
    ZoneShape,
)
from prolo_planner.export import sr_codes as C
from prolo_planner.export.dicom_writing import (
    CHARACTER_SET,
    MANUFACTURER,
    MODEL_NAME,
    NewSeries,
    SourceImage,
    as_reference,
    derived_uid,
    device_serial_number,
    ellipse_axes,
    new_uid,
    now,
    set_equipment,
    tracking_uid,
)
from prolo_planner.export.errors import ExportError
from prolo_planner.export.sr_procedure import SiteItems, procedure_items, site_items

SERIES_DESCRIPTION = "Prolo Planner plan"
Group = (
    hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations
    | hd.sr.MeasurementsAndQualitativeEvaluations
)


def measurement_report(
    plan: Plan,
    measurements: PlanMeasurements,
    images: Mapping[str, Dataset],
    *,
    series: NewSeries | None = None,
    observer: str = "",
    verified_by: str | None = None,
    organization: str = "",
    created: _dt.datetime | None = None,
    uid: str | None = None,
    predecessor: Dataset | None = None,
    anonymous_device: bool = False,
) -> Dataset:
    """The plan's TID 1500 Measurement Report as a Comprehensive SR.

    `images` maps each ImagePlan id to the header of the DICOM image its annotations lie on
    (the source, or the Secondary Capture made of a video or still); the report takes its
    patient and study from the first. `measurements` is core.measure.measure_plan's result
    with the calibrations in force. A report `verified_by` a clinician (the signed session)
    says so in its Verifying Observer; `observer` is the clinician who planned. `uid` is its SOP
    Instance UID (export.uids; default a new one); `predecessor` a Predecessor Documents Sequence
    item naming the SR this version replaces (export.uids.predecessor_reference).
    `anonymous_device` leaves out what names this workstation (for de-identified exports).
    """
    missing = sorted({a.image_id for a in plan.annotations} - set(images))
    if missing:
        raise ExportError(
            f"{len(missing)} image(s) of the plan have no DICOM instance to refer to: "
            "export a Secondary Capture of them first"
        )
    referenced = dict.fromkeys(
        [im.id for im in plan.images if im.skin_line is not None and im.id in images]
        + [a.image_id for a in plan.annotations]
    )
    used = [as_reference(images[i]) for i in referenced] or [
        as_reference(ds) for ds in images.values()
    ]
    if not used:
        raise ExportError("the plan has no image to report on")
    groups = _groups(plan, measurements, images)
    series = series or NewSeries(SERIES_DESCRIPTION)
    when = created or now()
    try:
        report = hd.sr.MeasurementReport(
            observation_context=_observation_context(observer, anonymous_device),
            procedure_reported=C.PROCEDURE,
            imaging_measurements=groups,
            referenced_images=used,
        )
        if plan.procedure is not None:
            # What was done, in TID 1500's Qualitative Evaluations (export.sr_procedure).
            report[0].ContentSequence.append(procedure_items(plan.procedure))
        sr = hd.sr.ComprehensiveSR(
            evidence=used,
            content=report[0],
            series_instance_uid=series.uid,
            series_number=series.number,
            sop_instance_uid=uid or new_uid(),
            instance_number=series.instance_number,
            manufacturer=MANUFACTURER,
            is_complete=True,
            is_final=verified_by is not None,
            is_verified=verified_by is not None,
            verifying_observer_name=verified_by,
            verifying_organization=(organization or "Unknown") if verified_by else None,
            series_description=series.description,
            coding_schemes=[
                hd.coding_schemes.CodingSchemeIdentificationItem(
                    C.SCHEME, name=C.SCHEME_NAME, responsible_organization=MANUFACTURER
                )
            ],
            content_date=when.date(),
            content_time=when.time(),
            specific_character_set=CHARACTER_SET,
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise ExportError(f"the measurement report cannot be made: {exc}") from None
    set_equipment(sr)
    if predecessor is not None:
        sr.PredecessorDocumentsSequence = [predecessor]
    return sr


# -- groups -------------------------------------------------------------------------------------
def _groups(plan: Plan, m: PlanMeasurements, images: Mapping[str, Dataset]) -> list[Group]:
    groups: list[Group] = []
    for image in plan.images:
        if image.skin_line is not None and image.id in images:
            groups.append(_skin_line(image, images[image.id]))
    for a in plan.annotations:
        source = SourceImage.of(images[a.image_id], () if a.frame is None else (a.frame,))
        try:
            groups.append(_group(plan, m, a, source))
        except (ValueError, TypeError) as exc:
            raise ExportError(f"{a.id}: cannot be written to the report ({exc})") from None
    return groups


def _group(plan: Plan, m: PlanMeasurements, a: Annotation, source: SourceImage) -> Group:
    if isinstance(a, Target):
        record = plan.procedure
        return _target(a, m, source, site_items(a, record.site(a.id) if record else None))
    if isinstance(a, NeedlePath):
        return _needle_path(plan, a, m, source)
    if isinstance(a, AvoidZone):
        return _avoid_zone(a, source)
    if isinstance(a, Caliper):
        values = [_num(C.Quantity.CALIPER, m.calipers.get(a.id))]
        return _roi(
            a.id,
            AnnotationKind.CALIPER,
            "POLYLINE",
            [a.a, a.b],
            source,
            None,
            values,
            texts=[(C.NAME, a.label)],
        )
    if isinstance(a, AngleMeasurement):
        values = [_num(C.Quantity.ANGLE, m.angles.get(a.id))]
        return _roi(
            a.id,
            AnnotationKind.ANGLE,
            "POLYLINE",
            [a.a, a.vertex, a.b],
            source,
            None,
            values,
            texts=[(C.NAME, a.label)],
        )
    if isinstance(a, TextNote):
        return _roi(
            a.id,
            AnnotationKind.TEXT,
            "POLYLINE",
            [a.text_at, a.arrow_to],
            source,
            None,
            [],
            texts=[(C.COMMENT, a.text)],
        )
    raise ExportError(f"{a.id}: unknown annotation kind {type(a).__name__}")


def _target(t: Target, m: PlanMeasurements, source: SourceImage, done: SiteItems) -> Group:
    values = [
        _num(C.Quantity.TARGET_DEPTH, m.target_depths.get(t.id)),
        _value(C.Quantity.VOLUME, t.injectate.volume_ml),
        _value(C.Quantity.DEXTROSE, t.injectate.dextrose_percent),
        _value(C.Quantity.ANAESTHETIC_PERCENT, t.injectate.anaesthetic_percent),
        *done.values,
    ]
    coded = [
        (C.SITE_STATUS, C.STATUS[t.status]),
        (C.ANAESTHETIC, C.ANAESTHETICS[t.injectate.anaesthetic]),
    ]
    if t.side is not Side.UNSPECIFIED:
        coded.append((C.LATERALITY, C.SIDE[t.side]))
    coded += done.coded
    texts = [(C.NAME, t.name), (C.COMMENT, t.note), *done.texts]
    if t.position is None:  # carried forward, not placed yet: no outline, but the image
        return _image_level(t.id, source, C.TARGET_KIND[t.kind], values, coded, texts)
    return _roi(
        t.id,
        AnnotationKind.TARGET,
        "POINT",
        [t.position],
        source,
        C.TARGET_KIND[t.kind],
        values,
        coded,
        texts,
    )


def _needle_path(plan: Plan, p: NeedlePath, m: PlanMeasurements, source: SourceImage) -> Group:
    geometry = m.path(p.id)
    values: list[hd.sr.Measurement | None] = [
        _value(C.Quantity.NEEDLE_GAUGE, float(p.needle_gauge)),
        _value(C.Quantity.NEEDLE_LENGTH, p.needle_length_mm),
    ]
    if geometry is not None:
        values += [
            _num(C.Quantity.PATH_LENGTH, geometry.length),
            _num(C.Quantity.NEEDLE_ANGLE, geometry.angle_deg),
        ]
        for zone in geometry.zone_distances:
            if zone.distance_mm is not None:
                # The clearance carries the zone's tracking UID: "this value is about that zone".
                values.append(
                    _value(
                        C.Quantity.CLEARANCE,
                        zone.distance_mm,
                        hd.sr.TrackingIdentifier(tracking_uid(zone.zone_id), zone.zone_id),
                    )
                )
    end = plan.path_end(p)
    target = plan.find(p.target_id)
    on_same_image = isinstance(target, Target) and target.image_id == p.image_id
    points = [p.entry, end] if end is not None and on_same_image else [p.entry]
    group = _roi(
        p.id,
        AnnotationKind.NEEDLE_PATH,
        "POLYLINE" if len(points) == 2 else "POINT",
        points,
        source,
        None,
        values,
        [(C.APPROACH, C.APPROACHES[p.approach])],
    )
    _content(group).append(
        hd.sr.UIDRefContentItem(
            C.TARGET_UID, tracking_uid(p.target_id), relationship_type="CONTAINS"
        )
    )
    return group


def _avoid_zone(z: AvoidZone, source: SourceImage) -> Group:
    values = [_value(C.Quantity.MARGIN, z.margin_mm)]
    if z.shape is ZoneShape.ELLIPSE and len(z.points) == 2:
        graphic, points = "ELLIPSE", ellipse_axes(z.points[0], z.points[1])
    else:
        graphic, points = "POLYLINE", (*z.points, z.points[0])  # closed: first point again
    return _roi(
        z.id,
        AnnotationKind.AVOID_ZONE,
        graphic,
        points,
        source,
        C.AVOID_KIND[z.kind],
        values,
        texts=[(C.NAME, z.name)],
    )


def _skin_line(image: ImagePlan, ds: Dataset) -> Group:
    assert image.skin_line is not None
    source = SourceImage.of(ds)
    return _roi(
        f"skin line {image.id}",
        "skin line",
        "POLYLINE",
        list(image.skin_line),
        source,
        None,
        [],
        uid=tracking_uid(image.id),
    )


# -- content items ------------------------------------------------------------------------------
def _roi(
    annotation_id: str,
    kind: AnnotationKind | str,
    graphic_type: str,
    points: Sequence[Point],
    source: SourceImage,
    finding: CodedConcept | None,
    values: Sequence[hd.sr.Measurement | None],
    coded: Sequence[tuple[CodedConcept, CodedConcept]] = (),
    texts: Sequence[tuple[CodedConcept, str]] = (),
    uid: str | None = None,
) -> Group:
    region = hd.sr.ImageRegion(
        graphic_type=graphic_type,
        graphic_data=np.array([[p.x, p.y] for p in points], dtype=np.float64),
        source_image=hd.sr.SourceImageForRegion(
            source.sop_class_uid, source.sop_instance_uid, source.frame_numbers()
        ),
    )
    group = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid or tracking_uid(annotation_id), annotation_id
        ),
        referenced_region=region,
        finding_type=finding,
        finding_category=C.CATEGORY[kind],
        measurements=[v for v in values if v is not None],
        qualitative_evaluations=[hd.sr.QualitativeEvaluation(n, v) for n, v in coded] or None,
    )
    _add_texts(group, texts)
    return group


def _image_level(
    annotation_id: str,
    source: SourceImage,
    finding: CodedConcept,
    values: Sequence[hd.sr.Measurement | None],
    coded: Sequence[tuple[CodedConcept, CodedConcept]],
    texts: Sequence[tuple[CodedConcept, str]],
) -> Group:
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(tracking_uid(annotation_id), annotation_id),
        finding_type=finding,
        finding_category=C.CATEGORY[AnnotationKind.TARGET],
        measurements=[v for v in values if v is not None],
        qualitative_evaluations=[hd.sr.QualitativeEvaluation(n, v) for n, v in coded] or None,
        source_images=[
            hd.sr.SourceImageForMeasurementGroup(
                source.sop_class_uid, source.sop_instance_uid, source.frame_numbers()
            )
        ],
    )
    _add_texts(group, texts)
    return group


def _add_texts(group: Group, texts: Sequence[tuple[CodedConcept, str]]) -> None:
    for name, text in texts:
        if text:
            _content(group).append(hd.sr.TextContentItem(name, text, relationship_type="CONTAINS"))


def _content(group: Group) -> list[Dataset]:
    return group[0].ContentSequence


def _num(quantity: C.Quantity, m: Measurement | None) -> hd.sr.Measurement | None:
    """A derived value in its unit; None when it has no millimetres (pixels are not reported)."""
    if m is None or m.units is Units.PX:
        return None
    return _value(quantity, m.value)


def _value(
    quantity: C.Quantity, value: float, tracking: hd.sr.TrackingIdentifier | None = None
) -> hd.sr.Measurement:
    return hd.sr.Measurement(
        name=quantity.concept,
        value=float(value),
        unit=quantity.unit,
        tracking_identifier=tracking,
    )


def _observation_context(observer: str, anonymous_device: bool) -> hd.sr.ObservationContext:
    # A de-identified report names the software, not the workstation (no serial number, and
    # a device UID that is the same on every machine).
    serial = None if anonymous_device else device_serial_number()
    device = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=derived_uid("prolo-planner device", serial or MODEL_NAME),
            name=MODEL_NAME,
            manufacturer_name=MANUFACTURER,
            model_name=MODEL_NAME,
            serial_number=serial,
        ),
    )
    person = None
    if observer:
        person = hd.sr.ObserverContext(
            observer_type=codes.DCM.Person,
            observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
                name=observer
            ),
        )
    return hd.sr.ObservationContext(observer_person_context=person, observer_device_context=device)
