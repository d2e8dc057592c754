"""docs/benchmarks.md from bench/results/*.json.

The generated parts sit between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` markers and
are replaced on every run; everything outside them (the analysis, the fix proposals) is
written by people and kept as is. `python -m bench --report-only` regenerates without running.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import orjson

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
                len(_g(d, "sides", "A") or []),
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
    return _table(head, rows)


def _main_run(runs: list[tuple[Path, dict[str, Any]]]) -> tuple[Path, dict[str, Any]] | None:
    """The newest before/after run that is not a smoke run (experiments only get listed);
    failing that the newest of any kind."""
    named = [r for r in runs if r[1].get("label") in ("before", "after")] or runs
    full = [r for r in named if r[1].get("mode") != "quick"] or named
    return max(full, key=lambda r: r[1].get("started_at", "")) if full else None


def _g(doc: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(doc, dict):
            doc = doc.get(key)
        elif isinstance(doc, list) and isinstance(key, int) and -len(doc) <= key < len(doc):
            doc = doc[key]
        else:
            return None
    return doc


def _f(value: Any, digits: int | None = None) -> str:
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


def _table(head: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += [
        "| " + " | ".join(_f(c) if not isinstance(c, str) else c for c in r) + " |" for r in rows
    ]
    return "\n".join(lines)


def _machine(doc: dict[str, Any]) -> str:
    m = doc.get("machine", {})
    pk = m.get("packages", {})
    rows = [
        ["CPU", f"{m.get('nproc')} cores usable ({m.get('cpu_model')})"],
        ["RAM", f"{m.get('mem_total_gib')} GiB"],
        [
            "load average (1/5/15 min) at start → end",
            f"{m.get('load_avg_at_start')} → {m.get('load_avg_at_end')}",
        ],
        ["kernel", m.get("kernel")],
        ["Python", m.get("python")],
        ["Kafka", f"{m.get('kafka')} (KRaft, single node) on {m.get('java')}"],
        ["packages", ", ".join(f"{k} {v}" for k, v in sorted(pk.items()))],
    ]
    return _table(["", ""], rows)


def _throughput(doc: dict[str, Any]) -> str:
    s = doc.get("stream") or {}
    r = doc.get("ratios") or {}
    base = r.get("baseline_mean_records_per_s")
    rows: list[list[Any]] = []
    ceiling = doc.get("broker_ceiling") or {}
    if ceiling:
        rows.append(
            [
                "Kafka ProducerPerformance (broker ceiling, writes only)",
                ceiling.get("records"),
                None,
                ceiling.get("records_per_s"),
                _ratio(ceiling.get("records_per_s"), base),
            ]
        )
    for b in s.get("baseline", []):
        rows.append(
            [
                f"passthrough baseline `{b['label']}`",
                b["records"],
                b["seconds"],
                b["records_per_s"],
                _ratio(b["records_per_s"], base),
            ]
        )
    hot = s.get("hotline")
    if hot:
        rows.append(
            [
                "**hotline stream** (direct to inbound.bulk → deliveries)",
                hot["records"],
                hot["seconds"],
                hot["records_per_s"],
                _ratio(hot["records_per_s"], base),
            ]
        )
    prof_run = _g(doc, "profile", "run")
    if prof_run:
        rows.append(
            [
                f"hotline stream, {prof_run['label']} (profiling run)",
                prof_run["records"],
                prof_run["seconds"],
                prof_run["records_per_s"],
                _ratio(prof_run["records_per_s"], base),
            ]
        )
    http = doc.get("http_bulk")
    if http:
        rows.append(
            [
                f"**HTTP path** (`hotline import`-style, {http['batch']:,}/request) end to end",
                http["records"],
                http["seconds"],
                http["records_per_s"],
                _ratio(http["records_per_s"], base),
            ]
        )
        rows.append(
            [
                f"HTTP path: gateway intake only (202s; {_f(http.get('rejected'))} of"
                f" {_f(http['records'])} items refused: {http.get('item_statuses')})",
                http["accepted"],
                http["ingest_seconds"],
                http["ingest_records_per_s"],
                _ratio(http["ingest_records_per_s"], base),
            ]
        )
    table = _table(["path", "records", "seconds", "records/s", "× passthrough"], rows)
    notes = []
    if hot:
        notes.append(
            f"Worker CPU during the stream run: {_f(hot.get('worker_cpu_us_per_record'))} µs per"
            f" alert, {_f(hot.get('worker_cpu_utilisation'), 2)} cores busy on average"
            f" (broker: {_f(_g(hot, 'cpu_seconds', 'broker'))} CPU-s). The writer fed"
            f" {_f(hot.get('writer_records_per_s'))} records/s, so it was never the limit."
        )
    cp = doc.get("cprofile") or {}
    if cp:
        notes.append(
            f"The stream logic alone (`Processor.submission` in-process on dicts, no Faust, no"
            f" Kafka) runs at {_f(cp.get('pure_rate_per_s'))} alerts/s"
            f" ({_f(cp.get('pure_us_per_record'))} µs per alert,"
            f" {_f(cp.get('outputs_per_record'), 2)} output records per alert)."
        )
    if hot and hot.get("records_written_per_alert"):
        per = hot["records_written_per_alert"]
        notes.append(
            f"Records the worker wrote per alert: {_f(hot.get('records_written_per_alert_total'))}"
            " (" + ", ".join(f"{t} {_f(n)}" for t, n in per.items()) + "); the passthrough"
            " writes 1 per record."
        )
    return table + "\n\n" + "\n".join(f"- {n}" for n in notes)


def _ratio(value: Any, base: Any) -> str:
    numbers = (int, float)
    if not isinstance(value, numbers) or not isinstance(base, numbers) or not value or not base:
        return "—"  # missing, or a phrase such as "lost: 29 of 30 probes"
    return f"{value / base:.2f}"


def _latency(doc: dict[str, Any]) -> str:
    rows = []
    for cond, key in (("idle", "idle"), ("during bulk import", "bulk")):
        lat = _g(doc, "latency", key)
        if not lat:
            continue
        for metric, label in (
            ("post_to_ws", "POST sent → on socket"),
            ("accepted_to_ws", "202 → on socket"),
            ("post_to_202", "POST sent → 202 (gateway intake)"),
            ("accepted_to_topic", "202 → on cn-beijing delivery topic (worker)"),
            ("topic_to_ws", "delivery topic → on socket (gateway fan-out)"),
        ):
            m = lat.get(metric)
            if m is None:
                continue
            rows.append(
                [
                    cond,
                    label,
                    m.get("n"),
                    m.get("p50_ms"),
                    m.get("p90_ms"),
                    m.get("p99_ms"),
                    m.get("max_ms"),
                ]
            )
    out = _table(["condition", "interval", "alerts", "p50 ms", "p90 ms", "p99 ms", "max ms"], rows)
    notes = []
    for key in ("idle", "bulk"):
        lat = _g(doc, "latency", key) or {}
        if lat.get("lost") or lat.get("refused") or lat.get("console_reconnects"):
            notes.append(
                f"{key}: {lat.get('lost')} lost, {lat.get('refused')} refused, console reconnects"
                f" {lat.get('console_reconnects')} (close codes {lat.get('console_close_codes')})"
            )
    bulk = _g(doc, "latency", "bulk", "bulk_during_probes")
    if bulk:
        notes.append(
            f"The import: {_f(bulk.get('import_size'))} alerts posted"
            f" ({_f(bulk.get('importer_accepted'))} accepted before it was stopped),"
            f" {_f(bulk.get('import_alerts_delivered_while_probing'))} of them delivered to"
            " cn-beijing while the probes ran."
            f" While the probes ran ({_f(bulk.get('seconds'))} s), it pushed"
            f" {_f(bulk.get('bulk_ingested_per_s'))} alerts/s into the bulk lane and cn-beijing"
            f" received {_f(bulk.get('cn_beijing_deliveries_per_s'))} delivery events/s; import"
            f" batch response p50/max {_f(_g(bulk, 'importer_batch_ms', 'p50_ms'))}/"
            f"{_f(_g(bulk, 'importer_batch_ms', 'max_ms'))} ms; import items answered"
            f" {bulk.get('importer_item_statuses')}; whole requests waited out (429/503)"
            f" {bulk.get('importer_retried_requests') or {}}."
        )
        if bulk.get("cores_busy"):
            notes.append(
                "Cores kept busy meanwhile (1.0 = one saturated event loop): "
                + ", ".join(f"{k} {_f(v)}" for k, v in bulk["cores_busy"].items())
                + "."
            )
    return out + ("\n\n" + "\n".join(f"- {n}" for n in notes) if notes else "")


def _fanout(doc: dict[str, Any]) -> str:
    f = doc.get("fanout") or {}
    if not f:
        return "(not measured)"
    rows = [
        [
            i + 1,
            r.get("received"),
            r.get("missing"),
            r.get("post_to_202_ms"),
            _g(r, "per_console", "p50_ms"),
            _g(r, "per_console", "p99_ms"),
            _g(r, "per_console", "max_ms"),
            r.get("time_to_all_ms"),
        ]
        for i, r in enumerate(f.get("rounds", []))
    ]
    head = [
        "round",
        "consoles with it",
        "missing",
        "POST→202 ms",
        "p50 ms",
        "p99 ms",
        "max ms",
        "time to all ms",
    ]
    return (
        f"{_f(f.get('consoles'))} cn-beijing consoles in {f.get('client_processes')} client"
        f" process(es), signed in in {_f(f.get('connect_s'), 2)} s. Per-console times run from"
        " the POST being sent to that console's `new` event.\n\n" + _table(head, rows)
    )


def _memory(doc: dict[str, Any]) -> str:
    m = doc.get("memory") or {}
    g = doc.get("gateway") or {}
    rows = [
        ["worker, idle after start", None, m.get("worker_idle_rss_mib")],
        [
            f"worker, after the stream run (M = {_f(m.get('cases'))} cases)",
            m.get("cases"),
            m.get("worker_rss_mib"),
        ],
        ["worker, end of run (all phases)", None, m.get("worker_rss_mib_at_end")],
        [
            f"gateway at start (holds {_f(g.get('alert_states_at_start'))} alert states; ready in"
            f" {_f(g.get('start_s_with_states'))} s)",
            None,
            g.get("rss_mib_at_start"),
        ],
        ["gateway, end of run", None, g.get("rss_mib_at_end")],
    ]
    out = _table(["process", "cases", "VmRSS MiB"], rows)
    if m.get("bytes_per_case"):
        out += f"\n\n- Growth per case: {_f(m['bytes_per_case'])} bytes of worker RSS."
    if m.get("extrapolated_rss_mib_at_1m_cases"):
        out += (
            f"\n- **Extrapolated, not measured**: linear growth puts the worker at about"
            f" {_f(m['extrapolated_rss_mib_at_1m_cases'])} MiB with 1,000,000 cases"
            " (run `python -m bench --numbers 1000000` to measure it)."
        )
    return out


def _restart(doc: dict[str, Any]) -> str:
    r = doc.get("restart")
    if not r:
        return "Not measured in this run."
    return _table(
        ["cases held", "start to ready, s", "start to urgent alert on socket, s", "replayed"],
        [
            [
                r.get("cases"),
                r.get("worker_ready_s"),
                r.get("restart_to_urgent_delivery_s"),
                r.get("changelog_records_replayed"),
            ]
        ],
    ) + (
        "\n\nThe urgent alert is posted right after the new worker process is started (the"
        ' gateway accepts it meanwhile); "replayed" is the changelog records the restarted'
        " worker read back into its tables."
    )


def _hotspots(doc: dict[str, Any]) -> str:
    parts = []
    spy = _g(doc, "profile", "py_spy")
    if spy:
        run = _g(doc, "profile", "run") or {}
        threads = spy.get("threads", [])
        parts.append(
            f"py-spy (100 Hz, `--nonblocking`, by function) on the live worker during a further"
            f" {_f(run.get('records'))}-alert bulk run. Raw profile: `{spy.get('speedscope_file')}`"
            " (open in speedscope.app). Per thread, *busy* is the share of samples not waiting"
            " in the event loop's `select`; the tables give shares of the busy samples."
        )
        parts.append(
            _table(
                ["thread", "samples", "busy %", "top own-time functions"],
                [
                    [
                        t["thread"],
                        t["samples"],
                        t["busy_pct"],
                        "; ".join(f"{r['function']} {r['pct']} %" for r in t["top_self"][:3]),
                    ]
                    for t in threads
                ],
            )
        )
        main = threads[0] if threads else None
        if main:
            parts.append(
                f"**{main['thread']}: inclusive (function and everything it calls)**\n\n"
                + _table(
                    ["function", "% busy"],
                    [[r["function"], r["pct"]] for r in main["top_inclusive"][:22]],
                )
            )
            parts.append(
                f"**{main['thread']}: own time (the function's code and the C calls it makes)**"
                "\n\n"
                + _table(
                    ["function", "% busy"],
                    [[r["function"], r["pct"]] for r in main["top_self"][:20]],
                )
            )
            parts.append(
                f"**{main['thread']}: by package** (own time; and inclusive = the package is"
                " anywhere on the stack)\n\n"
                + _table(
                    ["package", "own %", "inclusive %"],
                    _package_rows(main),
                )
            )
    elif _g(doc, "profile", "py_spy_error"):
        parts.append(f"py-spy unavailable: {_g(doc, 'profile', 'py_spy_error')}")
    cp = doc.get("cprofile") or {}
    if cp:
        stages = cp.get("profiled_us_per_record_by_stage", {})
        parts.append(
            f"cProfile of the stream logic in-process ({_f(cp.get('records'))} of the same records,"
            " dict tables; cProfile inflates the µs: compare them with each other)"
            "\n\n"
            + _table(["stage (inclusive)", "µs per alert"], [[k, v] for k, v in stages.items()])
        )
        parts.append(
            "\n"
            + _table(
                ["function (by own time)", "calls/alert", "% own time", "cumulative µs/alert"],
                [
                    [
                        r["function"],
                        r["calls_per_record"],
                        r["tottime_pct"],
                        r["cumtime_us_per_record"],
                    ]
                    for r in cp.get("top_tottime", [])[:15]
                ],
            )
        )
    return "\n\n".join(parts)


def _package_rows(thread: dict[str, Any]) -> list[list[Any]]:
    own = {r["package"]: r["pct"] for r in thread.get("self_by_package", [])}
    incl = {r["package"]: r["pct"] for r in thread.get("inclusive_by_package", [])}
    names = sorted(set(own) | set(incl), key=lambda p: (-(incl.get(p) or own.get(p) or 0), p))
    return [[p, own.get(p), incl.get(p)] for p in names[:14]]


def _targets(doc: dict[str, Any]) -> str:
    verdict = {True: "**met**", False: "**not met**", None: "n/a (fewer consoles than 1,000)"}
    rows = [
        [
            t["target"],
            _f(t["value"], 3 if isinstance(t["value"], float) and t["value"] < 1 else 1),
            verdict[t["met"]],
        ]
        for t in doc.get("targets", [])
    ]
    return _table(["target", "measured", ""], rows)


def _code_line(doc: dict[str, Any]) -> str:
    code = _g(doc, "machine", "code") or {}
    changed = code.get("changed_files") or []
    digests = ", ".join(f"{k} `{v}`" for k, v in (code.get("source_digests") or {}).items())
    return (
        f"Code measured: HEAD `{code.get('head')}`"
        + (
            f" plus uncommitted changes to {', '.join(f'`{c}`' for c in changed)}"
            if changed
            else ""
        )
        + f"; source digests {digests}."
    )


def results_block(path: Path, doc: dict[str, Any]) -> str:
    p = doc.get("params", {})
    errors = doc.get("errors") or {}
    parts = [
        f"## Run `{path.name}` — {doc.get('label')}, {doc.get('mode')} mode,"
        f" {doc.get('started_at')}",
        _code_line(doc),
        f"Command: `{doc.get('command')}` (wall time {_f(doc.get('wall_seconds'))} s;"
        f" N = {_f(p.get('numbers'))}, consoles = {_f(p.get('consoles'))},"
        f" {_f(p.get('probes'))} urgent alerts per latency phase)",
        "### Machine\n\n" + _machine(doc),
        "### Targets\n\n" + _targets(doc),
        "### Bulk throughput\n\n" + _throughput(doc),
        "### Urgent-alert latency (vn-hanoi → cn-beijing, `immediate`, one at a time)\n\n"
        + _latency(doc),
        "### Fan-out\n\n" + _fanout(doc),
        "### Memory\n\n" + _memory(doc),
        "### Restart (worker SIGKILLed holding every case so far)\n\n" + _restart(doc),
        "### Hot spots\n\n" + _hotspots(doc),
    ]
    if errors:
        parts.append(
            "### Phases that failed\n\n" + "\n".join(f"- `{k}`: {v}" for k, v in errors.items())
        )
    return "\n\n".join(parts)


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
        b = _g(before[1], *path)
        a = _g(after[1], *path) if after else None
        rows.append([name, b, a if after else "to be filled", _ratio(a, b) if after else "—"])
    note = (
        f"Both columns are `{mode}` runs. Absolute numbers move with the machine's load;"
        " the ratios to the passthrough baseline of the same run are what compare across runs."
    )
    if after is None:
        note += (
            " When the fixes below land, run `python -m bench --label after` (same options as"
            " the before run); this table fills itself in."
        )
    return _table(head, rows) + "\n\n" + note


def runs_block(runs: list[tuple[Path, dict[str, Any]]]) -> str:
    rows = [
        [
            f"`bench/results/{p.name}`",
            d.get("label"),
            d.get("mode"),
            d.get("started_at"),
            _g(d, "params", "numbers"),
            _g(d, "ratios", "stream_vs_passthrough"),
            _g(d, "latency_p99_counting_lost", "idle"),
            _g(d, "latency_p99_counting_lost", "bulk"),
            code.get("head", "") + (" + uncommitted" if code.get("changed_files") else ""),
            " ".join(f"`{k}={v}`" for k, v in (_g(d, "params", "worker_env") or {}).items()) or "",
        ]
        for p, d in sorted(runs, key=lambda r: r[1].get("started_at", ""))
        for code in [_g(d, "machine", "code") or {}]
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
    return _table(head, rows)


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
        text = _replace(text, "results", results_block(*main))
        text = _replace(text, "before-after", before_after_block(runs, main[1].get("mode")))
        text = _replace(text, "runs", runs_block(runs))
    text = _replace(text, "ab", ab_block(_load_ab()))
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)
    return DOC
