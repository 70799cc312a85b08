"""Softcopy presentation states: the plan's annotations as DICOM graphics on the source image."""

from __future__ import annotations

import io
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from prolo_planner.core.geometry import Point
from prolo_planner.core.image_calibration import calibration_in_force
from prolo_planner.core.measure import measure_plan
from prolo_planner.core.overlay_primitives import OverlayStyle
from prolo_planner.core.plan import (
    AngleMeasurement,
    AvoidKind,
    AvoidZone,
    Caliper,
    ImagePlan,
    ImageRef,
    NeedlePath,
    Plan,
    Target,
    TextNote,
    ZoneShape,
)
from prolo_planner.export.dicom_writing import to_bytes
from prolo_planner.export.errors import ExportError
from prolo_planner.export.presentation_state import presentation_state
from prolo_planner.imaging.dicom import DicomSource
from prolo_planner.imaging.facts import image_facts
from tests.conftest import SAMPLE_IMAGES, pydicom_file
from tests.core.export_support import assert_dciodvfy_clean, plan_on_samples


def reread(ds: pydicom.Dataset) -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(to_bytes(ds)))


def graphics(ps: pydicom.Dataset) -> dict[str, list[tuple[pydicom.Dataset, pydicom.Dataset]]]:
    """Every graphic and text object by tracking ID, with the annotation item holding it."""
    found: dict[str, list[tuple[pydicom.Dataset, pydicom.Dataset]]] = {}
    for ann in ps.GraphicAnnotationSequence:
        for obj in [*ann.get("GraphicObjectSequence", []), *ann.get("TextObjectSequence", [])]:
            if "TrackingID" in obj:
                found.setdefault(str(obj.TrackingID), []).append((ann, obj))
    return found


def xy(points: list[Point]) -> list[float]:
    return [c for p in points for c in (p.x, p.y)]


def of_type(
    objects: list[tuple[pydicom.Dataset, pydicom.Dataset]], graphic_type: str
) -> pydicom.Dataset:
    (found,) = [o for _, o in objects if o.get("GraphicType") == graphic_type]
    return found


def test_colour_source_gets_a_colour_ps_with_every_annotation(tmp_path: Path) -> None:
    s = plan_on_samples()
    still = s.plan.images[0]
    ps = reread(presentation_state(s.plan, still.id, s.lumbar.dataset, s.measurements))
    assert ps.SOPClassUID == pydicom.uid.ColorSoftcopyPresentationStateStorage
    assert_dciodvfy_clean(ps, tmp_path)
    src = s.lumbar.dataset
    assert (ps.PatientID, ps.StudyInstanceUID) == (src.PatientID, src.StudyInstanceUID)
    assert ps.SeriesInstanceUID != src.SeriesInstanceUID
    (series,) = ps.ReferencedSeriesSequence
    assert series.ReferencedImageSequence[0].ReferencedSOPInstanceUID == src.SOPInstanceUID

    by_id = graphics(ps)
    plan = s.plan
    for a in plan.on_image(still.id):
        if isinstance(a, Target) and a.position is None:
            assert a.id not in by_id  # not placed: nothing to draw
            continue
        objects = by_id[a.id]
        for ann, _ in objects:  # a still: the whole image, no frame
            assert ann.ReferencedImageSequence[0].ReferencedSOPInstanceUID == src.SOPInstanceUID
            assert "ReferencedFrameNumber" not in ann.ReferencedImageSequence[0]
        if isinstance(a, Target):
            circle = of_type(objects, "CIRCLE")
            assert list(circle.GraphicData)[:2] == pytest.approx([a.position.x, a.position.y])
            assert circle.GraphicAnnotationUnits == "PIXEL"
            ((_, label),) = [(n, o) for n, o in objects if "UnformattedTextValue" in o]
            depth = s.measurements.target_depths[a.id].value
            assert label.UnformattedTextValue == f"{a.name} {depth:.1f} mm"
        elif isinstance(a, NeedlePath):
            end = plan.path_end(a)
            assert list(of_type(objects, "POLYLINE").GraphicData) == pytest.approx(
                xy([a.entry, end])
            )
        elif isinstance(a, AvoidZone) and a.shape is ZoneShape.POLYGON:
            assert list(of_type(objects, "POLYLINE").GraphicData) == pytest.approx(
                xy([*a.points, a.points[0]])
            )  # closed
        elif isinstance(a, AvoidZone):
            (p, q) = a.points
            cx, cy = (p.x + q.x) / 2, (p.y + q.y) / 2
            assert list(of_type(objects, "ELLIPSE").GraphicData) == pytest.approx(
                [p.x, cy, q.x, cy, cx, p.y, cx, q.y]
            )  # major (across) axis, then minor
        elif isinstance(a, Caliper):
            assert list(of_type(objects, "POLYLINE").GraphicData) == pytest.approx(xy([a.a, a.b]))
            ((_, label),) = [(n, o) for n, o in objects if "UnformattedTextValue" in o]
            assert f"{s.measurements.calipers[a.id].value:.1f} mm" in label.UnformattedTextValue
        elif isinstance(a, AngleMeasurement):
            assert list(of_type(objects, "POLYLINE").GraphicData) == pytest.approx(
                xy([a.a, a.vertex, a.b])
            )
        elif isinstance(a, TextNote):
            ((_, text),) = objects
            assert text.UnformattedTextValue == a.text
            assert list(text.AnchorPoint) == pytest.approx([a.arrow_to.x, a.arrow_to.y])
            assert text.AnchorPointVisibility == "Y"  # the arrow
            assert list(text.BoundingBoxTopLeftHandCorner) == pytest.approx(
                [a.text_at.x, a.text_at.y]
            )

    layers = {layer.GraphicLayer: layer for layer in ps.GraphicLayerSequence}
    assert {
        "TARGETS",
        "NEEDLE PATHS",
        "AVOID CANAL",
        "AVOID ARTERY",
        "CALIPERS",
        "ANGLES",
        "TEXT NOTES",
        "SKIN LINE",
    } == set(layers)
    artery = OverlayStyle().zone[AvoidKind.ARTERY]
    expected = hd.color.CIELabColor.from_rgb(artery.r, artery.g, artery.b).value
    assert list(layers["AVOID ARTERY"].GraphicLayerRecommendedDisplayCIELabValue) == list(expected)
    # Zones lie under paths, paths under targets, as on screen.
    order = {name: int(layer.GraphicLayerOrder) for name, layer in layers.items()}
    assert order["AVOID CANAL"] < order["NEEDLE PATHS"] < order["TARGETS"]


def test_cine_annotations_point_at_their_frame(tmp_path: Path) -> None:
    s = plan_on_samples()
    cine = s.plan.images[1]
    ps = reread(presentation_state(s.plan, cine.id, s.hip.dataset, s.measurements))
    assert ps.SOPClassUID == pydicom.uid.ColorSoftcopyPresentationStateStorage  # YBR source
    assert_dciodvfy_clean(ps, tmp_path)
    by_id = graphics(ps)
    for a in s.plan.on_image(cine.id):
        for ann, _ in by_id[a.id]:
            ref = ann.ReferencedImageSequence[0]
            if a.frame is None:
                assert "ReferencedFrameNumber" not in ref  # shown on every frame
            else:
                assert int(ref.ReferencedFrameNumber) == a.frame + 1


#: Justified for MR_small only: its study-level reading physician "----" is kept as the source
#: has it (dciodvfy warns on the source too), and with no body part the side is unknown, which
#: is what an empty Laterality says.
MR_SMALL_WARNINGS = ("Name of Physician(s) Reading Study", "attribute <Laterality>")


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (SAMPLE_IMAGES / "cervical_pillars_mono2.dcm", ()),
        (pydicom_file("MR_small.dcm"), MR_SMALL_WARNINGS),
    ],
    ids=["ultrasound 8-bit", "MR 16-bit"],
)
def test_grey_source_gets_a_grayscale_ps(
    tmp_path: Path, path: Path, allowed: tuple[str, ...]
) -> None:
    source = DicomSource.open(path)
    image = ImagePlan(ImageRef(str(path), str(source.dataset.SOPInstanceUID)))
    target = Target(image.id, Point(40.5, 30.25), name="C5-C6 facet capsule")
    plan = Plan(
        (image,),
        (
            target,
            NeedlePath(image.id, Point(10.0, 5.0), target.id),
            AvoidZone(
                image.id,
                ZoneShape.ELLIPSE,
                (Point(20, 40), Point(30, 60)),
                kind=AvoidKind.ARTERY,
                name="vertebral artery",
            ),
        ),
    )
    m = measure_plan(plan, {image.id: calibration_in_force(image_facts(source), image)})
    ps = reread(presentation_state(plan, image.id, source.dataset, m))
    assert ps.SOPClassUID == pydicom.uid.GrayscaleSoftcopyPresentationStateStorage
    assert_dciodvfy_clean(ps, tmp_path, allowed)
    circle = of_type(graphics(ps)[target.id], "CIRCLE")
    assert list(circle.GraphicData)[:2] == [40.5, 30.25]
    zone = of_type(graphics(ps)[plan.annotations[2].id], "ELLIPSE")
    assert np.allclose(
        list(zone.GraphicData), [25, 40, 25, 60, 20, 50, 30, 50]
    )  # taller: down first


def test_image_not_in_plan_is_refused() -> None:
    s = plan_on_samples()
    with pytest.raises(ExportError, match="not in the plan"):
        presentation_state(s.plan, "no such image", s.lumbar.dataset)
