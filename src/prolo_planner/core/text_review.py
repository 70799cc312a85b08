"""The texts of a plan that an export writes or burns in, for the clinician to review before a
de-identified export: names from the region catalogs are kept by default, typed text is removed
by default, and the export writes exactly what was approved.

Typed text can name anyone ("Mrs Smith's left knee", "ask Dr Jones"); no filter can tell, so the
clinician decides, text by text. An approval is of a text as it was shown: if the plan changes
after the review, a changed text was not approved and is removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from prolo_planner.core.catalog import CatalogSet, name_key
from prolo_planner.core.plan import (
    AngleMeasurement,
    Annotation,
    AvoidZone,
    Caliper,
    Plan,
    Target,
    TextNote,
    kind_of,
)
from prolo_planner.core.procedure import DEFAULT_INSTRUCTIONS


class TextOrigin(StrEnum):
    CATALOG = "catalog name"
    TYPED = "typed"
    #: The app's own words, unchanged (the default post-procedure instructions).
    STANDARD = "standard text"


@dataclass(frozen=True, slots=True)
class PlanText:
    """One text of the plan: where it is, what it says, and where it came from."""

    key: str  # "<annotation id>:name", "plan:title", "session:notes"
    where: str  # "Target 2 name", "Caliper label", "Plan title"
    text: str
    origin: TextOrigin

    @property
    def kept_by_default(self) -> bool:
        return self.origin in (TextOrigin.CATALOG, TextOrigin.STANDARD)


#: Annotation fields that hold text, by kind: (field, how the clinician calls it).
_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {
    Target: (("name", "name"), ("note", "note")),
    AvoidZone: (("name", "name"),),
    Caliper: (("label", "label"),),
    AngleMeasurement: (("label", "label"),),
    TextNote: (("text", "text"),),
}
_CATALOG_FIELDS = {(Target, "name"), (AvoidZone, "name")}
#: The procedure record's texts (core.procedure): (field, how the clinician calls it).
_RECORD_FIELDS = (
    ("indication", "Indication"),
    ("consent_by", "Consent obtained by"),
    ("skin_prep_text", "Skin preparation"),
    ("complication_text", "Complication"),
    ("instructions", "Post-procedure instructions"),
)
_SITE_FIELDS = (("lot_number", "lot"), ("not_done_text", "reason not done"))


def plan_texts(
    plan: Plan, catalogs: CatalogSet | None = None, session_notes: str = ""
) -> list[PlanText]:
    """Every non-empty text an export of the plan would write, in the plan's order."""
    known = _catalog_names(catalogs)
    out: list[PlanText] = []
    if plan.title.strip():
        out.append(PlanText("plan:title", "Plan title", plan.title, TextOrigin.TYPED))
    if plan.note.strip():
        out.append(PlanText("plan:note", "Plan note", plan.note, TextOrigin.TYPED))
    if session_notes.strip():
        out.append(PlanText("session:notes", "Session notes", session_notes, TextOrigin.TYPED))
    counts: dict[str, int] = {}
    out += _record_texts(plan)
    for a in plan.annotations:
        kind = kind_of(a).value
        counts[kind] = counts.get(kind, 0) + 1
        for field, label in _FIELDS.get(type(a), ()):
            text = str(getattr(a, field) or "")
            if not text.strip():
                continue
            catalog = (type(a), field) in _CATALOG_FIELDS and name_key(text) in known
            out.append(
                PlanText(
                    f"{a.id}:{field}",
                    f"{kind.capitalize()} {counts[kind]} {label}",
                    text,
                    TextOrigin.CATALOG if catalog else TextOrigin.TYPED,
                )
            )
    return out


def _record_texts(plan: Plan) -> list[PlanText]:
    record = plan.procedure
    if record is None:
        return []
    out = []
    for field, label in _RECORD_FIELDS:
        text = str(getattr(record, field) or "")
        if text.strip():
            standard = field == "instructions" and text == DEFAULT_INSTRUCTIONS
            origin = TextOrigin.STANDARD if standard else TextOrigin.TYPED
            out.append(PlanText(f"procedure:{field}", label, text, origin))
    numbers = {t.id: n for n, t in enumerate(plan.targets(), start=1)}
    for site in record.sites:
        for field, label in _SITE_FIELDS:
            text = str(getattr(site, field) or "")
            if text.strip() and site.target_id in numbers:
                where = f"Site {numbers[site.target_id]} {label}"
                out.append(
                    PlanText(f"procedure:{site.target_id}:{field}", where, text, TextOrigin.TYPED)
                )
    return out


def _catalog_names(catalogs: CatalogSet | None) -> frozenset[str]:
    if catalogs is None:
        from prolo_planner.core.catalog import load_catalogs

        catalogs = load_catalogs()
    names: set[str] = set()
    for region in catalogs.regions.values():
        names |= {name_key(t.name) for t in region.targets}
        names |= {name_key(a.name) for a in region.avoid}
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class TextApproval:
    """The texts the clinician let through, each as (key, text) exactly as shown."""

    kept: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def default(cls, texts: Iterable[PlanText]) -> TextApproval:
        """Catalog names kept, typed text removed."""
        return cls(frozenset((t.key, t.text) for t in texts if t.kept_by_default))

    @classmethod
    def of(cls, texts: Iterable[PlanText]) -> TextApproval:
        """Exactly these texts kept."""
        return cls(frozenset((t.key, t.text) for t in texts))

    def keeps(self, key: str, text: str) -> bool:
        return (key, text) in self.kept

    def split(self, texts: Sequence[PlanText]) -> tuple[list[PlanText], list[PlanText]]:
        """(kept, removed) of these texts."""
        kept = [t for t in texts if self.keeps(t.key, t.text)]
        return kept, [t for t in texts if not self.keeps(t.key, t.text)]


def approved_plan(plan: Plan, approval: TextApproval) -> Plan:
    """The plan with every text the approval does not keep emptied."""
    annotations: list[Annotation] = []
    for a in plan.annotations:
        changes = {
            field: ""
            for field, _ in _FIELDS.get(type(a), ())
            if getattr(a, field) and not approval.keeps(f"{a.id}:{field}", getattr(a, field))
        }
        annotations.append(replace(a, **changes) if changes else a)  # type: ignore[arg-type]
    title = plan.title if approval.keeps("plan:title", plan.title) else ""
    note = plan.note if approval.keeps("plan:note", plan.note) else ""
    record = plan.procedure
    if record is not None:
        emptied: dict[str, Any] = {
            field: ""
            for field, _ in _RECORD_FIELDS
            if getattr(record, field)
            and not approval.keeps(f"procedure:{field}", getattr(record, field))
        }
        sites = []
        for site in record.sites:
            gone: dict[str, Any] = {
                field: ""
                for field, _ in _SITE_FIELDS
                if getattr(site, field)
                and not approval.keeps(f"procedure:{site.target_id}:{field}", getattr(site, field))
            }
            sites.append(replace(site, **gone) if gone else site)
        record = replace(record, sites=tuple(sites), **emptied)
    return replace(plan, annotations=tuple(annotations), title=title, note=note, procedure=record)


def approved_session_notes(notes: str, approval: TextApproval) -> str:
    return notes if notes and approval.keeps("session:notes", notes) else ""
