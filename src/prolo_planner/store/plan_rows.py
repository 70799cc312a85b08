"""A session's plan as the store keeps it: the plan file's JSON document and its timeline totals."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prolo_planner.core.dose import session_dose
from prolo_planner.core.plan import Anaesthetic, Plan, SiteStatus
from prolo_planner.core.procedure import given_dose
from prolo_planner.store.plan_file import PlanFileError, plan_from_document, plan_to_document
from prolo_planner.store.records import InvalidValue, StoreError

#: Keys of the plan document the store leaves out: when it was saved is the row's own column,
#: so saving an unchanged plan again compares equal and writes nothing.
_VOLATILE_KEYS = ("saved_at",)


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """What the timeline shows of a plan, worked out once when the plan is saved."""

    site_count: int
    site_names: tuple[str, ...]
    total_ml: float
    dextrose_g: float
    anaesthetic_mg: dict[str, float]

    @property
    def site_names_json(self) -> str:
        return json.dumps(list(self.site_names), ensure_ascii=False)

    @property
    def anaesthetic_json(self) -> str:
        return json.dumps(self.anaesthetic_mg, sort_keys=True)


def plan_summary(plan: Plan) -> PlanSummary:
    targets = plan.targets()
    dose = session_dose(targets)
    # The timeline's sites are the placed ones its totals count (skipped ones still named).
    placed = [t for t in targets if t.position is not None]
    return PlanSummary(
        site_count=len(placed),
        site_names=tuple(t.name or t.kind.value for t in placed),
        total_ml=_finite(dose.total_ml),
        dextrose_g=_finite(dose.dextrose_g),
        anaesthetic_mg={a.value: _finite(mg) for a, mg in dose.anaesthetic_mg.items()},
    )


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """What the timeline shows of a plan's procedure record, worked out when it is saved."""

    recorded: bool
    done_sites: int = 0
    not_done_sites: int = 0
    given_ml: float = 0.0
    given_dextrose_g: float = 0.0
    given_anaesthetic_mg: dict[str, float] | None = None
    #: In words: '' not stated (or no record), 'none', 'vasovagal, bleeding'.
    complications: str = ""

    def row(self) -> tuple[Any, ...]:
        """The plans row's columns, in the order of store step 9."""
        return (
            int(self.recorded),
            self.done_sites,
            self.not_done_sites,
            self.given_ml,
            self.given_dextrose_g,
            json.dumps(self.given_anaesthetic_mg or {}, sort_keys=True),
            self.complications,
        )


def record_summary(plan: Plan) -> RecordSummary:
    record = plan.procedure
    if record is None:
        return RecordSummary(recorded=False)
    targets = plan.targets()
    dose = given_dose(plan)
    return RecordSummary(
        recorded=True,
        done_sites=sum(t.status is SiteStatus.INJECTED for t in targets),
        not_done_sites=sum(t.status is SiteStatus.SKIPPED for t in targets),
        given_ml=_finite(dose.total_ml),
        given_dextrose_g=_finite(dose.dextrose_g),
        given_anaesthetic_mg={a.value: _finite(mg) for a, mg in dose.anaesthetic_mg.items()},
        complications=record.complications_text,
    )


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def document_text(plan: Plan, base_dir: Path | None) -> tuple[str, str]:
    """The plan document as compact JSON, and its format version. Image paths inside base_dir
    (the data folder) are kept relative to it, so the data folder can move as a whole."""
    try:
        doc = plan_to_document(plan, base_dir=base_dir)
        for key in _VOLATILE_KEYS:
            doc.pop(key, None)
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidValue(f"the plan cannot be stored: {exc}") from None
    return text, str(doc["format_version"])


@dataclass(frozen=True, slots=True)
class PreparedPlan:
    """A plan ready to be written: encoded before the write transaction starts, so the
    transaction itself stays short."""

    text: str
    format_version: str
    summary: PlanSummary
    image_sha256s: tuple[str, ...]
    record: RecordSummary = RecordSummary(recorded=False)


def prepare(plan: Plan, base_dir: Path | None) -> PreparedPlan:
    text, version = document_text(plan, base_dir)
    shas = tuple(im.ref.sha256 for im in plan.images if im.ref.sha256)
    return PreparedPlan(text, version, plan_summary(plan), shas, record_summary(plan))


def stored_document_plan(text: str, source: str, base_dir: Path | None) -> Plan:
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StoreError(f"{source}: stored plan is not valid JSON ({exc.msg})") from None
    try:
        return plan_from_document(doc, source=source, base_dir=base_dir).plan
    except PlanFileError as exc:
        raise StoreError(str(exc)) from None


def anaesthetic_from_json(text: str) -> dict[Anaesthetic, float]:
    out: dict[Anaesthetic, float] = {}
    for name, mg in json.loads(text or "{}").items():
        try:
            out[Anaesthetic(name)] = float(mg)
        except ValueError:  # an agent a newer version knows: not shown by name here
            continue
    return out
