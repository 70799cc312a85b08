"""De-identification for teaching: no identifier survives in the header or in the banner pixels."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from prolo_planner.export.deidentify import (
    DateHandling,
    PseudonymKey,
    Rectangle,
    banner_rectangles,
    deidentify_file,
    deidentify_header,
)
from prolo_planner.imaging.dicom import DicomSource
from tests.conftest import SAMPLE_IMAGES, pydicom_file
from tests.core.export_support import assert_dciodvfy_clean, dciodvfy

KEY = PseudonymKey(bytes(range(32)))
BANNER_ROWS = 60  # the sample images' ultrasound region starts at row 60


def identified_copy(tmp_path: Path, name: str = "cervical_pillars_mono2.dcm") -> Path:
    """A real sample image with every kind of identifier a scanner or a RIS puts in a header."""
    ds = pydicom.dcmread(SAMPLE_IMAGES / name)
    ds.AccessionNumber = "ACC778899"
    ds.ReferringPhysicianName = "REFERRER^Rita"
    ds.OperatorsName = "SONOGRAPHER^Sam"
    ds.PerformingPhysicianName = "PERFORMER^Pat"
    ds.InstitutionAddress = "12 Harbour Road, Portsmouth"
    ds.IssuerOfPatientID = "HOSPITAL-MRN"
    ds.OtherPatientIDs = "OLDMRN-4242"
    ds.PatientAddress = "7 Elm Street"
    ds.PatientTelephoneNumbers = "+44 1234 567890"
    ds.PatientAge = "043Y"
    ds.ImageComments = "PHANTOM Cervical, left neck"
    ds.FrameOfReferenceUID = "1.2.3.4.5.6.7.8.9.1001"
    ds.PositionReferenceIndicator = ""
    ds.AcquisitionDateTime = "20240314102205.123456"
    requested = Dataset()
    requested.RequestedProcedureID = "RP-31337"
    requested.AccessionNumber = "ACC778899"
    ds.RequestAttributesSequence = [requested]
    source = Dataset()
    source.ReferencedSOPClassUID = ds.SOPClassUID
    source.ReferencedSOPInstanceUID = "1.2.3.4.5.6.7.8.9.2002"
    ds.SourceImageSequence = [source]
    block = ds.private_block(0x0029, "SCANNER VENDOR", create=True)
    block.add_new(0x10, "LO", "PHANTOM^Cervical SYN-0003")
    path = tmp_path / f"identified_{name}"
    ds.save_as(path, enforce_file_format=True)
    return path


def identifiers(ds: Dataset) -> set[str]:
    """The source's identifying values, and each part of its patient's name."""
    keywords = (
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "AccessionNumber",
        "InstitutionName",
        "InstitutionAddress",
        "ReferringPhysicianName",
        "OperatorsName",
        "PerformingPhysicianName",
        "IssuerOfPatientID",
        "OtherPatientIDs",
        "PatientAddress",
        "PatientTelephoneNumbers",
        "StationName",
        "DeviceSerialNumber",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "SOPInstanceUID",
        "FrameOfReferenceUID",
        "StudyDate",
        "StudyID",
    )
    found = {str(ds.get(k)) for k in keywords if ds.get(k) not in (None, "")}
    found |= set(str(ds.PatientName).split("^"))
    found |= {"RP-31337", "1.2.3.4.5.6.7.8.9.2002", "SCANNER VENDOR"}
    return {v for v in found if len(v) >= 3}


def every_value(ds: Dataset) -> Iterator[tuple[str, str]]:
    """Every element's value as text, in sequences too, and the file meta."""
    datasets = [ds] + ([ds.file_meta] if hasattr(ds, "file_meta") else [])
    for d in datasets:
        for elem in d.iterall():
            if elem.VR in ("SQ", "OB", "OW", "OF", "OD", "UN") or elem.tag == 0x7FE00010:
                continue
            yield elem.keyword or str(elem.tag), str(elem.value)


def test_no_identifier_of_the_source_survives_in_the_header(tmp_path: Path) -> None:
    path = identified_copy(tmp_path)
    source = pydicom.dcmread(path)
    result = deidentify_file(path, tmp_path / "out.dcm", KEY)
    out = pydicom.dcmread(tmp_path / "out.dcm")

    secrets_ = identifiers(source)
    assert {"PHANTOM", "Cervical", "SYN-0003", "ACC778899", "REFERRER^Rita"} <= secrets_
    leaks = [
        (where, value, secret)
        for where, value in every_value(out)
        for secret in secrets_
        if secret.lower() in value.lower()
    ]
    assert leaks == []
    assert not any(elem.tag.is_private for elem in out.iterall())

    assert out.PatientIdentityRemoved == "YES"
    codes = [item.CodeValue for item in out.DeidentificationMethodCodeSequence]
    # Basic profile, clean pixels, graphics, structured content, descriptors; shifted dates.
    assert codes == ["113100", "113101", "113103", "113104", "113105", "113107"]
    assert out.PatientName == f"ANONYMIZED^{result.pseudonym}"
    assert out.PatientID == f"ANON-{result.pseudonym}"
    assert out.PatientBirthDate == "" and out.AccessionNumber == "" and out.PatientSex == ""
    assert "OperatorsName" not in out and "InstitutionName" not in out
    # Dates move back by this patient's shift; times of day stay.
    shift = _dt.timedelta(days=KEY.day_shift("id:SYN-0003|HOSPITAL-MRN"))
    assert out.StudyDate == (_dt.date(2024, 3, 14) - shift).strftime("%Y%m%d")
    assert out.AcquisitionDateTime == out.StudyDate + "102205.123456"
    assert out.StudyTime == source.StudyTime
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    # A copy refers to nothing outside what is exported with it; the allow-list keeps no frame
    # of reference the copy does not need.
    assert "SourceImageSequence" not in out and "FrameOfReferenceUID" not in out
    assert_dciodvfy_clean(tmp_path / "out.dcm")


def test_two_files_of_one_study_stay_one_study(tmp_path: Path) -> None:
    first = identified_copy(tmp_path)
    ds = pydicom.dcmread(first)
    original_uid = ds.SOPInstanceUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4.5.6.7.8.9.3003"
    ds.InstanceNumber = 2
    ds.SourceImageSequence[0].ReferencedSOPInstanceUID = original_uid  # made from the first
    second = tmp_path / "second.dcm"
    ds.save_as(second, enforce_file_format=True)

    a = deidentify_file(first, tmp_path / "a.dcm", KEY).dataset
    b = deidentify_file(second, tmp_path / "b.dcm", KEY).dataset
    assert a.StudyInstanceUID == b.StudyInstanceUID != ds.StudyInstanceUID
    assert a.SeriesInstanceUID == b.SeriesInstanceUID
    assert a.SOPInstanceUID != b.SOPInstanceUID
    assert (a.PatientID, a.StudyDate, a.StudyID) == (b.PatientID, b.StudyDate, b.StudyID)

    other = deidentify_file(first, tmp_path / "c.dcm", PseudonymKey(b"another clinic key")).dataset
    assert other.StudyInstanceUID != a.StudyInstanceUID
    assert other.PatientID != a.PatientID
    # Another patient under the same key: another pseudonym.
    lumbar = deidentify_header(pydicom.dcmread(SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm"), KEY)
    assert lumbar.dataset.PatientID != a.PatientID


@pytest.mark.parametrize(
    "name",
    ["cervical_pillars_mono2.dcm", "hip_anterior_cine_ybr422_jpeg.dcm"],
    ids=["grey still", "colour JPEG cine"],
)
def test_banner_above_the_ultrasound_region_is_masked(tmp_path: Path, name: str) -> None:
    path = SAMPLE_IMAGES / name
    before = DicomSource.open(path)
    assert banner_rectangles(before.dataset) == (Rectangle(0, 0, 640, BANNER_ROWS),)
    result = deidentify_file(path, tmp_path / "out.dcm", KEY)
    after = DicomSource.open(tmp_path / "out.dcm")
    assert result.masked == (Rectangle(0, 0, 640, BANNER_ROWS),)
    assert after.dataset.BurnedInAnnotation == "NO"
    for i in sorted({0, before.frame_count // 2, before.frame_count - 1}):
        old, new = before.frame(i), after.frame(i)
        # OCR-free check: the banner held burned-in text (bright pixels) before, none after.
        assert np.count_nonzero(old[:BANNER_ROWS]) > 500
        assert np.count_nonzero(new[:BANNER_ROWS]) == 0
        np.testing.assert_array_equal(new[BANNER_ROWS:], old[BANNER_ROWS:])
    assert after.frame_count == before.frame_count
    assert_dciodvfy_clean(tmp_path / "out.dcm")


def test_chosen_rectangles_and_removed_dates(tmp_path: Path) -> None:
    path = SAMPLE_IMAGES / "lumbar_long_axis_rgb.dcm"
    corner = Rectangle(540, 400, 640, 480)
    result = deidentify_file(
        path, tmp_path / "out.dcm", KEY, rectangles=[corner], dates=DateHandling.REMOVE
    )
    before, after = DicomSource.open(path).frame(0), DicomSource.open(tmp_path / "out.dcm").frame(0)
    assert np.count_nonzero(after[400:, 540:]) == 0
    assert np.count_nonzero(before[400:, 540:]) > 0
    np.testing.assert_array_equal(after[:BANNER_ROWS], before[:BANNER_ROWS])  # not asked for
    out = result.dataset
    assert out.StudyDate == "" and "SeriesDate" not in out and out.ContentDate == ""
    assert out.LongitudinalTemporalInformationModified == "REMOVED"
    assert [c.CodeValue for c in out.DeidentificationMethodCodeSequence] == [
        "113100",
        "113101",
        "113103",
        "113104",
        "113105",
    ]
    # Removing dates is what was asked: a DICOMDIR would miss them, which dciodvfy notes.
    assert_dciodvfy_clean(
        tmp_path / "out.dcm",
        allowed=("needed to build DICOMDIR - Study D", "needed to build DICOMDIR - Study T"),
    )


def test_images_without_a_banner_keep_their_pixels(tmp_path: Path) -> None:
    mr = pydicom_file("MR_small.dcm")
    result = deidentify_file(mr, tmp_path / "mr.dcm", KEY)
    assert result.masked == ()
    source, out = pydicom.dcmread(mr), pydicom.dcmread(tmp_path / "mr.dcm")
    assert out.PixelData == source.PixelData
    assert "BurnedInAnnotation" not in out
    assert [c.CodeValue for c in out.DeidentificationMethodCodeSequence] == [
        "113100",
        "113103",
        "113104",
        "113105",
        "113107",
    ]
    # An unmasked ultrasound banner is said, not hidden.
    unmasked = deidentify_file(
        SAMPLE_IMAGES / "cervical_pillars_mono2.dcm", tmp_path / "kept.dcm", KEY, rectangles=[]
    )
    assert unmasked.dataset.BurnedInAnnotation == "YES"
    assert unmasked.notes and "not masked" in unmasked.notes[0]


def test_vendor_file_loses_its_private_data_and_its_dciodvfy_errors(tmp_path: Path) -> None:
    """pydicom's real ultrasound cine: a private XML blob (a dciodvfy error) and a banner."""
    path = pydicom_file("examples_ybr_color.dcm")
    result = deidentify_file(path, tmp_path / "out.dcm", KEY)
    out = pydicom.dcmread(tmp_path / "out.dcm")
    assert not any(elem.tag.is_private for elem in out.iterall())
    assert result.masked and out.BurnedInAnnotation == "NO"
    # The source's empty Laterality warning is its own, kept as it was.
    assert_dciodvfy_clean(tmp_path / "out.dcm", allowed=("attribute <Laterality>",))


def test_palette_colour_banner_is_masked_in_the_colours_shown(tmp_path: Path) -> None:
    """pydicom's real palette ultrasound: index 0 is not black, so the copy is stored as RGB."""
    path = pydicom_file("examples_palette.dcm")
    before = DicomSource.open(path)
    (banner,) = banner_rectangles(before.dataset)
    result = deidentify_file(path, tmp_path / "out.dcm", KEY)
    assert result.masked == (banner,)
    after = DicomSource.open(tmp_path / "out.dcm")
    assert after.dataset.PhotometricInterpretation == "RGB"
    assert "RedPaletteColorLookupTableData" not in after.dataset
    old, new = before.frame(0), after.frame(0)
    assert np.count_nonzero(old[: banner.y1]) > 0
    assert np.count_nonzero(new[: banner.y1]) == 0
    np.testing.assert_array_equal(new[banner.y1 :], old[banner.y1 :])
    # The file has no Laterality (dciodvfy's one error on it); de-identifying adds no error.
    source_errors, _ = dciodvfy(path)
    errors, _ = dciodvfy(tmp_path / "out.dcm")
    assert errors == source_errors
    assert len(errors) == 1 and "Element=<Laterality>" in errors[0]


def test_every_kept_attribute_the_standard_names_has_a_decision() -> None:
    """The allow-lists and the PS3.15 table meet in ACTIONS: an attribute added to an IOD's list
    that the table names must say what becomes of it (else the cleaner drops it)."""
    from prolo_planner.export.deidentify_iods import ALLOWED, FILE_META
    from prolo_planner.export.deidentify_profile import ACTIONS, profile_keywords

    table = profile_keywords()
    assert len(table) > 600  # the whole of E.1-1, not a hand-made excerpt
    for sop_class, allowed in ALLOWED.items():
        undecided = sorted(k for k in allowed | FILE_META if k in table and k not in ACTIONS)
        assert undecided == [], (sop_class, undecided)
    assert ACTIONS["PatientName"].name == "PATIENT_NAME"
    assert table["PatientState"] == "X" and table["SpecialNeeds"] == "X"
