"""Import every image in files, folders and DICOMDIRs, with progress, cancel and a list of problems.

Two passes. The listing pass walks the folders (names only, no file is opened) and reads any
DICOMDIR, so the total is known before work starts. The second pass sniffs each file
(`classify` reads 132 bytes) and opens only what looks like an image, so a folder of thousands of
unrelated files is skipped quickly, counted, and reported as no error at all.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.open import classify, is_dicomdir, open_image
from prolo_planner.imaging.source import ImageSource, SourceKind

log = logging.getLogger(__name__)

Progress = Callable[[int, int, Path], None]
Cancelled = Callable[[], bool]

#: DICOMDIR record types (PS3.3 F.5) whose files hold no picture: skipped quietly, where a folder
#: walk would report each as a file without pixels. IMAGE, PRIVATE and types not known here are
#: opened.
NON_IMAGE_RECORD_TYPES = frozenset(
    {
        "SR DOCUMENT", "KEY OBJECT DOC", "PRESENTATION", "WAVEFORM", "ENCAP DOC",
        "HL7 STRUC DOC", "RT STRUCTURE SET", "RT PLAN", "RT TREAT RECORD", "SPECTROSCOPY",
        "RAW DATA", "REGISTRATION", "FIDUCIAL", "HANGING PROTOCOL", "VALUE MAP", "STEREOMETRIC",
        "PALETTE", "IMPLANT", "IMPLANT ASSY", "IMPLANT GROUP", "PLAN", "MEASUREMENT",
        "SURFACE", "SURFACE SCAN", "TRACT", "ASSESSMENT", "RADIOTHERAPY", "ANNOTATION",
        "INVENTORY",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import loaded, what went wrong, and how many files were not images at all."""

    sources: tuple[ImageSource, ...]
    problems: tuple[ImageLoadError, ...]
    #: Files that are not images (documents, hidden files, non-image DICOMDIR records).
    skipped: int
    cancelled: bool


def scan_paths(
    paths: Sequence[Path | str],
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> ImportResult:
    """Open every image in `paths` (files, folders searched recursively, DICOMDIR files).

    progress(done, total, path) is called after each file is handled, done counting from 1;
    while folders are still being listed it is called as progress(0, 0, folder).
    cancelled() is asked between files (and between folders while listing); when it says True
    the import stops and returns what it loaded so far, with `cancelled` set.
    Sources come sorted for the clinician: DICOM by patient, study, series and instance number,
    then videos and stills by name.
    """
    is_cancelled = cancelled or (lambda: False)
    listing = _Listing(is_cancelled, progress)
    for path in paths:
        listing.add_root(Path(path))
        if listing.cancelled:
            break

    problems = list(listing.problems)
    skipped = listing.skipped
    sources: list[ImageSource] = []
    was_cancelled = listing.cancelled
    total = len(listing.files)
    if not was_cancelled:
        for done, path in enumerate(listing.files, start=1):
            if is_cancelled():
                was_cancelled = True
                break
            kind = SourceKind.DICOM if path in listing.dicomdir_images else classify(path)
            if kind is None:
                skipped += 1
            else:
                try:
                    sources.append(open_image(path))
                except ImageLoadError as exc:
                    _report(exc, problems)
                except Exception as exc:  # a reader's bug must not stop the rest of the import
                    log.exception("unexpected error opening %s", path)
                    problems.append(
                        ImageLoadError(path, f"could not be read ({type(exc).__name__}: {exc})")
                    )
            if progress is not None:
                progress(done, total, path)

    sources.sort(key=clinical_order)  # computed once per source: sort() caches keys
    return ImportResult(tuple(sources), tuple(problems), skipped, was_cancelled)


def clinical_order(source: ImageSource) -> tuple:
    """Sort key: DICOM grouped by patient, study, series, instance; then the rest by name."""
    info = source.info
    if info.kind is not SourceKind.DICOM:
        return (1, natural_key(info.path))
    series_number, instance_number = _series_and_instance(source)
    return (
        0,
        _last_if_missing(info.patient_id),
        _last_if_missing(info.patient_name),
        _last_if_missing(info.study_date),
        _last_if_missing(info.study_time),
        _last_if_missing(info.study_instance_uid),
        _last_if_missing(series_number),
        _last_if_missing(info.series_instance_uid),
        _last_if_missing(instance_number),
        natural_key(info.path),
    )


def natural_key(path: Path | str) -> tuple:
    """Name order a person expects: 'clip 2' before 'clip 10'."""
    parts = re.split(r"(\d+)", str(path).casefold())
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


# -- listing pass -------------------------------------------------------------------------------
@dataclass
class _Listing:
    """Files to handle, in a deterministic order, each once however it was reached."""

    is_cancelled: Cancelled
    progress: Progress | None = None
    files: list[Path] = field(default_factory=list)
    #: Files a DICOMDIR lists: DICOM whatever their name, no need to sniff them.
    dicomdir_images: set[Path] = field(default_factory=set)
    problems: list[ImageLoadError] = field(default_factory=list)
    skipped: int = 0
    cancelled: bool = False
    #: (device, inode) of every file taken or set aside: one file reached by two paths counts once.
    _seen: set[tuple[int, int]] = field(default_factory=set)
    _visited_folders: set[tuple[int, int]] = field(default_factory=set)

    def add_root(self, path: Path) -> None:
        try:
            if path.is_dir():
                self._walk(path)
            elif is_dicomdir(path) and path.is_file():
                self._read_dicomdir(path)
            elif path.is_file():
                self._add_file(path, _identity(path))
            elif path.exists() or path.is_symlink():
                self.skipped += 1  # a device, a pipe or a dangling link: nothing to read
            else:
                _report(ImageLoadError(path, "file not found"), self.problems)
        except OSError as exc:
            _report(ImageLoadError(path, _os_reason(exc)), self.problems)

    def _add_file(self, path: Path, identity: tuple[int, int]) -> bool:
        if identity in self._seen:
            return False
        self._seen.add(identity)
        self.files.append(path)
        return True

    def _walk(self, root: Path) -> None:
        # A link may lead anywhere (a 'parent -> ..' link, a link to another patient's folder):
        # only what lies inside the chosen folder is imported.
        inside = _Inside(root)
        # Depth-first with an explicit stack: deep trees cannot overflow the recursion limit.
        stack = [root]
        while stack:
            if self.is_cancelled():
                self.cancelled = True
                return
            folder = stack.pop()
            if self.progress is not None:
                self.progress(0, 0, folder)
            try:
                folder_identity = _identity(folder)
                if folder_identity in self._visited_folders:
                    continue  # reached again through a symbolic link (maybe a loop)
                self._visited_folders.add(folder_identity)
                device = folder_identity[0]
                with os.scandir(folder) as it:
                    # The DICOMDIR first: it says which files of this tree are not images.
                    entries = sorted(
                        it, key=lambda e: (e.name.upper() != "DICOMDIR", natural_key(e.name))
                    )
            except OSError as exc:
                _report(ImageLoadError(folder, f"folder {_os_reason(exc)}"), self.problems)
                continue
            subfolders: list[Path] = []
            for entry in entries:
                try:
                    if entry.is_symlink() and not inside(Path(entry.path)):
                        log.info("%s: a link out of %s, not followed", entry.path, root)
                        self.skipped += 1
                        continue
                    is_folder = entry.is_dir()
                    is_file = not is_folder and entry.is_file()
                    # A plain file's inode comes free with the listing; a link needs a stat.
                    identity = (
                        _identity(Path(entry.path))
                        if entry.is_symlink()
                        else (device, entry.inode())
                    )
                except OSError:
                    is_folder = is_file = False
                    identity = (0, 0)
                if entry.name.startswith("."):
                    # Hidden: .DS_Store, ._resource forks, .git and .Trash folders.
                    self.skipped += int(not is_folder)
                elif is_folder:
                    subfolders.append(Path(entry.path))
                elif not is_file:
                    self.skipped += 1  # a pipe, a device, a dangling link
                elif entry.name.upper() == "DICOMDIR":
                    self._read_dicomdir(Path(entry.path), inside)
                else:
                    self._add_file(Path(entry.path), identity)
            stack.extend(reversed(subfolders))

    def _read_dicomdir(self, dicomdir: Path, inside: _Inside | None = None) -> None:
        try:
            records = list(_dicomdir_records(dicomdir))
        except ImageLoadError as exc:
            _report(exc, self.problems)
            return
        inside = inside or _Inside(dicomdir.parent)
        finder = _CaseInsensitiveFinder(dicomdir.parent)
        for record_type, file_id in records:
            found = finder.find(file_id)
            if found is not None and not inside(found):
                log.info("%s: listed in %s but a link out of its folder", found, dicomdir)
                self.skipped += 1
                continue
            if found is None:
                missing = dicomdir.parent.joinpath(*file_id)
                _report(
                    ImageLoadError(missing, f"listed in {dicomdir} but the file is missing"),
                    self.problems,
                )
                continue
            try:
                identity = _identity(found)
            except OSError as exc:
                _report(ImageLoadError(found, _os_reason(exc)), self.problems)
                continue
            if record_type not in NON_IMAGE_RECORD_TYPES:
                if self._add_file(found, identity):
                    self.dicomdir_images.add(found)
            elif identity not in self._seen:
                # Set aside, so the folder walk does not report a structured report or a key
                # object as a broken image.
                self._seen.add(identity)
                self.skipped += 1


class _Inside:
    """Whether a path, links followed, leads to a place inside the chosen folder."""

    def __init__(self, root: Path) -> None:
        self._root = os.path.realpath(root)

    def __call__(self, path: Path) -> bool:
        target = os.path.realpath(path)
        try:
            return os.path.commonpath([self._root, target]) == self._root
        except ValueError:  # another drive
            return False


def _identity(path: Path) -> tuple[int, int]:
    """(device, inode) of what the path leads to, through links."""
    st = path.stat()
    return st.st_dev, st.st_ino


def _dicomdir_records(dicomdir: Path) -> Iterable[tuple[str, tuple[str, ...]]]:
    """(record type, file ID components) of every record of a DICOMDIR that names a file."""
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    try:
        ds = dcmread(dicomdir)
        records = ds.get("DirectoryRecordSequence")
    except InvalidDicomError:
        raise ImageLoadError(dicomdir, "DICOMDIR is not a DICOM file") from None
    except Exception as exc:  # pydicom raises many types on damaged files
        raise ImageLoadError(dicomdir, f"DICOMDIR cannot be read ({exc})") from None
    if records is None:
        raise ImageLoadError(dicomdir, "DICOMDIR lists no files (no Directory Record Sequence)")
    result = []
    for record in records:
        file_id = record.get("ReferencedFileID")
        if not file_id:
            continue
        parts = (file_id,) if isinstance(file_id, str) else tuple(str(p) for p in file_id)
        parts = tuple(p.strip() for p in parts if p.strip())
        if not parts or any(p in ("..", ".") or "/" in p or "\\" in p for p in parts):
            continue  # a file ID may not leave the DICOMDIR's folder
        record_type = str(record.get("DirectoryRecordType", "")).strip().upper()
        result.append((record_type, parts))
    return result


class _CaseInsensitiveFinder:
    """Finds DICOMDIR file IDs (upper case by the standard) on case-sensitive file systems.

    Copies of CDs often come in lower case, or with ISO 9660 version suffixes (';1').
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._listings: dict[Path, dict[str, str]] = {}

    def find(self, parts: tuple[str, ...]) -> Path | None:
        exact = self._root.joinpath(*parts)
        if exact.is_file():
            return exact
        current = self._root
        for part in parts:
            names = self._names(current)
            actual = names.get(_normal_name(part))
            if actual is None:
                return None
            current = current / actual
        return current if current.is_file() else None

    def _names(self, folder: Path) -> dict[str, str]:
        if folder not in self._listings:
            try:
                self._listings[folder] = {_normal_name(n): n for n in os.listdir(folder)}
            except OSError:
                self._listings[folder] = {}
        return self._listings[folder]


def _normal_name(name: str) -> str:
    return name.split(";", 1)[0].rstrip(".").upper()


# -- helpers -------------------------------------------------------------------------------------
def _report(problem: ImageLoadError, problems: list[ImageLoadError]) -> None:
    log.warning("%s: %s", problem.path, problem.reason)
    problems.append(problem)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "cannot be read (permission denied)"
    return f"cannot be read ({exc.strerror or exc})"


def _last_if_missing(value: object) -> tuple[int, object]:
    return (1, "") if value in (None, "") else (0, value)


def _series_and_instance(source: ImageSource) -> tuple[int | None, int | None]:
    return source.info.series_number, source.info.instance_number
