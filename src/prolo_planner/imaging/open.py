"""Open any supported file as an ImageSource, choosing the reader by content and suffix."""

from __future__ import annotations

from pathlib import Path

from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.source import ImageSource, SourceKind

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv"}
)
STILL_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})


def looks_like_dicom(head: bytes) -> bool:
    """True for a Part 10 file (preamble + DICM) or a bare dataset starting with group 0002/0008."""
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True
    # Files without a file meta header start straight with a data element tag.
    return len(head) >= 8 and head[:2] in (b"\x08\x00", b"\x02\x00", b"\x00\x08", b"\x00\x02")


def is_dicomdir(path: Path) -> bool:
    return path.name.upper() == "DICOMDIR"


def classify(path: Path) -> SourceKind | None:
    """Which reader a file needs, or None when it is no image the app knows.

    A Part 10 header wins over the suffix (PACS exports name DICOM files .png or .jpg too);
    otherwise the suffix decides, and suffix-less files are sniffed for a bare dataset.
    """
    try:
        with path.open("rb") as f:
            head = f.read(132)
    except OSError:
        head = b""
    if len(head) >= 132 and head[128:132] == b"DICM":
        return SourceKind.DICOM
    suffix = path.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return SourceKind.VIDEO
    if suffix in STILL_SUFFIXES:
        return SourceKind.IMAGE
    return SourceKind.DICOM if looks_like_dicom(head) else None


def open_image(path: Path | str) -> ImageSource:
    """Open one file. Raises ImageLoadError naming the file and the reason."""
    path = Path(path)
    try:
        if path.is_dir():
            raise ImageLoadError(path, "is a folder; import it as a folder")
        size = path.stat().st_size
    except FileNotFoundError:
        raise ImageLoadError(path, "file not found") from None
    except PermissionError:
        raise ImageLoadError(path, "permission denied") from None
    except OSError as exc:
        raise ImageLoadError(path, f"cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise ImageLoadError(path, "empty file (0 bytes)")
    if is_dicomdir(path):
        raise ImageLoadError(path, "is a DICOMDIR index; import its folder to load its images")

    kind = classify(path)
    if kind is SourceKind.VIDEO:
        from prolo_planner.imaging.video import VideoSource

        return VideoSource.open(path)
    if kind is SourceKind.IMAGE:
        from prolo_planner.imaging.still import StillSource

        return StillSource.open(path)
    if kind is SourceKind.DICOM:
        from prolo_planner.imaging.dicom import DicomSource

        return DicomSource.open(path)
    suffix = f"'{path.suffix}'" if path.suffix else "none"
    raise ImageLoadError(
        path, f"not an image Prolo Planner reads (no DICOM header; file suffix {suffix})"
    )
