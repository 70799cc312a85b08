"""Which catalog region an image shows, read from what its file says: the DICOM Body Part
Examined, its descriptions, its file name. A new target then takes that region's names."""

from __future__ import annotations

import re
from collections.abc import Iterable

from prolo_planner.core.catalog import CatalogSet

#: DICOM Body Part Examined defined terms (PS3.16 Annex L) by catalog region.
BODY_PARTS: dict[str, str] = {
    "LSPINE": "lumbar_spine",
    "CSPINE": "cervical_spine",
    "NECK": "cervical_spine",
    "TSPINE": "thoracic_spine_ribs",
    "RIB": "thoracic_spine_ribs",
    "SSPINE": "sacroiliac_pelvis",
    "SACRUM": "sacroiliac_pelvis",
    "SIJOINT": "sacroiliac_pelvis",
    "PELVIS": "sacroiliac_pelvis",
    "HIP": "hip",
    "SHOULDER": "shoulder",
    "ELBOW": "elbow",
    "WRIST": "wrist_hand",
    "HAND": "wrist_hand",
    "FINGER": "wrist_hand",
    "THUMB": "wrist_hand",
    "KNEE": "knee",
    "ANKLE": "ankle_foot",
    "FOOT": "ankle_foot",
    "HEEL": "ankle_foot",
    "TOE": "ankle_foot",
}

#: Words of descriptions and file names by region: each one names one region only.
WORDS: dict[str, str] = {
    "lumbar": "lumbar_spine",
    "lumbosacral": "lumbar_spine",
    "lspine": "lumbar_spine",
    "cervical": "cervical_spine",
    "cspine": "cervical_spine",
    "thoracic": "thoracic_spine_ribs",
    "tspine": "thoracic_spine_ribs",
    "rib": "thoracic_spine_ribs",
    "ribs": "thoracic_spine_ribs",
    "costotransverse": "thoracic_spine_ribs",
    "sacroiliac": "sacroiliac_pelvis",
    "sij": "sacroiliac_pelvis",
    "sacrum": "sacroiliac_pelvis",
    "sacral": "sacroiliac_pelvis",
    "pelvis": "sacroiliac_pelvis",
    "sacrotuberous": "sacroiliac_pelvis",
    "hip": "hip",
    "trochanter": "hip",
    "trochanteric": "hip",
    "iliofemoral": "hip",
    "shoulder": "shoulder",
    "supraspinatus": "shoulder",
    "rotator": "shoulder",
    "acromioclavicular": "shoulder",
    "elbow": "elbow",
    "epicondyle": "elbow",
    "wrist": "wrist_hand",
    "hand": "wrist_hand",
    "thumb": "wrist_hand",
    "finger": "wrist_hand",
    "tfcc": "wrist_hand",
    "knee": "knee",
    "patellar": "knee",
    "patella": "knee",
    "ankle": "ankle_foot",
    "foot": "ankle_foot",
    "plantar": "ankle_foot",
    "achilles": "ankle_foot",
}

_WORD = re.compile(r"[a-z]+")


def guess_region(evidence: Iterable[str], catalogs: CatalogSet | None = None) -> str:
    """The region the first telling piece of evidence names, or "" when none tells.

    `evidence` in order of trust: the Body Part Examined code, then the descriptions, then
    the file name. With `catalogs`, only a region they hold is answered.
    """
    for text in evidence:
        found = _region_in(text)
        if found and (catalogs is None or catalogs.region(found) is not None):
            return found
    return ""


def _region_in(text: str) -> str:
    code = re.sub(r"[^A-Z]", "", text.upper())
    if code in BODY_PARTS:
        return BODY_PARTS[code]
    regions = [WORDS[w] for w in _WORD.findall(text.lower()) if w in WORDS]
    # "lumbar spine, midline" names one region; a text naming two (a "hip and knee" series)
    # tells nothing.
    return regions[0] if regions and len(set(regions)) == 1 else ""
