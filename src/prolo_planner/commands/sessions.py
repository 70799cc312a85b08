"""`prolo-planner sessions`: each patient's sessions with sites and totals, as text or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from prolo_planner.store.records import Patient, StoreError, TimelineRow
from prolo_planner.store.repository import Repository


def patient_dict(p: Patient) -> dict[str, Any]:
    return {
        "id": p.id,
        "mrn": p.mrn,
        "name": p.name,
        "birth_date": p.birth_date or None,
        "sex": p.sex or None,
        "weight_kg": p.weight_kg,
    }


def session_dict(row: TimelineRow) -> dict[str, Any]:
    s = row.session
    return {
        "id": s.id,
        "started_at": s.started_at,
        "region": s.region,
        "side": s.side.value,
        "clinician": s.clinician,
        "state": s.state.value,
        "version": s.version,
        "amends": s.amends,
        "signed_at": s.signed_at,
        "signed_by": s.signed_by,
        "pain_before": s.pain_before,
        "pain_after": s.pain_after,
        "notes": s.notes,
        "site_count": row.site_count,
        "sites": list(row.site_names),
        "total_ml": round(row.total_ml, 3),
        "dextrose_g": round(row.dextrose_g, 4),
        "anaesthetic_mg": {a.value: round(mg, 3) for a, mg in row.anaesthetic_mg.items()},
    }


def _patient_line(p: Patient) -> str:
    bits = [p.display_name, f"ID {p.mrn}"]
    if p.birth_date:
        bits.append(f"born {p.birth_date}")
    if p.sex:
        bits.append(p.sex_text)
    if p.weight_kg is not None:
        bits.append(f"{p.weight_kg:g} kg")
    return "  ".join(bits)


def _pain(value: int | None) -> str:
    return "-" if value is None else str(value)


def _session_lines(row: TimelineRow) -> list[str]:
    s = row.session
    state = s.state.value + (f" v{s.version}" if s.version > 1 else "")
    where = " ".join(b for b in (s.region.replace("_", " "), s.side.value) if b)
    totals = [
        f"{row.site_count} site{'s' if row.site_count != 1 else ''}",
        f"{row.total_ml:g} mL",
        f"dextrose {row.dextrose_g:.2f} g",
    ]
    totals += [f"{a.value} {mg:g} mg" for a, mg in row.anaesthetic_mg.items()]
    when = s.started_at[:16].replace("T", " ")
    line = (
        f"  #{s.id:<4} {when}  {where:<24} {state:<10} {', '.join(totals)}"
        f"  pain {_pain(s.pain_before)} -> {_pain(s.pain_after)}"
    )
    lines = [line]
    lines += [f"         - {name}" for name in row.site_names]
    return lines


def list_sessions(repo: Repository, mrn: str | None) -> list[tuple[Patient, list[TimelineRow]]]:
    """Patients (one, or all with sessions) and their sessions, oldest first."""
    if mrn is not None:
        patient = repo.patient_by_mrn(mrn)
        if patient is None:
            raise StoreError(f"no patient with ID {mrn!r} in the store")
        chosen = [patient]
    else:
        chosen = repo.patients_with_sessions()
    return [(p, list(reversed(repo.sessions_of(p.id)))) for p in chosen]


def print_listing(listing: list[tuple[Patient, list[TimelineRow]]]) -> None:
    blocks = []
    for patient, rows in listing:
        lines = [_patient_line(patient)]
        lines += [ln for row in rows for ln in _session_lines(row)] or ["  (no sessions)"]
        blocks.append("\n".join(lines))
    print("\n\n".join(blocks))


def run_sessions(patient: str | None, *, as_json: bool, data_dir: Path | None = None) -> int:
    try:
        with Repository.open(data_dir) as repo:
            listing = list_sessions(repo, patient)
            where = repo.data_dir
    except StoreError as exc:
        print(f"prolo-planner: {exc}", file=sys.stderr)
        return 1
    if as_json:
        out = [
            {"patient": patient_dict(p), "sessions": [session_dict(r) for r in rows]}
            for p, rows in listing
        ]
        print(json.dumps(out, indent=2, ensure_ascii=False))
    elif not listing:
        print(
            f"No sessions in the store ({where}). Run `prolo-planner demo` to add a fictitious "
            "patient with three sessions."
        )
    else:
        print_listing(listing)
    return 0
