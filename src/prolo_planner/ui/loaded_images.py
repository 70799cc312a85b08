"""The images open in the viewer, as the thumbnail strip lists them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prolo_planner.core.calibration import Calibration
from prolo_planner.imaging.source import ImageSource


@dataclass(frozen=True, slots=True)
class LoadedImage:
    source: ImageSource
    #: The clinician's file name when the file on disk is a library copy named by its hash.
    display_name: str = ""

    @property
    def path(self) -> Path:
        return self.source.info.path

    @property
    def name(self) -> str:
        """The file name to show: the original one for a library copy."""
        return self.display_name or self.path.name

    @property
    def calibration(self) -> Calibration:
        """The file's own calibration (a plan image's in force is the plan controller's)."""
        return self.source.calibration


class LoadedImages:
    """An ordered list of open images, the model behind the thumbnail strip."""

    def __init__(self) -> None:
        self._images: list[LoadedImage] = []
        # Resolved path -> image, so a folder of thousands is checked for repeats in O(1).
        self._by_path: dict[Path, LoadedImage] = {}

    def __len__(self) -> int:
        return len(self._images)

    def __getitem__(self, index: int) -> LoadedImage:
        return self._images[index]

    def __iter__(self) -> Iterator[LoadedImage]:
        return iter(self._images)

    def append(self, source: ImageSource, display_name: str = "") -> int:
        image = LoadedImage(source, display_name=display_name)
        self._images.append(image)
        self._by_path[_key(image.path)] = image
        return len(self._images) - 1

    def index_of(self, path: Path) -> int | None:
        """Where a file already open sits, so opening it twice selects it instead."""
        image = self._by_path.get(_key(path))
        if image is None:
            return None
        return next(i for i, other in enumerate(self._images) if other is image)

    def remove(self, index: int) -> LoadedImage:
        image = self._images.pop(index)
        self._by_path.pop(_key(image.path), None)
        return image

    def clear(self) -> list[LoadedImage]:
        images, self._images = self._images, []
        self._by_path.clear()
        return images


def _key(path: Path) -> Path:
    try:
        return Path(path).resolve()
    except OSError:
        return Path(path).absolute()
