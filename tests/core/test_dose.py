"""Session totals: millilitres, dextrose grams and anaesthetic milligrams per agent."""

from __future__ import annotations

import math

import pytest

from prolo_planner.core.dose import session_dose, site_dose
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import Anaesthetic, Injectate, SiteStatus, Target


def site(
    ml: float,
    dextrose: float = 15.0,
    agent: Anaesthetic = Anaesthetic.LIDOCAINE,
    percent: float = 0.5,
    status: SiteStatus = SiteStatus.PLANNED,
    name: str = "",
    placed: bool = True,
) -> Target:
    return Target(
        "img",
        Point(10, 10) if placed else None,
        name=name,
        status=status,
        injectate=Injectate(dextrose, agent, percent, ml),
    )


def test_three_sites_of_2_ml_15_percent_dextrose_with_half_percent_lidocaine():
    dose = session_dose([site(2.0), site(2.0), site(2.0)])
    assert dose.total_ml == pytest.approx(6.0)
    assert dose.dextrose_g == pytest.approx(0.9)
    assert dict(dose.anaesthetic_mg) == {Anaesthetic.LIDOCAINE: pytest.approx(30.0)}
    assert dose.mg_of(Anaesthetic.PROCAINE) == 0.0
    assert dose.problems == ()


def test_per_site_breakdown_in_the_order_given():
    a = site(1.5, 25.0, name="PSIS")
    b = site(0.5, 12.5, Anaesthetic.PROCAINE, 1.0, name="iliolumbar")
    dose = session_dose([a, b])
    assert [s.target_id for s in dose.sites] == [a.id, b.id]
    first, second = dose.sites
    assert (first.name, first.volume_ml, first.dextrose_g) == ("PSIS", 1.5, pytest.approx(0.375))
    assert first.anaesthetic_mg == pytest.approx(7.5)  # 1.5 mL x 0.5 % x 10 mg/mL
    assert second.anaesthetic is Anaesthetic.PROCAINE
    assert second.anaesthetic_mg == pytest.approx(5.0)
    assert dose.mg_of(Anaesthetic.PROCAINE) == pytest.approx(5.0)
    assert dose.sites_with(Anaesthetic.PROCAINE) == (second,)


def test_placed_planned_and_injected_sites_count_unplaced_are_listed_apart():
    """Issue 10: targets not yet placed counted in the totals. Worked by hand: 1 + 2 mL
    placed; 0.5 % lidocaine is 5 mg/mL, so 15 mg; the 8 mL carried forward unplaced apart."""
    planned = site(1.0)
    injected = site(2.0, status=SiteStatus.INJECTED)
    skipped = site(4.0, status=SiteStatus.SKIPPED)
    carried = site(8.0, placed=False)
    dose = session_dose([planned, injected, skipped, carried])
    assert dose.total_ml == pytest.approx(3.0)
    assert {s.target_id for s in dose.sites} == {planned.id, injected.id}
    assert dose.mg_of(Anaesthetic.LIDOCAINE) == pytest.approx(15.0)
    assert [s.target_id for s in dose.unplaced] == [carried.id]
    assert dose.unplaced_ml == pytest.approx(8.0)


def test_no_anaesthetic_gives_no_milligrams_whatever_its_percent():
    dose = session_dose([site(3.0, agent=Anaesthetic.NONE, percent=1.0)])
    assert dose.total_ml == pytest.approx(3.0)
    assert dict(dose.anaesthetic_mg) == {}
    assert dose.sites[0].anaesthetic_mg == 0.0


def test_unusable_numbers_count_as_zero_and_are_reported():
    nan_volume = site(math.nan, name="C5 pillar")
    negative = site(2.0, dextrose=-15.0)
    good = site(1.0)
    dose = session_dose([nan_volume, negative, good])
    assert dose.total_ml == pytest.approx(3.0)
    assert dose.dextrose_g == pytest.approx(0.15)
    assert math.isfinite(dose.mg_of(Anaesthetic.LIDOCAINE))
    assert [p.target_id for p in dose.problems] == [nan_volume.id, negative.id]
    assert dose.problems[0].message == "'C5 pillar': volume nan is not usable"
    assert "dextrose % -15.0" in dose.problems[1].message


def test_many_small_volumes_add_up_without_drift():
    dose = session_dose([site(0.1, percent=1.0) for _ in range(10)])
    assert dose.total_ml == 1.0
    assert dose.mg_of(Anaesthetic.LIDOCAINE) == pytest.approx(10.0)


def test_empty_session_is_zero():
    dose = session_dose([])
    assert (dose.total_ml, dose.dextrose_g, dict(dose.anaesthetic_mg)) == (0.0, 0.0, {})


def test_site_dose_is_what_one_site_receives():
    dose, problems = site_dose(site(2.0, 20.0, percent=1.0))
    assert (dose.dextrose_g, dose.anaesthetic_mg, problems) == (pytest.approx(0.4), 20.0, ())
