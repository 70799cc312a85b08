"""Session store speed at clinic scale: patient search and a patient's timeline, 10,000 patients.

Generates a store of 10,000 fictitious patients and 100,000 sessions, each with a plan document
of realistic size and its timeline totals (executemany in one transaction, in a temporary
folder), then measures through the Repository API, as the app calls it:
  - patient search: varied queries (name prefixes of 1 to 6 letters, given names, ID prefixes,
    two-word queries, misses), p50/p95;
  - opening a timeline: sessions_of(patient) for random patients, p50/p95;
  - loading a plan and autosaving it (one changed target), p50/p95;
  - opening the store (start-up: connect, pragmas, version check).
Prints a table with the targets and writes benchmarks/results/store.json.

    python benchmarks/bench_store.py [--patients 10000] [--sessions 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prolo_planner.core.geometry import Point
from prolo_planner.core.plan import (
    ImagePlan,
    ImageRef,
    Injectate,
    NeedlePath,
    Plan,
    SiteStatus,
    Target,
)
from prolo_planner.store.database import DB_NAME
from prolo_planner.store.patients import search_terms
from prolo_planner.store.plan_rows import document_text, plan_summary
from prolo_planner.store.repository import Repository

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "store.json"
TARGET_MS = 100.0
SEED = 20260314

FAMILY = """SMITH JONES TAYLOR BROWN WILLIAMS WILSON JOHNSON DAVIES ROBINSON WRIGHT THOMPSON EVANS
WALKER WHITE ROBERTS GREEN HALL WOOD JACKSON CLARKE MÜLLER SCHMIDT SCHNEIDER FISCHER WEBER
MEYER WAGNER BECKER SCHULZ HOFFMANN MARTIN BERNARD DUBOIS THOMAS ROBERT RICHARD PETIT DURAND
LEROY MOREAU GARCÍA FERNÁNDEZ GONZÁLEZ RODRÍGUEZ LÓPEZ MARTÍNEZ SÁNCHEZ PÉREZ ROSSI RUSSO
FERRARI ESPOSITO BIANCHI ROMANO COLOMBO RICCI MARINO GRECO NOWAK KOWALSKI WIŚNIEWSKI
WÓJCIK KOWALCZYK KAMIŃSKI LEWANDOWSKI ZIELIŃSKI SZYMAŃSKI DE-JONG JANSEN DE-VRIES VAN-DIJK
BAKKER VISSER SMIT MEIJER DE-BOER MULDER O'BRIEN MURPHY KELLY SULLIVAN WALSH NGUYEN TRAN LE
PHAM HOANG KIM LEE PARK CHOI CHUNG WANG LI ZHANG LIU CHEN YANG HUANG ZHAO SATO SUZUKI TAKAHASHI
TANAKA WATANABE ITO YAMAMOTO NAKAMURA KOBAYASHI KATO ANDERSSON JOHANSSON KARLSSON NILSSON
ERIKSSON LARSSON OLSSON PERSSON SVENSSON GUSTAFSSON SILVA SANTOS FERREIRA PEREIRA OLIVEIRA
COSTA RODRIGUES ALMEIDA NASCIMENTO LIMA""".split()  # noqa: SIM905 - reads as a name list
GIVEN = """Anna Ben Clara David Emma Felix Grace Hugo Ida Jonas Karin Leo Maria Noah Olga Paul
Quinn Rosa Sam Tara Uma Victor Wendy Xavier Yara Zoe Alex Beatriz Carlos Dana Elif Farid Greta
Hana Ilse Jürgen Kenji Lucía Mateo Nadia Oskar Priya Ravi Sofia Tomás Ulla Vera Wei Yusuf Zofia
José François Zoë Søren Åsa Renée Chloé Jörg Ana-Maria Jean-Luc""".split()  # noqa: SIM905
REGIONS = [
    "lumbar_spine",
    "sacroiliac_pelvis",
    "hip",
    "knee",
    "shoulder",
    "cervical_spine",
    "ankle_foot",
    "elbow",
    "wrist_hand",
    "thoracic_spine_ribs",
]
SIDES = ["left", "right", "midline", "bilateral"]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _template_plans(data_dir: Path, rng: random.Random) -> list[tuple[str, str, Any]]:
    """A few plans of 2 to 8 sites, stored as the app stores them (document and totals)."""
    out = []
    for n in range(2, 9):
        image = ImagePlan(ImageRef(str(data_dir / "library/ab/cdef.dcm"), "1.2.3", "ab" * 32))
        annotations: list[Any] = []
        for i in range(n):
            t = Target(
                image.id,
                Point(rng.uniform(50, 600), rng.uniform(80, 450)),
                name=f"site {i}",
                status=SiteStatus.INJECTED,
                injectate=Injectate(15.0, volume_ml=rng.choice([0.5, 1.0, 1.5, 2.0])),
            )
            annotations += [t, NeedlePath(image.id, Point(t.position.x, 82.0), t.id)]
        plan = Plan((image,), tuple(annotations), 70.0, "template")
        text, version = document_text(plan, data_dir)
        out.append((text, version, plan_summary(plan)))
    return out


def generate(data_dir: Path, patients: int, sessions: int) -> dict[str, float]:
    """Fill a new store; returns how long each part took."""
    rng = random.Random(SEED)
    started = time.perf_counter()
    Repository.open(data_dir).close()  # the schema, through the real migrations
    conn = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")  # generation only; the app never does this
    templates = _template_plans(data_dir, rng)
    now = "2026-03-14T08:00:00.000Z"
    conn.execute("BEGIN")
    people, terms = [], []
    for pid in range(1, patients + 1):
        name = f"{rng.choice(FAMILY)}^{rng.choice(GIVEN)}"
        mrn = f"MRN-{pid * 7919 % 10_000_000:07d}"
        birth = f"{rng.randint(1930, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        people.append((pid, mrn, name, birth, rng.choice("MFO"), rng.randint(45, 120), now))
        terms += [(t, pid) for t in search_terms(mrn, name)]
    conn.executemany(
        "INSERT INTO patients (id, mrn, name, birth_date, sex, weight_kg,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        people,
    )
    conn.executemany("INSERT INTO patient_terms (term, patient_id) VALUES (?, ?)", terms)
    t_patients = time.perf_counter()
    # Sessions per patient vary: most have a handful, some long courses.
    weights = [rng.paretovariate(1.5) for _ in range(patients)]
    scale = sessions / sum(weights)
    counts = [max(1, round(w * scale)) for w in weights]
    rows, plans, sid = [], [], 0
    for pid, count in enumerate(counts, start=1):
        day = rng.randint(0, 3000)
        for _ in range(count):
            if sid >= sessions:
                break
            sid += 1
            day += rng.randint(14, 42)
            when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1451638800 + day * 86400))
            signed = rng.random() < 0.9
            rows.append(
                (
                    sid,
                    pid,
                    when,
                    rng.choice(REGIONS),
                    rng.choice(SIDES),
                    "Dr Bench",
                    rng.randint(3, 9),
                    rng.randint(0, 6),
                    "",
                    "signed" if signed else "draft",
                    now if signed else None,
                    now,
                    now,
                    f"{rng.getrandbits(128):032x}",  # each version's uid (store step 6)
                )
            )
            text, version, s = rng.choice(templates)
            plans.append(
                (
                    sid,
                    text,
                    version,
                    1,
                    now,
                    s.site_count,
                    s.site_names_json,
                    s.total_ml,
                    s.dextrose_g,
                    s.anaesthetic_json,
                )
            )
    conn.executemany(
        "INSERT INTO sessions (id, patient_id, started_at, region, side, clinician,"
        " pain_before, pain_after, notes, state, signed_at, created_at, updated_at, uid)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.executemany(
        "INSERT INTO plans (session_id, document, format_version, revision,"
        " saved_at, site_count, site_names, total_ml, dextrose_g, anaesthetic_mg)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        plans,
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    done = time.perf_counter()
    return {"patients_s": t_patients - started, "total_s": done - started, "sessions": sid}


def _queries(rng: random.Random, repo: Repository, n: int) -> list[str]:
    with repo.db.read() as conn:
        mrns = [r[0] for r in conn.execute("SELECT mrn FROM patients").fetchall()]
    out = []
    for i in range(n):
        kind = i % 6
        family = rng.choice(FAMILY).lower()
        given = rng.choice(GIVEN).lower()
        if kind == 0:
            out.append(family[: rng.randint(1, 3)])  # a short prefix: many matches
        elif kind == 1:
            out.append(family[: rng.randint(4, 6)])
        elif kind == 2:
            out.append(given)
        elif kind == 3:
            out.append(rng.choice(mrns)[: rng.randint(5, 11)])
        elif kind == 4:
            out.append(f"{family[:3]} {given[:2]}")
        else:
            out.append(rng.choice(["zzyzx", "qqq", "xylophone", "mrn-99999999"]))
    return out


def _timed(calls: list[Callable[[], Any]]) -> tuple[list[float], list[Any]]:
    times, results = [], []
    for call in calls:
        t = time.perf_counter()
        results.append(call())
        times.append((time.perf_counter() - t) * 1000.0)
    return times, results


def measure(data_dir: Path, samples: int) -> dict[str, Any]:
    rng = random.Random(SEED + 1)
    t = time.perf_counter()
    repo = Repository.open(data_dir)
    open_ms = (time.perf_counter() - t) * 1000.0
    with repo.db.read() as conn:
        patients = conn.execute("SELECT count(*) FROM patients").fetchone()[0]
        drafts = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM sessions WHERE state = 'draft' ORDER BY random() LIMIT ?",
                (samples,),
            )
        ]
    queries = _queries(rng, repo, samples)
    search_ms, found = _timed([lambda q=q: repo.search_patients(q) for q in queries])
    ids = [rng.randint(1, patients) for _ in range(samples)]
    timeline_ms, rows = _timed([lambda p=p: repo.sessions_of(p) for p in ids])
    load_ms, loaded = _timed([lambda s=s: repo.load_plan(s) for s in drafts])
    edited = []
    for s, plan in zip(drafts, loaded, strict=True):
        first = plan.targets()[0]
        moved = dataclasses.replace(first, position=Point(first.position.x + 1, first.position.y))
        edited.append(
            (s, plan.with_annotations(moved if a.id == first.id else a for a in plan.annotations))
        )
    save_ms, _ = _timed([lambda s=s, p=p: repo.save_plan(s, p) for s, p in edited])
    repo.close()
    sizes = [len(f) for f in found]
    per_patient = [len(r) for r in rows]
    return {
        "open_ms": open_ms,
        "search": _stats(search_ms)
        | {"queries": len(queries), "mean_hits": sum(sizes) / len(sizes)},
        "timeline": _stats(timeline_ms) | {"max_sessions": max(per_patient)},
        "load_plan": _stats(load_ms),
        "autosave": _stats(save_ms),
        "db_mb": sum(p.stat().st_size for p in data_dir.glob(DB_NAME + "*")) / 1e6,
    }


def _stats(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": _percentile(ms, 50), "p95_ms": _percentile(ms, 95), "max_ms": max(ms)}


def report(gen: dict[str, float], m: dict[str, Any], patients: int) -> tuple[list[str], bool]:
    rows = [
        ("patient search p50", m["search"]["p50_ms"], None),
        ("patient search p95", m["search"]["p95_ms"], TARGET_MS),
        ("open a timeline p50", m["timeline"]["p50_ms"], None),
        ("open a timeline p95", m["timeline"]["p95_ms"], TARGET_MS),
        ("load a plan p95", m["load_plan"]["p95_ms"], None),
        ("autosave a plan p95", m["autosave"]["p95_ms"], None),
        ("open the store", m["open_ms"], None),
    ]
    lines = [
        f"store: {patients} patients, {int(gen['sessions'])} sessions with plans, "
        f"{m['db_mb']:.0f} MB; generated in {gen['total_s']:.1f} s",
        f"  {'measure':28} {'value':>10}   {'target':>10}",
    ]
    ok = True
    for name, value, target in rows:
        verdict = ""
        if target is not None:
            passed = value < target
            ok &= passed
            verdict = "PASS" if passed else "FAIL"
        shown = f"< {target:.0f} ms" if target else ""
        lines.append(f"  {name:28} {value:>7.2f} ms   {shown:>10}  {verdict}")
    lines.append(
        f"  ({m['search']['queries']} queries, {m['search']['mean_hits']:.1f} hits on average; "
        f"longest timeline {m['timeline']['max_sessions']} sessions)"
    )
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--keep", type=Path, help="build the store in DIR and keep it")
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument(
        "--smoke", action="store_true", help="check that it runs; the exit status ignores targets"
    )
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="prolo-bench-store-"))
    if args.keep and (folder / DB_NAME).exists():
        sys.exit(f"{folder / DB_NAME} exists; choose an empty folder")
    try:
        print(f"generating {args.patients} patients, {args.sessions} sessions ...", flush=True)
        gen = generate(folder, args.patients, args.sessions)
        print("measuring ...", flush=True)
        m = measure(folder, args.samples)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    lines, ok = report(gen, m, args.patients)
    print("\n" + "\n".join(lines))
    machine = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    result = {
        "machine": machine,
        "patients": args.patients,
        "generation": gen,
        "results": m,
        "target_ms": TARGET_MS,
        "pass": ok,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0 if ok or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
