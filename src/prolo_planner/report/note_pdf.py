"""The procedure note as a PDF (A4), with the same page furniture as the session report: the
note's text, its signature, then the key images that show each needle at its target.

Laid out twice like the report (report.pdf), so every footer can say "page n of N".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF
from PySide6.QtGui import QPainter, QPdfWriter, QPen

from prolo_planner.files import write_bytes_atomic
from prolo_planner.render import ensure_gui_app
from prolo_planner.render.qimage import frame_to_qimage
from prolo_planner.report import pdf
from prolo_planner.report.procedure_note import ProcedureNote

FOOTER = "Procedure note made with Prolo Planner"


@dataclass(frozen=True, slots=True)
class NotePicture:
    caption: str
    pixels: np.ndarray  # RGB uint8, annotated


@dataclass(frozen=True, slots=True)
class NotePdf:
    """What the PDF prints: the note, and its key images rendered."""

    note: ProcedureNote
    pictures: tuple[NotePicture, ...] = ()

    @property
    def header(self) -> object:  # what the page furniture reads (running head, footer)
        return self.note.header


def _title(page: pdf._Page, note: ProcedureNote) -> None:
    page.text(note.title, pdf._font(18, bold=True))
    page.text(note.subtitle, pdf._font(11), pdf.GREY)
    page.gap(3)
    if note.missing:
        page.text(
            "Incomplete record, not yet signable. Missing: " + "; ".join(note.missing) + ".",
            pdf._font(9.5, bold=True),
            pdf.SEVERITY_COLOUR[pdf.Severity.WARNING],
        )
        page.gap(2)
    label_w = page.width * 0.2
    for label, value in note.facts:
        font = pdf._font(9.5)
        height = page.text_height(value, font, page.width - label_w)
        page.need(height)
        page.painter.setFont(pdf._font(9.5, bold=True))
        page.painter.setPen(pdf.GREY)
        page.painter.drawText(QRectF(0, page.y, label_w, height), 0, label)
        page.text(value, font, x=label_w, width=page.width - label_w)
        page.gap(0.8)


def _sections(page: pdf._Page, sections: Sequence[tuple[str, Sequence[str]]]) -> None:
    for heading, paragraphs in sections:
        page.heading(heading)
        for paragraph in paragraphs:
            indent = page.width * 0.03 if _is_item(paragraph) else 0.0
            page.text(paragraph, pdf._font(9.5), x=indent, width=page.width - indent)
            page.gap(1.2)


def _is_item(paragraph: str) -> bool:
    head = paragraph.split(" ", 1)[0]
    return head == "-" or (head.endswith(".") and head[:-1].isdigit())


def _signature(page: pdf._Page, note: ProcedureNote) -> None:
    page.need(pdf.mm(34))
    page.heading("Signature")
    page.text(note.signature, pdf._font(9.5, bold=note.header.signed))
    page.gap(10)
    y = round(page.y)
    page.painter.setPen(QPen(pdf.INK, pdf.mm(0.25)))
    page.painter.drawLine(0, y, round(page.width * 0.55), y)
    page.painter.drawLine(round(page.width * 0.65), y, round(page.width), y)
    page.gap(1)
    top = page.y
    who = f"Clinician: {note.header.clinician}" if note.header.clinician else "Clinician"
    page.text(who, pdf._font(8.5), pdf.GREY, width=page.width * 0.55)
    page.y = top
    page.text(
        "Date and time", pdf._font(8.5), pdf.GREY, x=page.width * 0.65, width=page.width * 0.35
    )


def _pictures(page: pdf._Page, content: NotePdf) -> None:
    if not content.pictures:
        return
    first = frame_to_qimage(content.pictures[0].pixels)
    page.need(pdf.mm(14) + pdf._image_size(page, first)[1])
    page.heading("Key images: the needle at its target")
    for n, picture in enumerate(content.pictures, start=1):
        image = frame_to_qimage(picture.pixels)
        width, height = pdf._image_size(page, image)
        caption = f"Key image {n}. {picture.caption}"
        caption_h = page.text_height(caption, pdf._font(9), width)
        page.need(height + caption_h + pdf.mm(4))
        x = (page.width - width) / 2
        page.painter.drawImage(QRectF(x, page.y, width, height), image)
        page.y += height + pdf.mm(1)
        page.text(caption, pdf._font(9), pdf.GREY, x=x, width=width)
        page.gap(4)


def _paint(writer: QPdfWriter, content: NotePdf, total: int) -> int:
    painter = QPainter(writer)
    try:
        rect = writer.pageLayout().paintRectPixels(pdf.DPI)
        page = pdf._Page(
            painter,
            writer,
            content,  # type: ignore[arg-type]  # it has the header the furniture reads
            total,
            float(rect.width()),
            float(rect.height()),
            title=content.note.title,
            footer_text=FOOTER,
        )
        note = content.note
        _title(page, note)
        _sections(page, note.sections)
        _signature(page, note)
        _pictures(page, content)
        page.footer()
        return page.number
    finally:
        painter.end()


def note_pdf(content: NotePdf) -> bytes:
    ensure_gui_app()
    counting = QBuffer()
    counting.open(QIODevice.OpenModeFlag.WriteOnly)
    total = _paint(pdf._writer(counting, content, content.note.title), content, 0)  # type: ignore[arg-type]
    counting.close()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    pages = _paint(pdf._writer(buffer, content, content.note.title), content, total)  # type: ignore[arg-type]
    buffer.close()
    assert pages == total, "the two layout passes must agree"
    return bytes(data.data())


def write_note(content: NotePdf, pdf_path: Path | str, text_path: Path | str) -> list[Path]:
    """The note as PDF and as plain text (UTF-8), each written atomically, 0600."""
    written = [write_bytes_atomic(Path(pdf_path), note_pdf(content))]
    written.append(write_bytes_atomic(Path(text_path), content.note.text().encode("utf-8")))
    return written
