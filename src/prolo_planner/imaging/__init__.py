"""Image sources: DICOM, video and stills behind one ImageSource interface. No Qt here."""

from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.source import FrameTiming, ImageSource, SourceInfo, SourceKind

__all__ = ["FrameTiming", "ImageLoadError", "ImageSource", "SourceInfo", "SourceKind"]
