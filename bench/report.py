"""docs/benchmarks.md from bench/results/*.json.

The generated parts sit between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` markers and
are replaced on every run; everything outside them (the analysis, the fix proposals) is
written by people and kept as is. `python -m bench --report-only` regenerates without running.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson

from bench import run_section
from bench.markdown import get, ratio_cell, table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
BLOCKS = ("results", "before-after", "runs", "ab")

SKELETON = """# Benchmarks

`make bench` runs `python -m bench`: one real Kafka broker, one `hotline worker`, one
`hotline gateway` and every client on 127.0.0.1, every number next to a baseline measured in
the same run. The machine is shared and noisy, so compare ratios, not absolute numbers.

<!-- bench:results -->
<!-- /bench:results -->

## What holds the numbers back

(analysis of the run above)

## Before / after

<!-- bench:before-after -->
<!-- /bench:before-after -->

## All stored runs

<!-- bench:runs -->
<!-- /bench:runs -->
"""


def _load() -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for path in sorted(RESULTS.glob("*.json")):
        if path.name.endswith(".speedscope.json"):
            continue
        doc = orjson.loads(path.read_bytes())
        if isinstance(doc, dict) and doc.get("schema") == 1 and doc.get("kind") != "ab":
            out.append((path, doc))
    return out


def _load_ab() -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for path in sorted(RESULTS.glob("ab-*.json")):
        doc = orjson.loads(path.read_bytes())
        if isinstance(doc, dict) and doc.get("kind") == "ab":
            out.append((path, doc))
    return out


def ab_block(runs: list[tuple[Path, dict[str, Any]]]) -> str:
    """A/B runs of bench/ab.py: the worker as is (A) and with extra environment (B)."""
    if not runs:
        return "(none yet: `python -m bench.ab --name NAME --worker-env NAME=VALUE`)"
    rows = []
    for path, d in sorted(runs, key=lambda r: r[1].get("started_at", "")):
        s = d.get("summary", {})
        env = " ".join(f"`{k}={v}`" for k, v in (d.get("worker_env_b") or {}).items())
        rows.append(
            [
                f"`bench/results/{path.name}`",
                env,
                d.get("numbers"),
                len(get(d, "sides", "A") or []),
                s.get("a_records_per_s"),
                s.get("b_records_per_s"),
                s.get("b_over_a"),
                s.get("a_worker_cpu_us_per_alert"),
                s.get("b_worker_cpu_us_per_alert"),
                s.get("a_vs_passthrough"),
                s.get("b_vs_passthrough"),
            ]
        )
    head = [
        "file",
        "B: worker env",
        "alerts per side",
        "rounds",
        "A alerts/s",
        "B alerts/s",
        "B ÷ A",
        "A µs CPU/alert",
        "B µs CPU/alert",
        "A ÷ passthrough",
        "B ÷ passthrough",
    ]
    return table(head, rows)


def _main_run(runs: list[tuple[Path, dict[str, Any]]]) -> tuple[Path, dict[str, Any]] | None:
    """The newest before/after run that is not a smoke run (experiments only get listed);
    failing that the newest of any kind."""
    named = [r for r in runs if r[1].get("label") in ("before", "after")] or runs
    full = [r for r in named if r[1].get("mode") != "quick"] or named
    return max(full, key=lambda r: r[1].get("started_at", "")) if full else None


_KEY_METRICS: tuple[tuple[str, tuple[str | int, ...]], ...] = (
    ("stream alerts/s", ("stream", "hotline", "records_per_s")),
    ("passthrough baseline records/s (mean)", ("ratios", "baseline_mean_records_per_s")),
    ("stream ÷ passthrough", ("ratios", "stream_vs_passthrough")),
    ("HTTP path alerts/s (end to end)", ("http_bulk", "records_per_s")),
    ("HTTP ÷ passthrough", ("ratios", "http_vs_passthrough")),
    ("worker µs CPU per alert", ("stream", "hotline", "worker_cpu_us_per_record")),
    ("stream logic alone, alerts/s (in-process)", ("cprofile", "pure_rate_per_s")),
    ("urgent p99 idle, ms (lost probes count)", ("latency_p99_counting_lost", "idle")),
    ("urgent p99 during bulk, ms (lost probes count)", ("latency_p99_counting_lost", "bulk")),
    ("urgent alerts lost during bulk (no event in 10 s)", ("latency", "bulk", "lost")),
    ("fan-out time to all (worst round), ms", ("fanout", "time_to_all_ms", "max")),
    ("worker RSS after M cases, MiB", ("memory", "worker_rss_mib")),
    ("worker bytes per case", ("memory", "bytes_per_case")),
    ("worker restart to urgent delivery, s", ("restart", "restart_to_urgent_delivery_s")),
    ("gateway RSS at end, MiB", ("gateway", "rss_mib_at_end")),
)


def before_after_block(runs: list[tuple[Path, dict[str, Any]]], mode: str | None) -> str:
    def newest(label: str) -> tuple[Path, dict[str, Any]] | None:
        same = [r for r in runs if r[1].get("label") == label and r[1].get("mode") == mode]
        return max(same, key=lambda r: r[1].get("started_at", "")) if same else None

    before, after = newest("before"), newest("after")
    if before is None:
        return "(no `before` run stored yet)"
    head = ["metric", f"before (`{before[0].name}`)"]
    head.append(f"after (`{after[0].name}`)" if after else "after")
    head.append("after ÷ before")
    rows = []
    for name, path in _KEY_METRICS:
        b = get(before[1], *path)
        a = get(after[1], *path) if after else None
        rows.append([name, b, a if after else "to be filled", ratio_cell(a, b) if after else "—"])
    note = (
        f"Both columns are `{mode}` runs. Absolute numbers move with the machine's load;"
        " the ratios to the passthrough baseline of the same run are what compare across runs."
    )
    if after is None:
        note += (
            " When the fixes below land, run `python -m bench --label after` (same options as"
            " the before run); this table fills itself in."
        )
    return table(head, rows) + "\n\n" + note


def runs_block(runs: list[tuple[Path, dict[str, Any]]]) -> str:
    rows = [
        [
            f"`bench/results/{p.name}`",
            d.get("label"),
            d.get("mode"),
            d.get("started_at"),
            get(d, "params", "numbers"),
            get(d, "ratios", "stream_vs_passthrough"),
            get(d, "latency_p99_counting_lost", "idle"),
            get(d, "latency_p99_counting_lost", "bulk"),
            code.get("head", "") + (" + uncommitted" if code.get("changed_files") else ""),
            " ".join(f"`{k}={v}`" for k, v in (get(d, "params", "worker_env") or {}).items()) or "",
        ]
        for p, d in sorted(runs, key=lambda r: r[1].get("started_at", ""))
        for code in [get(d, "machine", "code") or {}]
    ]
    head = [
        "file",
        "label",
        "mode",
        "started",
        "N",
        "stream ÷ passthrough",
        "urgent p99 idle ms",
        "urgent p99 during bulk ms",
        "code",
        "worker env",
    ]
    return table(head, rows)


def _replace(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", re.S)
    if not pattern.search(text):
        text += f"\n<!-- bench:{name} -->\n<!-- /bench:{name} -->\n"
    return pattern.sub(lambda m: m.group(1) + body.strip() + "\n" + m.group(2), text)


def write() -> Path:
    runs = _load()
    text = DOC.read_text() if DOC.exists() else SKELETON
    main = _main_run(runs)
    if main is not None:
        text = _replace(text, "results", run_section.section(*main))
        text = _replace(text, "before-after", before_after_block(runs, main[1].get("mode")))
        text = _replace(text, "runs", runs_block(runs))
    text = _replace(text, "ab", ab_block(_load_ab()))
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)
    return DOC
