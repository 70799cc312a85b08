"""Synthetic B-mode ultrasound frames, cines and files for the samples, tests and benchmarks.

A scene is painted once as echogenicity and attenuation maps in millimetres; each frame samples
it along the beams (with breathing drift and vessel pulsation), multiplies by Rayleigh speckle,
attenuates along each beam (so bone casts a shadow and vessels enhance what lies beneath),
log-compresses, scan-converts and burns in a banner and a depth scale placed from the same
pixel spacing the DICOM Sequence of Ultrasound Regions declares.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

from prolo_planner.store import demo

US_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"
US_MULTIFRAME_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"
SOFT_TISSUE_ATTENUATION = 0.05  # round-trip amplitude attenuation, nepers per mm
BANNER_ROWS = 44
MAJOR_TICK, MINOR_TICK = 8, 4  # tick lengths in pixels (every 10 mm, every 5 mm)
_DYNAMIC_RANGE_DB = 60.0
_TEXT = cv2.FONT_HERSHEY_SIMPLEX
#: A depth in mm: one value, or one per column of the tissue grid (shape 1 x columns).
Depth = float | np.ndarray


class Scene(StrEnum):
    LUMBAR_LONG_AXIS = "lumbar spine, midline long axis"
    LUMBAR_TRANSVERSE = "lumbar spine, transverse"
    HIP_ANTERIOR = "hip, anterior oblique along the femoral neck"
    CERVICAL_PILLARS = "cervical spine, articular pillars and vertebral artery"


class ProbeKind(StrEnum):
    LINEAR = "linear"
    CONVEX = "convex"


class PixelEncoding(StrEnum):
    RGB = "RGB, explicit VR little endian"
    MONOCHROME2 = "MONOCHROME2, explicit VR little endian"
    YBR_FULL_422_JPEG = "YBR_FULL_422, JPEG Baseline"


@dataclass(frozen=True, slots=True)
class Probe:
    model: str
    kind: ProbeKind
    frequency_mhz: float
    footprint_mm: float = 38.0  # linear array width
    radius_mm: float = 50.0  # convex array curvature
    half_angle_deg: float = 30.0  # widest convex sector; narrowed to fit the pane


LINEAR_PROBE = Probe("L12-4", ProbeKind.LINEAR, 10.0, footprint_mm=38.0)
CONVEX_PROBE = Probe("C5-1", ProbeKind.CONVEX, 4.0, radius_mm=50.0, half_angle_deg=30.0)


@dataclass(frozen=True, slots=True)
class FictitiousPatient:
    name: str  # DICOM person name, family^given
    patient_id: str
    birth_date: str
    sex: str


#: The lumbar exam is the demo patient's (store/demo.py owns who that is): the demo course files
#: its images under the patient they name, so they must name the demo patient.
DEMO_PATIENT = FictitiousPatient(
    demo.DEMO_NAME, demo.DEMO_MRN, demo.DEMO_BIRTH_DATE.replace("-", ""), demo.DEMO_SEX
)
FICTITIOUS_PATIENTS = (
    DEMO_PATIENT,
    FictitiousPatient("PHANTOM^Hip", "SYN-0002", "19650615", "M"),
    FictitiousPatient("PHANTOM^Cervical", "SYN-0003", "19801224", "F"),
    FictitiousPatient("PHANTOM^Benchmark", "SYN-0099", "20000101", "O"),
)


@dataclass(frozen=True, slots=True)
class View:
    """One 2D image of the frame: what is scanned, with which probe, how deep."""

    scene: Scene
    probe: Probe
    depth_mm: float
    label: str = ""
    gain_db: int = 52


@dataclass(frozen=True, slots=True)
class Exam:
    """Everything one synthetic file shows and carries: patient, views, frame size and rate."""

    patient: FictitiousPatient
    views: tuple[View, ...]
    body_part: str
    description: str
    rows: int = 480
    columns: int = 640
    frame_rate: float = 25.0
    colour: bool = True
    seed: int = 0
    laterality: str = ""
    study_date: str = "20240314"
    study_time: str = "102205"
    manufacturer: str = "Prolo Synthetic Imaging"
    model_name: str = "SynthoScan 3"
    series_number: int = 1


@dataclass(frozen=True, slots=True)
class ViewLayout:
    """Where a view sits in the frame and its spacing: the truth the DICOM region carries.

    Depth 0 lies on the row boundary `skin_y` (probe centre line on column boundary `skin_x`);
    depth d mm falls in row floor(skin_y + d / mm_per_px). Bounds are inclusive pixel indices.
    """

    mm_per_px: float
    skin_x: int
    skin_y: int
    fov: tuple[int, int, int, int]  # x0, y0, x1, y1 of the image (sector or rectangle)
    region: tuple[int, int, int, int]  # x0, y0, x1, y1 of the calibrated region (incl. scale)
    tick_x: int  # first column of the depth-scale ticks
    half_angle: float  # radians, convex only
    half_width_mm: float

    def depth_row(self, depth_mm: float) -> int:
        return math.floor(self.skin_y + depth_mm / self.mm_per_px + 1e-9)

    def tick_depths_mm(self, every_mm: int = 5) -> list[int]:
        deepest = (self.fov[3] + 1 - self.skin_y) * self.mm_per_px
        return [d for d in range(0, int(deepest) + 1, every_mm) if self.depth_row(d) <= self.fov[3]]


def lumbar_exam(seed: int = 1) -> Exam:
    view = View(Scene.LUMBAR_LONG_AXIS, CONVEX_PROBE, 60.0, "L3-L5 LONG")
    return Exam(FICTITIOUS_PATIENTS[0], (view,), "LSPINE", "US lumbar spine", seed=seed)


def lumbar_dual_view_exam(seed: int = 4) -> Exam:
    long = View(Scene.LUMBAR_LONG_AXIS, CONVEX_PROBE, 60.0, "LONG")
    trans = View(Scene.LUMBAR_TRANSVERSE, CONVEX_PROBE, 50.0, "TRANS L4")
    return Exam(
        FICTITIOUS_PATIENTS[0],
        (long, trans),
        "LSPINE",
        "US lumbar spine",
        columns=800,
        seed=seed,
        series_number=3,
    )


def hip_exam(seed: int = 2, rows: int = 480, columns: int = 640) -> Exam:
    view = View(Scene.HIP_ANTERIOR, CONVEX_PROBE, 70.0, "R HIP ANT NECK", gain_db=54)
    return Exam(
        FICTITIOUS_PATIENTS[1], (view,), "HIP", "US hip", rows, columns, laterality="R", seed=seed
    )


def cervical_exam(seed: int = 3) -> Exam:
    view = View(Scene.CERVICAL_PILLARS, LINEAR_PROBE, 40.0, "L C5-C6 PILLARS", gain_db=50)
    return Exam(
        FICTITIOUS_PATIENTS[2], (view,), "CSPINE", "US cervical spine", colour=False, seed=seed
    )


def benchmark_exam(rows: int = 600, columns: int = 800) -> Exam:
    view = View(Scene.HIP_ANTERIOR, CONVEX_PROBE, 70.0, "BENCHMARK")
    return Exam(
        FICTITIOUS_PATIENTS[3],
        (view,),
        "HIP",
        "US benchmark cine",
        rows,
        columns,
        laterality="R",
        seed=99,
    )


# -- scene painting -------------------------------------------------------------------------
def _soft(d: np.ndarray | float, edge: float) -> np.ndarray:
    return 0.5 + 0.5 * np.tanh(np.asarray(d, np.float32) / (2.0 * edge))


@dataclass(frozen=True, slots=True)
class _Vessel:
    x_mm: float
    z_mm: float
    half_width_mm: float
    half_height_mm: float
    artery: bool


class _Tissue:
    """Echogenicity and attenuation maps on a millimetre grid, painted layer by layer."""

    def __init__(self, x: np.ndarray, z: np.ndarray, rng: np.random.Generator) -> None:
        self.x, self.z, self.rng = x, z, rng
        self.X, self.Z = x[None, :], z[:, None]
        self.res = float(x[1] - x[0])
        self.echo = np.ones((z.size, x.size), np.float32)
        self.atten = np.full_like(self.echo, SOFT_TISSUE_ATTENUATION)
        self.vessels: list[_Vessel] = []

    def field(self, sigma_mm: float) -> np.ndarray:
        """Smooth random field, unit standard deviation."""
        rows, cols = self.echo.shape
        sigma = sigma_mm / self.res
        # Blur coarse noise and enlarge it: the same look, without a huge kernel.
        step = max(1, int(sigma / 3))
        coarse = self.rng.standard_normal((rows // step + 2, cols // step + 2), np.float32)
        blurred = cv2.GaussianBlur(coarse, (0, 0), sigma / step)
        f = cv2.resize(
            blurred,
            ((cols // step + 2) * step, (rows // step + 2) * step),
            interpolation=cv2.INTER_LINEAR,
        )[:rows, :cols]
        return np.asarray(f / (f.std() + 1e-6), np.float32)

    def paint(self, w: np.ndarray, echo: np.ndarray | float, atten: float) -> None:
        self.echo += w * (echo - self.echo)
        self.atten += w * (atten - self.atten)

    def band(
        self, top: Depth, bottom: Depth, x_from: float = -1e3, x_to: float = 1e3, edge: float = 0.25
    ) -> np.ndarray:
        return (
            _soft(self.Z - top, edge)
            * _soft(bottom - self.Z, edge)
            * _soft(self.X - x_from, 0.4)
            * _soft(x_to - self.X, 0.4)
        )

    def skin_and_fat(self, fat_bottom: Depth) -> None:
        self.paint(self.band(-50, 1.5, edge=0.2), 2.2, 0.03)
        fat = self.band(1.5, fat_bottom)
        septa = np.zeros_like(self.echo)
        for _ in range(int(self.x.size * self.res / 4)):
            cx, cz = self.rng.uniform(self.x[0], self.x[-1]), self.rng.uniform(2, 12)
            ang, half = self.rng.uniform(-0.5, 0.5), self.rng.uniform(2, 8)
            p = [
                (
                    (cx + s * half * math.cos(ang) - self.x[0]) / self.res,
                    (cz + s * half * math.sin(ang) - self.z[0]) / self.res,
                )
                for s in (-1, 1)
            ]
            cv2.line(septa, tuple(round(v) for v in p[0]), tuple(round(v) for v in p[1]), 1.0)
        blurred = cv2.GaussianBlur(septa, (0, 0), 0.35 / self.res)
        self.paint(fat, 0.45 + 3.0 * blurred, 0.03)
        self.fascia(fat_bottom)

    def fascia(self, z: Depth, x_from: float = -1e3, x_to: float = 1e3) -> None:
        self.paint(self.band(z - 0.35, z + 0.35, x_from, x_to, 0.15), 3.2, 0.04)

    def muscle(
        self, top: Depth, bottom: Depth, angle_deg: float, x_from: float = -1e3, x_to: float = 1e3
    ) -> None:
        a = math.radians(angle_deg)
        phase = self.Z * math.cos(a) - self.X * math.sin(a) + 0.6 * self.field(4.0)
        lines = np.clip((np.cos(2 * math.pi * phase / 2.4) - 0.88) / 0.12, 0, 1)
        broken = np.clip(self.field(1.5) + 0.5, 0, 1)  # perimysium septa come and go
        self.paint(
            self.band(top, bottom, x_from, x_to),
            0.7 + 1.9 * lines * broken,
            SOFT_TISSUE_ATTENUATION,
        )

    def fibrillar(
        self,
        top: Depth,
        bottom: Depth,
        x_from: float = -1e3,
        x_to: float = 1e3,
        brightness: float = 2.8,
        stripe_mm: float = 0.55,
    ) -> None:
        wobble = 0.15 * self.field(4.0)
        stripes = 0.5 + 0.5 * np.cos(2 * math.pi * ((self.Z - top) / stripe_mm + wobble))
        along = 1.0 + 0.25 * self.field(2.5)
        self.paint(
            self.band(top, bottom, x_from, x_to, 0.2),
            brightness * (0.35 + 0.9 * stripes**2) * along,
            0.05,
        )

    def bone(self, surface: np.ndarray, x_from: float, x_to: float, echo: float = 16.0) -> None:
        """Bright periosteal line; beneath it bone that attenuates into an acoustic shadow."""
        across = _soft(self.X - x_from, 0.4) * _soft(x_to - self.X, 0.4)
        self.paint(across * _soft(self.Z - surface - 0.4, 0.2), 0.6, 1.5)
        line = across * _soft(self.Z - surface, 0.12) * _soft(surface + 0.9 - self.Z, 0.2)
        self.paint(line, echo * (0.85 + 0.25 * np.abs(self.field(1.5))), 0.4)

    def vessel(
        self, x: float, z: float, half_width: float, half_height: float, artery: bool
    ) -> None:
        self.vessels.append(_Vessel(x, z, half_width, half_height, artery))


def _paint_lumbar_long(t: _Tissue) -> None:
    x = t.x
    t.skin_and_fat((9.0 + np.sin(x / 17.0))[None, :])
    tips = [(-29.0, 19.5), (0.0, 18.0), (29.0, 19.0)]
    crest = np.interp(x, [p[0] for p in tips], [p[1] for p in tips])
    crest = crest + 1.4 * np.sin(np.pi * (x + 29.0) / 29.0) ** 2
    t.muscle(10.0, crest[None, :] - 3.0, 10.0)
    t.fibrillar(18.0, 47.0, brightness=1.0, stripe_mm=0.9)  # interspinous ligament
    t.paint(t.band(47.0, 48.2, edge=0.2), 3.5, 0.04)  # posterior complex: flavum and dura
    t.paint(t.band(48.2, 55.0), 0.08, 0.002)  # cerebrospinal fluid
    t.paint(t.band(55.0, 56.5, edge=0.2), 4.0, 0.2)  # anterior complex
    t.fibrillar(crest[None, :] - 3.2, crest[None, :] + 0.3)  # supraspinous ligament
    for xt, zt in tips:
        dx = x - xt
        t.bone((zt + 0.06 * dx**2 + 0.004 * dx**4)[None, :], xt - 6.5, xt + 6.5)
    t.fascia((9.0 + np.sin(x / 17.0))[None, :])


def _paint_lumbar_transverse(t: _Tissue) -> None:
    ax = np.abs(t.x)
    t.skin_and_fat(8.0)
    for side in (-1, 1):
        t.muscle(8.5, 40.0, 8.0 * side, *sorted((side * 0.0, side * 60.0)))
        t.fascia((9.0 + 0.6 * (ax - 5)).clip(9, 40)[None, :], *sorted((side * 5.0, side * 30.0)))
    t.fibrillar(13.5, 17.2, -5.0, 5.0)  # supraspinous ligament over the spinous tip
    t.bone((17.0 + 0.15 * t.x**2)[None, :], -3.8, 3.8)
    t.bone((30.0 + (ax - 5.0) * 0.38)[None, :], -21.0, -5.0)  # laminae
    t.bone((30.0 + (ax - 5.0) * 0.38)[None, :], 5.0, 21.0)
    facet = (36.5 - 3.0 * np.exp(-(((ax - 25.5) / 2.8) ** 2)))[None, :]
    for side in (-1, 1):
        t.bone(facet, *sorted((side * 21.6, side * 30.0)))
        t.bone(np.full((1, t.x.size), 44.0, np.float32), *sorted((side * 31.0, side * 50.0)))


def _paint_hip(t: _Tissue) -> None:
    x = t.x
    t.skin_and_fat((9.0 + 0.04 * x)[None, :])
    t.muscle(9.5, (19.0 + 0.1 * x)[None, :], 20.0)
    t.fascia((19.0 + 0.1 * x)[None, :])
    dome = 58.0 - np.sqrt(np.clip(26.0**2 - (x + 18.0) ** 2, 0, None))
    dome[np.abs(x + 18.0) >= 26.0] = 80.0
    neck = 40.5 + 0.05 * (x - 5.0)
    surface = -1.5 * np.logaddexp(-dome / 1.5, -neck / 1.5)  # smooth minimum
    t.muscle((19.0 + 0.1 * x)[None, :], surface[None, :] - 5.0, -10.0)
    thick = 3.0 + 2.5 * _soft(x + 8.0, 2.0)
    t.fibrillar((surface - thick)[None, :] - 0.9, surface[None, :] - 0.9, -36.0, 70.0, 5.0, 1.0)
    t.paint(t.band(surface[None, :] - 0.9, surface[None, :], -36.0, 70.0), 0.3, 0.03)
    t.bone(surface[None, :], -35.0, 70.0)
    rim = (31.0 + 0.35 * (x + 37.0))[None, :]
    t.bone(rim, -80.0, -37.0)
    labrum = np.array([[-37.0, 31.0], [-33.0, 36.0], [-40.0, 33.5]])
    mask = np.zeros_like(t.echo)
    pts = np.round((labrum - [t.x[0], t.z[0]]) / t.res).astype(np.int32)
    cv2.fillPoly(mask, [pts], 1.0)
    t.paint(cv2.GaussianBlur(mask, (0, 0), 1.0), 2.4, 0.05)
    t.vessel(13.0, 14.5, 4.2, 4.0, artery=True)  # femoral artery
    t.vessel(23.5, 15.0, 5.5, 4.2, artery=False)  # femoral vein


def _paint_cervical(t: _Tissue) -> None:
    x = t.x
    t.skin_and_fat(4.5)
    t.muscle(4.8, 8.5, 5.0)
    t.fascia(8.5)
    t.muscle(8.8, 12.5, -8.0)
    t.fascia(12.5)
    t.muscle(12.8, 40.0, 3.0)
    pillars = 17.0 + 3.2 * (1.0 - np.abs(np.sin(np.pi * (x + 11.0) / 13.0))) ** 5 + 0.05 * x
    pillars = pillars + 6.0 * _soft(x - 5.5, 0.8)
    for joint in (-11.0, 2.0):
        z_joint = 17.0 + 0.05 * joint
        t.fibrillar(z_joint - 1.6, z_joint + 0.2, joint - 2.5, joint + 2.5, 2.2, 0.45)
    t.bone(pillars[None, :], -40.0, 6.0)
    t.bone(np.full((1, x.size), 31.5, np.float32), 8.0, 40.0)  # transverse process
    t.vessel(12.0, 25.0, 2.5, 2.3, artery=True)  # vertebral artery
    t.vessel(16.2, 25.6, 1.6, 1.3, artery=False)  # vertebral vein


_PAINTERS = {
    Scene.LUMBAR_LONG_AXIS: _paint_lumbar_long,
    Scene.LUMBAR_TRANSVERSE: _paint_lumbar_transverse,
    Scene.HIP_ANTERIOR: _paint_hip,
    Scene.CERVICAL_PILLARS: _paint_cervical,
}


# -- layout and rendering -------------------------------------------------------------------
def _layout(view: View, pane: tuple[int, int, int, int]) -> ViewLayout:
    px, py, pw, ph = pane
    w_avail, h_avail = pw - MAJOR_TICK - 40, ph - 1
    depth, probe = view.depth_mm, view.probe
    if probe.kind is ProbeKind.LINEAR:
        half_angle, z_top, half_w = 0.0, 0.0, probe.footprint_mm / 2
        mpp = max(depth / h_avail, 2 * half_w / w_avail)
    else:
        r, half_angle = probe.radius_mm, math.radians(probe.half_angle_deg)
        for _ in range(4):  # narrow the sector until it fits the pane at full height
            z_top = -r * (1 - math.cos(half_angle))
            mpp = (depth - z_top) / h_avail
            fit = min(w_avail * mpp / (2 * (r + depth)), 1.0)
            half_angle = min(math.radians(probe.half_angle_deg), math.asin(fit))
        z_top = -r * (1 - math.cos(half_angle))
        half_w = (r + depth) * math.sin(half_angle)
    skin_x = px + w_avail // 2
    skin_y = py + math.ceil(-z_top / mpp - 1e-9)
    x0, x1 = math.floor(skin_x - half_w / mpp), math.ceil(skin_x + half_w / mpp) - 1
    y0, y1 = math.floor(skin_y + z_top / mpp), skin_y + math.floor(depth / mpp + 1e-9)
    tick_x = x1 + 6
    return ViewLayout(
        mpp,
        skin_x,
        skin_y,
        (x0, y0, x1, y1),
        (x0, y0, tick_x + MAJOR_TICK, y1),
        tick_x,
        half_angle,
        half_w,
    )


def _motion(t_s: float) -> tuple[float, float, float, float]:
    """Tissue shift (x, z mm), artery and vein calibre factors at time t_s: probe drift,
    breathing, a 72/min pulse."""
    dx = 0.7 * math.sin(2 * math.pi * t_s / 5.2) + 0.4 * math.sin(2 * math.pi * t_s / 11.7 + 1)
    dz = 0.45 * math.sin(2 * math.pi * t_s / 4.1)
    pulse = (0.5 - 0.5 * math.cos(2 * math.pi * 1.2 * t_s)) ** 4
    return dx, dz, 1.0 + 0.09 * pulse, 1.0 + 0.06 * math.sin(2 * math.pi * t_s / 4.1)


class _ViewRenderer:
    """Renders one view's image (grey, float 0..255) into its field-of-view box."""

    def __init__(self, view: View, layout: ViewLayout, seed: int) -> None:
        self.view, self.layout, self.seed = view, layout, seed
        mpp, lay = layout.mm_per_px, layout
        margin = 8.0
        z_top = (lay.fov[1] - lay.skin_y) * mpp
        cx = np.arange(-lay.half_width_mm - margin, lay.half_width_mm + margin, mpp)
        cz = np.arange(z_top - margin, view.depth_mm + margin, mpp)
        tissue = _Tissue(cx, cz, np.random.default_rng([seed, 1]))
        _PAINTERS[view.scene](tissue)
        speckle = np.random.default_rng([seed, 2]).standard_normal(
            (cz.size, cx.size, 2), np.float32
        )
        speckle = self._blur(speckle)
        self.canvas = np.dstack([tissue.echo, tissue.atten, speckle]).astype(np.float32)
        self.vessels, self.origin = tissue.vessels, (float(cx[0]), float(cz[0]))
        self.speckle_norm = float(np.mean(np.hypot(speckle[..., 0], speckle[..., 1]))) * 1.04
        # Beam grid: rows are depth samples along each beam, columns are beams.
        x0, y0, x1, y1 = lay.fov
        if view.probe.kind is ProbeKind.LINEAR:
            bx = (np.arange(x0, x1 + 1) + 0.5 - lay.skin_x) * mpp
            bz = (np.arange(y1 - lay.skin_y + 1) + 0.5) * mpp
            self.beam_x, self.beam_z = np.meshgrid(bx, bz)
            self.edge_falloff = np.ones(bx.size, np.float32)
            self.scan_map = None
        else:
            r, th = view.probe.radius_mm, lay.half_angle
            n_s = math.floor(view.depth_mm / mpp) + 1
            n_l = math.ceil(2 * th * (r + view.depth_mm) / mpp)
            theta = -th + (np.arange(n_l) + 0.5) * 2 * th / n_l
            rad = r + (np.arange(n_s) + 0.5)[:, None] * mpp
            self.beam_x, self.beam_z = rad * np.sin(theta), rad * np.cos(theta) - r
            self.edge_falloff = (1 - 0.3 * (theta / th) ** 6).astype(np.float32)
            cols = (np.arange(x0, x1 + 1) + 0.5 - lay.skin_x) * mpp
            rows = (np.arange(y0, y1 + 1) + 0.5 - lay.skin_y) * mpp + r
            rr = np.hypot(cols[None, :], rows[:, None])
            tt = np.arctan2(cols[None, :], rows[:, None])
            map_y = (rr - r) / mpp - 0.5
            map_x = (tt + th) / (2 * th) * n_l - 0.5
            outside = (rr < r) | (rr > r + view.depth_mm + mpp) | (np.abs(tt) > th)
            map_x[outside] = -10
            self.scan_map = (map_x.astype(np.float32), map_y.astype(np.float32))
        self.beam_x = self.beam_x.astype(np.float32)
        self.beam_z = self.beam_z.astype(np.float32)
        depth = np.maximum(self.beam_z, 0)
        self.tgc = np.exp(0.8 * SOFT_TISSUE_ATTENUATION * depth).astype(np.float32)

    def _blur(self, noise: np.ndarray) -> np.ndarray:
        # The beam is wider across than along: speckle grains are elongated sideways.
        res = self.layout.mm_per_px
        return cv2.GaussianBlur(noise, (0, 0), sigmaX=0.22 / res, sigmaY=0.11 / res)

    def render(self, frame_index: int, t_s: float) -> np.ndarray:
        mpp = self.layout.mm_per_px
        dx, dz, artery, vein = _motion(t_s)
        canvas = self.canvas.copy()
        for v in self.vessels:
            self._draw_vessel(canvas, v, artery if v.artery else vein)
        map_x = (self.beam_x - dx - self.origin[0]) / mpp - 0.5
        map_y = (self.beam_z - dz - self.origin[1]) / mpp - 0.5
        beams = cv2.remap(canvas, map_x, map_y, cv2.INTER_LINEAR)
        rng = np.random.default_rng([self.seed, 3, frame_index])
        noise = self._blur(rng.standard_normal(beams.shape[:2] + (2,), np.float32))
        # A little fresh speckle each frame: real speckle "boils" as tissue moves out of plane.
        re, im = beams[..., 2] + 0.3 * noise[..., 0], beams[..., 3] + 0.3 * noise[..., 1]
        speckle = np.hypot(re, im) / self.speckle_norm
        transmission = np.exp(-np.cumsum(beams[..., 1], axis=0) * mpp)
        amp = beams[..., 0] * speckle * transmission * self.tgc * self.edge_falloff
        amp += 0.025 * np.hypot(noise[..., 0], noise[..., 1]) / self.speckle_norm
        amp = cv2.GaussianBlur(amp, (0, 0), 0.6)  # the scanner's own speckle smoothing
        gain = self.view.gain_db - 52.0
        db = 20.0 * np.log10(amp + 1e-6) + gain
        grey = np.clip((db + _DYNAMIC_RANGE_DB * 115 / 255) * (255 / _DYNAMIC_RANGE_DB), 0, 255)
        grey = grey.astype(np.float32)
        if self.scan_map is not None:
            grey = cv2.remap(
                grey,
                *self.scan_map,
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=0,
            )
        return grey

    def _draw_vessel(self, canvas: np.ndarray, v: _Vessel, calibre: float) -> None:
        ox, oz = self.origin
        res = self.layout.mm_per_px
        a, b = v.half_width_mm * calibre, v.half_height_mm * calibre
        c0, c1 = int((v.x_mm - a - 2 - ox) / res), int((v.x_mm + a + 2 - ox) / res) + 1
        r0, r1 = int((v.z_mm - b - 2 - oz) / res), int((v.z_mm + b + 2 - oz) / res) + 1
        xs = ox + (np.arange(c0, c1) + 0.5) * res
        zs = oz + (np.arange(r0, r1) + 0.5) * res
        d = np.hypot((xs[None, :] - v.x_mm) / a, (zs[:, None] - v.z_mm) / b)
        inside = _soft((1 - d) * min(a, b), 0.12)
        wall = np.exp(-(((d - 1) * min(a, b) / 0.35) ** 2))
        patch = canvas[r0:r1, c0:c1]
        patch[..., 0] = patch[..., 0] * (1 - inside) + 0.02 * inside + 2.5 * wall
        patch[..., 1] = patch[..., 1] * (1 - inside) + 0.002 * inside


class SyntheticScanner:
    """Frames of one exam, rendered on demand and deterministic for a given seed."""

    def __init__(self, exam: Exam) -> None:
        self.exam = exam
        panel = 92 if len(exam.views) == 1 else 16
        pane_w = (exam.columns - panel) // len(exam.views)
        top = BANNER_ROWS + 16
        self.layouts = tuple(
            _layout(v, (panel + k * pane_w, top, pane_w - (8 if k else 0), exam.rows - top - 20))
            for k, v in enumerate(exam.views)
        )
        self._views = [
            _ViewRenderer(v, lay, exam.seed * 16 + k)
            for k, (v, lay) in enumerate(zip(exam.views, self.layouts, strict=True))
        ]

    def frame(self, index: int) -> np.ndarray:
        """Frame `index` of the cine: uint8 RGB HxWx3, or HxW grey for a monochrome exam."""
        e = self.exam
        rgb = np.zeros((e.rows, e.columns, 3), np.uint8)
        for renderer, lay in zip(self._views, self.layouts, strict=True):
            x0, y0, x1, y1 = lay.fov
            grey = renderer.render(index, index / e.frame_rate)
            rgb[y0 : y1 + 1, x0 : x1 + 1] = np.rint(grey).astype(np.uint8)[..., None]
            self._draw_view_marks(rgb, renderer.view, lay)
        self._draw_banner(rgb, index)
        return rgb if e.colour else np.ascontiguousarray(rgb[..., 0])

    def frames(self, count: int) -> Iterator[np.ndarray]:
        return (self.frame(i) for i in range(count))

    def _colour(self, rgb: tuple[int, int, int]) -> tuple[int, int, int]:
        if self.exam.colour:
            return rgb
        grey = max(rgb)  # monochrome files keep overlays bright, in channel 0
        return (grey, grey, grey)

    def _draw_view_marks(self, img: np.ndarray, view: View, lay: ViewLayout) -> None:
        white, grey = self._colour((235, 235, 235)), self._colour((170, 170, 170))
        for d in lay.tick_depths_mm(5):
            row = lay.depth_row(d)
            length = MAJOR_TICK if d % 10 == 0 else MINOR_TICK
            cv2.line(img, (lay.tick_x, row), (lay.tick_x + length - 1, row), white, 1)
            if d % 10 == 0:
                cv2.putText(
                    img,
                    str(d // 10),
                    (lay.tick_x + MAJOR_TICK + 3, row + 4),
                    _TEXT,
                    0.35,
                    grey,
                    1,
                    cv2.LINE_AA,
                )
        x0, y0, x1, y1 = lay.fov
        cv2.putText(img, "cm", (lay.tick_x, y0 - 8), _TEXT, 0.35, grey, 1, cv2.LINE_AA)
        marker = (x0 + 6, max(y0 - 8, BANNER_ROWS + 6))
        cv2.circle(img, marker, 4, self._colour((255, 170, 40)), -1, cv2.LINE_AA)
        focus = lay.depth_row(view.depth_mm * 0.55)
        tri = np.array([[x0 - 12, focus - 4], [x0 - 12, focus + 4], [x0 - 5, focus]], np.int32)
        cv2.fillPoly(img, [tri], self._colour((90, 200, 255)), cv2.LINE_AA)
        cv2.putText(
            img,
            view.label,
            (x0, self.exam.rows - 6),
            _TEXT,
            0.4,
            self._colour((250, 230, 120)),
            1,
            cv2.LINE_AA,
        )

    def _draw_banner(self, img: np.ndarray, index: int) -> None:
        e, view = self.exam, self.exam.views[0]
        white, grey = self._colour((240, 240, 240)), self._colour((175, 175, 175))
        family, _, given = e.patient.name.partition("^")
        start = datetime.datetime.strptime(e.study_date + e.study_time[:6], "%Y%m%d%H%M%S")
        shown = start + datetime.timedelta(seconds=int(index / e.frame_rate))
        when = shown.strftime("%Y-%m-%d %H:%M:%S")
        cv2.putText(
            img,
            f"{family}, {given}   ID {e.patient.patient_id}",
            (8, 18),
            _TEXT,
            0.5,
            white,
            1,
            cv2.LINE_AA,
        )
        cv2.putText(img, when, (e.columns - 160, 18), _TEXT, 0.42, white, 1, cv2.LINE_AA)
        line2 = (
            f"{e.manufacturer} {e.model_name}   {view.probe.model}   {e.description}   "
            f"D {view.depth_mm / 10:.1f} cm   G {view.gain_db}"
        )
        cv2.putText(img, line2, (8, 37), _TEXT, 0.4, grey, 1, cv2.LINE_AA)
        cv2.line(
            img,
            (0, BANNER_ROWS - 1),
            (e.columns - 1, BANNER_ROWS - 1),
            self._colour((80, 80, 90)),
            1,
        )
        if len(e.views) == 1:
            params = [
                view.probe.model,
                "MSK",
                f"Frq {view.probe.frequency_mhz:.1f}",
                f"Gn {view.gain_db}",
                f"D {view.depth_mm / 10:.1f}cm",
                "DR 60",
                f"FR {e.frame_rate:.0f}",
                "MI 1.1",
                "TIs 0.3",
            ]
            for k, text in enumerate(params):
                cv2.putText(
                    img, text, (6, BANNER_ROWS + 28 + 18 * k), _TEXT, 0.38, grey, 1, cv2.LINE_AA
                )
