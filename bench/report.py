"""docs/benchmarks.md, rebuilt whole from bench/results/*.json.

The page holds the intro, one before/after table (bench/compare.py), the analysis, the newest
run of each mode (bench/run_section.py) and one line per A/B run. Only the analysis is written
by people: the text between the notes markers is carried over as it is, everything else is
rewritten on every build. A newer run of a mode therefore replaces that mode's section instead
of piling up next to it; what changed between runs is the before/after table's job, and git's.
`python -m bench --report-only` rebuilds the page without running anything.
"""

from __future__ import annotations

import re
from pathlib import Path

from bench import compare, run_section, stored
from bench.markdown import fmt, get, table
from bench.stored import MODES, Result

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

NOTES_START = "<!-- notes: written by hand, kept as is when the page is rebuilt -->"
NOTES_END = "<!-- /notes -->"
_NOTES = re.compile(rf"{re.escape(NOTES_START)}\n(.*?){re.escape(NOTES_END)}", re.S)

COMMANDS = {
    "quick": "python -m bench --quick",
    "default": "python -m bench",
    "full": "python -m bench --numbers 1000000",
}

INTRO = """\
`make bench` runs `python -m bench`: one real Kafka broker, a worker per lane (`hotline
worker --lane urgent` and `--lane bulk`, as `hotline up` runs them), one `hotline gateway` and
every client on 127.0.0.1. Each phase runs next to a baseline measured
in the same run (Kafka's own ProducerPerformance; a passthrough consumer → producer on the same
records, before and after the stream run), because the machine is shared and noisy (2 cores):
compare **ratios** to the same run's baseline, not absolute rates across runs, and run the
benchmark alone, with nothing else busy on the machine. An urgent probe with no event within
10 s counts as lost, and lost probes count in the p99. The phases are listed in
`bench/__main__.py`; py-spy (`pip install py-spy`, needs ptrace) is optional."""

HOW = """\
A run writes `bench/results/<label>-<mode>.json` (`--label before` is the default; `--label
after`, or any name for an experiment) and rebuilds this page. `python -m bench --report-only`
(`make bench-report`) rebuilds it from the stored results without running anything. Each
mode's section below is its newest stored run, replaced by the next run of that mode; the
before/after table compares it with the newest `before` run of the mode or, if there is
none, with the run it replaced."""


def _modes(runs: list[Result]) -> str:
    rows = []
    for mode in MODES:
        run = stored.latest(runs, mode)
        p = run.doc.get("params", {}) if run else {}
        wall = get(run.doc, "wall_seconds") if run else None
        rows.append(
            [
                mode,
                f"`{COMMANDS[mode]}`",
                p.get("numbers"),
                p.get("consoles"),
                p.get("probes"),
                f"{fmt(wall / 60, 0)} min" if isinstance(wall, int | float) else "—",
            ]
        )
    head = ["mode", "command", "N (bulk alerts)", "consoles", "urgent probes", "last run took"]
    return table(head, rows)


def _mode_section(mode: str, run: Result | None) -> str:
    if run is None:
        return f"## Latest {mode} run\n\nNone stored yet: `{COMMANDS[mode]}`."
    return run_section.section(run)


def _ab_line(run: Result) -> str:
    d, s = run.doc, run.doc.get("summary", {})
    env = " ".join(f"`{k}={v}`" for k, v in (d.get("worker_env_b") or {}).items())
    code = get(d, "machine", "code") or {}
    dirty = " + uncommitted changes" if code.get("changed_files") else ""
    return (
        f"- `{run.path.name}` ({run.started[:10]}, code `{code.get('head')}`{dirty},"
        f" {fmt(d.get('numbers'))} alerts per side,"
        f" {len(get(d, 'sides', 'A') or [])} rounds): B = A + {env}. B ran at"
        f" {fmt(s.get('b_over_a'))}× A's alerts/s ({fmt(s.get('a_vs_passthrough'))} →"
        f" {fmt(s.get('b_vs_passthrough'))} × passthrough), worker CPU per alert"
        f" {fmt(s.get('a_worker_cpu_us_per_alert'))} → {fmt(s.get('b_worker_cpu_us_per_alert'))}"
        " µs."
    )


def _ab(runs: list[Result]) -> str:
    if not runs:
        return "None stored: `python -m bench.ab --name NAME --worker-env NAME=VALUE`."
    lines = [_ab_line(r) for r in sorted(runs, key=lambda r: r.started)]
    return (
        "`python -m bench.ab`: the worker as it is (A) and with extra environment (B), back to"
        " back on one broker. One line per stored run:\n\n" + "\n".join(lines)
    )


def notes_of(page: str) -> str | None:
    """The hand-written analysis of an existing page, or None if it has no notes markers."""
    found = _NOTES.search(page)
    return found.group(1) if found else None


def render(runs: list[Result], ab_runs: list[Result], notes: str | None) -> str:
    body = notes if notes is not None else "(Not written yet.)\n"
    parts = [
        "# Benchmarks",
        "<!-- Built by `python -m bench --report-only` from bench/results/*.json. Edit only"
        " between the notes markers: everything else is rewritten on every build. -->",
        INTRO,
        _modes(runs),
        HOW,
        "## Before / after\n\n" + compare.block(runs),
        f"## What holds the numbers back\n\n{NOTES_START}\n{body}{NOTES_END}",
        *(_mode_section(mode, stored.latest(runs, mode)) for mode in MODES),
        "## A/B runs of worker tunings\n\n" + _ab(ab_runs),
    ]
    return "\n\n".join(parts) + "\n"


def write(results: Path = stored.RESULTS, doc: Path = DOC) -> Path:
    notes = notes_of(doc.read_text()) if doc.exists() else None
    doc.parent.mkdir(exist_ok=True)
    doc.write_text(render(stored.runs(results), stored.ab_runs(results), notes))
    return doc
