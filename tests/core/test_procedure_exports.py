"""The procedure record leaves the workstation: the note (PDF and text) and the FHIR bundle, on
the demo store's real images, beside another patient whose record must never show up."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from prolo_planner.core.plan import (
    Complication,
    Consent,
    SiteStatus,
)
from prolo_planner.core.procedure import start_record
from prolo_planner.core.text_review import TextApproval
from prolo_planner.export.fhir_bundle import FhirRefused, validate
from prolo_planner.report.session_export import export_session, session_subject, texts_to_review
from prolo_planner.store import demo
from prolo_planner.store.repository import Repository
from tests.core.store_support import make_plan

#: Another patient's record in the same store: none of it may reach the demo patient's note.
OTHER = {
    "name": "ZEBRA^Quentin",
    "mrn": "OTH-4471",
    "clinician": "Dr Xavier Other",
    "indication": "Quadriceps tendinopathy after a fall",
    "lot": "ZZ-LOT-9931",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("store")
    repo = Repository.open(folder, who="dr_test")
    made = demo.fill_demo(repo, today=dt.date(2026, 3, 14))
    other = repo.create_patient(OTHER["mrn"], OTHER["name"], "1950-01-01", "M")
    session = repo.create_session(other.id, region="knee", clinician=OTHER["clinician"])
    plan = make_plan(sites=1, ids="other")
    record = start_record(plan, clinician=OTHER["clinician"])
    record = replace(
        record,
        indication=OTHER["indication"],
        sites=(replace(record.sites[0], lot_number=OTHER["lot"]),),
    )
    repo.save_plan(session.id, replace(plan, procedure=record))
    yield repo, made
    repo.close()


@pytest.fixture(scope="module")
def exported(store, tmp_path_factory: pytest.TempPathFactory):
    repo, made = store
    out = tmp_path_factory.mktemp("out")
    missing: list[str] = []
    files = export_session(
        repo,
        made.sessions[1].id,
        ["png", "sc", "sr", "note", "fhir"],
        out,
        missing=missing,
    )
    assert missing == []
    return repo, made, {f.name: f for f in files}


def _pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())


# -- the note ------------------------------------------------------------------------------------
def test_the_note_says_every_field_of_the_record(exported) -> None:
    repo, made, files = exported
    text = files["session2_note.txt"].read_text(encoding="utf-8")
    session = repo.session(made.sessions[1].id)
    # Written out here from demo.py's record of session 2, not from the note's code.
    for expected in (
        "PROCEDURE NOTE",
        "Ultrasound-guided prolotherapy: lumbar spine",
        "Patient: DEMO, Alex, ID DEMO-0001, born 1971-05-20",
        "Date and time: 2026-02-21 09:40",
        "Clinician: Dr Demo (fictitious)",
        "Chronic low back pain over L3-L5 with tender supraspinous and interspinous ligaments",
        "Written informed consent was obtained by Dr Demo (fictitious)",
        "A time-out confirmed the patient, the procedure, the sites and the side.",
        "The skin was prepared with chlorhexidine in alcohol.",
        "Ultrasound guidance was used in real time for needle placement, with permanent "
        "recording and reporting of the images.",
        "1. L3-L4 supraspinous ligament, midline: 1 mL of dextrose 15 % with lidocaine 0.2 %, "
        "lot DX15-2603; 25 G 50 mm needle, in-plane. Needle tip seen at the target (key image 1).",
        "3. L3-L4 interspinous ligament, midline: 2 mL of dextrose 15 % with lidocaine 0.2 %, "
        "lot DX15-2603; 22 G 63 mm needle, in-plane.",
        # 1 + 1 + 2 + 1.5 mL; 5.5 mL x 15 % = 0.825 g; 5.5 x 0.2 x 10 = 11 mg.
        "Total given: 5.5 mL at 4 sites; dextrose 0.82 g; lidocaine 11 mg.",
        "Complications: vasovagal reaction.",
        "Pain (0-10 numeric rating scale): 5 before, 3 after.",
        "avoid anti-inflammatory medicines for 2 weeks",
        "- L3-L4 interspinous ligament: 2 mL given (1.5 mL planned)",
        "KEY IMAGES",
        "1. lumbar_long_axis_rgb.dcm: needle at L3-L4 supraspinous ligament",
        f"Signed electronically by {session.signed_by} on "
        f"{session.signed_at[:16].replace('T', ' ')} UTC.",
    ):
        assert expected in text, expected
    assert "INCOMPLETE" not in text


def test_the_pdf_note_reads_the_same_with_its_key_image(exported) -> None:
    _, _, files = exported
    text = _pdf_text(files["session2_note.pdf"])
    for expected in (
        "Procedure note",
        "Written informed consent was obtained by Dr Demo (fictitious)",
        "with permanent recording and reporting of the images",
        "lot DX15-2603",
        "Complications: vasovagal reaction.",
        "2 mL given (1.5 mL planned)",
        "Key image 1. lumbar_long_axis_rgb.dcm",
        "Signed electronically by",
    ):
        assert expected in text, expected
    pages = subprocess.run(
        ["pdfinfo", str(files["session2_note.pdf"])], capture_output=True, text=True
    ).stdout
    assert "Pages:" in pages
    images = subprocess.run(
        ["pdfimages", "-list", str(files["session2_note.pdf"])], capture_output=True, text=True
    ).stdout.splitlines()[2:]
    assert len(images) >= 1  # the key image is in the PDF


def test_no_field_of_another_patient_reaches_any_file(exported) -> None:
    _, _, files = exported
    texts = [
        files["session2_note.txt"].read_text(encoding="utf-8"),
        _pdf_text(files["session2_note.pdf"]),
        files["session2_fhir.json"].read_text(encoding="utf-8"),
    ]
    for text in texts:
        for value in (*OTHER.values(), "ZEBRA", "Quentin"):
            assert value not in text


# -- the FHIR bundle -----------------------------------------------------------------------------
def _resources(bundle: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for entry in bundle["entry"]:
        out.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return out


def test_the_bundle_validates_and_links_what_the_ehr_needs(exported) -> None:
    repo, made, files = exported
    bundle = json.loads(files["session2_fhir.json"].read_text(encoding="utf-8"))
    Bundle.model_validate(bundle)  # fhir.resources, again, on what was written
    urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    r = _resources(bundle)
    (procedure,) = r["Procedure"]
    procedure_url = next(u for u, res in urls.items() if res is procedure)
    assert procedure["status"] == "completed"
    # Body site and laterality coded (SNOMED CT, DICOM CID 4031 and CID 244 codes).
    assert procedure["bodySite"][0]["coding"][0]["code"] == "122496007"  # lumbar spine
    structures = [urls[e["valueReference"]["reference"]] for e in procedure["extension"]]
    assert [s["locationQualifier"][0]["coding"][0]["code"] for s in structures] == ["261129000"] * 4
    assert urls[procedure["performer"][0]["actor"]["reference"]]["name"][0]["text"] == (
        "Dr Demo (fictitious)"
    )
    assert [c["coding"][0]["code"] for c in procedure["complication"]] == ["398665005"]
    reports = [urls[ref["reference"]]["resourceType"] for ref in procedure["report"]]
    assert reports == ["DocumentReference", "DiagnosticReport"]
    guidance = urls[procedure["report"][1]["reference"]]
    assert "permanent recording" in guidance["conclusion"]
    media = [urls[m["link"]["reference"]] for m in guidance["media"]]
    assert media[0]["content"]["url"] == "session2_lumbar_long_axis_rgb_frame1.png"
    assert (files["session2_lumbar_long_axis_rgb_frame1.png"]).exists()
    # The key image's Secondary Capture and the SR, by the UIDs of the files beside it.
    study = urls[guidance["imagingStudy"][0]["reference"]]
    instances = {i["uid"] for s in study["series"] for i in s["instance"]}
    import pydicom

    assert str(pydicom.dcmread(files["session2_sc1.dcm"]).SOPInstanceUID) in instances
    assert str(pydicom.dcmread(files["session2_sr.dcm"]).SOPInstanceUID) in instances
    note = urls[procedure["report"][0]["reference"]]
    import base64

    text = base64.b64decode(note["content"][0]["attachment"]["data"]).decode("utf-8")
    assert text == files["session2_note.txt"].read_text(encoding="utf-8")
    # One administration per site, part of the Procedure, with what was given.
    administrations = r["MedicationAdministration"]
    assert [a["partOf"][0]["reference"] for a in administrations] == [procedure_url] * 4
    assert [a["dosage"]["dose"]["value"] for a in administrations] == [1.0, 1.0, 2.0, 1.5]
    assert {a["dosage"]["dose"]["code"] for a in administrations} == {"mL"}
    medication = urls[administrations[2]["medicationReference"]["reference"]]
    assert medication["batch"]["lotNumber"] == "DX15-2603"
    strengths = [i["strength"]["numerator"]["value"] for i in medication["ingredient"]]
    assert strengths == [15.0, 0.2]  # g per 100 mL: 15 % dextrose, 0.2 % lidocaine
    patient = r["Patient"][0]
    assert patient["identifier"][0]["value"] == "DEMO-0001" and patient["birthDate"] == "1971-05-20"
    pains = sorted(o["valueInteger"] for o in r["Observation"])
    assert pains == [3, 5]


def test_the_record_round_trips_through_the_bundle(exported) -> None:
    """What the bundle says of each site is what the record holds."""
    repo, made, files = exported
    plan = repo.load_plan(made.sessions[1].id)
    record = plan.procedure
    assert record is not None
    bundle = json.loads(files["session2_fhir.json"].read_text(encoding="utf-8"))
    urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    administrations = _resources(bundle)["MedicationAdministration"]
    for target, admin in zip(plan.targets(), administrations, strict=True):
        site = record.site(target.id)
        assert site is not None
        medication = urls[admin["medicationReference"]["reference"]]
        device = urls[admin["device"][0]["reference"]]
        read = (
            admin["status"],
            admin["dosage"]["dose"]["value"],
            medication["ingredient"][0]["strength"]["numerator"]["value"],
            medication["ingredient"][1]["strength"]["numerator"]["value"],
            medication["batch"]["lotNumber"],
            device["deviceName"][0]["name"],
            admin["dosage"]["method"]["text"],
            admin["note"][0]["text"],
        )
        assert read == (
            "completed",
            site.given.volume_ml,
            site.given.dextrose_percent,
            site.given.anaesthetic_percent,
            site.lot_number,
            f"{site.needle_gauge} G {site.needle_length_mm:g} mm needle",
            f"ultrasound-guided, {site.approach.value}",
            "Needle tip seen at the target on real-time ultrasound.",
        )


def test_an_incomplete_record_is_refused_with_its_fields_named(store, tmp_path: Path) -> None:
    repo, made = store
    today = made.sessions[2].id
    plan = repo.load_plan(today)
    record = start_record(plan, clinician="Dr Demo")
    record = replace(record, indication="Low back pain", time_out=True, complications=())
    repo.save_plan(today, replace(plan, procedure=record))
    missing: list[str] = []
    files = export_session(repo, today, ["fhir"], tmp_path, missing=missing)
    assert files == [] and not list(tmp_path.glob("*.json"))
    (refused,) = missing
    assert refused.startswith(
        "the FHIR bundle was not written: the procedure record misses time of the procedure; "
        "consent (written or verbal); "
    )
    for name in (
        "; skin preparation;",
        "; whether L3-L4 supraspinous ligament was injected;",
        "; whether L4-L5 interspinous ligament was injected",
    ):
        assert name in refused
    repo.save_plan(today, plan)  # as the demo left it


def test_what_the_fhir_library_refuses_is_named_by_its_field(exported) -> None:
    _, _, files = exported

    def first_administration(bundle: dict) -> dict:
        return next(
            e["resource"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "MedicationAdministration"
        )

    text = files["session2_fhir.json"].read_text(encoding="utf-8")
    bad_dose = json.loads(text)
    first_administration(bad_dose)["dosage"]["dose"]["value"] = "two"
    with pytest.raises(FhirRefused, match=r"MedicationAdministration\.dosage\.dose\.value: "):
        validate(bad_dose)
    no_status = json.loads(text)
    del first_administration(no_status)["status"]
    with pytest.raises(FhirRefused, match=r"MedicationAdministration\.status: .*required"):
        validate(no_status)
    validate(json.loads(text))


def test_a_session_without_a_record_says_so(store, tmp_path: Path) -> None:
    repo, made = store
    missing: list[str] = []
    assert export_session(repo, made.sessions[2].id, ["note"], tmp_path, missing=missing) == []
    assert missing == [
        "procedure note: no procedure was recorded for this session (Session > Procedure record)"
    ]


# -- de-identified -------------------------------------------------------------------------------
def test_a_deidentified_note_and_bundle_keep_only_the_approved_text(store, tmp_path: Path) -> None:
    repo, made = store
    subject = session_subject(repo, made.sessions[1].id)
    texts = texts_to_review(subject)
    by_key = {t.key: t for t in texts}
    # The record's texts are reviewed like the plan's: typed ones off, the app's words on.
    assert not by_key["procedure:indication"].kept_by_default
    assert not by_key["procedure:consent_by"].kept_by_default
    assert by_key["procedure:instructions"].kept_by_default
    lots = [t for t in texts if t.key.endswith(":lot_number")]
    assert len(lots) == 4 and not any(t.kept_by_default for t in lots)
    files = export_session(
        repo,
        made.sessions[1].id,
        ["note", "fhir"],
        tmp_path,
        deidentify=True,
        texts=TextApproval.of([by_key["procedure:indication"]]),
    )
    written = {f.suffix: f for f in files}
    note = written[".txt"].read_text(encoding="utf-8")
    pdf = _pdf_text(written[".pdf"])
    bundle = written[".json"].read_text(encoding="utf-8")
    for text in (note, pdf, bundle):
        for identifying in ("DEMO", "Alex", "1971", "Dr Demo", "DX15-2603", "2026-02-21"):
            assert identifying not in text, identifying
        for value in OTHER.values():
            assert value not in text
    assert "Chronic low back pain over L3-L5" in note  # approved
    assert "de-identified" in note and "Written informed consent was obtained after" in note
    assert "POST-PROCEDURE INSTRUCTIONS\n(left out of this de-identified copy)" in note
    assert "INCOMPLETE" not in note  # the clinician's record is complete; the copy left out
    assert "avoid anti-inflammatory medicines" not in note  # the standard words, not approved
    Bundle.model_validate(json.loads(bundle))


def test_export_on_the_command_line_writes_note_and_bundle(store, tmp_path: Path, capsys) -> None:
    from prolo_planner.commands.export import run_export

    repo, made = store
    status = run_export(made.sessions[0].id, "note,fhir", tmp_path, data_dir=repo.data_dir)
    assert status == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "session1_fhir.json",
        "session1_note.pdf",
        "session1_note.txt",
    ]
    capsys.readouterr()
    status = run_export(made.sessions[2].id, "fhir", tmp_path / "today", data_dir=repo.data_dir)
    assert status == 1
    said = capsys.readouterr()
    assert "FHIR bundle: no procedure was recorded for this session" in said.out + said.err


def test_statuses_of_sites_not_done_go_as_not_done(store, tmp_path: Path) -> None:
    repo, made = store
    first = made.sessions[0].id
    plan = repo.load_plan(first)
    targets = plan.targets()
    skipped = plan.with_annotations(
        replace(a, status=SiteStatus.SKIPPED) if a.id == targets[1].id else a
        for a in plan.annotations
    )
    record = skipped.procedure
    assert record is not None
    from prolo_planner.core.plan import NotDoneReason
    from prolo_planner.export.fhir_bundle import FhirContext, procedure_bundle

    site = replace(record.sites[1], not_done_reason=NotDoneReason.PATIENT_DECLINED)
    skipped = replace(
        skipped,
        procedure=replace(
            record.with_site(site), consent=Consent.VERBAL, complications=(Complication.OTHER,)
        ),
    )
    with pytest.raises(FhirRefused, match="the other complication, in words"):
        procedure_bundle(skipped, FhirContext(patient_id="X"))
    skipped = replace(skipped, procedure=replace(skipped.procedure, complication_text="bruise"))  # type: ignore[arg-type]
    bundle = procedure_bundle(skipped, FhirContext(patient_id="X", clinician="Dr Demo"))
    admins = _resources(bundle)["MedicationAdministration"]
    assert [a["status"] for a in admins] == ["completed", "not-done", "completed"]
    assert admins[1]["statusReason"][0]["text"] == "patient declined"
    assert _resources(bundle)["Procedure"][0]["complication"] == [{"text": "bruise"}]


# -- the SR --------------------------------------------------------------------------------------
def _items(ds, name: tuple[str, str]) -> list:
    out = []
    for item in ds.ContentSequence:
        seq = item.get("ConceptNameCodeSequence")
        if seq and (seq[0].get("CodeValue"), seq[0].get("CodingSchemeDesignator")) == name:
            out.append(item)
    return out


def test_the_sr_says_what_was_administered_in_its_own_content(exported, tmp_path: Path) -> None:
    import pydicom

    from tests.core.export_support import PRIVATE_SCHEME_WARNING, assert_dciodvfy_clean

    _, _, files = exported
    ds = pydicom.dcmread(files["session2_sr.dcm"])
    assert_dciodvfy_clean(ds, tmp_path, allowed=(PRIVATE_SCHEME_WARNING,))
    (evaluations,) = _items(ds, ("C0034375", "UMLS"))
    said = {}
    for item in evaluations.ContentSequence:
        name = item.ConceptNameCodeSequence[0]
        key = (name.CodeValue, name.CodingSchemeDesignator)
        if item.ValueType == "CODE":
            said.setdefault(key, []).append(item.ConceptCodeSequence[0].CodeValue)
        else:
            said[key] = item.TextValue
    # DICOM's own concepts, checked against PS3.16 by hand: 122004 consent given, 121113
    # complications (SNOMED 398665005 vasovagal syncope), 121109 indications, 122036 post-
    # procedure instruction.
    assert said[("122004", "DCM")] == ["373066001"]
    assert said[("121113", "DCM")] == ["398665005"]
    assert said[("121109", "DCM")].startswith("Chronic low back pain over L3-L5")
    assert said[("122036", "DCM")].startswith("Soreness and stiffness")
    # Per site, in its target's group: 121382 quantity administered, 121149 lot, 111438 needle
    # in target, 111465/111467 the needle used.
    (measurements,) = _items(ds, ("126010", "DCM"))
    volumes, lots, in_target, gauges = [], [], [], []
    for group in measurements.ContentSequence:
        for item in group.ContentSequence:
            name = item.ConceptNameCodeSequence[0]
            key = (name.get("CodeValue"), name.get("CodingSchemeDesignator"))
            if key == ("121382", "DCM"):
                volumes.append(float(item.MeasuredValueSequence[0].NumericValue))
            elif key == ("121149", "DCM"):
                lots.append(item.TextValue)
            elif key == ("111438", "DCM"):
                in_target.append(item.ConceptCodeSequence[0].CodeValue)
            elif key == ("111465", "DCM"):
                gauges.append(float(item.MeasuredValueSequence[0].NumericValue))
    assert volumes == [1.0, 1.0, 2.0, 1.5]
    assert lots == ["DX15-2603"] * 4 and in_target == ["373066001"] * 4
    assert gauges == [25.0, 25.0, 22.0, 22.0]


def test_the_record_comes_back_from_the_sr_with_and_without_its_private_record(exported) -> None:
    import pydicom

    from prolo_planner.export.sr_import import read_report

    repo, made, files = exported
    stored = repo.load_plan(made.sessions[1].id)
    ds = pydicom.dcmread(files["session2_sr.dcm"])
    assert read_report(ds).plan.procedure == stored.procedure  # the private record: all of it
    ds.remove_private_tags()  # a PACS that drops private elements
    read = read_report(ds)
    assert read.record is None
    record = read.plan.procedure
    assert record is not None and stored.procedure is not None
    # Only what TID 1500 has no place for is not there: the time and each key image.
    expected = replace(
        stored.procedure,
        performed_at="",
        sites=tuple(replace(s, key_image=None) for s in stored.procedure.sites),
    )
    assert record == expected
    assert [t.status for t in read.plan.targets()] == [t.status for t in stored.targets()]
