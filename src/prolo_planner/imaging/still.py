"""Still images and frame grabs (PNG, JPEG, BMP, TIFF) as a one-frame ImageSource.

Pixels are decoded once at open, by OpenCV (fast, libjpeg-turbo) or, where it fails, Pillow.
What the viewer gets: 8-bit grey as HxW, colour as RGB HxWx3, alpha composited on black, palettes
expanded, EXIF orientation applied. 16-bit samples become 8-bit as round(value / 257): PNG and
TIFF store 16-bit samples on the full 0-65535 scale, so this keeps the picture as it was authored
(a min-max stretch would brighten a dark grab and hide how it looked). Other sample formats
(32-bit integer, floating point) carry no such scale and are stretched min-max.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from prolo_planner.core.calibration import Calibration
from prolo_planner.imaging.codestream import still_size
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.opencv_quiet import silence_opencv
from prolo_planner.imaging.read_limits import FILE_NAME, ReadLimits, read_limits
from prolo_planner.imaging.source import FrameTiming, SourceInfo, SourceKind

silence_opencv()

#: EXIF Orientation tag.
ORIENTATION = 0x0112

#: Pillow modes (read from the header) whose pixels OpenCV decodes faithfully; the rest go to
#: Pillow. OpenCV's TIFF reader drops a grey image's alpha and passes LAB through as if RGB.
_OPENCV_MODES = {
    "*": frozenset({"1", "L", "LA", "P", "RGB", "RGBA", "RGBX", "CMYK", "I;16", "I;16B"}),
    "TIFF": frozenset({"1", "L", "P", "RGB", "RGBA", "RGBX", "CMYK", "I;16", "I;16B"}),
}

#: Pillow modes of grey pictures, with or without alpha.
GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"})

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),  # BigTIFF
    (b"MM\x00+", "TIFF"),
)

_SUFFIX_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}


class StillSource:
    """One still image: frame_count 1, no timing, calibrated manually by the clinician."""

    def __init__(self, path: Path, pixels: np.ndarray, info: SourceInfo) -> None:
        self._path = path
        self._pixels = pixels
        self._info = info
        self._timing = FrameTiming(1)

    @classmethod
    def open(cls, path: Path | str) -> StillSource:
        """Read and decode the image. Raises ImageLoadError naming the reason."""
        path = Path(path)
        limits = read_limits()
        try:
            size = path.stat().st_size
            if size > limits.max_still_file_bytes:
                raise ImageLoadError(
                    path,
                    f"{size // (1 << 20)} MB is more than the {limits.max_still_file_bytes >> 20}"
                    f" MB a still image may have ({FILE_NAME}: max_still_file_bytes)",
                )
            # Bytes through Python, not cv2.imread: paths with non-ASCII names then work everywhere.
            data = path.read_bytes()
        except OSError as exc:
            raise ImageLoadError(path, f"cannot be read ({exc.strerror or exc})") from None
        try:
            return cls._decoded(path, data, limits)
        except MemoryError:
            raise ImageLoadError(path, "not enough memory to decode this image") from None

    @classmethod
    def _decoded(cls, path: Path, data: bytes, limits: ReadLimits) -> StillSource:
        if not data:
            raise ImageLoadError(path, "empty file (0 bytes)")
        if data[128:132] == b"DICM":
            # Checked first: some DICOM preambles are a valid TIFF header.
            raise ImageLoadError(
                path, f"is a DICOM file, not a {path.suffix.lstrip('.').upper()} image"
            )
        fmt = sniff_format(data)
        if fmt is None:
            expected = _SUFFIX_FORMATS.get(path.suffix.lower(), "PNG, JPEG, BMP or TIFF")
            raise ImageLoadError(path, f"not a {expected} image: the content is {_describe(data)}")

        header, header_error = _pillow_header(data)
        # What the file declares, checked before any decoder allocates it: OpenCV's own limit
        # is a gigapixel, and a 3 MB PNG can declare 20000 x 20000.
        declared = header.size if header is not None else still_size(data)
        if declared is not None:
            too_large = limits.frame_size_problem(*declared)
            if too_large:
                raise ImageLoadError(path, too_large)
        pixels, decoder = None, "Pillow"
        known_mode = header is None or header.mode in _OPENCV_MODES.get(fmt, _OPENCV_MODES["*"])
        if declared is not None and known_mode:
            pixels, decoder = _decode_cv2(data)
        if pixels is None:
            pixels = _decode_pillow(path, data, fmt, header_error)
            decoder = "Pillow"
        source_depth = _bit_depth(pixels, header)
        pixels, notes = _to_display(pixels, _has_alpha(header))
        if pixels.ndim == 3 and header is not None and header.mode in GREY_MODES:
            # OpenCV hands grey+alpha back as BGRA; the picture is still grey.
            pixels = pixels[:, :, 0]
        if decoder == "Pillow" or fmt != "TIFF":
            # OpenCV applies TIFF orientation itself; for the rest it is left to us.
            pixels = _orient(pixels, _orientation(header))
        pixels = np.ascontiguousarray(pixels)

        rows, columns = pixels.shape[:2]
        mode = header.mode if header is not None else ""
        extra = [("Format", f"{fmt}, {source_depth}-bit" + (f" ({mode})" if mode else ""))]
        extra += [("Conversion", note) for note in notes]
        pages = _page_count(header)
        if pages > 1:
            extra.append(("Pages", f"{pages} (the first is shown)"))
        extra.append(("File size", f"{len(data) / 1000:.1f} kB"))
        info = SourceInfo(
            path=path,
            kind=SourceKind.IMAGE,
            rows=rows,
            columns=columns,
            frame_count=1,
            samples_per_pixel=1 if pixels.ndim == 2 else 3,
            bits_stored=source_depth,
            codec=fmt,
            extra=tuple(extra),
        )
        return cls(path, pixels, info)

    # -- ImageSource ---------------------------------------------------------------------------
    @property
    def info(self) -> SourceInfo:
        return self._info

    @property
    def frame_count(self) -> int:
        return 1

    @property
    def timing(self) -> FrameTiming:
        return self._timing

    @property
    def calibration(self) -> Calibration:
        # A frame grab carries no scale: the clinician calibrates on the on-screen depth scale.
        return Calibration.none()

    @property
    def path(self) -> Path:
        return self._path

    def frame(self, index: int) -> np.ndarray:
        """The image (index 0): uint8 HxW or RGB HxWx3, a copy the caller may keep and change."""
        if index != 0:
            raise IndexError(f"frame {index} outside 0..0")
        # The kept array is never changed, so reading it needs no lock.
        return self._pixels.copy()

    def close(self) -> None:
        """Nothing to release: the pixels are one frame, kept for the life of the source."""

    def __repr__(self) -> str:
        return f"StillSource({str(self._path)!r}, {self._info.columns}x{self._info.rows})"


# -- format and header ---------------------------------------------------------------------------
def sniff_format(data: bytes) -> str | None:
    """PNG, JPEG, BMP or TIFF from the first bytes, or None."""
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    return None


def _describe(data: bytes) -> str:
    head = data[:512]
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "a DICOM file"
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    if printable >= 0.95 * len(head):
        return "text"
    return "not a recognised image format"


def _pillow_header(data: bytes) -> tuple[Image.Image | None, str]:
    """Pillow's lazy view of the file (mode, EXIF): header only, pixels are not decoded here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data" and friends: not our concern
            return Image.open(io.BytesIO(data)), ""
    except Exception as exc:  # Pillow raises many types for damaged headers
        return None, str(exc)


def _page_count(header: Image.Image | None) -> int:
    try:
        return int(getattr(header, "n_frames", 1))
    except Exception:  # counting pages walks a TIFF's directories, which may be damaged
        return 1


def _orientation(header: Image.Image | None) -> int:
    if header is None:
        return 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = header.getexif().get(ORIENTATION, 1)
    except Exception:  # damaged EXIF: show the image as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


# -- decoding ------------------------------------------------------------------------------------
def _decode_cv2(data: bytes) -> tuple[np.ndarray | None, str]:
    """Decode with OpenCV; channels come back in RGB(A) order. None when OpenCV cannot."""
    try:
        array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None, ""
    if array is None or array.size == 0:
        return None, ""
    if array.ndim == 3:
        if array.shape[2] == 1:
            array = array[:, :, 0]
        elif array.shape[2] == 3:
            array = cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
        elif array.shape[2] == 4:
            array = cv2.cvtColor(array, cv2.COLOR_BGRA2RGBA)
        else:
            return None, ""
    return array, "OpenCV"


def _decode_pillow(path: Path, data: bytes, fmt: str, header_error: str) -> np.ndarray:
    image: Image.Image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data))
            image.load()
    except Exception as exc:
        message = str(exc) or header_error or type(exc).__name__
        if "truncated" in message.lower() or isinstance(exc, EOFError):
            reason = f"truncated or damaged {fmt} file ({message})"
        elif "cannot identify" in message:
            reason = f"damaged or truncated {fmt} file: its header cannot be read"
        else:
            reason = f"unsupported or damaged {fmt} file ({message})"
        raise ImageLoadError(path, reason) from None

    mode = image.mode
    if mode == "1":
        image = image.convert("L")
    elif mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode == "PA":
        image = image.convert("RGBA")
    elif mode == "La":
        image = image.convert("LA")
    elif mode == "RGBa":
        image = image.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA", "I", "F") and not mode.startswith("I;16"):
        image = image.convert("RGB")  # CMYK, YCbCr, LAB, RGBX ...
    array = np.asarray(image)
    if mode.startswith("I;16"):
        array = array.astype(np.uint16)
    return array


# -- conversion to what the viewer shows ----------------------------------------------------------
def _bit_depth(array: np.ndarray, header: Image.Image | None) -> int:
    if header is not None and header.mode == "1":
        return 1
    return array.dtype.itemsize * 8


def _has_alpha(header: Image.Image | None) -> bool:
    """Whether a fourth channel is transparency (not the padding byte of a 32-bit BMP)."""
    if header is None:
        return True
    return header.mode in ("RGBA", "LA", "La", "RGBa", "PA") or (
        header.mode == "P" and "transparency" in header.info
    )


def _to_display(array: np.ndarray, use_alpha: bool) -> tuple[np.ndarray, list[str]]:
    """uint8 grey HxW or RGB HxWx3 from grey, grey+alpha, RGB or RGBA at any sample type."""
    notes: list[str] = []
    alpha: np.ndarray | None = None
    if array.ndim == 3 and array.shape[2] in (2, 4):
        if use_alpha:
            alpha = array[:, :, -1]
            if not alpha.any():
                # Wholly transparent: a writer that left the alpha byte at 0 (common in 32-bit
                # BMPs); compositing would show a black rectangle instead of the picture.
                alpha = None
                notes.append("alpha channel is all zero: ignored")
        array = array[:, :, :-1]
        if array.shape[2] == 1:
            array = array[:, :, 0]

    if array.dtype == np.uint8:
        full_scale = 255
    elif array.dtype == np.uint16:
        full_scale = 65535
    else:
        full_scale = 0  # no natural scale: stretched below

    if alpha is not None and not (alpha.dtype == array.dtype and np.all(alpha == full_scale)):
        scale = float(np.iinfo(alpha.dtype).max) if alpha.dtype.kind in "ui" else 1.0
        weight = alpha.astype(np.float64) / scale
        if array.ndim == 3:
            weight = weight[:, :, None]
        array = array.astype(np.float64) * weight
        notes.append("transparency composited on black")
        if full_scale:
            array = np.rint(array).astype(np.uint8 if full_scale == 255 else np.uint16)

    if array.dtype == np.uint8:
        return array, notes
    if array.dtype == np.uint16:
        notes.append("16-bit samples scaled to 8-bit (value / 257)")
        scaled = (array.astype(np.uint32) * 255 + 32767) // 65535
        return scaled.astype(np.uint8), notes
    values = array.astype(np.float64)
    finite = np.isfinite(values)
    low = float(values[finite].min()) if finite.any() else 0.0
    high = float(values[finite].max()) if finite.any() else 0.0
    span = high - low
    stretched = np.zeros_like(values) if span <= 0 else (values - low) * (255.0 / span)
    stretched = np.where(finite, stretched, 0.0)
    notes.append(f"{array.dtype} samples stretched to 8-bit (min {low:.6g}, max {high:.6g})")
    return np.rint(stretched).clip(0, 255).astype(np.uint8), notes


def _orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) the way viewers and Pillow's exif_transpose do."""
    if orientation == 2:
        return array[:, ::-1]
    if orientation == 3:
        return array[::-1, ::-1]
    if orientation == 4:
        return array[::-1]
    if orientation == 5:
        return array.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(array, -1)
    if orientation == 7:
        return array.swapaxes(0, 1)[::-1, ::-1]
    if orientation == 8:
        return np.rot90(array, 1)
    return array
