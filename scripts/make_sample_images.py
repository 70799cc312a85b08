"""Regenerate the bundled sample images: `python scripts/make_sample_images.py OUTDIR`.

Every file comes from tests.synthetic.scanner with a fixed seed, so running this again
gives the same images (with the same numpy and OpenCV). Patients are fictitious (PHANTOM^...).
MANIFEST.json beside the files records their hashes and the generator's, which is how the test
suite knows the bundled files are current.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo: tests.synthetic

from tests.synthetic import manifest  # noqa: E402
from tests.synthetic.files import write_mp4, write_png, write_ultrasound_dicom  # noqa: E402
from tests.synthetic.scanner import (  # noqa: E402
    Exam,
    PixelEncoding,
    SyntheticScanner,
    cervical_exam,
    hip_exam,
    lumbar_dual_view_exam,
    lumbar_exam,
)

CINE_FRAMES = 50
CLIP_FRAMES = 50


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    what: str
    exam: Callable[[], Exam]
    write: Callable[[Path, SyntheticScanner], object]


def _dicom(encoding: PixelEncoding, frames: int = 1) -> Callable[[Path, SyntheticScanner], Path]:
    return lambda path, scanner: write_ultrasound_dicom(
        path, scanner, encoding, frames, jpeg_quality=85
    )


SAMPLES = (
    Sample(
        "lumbar_long_axis_rgb.dcm",
        "Lumbar spine, midline long axis (spinous processes, supraspinous and interspinous "
        "ligaments). Ultrasound Image Storage, single frame, RGB uncompressed, explicit VR "
        "little endian; one 2D region.",
        lumbar_exam,
        _dicom(PixelEncoding.RGB),
    ),
    Sample(
        "hip_anterior_cine_ybr422_jpeg.dcm",
        f"Right hip, anterior oblique along the femoral neck (femoral head and neck, "
        f"iliofemoral ligament and capsule, pulsating femoral artery and vein). Ultrasound "
        f"Multi-frame Image Storage, {CINE_FRAMES} frames at 25 fps, YBR_FULL_422 in JPEG "
        f"Baseline; one 2D region.",
        hip_exam,
        _dicom(PixelEncoding.YBR_FULL_422_JPEG, CINE_FRAMES),
    ),
    Sample(
        "cervical_pillars_mono2.dcm",
        "Left cervical spine C5-C6, articular pillars and facet capsules, vertebral artery "
        "and vein (linear probe). Ultrasound Image Storage, single frame, MONOCHROME2 "
        "uncompressed; one 2D region.",
        cervical_exam,
        _dicom(PixelEncoding.MONOCHROME2),
    ),
    Sample(
        "lumbar_dual_view_ybr422_jpeg.dcm",
        "Lumbar spine dual view: long axis (6 cm deep) beside transverse (5 cm deep). "
        "Ultrasound Image Storage, single frame, YBR_FULL_422 in JPEG Baseline; two 2D "
        "regions of different spacing, so no distance in mm may span both.",
        lumbar_dual_view_exam,
        _dicom(PixelEncoding.YBR_FULL_422_JPEG),
    ),
    Sample(
        "lumbar_long_axis_clip.mp4",
        f"Lumbar spine long-axis clip as a scanner's video export: {CLIP_FRAMES} frames at "
        f"25 fps, MPEG-4 Part 2 (mp4v). No calibration: calibrate on the depth scale.",
        lambda: lumbar_exam(seed=11),
        lambda path, scanner: write_mp4(path, scanner.frames(CLIP_FRAMES), 25.0),
    ),
    Sample(
        "hip_anterior_frame_grab.png",
        "Right hip frame grab (PNG, RGB). No calibration: click two ticks of the depth "
        "scale (1 cm apart) to calibrate.",
        lambda: hip_exam(seed=12),
        lambda path, scanner: write_png(path, scanner.frame(0)),
    ),
)


def readme() -> str:
    lines = [
        "# Sample images",
        "",
        "Synthetic B-mode ultrasound made by `scripts/make_sample_images.py` (run "
        "`make samples` to regenerate; the seed is fixed, so the images stay the same). "
        "`MANIFEST.json` records each file's hash and the generator's. The "
        "patients are fictitious; every DICOM file carries a Sequence of Ultrasound Regions "
        "that matches its burned-in depth scale.",
        "",
        "| file | what it is |",
        "| --- | --- |",
    ]
    lines += [f"| `{s.name}` | {s.what} |" for s in SAMPLES]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args(argv)
    out: Path = args.outdir
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    for sample in SAMPLES:
        path = out / sample.name
        sample.write(path, SyntheticScanner(sample.exam()))
        size = path.stat().st_size
        total += size
        print(f"{size / 1e6:7.2f} MB  {path}")
    (out / "README.md").write_text(readme(), encoding="utf-8")
    print(f"           {manifest.write(out, [s.name for s in SAMPLES])}")
    print(f"{total / 1e6:7.2f} MB  in total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
