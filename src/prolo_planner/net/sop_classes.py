"""Which kinds of DICOM object the workstation takes in, and in which transfer syntaxes."""

from __future__ import annotations

from pydicom import uid as sc
from pydicom.uid import (
    JPEG2000,
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

#: Service classes pynetdicom defines at import time (so type checkers cannot see its names);
#: the UIDs are PS3.4's.
VERIFICATION = UID("1.2.840.10008.1.1")
STUDY_ROOT_FIND = UID("1.2.840.10008.5.1.4.1.2.2.1")
STUDY_ROOT_MOVE = UID("1.2.840.10008.5.1.4.1.2.2.2")
STUDY_ROOT_GET = UID("1.2.840.10008.5.1.4.1.2.2.3")

#: Ultrasound (with the retired classes older scanners still send), secondary captures and
#: photographs: the images this app is about.
OUR_IMAGES: tuple[UID, ...] = (
    sc.UltrasoundImageStorage,
    sc.UltrasoundMultiFrameImageStorage,
    UID("1.2.840.10008.5.1.4.1.1.6"),  # Ultrasound Image Storage (Retired)
    UID("1.2.840.10008.5.1.4.1.1.3"),  # Ultrasound Multi-frame Image Storage (Retired)
    sc.EnhancedUSVolumeStorage,
    sc.SecondaryCaptureImageStorage,
    sc.MultiFrameSingleBitSecondaryCaptureImageStorage,
    sc.MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    sc.MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
    sc.MultiFrameTrueColorSecondaryCaptureImageStorage,
    sc.VLPhotographicImageStorage,
)
#: Other modalities a clinician may want beside the ultrasound.
OTHER_IMAGES: tuple[UID, ...] = (
    sc.ComputedRadiographyImageStorage,
    sc.DigitalXRayImageStorageForPresentation,
    sc.CTImageStorage,
    sc.MRImageStorage,
)
#: Images a scanner may push and a retrieve takes in: the viewer opens them all.
IMAGE_STORAGE: tuple[UID, ...] = OUR_IMAGES + OTHER_IMAGES

#: Objects that carry a plan for review rather than pixels: reports, presentation states, PDF.
REVIEW_OBJECTS: tuple[UID, ...] = (
    sc.BasicTextSRStorage,
    sc.EnhancedSRStorage,
    sc.ComprehensiveSRStorage,
    sc.Comprehensive3DSRStorage,
    sc.GrayscaleSoftcopyPresentationStateStorage,
    sc.ColorSoftcopyPresentationStateStorage,
    sc.EncapsulatedPDFStorage,
)

UNCOMPRESSED: tuple[UID, ...] = (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
)
#: Compressed syntaxes the app's decoders read (see ADR 0002), commonest in ultrasound first.
COMPRESSED: tuple[UID, ...] = (
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    JPEG2000Lossless,
    JPEG2000,
    RLELossless,
)
ACCEPTED_SYNTAXES: tuple[UID, ...] = UNCOMPRESSED + COMPRESSED
#: The compressed syntaxes CT, MR and radiographs usually come in.
OTHER_MODALITY_SYNTAXES: tuple[UID, ...] = (JPEGBaseline8Bit, JPEGLosslessSV1, JPEG2000Lossless)
