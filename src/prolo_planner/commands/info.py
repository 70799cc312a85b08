"""`prolo-planner info`: what each image file is, as text or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prolo_planner.core.calibration import Calibration
from prolo_planner.imaging.errors import ImageLoadError
from prolo_planner.imaging.open import open_image
from prolo_planner.imaging.source import ImageSource


def calibration_dict(cal: Calibration) -> dict[str, Any]:
    return {
        "source": cal.source.value,
        "provenance": cal.provenance(),
        "regions": [
            {
                "label": r.label,
                "x0": r.x0,
                "y0": r.y0,
                "x1": r.x1,
                "y1": r.y1,
                "mm_per_px_x": r.mm_per_px_x,
                "mm_per_px_y": r.mm_per_px_y,
            }
            for r in cal.regions
        ],
        "notes": list(cal.notes),
    }


def describe(source: ImageSource) -> dict[str, Any]:
    info = source.info
    return {
        "path": str(info.path),
        "kind": info.kind.value,
        "sop_class_uid": info.sop_class_uid or None,
        "sop_class": info.sop_class_name or None,
        "photometric_interpretation": info.photometric_interpretation or None,
        "transfer_syntax_uid": info.transfer_syntax_uid or None,
        "transfer_syntax": info.transfer_syntax_name or None,
        "codec": info.codec or None,
        "rows": info.rows,
        "columns": info.columns,
        "frames": source.frame_count,
        "frame_time_ms": info.frame_time_ms,
        "calibration": calibration_dict(source.calibration),
        "patient_id": info.patient_id or None,
        "patient_name": info.patient_name or None,
        "study_instance_uid": info.study_instance_uid or None,
        "warnings": list(info.warnings),
        "truncation": info.truncation or None,
    }


def _text(d: dict[str, Any]) -> str:
    cal = d["calibration"]
    rows = [
        ("path", d["path"]),
        ("kind", d["kind"]),
        ("SOP class", _join(d["sop_class"], d["sop_class_uid"])),
        ("photometric", d["photometric_interpretation"]),
        ("transfer syntax", _join(d["transfer_syntax"], d["transfer_syntax_uid"])),
        ("codec", d["codec"]),
        ("size", f"{d['columns']} x {d['rows']} px"),
        ("frames", str(d["frames"]) + (f" ({d['truncation']})" if d["truncation"] else "")),
        ("frame time", f"{d['frame_time_ms']:.2f} ms" if d["frame_time_ms"] else None),
        ("calibration", cal["provenance"]),
    ]
    rows += [
        (
            "",
            f"{r['label']}: x {r['x0']}-{r['x1']}, y {r['y0']}-{r['y1']}: "
            f"{r['mm_per_px_x']:.5g} x {r['mm_per_px_y']:.5g} mm/px",
        )
        for r in cal["regions"]
    ]
    rows += [("", f"note: {n}") for n in cal["notes"] if cal["regions"]]
    rows += [("warning", w) for w in d["warnings"]]
    rows += [
        ("patient id", d["patient_id"]),
        ("patient name", d["patient_name"]),
        ("study UID", d["study_instance_uid"]),
    ]
    return "\n".join(f"{k + ':' if k else '':<17}{v}" for k, v in rows if v not in (None, ""))


def _join(name: str | None, uid: str | None) -> str | None:
    if name and uid and name != uid:
        return f"{name} ({uid})"
    return name or uid


def run_info(files: Sequence[Path], *, as_json: bool) -> int:
    described: list[dict[str, Any]] = []
    failed = False
    for path in files:
        try:
            source = open_image(path)
        except ImageLoadError as exc:
            print(f"prolo-planner: {exc.path}: {exc.reason}", file=sys.stderr)
            failed = True
            continue
        try:
            described.append(describe(source))
        finally:
            source.close()
        if source.info.truncation:  # described all the same: its frames before the cut show
            print(f"prolo-planner: {path}: {source.info.truncation}", file=sys.stderr)
            failed = True
    if as_json:
        print(json.dumps(described, indent=2))
    else:
        print("\n\n".join(_text(d) for d in described))
    return 1 if failed else 0
