"""The session record a plan's SR carries for Prolo Planner: the whole plan document and the
session's fields, in a private element every PACS keeps (docs/adr/0005).

The TID 1500 content of the SR is what other viewers read; it cannot hold everything a plan
is (its title, the patient's weight, each image's region, side, orientation, body marker, key
frames and manual calibration, unknown keys of a newer minor version). So the SR also carries
the plan document itself, as the plan file format writes it (docs/plan-format.md), with the
session it belongs to: a generic carriage, so a field the plan gains round-trips with no change
here. It lies in the private block "PROLO PLANNER" of group 0077 (PS3.5 7.8.1):

    (0077,xx01) LO  "prolo-planner/session-record"
    (0077,xx02) LO  its format version, "1.0"
    (0077,xx03) LO  SHA-256 (hex) of the record's bytes: a damaged record is refused, not used
    (0077,xx10) OB  the record: UTF-8 JSON (padded with a space to an even length)

OB and LO survive a PACS that stores Implicit VR (the reader takes their bytes as they come)
and any change of transfer syntax or character set.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset

from prolo_planner import __version__
from prolo_planner.core.plan import Plan
from prolo_planner.store.plan_file import PlanFileError, plan_from_document, plan_to_document

GROUP = 0x0077
CREATOR = "PROLO PLANNER"
FORMAT = "prolo-planner/session-record"
FORMAT_VERSION = "1.0"
_MAJOR = 1
_FORMAT, _VERSION, _DIGEST, _RECORD = 0x01, 0x02, 0x03, 0x10
#: A record larger than this is not a plan (a plan of 500 annotations is about 200 kB).
MAX_RECORD_BYTES = 32 * 1024 * 1024
#: Keys of a session the record carries (store.records.Session's, without the store's ids).
SESSION_KEYS = (
    "uid",
    "version",
    "amends",
    "started_at",
    "region",
    "side",
    "clinician",
    "pain_before",
    "pain_after",
    "notes",
    "state",
    "signed_at",
    "signed_by",
)


class RecordError(Exception):
    """The SR's record cannot be used: damaged, or from a newer Prolo Planner."""


@dataclass(frozen=True, slots=True)
class RecordedImage:
    """A plan image as the PACS holds it: the DICOM object to retrieve for it."""

    image_id: str
    sop_class_uid: str
    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str
    name: str  # the file's name as the clinician knew it
    #: True when the object is a capture Prolo Planner made of a video or still.
    capture: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "image_id": self.image_id,
            "sop_class_uid": self.sop_class_uid,
            "sop_instance_uid": self.sop_instance_uid,
            "study_instance_uid": self.study_instance_uid,
            "series_instance_uid": self.series_instance_uid,
            "name": self.name,
            "capture": self.capture,
        }


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """What the record holds: the plan, the session version it belongs to, and its images."""

    plan: Plan
    images: tuple[RecordedImage, ...]
    #: The session's fields (SESSION_KEYS and any a newer version added); None for a plan
    #: exported from a plan file, outside any session.
    session: Mapping[str, Any] | None = None
    #: The plan version as its author exported it (export.uids.PlanVersion).
    plan_id: str = ""
    plan_version: int = 1
    plan_digest: str = ""
    format_version: str = FORMAT_VERSION
    app_version: str = ""
    #: Keys of a newer minor version of the record, kept.
    extra: Mapping[str, Any] = field(default_factory=dict)


def record_document(
    plan: Plan,
    images: Sequence[RecordedImage],
    session: Mapping[str, Any] | None,
    plan_id: str,
    plan_version: int,
    plan_digest: str,
) -> dict[str, Any]:
    """The record as JSON-ready data. Image paths are this workstation's business: the plan's
    `ref.path` becomes the file's name."""
    names = {im.image_id: im.name for im in images}
    document = plan_to_document(plan)
    document.pop("saved_at", None)
    for image in document["plan"]["images"]:
        image["ref"]["path"] = names.get(image["id"], "")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "app_version": __version__,
        "plan_version": {"plan_id": plan_id, "version": plan_version, "digest": plan_digest},
        "session": None if session is None else dict(session),
        "images": [im.to_json() for im in images],
        "plan": document,
    }


def add_record(ds: Dataset, document: Mapping[str, Any]) -> None:
    """Put the record into the dataset's private block (created, or replaced)."""
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    raw = data.encode("utf-8")
    block = ds.private_block(GROUP, CREATOR, create=True)
    block.add_new(_FORMAT, "LO", FORMAT)
    block.add_new(_VERSION, "LO", FORMAT_VERSION)
    block.add_new(_DIGEST, "LO", hashlib.sha256(raw).hexdigest())
    block.add_new(_RECORD, "OB", raw + (b" " if len(raw) % 2 else b""))


def has_record(ds: Dataset) -> bool:
    try:
        ds.private_block(GROUP, CREATOR)
    except KeyError:
        return False
    return True


def read_record(ds: Dataset) -> PlanRecord | None:
    """The record of an SR, None when it has none (another vendor's, or one whose PACS dropped
    private elements). Raises RecordError when it is there but damaged or too new."""
    try:
        block = ds.private_block(GROUP, CREATOR)
    except KeyError:
        return None
    fmt = _text(block, _FORMAT)
    version = _text(block, _VERSION)
    if fmt != FORMAT:
        raise RecordError(f"the private record is not a session record ({fmt!r})")
    if not re.fullmatch(r"\d+\.\d+", version):
        raise RecordError(f"the session record has no readable version ({version!r})")
    if int(version.split(".")[0]) > _MAJOR:
        raise RecordError(
            f"made by a newer Prolo Planner (session record {version}); this version reads "
            f"{_MAJOR}.x: update Prolo Planner to pull it"
        )
    raw = _bytes(block, _RECORD).rstrip(b" \x00")
    if not raw:
        raise RecordError("the session record is missing its data")
    if len(raw) > MAX_RECORD_BYTES:
        raise RecordError(f"the session record is implausibly large ({len(raw)} bytes)")
    if hashlib.sha256(raw).hexdigest() != _text(block, _DIGEST).lower():
        raise RecordError("the session record is damaged (its checksum does not match)")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise RecordError(f"the session record is not readable ({exc})") from None
    return _record(doc, version)


def _record(doc: Any, version: str) -> PlanRecord:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise RecordError("the session record's data is not a session record")
    try:
        loaded = plan_from_document(doc.get("plan"), source="the session record")
    except PlanFileError as exc:
        raise RecordError(str(exc)) from None
    images = []
    raw_images = doc.get("images")
    if not isinstance(raw_images, list):
        raise RecordError("the session record lists no images")
    for n, item in enumerate(raw_images):
        if not isinstance(item, dict):
            raise RecordError(f"the session record's images[{n}] is not an object")
        try:
            images.append(
                RecordedImage(
                    image_id=_str(item, "image_id"),
                    sop_class_uid=_str(item, "sop_class_uid"),
                    sop_instance_uid=_str(item, "sop_instance_uid"),
                    study_instance_uid=_str(item, "study_instance_uid"),
                    series_instance_uid=_str(item, "series_instance_uid"),
                    name=_str(item, "name"),
                    capture=bool(item.get("capture", False)),
                )
            )
        except ValueError as exc:
            raise RecordError(f"the session record's images[{n}]: {exc}") from None
    known_ids = {im.id for im in loaded.plan.images}
    recorded = {im.image_id for im in images}
    if known_ids - recorded:
        raise RecordError(
            f"the session record names no DICOM object for {len(known_ids - recorded)} image(s)"
        )
    session = doc.get("session")
    if session is not None and not isinstance(session, dict):
        raise RecordError("the session record's session is not an object")
    pv = doc.get("plan_version")
    if not isinstance(pv, dict):
        pv = {}
    number = pv.get("version", 1)
    known = {"format", "format_version", "app_version", "plan_version", "session", "images", "plan"}
    return PlanRecord(
        plan=loaded.plan,
        images=tuple(images),
        session=session,
        plan_id=str(pv.get("plan_id", loaded.plan.id)),
        plan_version=number if isinstance(number, int) and not isinstance(number, bool) else 1,
        plan_digest=str(pv.get("digest", "")),
        format_version=version,
        app_version=str(doc.get("app_version", "")),
        extra={k: v for k, v in doc.items() if k not in known},
    )


def _str(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected text, got {value!r}")
    return value


def _bytes(block: Any, offset: int) -> bytes:
    try:
        value = block[offset].value
    except KeyError:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value or b"")


def _text(block: Any, offset: int) -> str:
    # A PACS that stored Implicit VR hands private elements back as UN bytes.
    return _bytes(block, offset).decode("ascii", "replace").strip(" \x00")
