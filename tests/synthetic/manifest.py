"""The record beside the bundled samples of what made them, so staleness is a hash comparison.

`make samples` regenerates the files and this record. A test then proves the bundled files are
current without comparing pixels (a new OpenCV or numpy may round a synthetic frame differently,
which says nothing about the app): each file's bytes match the hash recorded here, and the
generator's sources match the hash they had when the files were made.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MANIFEST_NAME = "MANIFEST.json"
FORMAT = "prolo-planner/sample-manifest"
#: Everything that decides what the samples contain: change one and the samples are stale.
GENERATOR_INPUTS = (
    "scripts/make_sample_images.py",
    "tests/synthetic/scanner.py",
    "tests/synthetic/files.py",
)
#: Libraries whose rounding shows in the pixels: recorded for the curious, never compared.
MADE_WITH = ("numpy", "opencv-python-headless", "pydicom", "pillow")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def generator_hash() -> str:
    """One hash over the generator's sources (line endings folded, so a checkout on another
    platform agrees)."""
    digest = hashlib.sha256()
    for name in GENERATOR_INPUTS:
        text = (REPO / name).read_bytes().replace(b"\r\n", b"\n")
        digest.update(name.encode() + b"\0" + text + b"\0")
    return digest.hexdigest()


def build(folder: Path, names: list[str]) -> dict[str, object]:
    return {
        "format": FORMAT,
        "version": 1,
        "generator": {"inputs": list(GENERATOR_INPUTS), "sha256": generator_hash()},
        "made_with": {"python": platform.python_version()}
        | {lib: version(lib) for lib in MADE_WITH},
        "files": {
            name: {"sha256": sha256_of(folder / name), "bytes": (folder / name).stat().st_size}
            for name in sorted(names)
        },
    }


def write(folder: Path, names: list[str]) -> Path:
    path = folder / MANIFEST_NAME
    path.write_text(json.dumps(build(folder, names), indent=2) + "\n", encoding="utf-8")
    return path


def read(folder: Path) -> dict:
    data = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"{folder / MANIFEST_NAME}: not a sample manifest")
    return data
