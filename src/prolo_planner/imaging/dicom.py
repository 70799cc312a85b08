"""DICOM files as image sources: header read once at open, each frame read and decoded lazily."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import UID

from prolo_planner.core.calibration import Calibration
from prolo_planner.imaging import dicom_header
from prolo_planner.imaging.dicom_frames import EncapsulatedFrames, NativeFrames
from prolo_planner.imaging.dicom_layout import PixelLayout, read_header, short_reason
from prolo_planner.imaging.dicom_pixels import (
    FrameDecodeError,
    Presentation,
    decode_frame,
    to_display,
)
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.source import FrameTiming, SourceInfo


class DicomSource:
    """One DICOM file. Thread-safe: frame() opens the file for each read and shares no state."""

    def __init__(
        self,
        path: Path,
        dataset: Dataset,
        layout: PixelLayout,
        frames: NativeFrames | EncapsulatedFrames,
    ) -> None:
        self._path = path
        self._layout = layout
        self._frames = frames
        self._presentation = Presentation.from_dataset(dataset, layout)
        self._timing = dicom_header.frame_timing(dataset, layout.frame_count)
        self._calibration = dicom_header.calibration(dataset, layout.rows, layout.columns)
        self._info = dicom_header.source_info(path, dataset, layout, self._timing)
        self._dataset = dataset

    @classmethod
    def open(cls, path: Path) -> DicomSource:
        """Read the header (not the pixels) and index the frames. Raises ImageLoadError."""
        path = Path(path)
        try:
            dataset, layout, stream_size = read_header(path)
            frames: NativeFrames | EncapsulatedFrames
            if layout.is_encapsulated:
                frames = EncapsulatedFrames(path, layout, stream_size)
            else:
                frames = NativeFrames(path, layout)
            return cls(path, dataset, layout, frames)
        except ImageLoadError:
            raise
        except OSError as exc:
            raise ImageLoadError(path, f"cannot be read ({exc.strerror or exc})") from None
        except Exception as exc:  # pydicom and struct errors on damaged headers
            raise ImageLoadError(path, f"damaged DICOM header ({short_reason(exc)})") from None

    # -- ImageSource ----------------------------------------------------------------------
    @property
    def info(self) -> SourceInfo:
        return self._info

    @property
    def frame_count(self) -> int:
        return self._layout.frame_count

    @property
    def timing(self) -> FrameTiming:
        return self._timing

    @property
    def calibration(self) -> Calibration:
        return self._calibration

    @property
    def dataset(self) -> Dataset:
        """The header without pixel data (for export and de-identification)."""
        return self._dataset

    @property
    def layout(self) -> PixelLayout:
        return self._layout

    def frame(self, index: int) -> np.ndarray:
        """Frame `index` as uint8 HxW or HxWx3 RGB; decodes that frame only."""
        if not 0 <= index < self._layout.frame_count:
            raise IndexError(f"frame {index} outside 0..{self._layout.frame_count - 1}")
        where = f"frame {index + 1} of {self._layout.frame_count}"
        try:
            data = self._frames.read(index)
            arr, photometric = decode_frame(self._layout, data)
            expected = (self._layout.rows, self._layout.columns)
            if arr.shape[:2] != expected:
                raise FrameDecodeError(f"decoded size {arr.shape[:2]} is not {expected}")
            return to_display(arr, photometric, self._presentation)
        except ImageLoadError:
            raise
        except FrameDecodeError as exc:
            syntax = UID(self._layout.transfer_syntax).name
            raise ImageLoadError(
                self._path, f"{where} cannot be decoded ({syntax}): {exc}"
            ) from None
        except OSError as exc:
            raise ImageLoadError(self._path, f"cannot be read ({exc.strerror or exc})") from None
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # nothing but ImageLoadError may reach the viewer
            raise ImageLoadError(
                self._path, f"{where} cannot be decoded: {short_reason(exc)}"
            ) from None

    def close(self) -> None:
        """Nothing to release: no file stays open between frames."""
