"""What each de-identified object may keep: the attributes of the modules its IOD (PS3.3) needs.

An allow-list, not a deny-list: an attribute that is on no list here is removed, whatever it is,
so a vendor's, a RIS's or a future standard's attribute nobody thought of cannot leak. Items of a
kept sequence keep only the attributes allowed for that object too. What a kept attribute's value
becomes (pseudonym, shifted date, new UID, emptied) is deidentify_profile's ACTIONS.
"""

from __future__ import annotations

from pydicom.uid import (
    ColorSoftcopyPresentationStateStorage,
    ComprehensiveSRStorage,
    EnhancedSRStorage,
    GrayscaleSoftcopyPresentationStateStorage,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    SecondaryCaptureImageStorage,
    UltrasoundImageStorage,
    UltrasoundMultiFrameImageStorage,
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# -- modules (PS3.3 C.x), by keyword -------------------------------------------------------------
PATIENT = _words("PatientName PatientID PatientBirthDate PatientSex")
GENERAL_STUDY = _words(
    "StudyInstanceUID StudyDate StudyTime ReferringPhysicianName StudyID AccessionNumber"
)
GENERAL_SERIES = _words(
    "Modality SeriesInstanceUID SeriesNumber Laterality SeriesDate SeriesTime SeriesDescription "
    "BodyPartExamined"
)
GENERAL_EQUIPMENT = _words("Manufacturer ManufacturerModelName SoftwareVersions")
SC_EQUIPMENT = _words(
    "ConversionType SecondaryCaptureDeviceManufacturer "
    "SecondaryCaptureDeviceManufacturerModelName SecondaryCaptureDeviceSoftwareVersions"
)
GENERAL_IMAGE = _words(
    "InstanceNumber PatientOrientation ContentDate ContentTime ImageType AcquisitionNumber "
    "AcquisitionDate AcquisitionTime AcquisitionDateTime BurnedInAnnotation "
    "RecognizableVisualFeatures LossyImageCompression LossyImageCompressionRatio "
    "LossyImageCompressionMethod SourceImageSequence ReferencedImageSequence "
    "ReferencedSOPClassUID ReferencedSOPInstanceUID ReferencedFrameNumber "
    "DerivationDescription DerivationCodeSequence PurposeOfReferenceCodeSequence "
    "PresentationLUTShape ImagesInAcquisition QualityControlImage"
)
IMAGE_PIXEL = _words(
    "SamplesPerPixel PhotometricInterpretation Rows Columns BitsAllocated BitsStored HighBit "
    "PixelRepresentation PlanarConfiguration PixelData PixelAspectRatio "
    "SmallestImagePixelValue LargestImagePixelValue "
    "RedPaletteColorLookupTableDescriptor GreenPaletteColorLookupTableDescriptor "
    "BluePaletteColorLookupTableDescriptor RedPaletteColorLookupTableData "
    "GreenPaletteColorLookupTableData BluePaletteColorLookupTableData "
    "SegmentedRedPaletteColorLookupTableData SegmentedGreenPaletteColorLookupTableData "
    "SegmentedBluePaletteColorLookupTableData PaletteColorLookupTableUID ICCProfile ColorSpace"
)
MULTI_FRAME = _words("NumberOfFrames FrameIncrementPointer")
CINE = _words(
    "FrameTime FrameTimeVector CineRate RecommendedDisplayFrameRate ActualFrameDuration "
    "StartTrim StopTrim PreferredPlaybackSequencing EffectiveDuration FrameDelay "
    "ImageTriggerDelay"
)
MODALITY_LUT = _words("RescaleIntercept RescaleSlope RescaleType")
VOI_LUT = _words("WindowCenter WindowWidth VOILUTFunction")
SOP_COMMON = _words(
    "SOPClassUID SOPInstanceUID SpecificCharacterSet InstanceCreationDate InstanceCreationTime "
    "InstanceNumber PatientIdentityRemoved DeidentificationMethod "
    "DeidentificationMethodCodeSequence LongitudinalTemporalInformationModified"
)
#: Code Sequence Macro (PS3.3 Table 8.8-1): inside any code sequence.
CODE = _words(
    "CodeValue CodingSchemeDesignator CodingSchemeVersion CodeMeaning LongCodeValue "
    "URNCodeValue ContextIdentifier ContextUID MappingResource MappingResourceUID "
    "MappingResourceName"
)
SC_IMAGE = _words("PixelSpacing NominalScannedPixelSpacing PixelSpacingCalibrationType")
SC_MULTI_FRAME = _words("FrameIncrementPointer NominalScannedPixelSpacing")
US_REGION_CALIBRATION = _words(
    "SequenceOfUltrasoundRegions RegionSpatialFormat RegionDataType RegionFlags "
    "RegionLocationMinX0 RegionLocationMinY0 RegionLocationMaxX1 RegionLocationMaxY1 "
    "ReferencePixelX0 ReferencePixelY0 PhysicalUnitsXDirection PhysicalUnitsYDirection "
    "ReferencePixelPhysicalValueX ReferencePixelPhysicalValueY PhysicalDeltaX PhysicalDeltaY "
    "TransducerFrequency PulseRepetitionFrequency DopplerCorrectionAngle SteeringAngle "
    "DopplerSampleVolumeXPosition DopplerSampleVolumeYPosition TMLinePositionX0 "
    "TMLinePositionY0 TMLinePositionX1 TMLinePositionY1 PixelComponentOrganization "
    "PixelComponentMask PixelComponentRangeStart PixelComponentRangeStop "
    "PixelComponentPhysicalUnits PixelComponentDataType NumberOfTableBreakPoints "
    "TableOfXBreakPoints TableOfYBreakPoints NumberOfTableEntries TableOfPixelValues "
    "TableOfParameterValues"
)
US_IMAGE = _words(
    "NumberOfStages NumberOfViewsInStage UltrasoundColorDataPresent StageName StageNumber "
    "ViewName ViewNumber TransducerType TransducerData ProcessingFunction MechanicalIndex "
    "BoneThermalIndex CranialThermalIndex SoftTissueThermalIndex SoftTissueFocusThermalIndex "
    "SoftTissueSurfaceThermalIndex DepthOfScanField OutputPower TriggerTime NominalInterval "
    "HeartRate AnatomicRegionSequence PrimaryAnatomicStructureSequence "
    "TransducerScanPatternCodeSequence TransducerGeometryCodeSequence "
    "TransducerBeamSteeringCodeSequence TransducerApplicationCodeSequence "
    "ImageTransformationMatrix ImageTranslationVector"
)
# -- structured reports (PS3.3 C.17) -------------------------------------------------------------
SR_DOCUMENT_SERIES = _words(
    "Modality SeriesInstanceUID SeriesNumber SeriesDate SeriesTime SeriesDescription "
    "ReferencedPerformedProcedureStepSequence"
)
HIERARCHICAL_REFERENCE = _words(
    "StudyInstanceUID ReferencedSeriesSequence SeriesInstanceUID ReferencedSOPSequence "
    "ReferencedSOPClassUID ReferencedSOPInstanceUID"
)
SR_DOCUMENT_GENERAL = _words(
    "InstanceNumber CompletionFlag VerificationFlag ContentDate ContentTime "
    "VerifyingObserverSequence VerifyingObserverName VerifyingOrganization "
    "VerificationDateTime VerifyingObserverIdentificationCodeSequence "
    "PredecessorDocumentsSequence PerformedProcedureCodeSequence "
    "CurrentRequestedProcedureEvidenceSequence PertinentOtherEvidenceSequence "
    "IdenticalDocumentsSequence PreliminaryFlag"
)
SR_DOCUMENT_CONTENT = _words(
    "ValueType ConceptNameCodeSequence ContinuityOfContent ContentTemplateSequence "
    "TemplateIdentifier ContentSequence RelationshipType TextValue PersonName UID DateTime "
    "Date Time MeasuredValueSequence NumericValue FloatingPointValue "
    "MeasurementUnitsCodeSequence NumericValueQualifierCodeSequence ConceptCodeSequence "
    "GraphicType GraphicData ReferencedSOPSequence ReferencedSOPClassUID "
    "ReferencedSOPInstanceUID ReferencedFrameNumber ReferencedSegmentNumber "
    "ReferencedContentItemIdentifier ObservationDateTime ObservationUID "
    "ReferencedFrameOfReferenceUID PixelOriginInterpretation"
)
CODING_SCHEME_IDENTIFICATION = _words(
    "CodingSchemeIdentificationSequence CodingSchemeDesignator CodingSchemeName "
    "CodingSchemeVersion CodingSchemeResponsibleOrganization CodingSchemeUID "
    "CodingSchemeRegistry CodingSchemeExternalID"
)
# -- presentation states (PS3.3 C.11, C.10) ------------------------------------------------------
PRESENTATION_SERIES = _words(
    "Modality SeriesInstanceUID SeriesNumber SeriesDate SeriesTime SeriesDescription"
)
PRESENTATION_STATE = _words(
    "PresentationCreationDate PresentationCreationTime ContentLabel ContentDescription "
    "ContentCreatorName InstanceNumber ReferencedSeriesSequence SeriesInstanceUID "
    "ReferencedImageSequence ReferencedSOPClassUID ReferencedSOPInstanceUID "
    "ReferencedFrameNumber DisplayedAreaSelectionSequence DisplayedAreaTopLeftHandCorner "
    "DisplayedAreaBottomRightHandCorner PresentationSizeMode PresentationPixelSpacing "
    "PresentationPixelAspectRatio PresentationPixelMagnificationRatio ImageRotation "
    "ImageHorizontalFlip SoftcopyVOILUTSequence PresentationLUTSequence PresentationLUTShape"
)
GRAPHIC_ANNOTATION = _words(
    "GraphicAnnotationSequence GraphicLayer TextObjectSequence GraphicObjectSequence "
    "BoundingBoxAnnotationUnits AnchorPointAnnotationUnits UnformattedTextValue "
    "BoundingBoxTopLeftHandCorner BoundingBoxBottomRightHandCorner "
    "BoundingBoxTextHorizontalJustification AnchorPoint AnchorPointVisibility "
    "GraphicAnnotationUnits GraphicDimensions NumberOfGraphicPoints GraphicData GraphicType "
    "GraphicFilled TrackingID TrackingUID ReferencedImageSequence ReferencedSOPClassUID "
    "ReferencedSOPInstanceUID ReferencedFrameNumber GraphicLayerSequence GraphicLayerOrder "
    "GraphicLayerRecommendedDisplayGrayscaleValue GraphicLayerRecommendedDisplayCIELabValue "
    "GraphicLayerDescription"
)

_IMAGE = PATIENT | GENERAL_STUDY | GENERAL_SERIES | GENERAL_EQUIPMENT | GENERAL_IMAGE
_IMAGE |= IMAGE_PIXEL | SOP_COMMON | CODE | MODALITY_LUT | VOI_LUT
#: A scanner's image is only ever written as a de-identified copy beside the objects that refer
#: to it: its own references (to images, frames of reference, synchronised acquisitions the
#: export does not contain) go, so nothing in the export points outside it.
_SOURCE_REFERENCES = _words(
    "SourceImageSequence ReferencedImageSequence ReferencedSOPClassUID "
    "ReferencedSOPInstanceUID ReferencedFrameNumber PurposeOfReferenceCodeSequence"
)
# A scanner may put several frames in a single-frame class: the copy keeps what reads them.
ULTRASOUND = (_IMAGE | US_REGION_CALIBRATION | US_IMAGE | MULTI_FRAME | CINE) - _SOURCE_REFERENCES
ULTRASOUND_CINE = ULTRASOUND
SECONDARY_CAPTURE = _IMAGE | SC_EQUIPMENT | SC_IMAGE
SECONDARY_CAPTURE_CINE = SECONDARY_CAPTURE | MULTI_FRAME | SC_MULTI_FRAME | CINE
STRUCTURED_REPORT = (
    PATIENT
    | GENERAL_STUDY
    | SR_DOCUMENT_SERIES
    | GENERAL_EQUIPMENT
    | SR_DOCUMENT_GENERAL
    | SR_DOCUMENT_CONTENT
    | HIERARCHICAL_REFERENCE
    | CODING_SCHEME_IDENTIFICATION
    | SOP_COMMON
    | CODE
)
PRESENTATION = (
    PATIENT
    | GENERAL_STUDY
    | PRESENTATION_SERIES
    | GENERAL_SERIES
    | GENERAL_EQUIPMENT
    | PRESENTATION_STATE
    | GRAPHIC_ANNOTATION
    | SOP_COMMON
    | CODE
    | VOI_LUT
    | _words("ICCProfile ColorSpace")
)
#: Any other image (an MR or CT sent along by mistake): what every image IOD has.
GENERIC_IMAGE = (_IMAGE | MULTI_FRAME) - _SOURCE_REFERENCES

#: File Meta Information (PS3.10): what a Part 10 file needs, nothing of the sender's.
FILE_META = _words(
    "FileMetaInformationGroupLength FileMetaInformationVersion MediaStorageSOPClassUID "
    "MediaStorageSOPInstanceUID TransferSyntaxUID ImplementationClassUID "
    "ImplementationVersionName"
)

ALLOWED: dict[str, frozenset[str]] = {
    UltrasoundImageStorage: ULTRASOUND,
    "1.2.840.10008.5.1.4.1.1.6": ULTRASOUND,  # retired Ultrasound Image Storage
    UltrasoundMultiFrameImageStorage: ULTRASOUND_CINE,
    "1.2.840.10008.5.1.4.1.1.3": ULTRASOUND_CINE,  # retired Ultrasound Multi-frame
    SecondaryCaptureImageStorage: SECONDARY_CAPTURE,
    MultiFrameTrueColorSecondaryCaptureImageStorage: SECONDARY_CAPTURE_CINE,
    ComprehensiveSRStorage: STRUCTURED_REPORT,
    EnhancedSRStorage: STRUCTURED_REPORT,
    GrayscaleSoftcopyPresentationStateStorage: PRESENTATION,
    ColorSoftcopyPresentationStateStorage: PRESENTATION,
}


#: Module attributes of the object itself, never of an item of a sequence inside it.
TOP_LEVEL_ONLY = (PATIENT | GENERAL_STUDY | SOP_COMMON | IMAGE_PIXEL) - _words(
    "StudyInstanceUID SOPClassUID SOPInstanceUID"
)
#: Attributes of a palette colour image only.
PALETTE = frozenset(k for k in IMAGE_PIXEL if "Palette" in k)

#: Dates and times the IOD needs a value in (type 1): with dates removed, they get a dummy one.
NEEDS_A_DATE: dict[str, frozenset[str]] = {
    ComprehensiveSRStorage: _words("ContentDate ContentTime"),
    EnhancedSRStorage: _words("ContentDate ContentTime"),
    GrayscaleSoftcopyPresentationStateStorage: _words(
        "PresentationCreationDate PresentationCreationTime"
    ),
    ColorSoftcopyPresentationStateStorage: _words(
        "PresentationCreationDate PresentationCreationTime"
    ),
}


def allowed_for(sop_class_uid: str) -> frozenset[str]:
    """The keywords an object of this SOP class keeps, at any depth."""
    return ALLOWED.get(str(sop_class_uid), GENERIC_IMAGE)
