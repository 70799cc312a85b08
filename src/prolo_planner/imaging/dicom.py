"""DICOM files as image sources: header read once at open, each frame read and decoded lazily."""

from __future__ import annotations

from dataclasses import replace
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
        truncation: str = "",
    ) -> None:
        self._path = path
        self._layout = layout
        self._frames = frames
        self._presentation = Presentation.from_dataset(dataset, layout)
        self._timing = dicom_header.frame_timing(dataset, layout.frame_count)
        self._calibration = dicom_header.calibration(dataset, layout.rows, layout.columns)
        info = dicom_header.source_info(path, dataset, layout, self._timing)
        self._info = replace(info, warnings=layout.warnings, truncation=truncation)
        self._dataset = dataset

    @classmethod
    def open(cls, path: Path) -> DicomSource:
        """Read the header (not the pixels) and index the frames. Raises ImageLoadError."""
        path = Path(path)
        try:
            dataset, layout, stream_size = read_header(path)
            if not layout.is_encapsulated:
                return cls(path, dataset, layout, NativeFrames(path, layout))
            frames = EncapsulatedFrames(path, layout, stream_size)
            whole, ends_cleanly = frames.present()
            declared = layout.frame_count
            if whole >= declared:
                return cls(path, dataset, layout, frames)
            if ends_cleanly and not whole:
                raise ImageLoadError(path, "the pixel data holds no frames")
            if ends_cleanly:
                # The pixel data ends where it should, with fewer frames than the header says:
                # the count is wrong, not the file.
                warning = (
                    f"Number of Frames (0028,0008) is {declared} but the pixel data holds "
                    f"{whole}: {whole} shown"
                )
                layout = replace(layout, frame_count=whole, warnings=(*layout.warnings, warning))
                return cls(path, dataset, layout, EncapsulatedFrames(path, layout, stream_size))
            truncation = (
                f"truncated: {whole} of {declared} frame(s) are whole; the file ends at byte "
                f"{stream_size}"
            )
            if not whole:
                raise ImageLoadError(path, truncation)
            return cls(path, dataset, layout, frames, truncation)
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
