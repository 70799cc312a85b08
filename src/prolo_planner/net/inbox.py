"""What waits in the receiving node's inbox: each file with the patient it names and who sent
it, read from its header alone (no pixels), oldest first; a file that cannot be read is listed
as such, so the clinician sees it arrived damaged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pydicom


@dataclass(frozen=True, slots=True)
class InboxImage:
    path: Path
    patient_id: str
    patient_name: str
    description: str  # modality and series description, or why the file cannot be read
    sender: str  # the scanner's AE title, from the file meta


def read_inbox(folder: Path) -> list[InboxImage]:
    """The files in the inbox folder, oldest first."""
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.dcm"), key=lambda p: p.stat().st_mtime):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception as exc:  # noqa: BLE001 - listed, so the clinician sees it arrived damaged
            out.append(InboxImage(path, "", "", f"cannot be read: {exc}", ""))
            continue
        sender = str(ds.file_meta.get("SourceApplicationEntityTitle", "") or "").strip()
        what = " ".join(str(ds.get(k, "") or "") for k in ("Modality", "SeriesDescription"))
        out.append(
            InboxImage(
                path,
                str(ds.get("PatientID", "") or ""),
                str(ds.get("PatientName", "") or ""),
                what.strip(),
                sender,
            )
        )
    return out
