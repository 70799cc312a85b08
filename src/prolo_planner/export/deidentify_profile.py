"""DICOM PS3.15 Table E.1-1 (Basic Application Level Confidentiality Profile) and what
de-identification does with each attribute an exported object keeps.

The table itself (every attribute the standard names, with its action code) comes from
dicom-anonymizer's copy of the current standard, so nobody here types 650 rows by hand. We do not
apply it as a deny-list: an object keeps only the attributes its IOD needs (deidentify_iods), and
each of those that the table names gets the action chosen in ACTIONS below. A test checks that
every kept attribute the table names has its action here, so an attribute added to an IOD's list
without a decision fails the suite instead of leaking.

Profile codes: X remove, Z empty (or dummy), D dummy, U new UID; X/Z, X/D, Z/D, X/Z/D leave the
choice to the implementer within the IOD's rules; X/Z/U* removes, empties or remaps the UIDs of a
reference sequence.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dicomanonymizer.dicom_anonymization_databases import dicomfields_2026c as _table
from pydicom.datadict import keyword_for_tag
from pydicom.tag import BaseTag, Tag

#: Which edition of PS3.15 the table is.
TABLE_EDITION = "2026c"
_CATEGORIES = {
    "D_TAGS": "D",
    "Z_TAGS": "Z",
    "X_TAGS": "X",
    "U_TAGS": "U",
    "Z_D_TAGS": "Z/D",
    "X_Z_TAGS": "X/Z",
    "X_D_TAGS": "X/D",
    "X_Z_D_TAGS": "X/Z/D",
    "X_Z_U_STAR_TAGS": "X/Z/U*",
}


def _load() -> tuple[dict[BaseTag, str], tuple[tuple[int, int, int, int, str], ...]]:
    exact: dict[BaseTag, str] = {}
    masks: list[tuple[int, int, int, int, str]] = []
    for category, code in _CATEGORIES.items():
        for entry in getattr(_table, category):
            if len(entry) == 2:
                exact[Tag(entry[0], entry[1])] = code
            else:  # (group, element, group mask, element mask): repeating groups 50xx, 60xx
                group, element, group_mask, element_mask = entry
                masks.append((group, element, group_mask, element_mask, code))
    return exact, tuple(masks)


PROFILE, _MASKS = _load()


def profile_code(tag: BaseTag | int) -> str | None:
    """The basic profile's action code for the tag, None when the table does not name it."""
    tag = Tag(tag)
    code = PROFILE.get(tag)
    if code is not None:
        return code
    for group, element, group_mask, element_mask, mask_code in _MASKS:
        if tag.group & group_mask == group and tag.element & element_mask == element:
            return mask_code
    return None


def profile_keywords() -> dict[str, str]:
    """Every attribute of the table that has a keyword, as keyword -> code."""
    return {kw: code for tag, code in PROFILE.items() if (kw := keyword_for_tag(tag))}


class Action(StrEnum):
    REMOVE = "removed"
    EMPTY = "emptied"
    DUMMY = "dummy value"
    PATIENT_NAME = "pseudonym name"
    PATIENT_ID = "pseudonym ID"
    STUDY_ID = "pseudonym study ID"  # Z allows a dummy: one per study, so viewers still group
    DATE = "date shifted, or emptied or removed (Retain Longitudinal Temporal Information)"
    TIME = "kept with shifted dates, else emptied or removed"
    UID = "UID remapped (the same new UID for the same old one, under one key)"
    CLEAN_ITEMS = "sequence kept, its items de-identified the same way"
    OWN_TEXT = "kept only when it is a text Prolo Planner itself writes (Clean Descriptors)"
    REVIEWED_TEXT = "the plan's text as the clinician approved it (Clean Structured Content)"


#: What we do with each attribute that an exported object keeps and the table names.
ACTIONS: dict[str, Action] = {
    # The patient and the study.
    "PatientName": Action.PATIENT_NAME,
    "PatientID": Action.PATIENT_ID,
    "PatientBirthDate": Action.EMPTY,
    "PatientSex": Action.EMPTY,
    "StudyDate": Action.DATE,
    "StudyTime": Action.TIME,
    "AccessionNumber": Action.EMPTY,
    "ReferringPhysicianName": Action.EMPTY,
    "StudyID": Action.STUDY_ID,
    # Series, equipment, image.
    "SeriesDate": Action.DATE,
    "SeriesTime": Action.TIME,
    "SeriesDescription": Action.OWN_TEXT,
    "DerivationDescription": Action.OWN_TEXT,
    "ContentDate": Action.DATE,
    "ContentTime": Action.TIME,
    "AcquisitionDate": Action.DATE,
    "AcquisitionTime": Action.TIME,
    "AcquisitionDateTime": Action.DATE,
    "InstanceCreationDate": Action.DATE,
    "InstanceCreationTime": Action.TIME,
    "PresentationCreationDate": Action.DATE,
    "PresentationCreationTime": Action.TIME,
    "SourceImageSequence": Action.CLEAN_ITEMS,
    "ReferencedImageSequence": Action.CLEAN_ITEMS,
    "ReferencedPerformedProcedureStepSequence": Action.EMPTY,
    "ContentCreatorName": Action.EMPTY,
    # UIDs of instances, series, studies, frames of reference and tracked things.
    "StudyInstanceUID": Action.UID,
    "SeriesInstanceUID": Action.UID,
    "SOPInstanceUID": Action.UID,
    "MediaStorageSOPInstanceUID": Action.UID,
    "ReferencedSOPInstanceUID": Action.UID,
    "FrameOfReferenceUID": Action.UID,
    "ReferencedFrameOfReferenceUID": Action.UID,
    "SynchronizationFrameOfReferenceUID": Action.UID,
    "PaletteColorLookupTableUID": Action.UID,
    "LargePaletteColorLookupTableUID": Action.UID,
    "IrradiationEventUID": Action.UID,
    "TrackingUID": Action.UID,
    "UID": Action.UID,
    "ObservationUID": Action.UID,
    "DeviceUID": Action.UID,
    # Structured reports and presentation states: our own content, its free text reviewed.
    "ContentSequence": Action.CLEAN_ITEMS,
    "GraphicAnnotationSequence": Action.CLEAN_ITEMS,
    "UnformattedTextValue": Action.REVIEWED_TEXT,
    "PersonName": Action.DUMMY,
    "VerifyingObserverSequence": Action.CLEAN_ITEMS,
    "VerifyingObserverName": Action.DUMMY,
    "VerifyingOrganization": Action.DUMMY,
    "VerifyingObserverIdentificationCodeSequence": Action.EMPTY,
    "VerificationDateTime": Action.DATE,
    "ObservationDateTime": Action.DATE,
    "DateTime": Action.DATE,
    "Date": Action.DATE,
    "Time": Action.TIME,
}


class DateHandling(StrEnum):
    SHIFT = "shifted"  # Retain Longitudinal Temporal Information, Modified Dates Option
    REMOVE = "removed"


@dataclass(frozen=True, slots=True)
class ProfileOption:
    """A PS3.15 option as the clinician and the header (113xxx code) name it."""

    code: str
    meaning: str
    what: str  # in the clinic's words, for the export dialog and --help


BASIC = ProfileOption(
    "113100",
    "Basic Application Confidentiality Profile",
    "names, IDs, addresses and every attribute the exported objects do not need removed; "
    "pseudonyms instead of the patient's name and ID",
)
CLEAN_PIXELS = ProfileOption(
    "113101",
    "Clean Pixel Data Option",
    "the scanner's burned-in banner (patient name, ID, date) blacked out",
)
CLEAN_GRAPHICS = ProfileOption(
    "113103",
    "Clean Graphics Option",
    "labels drawn on the images limited to the texts you approved",
)
CLEAN_STRUCTURED_CONTENT = ProfileOption(
    "113104",
    "Clean Structured Content Option",
    "the report's texts limited to the texts you approved",
)
CLEAN_DESCRIPTORS = ProfileOption(
    "113105",
    "Clean Descriptors Option",
    "descriptions kept only where Prolo Planner wrote them; typed text as you approved it",
)
MODIFIED_DATES = ProfileOption(
    "113107",
    "Retain Longitudinal Temporal Information Modified Dates Option",
    "dates moved back by the same number of days for this patient, so intervals between "
    "sessions survive",
)
#: What every de-identified export applies, in the order the header lists them.
ALWAYS = (BASIC, CLEAN_PIXELS, CLEAN_GRAPHICS, CLEAN_STRUCTURED_CONTENT, CLEAN_DESCRIPTORS)


def options_used(dates: DateHandling, masked: bool = True) -> tuple[ProfileOption, ...]:
    used = [o for o in ALWAYS if masked or o is not CLEAN_PIXELS]
    if dates is DateHandling.SHIFT:
        used.append(MODIFIED_DATES)
    return tuple(used)
