"""The PDF session report for the chart (QPdfWriter, A4): patient and session, the injection sites
table, totals, warnings and whether they were acknowledged, pain scores, annotated key images,
page numbers and a signature line.

Laid out twice: a first pass counts the pages (so every footer can say "page n of N"), the second
paints; both use the same code, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
)

from prolo_planner import __version__
from prolo_planner.core.safety import Severity
from prolo_planner.files import write_bytes_atomic
from prolo_planner.render import ensure_gui_app
from prolo_planner.render.qimage import frame_to_qimage
from prolo_planner.report.content import ReportContent
from prolo_planner.report.sites import SiteRow
from prolo_planner.store.records import sex_text

TITLE = "Prolotherapy session report"
FOOTER = "Planning report made with Prolo Planner: not for diagnosis"
DPI = 300
#: Two key images and their captions fit on one A4 page.
MAX_IMAGE_HEIGHT = 300 * 100 / 25.4
MARGIN_MM = 15.0
FONT = "DejaVu Sans"
INK = QColor(20, 20, 20)
GREY = QColor(105, 105, 105)
RULE = QColor(170, 170, 170)
SHADE = QColor(236, 236, 236)
SEVERITY_COLOUR = {
    Severity.DANGER: QColor(190, 20, 20),
    Severity.WARNING: QColor(170, 100, 0),
    Severity.INFO: QColor(60, 90, 140),
}
#: Site table: (heading, share of the width, the row's text).
COLUMNS: tuple[tuple[str, float, Callable[[SiteRow], str]], ...] = (
    ("#", 0.03, lambda r: str(r.number)),
    ("Target", 0.195, lambda r: f"{r.name}\n{r.status}" + (f" · {r.side}" if r.side else "")),
    ("Kind", 0.11, lambda r: r.kind),
    ("Depth", 0.095, lambda r: r.depth),
    ("Path length", 0.095, lambda r: r.path_length),
    ("Angle", 0.07, lambda r: r.angle),
    ("Approach", 0.125, lambda r: r.approach or "-"),
    ("Injectate", 0.19, lambda r: r.injectate),
    ("Volume", 0.09, lambda r: r.volume),
)


def mm(value: float) -> float:
    return value * DPI / 25.4


def _font(points: float, bold: bool = False) -> QFont:
    font = QFont(FONT)
    font.setPointSizeF(points)
    font.setBold(bold)
    # No "fi" ligatures: a reader searching or copying the report's text gets plain letters.
    if hasattr(font, "setFeature"):  # Qt 6.7 and later
        font.setFeature(QFont.Tag("liga"), 0)
    return font


@dataclass(slots=True)
class _Page:
    """Where the next block goes; a new page when a block does not fit."""

    painter: QPainter
    writer: QPdfWriter
    content: ReportContent
    total: int  # pages in all (0 on the counting pass)
    width: float
    height: float
    number: int = 1
    y: float = 0.0
    #: The document's name in the running head, and the footer's line (the procedure note
    #: prints its own on the same page furniture).
    title: str = TITLE
    footer_text: str = FOOTER

    def metrics(self, font: QFont) -> QFontMetricsF:
        return QFontMetricsF(font, self.writer)

    def text_height(self, text: str, font: QFont, width: float) -> float:
        flags = int(Qt.TextFlag.TextWordWrap)
        return self.metrics(font).boundingRect(QRectF(0, 0, width, 1e6), flags, text).height()

    @property
    def bottom(self) -> float:
        return self.height - mm(10)  # room for the footer

    def need(self, height: float) -> None:
        if self.y + height > self.bottom and self.y > self.top:
            self.new_page()

    @property
    def top(self) -> float:
        return mm(9) if self.number > 1 else 0.0

    def new_page(self) -> None:
        self.footer()
        self.writer.newPage()
        self.number += 1
        self.y = self.top
        self.running_head()

    def text(
        self,
        text: str,
        font: QFont,
        colour: QColor = INK,
        x: float = 0.0,
        width: float | None = None,
    ) -> None:
        width = self.width - x if width is None else width
        height = self.text_height(text, font, width)
        self.need(height)
        self.painter.setFont(font)
        self.painter.setPen(colour)
        self.painter.drawText(QRectF(x, self.y, width, height), int(Qt.TextFlag.TextWordWrap), text)
        self.y += height

    def gap(self, millimetres: float) -> None:
        self.y += mm(millimetres)

    def heading(self, text: str) -> None:
        font = _font(12, bold=True)
        self.need(self.text_height(text, font, self.width) + mm(14))  # never alone at the foot
        self.gap(4)
        self.text(text, font)
        self.painter.setPen(QPen(RULE, mm(0.25)))
        self.painter.drawLine(0, round(self.y + mm(1)), round(self.width), round(self.y + mm(1)))
        self.gap(2.5)

    def running_head(self) -> None:
        if self.number == 1:
            return
        h = self.content.header
        self.painter.setFont(_font(8))
        self.painter.setPen(GREY)
        self.painter.drawText(
            QRectF(0, 0, self.width, mm(6)),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
            f"{self.title} · {h.patient_name} · ID {h.patient_id} · {h.when}",
        )

    def footer(self) -> None:
        h = self.content.header
        y = self.height - mm(6)
        self.painter.setPen(QPen(RULE, mm(0.2)))
        self.painter.drawLine(0, round(y - mm(1.5)), round(self.width), round(y - mm(1.5)))
        self.painter.setFont(_font(7.5))
        self.painter.setPen(GREY)
        box = QRectF(0, y, self.width, mm(6))
        left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.painter.drawText(box, left, f"{h.patient_name} · ID {h.patient_id}")
        centre = int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.painter.drawText(box, centre, self.footer_text)
        right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        pages = f"Page {self.number} of {self.total}" if self.total else f"Page {self.number}"
        self.painter.drawText(box, right, pages)


# -- the sections --------------------------------------------------------------------------------
def _title(page: _Page) -> None:
    c = page.content
    page.text(TITLE, _font(18, bold=True))
    if c.header.plan_title:
        page.text(c.header.plan_title, _font(11), GREY)
    page.gap(3)
    h = c.header
    weight = f"{h.weight_kg:g} kg" if h.weight_kg else "not recorded"
    pain = f"before {_score(h.pain_before)}, after {_score(h.pain_after)} (0-10)"
    left = [
        ("Patient", h.patient_name or "(no name)"),
        ("Patient ID", h.patient_id or "(none)"),
        ("Born", h.birth_date or "-"),
        ("Sex", sex_text(h.sex) or "-"),
        ("Weight", weight),
    ]
    session = "-" if h.session_id is None else f"#{h.session_id}, version {h.session_version}"
    right = [
        ("Session", session),
        ("Date", h.when or "-"),
        ("Region and side", h.where or "-"),
        ("Clinician", h.clinician or "-"),
        ("State", h.state_text),
        ("Pain", pain),
    ]
    if h.is_deidentified:
        left = [("Patient", h.patient_name), ("Patient ID", h.patient_id)]
        dates = "dates moved back" if h.started_at else "dates removed"
        left.append(
            (
                "",
                "De-identified for teaching: names, IDs, birth date, weight and the typed text "
                f"not approved removed; {dates}",
            )
        )
    top = page.y
    heights = [_pairs(page, left, 0.0, page.width * 0.48), 0.0]
    page.y = top
    heights[1] = _pairs(page, right, page.width * 0.52, page.width * 0.48)
    page.y = top + max(heights)
    for problem in c.problems:
        page.gap(1.5)
        page.text(f"Note: {problem}", _font(9), SEVERITY_COLOUR[Severity.WARNING])


def _score(value: int | None) -> str:
    return "-" if value is None else str(value)


def _pairs(page: _Page, pairs: Sequence[tuple[str, str]], x: float, width: float) -> float:
    top = page.y
    label_w = width * 0.40
    for label, value in pairs:
        font = _font(9.5)
        height = page.text_height(value, font, width - label_w)
        page.painter.setFont(_font(9.5, bold=True))
        page.painter.setPen(GREY)
        page.painter.drawText(QRectF(x, page.y, label_w, height), 0, label)
        page.painter.setFont(font)
        page.painter.setPen(INK)
        page.painter.drawText(
            QRectF(x + label_w, page.y, width - label_w, height),
            int(Qt.TextFlag.TextWordWrap),
            value,
        )
        page.y += height + mm(0.8)
    return page.y - top


def _row_height(page: _Page, cells: Sequence[str], font: QFont, pad: float) -> float:
    widths = [page.width * share for _, share, _ in COLUMNS]
    tallest = max(
        page.text_height(text, font, w - 2 * pad) for text, w in zip(cells, widths, strict=True)
    )
    return tallest + 2 * pad


def _row_cells(
    page: _Page, cells: Sequence[str], font: QFont, shade: QColor | None, pad: float
) -> None:
    height = _row_height(page, cells, font, pad)
    if shade is not None:
        page.painter.fillRect(QRectF(0, page.y, page.width, height), shade)
    page.painter.setFont(font)
    page.painter.setPen(INK)
    x = 0.0
    for text, (_, share, _) in zip(cells, COLUMNS, strict=True):
        w = page.width * share
        page.painter.drawText(
            QRectF(x + pad, page.y + pad, w - 2 * pad, height - 2 * pad),
            int(Qt.TextFlag.TextWordWrap),
            text,
        )
        x += w
    page.y += height
    page.painter.setPen(QPen(RULE, mm(0.15)))
    page.painter.drawLine(0, round(page.y), round(page.width), round(page.y))


def _sites(page: _Page) -> None:
    page.heading("Injection sites")
    rows = page.content.sites
    if not rows:
        page.text("No targets planned.", _font(9.5), GREY)
        return
    head, head_font, font, pad = [h for h, _, _ in COLUMNS], _font(8.5, True), _font(8.5), mm(1)
    head_h = _row_height(page, head, head_font, pad)
    page.need(head_h + _row_height(page, [c(rows[0]) for _, _, c in COLUMNS], font, pad))
    _row_cells(page, head, head_font, SHADE, pad)
    for row in rows:
        cells = [cell(row) for _, _, cell in COLUMNS]
        height = _row_height(page, cells, font, pad)
        if page.y + height > page.bottom:
            page.new_page()  # the table goes on: its headings again at the top
            _row_cells(page, head, head_font, SHADE, pad)
        _row_cells(page, cells, font, None, pad)
    page.gap(2)
    for line in page.content.totals:
        page.text(line, _font(9.5, bold=True))


def _warnings(page: _Page) -> None:
    page.heading("Safety warnings")
    warnings = page.content.warnings
    if not warnings:
        page.text("No warnings.", _font(9.5), GREY)
        return
    acknowledged = sum(w.acknowledged for w in warnings)
    page.text(
        f"{len(warnings)} warning(s), {acknowledged} acknowledged by the clinician.",
        _font(9),
        GREY,
    )
    page.gap(1)
    for item in warnings:
        w = item.warning
        state = "acknowledged" if item.acknowledged else "NOT acknowledged"
        label = f"{w.severity.value.upper()} · {state}"
        font = _font(9.5)
        height = page.text_height(w.message, font, page.width * 0.72)
        page.need(height + mm(1.5))
        page.painter.setFont(_font(8.5, bold=True))
        page.painter.setPen(SEVERITY_COLOUR[w.severity])
        page.painter.drawText(
            QRectF(0, page.y, page.width * 0.27, height), int(Qt.TextFlag.TextWordWrap), label
        )
        page.text(w.message, font, INK, x=page.width * 0.28, width=page.width * 0.72)
        page.gap(1.5)


def _pain(page: _Page) -> None:
    page.heading("Pain scores (0-10 numeric rating scale)")
    entries = page.content.pain
    if not entries:
        h = page.content.header
        page.text(f"Before {_score(h.pain_before)}, after {_score(h.pain_after)}.", _font(9.5))
        return
    for e in entries:
        when = f", {e.when}" if e.when else ""
        mark = "  (this session)" if e.current else ""
        page.text(
            f"Session {e.session}{when}: before {_score(e.before)}, after {_score(e.after)}{mark}",
            _font(9.5, bold=e.current),
        )


def _notes(page: _Page) -> None:
    notes = page.content.notes
    if not notes:
        return
    page.heading("Notes")
    for note in notes:
        page.text(note, _font(9.5))
        page.gap(1)


def _images(page: _Page) -> None:
    images = page.content.images
    if not images:
        return
    first = frame_to_qimage(images[0].pixels)
    page.need(mm(14) + _image_size(page, first)[1])  # the heading goes with its first image
    page.heading("Key images")
    for picture in images:
        image = frame_to_qimage(picture.pixels)
        width, height = _image_size(page, image)
        caption = _font(9)
        caption_h = page.text_height(picture.caption, caption, width)
        page.need(height + caption_h + mm(4))
        x = (page.width - width) / 2
        page.painter.drawImage(QRectF(x, page.y, width, height), image)
        page.y += height + mm(1)
        page.text(picture.caption, caption, GREY, x=x, width=width)
        page.gap(4)


def _image_size(page: _Page, image: QImage) -> tuple[float, float]:
    """As wide as most of the text, but never so tall that two images cannot share a page."""
    width = page.width * 0.8
    height = width * image.height() / image.width()
    if height > MAX_IMAGE_HEIGHT:
        width, height = width * MAX_IMAGE_HEIGHT / height, MAX_IMAGE_HEIGHT
    return width, height


def _signature(page: _Page) -> None:
    h = page.content.header
    page.need(mm(40))
    page.heading("Signature")
    if h.signed and h.signed_by:
        page.text(
            f"Signed electronically in Prolo Planner by {h.signed_by} on {h.signed_at[:10]}.",
            _font(9.5),
        )
        page.gap(3)
    if h.signed and h.signed_over:
        page.text("Signed over, unresolved when the plan was signed:", _font(9.5, bold=True))
        for item in h.signed_over:
            page.text(f"•  {item}", _font(9), x=mm(3), width=page.width - mm(3))
        page.gap(3)
    page.gap(10)
    y = round(page.y)
    page.painter.setPen(QPen(INK, mm(0.25)))
    page.painter.drawLine(0, y, round(page.width * 0.55), y)
    page.painter.drawLine(round(page.width * 0.65), y, round(page.width), y)
    page.gap(1)
    top = page.y
    who = f"Clinician: {h.clinician}" if h.clinician else "Clinician"
    page.text(who, _font(8.5), GREY, width=page.width * 0.55)
    page.y = top
    page.text("Date", _font(8.5), GREY, x=page.width * 0.65, width=page.width * 0.35)


#: The signature closes what the clinician attests (the text); the key images follow it.
SECTIONS = (_title, _sites, _warnings, _pain, _notes, _signature, _images)


def _paint(writer: QPdfWriter, content: ReportContent, total: int) -> int:
    painter = QPainter(writer)
    try:
        layout = writer.pageLayout()
        rect = layout.paintRectPixels(DPI)
        page = _Page(painter, writer, content, total, float(rect.width()), float(rect.height()))
        for section in SECTIONS:
            section(page)
        page.footer()
        return page.number
    finally:
        painter.end()


def _writer(device: QIODevice, content: ReportContent, title: str = TITLE) -> QPdfWriter:
    writer = QPdfWriter(device)
    writer.setResolution(DPI)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
            QPageLayout.Unit.Millimeter,
        )
    )
    h = content.header
    writer.setTitle(f"{title}: {h.patient_name}, {h.when}".strip(", "))
    writer.setCreator(f"Prolo Planner {__version__}")
    return writer


def report_pdf(content: ReportContent) -> bytes:
    """The report as PDF bytes."""
    ensure_gui_app()
    counting = QBuffer()
    counting.open(QIODevice.OpenModeFlag.WriteOnly)
    total = _paint(_writer(counting, content), content, 0)
    counting.close()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    pages = _paint(_writer(buffer, content), content, total)
    buffer.close()
    assert pages == total, "the two layout passes must agree"
    return bytes(data.data())


def write_report(content: ReportContent, path: Path | str) -> Path:
    """Written atomically, readable by this user only (0600): it is a patient's record."""
    return write_bytes_atomic(Path(path), report_pdf(content))
