"""Carry forward by site, without a display: the same catalog name on the same side is one site
(case and spacing aside), never added twice; what is not carried says why; nothing ticked says
so; copies are planned, new, and on the image chosen."""

from __future__ import annotations

from prolo_planner.core.carry_forward import (
    CarryMode,
    ImageChoice,
    carry_forward,
    site_key,
)
from prolo_planner.core.dose import session_dose
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    ImagePlan,
    ImageRef,
    Injectate,
    Plan,
    Side,
    SiteStatus,
    Target,
)

PRIOR_IMAGE = ImagePlan(ImageRef("prior.dcm"))
TODAY_IMAGE = ImagePlan(ImageRef("today.dcm"))


def _site(name: str, side: Side = Side.LEFT, ml: float = 1.0, image=PRIOR_IMAGE) -> Target:
    return Target(
        image.id,
        Point(100, 100),
        name=name,
        side=side,
        status=SiteStatus.INJECTED,
        injectate=Injectate(volume_ml=ml),
    )


def _today(*targets: Target) -> Plan:
    return Plan((TODAY_IMAGE,), targets)


ONTO = ImageChoice(TODAY_IMAGE, True)


def test_a_site_is_its_name_and_side_whatever_the_typing():
    assert site_key(_site("L4-L5  Supraspinous ligament")) == site_key(
        _site("l4-l5 supraspinous LIGAMENT")
    )
    assert site_key(_site("SI joint", Side.LEFT)) != site_key(_site("SI joint", Side.RIGHT))
    assert site_key(Target("x", None)) is None  # unnamed: no site to recognise


def test_sites_already_planned_today_are_skipped_with_the_reason():
    left, right = (
        _site("long posterior SI ligament"),
        _site("long posterior SI ligament", Side.RIGHT),
    )
    prior = Plan((PRIOR_IMAGE,), (left, right))
    today = _today(_site("Long posterior SI ligament ", Side.LEFT, image=TODAY_IMAGE))
    result = carry_forward(prior, today, CarryMode.UNPLACED, ONTO)
    assert [(t.name, t.side) for t in result.carried] == [
        ("long posterior SI ligament", Side.RIGHT)
    ]
    assert [(s.target.id, s.reason) for s in result.skipped] == [
        (left.id, "already in today's plan")
    ]
    assert result.message() == (
        "1 site carried forward unplaced: long posterior SI ligament (right). not carried: "
        "long posterior SI ligament (left), already in today's plan"
    )
    # The totals do not double: 1 placed site today, the carried one apart until placed.
    after = result.edit.apply(today)
    dose = session_dose(after.targets())
    assert dose.total_ml == 1.0 and [d.name for d in dose.unplaced] == [right.name]


def test_a_site_the_prior_plan_has_twice_is_carried_once():
    first, again = _site("iliolumbar ligament", ml=1.0), _site("iliolumbar ligament", ml=2.0)
    prior = Plan((PRIOR_IMAGE,), (first, again))
    result = carry_forward(prior, _today(), CarryMode.UNPLACED, ONTO)
    assert [t.injectate.volume_ml for t in result.carried] == [1.0]
    assert result.skipped[0].reason == "the prior plan has this site twice: carried once"


def test_unnamed_targets_are_carried_and_copies_are_new_planned_targets():
    unnamed = Target(PRIOR_IMAGE.id, Point(5, 5), status=SiteStatus.INJECTED)
    prior = Plan((PRIOR_IMAGE,), (unnamed,))
    result = carry_forward(prior, _today(), CarryMode.SAME_POSITIONS, ONTO)
    (copy,) = result.carried
    assert copy.id != unnamed.id and copy.status is SiteStatus.PLANNED
    assert copy.image_id == TODAY_IMAGE.id and copy.position == Point(5, 5)
    assert result.edit.text == "Carry forward 1 site at the same positions"


def test_nothing_ticked_and_nothing_left_say_so():
    prior = Plan((PRIOR_IMAGE,), (_site("A"),))
    none = carry_forward(prior, _today(), CarryMode.UNPLACED, ONTO, [])
    assert none.edit is None and none.message() == "Nothing carried forward: no site was ticked"
    everything_there = carry_forward(
        prior, _today(_site("a", image=TODAY_IMAGE)), CarryMode.UNPLACED, ONTO
    )
    assert everything_there.edit is None and everything_there.message() == (
        "Nothing carried forward. not carried: A (left), already in today's plan"
    )
