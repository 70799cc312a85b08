"""The coded concepts of Prolo Planner's measurement reports, shared by the writer and the reader.

Standard codes (SNOMED CT, DCM, UCUM, as pydicom's code dictionary has them) where one says
the same thing; otherwise local codes of the coding scheme 99PROLO ("99" marks a private scheme,
declared in the report's Coding Scheme Identification Sequence). No private attributes: the
report reads in any SR viewer, and every code maps back to one plan value.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from highdicom.sr import CodedConcept
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from prolo_planner.core.plan import (
    Anaesthetic,
    AnnotationKind,
    Approach,
    AvoidKind,
    Side,
    SiteStatus,
    TargetKind,
)

SCHEME = "99PROLO"
SCHEME_NAME = "Prolo Planner local codes"


def local(value: str, meaning: str) -> CodedConcept:
    return CodedConcept(value, SCHEME, meaning)


def standard(code: Code) -> CodedConcept:
    return CodedConcept(code.value, code.scheme_designator, code.meaning)


def key(concept: CodedConcept) -> tuple[str, str]:
    """What identifies a code: its value and scheme (meanings vary between writers)."""
    return (str(concept.value), str(concept.scheme_designator))


PROCEDURE = local("PROLO-PLAN", "Ultrasound-guided prolotherapy plan")

# -- what each measurement group is (Finding Category) ----------------------------------------
CATEGORY: dict[AnnotationKind | str, CodedConcept] = {
    AnnotationKind.TARGET: local("TARGET", "Injection target"),
    AnnotationKind.NEEDLE_PATH: local("NEEDLE-PATH", "Planned needle path"),
    AnnotationKind.AVOID_ZONE: local("AVOID-ZONE", "Structure to avoid"),
    AnnotationKind.CALIPER: local("CALIPER", "Caliper measurement"),
    AnnotationKind.ANGLE: local("ANGLE", "Angle measurement"),
    AnnotationKind.TEXT: local("TEXT-NOTE", "Text note"),
    "skin line": local("SKIN-LINE", "Skin surface line"),
}

# -- kinds (Finding) ----------------------------------------------------------------------------
TARGET_KIND: dict[TargetKind, CodedConcept] = {
    TargetKind.LIGAMENT: standard(codes.SCT.Ligament),
    TargetKind.TENDON: standard(codes.SCT.Tendon),
    TargetKind.PERIOSTEUM: local("PERIOSTEUM", "Periosteum or enthesis"),
    TargetKind.JOINT_CAPSULE: local("JOINT-CAPSULE", "Joint capsule"),
    TargetKind.BURSA: local("BURSA", "Bursa"),
    TargetKind.OTHER: local("OTHER-TARGET", "Other injection target"),
}
AVOID_KIND: dict[AvoidKind, CodedConcept] = {
    AvoidKind.ARTERY: standard(codes.SCT.Artery),
    AvoidKind.VEIN: standard(codes.SCT.Vein),
    AvoidKind.NERVE: standard(codes.SCT.Nerve),
    AvoidKind.SPINAL_CANAL: local("SPINAL-CANAL", "Spinal canal or dura"),
    AvoidKind.PLEURA: local("PLEURA-LUNG", "Pleura or lung"),
    AvoidKind.BONE: standard(codes.SCT.Bone),
    AvoidKind.OTHER: local("OTHER-ZONE", "Other structure to avoid"),
}

# -- coded answers (Qualitative Evaluations) ---------------------------------------------------
LATERALITY = standard(codes.SCT.Laterality)
SIDE: dict[Side, CodedConcept] = {
    Side.LEFT: standard(codes.SCT.Left),
    Side.RIGHT: standard(codes.SCT.Right),
    Side.MIDLINE: standard(codes.SCT.Midline),
    Side.BILATERAL: standard(codes.SCT.Bilateral),
}
SITE_STATUS = local("SITE-STATUS", "Injection site status")
STATUS: dict[SiteStatus, CodedConcept] = {
    SiteStatus.PLANNED: local("PLANNED", "Planned"),
    SiteStatus.INJECTED: local("INJECTED", "Injected"),
    SiteStatus.SKIPPED: local("SKIPPED", "Skipped"),
}
APPROACH = local("APPROACH", "Needle approach")
APPROACHES: dict[Approach, CodedConcept] = {
    Approach.IN_PLANE: local("IN-PLANE", "In-plane"),
    Approach.OUT_OF_PLANE: local("OUT-OF-PLANE", "Out-of-plane"),
}
ANAESTHETIC = local("ANAESTHETIC", "Local anaesthetic")
ANAESTHETICS: dict[Anaesthetic, CodedConcept] = {
    Anaesthetic.LIDOCAINE: standard(codes.SCT.Lidocaine),
    Anaesthetic.PROCAINE: local("PROCAINE", "Procaine"),
    Anaesthetic.NONE: local("NO-ANAESTHETIC", "No local anaesthetic"),
}


# -- numbers ------------------------------------------------------------------------------------
class Quantity(Enum):
    """Each numeric value a report carries: its concept name and UCUM unit."""

    TARGET_DEPTH = (standard(codes.SCT.Depth), CodedConcept("mm", "UCUM", "millimeter"))
    PATH_LENGTH = (standard(codes.SCT.Length), CodedConcept("mm", "UCUM", "millimeter"))
    NEEDLE_ANGLE = (
        local("NEEDLE-ANGLE", "Needle angle to transducer face"),
        CodedConcept("deg", "UCUM", "degree"),
    )
    CLEARANCE = (
        local("CLEARANCE", "Clearance to structure to avoid"),
        CodedConcept("mm", "UCUM", "millimeter"),
    )
    CALIPER = (standard(codes.DCM.Distance), CodedConcept("mm", "UCUM", "millimeter"))
    ANGLE = (standard(codes.SCT.Angle), CodedConcept("deg", "UCUM", "degree"))
    # Local, not SNOMED's "Volume": read as a measurement of the target region, that would
    # say the ligament holds 1.5 mL.
    VOLUME = (local("INJ-VOLUME", "Injectate volume"), CodedConcept("ml", "UCUM", "milliliter"))
    DEXTROSE = (
        local("DEXTROSE-PCT", "Dextrose concentration"),
        CodedConcept("%", "UCUM", "percent"),
    )
    ANAESTHETIC_PERCENT = (
        local("ANAESTH-PCT", "Local anaesthetic concentration"),
        CodedConcept("%", "UCUM", "percent"),
    )
    NEEDLE_GAUGE = (local("NEEDLE-GAUGE", "Needle gauge"), CodedConcept("{G}", "UCUM", "gauge"))
    NEEDLE_LENGTH = (
        local("NEEDLE-LENGTH", "Needle length"),
        CodedConcept("mm", "UCUM", "millimeter"),
    )
    MARGIN = (local("SAFETY-MARGIN", "Safety margin"), CodedConcept("mm", "UCUM", "millimeter"))

    def __repr__(self) -> str:
        return f"Quantity.{self.name}"

    @property
    def concept(self) -> CodedConcept:
        return self.value[0]

    @property
    def unit(self) -> CodedConcept:
        return self.value[1]


# -- text and references ------------------------------------------------------------------------
NAME = local("NAME", "Name")
COMMENT = standard(codes.DCM.Comment)
TARGET_UID = local("TARGET-UID", "Tracking UID of the needle path's target")


def reverse(table: Mapping[Any, CodedConcept]) -> dict[tuple[str, str], Any]:
    """Code -> plan value, for the reader."""
    return {key(concept): value for value, concept in table.items()}
