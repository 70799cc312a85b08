"""What a file says about the part of the body it shows, most trusted first (for
core.region_guess): the DICOM Body Part Examined, its series, protocol and study
descriptions, then the file's name."""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from prolo_planner.imaging.dicom import DicomSource
from prolo_planner.imaging.source import ImageSource

_KEYWORDS = ("BodyPartExamined", "SeriesDescription", "ProtocolName", "StudyDescription")


def _header_texts(ds: Dataset) -> list[str]:
    return [str(ds.get(k, "") or "") for k in _KEYWORDS]


def anatomy_evidence(source: ImageSource) -> tuple[str, ...]:
    """From a file opened already."""
    texts: list[str] = []
    if isinstance(source, DicomSource):
        texts += _header_texts(source.dataset)
    else:
        texts.append(source.info.study_description)
    texts.append(source.info.path.stem)
    return tuple(t for t in texts if t.strip())


def file_anatomy_evidence(path: Path, shown_name: str = "") -> tuple[str, ...]:
    """From a file on disk (a DICOM header is read without its pixels) and the name the
    clinician knows it by (a library copy is named by its hash)."""
    texts: list[str] = []
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=list(_KEYWORDS))
        texts += _header_texts(ds)
    except (InvalidDicomError, OSError, ValueError, TypeError, AttributeError):
        pass  # a video or a picture: only its name tells
    texts.append(Path(shown_name or path).stem)
    return tuple(t for t in texts if t.strip())
