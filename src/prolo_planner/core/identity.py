"""Whose images these are: a patient's identity as a file or the store states it, and what makes
two identities two people.

One rule, used by every door an image comes in by (the store's admission of a file into a
session) and by the export that would otherwise mix patients: the patient ID with its issuer,
the name and the birth date are compared; a field one side leaves empty is no difference (a
scanner that does not send the birth date), but a file whose ID is empty cannot be checked at
all and is asked about instead (`is_checkable`).
"""

from __future__ import annotations

import datetime as _dt
import unicodedata
from dataclasses import dataclass


def fold(text: str) -> str:
    """Text as names are compared: accents dropped, case folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_parts(name: str) -> tuple[str, ...]:
    """A DICOM person name compared as its components, case and accents aside: 'DEMO^Alex^^'
    and 'demo^alex' are the same person (only the alphabetic group, before any '=')."""
    parts = [" ".join(fold(p).split()) for p in name.split("=")[0].split("^")]
    while parts and not parts[-1]:
        parts.pop()
    return tuple(parts)


def iso_date(text: str) -> str:
    """A birth date as YYYY-MM-DD from DICOM (YYYYMMDD) or ISO text; text that is neither is
    returned stripped, so two malformed dates still compare as text."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return _dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return text


def display_name(name: str) -> str:
    """'FAMILY, Given Middle' from a DICOM person name, as a chart writes it."""
    family, _, rest = name.split("=")[0].partition("^")
    given = " ".join(p for p in rest.split("^") if p)
    return f"{family}, {given}" if given else family


@dataclass(frozen=True, slots=True)
class PatientIdentity:
    """Who a file or a session says the patient is."""

    patient_id: str = ""
    #: Issuer of Patient ID (0010,0021): the authority whose ID space patient_id belongs to.
    issuer: str = ""
    name: str = ""  # DICOM person name, FAMILY^Given^Middle
    birth_date: str = ""  # DICOM YYYYMMDD or ISO YYYY-MM-DD; "" when unknown

    @property
    def is_checkable(self) -> bool:
        """Whether it names a patient by ID. Without one (a video, a frame grab, an anonymised
        file) nobody can tell whose it is but the clinician."""
        return bool(self.patient_id.strip())

    def describe(self) -> str:
        """'PLA (ID 204)', 'DEMO, Alex (ID DEMO-0001, born 1971-05-20)', 'no patient named'."""
        bits = []
        if self.patient_id.strip():
            issuer = f" of {self.issuer.strip()}" if self.issuer.strip() else ""
            bits.append(f"ID {self.patient_id.strip()}{issuer}")
        if self.birth_date.strip():
            bits.append(f"born {iso_date(self.birth_date)}")
        name = display_name(self.name.strip()) if self.name.strip("^ ") else ""
        if not name and not bits:
            return "no patient named"
        if not bits:
            return name
        return f"{name} ({', '.join(bits)})" if name else ", ".join(bits)


def differences(
    expected: PatientIdentity, found: PatientIdentity, *, here: str = "the session"
) -> tuple[str, ...]:
    """What makes `found` (a file's identity) another patient than `expected` (the patient of
    `here`), in words; () when nothing does. The ID with its issuer, the name and the birth date
    are compared; an empty field on either side is not a difference."""
    out: list[str] = []
    file_id, our_id = found.patient_id.strip(), expected.patient_id.strip()
    if file_id and our_id and file_id != our_id:
        out.append(f"patient ID {file_id} in the file, {our_id} in {here}")
    file_issuer, our_issuer = found.issuer.strip(), expected.issuer.strip()
    if file_issuer and our_issuer and fold(file_issuer) != fold(our_issuer):
        out.append(f"ID issued by {file_issuer} in the file, by {our_issuer} in {here}")
    file_name, our_name = found.name.strip(), expected.name.strip()
    named = file_name.strip("^ ") and our_name.strip("^ ")
    if named and name_parts(file_name) != name_parts(our_name):
        out.append(f"name {file_name} in the file, {our_name} in {here}")
    file_born, our_born = iso_date(found.birth_date), iso_date(expected.birth_date)
    if file_born and our_born and file_born != our_born:
        out.append(f"birth date {file_born} in the file, {our_born} in {here}")
    return tuple(out)


def mixed_patients(identities: dict[str, PatientIdentity]) -> tuple[str, ...]:
    """Of several files (name -> identity), what says they are not all one patient: each file
    whose identity differs from the first file's that names a patient, in words."""
    named = [(name, ident) for name, ident in identities.items() if ident.is_checkable]
    if not named:
        return ()
    first_name, first = named[0]
    out = []
    for name, ident in named[1:]:
        found = differences(first, ident, here=first_name)
        if found:
            out.append(f"{name}: " + "; ".join(found))
    return tuple(out)
