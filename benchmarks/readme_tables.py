"""Rewrite the README's speed tables from the benchmarks' JSON, so the figures shown are the
figures measured: `python benchmarks/readme_tables.py README.md [--results DIR]`.

Each table sits between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` in the README and is
made from `results/NAME.json`; a table whose JSON is missing is left as it is (and said so).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _machine(data: dict[str, Any]) -> str:
    m = data.get("machine", {})
    return f"Python {m.get('python', '?')}, {m.get('cpus', '?')} CPUs, {m.get('machine', '?')}"


def cine_table(data: dict[str, Any]) -> str:
    lines = [
        "| cine | first frame | pydicom `pixel_array` | ratio | step p50 / p95 | scrub p95 "
        "| peak memory (pydicom's) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, r in data["results"].items():
        ours, naive = r["viewer"], r["pydicom"]
        first, full = ours["first_frame_ms"], naive["full_decode_ms"]
        lines.append(
            f"| {label}, {ours['frames']} frames ({r['file_mb']:.0f} MB) | {first:.1f} ms "
            f"| {full / 1000:.1f} s | {full / first:.0f}x "
            f"| {ours['step_p50_ms']:.1f} / {ours['step_p95_ms']:.1f} ms "
            f"| {ours['scrub_p95_ms']:.1f} ms "
            f"| {ours['peak_rss_mb']:.0f} MB ({naive['peak_rss_mb']:.0f} MB) |"
        )
    lines.append("")
    lines.append(f"Measured with {_machine(data)}.")
    return "\n".join(lines)


def store_table(data: dict[str, Any]) -> str:
    r = data["results"]
    rows = [
        ("patient search", r["search"]),
        ("open a timeline", r["timeline"]),
        ("load a plan", r["load_plan"]),
        ("autosave a plan", r["autosave"]),
    ]
    lines = [
        f"| session store, {data['patients']:,} patients / "
        f"{int(data['generation']['sessions']):,} sessions | p50 | p95 |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {name} | {s['p50_ms']:.2f} ms | {s['p95_ms']:.2f} ms |" for name, s in rows]
    lines.append(f"| open the store | {r['open_ms']:.1f} ms | |")
    lines.append("")
    lines.append(
        f"Target: search and timeline p95 under {data['target_ms']:.0f} ms. {_machine(data)}."
    )
    return "\n".join(lines)


def startup_table(data: dict[str, Any]) -> str:
    lines = [
        "| start-up to a usable window | median | worst |",
        "| --- | --- | --- |",
        f"| first start, empty store (adds the demo) | {data['first_start_empty_s']:.2f} s | |",
        f"| demo store | {data['demo']['median_s']:.2f} s | {data['demo']['max_s']:.2f} s |",
        f"| {data['patients']:,} patients / {data['sessions']:,} sessions "
        f"| {data['clinic']['median_s']:.2f} s | {data['clinic']['max_s']:.2f} s |",
        "",
        f"Target: under {data['target_s']:.0f} s. {_machine(data)}.",
    ]
    return "\n".join(lines)


def pacs_table(data: dict[str, Any]) -> str:
    lines = [
        f"| the PACS as shared record: {data['sessions']} sessions on {data['images']} images "
        f"({data['images'] * data['image_mb']:.0f} MB), Orthanc on loopback | time |",
        "| --- | --- |",
    ]
    for label, r in data["pull"].items():
        lines.append(f"| pull into an empty store, {label} | {r['seconds']:.1f} s |")
    nagle = data.get("pull_with_nagle")
    if nagle:
        label = "pull, DIMSE C-GET, Orthanc as Debian ships it (Nagle on)"
        lines.append(f"| {label} | {nagle['seconds']:.1f} s |")
    for label, r in data["find"].items():
        lines.append(
            f"| find one patient's plans among {data['patients_on_pacs']:,} patients, {label} "
            f"| {r['median_s'] * 1000:.0f} ms (worst {r['max_s'] * 1000:.0f} ms) |"
        )
    lines += [
        "",
        f"Targets: a pull under {data['pull_target_s']:.0f} s, a search under "
        f"{data['find_target_s']:.0f} s. {_machine(data)}.",
    ]
    return "\n".join(lines)


def edits_table(data: Any) -> str:
    """bench_edits.py writes a list of rows, one per plan size and density."""
    rows = data["rows"] if isinstance(data, dict) else data
    lines = [
        "| one edit (a target dragged a pixel): plan | annotations per image | CPU p50 "
        "| wall p50 / p90 | against the smallest plan |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['annotations']} annotations on {r['images']} image(s) | {r['per_image']} "
            f"| {r['edit_cpu_p50_ms']:.1f} ms | {r['edit_p50_ms']:.1f} / {r['edit_p90_ms']:.1f} ms "
            f"| {r.get('cpu_ratio', 1.0):.2f}x |"
        )
    lines += ["", "Target: an edit at 500 annotations within 2x of one at 10."]
    return "\n".join(lines)


TABLES: dict[str, Callable[[Any], str]] = {
    "cine": cine_table,
    "store": store_table,
    "startup": startup_table,
    "pacs": pacs_table,
    "edits": edits_table,
}


def rewrite(readme: str, results: Path) -> tuple[str, list[str]]:
    """The README with each table it marks made anew, and a line per table said."""
    said = []
    for name, make in TABLES.items():
        pattern = re.compile(
            rf"(<!-- bench:{name} -->\n)(?:.*?\n)?(<!-- /bench:{name} -->)", flags=re.DOTALL
        )
        if not pattern.search(readme):
            said.append(f"{name}: no <!-- bench:{name} --> block in the README")
            continue
        source = results / f"{name}.json"
        if not source.exists():
            said.append(f"{name}: left as it was ({source} not found; run its benchmark)")
            continue
        table = make(json.loads(source.read_text(encoding="utf-8")))
        readme = pattern.sub(lambda m, t=table: m.group(1) + t + "\n" + m.group(2), readme)
        said.append(f"{name}: table rewritten from {source}")
    return readme, said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readme", type=Path)
    parser.add_argument("--results", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    text, said = rewrite(args.readme.read_text(encoding="utf-8"), args.results)
    args.readme.write_text(text, encoding="utf-8")
    print("\n".join(said))
    return 0


if __name__ == "__main__":
    sys.exit(main())
