"""docs/benchmarks.md, rebuilt whole from bench/results/<mode>.json.

One results file per mode (quick, default, full), each replaced by the mode's next run; the
page shows them side by side: the targets with their verdicts, the numbers that explain them,
and what each run was. Only the analysis is written by people: the text between the notes
markers is carried over as it is. `python -m bench --report-only` rebuilds the page.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import orjson

from bench.targets import MEASUREMENTS, TARGETS, Doc, get, stated, verdict

RESULTS = Path(__file__).resolve().parent / "results"
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
MODES = ("quick", "default", "full")
COMMANDS = {
    "quick": "python -m bench --quick",
    "default": "python -m bench",
    "full": "python -m bench --numbers 1000000",
}

NOTES_START = "<!-- notes: written by hand, kept as is when the page is rebuilt -->"
NOTES_END = "<!-- /notes -->"
_NOTES = re.compile(rf"{re.escape(NOTES_START)}\n(.*?){re.escape(NOTES_END)}", re.S)

INTRO = """\
`make bench` runs `python -m bench`: one real Kafka broker, a worker per lane (`hotline
worker --lane urgent` and `--lane bulk`, as `hotline up` runs them), one `hotline gateway` and
every client on 127.0.0.1. The stream is timed next to a passthrough baseline (consume →
produce the same records, before and after the stream run, in the same run), because the
machine is shared and noisy (2 cores): compare **ratios** to the same run's baseline, not
absolute rates across runs, and run the benchmark alone. An urgent probe with no event within
10 s counts as lost, and lost probes count in the p99. The phases are listed in
`bench/__main__.py`. Each mode's column is its newest run (`bench/results/<mode>.json`,
replaced by the next run of that mode; git keeps the older ones)."""


def fmt(value: Any, digits: int | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if digits is None:  # ratios keep three decimals, rates and times one
            digits = 3 if abs(value) < 1 else 2 if abs(value) < 10 else 1
        return f"{value:,.{digits}f}"
    return str(value)


def table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])


def runs(results: Path = RESULTS) -> dict[str, Doc]:
    """The newest stored run of each mode."""
    found: dict[str, Doc] = {}
    for mode in MODES:
        path = results / f"{mode}.json"
        if path.exists():
            found[mode] = orjson.loads(path.read_bytes())
    return found


def _targets(docs: dict[str, Doc]) -> str:
    rows = []
    for m in TARGETS:
        cells = []
        for mode in MODES:
            doc = docs.get(mode)
            if doc is None:
                cells.append("")
                continue
            cells.append(f"{fmt(m.value(doc))} {verdict(m, doc)}".strip())
        rows.append([m.label, stated(m), *cells])
    return table(["", "target", *MODES], rows)


def _measurements(docs: dict[str, Doc]) -> str:
    rows = [
        [m.label, *(fmt(m.value(docs[mode])) if mode in docs else "" for mode in MODES)]
        for m in MEASUREMENTS
    ]
    return table(["", *MODES], rows)


def _runs(docs: dict[str, Doc]) -> str:
    rows = []
    for mode in MODES:
        doc = docs.get(mode)
        if doc is None:
            rows.append([mode, f"`{COMMANDS[mode]}`", "none stored yet", "", "", ""])
            continue
        m = doc.get("machine", {})
        code = get(m, "code", "head") or "?"
        dirty = " + changes" if get(m, "code", "changed_files") else ""
        wall = doc.get("wall_seconds")
        took = f"{fmt(wall / 60, 0)} min" if isinstance(wall, int | float) else "—"
        load = f"{m.get('load_avg_at_start')} → {m.get('load_avg_at_end')}"
        errors = ", ".join(sorted(doc.get("errors") or {})) or "none"
        rows.append(
            [
                mode,
                f"`{COMMANDS[mode]}`",
                f"{str(doc.get('started_at'))[:16]}, `{code}`{dirty}",
                took,
                load,
                errors,
            ]
        )
    head = ["mode", "command", "started, code", "took", "load average start → end", "failed phases"]
    machine = next(iter(docs.values()), {}).get("machine", {})
    facts = (
        f"Machine of the newest run: {machine.get('nproc')} cores ({machine.get('cpu_model')}),"
        f" {machine.get('mem_total_gib')} GiB, Python {machine.get('python')}, Kafka"
        f" {machine.get('kafka')} (KRaft, one node) on {machine.get('java')}."
    )
    return table(head, rows) + "\n\n" + facts


def notes_of(page: str) -> str | None:
    """The hand-written analysis of an existing page, or None if it has no notes markers."""
    found = _NOTES.search(page)
    return found.group(1) if found else None


def render(docs: dict[str, Doc], notes: str | None) -> str:
    body = notes if notes is not None else "(Not written yet.)\n"
    parts = [
        "# Benchmarks",
        "<!-- Built by `python -m bench --report-only` from bench/results/<mode>.json. Edit only"
        " between the notes markers: everything else is rewritten on every build. -->",
        INTRO,
        "## Targets\n\n" + _targets(docs),
        f"## What holds the numbers back\n\n{NOTES_START}\n{body}{NOTES_END}",
        "## What explains them\n\n" + _measurements(docs),
        "## The runs\n\n" + _runs(docs),
    ]
    return "\n\n".join(parts) + "\n"


def write(results: Path = RESULTS, doc: Path = DOC) -> Path:
    notes = notes_of(doc.read_text()) if doc.exists() else None
    doc.parent.mkdir(exist_ok=True)
    doc.write_text(render(runs(results), notes))
    return doc
