"""The session store's rows as values: patients, sessions, stored images, audit entries, errors."""

from __future__ import annotations

import calendar
import datetime as _dt
import getpass
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from prolo_planner.core.identity import PatientIdentity
from prolo_planner.core.identity import display_name as _display_name
from prolo_planner.core.plan import Anaesthetic, Side

PAIN_MIN, PAIN_MAX = 0, 10


class SessionState(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"


class AuditAction(StrEnum):
    CREATED = "created"
    EDITED = "edited"
    SIGNED = "signed"
    AMENDED = "amended"
    EXPORTED = "exported"
    IMPORTED = "imported"


# -- errors -------------------------------------------------------------------------------------
class StoreError(Exception):
    """A problem with the session store, in words a clinician can act on."""


class NewerStoreError(StoreError):
    """The store was written by a newer Prolo Planner: opening it could damage it."""


class NotFound(StoreError, KeyError):
    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


class InvalidValue(StoreError, ValueError):
    """A field value the store does not accept (pain 11, a weight of 0 kg, a bad date)."""


class ReadOnlySession(StoreError):
    """The session cannot be changed: signed, superseded by an amendment, or open elsewhere.
    `reason` is the part a window shows in its read-only notice."""

    def __init__(self, reason: str, session_id: int | None = None) -> None:
        super().__init__(f"session #{session_id} is read-only: {reason}" if session_id else reason)
        self.reason = reason


class IncompleteRecord(StoreError):
    """A procedure record with required fields empty cannot be signed: `missing` names them."""

    def __init__(self, missing: list[str] | tuple[str, ...]) -> None:
        self.missing = tuple(missing)
        super().__init__("the procedure record is not complete: " + "; ".join(self.missing))


class SessionLocked(ReadOnlySession):
    """Another Prolo Planner window holds the editing lease of this session."""

    def __init__(self, reason: str, holder: LeaseHolder) -> None:
        super().__init__(reason)
        self.holder = holder

    def __str__(self) -> str:
        return f"session #{self.holder.session_id} is {self.reason}"


# -- rows ---------------------------------------------------------------------------------------
#: DICOM Patient's Sex codes (PS3.3 C.7.1.1) in the words a report prints.
SEX_WORDS = {"M": "male", "F": "female", "O": "other"}


def sex_text(code: str) -> str:
    """A DICOM sex code as a word ('O' is 'other'); anything unknown as it was written."""
    code = (code or "").strip()
    return SEX_WORDS.get(code.upper(), code)


@dataclass(frozen=True, slots=True)
class Patient:
    id: int
    #: The clinic's patient ID (DICOM PatientID, the medical record number).
    mrn: str
    #: DICOM person name order: FAMILY^Given^Middle.
    name: str
    birth_date: str = ""  # ISO YYYY-MM-DD, or "" when unknown
    sex: str = ""  # M, F, O or ""
    weight_kg: float | None = None
    #: Issuer of Patient ID (DICOM 0010,0021): whose ID space `mrn` is in; "" when not known.
    issuer: str = ""

    @property
    def sex_text(self) -> str:
        """'female', 'male', 'other', or '' when not recorded."""
        return sex_text(self.sex)

    @property
    def display_name(self) -> str:
        """'FAMILY, Given Middle' as a chart writes it."""
        return _display_name(self.name)

    @property
    def identity(self) -> PatientIdentity:
        """What a file of this patient's should say of them."""
        return PatientIdentity(self.mrn, self.issuer, self.name, self.birth_date)


@dataclass(frozen=True, slots=True)
class Session:
    """One treatment visit, as one version: an amendment is a new row that `amends` the old."""

    id: int
    patient_id: int
    started_at: str  # ISO datetime, the clinic's local time
    region: str = ""  # catalog region id, e.g. "lumbar_spine"
    side: Side = Side.UNSPECIFIED
    clinician: str = ""
    pain_before: int | None = None
    pain_after: int | None = None
    notes: str = ""
    state: SessionState = SessionState.DRAFT
    version: int = 1
    amends: int | None = None
    signed_at: str | None = None
    signed_by: str | None = None
    #: Names this version in every store and in the SR that carries it (docs/adr/0005).
    uid: str = ""
    #: What was unresolved when the clinician signed, and they signed over it, in words.
    signed_over: tuple[str, ...] = ()

    @property
    def is_signed(self) -> bool:
        return self.state is SessionState.SIGNED


@dataclass(frozen=True, slots=True)
class PacsOrigin:
    """Where a session version in the store came from: the SR on a PACS that carried it."""

    session_id: int
    sr_instance_uid: str
    sr_series_uid: str
    sr_study_uid: str
    #: The plan version's digest as its author exported it (export.uids.PlanVersion).
    plan_digest: str
    made_at: str  # when its author made the SR (ISO), "" if the SR does not say
    node: str  # the node it was pulled from, in words
    pulled_at: str  # UTC, ISO with Z
    #: The uid of the version it amends, as its record says.
    amends_uid: str = ""
    #: Another version here that amends the same predecessor: a conflict to resolve.
    conflict_with: int | None = None
    #: When the clinician set this version aside in resolving a conflict.
    set_aside_at: str | None = None


def file_name(original_path: str) -> str:
    """A file's name as the clinician knew it, from the path it was imported from (a library
    copy is named by its hash)."""
    return original_path.replace("\\", "/").rsplit("/", 1)[-1] or "image"


@dataclass(frozen=True, slots=True)
class StoredImage:
    """A file copied into the content-addressed library, found again by its SHA-256."""

    sha256: str
    library_path: Path  # absolute, inside the data folder's library
    original_path: str
    kind: str  # SourceKind value: dicom, video, image
    size_bytes: int
    frame_count: int = 1
    sop_class_uid: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    sop_instance_uid: str = ""
    #: What the file itself says of its patient (DICOM header); "" for videos and stills.
    file_patient_id: str = ""
    file_patient_name: str = ""
    file_birth_date: str = ""
    patient_id: int | None = None
    imported_at: str = ""
    file_issuer: str = ""

    @property
    def name(self) -> str:
        """The file's name as the clinician knew it (the library copy is named by its hash)."""
        return file_name(self.original_path)

    @property
    def file_identity(self) -> PatientIdentity:
        """What the file itself says of its patient (nothing, for a video or a still)."""
        return PatientIdentity(
            self.file_patient_id, self.file_issuer, self.file_patient_name, self.file_birth_date
        )


@dataclass(frozen=True, slots=True)
class PatientMismatch:
    """A file whose patient does not agree with the store: shown to the clinician, never merged."""

    file: Path
    file_patient_id: str
    file_patient_name: str
    file_birth_date: str
    #: The patient it collides with: same ID, or the patient of the session it was meant for.
    patient: Patient
    #: What differs, in words: "name PHANTOM^Hip in the file, DEMO^Alex in the store".
    differences: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"{self.file.name}: patient {self.file_patient_id or '(no ID)'} does not match "
            f"{self.patient.display_name} ({self.patient.mrn}): " + "; ".join(self.differences)
        )


class Admitted(StrEnum):
    """What the door of a session did with one image."""

    ATTACHED = "attached"  # the file's patient is the session's: it is in the session now
    HELD = "held"  # another patient, or the clinician said it is not theirs: held back
    UNIDENTIFIED = "unidentified"  # names no patient: the clinician is asked whose it is


@dataclass(frozen=True, slots=True)
class Admission:
    """One image brought to a session, and what the store did with it."""

    image: StoredImage
    state: Admitted
    #: Why it was held, in words ("patient ID 204 in the file, DEMO-0001 in the session").
    reasons: tuple[str, ...] = ()

    @property
    def attached(self) -> bool:
        return self.state is Admitted.ATTACHED


@dataclass(frozen=True, slots=True)
class HeldImage:
    """An image held back from one session, with why and how it came; it belongs to that
    session's list only, and leaves it when attached anyway (audited) or dismissed."""

    session_id: int
    image: StoredImage
    reasons: tuple[str, ...]
    origin: str  # "File > Open", "drag and drop", "receiver", "PACS retrieve"...
    held_at: str

    def __str__(self) -> str:
        return f"{self.image.name}: " + "; ".join(self.reasons)


@dataclass(frozen=True, slots=True)
class DicomImport:
    """What importing one DICOM file did. With a mismatch the file is in the library (nothing is
    lost) but linked to no patient or session until the clinician decides."""

    image: StoredImage
    patient: Patient | None
    patient_created: bool = False
    mismatch: PatientMismatch | None = None


@dataclass(frozen=True, slots=True)
class PlanSaved:
    changed: bool  # False when the plan equals the stored one: nothing was written
    revision: int
    saved_at: str


@dataclass(frozen=True, slots=True)
class DoneSummary:
    """What a session's procedure record says was done, kept beside its plan for the timeline."""

    sites: int = 0  # injected
    not_done: int = 0  # planned and not done
    given_ml: float = 0.0
    dextrose_g: float = 0.0
    anaesthetic_mg: Mapping[Anaesthetic, float] = field(
        default_factory=lambda: MappingProxyType({})
    )
    #: In words: '' not stated yet, 'none', 'vasovagal, bleeding'.
    complications: str = ""


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One session on a patient's timeline, with the totals stored when its plan was saved."""

    session: Session
    site_count: int = 0
    site_names: tuple[str, ...] = ()
    total_ml: float = 0.0
    dextrose_g: float = 0.0
    anaesthetic_mg: Mapping[Anaesthetic, float] = field(
        default_factory=lambda: MappingProxyType({})
    )
    #: Later versions exist: this row is kept for review but no longer current.
    superseded: bool = False
    #: Pulled from a PACS: where from, and any conflict with another version.
    origin: PacsOrigin | None = None
    #: What was done, from the procedure record; None when the session has no record.
    done: DoneSummary | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: str  # UTC, ISO with Z
    who: str
    action: AuditAction
    session_id: int | None = None
    patient_id: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Who holds a session's editing lease."""

    session_id: int
    instance_id: str
    pid: int
    host: str
    user: str
    acquired_at: float  # seconds since the epoch
    heartbeat_at: float

    def describe(self, this_host: str) -> str:
        since = _dt.datetime.fromtimestamp(self.acquired_at).strftime("%H:%M")
        where = "another Prolo Planner window"
        if self.host != this_host:
            where = f"Prolo Planner on {self.host}"
        who = f"pid {self.pid}" + (f", user {self.user}" if self.user else "")
        return f"open for editing in {where} since {since} ({who})"


@dataclass(frozen=True, slots=True)
class Lease:
    """This instance's right to edit one session; keep it alive with Repository.heartbeat."""

    session_id: int
    instance_id: str
    taken_over_from: LeaseHolder | None = None


# -- small helpers shared by the store modules -------------------------------------------------
def utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def current_user() -> str:
    """The OS user name, the default 'who' of the audit log."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return os.environ.get("USER") or f"uid {os.getuid()}"


def check_pain(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InvalidValue(f"{name}: a whole number from 0 to 10, got {value!r}")
    if not PAIN_MIN <= value <= PAIN_MAX:
        raise InvalidValue(f"{name}: a whole number from 0 to 10, got {value}")
    return value


def iso_datetime(value: object) -> str:
    """A session time as ISO text (seconds), from a datetime or ISO text."""
    if isinstance(value, _dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, str):
        try:
            return _dt.datetime.fromisoformat(value).isoformat(timespec="seconds")
        except ValueError:
            pass
    raise InvalidValue(f"started_at: expected a date and time like 2026-03-14T10:30, got {value!r}")


def iso_date(value: str) -> str:
    """A birth date as YYYY-MM-DD from ISO or DICOM (YYYYMMDD) text; "" stays unknown."""
    text = value.strip()
    if not text:
        return ""
    for fmt, pattern in (("%Y-%m-%d", _ISO_DAY), ("%Y%m%d", _DICOM_DAY)):
        found = pattern.fullmatch(text)
        if found is None:
            continue
        try:
            return _dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            raise InvalidValue(f"birth date: {value!r} {_no_such_day(*found.groups())}") from None
    raise InvalidValue(f"birth date: expected YYYY-MM-DD, got {value!r}")


_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DICOM_DAY = re.compile(r"(\d{4})(\d{2})(\d{2})")


def _no_such_day(year: str, month: str, day: str) -> str:
    """Why a date of the right shape is not a date: 'is not a date: February 1968 has 29 days'."""
    y, m, d = int(year), int(month), int(day)
    if not 1 <= m <= 12:
        return f"is not a date: there is no month {m}"
    if y < 1:
        return "is not a date: there is no year 0"
    days = calendar.monthrange(y, m)[1]
    if d < 1:
        return "is not a date: days start at 1"
    return f"is not a date: {calendar.month_name[m]} {y} has {days} days"
