"""What a session's plan adds up to: millilitres, dextrose grams and anaesthetic milligrams.

The app informs and never prescribes: these are sums of what the clinician planned, for the
safety checks to compare with the clinic's limits.

Which sites count: planned and injected ones placed on an image. A planned site is what the
clinician intends to give in this session, so a limit must be checked before the needle goes
in; a skipped site gives nothing. A site carried forward and not placed yet is not in the
totals: it is listed apart (`unplaced`), with what it would add, until the clinician places it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from prolo_planner.core.plan import Anaesthetic, SiteStatus, Target

#: A w/v percentage: 1 % holds 10 mg in each mL.
MG_PER_ML_PER_PERCENT = 10.0

COUNTED = frozenset({SiteStatus.PLANNED, SiteStatus.INJECTED})


@dataclass(frozen=True, slots=True)
class SiteDose:
    """What one site receives."""

    target_id: str
    name: str
    status: SiteStatus
    volume_ml: float
    dextrose_percent: float
    dextrose_g: float
    anaesthetic: Anaesthetic
    anaesthetic_percent: float
    anaesthetic_mg: float


@dataclass(frozen=True, slots=True)
class DoseProblem:
    """A site whose numbers cannot be added up (negative, not a number); it counts as 0."""

    target_id: str
    message: str


@dataclass(frozen=True, slots=True)
class SessionDose:
    sites: tuple[SiteDose, ...]
    total_ml: float
    dextrose_g: float
    #: Milligrams per agent, for agents some counted site actually gives (more than 0 mg).
    anaesthetic_mg: Mapping[Anaesthetic, float]
    problems: tuple[DoseProblem, ...] = ()
    #: Planned sites not placed on an image yet: not in the totals above.
    unplaced: tuple[SiteDose, ...] = ()

    @property
    def unplaced_ml(self) -> float:
        return math.fsum(s.volume_ml for s in self.unplaced)

    def mg_of(self, agent: Anaesthetic) -> float:
        return self.anaesthetic_mg.get(agent, 0.0)

    def sites_with(self, agent: Anaesthetic) -> tuple[SiteDose, ...]:
        return tuple(s for s in self.sites if s.anaesthetic is agent and s.anaesthetic_mg > 0)


def _usable(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value >= 0


def site_dose(target: Target) -> tuple[SiteDose, tuple[DoseProblem, ...]]:
    """One site's amounts; unusable numbers count as 0 and are reported."""
    inj = target.injectate
    label = f"'{target.name}'" if target.name else f"a {target.kind.value} site"
    problems = []
    numbers = {
        "volume": inj.volume_ml,
        "dextrose %": inj.dextrose_percent,
        "anaesthetic %": inj.anaesthetic_percent,
    }
    for what, value in numbers.items():
        if not _usable(value):
            problems.append(DoseProblem(target.id, f"{label}: {what} {value!r} is not usable"))
    volume = inj.volume_ml if _usable(inj.volume_ml) else 0.0
    dextrose = inj.dextrose_percent if _usable(inj.dextrose_percent) else 0.0
    percent = inj.anaesthetic_percent if _usable(inj.anaesthetic_percent) else 0.0
    if inj.anaesthetic is Anaesthetic.NONE:
        percent = 0.0
    dose = SiteDose(
        target_id=target.id,
        name=target.name,
        status=target.status,
        volume_ml=volume,
        dextrose_percent=dextrose,
        dextrose_g=volume * dextrose / 100.0,
        anaesthetic=inj.anaesthetic,
        anaesthetic_percent=percent,
        anaesthetic_mg=volume * percent * MG_PER_ML_PER_PERCENT,
    )
    return dose, tuple(problems)


#: site_dose of the targets seen last, by the target object itself (a plan's values never
#: change in place): totals are asked for on every edit, and a session of 500 sites changes one.
_SITES: dict[int, tuple[Target, tuple[SiteDose, tuple[DoseProblem, ...]]]] = {}
_SITES_KEPT = 4096


def _site_dose_of(target: Target) -> tuple[SiteDose, tuple[DoseProblem, ...]]:
    known = _SITES.get(id(target))
    if known is not None and known[0] is target:
        return known[1]
    found = site_dose(target)
    if len(_SITES) >= _SITES_KEPT:
        _SITES.clear()
    _SITES[id(target)] = (target, found)
    return found


#: The totals asked for last, with the very targets they are of (the safety checks and the
#: totals panel ask for the same on every edit).
_last: list[tuple[tuple[Target, ...], SessionDose]] = []


def session_dose(targets: Iterable[Target]) -> SessionDose:
    """Totals over the planned and injected sites placed on an image, in the order given; the
    planned ones not placed yet listed apart."""
    given = tuple(targets)
    if _last:
        before, dose = _last[0]
        if len(before) == len(given) and all(a is b for a, b in zip(before, given, strict=True)):
            return dose
    dose = _session_dose(given)
    _last[:] = [(given, dose)]
    return dose


def _session_dose(targets: tuple[Target, ...]) -> SessionDose:
    sites: list[SiteDose] = []
    unplaced: list[SiteDose] = []
    problems: list[DoseProblem] = []
    for target in targets:
        if target.status not in COUNTED:
            continue
        dose, site_problems = _site_dose_of(target)
        problems.extend(site_problems)
        if target.position is None:
            unplaced.append(dose)
            continue
        sites.append(dose)
    agents = dict.fromkeys(s.anaesthetic for s in sites if s.anaesthetic_mg > 0)
    mg = {a: math.fsum(s.anaesthetic_mg for s in sites if s.anaesthetic is a) for a in agents}
    return SessionDose(
        sites=tuple(sites),
        # math.fsum: a sum of many 0.1 mL steps should not drift.
        total_ml=math.fsum(s.volume_ml for s in sites),
        dextrose_g=math.fsum(s.dextrose_g for s in sites),
        anaesthetic_mg=MappingProxyType(mg),
        problems=tuple(problems),
        unplaced=tuple(unplaced),
    )
