"""PNG and JPEG exports of annotated key frames: the plan burned in where it lies and nowhere
else, the banner and legend beside the frame, a scale bar of true millimetres, a faint
watermark, private files, and a masked banner for teaching."""

from __future__ import annotations

import stat
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtGui import QTransform

from prolo_planner.core.calibration import Calibration
from prolo_planner.core.overlay_primitives import Label
from prolo_planner.core.plan import Target
from prolo_planner.render import overlay_device_bounds, render_annotated_frame
from prolo_planner.report.header import ReportHeader
from prolo_planner.report.images import (
    WATERMARK,
    ImageFormat,
    ImageOptions,
    compose,
    key_image,
    legend_items,
    reference_region,
    scale_bar_mm,
    write_image,
)
from prolo_planner.report.plan_images import PlanImages
from tests.core.export_support import plan_on_samples

BARE = ImageOptions(banner=False, scale_bar=False, legend=False, watermark=False)


@pytest.fixture(scope="module")
def samples():
    s = plan_on_samples()
    images = PlanImages.open(s.plan)
    yield s, images
    images.close()


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a.astype(int) != b.astype(int), axis=-1)


def test_key_frames_are_the_annotated_frames(samples) -> None:
    s, images = samples
    keys = images.key_images()
    assert [(k.image.id, k.frame) for k in keys] == [
        (s.plan.images[0].id, 0),
        (s.plan.images[1].id, 7),  # the cine's annotations lie on frame 7
    ]
    assert keys[1].caption == "hip_anterior_cine_ybr422_jpeg.dcm, frame 8 of 50"


def test_the_plan_changes_pixels_where_it_lies_and_nowhere_else(samples) -> None:
    _, images = samples
    key = images.key_images()[0]
    source = images.frame(key)
    primitives = images.primitives(key)
    out = key_image(images, key, options=BARE)
    assert out.image_box == (0, 0, source.shape[1], source.shape[0])
    np.testing.assert_array_equal(out.pixels, render_annotated_frame(source, primitives))
    diff = changed(out.pixels, source)
    allowed = np.zeros(diff.shape, bool)
    for p in primitives:
        r = overlay_device_bounds([p], QTransform()).toAlignedRect()
        box = np.s_[max(r.top(), 0) : r.bottom() + 1, max(r.left(), 0) : r.right() + 1]
        assert diff[box].any(), f"{type(p).__name__} of {p.annotation_id} drew nothing"
        allowed[box] = True
    assert not (diff & ~allowed).any()
    # Each target's marker changed the pixels at its centre; far corners are the source's.
    for t in images.shown(key):
        if isinstance(t, Target) and t.position is not None:
            x, y = round(t.position.x), round(t.position.y)
            assert diff[y - 8 : y + 9, x - 8 : x + 9].sum() > 20
    np.testing.assert_array_equal(out.pixels[440:480, 0:60], source[440:480, 0:60])


def test_banner_and_legend_lie_beside_the_frame_not_over_it(samples) -> None:
    s, images = samples
    key = images.key_images()[0]
    header = ReportHeader.from_dataset(images.dataset(key.image.id), s.plan.title)
    plain = key_image(images, key, options=BARE).pixels
    out = key_image(
        images, key, header=header, options=ImageOptions(scale_bar=False, watermark=False)
    )
    x, y, w, h = out.image_box
    assert y > 0 and out.pixels.shape[0] > y + h  # a strip above and one below
    np.testing.assert_array_equal(out.pixels[y : y + h, x : x + w], plain)
    banner, legend = out.pixels[:y], out.pixels[y + h :]
    assert banner.std() > 10 and legend.std() > 10  # text in both strips
    drawn = images.primitives(key)
    items = legend_items(images, key, drawn)
    texts = [i.text for i in items]
    # The two placed targets of the still by site number, then its two zones, its caliper,
    # angle and note by letter (the keys their labels carry on the image); the unplaced
    # target is not drawn.
    assert [i.key for i in items] == ["1", "2", "A", "B", "C", "D", "E"]
    labels = {p.annotation_id: p for p in drawn if isinstance(p, Label)}
    first = s.plan.targets()[0]
    assert labels[first.id].key == "1" and items[0].colour == labels[first.id].colour
    assert texts[0].startswith("L4-L5 supraspinous ligament: ")
    depth = s.measurements.target_depths[first.id]
    assert f"{depth.value:.1f} mm deep" in texts[0]
    assert texts[1].startswith("L3 spinous tip") and texts[1].endswith("(injected)")
    assert [t.split(",")[0] for t in texts[2:4]] == [
        "Avoid: spinal canal (spinal canal or dura)",
        "Avoid: segmental artery (artery)",
    ]
    caliper = next(a for a in s.plan.annotations if type(a).__name__ == "Caliper")
    measured = s.measurements.calipers[caliper.id]
    assert texts[4] == f"Caliper {caliper.label}: {measured.value:.1f} mm"
    assert texts[5].startswith("Angle ") and texts[5].endswith("°")
    assert texts[6].startswith("Note: ")
    # A legend row is about as tall as the text: the strip grows with the items.
    assert legend.shape[0] > 4 * 15


def test_the_scale_bar_is_as_long_as_its_millimetres(samples) -> None:
    _, images = samples
    key = images.key_images()[0]
    calibration = images.calibrations[key.image.id]
    frame = images.frame(key)
    rows, columns = frame.shape[:2]
    region = reference_region(calibration, columns, rows)
    assert region is not None
    bar_mm = scale_bar_mm(region, (region.x1 - region.x0) / 4)
    options = ImageOptions(banner=False, legend=False, watermark=False)
    with_bar = compose(frame, (), calibration=calibration, options=options)
    diff = changed(with_bar.pixels, frame)
    assert diff[: region.y0].sum() == 0  # the bar sits inside the calibrated region
    # The bar's row: the longest run of changed, near-white pixels in the bottom quarter.
    white = np.all(with_bar.pixels >= 230, axis=-1) & diff
    runs = [(white[y].sum(), y) for y in range(rows * 3 // 4, rows)]
    length_px, _ = max(runs)
    expected = bar_mm / region.mm_per_px_x
    assert abs(length_px - expected) <= 3, (length_px, expected)


def test_an_uncalibrated_image_gets_no_bar_and_says_so() -> None:
    frame = np.full((240, 320, 3), 90, np.uint8)
    options = ImageOptions(banner=False, watermark=False)
    out = compose(frame, (), calibration=Calibration.none(), options=options)
    assert out.notes == ("no scale bar: the image is not calibrated",)
    np.testing.assert_array_equal(out.pixels[:240], frame)  # nothing drawn on the frame


def test_the_watermark_is_faint_and_across_the_frame() -> None:
    frame = np.full((480, 640, 3), 60, np.uint8)
    options = ImageOptions(banner=False, legend=False, scale_bar=False)
    out = compose(frame, (), calibration=Calibration.none(), options=options)
    diff = np.abs(out.pixels.astype(int) - frame).max(axis=-1)
    assert out.pixels.shape == frame.shape  # no strips without banner or legend
    assert diff[200:280, 250:390].any()  # across the middle
    assert diff.max() < 100  # faint: the image stays readable under it
    assert WATERMARK == "Planning image, not for diagnosis"


def test_png_is_lossless_and_private_jpeg_close(samples, tmp_path: Path) -> None:
    _, images = samples
    pixels = key_image(images, images.key_images()[1]).pixels
    png = write_image(tmp_path / "key.png", pixels, ImageFormat.PNG)
    jpeg = write_image(tmp_path / "key.jpg", pixels, ImageFormat.JPEG, quality=95)
    for path in (png, jpeg):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    np.testing.assert_array_equal(cv2.imread(str(png))[..., ::-1], pixels)
    decoded = cv2.imread(str(jpeg))[..., ::-1].astype(int)
    assert decoded.shape == pixels.shape
    assert np.abs(decoded - pixels).mean() < 3.0
    assert jpeg.read_bytes()[:3] == b"\xff\xd8\xff"


def test_a_masked_frame_hides_the_scanners_banner_only(samples) -> None:
    _, images = samples
    key = images.key_images()[0]
    (banner,) = images.banner(key.image)
    plain, masked = images.frame(key), images.frame(key, masked=True)
    assert banner.y0 == 0 and banner.y1 > 20 and plain[: banner.y1].any()
    assert not masked[: banner.y1].any()
    np.testing.assert_array_equal(masked[banner.y1 :], plain[banner.y1 :])


def test_a_scale_of_two_doubles_the_pixels(samples) -> None:
    _, images = samples
    key = images.key_images()[0]
    out = key_image(images, key, options=ImageOptions(scale=2.0, watermark=False))
    _, _, w, h = out.image_box
    assert (w, h) == (2 * 640, 2 * 480)
