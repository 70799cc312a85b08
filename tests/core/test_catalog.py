"""Region catalogs: the ten bundled load clean, the user's add and override, bad ones skipped."""

from __future__ import annotations

import json
from pathlib import Path

from prolo_planner.core.catalog import checklist, load_catalogs, read_catalog
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    Anaesthetic,
    AvoidKind,
    ImagePlan,
    ImageRef,
    Injectate,
    Plan,
    Target,
    TargetKind,
)
from prolo_planner.resources import resource_path

REGIONS = {
    "lumbar_spine": "Lumbar spine",
    "sacroiliac_pelvis": "Sacroiliac joint and pelvis",
    "hip": "Hip",
    "cervical_spine": "Cervical spine",
    "thoracic_spine_ribs": "Thoracic spine and ribs",
    "shoulder": "Shoulder",
    "elbow": "Elbow",
    "wrist_hand": "Wrist and hand",
    "knee": "Knee",
    "ankle_foot": "Ankle and foot",
}


def write(folder: Path, name: str, doc: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def catalog(region_id: str, name: str = "", targets=(), avoid=(), version: str = "1.0") -> dict:
    return {
        "format": "prolo-planner/catalog",
        "format_version": version,
        "region": {"id": region_id, "name": name},
        "targets": list(targets),
        "avoid": list(avoid),
    }


def test_the_ten_bundled_regions_load_clean(tmp_path: Path):
    found = load_catalogs(user_dir=tmp_path / "none")
    assert found.problems == ()
    assert {rid: r.name for rid, r in found.regions.items()} == REGIONS
    assert sorted(p.stem for p in resource_path("catalogs").glob("*.json")) == sorted(REGIONS)
    for region in found.regions.values():
        assert len(region.targets) >= 5 and len(region.avoid) >= 4, region.id
        assert region.sources == (resource_path("catalogs") / f"{region.id}.json",)
        assert all(a.margin_mm > 0 for a in region.avoid)


def test_bundled_catalogs_carry_the_domain_table(tmp_path: Path):
    regions = load_catalogs(user_dir=tmp_path).regions
    lumbar = regions["lumbar_spine"]
    for level in ("L3-L4", "L4-L5", "L5-S1"):
        assert lumbar.target(f"{level} supraspinous ligament").kind is TargetKind.LIGAMENT
        assert lumbar.target(f"{level} interspinous ligament").kind is TargetKind.LIGAMENT
        assert lumbar.target(f"{level} facet joint capsule").kind is TargetKind.JOINT_CAPSULE
    assert (
        lumbar.target("iliolumbar ligament at L5 transverse process").kind is TargetKind.PERIOSTEUM
    )
    assert lumbar.avoid_kinds() == [
        AvoidKind.SPINAL_CANAL,
        AvoidKind.NERVE,
        AvoidKind.ARTERY,
        AvoidKind.VEIN,
    ]
    cervical = regions["cervical_spine"]
    assert cervical.avoid_entry("vertebral artery").kind is AvoidKind.ARTERY
    assert cervical.avoid_entry("lung apex (C7-T1)").kind is AvoidKind.PLEURA
    assert cervical.avoid_entry("spinal cord and dura").kind is AvoidKind.SPINAL_CANAL
    assert regions["thoracic_spine_ribs"].avoid_entry("pleura and lung").kind is AvoidKind.PLEURA
    assert regions["shoulder"].target("long head of biceps tendon").kind is TargetKind.TENDON
    assert (
        regions["knee"].avoid_entry("common peroneal nerve at the fibular head").kind
        is AvoidKind.NERVE
    )
    assert regions["hip"].avoid_entry("femoral artery").kind is AvoidKind.ARTERY
    assert regions["ankle_foot"].target("plantar fascia origin at calcaneus") is not None
    assert regions["sacroiliac_pelvis"].avoid_entry("sciatic nerve").kind is AvoidKind.NERVE
    assert regions["elbow"].target("annular ligament").kind is TargetKind.LIGAMENT
    assert regions["wrist_hand"].target("triangular fibrocartilage complex") is not None


def test_a_user_catalog_adds_and_overrides_entries_by_name(private_home: Path):
    user = private_home / "data" / "catalogs"  # the default user folder under PROLO_PLANNER_HOME
    write(
        user,
        "lumbar_clinic.json",
        catalog(
            "lumbar_spine",
            targets=[
                {
                    "name": "l4-l5  INTERSPINOUS ligament",
                    "kind": "periosteum",
                    "default_injectate": {
                        "dextrose_percent": 25,
                        "anaesthetic": "procaine",
                        "volume_ml": 2,
                    },
                },
                {"name": "L2-L3 interspinous ligament", "kind": "ligament"},
            ],
            avoid=[
                {
                    "name": "spinal canal and dura (interlaminar window)",
                    "kind": "spinal canal or dura",
                    "margin_mm": 8,
                }
            ],
        ),
    )
    write(
        user,
        "tmj.json",
        catalog(
            "temporomandibular_joint",
            "Temporomandibular joint",
            targets=[{"name": "TMJ capsule", "kind": "joint capsule"}],
            avoid=[{"name": "facial nerve", "kind": "nerve"}],
        ),
    )
    found = load_catalogs()
    assert found.problems == ()
    lumbar = found.regions["lumbar_spine"]
    names = lumbar.target_names()
    assert names.index("l4-l5 INTERSPINOUS ligament") == 4  # overridden in place
    assert names[-1] == "L2-L3 interspinous ligament"  # added at the end
    assert len(names) == 13
    override = lumbar.target("L4-L5 interspinous ligament")
    assert override.kind is TargetKind.PERIOSTEUM
    assert override.default_injectate == Injectate(25.0, Anaesthetic.PROCAINE, 0.2, 2.0)
    assert lumbar.avoid_entry("Spinal canal and dura (interlaminar window)").margin_mm == 8.0
    assert lumbar.name == "Lumbar spine"
    assert lumbar.sources[-1] == user / "lumbar_clinic.json"
    tmj = found.regions["temporomandibular_joint"]
    assert tmj.name == "Temporomandibular joint" and tmj.avoid[0].margin_mm == 3.0
    assert len(found.regions) == 11


def test_malformed_files_are_reported_and_skipped(tmp_path: Path):
    user = tmp_path / "catalogs"
    bad = {
        "broken.json": '{"format": "prolo-planner/catalog",\n  "region": {',
        "other_format.json": {"format": "labelme", "region": {"id": "x"}},
        "bad_kind.json": catalog("knee", targets=[{"name": "ACL", "kind": "cartilage"}]),
        "bad_avoid.json": catalog(
            "knee", avoid=[{"name": "vessel", "kind": "artery", "margin_mm": -1}]
        ),
        "newer.json": catalog("knee", version="2.0"),
        "list.json": [1, 2],
        "bad_id.json": catalog("Knee Joint", "Knee"),
        "twice.json": catalog(
            "knee", targets=[{"name": "a", "kind": "tendon"}, {"name": "A", "kind": "bursa"}]
        ),
        "bad_injectate.json": catalog(
            "knee", targets=[{"name": "b", "kind": "tendon", "default_injectate": {"volume": 2}}]
        ),
        "no_name.json": catalog("new_region"),
    }
    for name, doc in bad.items():
        write(user, name, doc)
    (user / "latin1.json").write_bytes('{"name": "genou \xe9"}'.encode("latin-1"))
    write(user, "good.json", catalog("knee", targets=[{"name": "fabella", "kind": "other"}]))

    found = load_catalogs(user_dir=user)
    reasons = {p.path.name: p.reason for p in found.problems}
    assert set(reasons) == set(bad) | {"latin1.json"}
    assert (
        reasons["broken.json"].startswith("not valid JSON") and "line 2" in reasons["broken.json"]
    )
    assert "not a Prolo Planner catalog (format 'labelme'" in reasons["other_format.json"]
    assert reasons["bad_kind.json"].startswith(
        "targets[0].kind: 'cartilage' is not one of 'ligament'"
    )
    assert reasons["bad_avoid.json"] == "avoid[0].margin_mm: must not be negative, got -1"
    assert (
        reasons["newer.json"]
        == "made for a newer Prolo Planner (format 2.0); this version reads 1.x"
    )
    assert "not a Prolo Planner catalog" in reasons["list.json"]
    assert reasons["bad_id.json"].startswith("region.id: 'Knee Joint'")
    assert reasons["twice.json"] == "targets: 'A' appears twice"
    assert reasons["bad_injectate.json"] == "targets[0].default_injectate: unknown volume"
    assert reasons["no_name.json"] == "region 'new_region' has no name"
    assert reasons["latin1.json"].startswith("cannot be read")
    assert str(found.problems[0]).startswith(str(user))
    # The good file and all ten bundled regions are still there.
    assert len(found.regions) == 10
    assert found.regions["knee"].target("fabella").kind is TargetKind.OTHER
    assert found.region("knee").target("ACL") is None


def test_read_catalog_reads_one_file():
    region = read_catalog(resource_path("catalogs") / "hip.json")
    assert region.id == "hip" and region.target("iliofemoral ligament") is not None


def test_checklist_marks_targets_placed_on_images_of_the_region(tmp_path: Path):
    lumbar = load_catalogs(user_dir=tmp_path).regions["lumbar_spine"]
    im1 = ImagePlan(ImageRef("a.dcm"), region="lumbar_spine", id="im1")
    im2 = ImagePlan(ImageRef("b.dcm"), region="lumbar_spine", id="im2")
    hip = ImagePlan(ImageRef("c.dcm"), region="hip", id="im3")
    plan = Plan(
        (im1, im2, hip),
        (
            Target("im1", Point(1, 1), name="L4-L5 interspinous ligament"),
            Target("im2", Point(1, 1), name="l5-s1 SUPRASPINOUS ligament"),
            Target("im1", None, name="L3-L4 facet joint capsule"),  # carried forward, not placed
            Target("im3", Point(1, 1), name="L3-L4 supraspinous ligament"),  # wrong region
            Target("im1", Point(2, 2), name="my own site"),
        ),
    )
    done = dict(checklist(plan, lumbar))
    assert list(done) == lumbar.target_names()
    assert {name for name, placed in done.items() if placed} == {
        "L4-L5 interspinous ligament",
        "L5-S1 supraspinous ligament",
    }
    on_im2 = dict(checklist(plan, lumbar, image_id="im2"))
    assert [n for n, placed in on_im2.items() if placed] == ["L5-S1 supraspinous ligament"]


def test_one_name_for_a_region_everywhere():
    """core.catalog.region_name is the one owner: the timeline, the session picker, Find on
    PACS, the PDF header and the procedure note all name a region through it."""
    from prolo_planner.core.catalog import region_name

    bundled = json.loads((resource_path("catalogs") / "sacroiliac_pelvis.json").read_text())
    assert region_name("sacroiliac_pelvis") == bundled["region"]["name"]
    assert region_name("left_big_toe") == "Left big toe"  # no catalog: the id in words
    assert region_name("") == ""
