"""DICOM PS3.15 Table E.1-1, Basic Application Level Confidentiality Profile: the attributes we
handle, with the profile's action code and what de-identification does with each.

Profile codes: X remove, Z empty (or a dummy), D dummy value, U new UID (consistent within the
pseudonym key), combinations like X/Z/D leave the choice to the implementer within the IOD's
rules. Our choice per attribute is `Action`; attributes not listed here are kept, except that
every person name, date and instance UID is treated by its VR (see deidentify.py) and every
private attribute is removed (the Retain Safe Private Option is not offered).
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    REMOVE = "remove"
    EMPTY = "empty"
    DUMMY = "dummy value"
    PATIENT_NAME = "pseudonym name"
    PATIENT_ID = "pseudonym ID"
    STUDY_ID = "pseudonym study ID"  # Z allows a dummy: one per study, so viewers still group
    DATE = "date shifted, or emptied or removed"
    TIME = "time kept with shifted dates, else emptied or removed"
    UID = "UID remapped"
    CLEAN_ITEMS = "sequence kept, its items de-identified"


X, Z, D, U = Action.REMOVE, Action.EMPTY, Action.DUMMY, Action.UID

#: keyword -> (PS3.15 basic profile code, what we do). Sorted by the profile's areas.
PROFILE: dict[str, tuple[str, Action]] = {
    # -- the patient ----------------------------------------------------------------------------
    "PatientName": ("Z", Action.PATIENT_NAME),
    "PatientID": ("Z", Action.PATIENT_ID),
    "IssuerOfPatientID": ("X", X),
    "PatientBirthDate": ("Z", Z),
    "PatientBirthTime": ("X", X),
    "PatientSex": ("Z", Z),
    "PatientAge": ("X", X),
    "PatientSize": ("X", X),
    "PatientWeight": ("X", X),
    "PatientAddress": ("X", X),
    "PatientTelephoneNumbers": ("X", X),
    "PatientTelecomInformation": ("X", X),
    "PatientBirthName": ("X", X),
    "PatientMotherBirthName": ("X", X),
    "OtherPatientIDs": ("X", X),
    "OtherPatientIDsSequence": ("X", X),
    "OtherPatientNames": ("X", X),
    "PatientComments": ("X", X),
    "AdditionalPatientHistory": ("X", X),
    "PatientReligiousPreference": ("X", X),
    "EthnicGroup": ("X", X),
    "Occupation": ("X", X),
    "MilitaryRank": ("X", X),
    "BranchOfService": ("X", X),
    "MedicalRecordLocator": ("X", X),
    "MedicalAlerts": ("X", X),
    "Allergies": ("X", X),
    "PregnancyStatus": ("X", X),
    "SmokingStatus": ("X", X),
    "CountryOfResidence": ("X", X),
    "RegionOfResidence": ("X", X),
    "ResponsiblePerson": ("X", X),
    "ResponsibleOrganization": ("X", X),
    "PatientInsurancePlanCodeSequence": ("X", X),
    "ReferencedPatientSequence": ("X", X),
    "ReferencedPatientPhotoSequence": ("X", X),
    # -- the study and the visit ----------------------------------------------------------------
    "StudyInstanceUID": ("U", U),
    "StudyDate": ("Z", Action.DATE),
    "StudyTime": ("Z", Action.TIME),
    "AccessionNumber": ("Z", Z),
    "StudyID": ("Z", Action.STUDY_ID),
    "StudyDescription": ("X", X),
    "ReferringPhysicianName": ("Z", Z),
    "ReferringPhysicianAddress": ("X", X),
    "ReferringPhysicianTelephoneNumbers": ("X", X),
    "ReferringPhysicianIdentificationSequence": ("X", X),
    "ConsultingPhysicianName": ("Z", Z),
    "PhysiciansOfRecord": ("X", X),
    "PhysiciansOfRecordIdentificationSequence": ("X", X),
    "NameOfPhysiciansReadingStudy": ("X", X),
    "PhysiciansReadingStudyIdentificationSequence": ("X", X),
    "RequestingPhysician": ("X", X),
    "RequestingService": ("X", X),
    "ReasonForStudy": ("X", X),
    "StudyComments": ("X", X),
    "AdmissionID": ("X", X),
    "AdmittingDiagnosesDescription": ("X", X),
    "AdmittingDiagnosesCodeSequence": ("X", X),
    "ReferencedStudySequence": ("X/Z", X),
    "RequestAttributesSequence": ("X", X),
    "RequestedProcedureID": ("X", X),
    "RequestedProcedureDescription": ("X/Z", X),
    "ScheduledPerformingPhysicianName": ("X", X),
    "PerformedProcedureStepID": ("X", X),
    "PerformedProcedureStepDescription": ("X", X),
    "PerformedProcedureStepStartDate": ("X", X),
    "PerformedProcedureStepStartTime": ("X", X),
    "PerformedProcedureStepEndDate": ("X", X),
    "PerformedProcedureStepEndTime": ("X", X),
    "PerformedLocation": ("X", X),
    "PerformedStationName": ("X", X),
    "PerformedStationAETitle": ("X", X),
    "ReferencedPerformedProcedureStepSequence": ("X/Z/D", X),
    "CurrentPatientLocation": ("X", X),
    "VisitComments": ("X", X),
    # -- the series, the equipment and the people who ran it ------------------------------------
    "SeriesInstanceUID": ("U", U),
    "SeriesDate": ("X/D", Action.DATE),
    "SeriesTime": ("X/D", Action.TIME),
    "SeriesDescription": ("X", X),
    "ProtocolName": ("X/D", X),
    "OperatorsName": ("X/Z/D", X),
    "OperatorIdentificationSequence": ("X/D", X),
    "PerformingPhysicianName": ("X", X),
    "PerformingPhysicianIdentificationSequence": ("X", X),
    "InstitutionName": ("X/Z/D", X),
    "InstitutionAddress": ("X", X),
    "InstitutionalDepartmentName": ("X", X),
    "InstitutionCodeSequence": ("X/Z/D", X),
    "StationName": ("X/Z/D", X),
    "StationAETitle": ("X", X),
    "RetrieveAETitle": ("X", X),
    "DeviceSerialNumber": ("X/Z/D", X),
    "DeviceUID": ("U", U),
    "UniqueDeviceIdentifier": ("X", X),
    "UDISequence": ("X", X),
    "DeviceDescription": ("X", X),
    "TransducerIdentificationSequence": ("X", X),
    "DateOfLastCalibration": ("X", X),
    "TimeOfLastCalibration": ("X", X),
    "TimezoneOffsetFromUTC": ("X", X),
    # -- the image --------------------------------------------------------------------------------
    "SOPInstanceUID": ("U", U),
    "MediaStorageSOPInstanceUID": ("U", U),
    "FrameOfReferenceUID": ("U", U),
    "SynchronizationFrameOfReferenceUID": ("U", U),
    "InstanceCreatorUID": ("U", U),
    "IrradiationEventUID": ("U", U),
    "ConcatenationUID": ("U", U),
    "DimensionOrganizationUID": ("U", U),
    "AcquisitionUID": ("U", U),
    "ReferencedSOPInstanceUID": ("U", U),
    "ReferencedFrameOfReferenceUID": ("U", U),
    "PaletteColorLookupTableUID": ("U", U),
    "LargePaletteColorLookupTableUID": ("U", U),
    "StorageMediaFileSetUID": ("U", U),
    "TrackingUID": ("U", U),
    "UID": ("U", U),
    "InstanceCreationDate": ("X/D", Action.DATE),
    "InstanceCreationTime": ("X/Z/D", Action.TIME),
    "ContentDate": ("Z/D", Action.DATE),
    "ContentTime": ("Z/D", Action.TIME),
    "AcquisitionDate": ("X/Z", Action.DATE),
    "AcquisitionTime": ("X/Z", Action.TIME),
    "AcquisitionDateTime": ("X/Z/D", Action.DATE),
    "OverlayDate": ("X", X),
    "OverlayTime": ("X", X),
    "CurveDate": ("X", X),
    "CurveTime": ("X", X),
    "DateOfSecondaryCapture": ("X", X),
    "TimeOfSecondaryCapture": ("X", X),
    "ImageComments": ("X", X),
    "FrameComments": ("X", X),
    "ImagePresentationComments": ("X", X),
    "AcquisitionComments": ("X", X),
    "DerivationDescription": ("X", X),
    "AcquisitionDeviceProcessingDescription": ("X/D", X),
    "IconImageSequence": ("X", X),
    "TextComments": ("X", X),
    "TextString": ("X", X),
    "ReferencedImageSequence": ("X/Z/U*", Action.CLEAN_ITEMS),
    "SourceImageSequence": ("X/Z/U*", Action.CLEAN_ITEMS),
    # -- structured reports and presentation states ---------------------------------------------
    "ContentCreatorName": ("Z", Z),
    "ContentCreatorIdentificationCodeSequence": ("X", X),
    "PersonName": ("D", D),
    "PersonIdentificationCodeSequence": ("D", X),
    "VerifyingObserverName": ("D", D),
    "VerifyingOrganization": ("D", D),
    "VerifyingObserverIdentificationCodeSequence": ("Z", Z),
    "ObservationDateTime": ("X/D", Action.DATE),
    "VerificationDateTime": ("D", Action.DATE),
    "Date": ("D", Action.DATE),
    "Time": ("D", Action.TIME),
    "DateTime": ("D", Action.DATE),
    "PresentationCreationDate": ("X", Action.DATE),
    "PresentationCreationTime": ("X", Action.TIME),
}

#: UI attributes that name a kind of object, never an instance: they are kept.
KEPT_UIDS = frozenset(
    {
        "SOPClassUID",
        "MediaStorageSOPClassUID",
        "ReferencedSOPClassUID",
        "TransferSyntaxUID",
        "ImplementationClassUID",
        "CodingSchemeUID",
        "MappingResourceUID",
        "ContextGroupExtensionCreatorUID",
        "RelatedGeneralSOPClassUID",
        "OriginalSpecializedSOPClassUID",
        "SOPClassesInStudy",
        "ReferencedTransferSyntaxUIDInFile",
    }
)
