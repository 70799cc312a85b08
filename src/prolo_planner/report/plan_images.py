"""A plan with its images opened: calibrations, measurements, warnings and the key frames to show.

Every export of a plan (PNG, PDF, Secondary Capture, SR) starts here, so they all show the same
frames with the same measurements the screen shows: the calibration in force from the one owner
(core.image_calibration.calibration_in_force), the clinic's limits for the warnings.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.image_calibration import calibration_in_force
from prolo_planner.core.label_placement import Box, LabelSpace
from prolo_planner.core.limits import ClinicLimits, load_limits
from prolo_planner.core.measure import PlanMeasurements, measure_plan
from prolo_planner.core.overlay import annotation_points, overlay_for
from prolo_planner.core.overlay_primitives import OverlayStyle, Primitive
from prolo_planner.core.plan import Annotation, ImagePlan, Plan
from prolo_planner.core.safety import SafetyWarning, check_plan
from prolo_planner.export.deidentify import Rectangle, banner_rectangles, mask
from prolo_planner.imaging.burned_in import burned_in_text
from prolo_planner.imaging.dicom import DicomSource
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.facts import image_facts
from prolo_planner.imaging.open import open_image
from prolo_planner.imaging.source import ImageSource
from prolo_planner.render import ensure_gui_app, label_scale_for, render_annotated_frame
from prolo_planner.render.shapes import label_size

#: Rows kept between a de-identified video's mask and the topmost point of the plan.
_MASK_GAP_PX = 4


@dataclass(frozen=True, slots=True)
class KeyImage:
    """One frame of one plan image that goes to the chart."""

    image: ImagePlan
    frame: int
    name: str  # the file's name as the clinician knows it, for captions
    frame_count: int

    @property
    def caption(self) -> str:
        if self.frame_count > 1:
            return f"{self.name}, frame {self.frame + 1} of {self.frame_count}"
        return self.name


class PlanImages:
    """The plan's images opened for export. Use as a context manager, or call close()."""

    def __init__(
        self,
        plan: Plan,
        sources: Mapping[str, ImageSource],
        names: Mapping[str, str],
        limits: ClinicLimits,
        problems: tuple[str, ...] = (),
    ) -> None:
        self.plan = plan
        self.sources = dict(sources)
        self.names = dict(names)
        self.limits = limits
        self.problems = problems
        self.calibrations: dict[str, Calibration] = {
            im.id: self._calibration(im) for im in plan.images
        }
        self.measurements: PlanMeasurements = measure_plan(plan, self.calibrations)
        self.warnings: tuple[SafetyWarning, ...] = check_plan(
            plan, self.calibrations, limits, self.measurements
        )
        self._burned_in: dict[str, tuple[Box, ...]] = {}

    @classmethod
    def open(
        cls,
        plan: Plan,
        *,
        names: Mapping[str, str] | None = None,
        limits: ClinicLimits | None = None,
    ) -> PlanImages:
        """Open every image of the plan. An image that cannot be opened is left out with a
        problem saying why; its annotations are still measured (in pixels) and listed.

        `names` maps an ImagePlan id to the name captions use (default: the file's name).
        """
        sources: dict[str, ImageSource] = {}
        problems: list[str] = []
        shown = dict(names or {})
        for im in plan.images:
            shown.setdefault(im.id, im.ref.title)
            try:
                sources[im.id] = open_image(im.ref.path)
            except ImageLoadError as exc:
                problems.append(f"image {shown[im.id]} cannot be shown: {exc.reason}")
        return cls(plan, sources, shown, limits or load_limits().limits, tuple(problems))

    def close(self) -> None:
        for source in self.sources.values():
            source.close()

    def __enter__(self) -> PlanImages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what is there --------------------------------------------------------------------------
    def _calibration(self, image: ImagePlan) -> Calibration:
        """The calibration in force, from the one owner the screen uses too."""
        source = self.sources.get(image.id)
        return calibration_in_force(image_facts(source) if source is not None else None, image)

    def dataset(self, image_id: str) -> Dataset | None:
        """The DICOM header of the image, None for a video, a still or an image not opened."""
        source = self.sources.get(image_id)
        return source.dataset if isinstance(source, DicomSource) else None

    def key_images(self) -> list[KeyImage]:
        """The frames that go to the chart, image by image: the clinician's key frames, else
        every frame with annotations of its own, else the first frame; and the frames the
        procedure record names as showing a needle tip at its target."""
        out: list[KeyImage] = []
        shown = self._record_frames()
        for im in self.plan.images:
            source = self.sources.get(im.id)
            if source is None:
                continue
            count = source.frame_count
            frames = [f for f in im.key_frames if 0 <= f < count]
            if not frames:
                frames = sorted(f for f in self.plan.annotated_frames(im.id) if 0 <= f < count)
            # The frames the procedure record names as showing a needle at its target.
            recorded = sorted(f for f in shown.get(im.id, ()) if 0 <= f < count)
            frames = (frames or ([] if recorded else [0])) + recorded
            for frame in dict.fromkeys(frames):
                out.append(KeyImage(im, frame, self.names[im.id], count))
        return out

    def _record_frames(self) -> dict[str, set[int]]:
        record = self.plan.procedure
        frames: dict[str, set[int]] = {}
        if record is None:
            return frames
        for site in record.sites:
            if site.tip_seen and site.key_image is not None:
                frames.setdefault(site.key_image.image_id, set()).add(site.key_image.frame)
        return frames

    # -- pixels ---------------------------------------------------------------------------------
    def frame(self, key: KeyImage, *, masked: bool = False) -> np.ndarray:
        """The frame as the viewer shows it; `masked` blacks out the burned-in patient banner."""
        pixels = self.sources[key.image.id].frame(key.frame)
        if not masked:
            return pixels
        return mask(pixels[np.newaxis], self.banner(key.image))[0]

    def banner(self, image: ImagePlan) -> tuple[Rectangle, ...]:
        """Where the scanner burned in the patient: for DICOM, the rows above the ultrasound
        regions; for a video or still, which carry no regions, the rows above the topmost point
        of the plan (skin line, calibration ticks, annotations), where scanners put the banner."""
        ds = self.dataset(image.id)
        if ds is not None:
            return banner_rectangles(ds)
        source = self.sources.get(image.id)
        if source is None:
            return ()
        ys = [p.y for a in self.plan.on_image(image.id) for p in annotation_points(a, self.plan)]
        if image.skin_line is not None:
            ys += [p.y for p in image.skin_line]
        if image.manual_calibration is not None:
            ys += [image.manual_calibration.a.y, image.manual_calibration.b.y]
        top = int(min(ys, default=0.0)) - _MASK_GAP_PX
        if top <= 0:
            return ()
        return (Rectangle(0, 0, source.info.columns, top),)

    def burned_in(self, key: KeyImage) -> tuple[Box, ...]:
        """Where the scanner burned text into the image (found once per image, in the first
        key frame asked about): the labels and the scale bar keep off it if they can."""
        found = self._burned_in.get(key.image.id)
        if found is None:
            found = burned_in_text(self.frame(key), self.sources[key.image.id].calibration)
            self._burned_in[key.image.id] = found
        return found

    def label_space(
        self, key: KeyImage, *, scale: float = 1.0, keep_out: tuple[Box, ...] = ()
    ) -> LabelSpace:
        """How the labels of an export of this frame are drawn: the renderer's font at the
        size render_annotated_frame gives them, off `keep_out` (the scale bar)."""
        ensure_gui_app()  # fonts are measured: a command-line export has no window yet
        info = self.sources[key.image.id].info
        size_factor = label_scale_for(info.columns, info.rows)
        return LabelSpace(
            image_size=(info.columns, info.rows),
            px_per_screen_px=size_factor,
            measure=functools.partial(label_size, scale=scale * size_factor),
            keep_out=keep_out,
            avoid=self.burned_in(key),
        )

    def primitives(
        self,
        key: KeyImage,
        style: OverlayStyle | None = None,
        *,
        scale: float = 1.0,
        keep_out: tuple[Box, ...] = (),
    ) -> tuple[Primitive, ...]:
        """The display list of a key frame as exported `scale` times its size, its labels off
        `keep_out` (image pixels)."""
        info = self.sources[key.image.id].info
        return overlay_for(
            self.plan,
            key.image.id,
            key.frame,
            self.calibrations[key.image.id],
            self.measurements,
            self.warnings,
            style=style,
            image_size=(info.columns, info.rows),
            labels=self.label_space(key, scale=scale, keep_out=keep_out),
        )

    def annotated(self, key: KeyImage, *, scale: float = 1.0, masked: bool = False) -> np.ndarray:
        """The frame with the plan burned in by the screen's renderer, RGB uint8."""
        primitives = self.primitives(key, scale=scale)
        return render_annotated_frame(self.frame(key, masked=masked), primitives, scale)

    def shown(self, key: KeyImage) -> tuple[Annotation, ...]:
        """The annotations drawn on this key frame, in plan order."""
        return self.plan.on_image(key.image.id, key.frame)
