"""The plan file: round trip, unknown keys kept, newer major refused, 0.9 upgraded, atomic write."""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import signal
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prolo_planner.core.edits import ReplaceAnnotation
from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    Anaesthetic,
    AngleMeasurement,
    Approach,
    AvoidKind,
    AvoidZone,
    Caliper,
    Complication,
    Consent,
    ImagePlan,
    ImageRef,
    Injectate,
    KeyImage,
    ManualCalibration,
    NeedlePath,
    NotDoneReason,
    Plan,
    ProbeOrientation,
    ProbeSetting,
    ProbeShape,
    ProcedureRecord,
    Side,
    SiteRecord,
    SiteStatus,
    SkinPrep,
    Target,
    TargetKind,
    TextNote,
    ZoneShape,
)
from prolo_planner.store.plan_file import (
    PLAN_FORMAT_VERSION,
    TYPE_TAGS,
    PlanFileError,
    load_plan,
    missing_images,
    plan_from_document,
    plan_to_document,
    read_plan_file,
    save_plan,
)
from tests.conftest import TEST_DATA

SAMPLES = TEST_DATA / "plans"


def sample_doc() -> dict:
    return json.loads((SAMPLES / "plan-1.0.json").read_text(encoding="utf-8"))


def write_doc(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# -- the sample of every version ----------------------------------------------------------------
def test_a_sample_exists_for_every_version_and_each_loads():
    versions = sorted(
        json.loads(p.read_text())["format_version"] for p in SAMPLES.glob("plan-*.json")
    )
    assert versions == ["0.9", "1.0", "1.1", "1.2", PLAN_FORMAT_VERSION]
    for path in SAMPLES.glob("plan-*.json"):
        loaded = read_plan_file(path)
        assert path.name == f"plan-{loaded.format_version}.json"
        assert len(loaded.plan.images) == 2 and len(loaded.plan.annotations) == 10


def test_the_1_0_sample_reads_as_written():
    plan = load_plan(SAMPLES / "plan-1.0.json")
    assert plan.title == "Lumbar, session 2" and plan.patient_weight_kg == 72.5
    long_axis, cine = plan.images
    assert long_axis.ref.path == str(SAMPLES / "images" / "lumbar_long_axis.dcm")
    assert long_axis.probe_orientation is ProbeOrientation.LONG_AXIS
    assert long_axis.skin_line == (Point(12.0, 28.5), Point(628.0, 31.0))
    assert cine.ref.frame_count == 90 and cine.key_frames == (12, 40)
    assert cine.manual_calibration == ManualCalibration(
        Point(610.5, 40.5), Point(610.5, 440.5), 40.0
    )
    t1, t2, p1 = plan.annotations[:3]
    assert isinstance(t1, Target) and t1.name == "L4-L5 interspinous ligament" and t1.frame is None
    assert t2.injectate == Injectate(20.0, Anaesthetic.PROCAINE, 0.5, 1.0)
    assert t2.status is SiteStatus.INJECTED
    assert isinstance(p1, NeedlePath) and p1.target_id == t1.id and p1.needle_length_mm == 50.0
    assert plan.path_end(p1) == Point(318.5, 262.0)
    zone = plan.annotations[4]
    assert (
        isinstance(zone, AvoidZone)
        and zone.kind is AvoidKind.SPINAL_CANAL
        and zone.margin_mm == 5.0
    )
    assert [type(a).__name__ for a in plan.annotations[5:]] == [
        "Caliper",
        "Target",
        "AvoidZone",
        "AngleMeasurement",
        "TextNote",
    ]


def test_the_0_9_sample_upgrades_to_the_same_plan():
    old = read_plan_file(SAMPLES / "plan-0.9.json")
    assert old.format_version == "0.9" and old.was_upgraded and old.app_version == "0.0.9"
    assert old.plan == load_plan(SAMPLES / "plan-1.0.json")
    path = old.plan.annotations[2]
    assert isinstance(path, NeedlePath) and path.needle_length_mm == 50.0  # was needle_len
    assert old.plan.images[0].skin_line == (
        Point(12.0, 28.5),
        Point(628.0, 31.0),
    )  # was depth_marker
    assert old.plan.images[0].extra == {"scanner": "Acme Sono 5, L12-5 probe"}


def test_an_upgraded_plan_saves_as_the_current_version(tmp_path: Path):
    plan = load_plan(SAMPLES / "plan-0.9.json")
    out = save_plan(tmp_path / "plan.json", plan)
    doc = json.loads(out.read_text())
    assert doc["format_version"] == PLAN_FORMAT_VERSION
    assert doc["plan"]["images"][0]["scanner"] == "Acme Sono 5, L12-5 probe"
    assert doc["plan"]["annotations"][2]["needle_length_mm"] == 50.0
    assert load_plan(out) == plan


# -- round trip ---------------------------------------------------------------------------------
def test_save_then_load_gives_an_equal_plan_and_a_private_file(tmp_path: Path):
    plan = load_plan(SAMPLES / "plan-1.0.json")
    out = save_plan(tmp_path / "session.json", plan)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    again = read_plan_file(out)
    assert again.plan == plan
    assert again.app_version and again.saved_at.endswith("Z")
    assert [a.id for a in again.plan.annotations] == [a.id for a in plan.annotations]


def test_image_paths_under_the_plan_folder_are_stored_relative(tmp_path: Path):
    folder = tmp_path / "patient"
    (folder / "scans").mkdir(parents=True)
    inside = folder / "scans" / "long.dcm"
    inside.write_bytes(b"DICM")
    outside = tmp_path / "elsewhere" / "short.dcm"
    plan = Plan(
        (ImagePlan(ImageRef(str(inside)), id="a"), ImagePlan(ImageRef(str(outside)), id="b"))
    )
    out = save_plan(folder / "plan.json", plan)
    stored = [im["ref"]["path"] for im in json.loads(out.read_text())["plan"]["images"]]
    assert stored == ["scans/long.dcm", str(outside)]
    assert load_plan(out) == plan
    assert [im.id for im in missing_images(load_plan(out), folder)] == ["b"]
    # A document kept elsewhere (the session store) keeps relative paths as they are.
    relative = plan_from_document(plan_to_document(plan, base_dir=folder)).plan
    assert relative.images[0].ref.path == "scans/long.dcm"
    assert [im.id for im in missing_images(relative, folder)] == ["b"]
    assert [im.id for im in missing_images(relative, tmp_path)] == ["a", "b"]


def test_unknown_keys_at_every_level_survive_load_edit_and_save(tmp_path: Path):
    doc = sample_doc()
    doc["signature"] = {"by": "Dr A", "sha256": "00ff"}
    doc["plan"]["protocol"] = "course of 4"
    doc["plan"]["images"][0]["doppler"] = {"gain": 12}
    doc["plan"]["images"][0]["ref"]["study_uid"] = "1.2.3"
    doc["plan"]["images"][1]["manual_calibration"]["ticks"] = 5
    doc["plan"]["annotations"][0]["colour"] = "#ff8800"
    doc["plan"]["annotations"][0]["injectate"]["adrenaline"] = False
    doc["plan"]["annotations"][2]["extra"] = ["a key named extra", 1]
    plan = load_plan(write_doc(tmp_path / "newer.json", doc))
    # An edit rebuilds the target with dataclasses.replace: its unknown keys ride along.
    moved = ReplaceAnnotation.of(plan, plan.annotations[0].id, position=Point(1.5, 2.5)).apply(plan)
    again = json.loads(save_plan(tmp_path / "again.json", moved).read_text())
    assert again["signature"] == {"by": "Dr A", "sha256": "00ff"}
    assert again["plan"]["protocol"] == "course of 4"
    assert again["plan"]["images"][0]["doppler"] == {"gain": 12}
    assert again["plan"]["images"][0]["ref"]["study_uid"] == "1.2.3"
    assert again["plan"]["images"][1]["manual_calibration"]["ticks"] == 5
    target = again["plan"]["annotations"][0]
    assert target["colour"] == "#ff8800" and target["position"] == [1.5, 2.5]
    assert target["injectate"]["adrenaline"] is False
    assert again["plan"]["annotations"][2]["extra"] == ["a key named extra", 1]


def test_a_newer_major_is_refused_and_a_newer_minor_is_read(tmp_path: Path):
    doc = sample_doc()
    doc["format_version"] = "2.0"
    path = write_doc(tmp_path / "from-the-future.json", doc)
    with pytest.raises(PlanFileError) as err:
        load_plan(path)
    assert str(err.value) == (
        f"{path}: made by a newer Prolo Planner (format 2.0); this version reads 1.x"
    )
    doc["format_version"] = "1.7"
    doc["plan"]["annotations"][1]["bevel"] = "up"
    loaded = read_plan_file(write_doc(tmp_path / "minor.json", doc))
    assert loaded.format_version == "1.7" and loaded.plan.annotations[1].extra == {"bevel": "up"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["plan"]["annotations"][3].update(entry="abc"),
            'plan.annotations[3].entry: expected [x, y], got "abc"',
        ),
        (
            lambda d: d["plan"]["annotations"][0].update(position=[1, float("nan")]),
            "plan.annotations[0].position: expected [x, y], got [1, NaN]",
        ),
        (
            lambda d: d["plan"]["annotations"][4].update(kind="artery!"),
            'plan.annotations[4].kind: "artery!" is not one of "artery", "vein"',
        ),
        (
            lambda d: d["plan"]["annotations"][0]["injectate"].update(volume_ml=-1),
            "plan.annotations[0].injectate.volume_ml: must be at least 0, got -1",
        ),
        (
            lambda d: d["plan"]["annotations"][5].update(frame=1.5),
            "plan.annotations[5].frame: expected a whole number, got 1.5",
        ),
        (lambda d: d["plan"]["annotations"][5].pop("id"), "plan.annotations[5].id: missing"),
        (
            lambda d: d["plan"]["annotations"][6].update(type="spline"),
            'plan.annotations[6].type: "spline" is not one of "target"',
        ),
        (
            lambda d: d["plan"]["annotations"][2].update(target_id="nope"),
            "plan.annotations[2].target_id: no target 'nope' in this plan",
        ),
        (
            lambda d: d["plan"]["annotations"][2].update(
                target_id=d["plan"]["annotations"][4]["id"]
            ),
            "plan.annotations[2].target_id: no target",
        ),
        (
            lambda d: d["plan"]["annotations"][6].update(image_id="gone"),
            "plan.annotations[6].image_id: no image 'gone' in this plan",
        ),
        (
            lambda d: d["plan"]["annotations"][1].update(id=d["plan"]["annotations"][0]["id"]),
            "plan.annotations[1].id: 'a1d2c3b4e5f64a7b8c9d0e1f2a3b4c51' is used twice",
        ),
        (
            lambda d: d["plan"]["images"][1].update(skin_line=[[0, 0]]),
            "plan.images[1].skin_line: expected a list of 2, got 1",
        ),
        (
            lambda d: d["plan"]["images"][1]["ref"].update(frame_count=0),
            "plan.images[1].ref.frame_count: must be at least 1, got 0",
        ),
        (
            lambda d: d["plan"].update(patient_weight_kg=True),
            "plan.patient_weight_kg: expected a number, got true",
        ),
        (lambda d: d["plan"].update(annotations={}), "plan.annotations: expected a list, got {}"),
        (lambda d: d.update(format="labelme"), 'not a Prolo Planner plan (format "labelme"'),
        (
            lambda d: d.update(format_version=1.0),
            "format_version: expected text like '1.3', got 1.0",
        ),
        (
            lambda d: d.update(format_version="0.5"),
            "format 0.5 is too old: no upgrade from it is known",
        ),
        (lambda d: d.pop("plan"), "plan: expected an object, got null"),
    ],
)
def test_problems_name_the_file_and_where(tmp_path: Path, change, message):
    doc = sample_doc()
    change(doc)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")
    with pytest.raises(PlanFileError) as err:
        load_plan(path)
    assert err.value.path == path
    assert str(err.value).startswith(f"{path}: {message}")


def test_unreadable_files_are_plan_file_errors(tmp_path: Path):
    with pytest.raises(PlanFileError, match="cannot be read"):
        load_plan(tmp_path / "absent.json")
    text = (SAMPLES / "plan-1.0.json").read_text()
    (tmp_path / "cut.json").write_text(text[: len(text) // 2])
    with pytest.raises(PlanFileError, match=r"not valid JSON: .* at line \d+, column \d+"):
        load_plan(tmp_path / "cut.json")
    (tmp_path / "binary.json").write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(PlanFileError, match="not a text file"):
        load_plan(tmp_path / "binary.json")


# -- hostile documents: valid JSON, and still no plan ------------------------------------------
HUGE = 10**400


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["plan"]["annotations"][0].update(type=["target"]),
            'plan.annotations[0].type: ["target"] is not one of "target"',
        ),
        (
            lambda d: d["plan"]["annotations"][0].update(type={"target": 1}),
            'plan.annotations[0].type: {"target": 1} is not one of "target"',
        ),
        (
            lambda d: d["plan"]["annotations"][5].update(frame=HUGE),
            "plan.annotations[5].frame: expected a whole number, got a whole number of 401 digits",
        ),
        (
            lambda d: d["plan"]["annotations"][0].update(position=[HUGE, 1]),
            "plan.annotations[0].position: expected [x, y], got [1000000000000000000000000000",
        ),
        (
            lambda d: d["plan"].update(patient_weight_kg=-HUGE),
            "plan.patient_weight_kg: expected a number, got a whole number of 401 digits",
        ),
        (
            lambda d: d["plan"]["images"][1]["ref"].update(frame_count=2**60),
            "plan.images[1].ref.frame_count: expected a whole number, got 1152921504606846976",
        ),
        (
            lambda d: d["plan"]["annotations"][0].update(mystery=[1, {"deep": float("nan")}]),
            "plan.annotations[0].mystery[1].deep: nan is not a number a plan can hold",
        ),
        (
            lambda d: d.update(written_by={"clock": float("-inf")}),
            "written_by.clock: -inf is not a number a plan can hold",
        ),
        (
            lambda d: d["plan"].update(newer=_nested(200)),
            "plan.newer[0][0][0]",
        ),
    ],
)
def test_hostile_documents_are_plan_file_errors_naming_where(tmp_path: Path, change, message):
    """Each of these escaped as TypeError, OverflowError or RecursionError, or (NaN under a key
    this version does not know) loaded and then failed every autosave."""
    doc = sample_doc()
    change(doc)
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")
    with pytest.raises(PlanFileError) as err:
        load_plan(path)
    assert err.value.path == path
    assert str(err.value).startswith(f"{path}: {message}"), str(err.value)
    assert "\n" not in str(err.value) and len(str(err.value)) < 400


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"format": "prolo-planner/plan", "n": ' + "7" * 5000 + "}",
            "not a plan: a number of more than 4300 digits",
        ),
        ("[" * 100_000 + "]" * 100_000, "not a plan: nested more than 64 levels deep"),
        ('{"a": ' * 50_000 + "1" + "}" * 50_000, "not a plan: nested more than 64 levels deep"),
    ],
)
def test_numbers_and_nesting_beyond_the_parser_are_plan_file_errors(
    tmp_path: Path, text: str, message: str
):
    path = tmp_path / "hostile.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanFileError) as err:
        load_plan(path)
    assert str(err.value).startswith(f"{path}: {message}"), str(err.value)[:300]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from([HUGE, -HUGE, 2**53, 2**53 + 1])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


def _places(doc: object, where: tuple = ()) -> list[tuple]:
    """Every place of a document a value can be put: each key and list index."""
    found = [where]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _places(value, (*where, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += _places(value, (*where, i))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_whatever_loads_saves_again_and_whatever_does_not_is_a_plan_file_error(
    plan_folder: Path, data: st.DataObject
):
    """Random JSON put at a random place of the sample (replacing a value, or as a new key):
    either a PlanFileError naming the file, or a plan that saves and reads back equal."""
    doc = sample_doc()
    for _ in range(data.draw(st.integers(1, 3))):
        place = data.draw(st.sampled_from(_places(doc)[1:]))
        value = data.draw(json_values)
        parent = doc
        for step in place[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and data.draw(st.booleans()):
            parent[f"new_{place[-1]}"] = value
        else:
            parent[place[-1]] = value
    path = plan_folder / "fuzzed.json"
    path.write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")
    try:
        plan = load_plan(path)
    except PlanFileError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
        return
    saved = save_plan(plan_folder / "resaved.json", plan)
    assert load_plan(saved) == plan


# -- atomic writes ------------------------------------------------------------------------------
def test_a_failed_write_leaves_the_old_file_intact(tmp_path: Path):
    plan = load_plan(SAMPLES / "plan-1.0.json")
    path = save_plan(tmp_path / "plan.json", Plan(title="the old plan"))
    old = path.read_bytes()
    # A real write failure: the file size limit stops the write part-way through (EFBIG).
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (len(old) + 100, hard))
    try:
        with pytest.raises(PlanFileError, match="cannot be saved"):
            save_plan(path, plan)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["plan.json"]  # no half-written temporary file left behind
    assert load_plan(path).title == "the old plan"


def test_a_plan_that_cannot_be_encoded_never_touches_the_file(tmp_path: Path):
    path = save_plan(tmp_path / "plan.json", Plan(title="kept"))
    old = path.read_bytes()
    with pytest.raises(PlanFileError, match="cannot be saved: Out of range float"):
        save_plan(path, Plan(patient_weight_kg=float("nan")))
    with pytest.raises(PlanFileError, match="cannot be saved"):
        save_plan(path, Plan(extra={"when": object()}))
    assert path.read_bytes() == old


# -- randomly built plans -----------------------------------------------------------------------
finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
points = st.builds(Point, finite, finite)
frames = st.none() | st.integers(0, 500)
texts = st.text(max_size=20)
amounts = st.floats(0, 100, allow_nan=False)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    """Plans of 1-3 images and 0-8 annotations; image paths under the plan's folder start "@/"."""
    images = []
    for i in range(draw(st.integers(1, 3))):
        inside = draw(st.booleans())
        path = f"@/img {i}/ü{i}.dcm" if inside else f"/elsewhere/{i}.mp4"
        ref = ImageRef(path, draw(texts), draw(texts), draw(st.integers(1, 500)))
        calibration = draw(
            st.none() | st.builds(ManualCalibration, points, points, st.floats(0.1, 200))
        )
        images.append(
            ImagePlan(
                ref,
                draw(texts),
                draw(st.sampled_from(Side)),
                draw(st.sampled_from(ProbeOrientation)),
                draw(texts),
                tuple(draw(st.lists(st.integers(0, 500), max_size=3))),
                draw(st.none() | st.tuples(points, points)),
                calibration,
                id=f"im{i}",
            )
        )
    annotations: list = []
    for n in range(draw(st.integers(0, 8))):
        image = draw(st.sampled_from(images)).id
        targets = [a for a in annotations if isinstance(a, Target) and a.image_id == image]
        kind = draw(st.sampled_from(["target", "path", "zone", "caliper", "angle", "text"]))
        if kind == "path" and targets:
            a = NeedlePath(
                image,
                draw(points),
                draw(st.sampled_from(targets)).id,
                draw(frames),
                draw(st.sampled_from(Approach)),
                draw(st.integers(10, 34)),
                draw(st.floats(1, 200)),
                id=f"a{n}",
            )
        elif kind == "zone":
            a = AvoidZone(
                image,
                draw(st.sampled_from(ZoneShape)),
                tuple(draw(st.lists(points, max_size=6))),
                draw(frames),
                draw(st.sampled_from(AvoidKind)),
                draw(texts),
                draw(amounts),
                id=f"a{n}",
            )
        elif kind == "caliper":
            a = Caliper(image, draw(points), draw(points), draw(frames), draw(texts), id=f"a{n}")
        elif kind == "angle":
            a = AngleMeasurement(
                image,
                draw(points),
                draw(points),
                draw(points),
                draw(frames),
                draw(texts),
                id=f"a{n}",
            )
        elif kind == "text":
            a = TextNote(image, draw(points), draw(points), draw(texts), draw(frames), id=f"a{n}")
        else:
            injectate = Injectate(
                draw(amounts), draw(st.sampled_from(Anaesthetic)), draw(amounts), draw(amounts)
            )
            a = Target(
                image,
                draw(st.none() | points),
                draw(frames),
                draw(st.sampled_from(TargetKind)),
                draw(texts),
                draw(st.sampled_from(Side)),
                draw(st.sampled_from(SiteStatus)),
                injectate,
                draw(texts),
                id=f"a{n}",
            )
        annotations.append(a)
    weight = draw(st.none() | st.floats(0.5, 300))
    record = draw(st.none() | records(images, [a for a in annotations if isinstance(a, Target)]))
    return Plan(tuple(images), tuple(annotations), weight, draw(texts), draw(texts), record, id="p")


@st.composite
def records(draw: st.DrawFn, images: list[ImagePlan], targets: list[Target]) -> ProcedureRecord:
    sites = []
    for target in targets:
        key = st.builds(KeyImage, st.sampled_from([im.id for im in images]), st.integers(0, 500))
        sites.append(
            SiteRecord(
                target.id,
                Injectate(
                    draw(amounts), draw(st.sampled_from(Anaesthetic)), draw(amounts), draw(amounts)
                ),
                draw(texts),
                draw(st.integers(10, 34)),
                draw(st.floats(1, 200)),
                draw(st.sampled_from(Approach)),
                draw(st.none() | st.booleans()),
                draw(st.none() | key),
                draw(st.none() | st.sampled_from(NotDoneReason)),
                draw(texts),
            )
        )
    return ProcedureRecord(
        draw(texts),
        draw(st.sampled_from(["", "2026-03-14T10:30:00"])),
        draw(st.none() | st.sampled_from(Consent)),
        draw(texts),
        draw(st.none() | st.booleans()),
        draw(st.none() | st.sampled_from(SkinPrep)),
        draw(texts),
        tuple(sites),
        draw(st.none() | st.lists(st.sampled_from(Complication), max_size=3).map(tuple)),
        draw(texts),
        draw(texts),
    )


@pytest.fixture(scope="module")
def plan_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plans")


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=plans())
def test_random_plans_round_trip_through_the_file(plan_folder: Path, drawn: Plan):
    plan = drawn.with_images(
        dataclasses.replace(
            im, ref=dataclasses.replace(im.ref, path=im.ref.path.replace("@", str(plan_folder)))
        )
        for im in drawn.images
    )
    path = save_plan(plan_folder / "plan.json", plan)
    stored = [im["ref"]["path"] for im in json.loads(path.read_text())["plan"]["images"]]
    assert [p.startswith("img ") for p in stored] == [
        im.ref.path.startswith("@") for im in drawn.images
    ]
    assert load_plan(path) == plan
    assert plan_from_document(json.loads(json.dumps(plan_to_document(plan)))).plan == plan


def test_the_1_1_sample_carries_the_clinicians_probe_setting():
    plan = load_plan(SAMPLES / "plan-1.1.json")
    assert plan.images[0].probe == ProbeSetting(ProbeShape.CURVED, 50.0, 30.0, None)
    assert plan.images[1].probe is None
    # 1.0 had no probe key: its images read as "as found".
    assert all(im.probe is None for im in load_plan(SAMPLES / "plan-1.0.json").images)


def test_the_1_2_sample_names_its_images_as_the_clinician_knows_them():
    plan = load_plan(SAMPLES / "plan-1.2.json")
    assert [im.ref.name for im in plan.images] == [
        "lumbar long axis (scanner).dcm",
        "lumbar short axis (cine).mp4",
    ]
    assert plan.images[0].ref.title == "lumbar long axis (scanner).dcm"
    # Before 1.2 an image is named by its path.
    older = load_plan(SAMPLES / "plan-1.1.json").images[0].ref
    assert older.name == "" and older.title == "lumbar_long_axis.dcm"


def test_the_format_document_names_every_field_type_and_value():
    text = (TEST_DATA.parents[1] / "docs" / "plan-format.md").read_text(encoding="utf-8")
    classes = [
        Plan,
        ImagePlan,
        ImageRef,
        ManualCalibration,
        ProbeSetting,
        Injectate,
        ProcedureRecord,
        SiteRecord,
        KeyImage,
        *TYPE_TAGS,
    ]
    for cls in classes:
        for f in dataclasses.fields(cls):
            if f.name not in ("extra", "file_extra", "images", "annotations"):
                assert f"`{f.name}`" in text, f"{cls.__name__}.{f.name} is not documented"
    for tag in TYPE_TAGS.values():
        assert f'`"{tag}"`' in text
    enums = (
        Side,
        TargetKind,
        AvoidKind,
        SiteStatus,
        Anaesthetic,
        Approach,
        ZoneShape,
        ProbeOrientation,
        ProbeShape,
        Consent,
        SkinPrep,
        Complication,
        NotDoneReason,
    )
    for enum in enums:
        for member in enum:
            assert f'`"{member.value}"`' in text, f"{enum.__name__}.{member.name}"
