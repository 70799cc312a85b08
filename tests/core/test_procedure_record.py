"""The procedure record: defaults from the plan, what is missing, what differs, the plan file."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from prolo_planner.core.document import ChangeKind, PlanDocument
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    Anaesthetic,
    Approach,
    Complication,
    Consent,
    ImagePlan,
    ImageRef,
    Injectate,
    KeyImage,
    NeedlePath,
    NotDoneReason,
    Plan,
    ProcedureRecord,
    Side,
    SiteStatus,
    SkinPrep,
    Target,
)
from prolo_planner.core.procedure import (
    DEFAULT_INSTRUCTIONS,
    completed_with_plan,
    differences,
    given_dose,
    missing_fields,
    record_edit,
    start_record,
)
from prolo_planner.store.plan_file import (
    PlanFileError,
    load_plan,
    plan_from_document,
    plan_to_document,
    save_plan,
)
from tests.conftest import TEST_DATA

SAMPLES = TEST_DATA / "plans"


def lumbar_plan() -> Plan:
    """Two sites on a still and one on a cine frame that is not a key frame."""
    still = ImagePlan(ImageRef("still.dcm"), id="still", key_frames=(0,))
    cine = ImagePlan(ImageRef("cine.dcm", frame_count=40), id="cine", key_frames=(5,))
    l4 = Target(
        "still",
        Point(100, 200),
        name="L4-L5 interspinous ligament",
        side=Side.MIDLINE,
        injectate=Injectate(15.0, Anaesthetic.LIDOCAINE, 0.2, 1.5),
        id="l4",
    )
    il = Target(
        "still",
        Point(300, 210),
        name="iliolumbar ligament",
        side=Side.LEFT,
        injectate=Injectate(20.0, Anaesthetic.PROCAINE, 0.5, 2.0),
        id="il",
    )
    si = Target("cine", Point(50, 60), frame=12, name="long posterior sacroiliac ligament", id="si")
    path = NeedlePath(
        "still", Point(10, 20), "l4", approach=Approach.OUT_OF_PLANE, needle_gauge=22, id="p"
    )
    return Plan(images=(still, cine), annotations=(l4, il, si, path), id="plan")


def complete(plan: Plan) -> Plan:
    """The plan with every site injected and a record whose every attestation is given."""
    record = start_record(plan, clinician="Dr Haddad", performed_at="2026-03-14T10:30:00")
    sites = []
    for site in record.sites:
        key = site.key_image or KeyImage("cine", 5)
        sites.append(replace(site, tip_seen=True, key_image=key))
    record = replace(
        record,
        indication="Chronic low back pain",
        consent=Consent.WRITTEN,
        time_out=True,
        skin_prep=SkinPrep.CHLORHEXIDINE,
        sites=tuple(sites),
        complications=(),
    )
    targets = [replace(t, status=SiteStatus.INJECTED) for t in plan.targets()]
    return replace(plan.with_annotations([*targets, *plan.annotations[3:]]), procedure=record)


# -- defaults ------------------------------------------------------------------------------------
def test_a_new_record_takes_the_plans_amounts_needle_and_approach():
    plan = lumbar_plan()
    record = start_record(plan, clinician="Dr Haddad", performed_at="2026-03-14T10:30:00")
    l4, il, si = record.sites
    assert [s.target_id for s in record.sites] == ["l4", "il", "si"]
    assert l4.given == Injectate(15.0, Anaesthetic.LIDOCAINE, 0.2, 1.5)
    assert (l4.needle_gauge, l4.needle_length_mm, l4.approach) == (22, 38.0, Approach.OUT_OF_PLANE)
    # No path to the iliolumbar site: the usual needle, in plane.
    assert (il.needle_gauge, il.needle_length_mm, il.approach) == (25, 38.0, Approach.IN_PLANE)
    assert il.given.volume_ml == 2.0 and il.given.anaesthetic is Anaesthetic.PROCAINE
    # The still's only frame shows the site; frame 12 of the cine is no key frame: not guessed.
    assert l4.key_image == KeyImage("still", 0) and si.key_image is None
    # Attestations are the clinician's: none is given for them.
    assert record.consent is None and record.time_out is None and record.complications is None
    assert all(s.tip_seen is None for s in record.sites)
    assert record.consent_by == "Dr Haddad" and record.instructions == DEFAULT_INSTRUCTIONS


def test_a_new_record_carries_the_previous_sessions_words():
    previous = ProcedureRecord(
        indication="Chronic low back pain",
        skin_prep=SkinPrep.OTHER,
        skin_prep_text="octenidine",
        instructions="Rest two days.",
        consent=Consent.VERBAL,
        time_out=True,
        complications=(Complication.BLEEDING,),
    )
    record = start_record(lumbar_plan(), previous=previous)
    assert record.indication == "Chronic low back pain"
    assert (record.skin_prep, record.skin_prep_text) == (SkinPrep.OTHER, "octenidine")
    assert record.instructions == "Rest two days."
    # What happened last time is not what happened today.
    assert record.consent is None and record.time_out is None and record.complications is None


def test_completing_a_record_adds_new_targets_and_drops_gone_ones():
    plan = lumbar_plan()
    record = replace(start_record(plan), sites=start_record(plan).sites[:1])
    record = record.with_site(replace(record.sites[0], target_id="gone"))
    done = completed_with_plan(plan, record)
    assert [s.target_id for s in done.sites] == ["l4", "il", "si"]


# -- what is missing -----------------------------------------------------------------------------
def test_every_empty_required_field_is_named():
    plan = lumbar_plan()
    record = replace(start_record(plan), instructions="", consent_by="")
    plan = replace(plan, procedure=record)
    names = [str(m) for m in missing_fields(plan)]
    assert names == [
        "indication",
        "time of the procedure",
        "consent (written or verbal)",
        "who obtained consent",
        "time-out",
        "skin preparation",
        "whether L4-L5 interspinous ligament was injected",
        "whether left iliolumbar ligament was injected",
        "whether long posterior sacroiliac ligament was injected",
        "complications (none, or which)",
        "post-procedure instructions",
    ]


def test_a_complete_record_misses_nothing_and_one_empty_field_is_named():
    plan = complete(lumbar_plan())
    assert missing_fields(plan) == []
    record = plan.procedure
    assert record is not None
    l4 = record.sites[0]
    gone = replace(
        plan, procedure=record.with_site(replace(l4, given=replace(l4.given, volume_ml=0)))
    )
    assert [str(m) for m in missing_fields(gone)] == ["volume given at L4-L5 interspinous ligament"]
    assert missing_fields(gone)[0].key == "site:l4:volume"
    unseen = replace(plan, procedure=record.with_site(replace(l4, key_image=None)))
    assert [str(m) for m in missing_fields(unseen)] == [
        "the key image of the needle at L4-L5 interspinous ligament"
    ]
    # A key image on an image that left the plan is no key image.
    elsewhere = replace(plan, procedure=record.with_site(replace(l4, key_image=KeyImage("x", 0))))
    assert len(missing_fields(elsewhere)) == 1
    other = replace(plan, procedure=replace(record, complications=(Complication.OTHER,)))
    assert [str(m) for m in missing_fields(other)] == ["the other complication, in words"]
    assert missing_fields(replace(plan, procedure=None))[0].key == "record"


def test_a_site_not_done_needs_its_reason_not_its_amounts():
    plan = complete(lumbar_plan())
    il = plan.annotation("il")
    assert isinstance(il, Target)
    skipped = plan.with_annotations(
        replace(a, status=SiteStatus.SKIPPED) if a.id == "il" else a for a in plan.annotations
    )
    assert [str(m) for m in missing_fields(skipped)] == [
        "why left iliolumbar ligament was not done"
    ]
    record = skipped.procedure
    assert record is not None
    site = replace(
        record.sites[1], not_done_reason=NotDoneReason.OTHER, given=Injectate(volume_ml=0)
    )
    other = replace(skipped, procedure=record.with_site(site))
    assert [str(m) for m in missing_fields(other)] == ["why left iliolumbar ligament was not done"]
    worded = replace(
        other, procedure=record.with_site(replace(site, not_done_text="needle phobia"))
    )
    assert missing_fields(worded) == []


# -- what was given ------------------------------------------------------------------------------
def test_given_totals_use_the_records_amounts_of_the_injected_sites():
    plan = complete(lumbar_plan())
    record = plan.procedure
    assert record is not None
    l4 = record.sites[0]
    plan = replace(
        plan, procedure=record.with_site(replace(l4, given=replace(l4.given, volume_ml=2.0)))
    )
    plan = plan.with_annotations(
        replace(a, status=SiteStatus.SKIPPED) if a.id == "si" else a for a in plan.annotations
    )
    dose = given_dose(plan)
    # Worked by hand: l4 2.0 mL of 15 % = 0.30 g dextrose, 2.0 x 0.2 x 10 = 4 mg lidocaine;
    # il 2.0 mL of 20 % = 0.40 g, 2.0 x 0.5 x 10 = 10 mg procaine; si skipped gives nothing.
    assert dose.total_ml == pytest.approx(4.0)
    assert dose.dextrose_g == pytest.approx(0.70)
    assert dose.mg_of(Anaesthetic.LIDOCAINE) == pytest.approx(4.0)
    assert dose.mg_of(Anaesthetic.PROCAINE) == pytest.approx(10.0)


def test_differences_from_the_plan_read_as_sentences():
    plan = complete(lumbar_plan())
    record = plan.procedure
    assert record is not None
    l4 = replace(
        record.sites[0],
        given=Injectate(20.0, Anaesthetic.LIDOCAINE, 0.2, 2.0),
        needle_length_mm=50.0,
        approach=Approach.IN_PLANE,
    )
    si = replace(record.sites[2], not_done_reason=NotDoneReason.PATIENT_DECLINED)
    plan = replace(plan, procedure=record.with_site(l4).with_site(si))
    plan = plan.with_annotations(
        replace(a, status=SiteStatus.SKIPPED) if a.id == "si" else a for a in plan.annotations
    )
    assert differences(plan) == [
        "L4-L5 interspinous ligament: 2 mL given (1.5 mL planned)",
        "L4-L5 interspinous ligament: dextrose 20 % with lidocaine 0.2 % "
        "(planned dextrose 15 % with lidocaine 0.2 %)",
        "L4-L5 interspinous ligament: 22 G 50 mm needle (planned 22 G 38 mm)",
        "L4-L5 interspinous ligament: in-plane (planned out-of-plane)",
        "long posterior sacroiliac ligament: planned, not done (patient declined)",
    ]
    assert differences(complete(lumbar_plan())) == []


# -- one undo step -------------------------------------------------------------------------------
def test_recording_is_one_undo_step_for_the_record_and_the_sites():
    plan = lumbar_plan()
    doc = PlanDocument(plan)
    record = start_record(plan)
    edit = record_edit(
        plan,
        record,
        {"l4": SiteStatus.INJECTED, "il": SiteStatus.SKIPPED, "si": SiteStatus.PLANNED},
    )
    changes = doc.apply(edit)
    assert doc.plan.procedure == record
    assert [t.status for t in doc.plan.targets()] == [
        SiteStatus.INJECTED,
        SiteStatus.SKIPPED,
        SiteStatus.PLANNED,
    ]
    kinds = {c.kind: c.ids for c in changes}
    assert kinds[ChangeKind.PLAN] == {"procedure"} and kinds[ChangeKind.CHANGED] >= {"l4", "il"}
    doc.revert(edit)
    assert doc.plan == plan and doc.plan.procedure is None


# -- the plan file -------------------------------------------------------------------------------
def test_the_1_3_sample_reads_as_written():
    plan = load_plan(SAMPLES / "plan-1.3.json")
    record = plan.procedure
    assert record is not None
    assert record.performed_at == "2026-11-27T14:20:00"
    assert (record.consent, record.consent_by, record.time_out) == (
        Consent.WRITTEN,
        "Dr Rana Haddad",
        True,
    )
    assert record.skin_prep is SkinPrep.CHLORHEXIDINE
    assert record.complications == (Complication.VASOVAGAL,)
    l4, l5, il = record.sites
    assert l4.given.volume_ml == 2.0 and l4.lot_number == "DX25-2611A" and l4.tip_seen is True
    assert l4.key_image == KeyImage("3b1f0c7e2a9d4e5f8a6b1c2d3e4f5a60", 0)
    assert l5.extra == {"witness": "kept: a key of a newer 1.x"}
    assert (il.not_done_reason, il.not_done_text) == (
        NotDoneReason.NOT_TOLERATED,
        "pain on skin entry",
    )
    assert [t.status for t in plan.targets()] == [
        SiteStatus.INJECTED,
        SiteStatus.INJECTED,
        SiteStatus.SKIPPED,
    ]
    assert missing_fields(plan) == []
    # 1.2 had no record.
    assert load_plan(SAMPLES / "plan-1.2.json").procedure is None


def test_the_record_round_trips_through_the_plan_file(tmp_path: Path):
    plan = load_plan(SAMPLES / "plan-1.3.json")
    out = save_plan(tmp_path / "again.json", plan)
    back = load_plan(out)
    assert back.procedure == plan.procedure
    assert (
        back.procedure is not None
        and back.procedure.sites[1].extra == plan.procedure.sites[1].extra
    )  # type: ignore[union-attr]
    doc = json.loads(out.read_text())
    assert doc["plan"]["procedure"]["sites"][1]["witness"] == "kept: a key of a newer 1.x"


def test_a_plan_without_a_record_writes_no_procedure_key():
    doc = plan_to_document(lumbar_plan())
    assert "procedure" not in doc["plan"]
    assert plan_from_document(doc).plan.procedure is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p.update(time_out="yes"),
            'plan.procedure.time_out: expected true or false, got "yes"',
        ),
        (
            lambda p: p.update(complications=["faint"]),
            'plan.procedure.complications[0]: "faint" is not one of',
        ),
        (
            lambda p: p["sites"][0].pop("target_id"),
            "plan.procedure.sites[0].target_id: missing",
        ),
        (
            lambda p: p["sites"][0]["given"].update(volume_ml=-1),
            "plan.procedure.sites[0].given.volume_ml: must be at least 0, got -1",
        ),
        (
            lambda p: p["sites"][0]["key_image"].update(frame=-2),
            "plan.procedure.sites[0].key_image.frame: must be at least 0, got -2",
        ),
    ],
)
def test_a_damaged_record_is_named_where(change, message):
    doc = json.loads((SAMPLES / "plan-1.3.json").read_text())
    change(doc["plan"]["procedure"])
    with pytest.raises(PlanFileError) as err:
        plan_from_document(doc, source="plan.json")
    assert str(err.value).startswith(f"plan.json: {message}")


# -- the store -----------------------------------------------------------------------------------
def test_the_record_round_trips_through_the_store_and_its_amendment(tmp_path: Path):
    from prolo_planner.store.records import StoreError
    from prolo_planner.store.repository import Repository

    plan = load_plan(SAMPLES / "plan-1.3.json")
    with Repository.open(tmp_path / "store", who="dr_test") as repo:
        patient = repo.create_patient(mrn="R-1", name="RECORD^Rita")
        session = repo.create_session(patient.id, region="lumbar_spine", pain_before=6)
        repo.save_plan(session.id, plan)
        assert repo.load_plan(session.id).procedure == plan.procedure
        (row,) = repo.sessions_of(patient.id)
        assert row.done is not None and (row.done.sites, row.done.not_done) == (2, 1)
        assert row.done.given_ml == pytest.approx(3.0) and row.done.complications == "vasovagal"
        # Planned beside it: the three sites' planned volumes 1.5 + 1.0 + 2.0, the skipped one
        # not counted (core.dose counts planned and injected sites).
        assert row.total_ml == pytest.approx(2.5)
        # The record is complete but for the pain after: the store names it and will not sign.
        with pytest.raises(StoreError, match="the procedure record is not complete: pain after"):
            repo.sign(session.id)
        repo.update_session(session.id, pain_after=3)
        repo.sign(session.id)
        amended = repo.amend(session.id)
        assert repo.load_plan(amended.id).procedure == plan.procedure
        rows = {r.session.id: r for r in repo.sessions_of(patient.id)}
        assert rows[amended.id].done == row.done
