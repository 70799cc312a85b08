"""The ImageSource interface every image the viewer shows goes through, and its metadata."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import accumulate
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from prolo_planner.core.calibration import Calibration


class SourceKind(StrEnum):
    DICOM = "dicom"
    VIDEO = "video"
    IMAGE = "image"


@dataclass(frozen=True, slots=True)
class FrameTiming:
    """When each frame of a loop is due, in milliseconds from the first frame.

    `frame_time_ms` is the nominal time per frame (DICOM FrameTime, or 1000/fps for video).
    `frame_time_vector_ms` holds DICOM FrameTimeVector when present: the increment before each
    frame, the first being 0.
    """

    frame_count: int
    frame_time_ms: float | None = None
    frame_time_vector_ms: tuple[float, ...] = ()
    _starts: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.frame_time_vector_ms and len(self.frame_time_vector_ms) == self.frame_count:
            starts = tuple(accumulate(self.frame_time_vector_ms))
            starts = tuple(s - starts[0] for s in starts)
        else:
            step = self.nominal_ms
            starts = tuple(i * step for i in range(self.frame_count))
        object.__setattr__(self, "_starts", starts)

    @property
    def nominal_ms(self) -> float:
        """Time per frame to play at; 1/30 s when the file does not say."""
        if self.frame_time_ms and self.frame_time_ms > 0:
            return float(self.frame_time_ms)
        return 1000.0 / 30.0

    @property
    def fps(self) -> float:
        return 1000.0 / self.nominal_ms

    @property
    def duration_ms(self) -> float:
        if not self._starts:
            return 0.0
        return self._starts[-1] + self.nominal_ms

    def start_ms(self, index: int) -> float:
        return self._starts[index]

    def frame_at(self, t_ms: float) -> int:
        """The frame showing at time t_ms (clamped to the loop)."""
        if self.frame_count <= 0:
            return 0
        i = bisect.bisect_right(self._starts, t_ms) - 1
        return min(max(i, 0), self.frame_count - 1)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What the metadata panel and `prolo-planner info` show of a file."""

    path: Path
    kind: SourceKind
    rows: int
    columns: int
    frame_count: int
    #: 1 (grey) or 3 (RGB), as frame() delivers it.
    samples_per_pixel: int
    frame_time_ms: float | None = None
    patient_name: str = ""
    patient_id: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    #: Issuer of Patient ID (0010,0021): the authority whose ID space patient_id is in.
    issuer_of_patient_id: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    sop_instance_uid: str = ""
    series_number: int | None = None
    instance_number: int | None = None
    sop_class_uid: str = ""
    sop_class_name: str = ""
    modality: str = ""
    manufacturer: str = ""
    model_name: str = ""
    transducer: str = ""
    photometric_interpretation: str = ""
    transfer_syntax_uid: str = ""
    transfer_syntax_name: str = ""
    bits_stored: int = 8
    #: Video codec (FourCC) or still-image format; empty for DICOM.
    codec: str = ""
    #: Further (label, value) lines worth showing.
    extra: tuple[tuple[str, str], ...] = ()
    #: What the header claims that the file contradicts, each naming the attribute.
    warnings: tuple[str, ...] = ()
    #: Why the file is incomplete ("truncated: 57 of 120 frames ..."); empty when it is whole.
    #: Frames past the cut raise ImageLoadError; the library does not file such a copy.
    truncation: str = ""


@runtime_checkable
class ImageSource(Protocol):
    """Anything that yields frames: a DICOM file, a video clip, a still image.

    frame(i) returns a C-contiguous uint8 array, row-major: HxW (grey) or HxWx3 (RGB). It may be
    called from a background thread while the GUI thread calls it too; implementations are
    thread-safe. A frame that cannot be decoded raises ImageLoadError; an index outside
    0..frame_count-1 raises IndexError.
    """

    @property
    def info(self) -> SourceInfo: ...

    @property
    def frame_count(self) -> int: ...

    @property
    def timing(self) -> FrameTiming: ...

    @property
    def calibration(self) -> Calibration: ...

    def frame(self, index: int) -> np.ndarray: ...

    def close(self) -> None: ...
