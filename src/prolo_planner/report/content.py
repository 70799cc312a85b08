"""What the PDF session report says, gathered from the plan, its images and the store."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from prolo_planner.core.acknowledged import WarningKey, acknowledged_keys
from prolo_planner.core.safety import SafetyWarning
from prolo_planner.report.header import ReportHeader
from prolo_planner.report.images import ImageOptions, key_image
from prolo_planner.report.plan_images import PlanImages
from prolo_planner.report.sites import SiteRow, site_rows, totals_lines
from prolo_planner.store.records import TimelineRow

#: Key images in the report: the legend, scale bar and a banner-free frame; the page footer
#: carries the "not for diagnosis" line, so the images need no watermark of their own.
REPORT_IMAGE_OPTIONS = ImageOptions(banner=False, watermark=False, scale=1.0)


@dataclass(frozen=True, slots=True)
class PainEntry:
    """One session's pain scores on the course, for comparing with earlier sessions."""

    when: str  # "2026-11-06"
    session: str  # "#2"
    before: int | None
    after: int | None
    current: bool = False


@dataclass(frozen=True, slots=True)
class ReportWarning:
    warning: SafetyWarning
    acknowledged: bool


@dataclass(frozen=True, slots=True)
class ReportImage:
    caption: str
    pixels: np.ndarray  # RGB uint8, annotated, with its legend


@dataclass(frozen=True, slots=True)
class ReportContent:
    header: ReportHeader
    sites: tuple[SiteRow, ...]
    totals: tuple[str, ...]
    warnings: tuple[ReportWarning, ...]
    pain: tuple[PainEntry, ...]
    images: tuple[ReportImage, ...]
    #: Free text the clinician wrote: the session's notes and each site's note.
    notes: tuple[str, ...] = ()
    #: What the report could not show (an image that would not open), said on its first page.
    problems: tuple[str, ...] = ()


def pain_course(
    rows: Iterable[TimelineRow], current_session_id: int | None
) -> tuple[PainEntry, ...]:
    """The patient's sessions up to this one, oldest first, with their pain before and after:
    the course as it stood when this session was held."""
    rows = sorted(rows, key=lambda r: (r.session.started_at, r.session.id))
    current = next((r.session for r in rows if r.session.id == current_session_id), None)
    entries = [
        PainEntry(
            r.session.started_at[:10],
            f"#{r.session.id}",
            r.session.pain_before,
            r.session.pain_after,
            current=r.session.id == current_session_id,
        )
        for r in rows
        if not r.superseded and (current is None or r.session.started_at <= current.started_at)
    ]
    return tuple(entries)


def report_content(
    images: PlanImages,
    header: ReportHeader,
    *,
    pain: Sequence[PainEntry] = (),
    masked: bool = False,
    texts_reviewed: bool = False,
) -> ReportContent:
    """The report of a plan on its opened images. A de-identified header (header.pseudonym)
    masks the images' burned-in banners and leaves out the weight, and every note unless
    `texts_reviewed` says the plan and header hold only the texts the clinician approved
    (core.text_review, applied by the export)."""
    plan = images.plan
    deidentified = header.is_deidentified
    if plan.patient_weight_kg and not deidentified:
        # The weight the plan's mg/kg checks used, which the report must show beside them.
        header = replace(header, weight_kg=plan.patient_weight_kg)
    acknowledged: frozenset[WarningKey] = acknowledged_keys(plan)
    sites = site_rows(plan, images.measurements, images.names)
    notes: list[str] = []
    if not deidentified or texts_reviewed:
        if header.notes:
            notes.append(header.notes)
        if plan.note:
            notes.append(plan.note)
        notes += [f"{row.number}. {row.name}: {row.note}" for row in sites if row.note]
    else:
        sites = [replace(row, note="") for row in sites]
    pictures = tuple(
        ReportImage(
            key.caption,
            key_image(
                images, key, options=REPORT_IMAGE_OPTIONS, masked=masked or deidentified
            ).pixels,
        )
        for key in images.key_images()
    )
    warnings = tuple(ReportWarning(w, WarningKey.of(w) in acknowledged) for w in images.warnings)
    totals = totals_lines(plan, images.limits)
    if deidentified:
        # The pain course is dated; shifted dates are not worth the risk of a real one.
        pain = [replace(p, when="") for p in pain]
        # A weight identifies (and mg per kg gives it back): the checks used it, the text not.
        totals = totals_lines(replace(plan, patient_weight_kg=None), images.limits)
        warnings = tuple(
            replace(w, warning=replace(w.warning, message=_without_weight(w.warning.message)))
            for w in warnings
        )
    return ReportContent(
        header=header,
        sites=tuple(sites),
        totals=tuple(totals),
        warnings=warnings,
        pain=tuple(pain),
        images=pictures,
        notes=tuple(notes),
        problems=images.problems,
    )


def _without_weight(message: str) -> str:
    """A warning's words without the patient's weight ("for 77.7 kg (350 mg)")."""
    return re.sub(r"for \d+(\.\d+)? kg \(\d+ mg\)", "for the patient's weight", message)
