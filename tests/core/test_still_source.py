"""StillSource on real PNG, JPEG, BMP and TIFF files written here: exact pixels where lossless."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.open import open_image
from prolo_planner.imaging.source import SourceKind
from prolo_planner.imaging.still import StillSource
from tests.conftest import pydicom_file

RNG = np.random.default_rng(20240611)
RGB = RNG.integers(0, 256, (37, 53, 3), dtype=np.uint8)  # odd sizes catch stride mistakes
GREY = RNG.integers(0, 256, (37, 53), dtype=np.uint8)
ALPHA = RNG.integers(0, 256, (37, 53), dtype=np.uint8)
GREY16 = RNG.integers(0, 65536, (37, 53), dtype=np.uint16)


def to_8bit(values: np.ndarray) -> np.ndarray:
    """The documented 16 to 8 bit rule: round(value / 257)."""
    return np.rint(values.astype(np.float64) / 257).astype(np.uint8)


def on_black(colour: np.ndarray, alpha: np.ndarray, full: float = 255.0) -> np.ndarray:
    weight = alpha.astype(np.float64) / full
    if colour.ndim == 3:
        weight = weight[:, :, None]
    return np.rint(colour.astype(np.float64) * weight)


def save(path: Path, image: Image.Image, **options) -> Path:
    image.save(path, **options)
    return path


def opened(path: Path) -> np.ndarray:
    source = StillSource.open(path)
    frame = source.frame(0)
    assert frame.dtype == np.uint8 and frame.flags.c_contiguous
    return frame


# -- lossless formats: exact pixels -------------------------------------------------------------
def test_png_rgb(tmp_path):
    np.testing.assert_array_equal(opened(save(tmp_path / "a.png", Image.fromarray(RGB))), RGB)


def test_png_grey_is_two_dimensional(tmp_path):
    frame = opened(save(tmp_path / "g.png", Image.fromarray(GREY)))
    assert frame.shape == GREY.shape
    np.testing.assert_array_equal(frame, GREY)


def test_png_rgba_is_composited_on_black(tmp_path):
    image = Image.fromarray(np.dstack([RGB, ALPHA]), "RGBA")
    frame = opened(save(tmp_path / "rgba.png", image))
    assert frame.shape == RGB.shape
    np.testing.assert_array_equal(frame, on_black(RGB, ALPHA))


def test_png_grey_with_alpha_stays_grey(tmp_path):
    image = Image.merge("LA", [Image.fromarray(GREY), Image.fromarray(ALPHA)])
    frame = opened(save(tmp_path / "la.png", image))
    assert frame.shape == GREY.shape
    np.testing.assert_array_equal(frame, on_black(GREY, ALPHA))


def test_png_palette_is_expanded(tmp_path):
    image = Image.fromarray(RGB).quantize(24)
    expected = np.asarray(image.convert("RGB"))
    np.testing.assert_array_equal(opened(save(tmp_path / "p.png", image)), expected)


def test_png_palette_with_a_transparent_entry(tmp_path):
    image = Image.fromarray(RGB).quantize(24)
    index = np.asarray(image)
    colours = np.asarray(image.convert("RGB"))
    expected = np.where((index == 5)[:, :, None], 0, colours)
    frame = opened(save(tmp_path / "pt.png", image, transparency=5))
    np.testing.assert_array_equal(frame, expected)


def test_png_16_bit_grey_scales_by_257(tmp_path):
    path = tmp_path / "g16.png"
    assert cv2.imwrite(str(path), GREY16)
    source = StillSource.open(path)
    np.testing.assert_array_equal(source.frame(0), to_8bit(GREY16))
    assert source.info.bits_stored == 16
    # 8-bit values stored as 16-bit (v * 257) come back unchanged.
    assert cv2.imwrite(str(path), GREY.astype(np.uint16) * 257)
    np.testing.assert_array_equal(opened(path), GREY)


def test_png_16_bit_rgb_and_rgba(tmp_path):
    rgb16 = RGB.astype(np.uint16) * 257 + RNG.integers(0, 257, RGB.shape).astype(np.uint16)
    path = tmp_path / "c16.png"
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR))
    np.testing.assert_array_equal(opened(path), to_8bit(rgb16))

    alpha16 = ALPHA.astype(np.uint16) * 257
    bgra = np.dstack([cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR), alpha16])
    path = tmp_path / "c16a.png"
    assert cv2.imwrite(str(path), bgra)
    expected = to_8bit(on_black(rgb16, alpha16, 65535.0))
    np.testing.assert_array_equal(opened(path), expected)


def test_png_one_bit(tmp_path):
    mask = GREY > 128
    frame = opened(save(tmp_path / "bits.png", Image.fromarray(mask)))
    np.testing.assert_array_equal(frame, np.where(mask, 255, 0).astype(np.uint8))
    assert StillSource.open(tmp_path / "bits.png").info.bits_stored == 1


@pytest.mark.parametrize("mode", ["RGB", "L", "P"])
def test_bmp(tmp_path, mode):
    image = {"RGB": Image.fromarray(RGB), "L": Image.fromarray(GREY)}.get(
        mode, Image.fromarray(RGB).quantize(16)
    )
    expected = np.asarray(image.convert("RGB") if mode == "P" else image)
    np.testing.assert_array_equal(opened(save(tmp_path / f"{mode}.bmp", image)), expected)


def test_bmp_32_bit_with_an_unused_alpha_byte(tmp_path):
    path = tmp_path / "x.bmp"
    assert cv2.imwrite(str(path), np.dstack([RGB[:, :, ::-1], np.zeros(GREY.shape, np.uint8)]))
    np.testing.assert_array_equal(opened(path), RGB)


@pytest.mark.parametrize("compression", [None, "tiff_lzw", "tiff_adobe_deflate", "packbits"])
def test_tiff_rgb_and_grey(tmp_path, compression):
    options = {"compression": compression} if compression else {}
    rgb = save(tmp_path / "c.tif", Image.fromarray(RGB), **options)
    np.testing.assert_array_equal(opened(rgb), RGB)
    grey = save(tmp_path / "g.tiff", Image.fromarray(GREY), **options)
    np.testing.assert_array_equal(opened(grey), GREY)


def test_tiff_16_bit_palette_cmyk_and_alpha(tmp_path):
    np.testing.assert_array_equal(
        opened(save(tmp_path / "g16.tif", Image.fromarray(GREY16))), to_8bit(GREY16)
    )
    palette = Image.fromarray(RGB).quantize(16)
    np.testing.assert_array_equal(
        opened(save(tmp_path / "p.tif", palette)), np.asarray(palette.convert("RGB"))
    )
    cmyk = Image.fromarray(RGB).convert("CMYK")
    np.testing.assert_array_equal(
        opened(save(tmp_path / "cmyk.tif", cmyk)), np.asarray(cmyk.convert("RGB"))
    )
    grey_alpha = Image.merge("LA", [Image.fromarray(GREY), Image.fromarray(ALPHA)])
    frame = opened(save(tmp_path / "la.tif", grey_alpha))
    np.testing.assert_array_equal(frame, on_black(GREY, ALPHA))


def test_tiff_floating_point_is_stretched(tmp_path):
    values = GREY.astype(np.float32) * 0.01 - 0.5
    frame = opened(save(tmp_path / "f.tif", Image.fromarray(values)))
    low, high = float(values.min()), float(values.max())
    expected = np.rint((values.astype(np.float64) - low) * 255.0 / (high - low))
    np.testing.assert_array_equal(frame, expected.astype(np.uint8))


def test_tiff_first_page_of_several(tmp_path):
    path = tmp_path / "pages.tif"
    Image.fromarray(RGB).save(path, save_all=True, append_images=[Image.fromarray(RGB[::-1])])
    source = StillSource.open(path)
    np.testing.assert_array_equal(source.frame(0), RGB)
    assert dict(source.info.extra)["Pages"].startswith("2")


# -- JPEG: lossy, compared with the pattern and with Pillow's decode ------------------------------
def test_jpeg_colour_and_grey(tmp_path):
    smooth = np.zeros((48, 64, 3), np.uint8)
    smooth[:, :32] = (200, 30, 30)
    smooth[:, 32:] = (20, 60, 210)
    path = save(tmp_path / "c.jpg", Image.fromarray(smooth), quality=95)
    frame = opened(path)
    assert frame.shape == smooth.shape
    assert np.abs(frame.astype(int) - np.asarray(Image.open(path))).max() <= 1
    assert np.abs(frame[8:40, 4:28].astype(int) - (200, 30, 30)).max() <= 8
    assert np.abs(frame[8:40, 36:60].astype(int) - (20, 60, 210)).max() <= 8

    path = save(tmp_path / "g.jpeg", Image.fromarray(GREY), quality=95)
    frame = opened(path)
    assert frame.shape == GREY.shape
    assert np.abs(frame.astype(int) - np.asarray(Image.open(path))).max() <= 1


@pytest.mark.parametrize(("fmt", "suffix"), [("JPEG", "jpg"), ("PNG", "png"), ("TIFF", "tif")])
def test_exif_orientation_is_applied_as_viewers_do(tmp_path, fmt, suffix):
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        options = {"quality": 100, "subsampling": 0} if fmt == "JPEG" else {}
        path = tmp_path / f"o{orientation}.{suffix}"
        Image.fromarray(RGB).save(path, fmt, exif=exif.tobytes(), **options)
        expected = np.asarray(ImageOps.exif_transpose(Image.open(path)))
        frame = opened(path)
        assert frame.shape == expected.shape, f"orientation {orientation}"
        assert np.abs(frame.astype(int) - expected).max() <= 1, f"orientation {orientation}"


# -- the source itself -------------------------------------------------------------------------
def test_info_timing_and_calibration(tmp_path):
    path = save(tmp_path / "grab.png", Image.fromarray(RGB))
    source = StillSource.open(path)
    info = source.info
    assert info.kind is SourceKind.IMAGE
    assert (info.rows, info.columns, info.frame_count, info.samples_per_pixel) == (37, 53, 1, 3)
    assert info.codec == "PNG" and info.bits_stored == 8 and info.path == path
    assert source.frame_count == 1 and source.timing.frame_count == 1
    assert not source.calibration.is_calibrated
    with pytest.raises(IndexError):
        source.frame(1)
    first = source.frame(0)
    first[:] = 0
    np.testing.assert_array_equal(source.frame(0), RGB)
    source.close()


def test_a_name_with_accents(tmp_path):
    path = save(tmp_path / "échographie hanche ü.png", Image.fromarray(RGB))
    np.testing.assert_array_equal(opened(path), RGB)


def test_open_image_dispatches_stills_here(tmp_path):
    source = open_image(save(tmp_path / "g.bmp", Image.fromarray(GREY)))
    assert isinstance(source, StillSource)
    np.testing.assert_array_equal(source.frame(0), GREY)


# -- bad files ---------------------------------------------------------------------------------
def encoded(fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(RGB).save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.png", b"", "empty file"),
        (
            "notes.png",
            b"patient notes, not a picture\n" * 20,
            "not a PNG image: the content is text",
        ),
        ("noise.jpg", bytes(range(256)) * 4, "not a JPEG image"),
        ("cut.png", encoded("PNG")[:900], "truncated or damaged PNG"),
        ("cut.jpg", encoded("JPEG", quality=90)[:700], "truncated or damaged JPEG"),
        ("cut.bmp", encoded("BMP")[:3000], "truncated or damaged BMP"),
        ("cut.tif", encoded("TIFF")[:3000], "truncated or damaged TIFF"),
        ("head.tif", encoded("TIFF", compression="tiff_lzw")[:20], "damaged or truncated TIFF"),
        ("sig.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "damaged or truncated PNG"),
    ],
)
def test_bad_files_say_why(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageLoadError) as caught:
        StillSource.open(path)
    assert caught.value.path == path
    assert reason in caught.value.reason


def test_a_dicom_file_named_png(tmp_path):
    path = tmp_path / "scan.png"
    shutil.copy(pydicom_file("MR_small.dcm"), path)
    with pytest.raises(ImageLoadError, match="is a DICOM file, not a PNG image"):
        StillSource.open(path)


def test_missing_file(tmp_path):
    with pytest.raises(ImageLoadError, match="cannot be read"):
        StillSource.open(tmp_path / "gone.png")
