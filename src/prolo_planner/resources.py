"""Access to the files under the top-level `resources/` folder, installed or not."""

from __future__ import annotations

from importlib import resources as _resources
from pathlib import Path


def resource_root() -> Path:
    """The resources folder: inside the wheel when installed, the repo's own when editable."""
    packaged = Path(str(_resources.files("prolo_planner"))) / "resources"
    if packaged.is_dir():
        return packaged
    # Editable install: src/prolo_planner/ -> repo root / resources
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    return resource_root().joinpath(*parts)


def sample_images_dir() -> Path:
    """The bundled sample images, shipped in the wheel or beside the source tree."""
    packaged = resource_path("sample_images")
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "sample_images"
