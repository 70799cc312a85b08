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
from prolo_planner.core.legend import legend_keys
from prolo_planner.core.overlay import measurement_text
from prolo_planner.core.overlay_primitives import (
    Colour,
    Ellipse,
    Label,
    Line,
    Placement,
    Polygon,
    Primitive,
    Role,
    TargetMarker,
)
from prolo_planner.core.plan import (
    AngleMeasurement,
    Annotation,
    AvoidZone,
    Caliper,
    Target,
    TextNote,
)
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
    """One line of the legend: a symbol drawn as on the image, the key its label carries on
    the image (a site's number, a letter) in a badge of its colour, and its text."""

    text: str
    symbol: tuple[Primitive, ...] = ()  # in a unit box: x and y from 0 to 1
    key: str = ""
    colour: Colour | None = None


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
    """What is drawn on the key frame, by the keys on its labels: the targets by site number,
    then the zones, calipers, angles and notes by letter, each with its colour on the image."""
    by_id: dict[str, list[Primitive]] = {}
    for p in primitives:
        by_id.setdefault(p.annotation_id, []).append(p)
    rows = {r.target_id: r for r in site_rows(images.plan, images.measurements, images.names)}
    keys = legend_keys(images.plan, key.image.id)
    targets: list[LegendItem] = []
    lettered: list[LegendItem] = []
    for a in images.shown(key):
        drawn = by_id.get(a.id, [])
        label = next((p for p in drawn if isinstance(p, Label)), None)
        colour = label.colour if label is not None else None
        if isinstance(a, Target) and a.id in rows:
            marker = next((p for p in drawn if isinstance(p, TargetMarker)), None)
            if marker is None:
                continue
            item = LegendItem(
                _target_text(rows[a.id]),
                _target_symbol(images, a, marker, by_id),
                keys.get(a.id, ""),
                colour or marker.colour,
            )
            targets.append(item)
            continue
        text = _lettered_text(a, images)
        if text is None or not drawn:
            continue
        symbol: tuple[Primitive, ...] = ()
        body = next((p for p in drawn if isinstance(p, Polygon | Ellipse)), None)
        if body is not None:
            symbol = (
                Polygon(
                    points=(Point(0.1, 0.2), Point(0.9, 0.2), Point(0.9, 0.8), Point(0.1, 0.8)),
                    pen=body.pen,
                    fill=body.fill,
                    annotation_id="",
                    role=Role.ZONE,
                ),
            )
        lettered.append(LegendItem(text, symbol, keys.get(a.id, ""), colour))
    return targets + lettered


def _target_symbol(
    images: PlanImages, target: Target, marker: TargetMarker, by_id: dict[str, list[Primitive]]
) -> tuple[Primitive, ...]:
    """The target's marker, with a stroke of its needle path's pen when it has one."""
    path_pen = next(
        (
            p.pen
            for path in images.plan.paths_to(target.id)
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
    return tuple(symbol)


def _lettered_text(a: Annotation, images: PlanImages) -> str | None:
    """A zone, caliper, angle or note in words; None for what the legend does not list."""
    if isinstance(a, AvoidZone):
        name = a.name or a.kind.value
        kind = "" if a.name == a.kind.value else f" ({a.kind.value})"
        return f"Avoid: {name}{kind}, keep {a.margin_mm:g} mm clear"
    if isinstance(a, Caliper | AngleMeasurement):
        found = images.measurements.of(a.id)
        what = "Caliper" if isinstance(a, Caliper) else "Angle"
        named = f" {a.label}" if a.label else ""
        return f"{what}{named}: {measurement_text(found[0])}" if found else f"{what}{named}"
    if isinstance(a, TextNote):
        return f"Note: {a.text}" if a.text.strip() else None
    return None


def _target_text(row: SiteRow) -> str:
    text = f"{row.name}: {row.depth} deep"
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


@dataclass(frozen=True, slots=True)
class ScaleBarSpot:
    """Where an export's scale bar goes, in image pixels: the bar from x0 to x1 at row y, its
    length in mm, and the box it and its text cover (the labels keep off it)."""

    mm: float
    x0: float
    x1: float
    y: float
    box: tuple[float, float, float, float]


#: Scale bar geometry in screen pixels (times the label scale in an export).
_BAR_INSET, _BAR_TICK, _BAR_TEXT = 14.0, 6.0, 12.0


def scale_bar_spot(
    calibration: Calibration,
    size: tuple[int, int],
    avoid: Sequence[tuple[float, float, float, float]] = (),
) -> ScaleBarSpot | None:
    """The bar in a corner of the calibrated region, the bottom right if the scanner's text
    (`avoid`) leaves it free, else the first corner it does; None without calibration."""
    columns, rows = size
    region = reference_region(calibration, columns, rows)
    if region is None:
        return None
    k = label_scale_for(columns, rows)
    left, top = max(region.x0, 0), max(region.y0, 0)
    right, bottom = min(region.x1, columns - 1), min(region.y1, rows - 1)
    mm = scale_bar_mm(region, (right - left) / 4.0)
    length = mm / region.mm_per_px_x
    inset = _BAR_INSET * k
    above = (_BAR_TICK + 5.0 + _BAR_TEXT * 1.3) * k
    spots = []
    for x1 in (right - inset, left + inset + length):
        for y in (bottom - inset, top + inset + above):
            box = (x1 - length - 3 * k, y - above, x1 + 3 * k, y + 3 * k)
            spots.append(ScaleBarSpot(mm, x1 - length, x1, y, box))
    # Bottom right, bottom left, top right, top left.
    ordered = [spots[0], spots[2], spots[1], spots[3]]
    return next(
        (s for s in ordered if not any(_overlap(s.box, b) for b in avoid)),
        ordered[0],
    )


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _paint_scale_bar(painter: QPainter, spot: ScaleBarSpot, zoom: float, s: float) -> None:
    x0, x1, y = spot.x0 * zoom, spot.x1 * zoom, spot.y * zoom
    tick = _BAR_TICK * s
    for pen in (QPen(OUTLINE, 5 * s), QPen(TEXT, 2.2 * s)):
        pen.setCapStyle(Qt.PenCapStyle.SquareCap)
        painter.setPen(pen)
        painter.drawLine(QPointF(x0, y), QPointF(x1, y))
        painter.drawLine(QPointF(x0, y - tick), QPointF(x0, y))
        painter.drawLine(QPointF(x1, y - tick), QPointF(x1, y))
    font = _font(_BAR_TEXT * s, bold=True)
    label = f"{spot.mm:g} mm"
    w = QFontMetricsF(font).horizontalAdvance(label)
    _outlined_text(painter, QPointF((x0 + x1 - w) / 2, y - tick - 5 * s), label, font, TEXT)


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
    bar: ScaleBarSpot | None = None,
) -> ComposedImage:
    """The annotated frame with the options' banner, scale bar, legend and watermark.

    `bar` is where the scale bar goes (scale_bar_spot, which the labels were placed to keep
    clear of); by default the bottom right of the calibrated region."""
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
        bar = bar or scale_bar_spot(calibration, (columns, rows))
        if bar is None:
            notes.append("no scale bar: the image is not calibrated")
        else:
            painter = QPainter(annotated)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            try:
                _paint_scale_bar(painter, bar, zoom, s)
            finally:
                painter.end()
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
        badge = line * 1.6 if any(item.key for item in legend_rows) else 0.0
        font = _font(text_px * 0.95)
        for item in legend_rows:
            if item.symbol:
                box = QTransform(symbol * 0.75, 0, 0, line * 0.9, pad, y + line * 0.05)
                paint_overlay(painter, item.symbol, image_to_device=box, device_pixel_scale=s)
            if item.key:
                # The key as the image's labels show it: a badge of the label's colour.
                key_label = Label(
                    text="",
                    key=item.key,
                    anchor=Point(pad + symbol + badge / 2, y + line / 2),
                    colour=item.colour or Colour(235, 235, 235),
                    placement=Placement.CENTRE,
                    size=text_px * 0.95 / s,
                    annotation_id="",
                )
                paint_overlay(
                    painter, (key_label,), image_to_device=QTransform(), device_pixel_scale=s
                )
            painter.setFont(font)
            painter.setPen(TEXT if item.symbol or item.key else DIM)
            left = pad + symbol + badge
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
    """One key frame of the plan as it goes to the chart: the scale bar placed first, off the
    scanner's text, and the labels placed off it."""
    calibration = images.calibrations[key.image.id]
    info = images.sources[key.image.id].info
    bar = None
    if options.scale_bar:
        bar = scale_bar_spot(calibration, (info.columns, info.rows), images.burned_in(key))
    keep_out = (bar.box,) if bar is not None else ()
    primitives = images.primitives(key, scale=options.scale, keep_out=keep_out)
    return compose(
        images.frame(key, masked=masked),
        primitives,
        calibration=calibration,
        options=options,
        header=header,
        caption=key.caption,
        legend=legend_items(images, key, primitives),
        bar=bar,
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
