"""Decoding one DICOM frame and turning it into the 8-bit grey or RGB picture the viewer shows."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.pixels import apply_color_lut, convert_color_space, get_decoder
from pydicom.uid import JPEGBaseline8Bit

from prolo_planner.imaging.codestream import frame_size
from prolo_planner.imaging.dicom_layout import PixelLayout

#: OpenCV >= 4.10 lets libjpeg-turbo write RGB directly; older ones give BGR to convert.
_CV2_RGB = getattr(cv2, "IMREAD_COLOR_RGB", None)
_CV2_FLAGS = (cv2.IMREAD_COLOR if _CV2_RGB is None else _CV2_RGB) | cv2.IMREAD_IGNORE_ORIENTATION
#: pydicom plugins to try per compressed syntax, fastest first. GDCM is left out on purpose:
#: besides being the slowest, its bundled codecs abort the whole process on some damaged
#: frames (found by the mutation test), which no try/except can catch.
_PLUGINS: dict[str, tuple[str, ...]] = {
    "1.2.840.10008.1.2.4.50": ("pillow",),
    "1.2.840.10008.1.2.4.51": ("pillow",),
    "1.2.840.10008.1.2.4.80": ("pyjpegls",),
    "1.2.840.10008.1.2.4.81": ("pyjpegls",),
    "1.2.840.10008.1.2.4.90": ("pylibjpeg", "pillow"),
    "1.2.840.10008.1.2.4.91": ("pylibjpeg", "pillow"),
    "1.2.840.10008.1.2.4.201": ("pylibjpeg",),
    "1.2.840.10008.1.2.4.202": ("pylibjpeg",),
    "1.2.840.10008.1.2.4.203": ("pylibjpeg",),
    "1.2.840.10008.1.2.5": ("pylibjpeg", "pydicom"),
}
#: JPEG Extended, Lossless and Lossless SV1, which imagecodecs' libjpeg-turbo 3 reads at any
#: precision (pydicom's Pillow plugin is 8-bit only; its libjpeg plugin is GPL).
_IMAGECODECS_JPEG = frozenset(
    {"1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"}
)


class FrameDecodeError(Exception):
    """A frame's bytes could not be decoded; the message says why, for the clinician."""


@dataclass(frozen=True, slots=True, eq=False)
class Presentation:
    """How stored pixel values become displayed 8-bit values (Modality and VOI LUT, palette)."""

    photometric: str
    bits_stored: int
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    window_center: float | None = None
    window_width: float | None = None
    #: PALETTE COLOR: an (entries, 3) uint8 table and the stored value of its first entry.
    palette: np.ndarray | None = None
    palette_first: int = 0

    @classmethod
    def from_dataset(cls, ds: Dataset, layout: PixelLayout) -> Presentation:
        palette, first = (None, 0)
        if layout.photometric == "PALETTE COLOR":
            palette, first = palette_table(ds)
        return cls(
            photometric=layout.photometric,
            bits_stored=layout.bits_stored,
            rescale_slope=_first_float(ds, "RescaleSlope") or 1.0,
            rescale_intercept=_first_float(ds, "RescaleIntercept") or 0.0,
            window_center=_first_float(ds, "WindowCenter"),
            window_width=_first_float(ds, "WindowWidth"),
            palette=palette,
            palette_first=first,
        )


def decode_frame(layout: PixelLayout, data: bytes) -> tuple[np.ndarray, str]:
    """Decode one frame's bytes; returns the array and its photometric interpretation.

    Colour comes back as RGB planar configuration 0 (YBR converted); values keep their
    stored depth. Raises FrameDecodeError.
    """
    if layout.is_encapsulated:
        _check_declared_size(layout, data)
    if _fast_jpeg(layout):
        rgb = _decode_with_opencv(layout, data)
        if rgb is not None:
            return rgb, "RGB"
    if layout.is_encapsulated:
        arr, photometric = _decode_compressed(layout, data)
    else:
        arr, props = get_decoder(layout.transfer_syntax).as_array(data, index=0, **_options(layout))
        photometric = str(props.get("photometric_interpretation", layout.photometric))
    if photometric in ("YBR_FULL", "YBR_FULL_422") and arr.ndim == 3:
        arr = convert_color_space(arr, photometric, "RGB")
        photometric = "RGB"
    return arr, photometric


def to_display(arr: np.ndarray, photometric: str, how: Presentation) -> np.ndarray:
    """The frame as uint8 HxW grey or HxWx3 RGB, C-contiguous, ready to show."""
    if photometric == "PALETTE COLOR" and how.palette is not None and arr.ndim == 2:
        out = _apply_palette(arr, how.palette, how.palette_first)
    elif arr.ndim == 3:
        # RGB, and YBR_RCT/ICT whose JPEG 2000 colour transform the decoder already undid.
        out = _colour_to_uint8(arr, how.bits_stored)
    else:
        out = _grey_to_uint8(arr, how)
        if photometric == "MONOCHROME1":
            np.subtract(255, out, out=out)  # MONOCHROME1 shows low values bright
    return np.ascontiguousarray(out, dtype=np.uint8)


def palette_table(ds: Dataset) -> tuple[np.ndarray, int]:
    """The Palette Color LUT as an (entries, 3) uint8 table, and the first value it maps.

    16-bit entries are reduced to their high byte; tables that declare 16 bits but hold only
    8-bit values (common in ultrasound) are used as they are.
    """
    entries, first, bits = (int(v) for v in ds.RedPaletteColorLookupTableDescriptor)
    entries = entries or 1 << 16
    if bits not in (8, 16):
        raise ValueError(f"palette entries of {bits} bits")
    if "RedPaletteColorLookupTableData" in ds:
        little = ds.original_encoding[1] is not False
        channels = []
        for colour in ("Red", "Green", "Blue"):
            raw = ds[f"{colour}PaletteColorLookupTableData"].value
            per_entry = 2 if len(raw) >= 2 * entries else 1
            dtype = np.dtype(f"{'<' if little else '>'}u{per_entry}")
            values = np.frombuffer(raw, dtype=dtype, count=entries)
            channels.append(values)
        table = np.stack(channels, axis=-1)
    else:
        # Segmented palettes: pydicom expands them.
        table = apply_color_lut(np.arange(first, first + entries), ds)[..., :3]
    if table.max(initial=0) > 255:
        table = table >> 8
    return np.ascontiguousarray(table, dtype=np.uint8), first


# -- decoding -------------------------------------------------------------------------------
def _check_declared_size(layout: PixelLayout, data: bytes) -> None:
    """Refuse a codestream whose own header declares another size than the DICOM header:
    decoders allocate what the codestream says, and the file's size was checked, not it."""
    declared = frame_size(data, layout.transfer_syntax)
    if declared is not None and declared != (layout.columns, layout.rows):
        raise FrameDecodeError(
            f"the compressed frame declares {declared[0]} x {declared[1]} pixels, the header "
            f"{layout.columns} x {layout.rows}"
        )


def _fast_jpeg(layout: PixelLayout) -> bool:
    """8-bit colour JPEG Baseline: libjpeg-turbo via OpenCV, ten times faster than pydicom."""
    return (
        layout.transfer_syntax == JPEGBaseline8Bit
        and layout.samples_per_pixel == 3
        and layout.bits_allocated == 8
        and layout.photometric in ("YBR_FULL_422", "YBR_FULL")
    )


def _decode_with_opencv(layout: PixelLayout, data: bytes) -> np.ndarray | None:
    """RGB frame, or None to let pydicom try (and explain) when OpenCV cannot decode it."""
    try:
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), _CV2_FLAGS)
    except cv2.error:
        return None
    if decoded is None or decoded.shape != (layout.rows, layout.columns, 3):
        return None
    return decoded if _CV2_RGB is not None else cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)


def _decode_compressed(layout: PixelLayout, data: bytes) -> tuple[np.ndarray, str]:
    """Try the safe decoders in turn; GDCM only when no other decoder is installed at all."""
    syntax = layout.transfer_syntax
    decoder = get_decoder(syntax)
    source = encapsulate([data])
    tried: list[str] = []
    for plugin in _PLUGINS.get(syntax, ()):
        if plugin not in decoder.available_plugins:
            continue
        try:
            arr, props = decoder.as_array(
                source, index=0, decoding_plugin=plugin, **_options(layout)
            )
            return arr, str(props.get("photometric_interpretation", layout.photometric))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # anything, even a Rust PanicException
            tried.append(f"{plugin}: {_decoder_message(exc)}")
    if syntax in _IMAGECODECS_JPEG and _imagecodecs() is not None:
        try:
            return _decode_jpeg_with_imagecodecs(layout, data), layout.photometric
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            tried.append(f"libjpeg-turbo: {_decoder_message(exc)}")
    if tried:
        raise FrameDecodeError("; ".join(tried))
    try:  # the last resort: whatever pydicom has (GDCM for JPEG Lossless without imagecodecs)
        arr, props = decoder.as_array(source, index=0, **_options(layout))
    except Exception as exc:
        raise FrameDecodeError(_decoder_message(exc)) from None
    return arr, str(props.get("photometric_interpretation", layout.photometric))


def _imagecodecs() -> Any:
    try:
        import imagecodecs
    except ImportError:
        return None
    return imagecodecs


def _decode_jpeg_with_imagecodecs(layout: PixelLayout, data: bytes) -> np.ndarray:
    """A JPEG frame at any precision, lossy or lossless, through libjpeg-turbo 3."""
    arr = np.asarray(_imagecodecs().jpeg8_decode(data))
    shape = (layout.rows, layout.columns) + ((3,) if layout.samples_per_pixel == 3 else ())
    if arr.shape != shape:
        raise FrameDecodeError(f"decoded size {arr.shape} is not {shape}")
    if layout.pixel_representation == 1 and arr.dtype.itemsize == 2:
        # JPEG has no sign: the stored bits are two's complement of Bits Stored width.
        shift = 16 - layout.bits_stored
        arr = (arr.astype(np.uint16) << shift).view(np.int16) >> shift
    elif layout.pixel_representation == 1:
        shift = 8 - layout.bits_stored
        arr = (arr.astype(np.uint8) << shift).view(np.int8) >> shift
    return arr


def _options(layout: PixelLayout) -> dict[str, Any]:
    return {
        "rows": layout.rows,
        "columns": layout.columns,
        "samples_per_pixel": layout.samples_per_pixel,
        "bits_allocated": layout.bits_allocated,
        "bits_stored": layout.bits_stored,
        "pixel_representation": layout.pixel_representation,
        "photometric_interpretation": layout.photometric,
        "planar_configuration": layout.planar_configuration,
        "number_of_frames": 1,
        "pixel_keyword": "PixelData",
        # Pair swapping of big endian OW bytes is already undone by NativeFrames.
        "pixel_vr": "OB" if layout.bits_allocated == 8 else "OW",
    }


def _decoder_message(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and lines[0].startswith("Unable to decode as exceptions were raised"):
        lines = lines[1:]  # keep the plugins' own reasons
    reason = "; ".join(lines[:2]) or type(exc).__name__
    return reason if len(reason) < 300 else reason[:297] + "..."


# -- display --------------------------------------------------------------------------------
def _apply_palette(arr: np.ndarray, table: np.ndarray, first: int) -> np.ndarray:
    if arr.dtype == np.uint8 and first == 0 and len(table) >= 256:
        return table[arr]
    index = arr.astype(np.int64) - first
    np.clip(index, 0, len(table) - 1, out=index)
    return table[index]


def _colour_to_uint8(arr: np.ndarray, bits_stored: int) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    shift = max(0, min(bits_stored, arr.dtype.itemsize * 8) - 8)
    return (np.clip(arr, 0, None) >> shift).astype(np.uint8) if shift else arr.astype(np.uint8)


def _grey_to_uint8(arr: np.ndarray, how: Presentation) -> np.ndarray:
    """8-bit unsigned grey as it is; deeper or signed grey through Rescale and the window."""
    if arr.dtype == np.uint8:
        if 1 <= how.bits_stored < 8:
            # Bit-packed (segmentation) and other shallow grey: stretch to full range.
            return (
                np.minimum(arr, (1 << how.bits_stored) - 1) * (255 // ((1 << how.bits_stored) - 1))
            ).astype(np.uint8)
        return arr
    values = arr.astype(np.float32)
    if how.rescale_slope != 1.0 or how.rescale_intercept != 0.0:
        values = values * np.float32(how.rescale_slope) + np.float32(how.rescale_intercept)
    if how.window_center is not None and how.window_width is not None and how.window_width > 1:
        # PS3.3 C.11.2.1.2.1, the linear VOI function.
        c, w = how.window_center - 0.5, how.window_width - 1.0
        scaled = ((values - np.float32(c)) / np.float32(w) + np.float32(0.5)) * np.float32(255)
    else:
        lo, hi = float(values.min()), float(values.max())
        if hi <= lo:
            return np.zeros(arr.shape, np.uint8)
        scaled = (values - np.float32(lo)) * np.float32(255.0 / (hi - lo))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _first_float(ds: Dataset, keyword: str) -> float | None:
    try:
        value = ds.get(keyword)
        if value is None or value == "":
            return None
        if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
            value = value[0]
        number = float(value)
    except (TypeError, ValueError, IndexError, struct.error):
        return None
    return number if np.isfinite(number) else None
