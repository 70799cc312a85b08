"""Inputs for the fuzz run: real files, mutated as bad luck and attackers mutate them.

Seeds are real scanners' files (pydicom's test data), the bundled samples (a cine, a clip, a
frame grab) and a saved plan. Each mutation is one thing that happens to files: cut short,
bytes flipped (in the header or anywhere), a transfer syntax that lies, VRs garbled, frames
overwritten with garbage, header values pushed to extremes, random bytes under a known name.
The hostile files of issue 15 are added as they are. Deterministic for a seed.
"""

from __future__ import annotations

import io
import json
import random
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pydicom

from tests.conftest import SAMPLE_IMAGES, TEST_DATA
from tests.data.dicom import hostile

#: Real files from pydicom's own test data: every transfer syntax and photometric
#: interpretation ultrasound uses, and the oddities (deflated, big endian, bit-packed).
PYDICOM_SEEDS = (
    "examples_ybr_color.dcm",  # YBR_FULL_422 JPEG Baseline cine, the commonest ultrasound
    "examples_rgb_color.dcm",
    "examples_palette.dcm",
    "SC_rgb_jpeg_dcmtk.dcm",
    "MR_small.dcm",
    "MR_small_RLE.dcm",
    "MR_small_bigendian.dcm",
    "JPEG2000.dcm",
    "JPEGLSNearLossless_16.dcm",
    "JPEG-LL.dcm",
    "image_dfl.dcm",
    "liver_1frame.dcm",
)
SAMPLE_SEEDS = (
    "lumbar_dual_view_ybr422_jpeg.dcm",
    "cervical_pillars_mono2.dcm",
    "lumbar_long_axis_clip.mp4",
    "hip_anterior_frame_grab.png",
)
_SYNTAXES = (
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.5",
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.4.100",
)
_EXTREMES = {
    "Rows": (0, 1, 7, 4097, 65535),
    "Columns": (0, 1, 3, 4097, 65535),
    "NumberOfFrames": (0, 2, 1000, 100_000, 2**31 - 1),
    "BitsAllocated": (0, 1, 12, 32, 64),
    "BitsStored": (0, 1, 17, 64),
    "SamplesPerPixel": (0, 2, 3, 4),
    "PhotometricInterpretation": ("MONOCHROME1", "RGB", "YBR_FULL_422", "PALETTE COLOR", "X"),
    "PlanarConfiguration": (1, 2),
    "PixelRepresentation": (1, 2),
}


@dataclass(frozen=True, slots=True)
class Seed:
    path: Path
    kind: str  # "dicom", "video", "image", "plan"


def seeds() -> list[Seed]:
    from pydicom.data import get_testdata_file

    found: list[Seed] = []
    for name in PYDICOM_SEEDS:
        path = get_testdata_file(name, download=False)
        if path is not None:
            found.append(Seed(Path(str(path)), "dicom"))
    for name in SAMPLE_SEEDS:
        path = SAMPLE_IMAGES / name
        kind = {".dcm": "dicom", ".mp4": "video", ".png": "image"}[path.suffix]
        found.append(Seed(path, kind))
    found.append(Seed(TEST_DATA / "plans" / "plan-1.0.json", "plan"))
    return found


# -- mutations -----------------------------------------------------------------------------------
def truncate(data: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.4:
        return data[: rng.randrange(0, min(len(data), 4096) + 1)]  # inside the header
    return data[: rng.randrange(0, len(data))]


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    span = min(len(out), 4096) if rng.random() < 0.5 else len(out)
    for _ in range(rng.randint(1, 24)):
        if span:
            out[rng.randrange(span)] = rng.randrange(256)
    return bytes(out)


def garbage_block(data: bytes, rng: random.Random) -> bytes:
    """A run of random bytes over part of the pixel data (a garbled frame)."""
    if len(data) < 2048:
        return flip_bytes(data, rng)
    start = rng.randrange(len(data) // 4, len(data))
    length = rng.randint(16, 8192)
    block = rng.randbytes(length)
    return (data[:start] + block + data[start + length :])[: len(data)]


def wrong_syntax(data: bytes, rng: random.Random) -> bytes:
    """The file meta's Transfer Syntax UID replaced by another, the dataset left as it was."""
    head = data[:1024]
    for old in sorted(_SYNTAXES, key=len, reverse=True):
        at = head.find(old.encode())
        if at < 0:
            continue
        new = rng.choice([s for s in _SYNTAXES if s != old])
        # Same length on disk (UIDs are padded with NUL to even length): keep the group valid.
        width = len(old) + (len(old) % 2)
        encoded = new.encode()[:width].ljust(width, b"\0")
        return data[:at] + encoded + data[at + width :]
    return flip_bytes(data, rng)


def garble_vrs(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    head = bytes(out[: min(len(out), 8192)])
    places = [
        i for vr in (b"UI", b"US", b"IS", b"DS", b"SQ", b"OB", b"OW", b"CS") for i in _all(head, vr)
    ]
    for at in rng.sample(places, min(len(places), rng.randint(1, 4))):
        out[at : at + 2] = rng.choice([b"XX", b"OB", b"SQ", b"UN", b"\0\0", b"UT"])
    return bytes(out)


def _all(data: bytes, needle: bytes) -> list[int]:
    found, at = [], data.find(needle)
    while at >= 0:
        found.append(at)
        at = data.find(needle, at + 1)
    return found


def extreme_value(path: Path, rng: random.Random) -> bytes | None:
    """One Image Pixel attribute set to an extreme, through pydicom (pixels left as stored)."""
    try:
        ds = pydicom.dcmread(path, force=True)
        keyword = rng.choice(list(_EXTREMES))
        setattr(ds, keyword, rng.choice(_EXTREMES[keyword]))
        out = io.BytesIO()
        ds.save_as(out)
        return out.getvalue()
    except Exception:  # a value pydicom will not write is no input at all
        return None


def random_bytes(data: bytes, rng: random.Random) -> bytes:
    size = rng.choice([1, 7, 131, 132, 1000, 60_000])
    noise = rng.randbytes(size)
    return (b"\0" * 128 + b"DICM" + noise) if rng.random() < 0.3 else noise


def plan_mutation(data: bytes, rng: random.Random) -> bytes:
    """A plan document with a hostile value at a random place: valid JSON, no valid plan."""
    doc = json.loads(data)
    values: list[object] = [
        ["target"],
        10**400,
        float("nan"),
        float("inf"),
        None,
        {"deep": [[[[1]]]]},
        -1,
        "x" * 3,
    ]
    places: list[tuple[object, object]] = []
    stack: list[object] = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            items: Iterable[tuple[object, object]] = node.items()
        else:
            items = enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            places.append((node, key))
            stack.append(value)
    for _ in range(rng.randint(1, 3)):
        node, key = rng.choice(places)
        node[key] = rng.choice(values)  # type: ignore[index]
    text = json.dumps(doc, allow_nan=True)
    if rng.random() < 0.2 and text.endswith("}"):
        depth = rng.choice([70, 5000])  # deeper than json.dumps itself can write
        text = text[:-1] + ', "nested": ' + "[" * depth + "1" + "]" * depth + "}"
    return text.encode()


Mutation = Callable[[bytes, random.Random], bytes]
BYTE_MUTATIONS: dict[str, Mutation] = {
    "cut": truncate,
    "flip": flip_bytes,
    "garbage": garbage_block,
    "syntax": wrong_syntax,
    "vr": garble_vrs,
    "random": random_bytes,
}


# -- the corpus ----------------------------------------------------------------------------------
def hostile_cases(folder: Path) -> list[Path]:
    """Every file-borne case of issue 15, at full size."""
    folder.mkdir(parents=True, exist_ok=True)
    made = [
        hostile.deflate_bomb(folder / "issue-deflate-bomb.dcm", inflated_mb=3200),
        hostile.jpeg_declaring(folder / "issue-jpeg-20000.dcm"),
        hostile.jpeg_declaring(folder / "issue-jpeg-liar.dcm", dicom_too=False),
        hostile.rle_declaring(folder / "issue-rle-65535.dcm"),
        hostile.png_bomb(folder / "issue-png-20000.png"),
        hostile.lying_frame_count(folder / "issue-frames-100000.dcm"),
        hostile.lying_frame_count(folder / "issue-frames-60.dcm", 50, 60),
        hostile.lying_frame_count(folder / "issue-frames-raw.dcm", 50, 100_000, encapsulated=False),
        hostile.truncated_cine(folder / "issue-truncated-cine.dcm"),
        hostile.implausible_spacing(folder / "issue-spacing-1e300.dcm"),
        hostile.png_with_bad_crc(folder / "issue-libpng-chatter.png"),
        hostile.jpeg_with_extraneous_bytes(folder / "issue-libjpeg-chatter.jpg"),
        hostile.explicit_meta_implicit_data(folder / "issue-pydicom-warning.dcm"),
    ]
    plan = json.loads((TEST_DATA / "plans" / "plan-1.0.json").read_text())
    for name, change in (
        ("type-list", lambda d: d["plan"]["annotations"][0].update(type=["target"])),
        ("400-digits", lambda d: d["plan"]["annotations"][0].update(frame=10**400)),
        ("nan-unknown-key", lambda d: d["plan"].update(mystery=float("nan"))),
    ):
        doc = json.loads(json.dumps(plan))
        change(doc)
        path = folder / f"issue-plan-{name}.json"
        path.write_text(json.dumps(doc, allow_nan=True))
        made.append(path)
    deep = folder / "issue-plan-deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    digits = folder / "issue-plan-5000-digits.json"
    digits.write_text('{"format": "prolo-planner/plan", "n": ' + "9" * 5000 + "}")
    return [*made, deep, digits]


def build(folder: Path, count: int, seed: int = 15) -> list[Path]:
    """`count` mutated inputs (plus the seeds themselves and the issue's hostile files)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    sources = seeds()
    made: list[Path] = []
    for n, s in enumerate(sources):
        copy = folder / f"seed-{n:02d}{s.path.suffix}"
        shutil.copyfile(s.path, copy)
        made.append(copy)
    made += hostile_cases(folder / "issue")
    data = {s.path: s.path.read_bytes() for s in sources}
    n = 0
    while n < count:
        s = rng.choice(sources)
        if s.kind == "plan":
            name, out = "plan", plan_mutation(data[s.path], rng)
        elif s.kind == "dicom" and rng.random() < 0.15:
            name, out = "value", extreme_value(s.path, rng)  # type: ignore[assignment]
            if out is None:
                continue
        else:
            name = rng.choice(list(BYTE_MUTATIONS))
            out = BYTE_MUTATIONS[name](data[s.path], rng)
        path = folder / f"{n:04d}-{name}-{s.path.stem[:24]}{s.path.suffix}"
        path.write_bytes(out)
        made.append(path)
        n += 1
    return made
