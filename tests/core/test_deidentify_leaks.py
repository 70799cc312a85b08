"""The leak test: a real scanner file soaked in every attribute PS3.15 Table E.1-1 names, private
tags, identifiers at depth, free text typed into the plan, an identifying file name and a
burned-in banner; exported de-identified in every format, no byte of any output may hold any of
them (DICOM elements at any depth, PNG and JPEG bytes, PDF bytes and its text as pdftotext reads
it, file names), and the banner's pixels are black in every image written.

Expected values come from outside the code under test: the soak list is the standard's table
(dicom-anonymizer's copy), the secrets are made up here.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    AngleMeasurement,
    AvoidKind,
    AvoidZone,
    Caliper,
    ImagePlan,
    NeedlePath,
    Plan,
    Side,
    Target,
    TextNote,
    ZoneShape,
)
from prolo_planner.export.deidentify_profile import PROFILE
from prolo_planner.export.dicom_writing import device_serial_number
from prolo_planner.imaging.dicom import DicomSource
from prolo_planner.report.session_export import export_session
from prolo_planner.store.repository import Repository
from tests.conftest import pydicom_file
from tests.core.export_support import PRIVATE_SCHEME_WARNING, assert_dciodvfy_clean

SECRET = "ZQX"  # every soaked text starts with it: nothing Prolo Planner writes does
SOAK_DATE = "19370622"  # the patient's every date: shifted, it must never appear as it was
SOAK_UID_ROOT = "1.2.826.0.1.3680043.9.7777."
NAME = f"{SECRET}FAMILY^{SECRET}Given"
MRN = f"{SECRET}MRN0042"
FREE_TEXT = {
    "target name": f"{SECRET} Smith's favourite spot",
    "target note": f"{SECRET} ask Dr Jones",
    "zone name": f"{SECRET} the Jones artery",
    "caliper label": f"{SECRET} caliper of Ann",
    "angle label": f"{SECRET} angle 2 for Ann",
    "text note": f"{SECRET} seen at St Elsewhere",
    "plan title": f"{SECRET} Smith plan",
    "plan note": f"{SECRET} Smith called",
    "session notes": f"{SECRET} came with her husband",
    "clinician": f"Dr {SECRET}Clinician",
}
FILE_NAME = f"{SECRET}_smith_scan.dcm"
BANNER_TEXT = "ZQX SMITH 0042"
_STRING_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "UC"}
_STRING_VRS |= {"UI", "UR", "UT", "TM"}


def _vr(tag: int) -> str:
    return dictionary_VR(tag).split(" or ")[0]


def _soaked_value(tag: int, vr: str, n: int) -> object:
    """A value of the VR that says where it came from (tag) and appears nowhere else."""
    code = f"{SECRET}{tag:08X}"
    if vr in ("PN",):
        return f"{code}^{SECRET}Given"
    if vr in ("LO", "LT", "SH", "ST", "UC", "UT", "UR"):
        return code
    if vr in ("AE", "CS"):
        return code[:16]
    if vr == "DA":
        return SOAK_DATE
    if vr == "DT":
        return SOAK_DATE + "101010"
    if vr == "TM":
        return "101010"
    if vr == "UI":
        return f"{SOAK_UID_ROOT}{n}"
    if vr == "AS":
        return "077Y"
    if vr == "DS":
        return "7331.73"
    if vr == "IS":
        return str(733170 + n)
    if vr in ("US", "SS"):
        return 7331
    if vr in ("UL", "SL", "UV", "SV"):
        return 733173
    if vr in ("FL", "FD"):
        return 7331.73
    if vr == "AT":
        return 0x00100010
    if vr in ("OB", "OW", "OD", "OF", "OL", "OV", "UN"):
        return code.encode().ljust(16, b"_")
    raise AssertionError(vr)


def soaked_source(folder: Path) -> tuple[Path, dict[int, object]]:
    """pydicom's real SonoSite cine with every attribute of the table, a private block,
    identifiers inside sequences, and the patient's name burned into its banner."""
    ds = pydicom.dcmread(pydicom_file("examples_ybr_color.dcm"))
    soaked: dict[int, object] = {}
    for n, tag in enumerate(sorted(PROFILE)):
        if not keyword_for_tag(tag) or tag.group in (0x0000, 0x7FE0):
            continue  # command set (never in a file), pixel data (the pixels are the test)
        vr = _vr(tag)
        if vr == "SQ":
            item = Dataset()
            item.PatientName = f"{SECRET}{int(tag):08X}^InSequence"
            item.ReferencedSOPInstanceUID = f"{SOAK_UID_ROOT}9{n}"
            value: object = [item]
        else:
            value = _soaked_value(int(tag), vr, n)
        soaked[int(tag)] = value
        target = ds.file_meta if tag.group == 2 else ds
        target.add(DataElement(tag, vr, value))
    # The patient, as the scanner wrote it.
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = NAME, MRN, SOAK_DATE
    ds.PatientSex = soaked[0x00100040] = "F"  # an enumerated value: the SR copies it
    # Private attributes of two vendors, one inside a sequence.
    block = ds.private_block(0x0029, "ZQX VENDOR", create=True)
    block.add_new(0x10, "LO", f"{SECRET}PRIVATE^Smith")
    inner = ds.SequenceOfUltrasoundRegions[0]
    inner.private_block(0x0031, "ZQX DEEP", create=True).add_new(0x01, "LO", f"{SECRET}DEEP")
    inner.PatientName = f"{SECRET}DEEP^Name"  # a standard attribute where none belongs
    # The scanner's banner: the patient's name burned into the rows above the region.
    top = int(ds.SequenceOfUltrasoundRegions[0].RegionLocationMinY0)
    source = DicomSource.open(pydicom_file("examples_ybr_color.dcm"))
    frames = []
    for i in range(source.frame_count):
        frame = np.ascontiguousarray(source.frame(i))
        cv2.putText(frame, BANNER_TEXT, (4, top - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255,) * 3, 1)
        frames.append(frame)
    source.close()
    ds.PixelData = np.stack(frames).tobytes()
    ds.PhotometricInterpretation, ds.PlanarConfiguration = "RGB", 0
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds["PixelData"].VR = "OB"
    ds.LossyImageCompression = "01"
    path = folder / FILE_NAME
    ds.save_as(path, enforce_file_format=True)
    return path, soaked


def every_element(ds: Dataset) -> Iterator[DataElement]:
    yield from ds.iterall()
    if hasattr(ds, "file_meta"):
        yield from ds.file_meta.iterall()


def secrets_in(text: str) -> list[str]:
    found = []
    for secret in (SECRET.lower(), SOAK_DATE, "1937-06-22", SOAK_UID_ROOT, "smith"):
        if secret in text.lower():
            found.append(secret)
    return found


@pytest.fixture(scope="module")
def soaked_export(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("soaked")
    path, soaked = soaked_source(folder)
    with Repository.open(folder / "store") as repo:
        stored = repo.import_image(path)
        patient = repo.create_patient(MRN, NAME, "1937-06-22", "F", 77.7)
        session = repo.create_session(
            patient.id,
            started_at=dt.datetime(2024, 3, 14, 9, 30),
            region="sacroiliac_pelvis",
            side=Side.LEFT,
            clinician=FREE_TEXT["clinician"],
            notes=FREE_TEXT["session notes"],
        )
        image = ImagePlan(repo.image_ref(stored), region="sacroiliac_pelvis", side=Side.LEFT)
        catalog = Target(image.id, Point(150, 120), name="Long posterior sacroiliac ligament")
        typed = Target(image.id, Point(200, 140), name=FREE_TEXT["target name"])
        typed = Target(
            image.id,
            Point(200, 140),
            frame=3,
            name=FREE_TEXT["target name"],
            note=FREE_TEXT["target note"],
            side=Side.LEFT,
        )
        plan = Plan(
            (image,),
            (
                catalog,
                typed,
                NeedlePath(image.id, Point(120, 45), catalog.id),
                AvoidZone(
                    image.id,
                    ZoneShape.ELLIPSE,
                    (Point(60, 150), Point(100, 180)),
                    kind=AvoidKind.ARTERY,
                    name=FREE_TEXT["zone name"],
                ),
                AvoidZone(
                    image.id,
                    ZoneShape.POLYGON,
                    (Point(230, 180), Point(300, 180), Point(300, 220)),
                    kind=AvoidKind.NERVE,
                    name="sciatic nerve",
                ),
                Caliper(image.id, Point(40, 50), Point(40, 200), label=FREE_TEXT["caliper label"]),
                AngleMeasurement(
                    image.id,
                    Point(150, 150),
                    Point(220, 150),
                    Point(180, 100),
                    label=FREE_TEXT["angle label"],
                ),
                TextNote(image.id, Point(250, 100), Point(230, 60), FREE_TEXT["text note"]),
            ),
            patient_weight_kg=77.7,
            title=FREE_TEXT["plan title"],
            note=FREE_TEXT["plan note"],
        )
        repo.save_plan(session.id, plan)
        repo.sign(session.id, who=FREE_TEXT["clinician"])
        out = folder / "out"
        notes: list[str] = []
        missing: list[str] = []
        files = export_session(
            repo,
            session.id,
            ["png", "jpeg", "pdf", "sc", "cine", "sr", "pr"],
            out,
            deidentify=True,
            notes=notes,
            missing=missing,
        )
    return path, soaked, out, files, notes, missing


def test_every_format_was_written(soaked_export) -> None:
    _, _, out, files, notes, missing = soaked_export
    assert missing == [], missing
    assert notes == [], notes
    kinds = sorted({f.suffix for f in files})
    assert kinds == [".dcm", ".jpg", ".pdf", ".png"]
    names = [f.name.split("_", 1)[1] for f in files]
    for part in ("sc1.dcm", "cine1.dcm", "sr.dcm", "pr1.dcm", "source1.dcm", "report.pdf"):
        assert part in names
    assert sorted(out.iterdir()) == sorted(files)


def test_no_byte_of_any_output_holds_a_secret(soaked_export) -> None:
    _, _, out, files, _, _ = soaked_export
    workstation = device_serial_number()  # names this machine: no de-identified object may
    for f in files:
        assert secrets_in(f.name) == [], f.name
        raw = f.read_bytes().decode("latin-1")
        assert secrets_in(raw) == [], f.name
        assert workstation not in raw, f.name
        if f.suffix == ".pdf":
            # The PDF's text streams are compressed: read them as a reader would.
            text = subprocess.run(
                ["pdftotext", "-layout", str(f), "-"], capture_output=True, text=True, check=True
            ).stdout
            assert secrets_in(text) == [], text
            assert "77.7" not in text and "kg" not in text.replace("mg/kg", "")


def test_no_dicom_element_at_any_depth_keeps_a_soaked_value(soaked_export) -> None:
    _, soaked, _, files, _, _ = soaked_export
    for f in files:
        if f.suffix != ".dcm":
            continue
        ds = pydicom.dcmread(f)
        for elem in every_element(ds):
            assert not elem.tag.is_private, (f.name, elem)
            if elem.VR == "SQ":
                continue
            text = str(elem.value)
            assert secrets_in(text) == [], (f.name, elem)
            if int(elem.tag) in soaked and elem.VR not in ("SQ",):
                same = elem.value == soaked[int(elem.tag)]
                # A time of day alone survives a whole-day shift (Modified Dates option).
                assert not same or elem.VR == "TM", (f.name, elem)
        assert ds.PatientIdentityRemoved == "YES"
        assert_dciodvfy_clean(f, allowed=(PRIVATE_SCHEME_WARNING,))


def test_free_text_was_shown_and_left_out_but_catalog_names_stay(soaked_export) -> None:
    _, _, _, files, _, _ = soaked_export
    sr = pydicom.dcmread(next(f for f in files if f.name.endswith("_sr.dcm")))
    texts = [e.value for e in sr.iterall() if e.keyword == "TextValue"]
    assert "Long posterior sacroiliac ligament" in texts
    assert "sciatic nerve" in texts


def test_the_banner_is_black_in_every_image(soaked_export) -> None:
    path, _, _, files, _, _ = soaked_export
    source = pydicom.dcmread(path)
    top = int(source.SequenceOfUltrasoundRegions[0].RegionLocationMinY0)
    before = DicomSource.open(path)
    assert np.count_nonzero(before.frame(0)[:top]) > 200  # the burned-in name was there
    before.close()
    for f in files:
        if f.suffix != ".dcm":
            continue
        ds = pydicom.dcmread(f)
        if "PixelData" not in ds:
            continue
        pixels = ds.pixel_array
        frames = pixels if int(ds.get("NumberOfFrames") or 1) > 1 else pixels[np.newaxis]
        if f.name.endswith("source1.dcm"):
            assert ds.BurnedInAnnotation == "NO"
        assert not frames[:, :top].any(), f.name
    for f in files:
        if f.suffix in (".png", ".jpg"):
            # Exported pictures add their own strips; the frame's banner rows sit inside.
            picture = cv2.imread(str(f))
            assert picture is not None
