"""A Softcopy Presentation State carrying one image's annotations without burning them in.

Grayscale PS for a MONOCHROME source, Colour PS for any colour one. Every annotation becomes
graphic objects in PIXEL units on the source image (and its frame, for a cine): targets as a
circle and a point, needle paths, calipers, angles and skin lines as polylines, avoid zones as
closed polylines or ellipses, labels and notes as text with a bounding box and an anchor. Each
kind has its layer with the screen's colour (avoid zones one layer per kind of structure, so an
artery stays red), and each object the annotation's id as its tracking identifier.
"""

from __future__ import annotations

import datetime as _dt
import pkgutil
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset

from prolo_planner.core.geometry import Point
from prolo_planner.core.measure import Measurement, PlanMeasurements, Units
from prolo_planner.core.overlay_primitives import Colour, OverlayStyle
from prolo_planner.core.plan import (
    AngleMeasurement,
    Annotation,
    AvoidKind,
    AvoidZone,
    Caliper,
    NeedlePath,
    Plan,
    Target,
    TextNote,
    ZoneShape,
)
from prolo_planner.export.dicom_writing import (
    CHARACTER_SET,
    MANUFACTURER,
    MODEL_NAME,
    SOFTWARE_VERSION,
    NewSeries,
    as_reference,
    device_serial_number,
    ellipse_axes,
    new_uid,
    now,
    tracking_uid,
)
from prolo_planner.export.errors import ExportError
from prolo_planner.export.patient_study import PatientStudy

SERIES_DESCRIPTION = "Prolo Planner annotations"
CONTENT_LABEL = "PROLO PLAN"
#: Text boxes are sized for the screen's 13 px labels: about 7 px a character, 16 px high.
_CHAR_PX, _LINE_PX = 7.0, 16.0
_TARGET_RADIUS = 7.0


@dataclass(frozen=True, slots=True)
class _Layer:
    name: str  # a DICOM CS: capitals, 16 characters at most
    order: int  # painted bottom (1) to top
    description: str
    colour: Colour


def _layers(style: OverlayStyle) -> dict[str, _Layer]:
    zones = {
        AvoidKind.ARTERY: "ARTERY",
        AvoidKind.VEIN: "VEIN",
        AvoidKind.NERVE: "NERVE",
        AvoidKind.SPINAL_CANAL: "CANAL",
        AvoidKind.PLEURA: "PLEURA",
        AvoidKind.BONE: "BONE",
        AvoidKind.OTHER: "OTHER",
    }
    layers = {
        f"zone {kind.value}": _Layer(
            f"AVOID {short}", n, f"Avoid zones: {kind.value}", style.zone[kind]
        )
        for n, (kind, short) in enumerate(zones.items(), start=1)
    }
    top = len(layers)
    for n, (key, name, what, colour) in enumerate(
        (
            ("skin line", "SKIN LINE", "Skin line", style.skin_line),
            ("caliper", "CALIPERS", "Calipers", style.measurement),
            ("angle", "ANGLES", "Angle measurements", style.measurement),
            ("text", "TEXT NOTES", "Text notes", style.measurement),
            ("needle path", "NEEDLE PATHS", "Planned needle paths", style.needle_path),
            ("target", "TARGETS", "Injection targets", style.target),
        ),
        start=top + 1,
    ):
        layers[key] = _Layer(name, n, what, colour)
    return layers


@dataclass(frozen=True, slots=True)
class _Label:
    text: str
    top_left: Point
    anchor: Point | None = None
    #: A visible anchor is drawn as a line from the text box to it: a note's arrow.
    anchor_visible: bool = False


@dataclass(frozen=True, slots=True)
class _Drawn:
    """One annotation as DICOM graphics: shapes (graphic type, points) and a label, in pixels."""

    layer: str
    frame: int | None
    annotation_id: str
    shapes: tuple[tuple[str, tuple[Point, ...]], ...]
    label: _Label | None = None
    uid: str = ""


def presentation_state(
    plan: Plan,
    image_id: str,
    source: Dataset,
    measurements: PlanMeasurements | None = None,
    *,
    series: NewSeries | None = None,
    style: OverlayStyle | None = None,
    created: _dt.datetime | None = None,
    uid: str | None = None,
    body: tuple[str, str] | None = None,
) -> Dataset:
    """A Grayscale or Colour Softcopy PS of one plan image's annotations on `source` (its header).

    With `measurements`, labels show the values the screen shows (depth, length, angle). `uid`
    is its SOP Instance UID (export.uids; default a new one), `body` its Body Part Examined and
    Laterality (default the source's). Raises ExportError, also for a source whose pixels no
    presentation state can lie on (palette colour: see no_presentation_state).
    """
    why_not = no_presentation_state(source)
    if why_not:
        raise ExportError(why_not)
    source = as_reference(source)
    try:
        image = plan.image(image_id)
    except KeyError:
        raise ExportError(f"image {image_id} is not in the plan") from None
    layers = _layers(style or OverlayStyle())
    clamp = _Clamp(int(source.Columns), int(source.Rows))
    multi_frame = int(source.get("NumberOfFrames") or 1) > 1

    drawn = [_drawn(plan, a, measurements) for a in plan.on_image(image_id)]
    if image.skin_line is not None:
        skin = (("POLYLINE", image.skin_line),)
        drawn.insert(
            0, _Drawn("skin line", None, f"skin line {image.id}", skin, uid=tracking_uid(image.id))
        )
    by_layer_and_frame: dict[tuple[str, int | None], tuple[list, list]] = defaultdict(
        lambda: ([], [])
    )
    for d in drawn:
        if d is None:
            continue
        graphics, texts = by_layer_and_frame[(d.layer, d.frame if multi_frame else None)]
        try:
            more_graphics, more_texts = _objects(d, clamp)
        except (ValueError, TypeError) as exc:
            raise ExportError(
                f"{d.annotation_id}: cannot be drawn in the presentation state ({exc})"
            ) from None
        graphics += more_graphics
        texts += more_texts

    keys = sorted(
        by_layer_and_frame, key=lambda k: (layers[k[0]].order, -1 if k[1] is None else k[1])
    )
    annotations = [
        hd.pr.GraphicAnnotation(
            referenced_images=[source],
            graphic_layer=_graphic_layer(layers[layer]),
            referenced_frame_number=None if frame is None else frame + 1,
            graphic_objects=by_layer_and_frame[(layer, frame)][0] or None,
            text_objects=by_layer_and_frame[(layer, frame)][1] or None,
        )
        for layer, frame in keys
    ]
    used = sorted({layer for layer, _ in keys}, key=lambda name: layers[name].order)
    photometric = str(source.get("PhotometricInterpretation", ""))
    kind = (
        hd.pr.GrayscaleSoftcopyPresentationState
        if photometric.startswith("MONOCHROME")
        else hd.pr.ColorSoftcopyPresentationState
    )
    extra: dict[str, Any] = {}
    if kind is hd.pr.ColorSoftcopyPresentationState:
        extra["icc_profile"] = _icc_profile(source)
    series = series or NewSeries(SERIES_DESCRIPTION)
    when = created or now()
    try:
        ps = kind(
            referenced_images=[source],
            series_instance_uid=series.uid,
            series_number=series.number,
            sop_instance_uid=uid or new_uid(),
            instance_number=series.instance_number,
            manufacturer=MANUFACTURER,
            manufacturer_model_name=MODEL_NAME,
            software_versions=SOFTWARE_VERSION,
            device_serial_number=device_serial_number(),
            content_label=CONTENT_LABEL,
            content_description=(plan.title or "Prolotherapy plan")[:64],
            graphic_annotations=annotations or None,
            graphic_layers=[_graphic_layer(layers[name]) for name in used] or None,
            specific_character_set=CHARACTER_SET,
            series_description=series.description,
            **extra,
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise ExportError(f"the presentation state cannot be made: {exc}") from None
    PatientStudy.from_dataset(source).with_body(body).apply_body_to(ps)
    ps.PresentationCreationDate = when.strftime("%Y%m%d")
    ps.PresentationCreationTime = when.strftime("%H%M%S")
    return ps


def no_presentation_state(source: Dataset) -> str:
    """Why no presentation state can lie on this image ("" when one can).

    The Grayscale Softcopy PS is for MONOCHROME images and the Colour Softcopy PS for images of
    three samples per pixel (RGB, YBR); a PALETTE COLOR image (one sample through a colour
    lookup table) is neither, so DICOM has no presentation state for it.
    """
    photometric = str(source.get("PhotometricInterpretation", "")).strip().upper()
    samples = int(source.get("SamplesPerPixel") or 1)
    if photometric.startswith("MONOCHROME") or samples == 3:
        return ""
    return (
        f"DICOM has no presentation state for {photometric or 'these'} images (a grayscale one "
        "needs MONOCHROME pixels, a colour one RGB or YBR); the Secondary Capture and the "
        "structured report carry the annotations"
    )


# -- one annotation -----------------------------------------------------------------------------
def _drawn(plan: Plan, a: Annotation, m: PlanMeasurements | None) -> _Drawn | None:
    """The annotation's shapes and label in image pixels; None when there is nothing to draw."""
    if isinstance(a, Target):
        if a.position is None:
            return None  # carried forward, not placed yet
        p, r = a.position, _TARGET_RADIUS
        text = _label(a.name, _value(m.target_depths.get(a.id) if m else None))
        shapes = (("CIRCLE", (p, Point(p.x + r, p.y))), ("POINT", (p,)))
        return _Drawn(
            "target",
            a.frame,
            a.id,
            shapes,
            _Label(text, Point(p.x + r + 3, p.y - _LINE_PX / 2), p) if text else None,
        )
    if isinstance(a, NeedlePath):
        end = plan.path_end(a)
        target = plan.find(a.target_id)
        if end is None or not isinstance(target, Target) or target.image_id != a.image_id:
            return None  # a path is drawn to its target: nothing to draw without it
        g = m.path(a.id) if m else None
        text = _label(_value(g.length if g else None), _value(g.angle_deg if g else None))
        return _Drawn(
            "needle path",
            a.frame,
            a.id,
            (("POLYLINE", (a.entry, end)),),
            _beside(text, _middle(a.entry, end)),
        )
    if isinstance(a, AvoidZone):
        if not a.points:
            return None
        if a.shape is ZoneShape.ELLIPSE and len(a.points) == 2:
            shape = ("ELLIPSE", ellipse_axes(a.points[0], a.points[1]))
        else:
            shape = ("POLYLINE", (*a.points, a.points[0]))  # closed
        return _Drawn(
            f"zone {a.kind.value}",
            a.frame,
            a.id,
            (shape,),
            _Label(a.name, a.points[0]) if a.name else None,
        )
    if isinstance(a, Caliper):
        text = _label(a.label, _value(m.calipers.get(a.id) if m else None))
        return _Drawn(
            "caliper", a.frame, a.id, (("POLYLINE", (a.a, a.b)),), _beside(text, _middle(a.a, a.b))
        )
    if isinstance(a, AngleMeasurement):
        text = _label(a.label, _value(m.angles.get(a.id) if m else None))
        return _Drawn(
            "angle", a.frame, a.id, (("POLYLINE", (a.a, a.vertex, a.b)),), _beside(text, a.vertex)
        )
    if isinstance(a, TextNote):
        # The anchor is the arrow's tip: a viewer draws the line from the text box to it.
        if not a.text.strip():  # its text left out (de-identified): the arrow alone
            return _Drawn("text", a.frame, a.id, (("POLYLINE", (a.text_at, a.arrow_to)),))
        return _Drawn("text", a.frame, a.id, (), _Label(a.text, a.text_at, a.arrow_to, True))
    return None


def _objects(d: _Drawn, clamp: _Clamp) -> tuple[list[hd.pr.GraphicObject], list[hd.pr.TextObject]]:
    """The DICOM graphic and text objects of one drawn annotation, tracked by its id."""
    uid = d.uid or tracking_uid(d.annotation_id)
    graphics = [
        hd.pr.GraphicObject(
            graphic_type,
            np.array([[p.x, p.y] for p in map(clamp, points)]),
            "PIXEL",
            tracking_id=d.annotation_id,
            tracking_uid=uid,
        )
        for graphic_type, points in d.shapes
    ]
    if d.label is None:
        return graphics, []
    return graphics, [_text(clamp, d.label, d.annotation_id, uid)]


def _text(clamp: _Clamp, label: _Label, annotation_id: str, uid: str) -> hd.pr.TextObject:
    lines = label.text.splitlines() or [label.text]
    width = max(len(line) for line in lines) * _CHAR_PX + 4
    height = len(lines) * _LINE_PX
    # The box stays on the image, shifted in rather than cut.
    x0 = min(max(0.0, label.top_left.x), max(0.0, clamp.columns - width))
    y0 = min(max(0.0, label.top_left.y), max(0.0, clamp.rows - height))
    bounds = (x0, y0, min(clamp.columns, x0 + width), min(clamp.rows, y0 + height))
    anchor = clamp(label.anchor) if label.anchor is not None else None
    return hd.pr.TextObject(
        label.text,
        "PIXEL",
        bounding_box=bounds,
        anchor_point=(anchor.x, anchor.y) if anchor else None,
        text_justification="LEFT",
        anchor_point_visible=label.anchor_visible,
        tracking_id=annotation_id,
        tracking_uid=uid,
    )


def _middle(a: Point, b: Point) -> Point:
    return Point((a.x + b.x) / 2, (a.y + b.y) / 2)


def _beside(text: str, at: Point) -> _Label | None:
    return _Label(text, Point(at.x + 6, at.y), at) if text else None


def _label(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def _value(m: Measurement | None) -> str:
    """The label value: millimetres and degrees as on screen; pixels say they are pixels."""
    if m is None:
        return ""
    if m.units is Units.PX:
        return f"{m.value:.0f} px (no mm)"
    return m.text()


class _Clamp:
    """Keeps a point on the image: a PIXEL graphic may not lie outside it."""

    def __init__(self, columns: int, rows: int) -> None:
        self.columns, self.rows = float(columns), float(rows)

    def __call__(self, p: Point) -> Point:
        return Point(min(max(p.x, 0.0), self.columns), min(max(p.y, 0.0), self.rows))


def _icc_profile(source: Dataset) -> bytes:
    """The source's ICC profile, else sRGB: what ultrasound colour is meant in when unsaid.

    A colour PS must carry an input or colour-space profile ("scnr"/"spac"): Pillow's sRGB is a
    monitor profile, so the sRGB colour-space profile highdicom ships is used.
    """
    profile = source.get("ICCProfile")
    if profile:
        return bytes(profile)
    srgb = pkgutil.get_data("highdicom", "_icc_profiles/sRGB_v4_ICC_preference.icc")
    if srgb is None:
        raise ExportError("no sRGB colour profile found for the colour presentation state")
    return srgb


def _graphic_layer(layer: _Layer) -> hd.pr.GraphicLayer:
    c = layer.colour
    return hd.pr.GraphicLayer(
        layer_name=layer.name,
        order=layer.order,
        description=layer.description,
        display_color=hd.color.CIELabColor.from_rgb(c.r, c.g, c.b),
    )
