"""PNG and JPEG exports of annotated frames: the screen's overlay burned in by the same renderer,
with an optional patient banner, millimetre scale bar, legend and "not for diagnosis" watermark.

The banner and the legend are strips added above and below the frame, never painted over the
ultrasound; the scale bar sits inside the calibrated region; the watermark is faint and diagonal,
so it survives cropping without hiding the image.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QTransform,
)

from prolo_planner.core.calibration import CalibratedRegion, Calibration
from prolo_planner.core.geometry import Point
from prolo_planner.core.image_calibration import describe_geometry
from prolo_planner.core.overlay_primitives import (
    Ellipse,
    Line,
    Polygon,
    Primitive,
    Role,
    TargetMarker,
)
from prolo_planner.core.plan import AvoidZone, Target
from prolo_planner.files import write_bytes_atomic
from prolo_planner.render import (
    ensure_gui_app,
    label_scale_for,
    paint_overlay,
    render_annotated_frame,
)
from prolo_planner.render.qimage import frame_to_qimage, qimage_to_frame
from prolo_planner.report.header import ReportHeader
from prolo_planner.report.plan_images import KeyImage, PlanImages
from prolo_planner.report.sites import SiteRow, site_rows

WATERMARK = "Planning image, not for diagnosis"
#: Scale bar lengths, in mm: round numbers read at a glance.
NICE_LENGTHS_MM = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
STRIP = QColor(18, 18, 18)
TEXT = QColor(235, 235, 235)
DIM = QColor(170, 170, 170)
AMBER = QColor(255, 190, 60)
OUTLINE = QColor(0, 0, 0, 220)


class ImageFormat(StrEnum):
    PNG = "png"
    JPEG = "jpeg"

    @property
    def suffix(self) -> str:
        return ".png" if self is ImageFormat.PNG else ".jpg"


@dataclass(frozen=True, slots=True)
class ImageOptions:
    banner: bool = True
    scale_bar: bool = True
    legend: bool = True
    watermark: bool = True
    #: 2.0 doubles the pixels each way (for print); labels keep their size relative to the image.
    scale: float = 1.0
    jpeg_quality: int = 92


DEFAULT_IMAGE_OPTIONS = ImageOptions()


@dataclass(frozen=True, slots=True)
class LegendItem:
    """One line of the legend: a symbol drawn as on the image, and its text."""

    text: str
    symbol: tuple[Primitive, ...] = ()  # in a unit box: x and y from 0 to 1


@dataclass(frozen=True, slots=True)
class ComposedImage:
    pixels: np.ndarray  # RGB uint8
    #: Where the frame lies in `pixels`: x, y, width, height.
    image_box: tuple[int, int, int, int]
    notes: tuple[str, ...] = field(default=())


# -- the legend --------------------------------------------------------------------------------
def legend_items(
    images: PlanImages, key: KeyImage, primitives: Sequence[Primitive]
) -> list[LegendItem]:
    """The targets and avoid zones drawn on the key frame, with their colours on the image."""
    by_id: dict[str, list[Primitive]] = {}
    for p in primitives:
        by_id.setdefault(p.annotation_id, []).append(p)
    rows = {r.target_id: r for r in site_rows(images.plan, images.measurements, images.names)}
    items: list[LegendItem] = []
    zones: list[LegendItem] = []
    for a in images.shown(key):
        drawn = by_id.get(a.id, [])
        if isinstance(a, Target) and a.id in rows:
            marker = next((p for p in drawn if isinstance(p, TargetMarker)), None)
            if marker is None:
                continue
            path_pen = next(
                (
                    p.pen
                    for path in images.plan.paths_to(a.id)
                    for p in by_id.get(path.id, [])
                    if isinstance(p, Line) and p.role is Role.NEEDLE_PATH
                ),
                None,
            )
            symbol: list[Primitive] = []
            if path_pen is not None:
                symbol.append(
                    Line(
                        a=Point(0.0, 0.1),
                        b=Point(0.55, 0.55),
                        pen=path_pen,
                        annotation_id="",
                        role=Role.NEEDLE_PATH,
                    )
                )
            symbol.append(
                TargetMarker(
                    centre=Point(0.55, 0.55),
                    colour=marker.colour,
                    status=marker.status,
                    radius=marker.radius,
                    annotation_id="",
                )
            )
            items.append(LegendItem(_target_text(rows[a.id]), tuple(symbol)))
        elif isinstance(a, AvoidZone):
            body = next((p for p in drawn if isinstance(p, Polygon | Ellipse)), None)
            if body is None:
                continue
            swatch = Polygon(
                points=(Point(0.1, 0.2), Point(0.9, 0.2), Point(0.9, 0.8), Point(0.1, 0.8)),
                pen=body.pen,
                fill=body.fill,
                annotation_id="",
                role=Role.ZONE,
            )
            name = a.name or a.kind.value
            kind = "" if a.name == a.kind.value else f" ({a.kind.value})"
            zones.append(
                LegendItem(f"Avoid: {name}{kind}, keep {a.margin_mm:g} mm clear", (swatch,))
            )
    return items + zones


def _target_text(row: SiteRow) -> str:
    text = f"{row.number}. {row.name}: {row.depth} deep"
    if row.path_length not in ("-", "no path"):
        text += f", path {row.path_length} at {row.angle}"
    text += f", {row.volume}"
    if row.status != "planned":
        text += f" ({row.status})"
    return text


# -- composing ---------------------------------------------------------------------------------
def _font(px: float, bold: bool = False) -> QFont:
    font = QFont("DejaVu Sans")
    font.setPixelSize(max(6, round(px)))
    font.setBold(bold)
    return font


def reference_region(calibration: Calibration, columns: int, rows: int) -> CalibratedRegion | None:
    """The region whose spacing the bar shows: the one at the frame's centre, else the largest."""
    if not calibration.is_calibrated:
        return None
    region = calibration.region_at(Point(columns / 2.0, rows / 2.0))
    return region or max(calibration.regions, key=lambda r: r.area)


def scale_bar_mm(region: CalibratedRegion, max_px: float) -> float:
    """The longest nice length no longer than max_px image pixels across (1 mm at least)."""
    chosen = NICE_LENGTHS_MM[0]
    for length in NICE_LENGTHS_MM:
        if length / region.mm_per_px_x <= max_px:
            chosen = length
    return chosen


def _outlined_text(painter: QPainter, at: QPointF, text: str, font: QFont, colour: QColor) -> None:
    path = QPainterPath()
    path.addText(at, font, text)
    pen = QPen(OUTLINE, max(2.0, font.pixelSize() / 4.0))
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.strokePath(path, pen)
    painter.fillPath(path, colour)


def _paint_scale_bar(
    painter: QPainter, calibration: Calibration, size: tuple[int, int], zoom: float, s: float
) -> str | None:
    """The bar at the bottom right of the calibrated region; a note when there is none."""
    columns, rows = size
    region = reference_region(calibration, columns, rows)
    if region is None:
        return "no scale bar: the image is not calibrated"
    x1 = min(region.x1, columns - 1) * zoom - 14 * s
    y = min(region.y1, rows - 1) * zoom - 14 * s
    width = (min(region.x1, columns - 1) - max(region.x0, 0)) * zoom
    mm = scale_bar_mm(region, width / 4.0 / zoom)
    length = mm / region.mm_per_px_x * zoom
    x0 = x1 - length
    tick = 6 * s
    for pen in (QPen(OUTLINE, 5 * s), QPen(TEXT, 2.2 * s)):
        pen.setCapStyle(Qt.PenCapStyle.SquareCap)
        painter.setPen(pen)
        painter.drawLine(QPointF(x0, y), QPointF(x1, y))
        painter.drawLine(QPointF(x0, y - tick), QPointF(x0, y))
        painter.drawLine(QPointF(x1, y - tick), QPointF(x1, y))
    font = _font(12 * s, bold=True)
    label = f"{mm:g} mm"
    w = QFontMetricsF(font).horizontalAdvance(label)
    _outlined_text(painter, QPointF((x0 + x1 - w) / 2, y - tick - 5 * s), label, font, TEXT)
    return None


def _watermarked(frame: np.ndarray, s: float) -> np.ndarray:
    """Faint diagonal text across the frame: still there when the strips are cropped off."""
    image = frame_to_qimage(frame).convertToFormat(QImage.Format.Format_RGB32)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    try:
        _paint_watermark(painter, image.width(), image.height(), s)
    finally:
        painter.end()
    return qimage_to_frame(image)


def _paint_watermark(painter: QPainter, width: int, height: int, s: float) -> None:
    diagonal = math.hypot(width, height)
    font = _font(10 * s, bold=True)
    advance = QFontMetricsF(font).horizontalAdvance(WATERMARK)
    font.setPixelSize(max(8, round(font.pixelSize() * 0.6 * diagonal / advance)))
    advance = QFontMetricsF(font).horizontalAdvance(WATERMARK)
    painter.save()
    painter.translate(width / 2.0, height / 2.0)
    painter.rotate(-math.degrees(math.atan2(height, width)))
    path = QPainterPath()
    path.addText(QPointF(-advance / 2.0, font.pixelSize() / 3.0), font, WATERMARK)
    painter.strokePath(path, QPen(QColor(0, 0, 0, 45), max(1.5, s)))
    painter.fillPath(path, QColor(255, 255, 255, 55))
    painter.restore()


def _elided(text: str, font: QFont, width: float) -> str:
    return QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, width)


def compose(
    frame: np.ndarray,
    primitives: Iterable[Primitive],
    *,
    calibration: Calibration,
    options: ImageOptions = DEFAULT_IMAGE_OPTIONS,
    header: ReportHeader | None = None,
    caption: str = "",
    legend: Sequence[LegendItem] = (),
) -> ComposedImage:
    """The annotated frame with the options' banner, scale bar, legend and watermark."""
    ensure_gui_app()
    rows, columns = frame.shape[:2]
    zoom = options.scale
    s = label_scale_for(columns, rows) * zoom
    if options.watermark:
        # Under the overlay: the watermark must never make a label or a needle path harder to read.
        frame = _watermarked(frame, label_scale_for(columns, rows))
    annotated = frame_to_qimage(render_annotated_frame(frame, primitives, zoom)).convertToFormat(
        QImage.Format.Format_RGB32
    )
    notes: list[str] = []
    if options.scale_bar:
        painter = QPainter(annotated)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        try:
            note = _paint_scale_bar(painter, calibration, (columns, rows), zoom, s)
        finally:
            painter.end()
        if note:
            notes.append(note)
    # How depths were measured on this image: the probe and where depth zero comes from (a
    # guess says so, as the screen's depth box does).
    notes += describe_geometry(calibration)

    width, height = annotated.width(), annotated.height()
    pad = 10 * s
    text_px = 12.5 * s
    line = text_px * 1.45
    banner_lines: list[tuple[str, QFont, QColor]] = []
    if options.banner and header is not None:
        banner_lines.append((header.patient_line, _font(text_px, bold=True), TEXT))
        banner_lines.append((header.session_line, _font(text_px), TEXT))
        if caption:
            banner_lines.append((caption, _font(text_px * 0.92), DIM))
    if options.watermark and (banner_lines or (options.legend and legend)):
        banner_lines.append((WATERMARK.upper(), _font(text_px * 0.92, bold=True), AMBER))
    legend_rows = list(legend) if options.legend else []
    if options.legend and notes:
        legend_rows += [LegendItem(n) for n in notes]
    top = round(2 * pad + line * len(banner_lines)) if banner_lines else 0
    bottom = round(2 * pad + line * len(legend_rows)) if legend_rows else 0
    canvas = QImage(width, top + height + bottom, QImage.Format.Format_RGB32)
    canvas.fill(STRIP)
    painter = QPainter(canvas)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    try:
        painter.drawImage(0, top, annotated)
        y = pad
        for text, font, colour in banner_lines:
            painter.setFont(font)
            painter.setPen(colour)
            painter.drawText(
                QRectF(pad, y, width - 2 * pad, line),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                _elided(text, font, width - 2 * pad),
            )
            y += line
        y = top + height + pad
        symbol = line * 1.8
        font = _font(text_px * 0.95)
        for item in legend_rows:
            if item.symbol:
                box = QTransform(symbol * 0.75, 0, 0, line * 0.9, pad, y + line * 0.05)
                paint_overlay(painter, item.symbol, image_to_device=box, device_pixel_scale=s)
            painter.setFont(font)
            painter.setPen(TEXT if item.symbol else DIM)
            left = pad + symbol
            painter.drawText(
                QRectF(left, y, width - left - pad, line),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                _elided(item.text, font, width - left - pad),
            )
            y += line
    finally:
        painter.end()
    return ComposedImage(qimage_to_frame(canvas), (0, top, width, height), tuple(notes))


def key_image(
    images: PlanImages,
    key: KeyImage,
    *,
    header: ReportHeader | None = None,
    options: ImageOptions = DEFAULT_IMAGE_OPTIONS,
    masked: bool = False,
) -> ComposedImage:
    """One key frame of the plan as it goes to the chart."""
    primitives = images.primitives(key)
    return compose(
        images.frame(key, masked=masked),
        primitives,
        calibration=images.calibrations[key.image.id],
        options=options,
        header=header,
        caption=key.caption,
        legend=legend_items(images, key, primitives),
    )


# -- files -------------------------------------------------------------------------------------
def encode(pixels: np.ndarray, fmt: ImageFormat, quality: int = 92) -> bytes:
    """The pixels as PNG (lossless) or JPEG bytes."""
    ensure_gui_app()
    image = frame_to_qimage(np.ascontiguousarray(pixels))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    ok = image.save(buffer, "PNG" if fmt is ImageFormat.PNG else "JPEG", quality)
    buffer.close()
    if not ok:
        raise OSError(f"the image could not be encoded as {fmt.value.upper()}")
    return bytes(data.data())


def write_image(path: Path, pixels: np.ndarray, fmt: ImageFormat, quality: int = 92) -> Path:
    """Written atomically, readable by this user only (0600): it shows a patient."""
    return write_bytes_atomic(path, encode(pixels, fmt, quality))
