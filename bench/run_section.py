"""One run's section of docs/benchmarks.md, from its results document."""

from __future__ import annotations

from typing import Any

from bench import targets
from bench.markdown import fmt, get, ratio_cell, table
from bench.stored import Result
from bench.targets import stated, verdict


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
    return table(["", ""], rows)


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
                ratio_cell(ceiling.get("records_per_s"), base),
            ]
        )
    for b in s.get("baseline", []):
        rows.append(
            [
                f"passthrough baseline `{b['label']}`",
                b["records"],
                b["seconds"],
                b["records_per_s"],
                ratio_cell(b["records_per_s"], base),
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
                ratio_cell(hot["records_per_s"], base),
            ]
        )
    two = s.get("bulk_workers_2")
    if two:
        rows.append(
            [
                "hotline stream, two bulk workers sharing the lane's partitions",
                two["records"],
                two["seconds"],
                two["records_per_s"],
                ratio_cell(two["records_per_s"], base),
            ]
        )
    prof_run = get(doc, "profile", "run")
    if prof_run:
        rows.append(
            [
                f"hotline stream, {prof_run['label']} (profiling run)",
                prof_run["records"],
                prof_run["seconds"],
                prof_run["records_per_s"],
                ratio_cell(prof_run["records_per_s"], base),
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
                ratio_cell(http["records_per_s"], base),
            ]
        )
        rows.append(
            [
                f"HTTP path: gateway intake only (202s; {fmt(http.get('rejected'))} of"
                f" {fmt(http['records'])} items refused: {http.get('item_statuses')})",
                http["accepted"],
                http["ingest_seconds"],
                http["ingest_records_per_s"],
                ratio_cell(http["ingest_records_per_s"], base),
            ]
        )
    out = table(["path", "records", "seconds", "records/s", "× passthrough"], rows)
    notes = []
    if hot:
        notes.append(
            f"Worker CPU during the stream run: {fmt(hot.get('worker_cpu_us_per_record'))} µs per"
            f" alert, {fmt(hot.get('worker_cpu_utilisation'), 2)} cores busy on average"
            f" (broker: {fmt(get(hot, 'cpu_seconds', 'broker'))} CPU-s). The writer fed"
            f" {fmt(hot.get('writer_records_per_s'))} records/s, so it was never the limit."
        )
    if two:
        cpu = two.get("cpu_seconds") or {}
        lanes = ", ".join(
            f"{k.removesuffix('_lane')} {fmt(v)}" for k, v in cpu.items() if k.endswith("_lane")
        )
        notes.append(
            f"With two bulk workers: {fmt(two.get('worker_cpu_us_per_record'))} µs of worker CPU"
            f" per alert, {fmt(two.get('worker_cpu_utilisation'), 2)} cores busy (CPU-s by"
            f" process: {lanes})."
        )
    cp = doc.get("cprofile") or {}
    if cp:
        notes.append(
            f"The stream logic alone (`Processor.submission` in-process on dicts, no Faust, no"
            f" Kafka) runs at {fmt(cp.get('pure_rate_per_s'))} alerts/s"
            f" ({fmt(cp.get('pure_us_per_record'))} µs per alert,"
            f" {fmt(cp.get('outputs_per_record'), 2)} output records per alert)."
        )
    if hot and hot.get("records_written_per_alert"):
        per = hot["records_written_per_alert"]
        notes.append(
            f"Records the worker wrote per alert: {fmt(hot.get('records_written_per_alert_total'))}"
            " (" + ", ".join(f"{t} {fmt(n)}" for t, n in per.items()) + "); the passthrough"
            " writes 1 per record."
        )
    return out + "\n\n" + "\n".join(f"- {n}" for n in notes)


def _latency(doc: dict[str, Any]) -> str:
    rows = []
    for cond, key in (("idle", "idle"), ("during bulk import", "bulk")):
        lat = get(doc, "latency", key)
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
    out = table(["condition", "interval", "alerts", "p50 ms", "p90 ms", "p99 ms", "max ms"], rows)
    notes = []
    for key in ("idle", "bulk"):
        lat = get(doc, "latency", key) or {}
        if lat.get("lost") or lat.get("refused") or lat.get("console_reconnects"):
            notes.append(
                f"{key}: {lat.get('lost')} lost, {lat.get('refused')} refused, console reconnects"
                f" {lat.get('console_reconnects')} (close codes {lat.get('console_close_codes')})"
            )
    bulk = get(doc, "latency", "bulk", "bulk_during_probes")
    if bulk:
        notes.append(
            f"The import: {fmt(bulk.get('import_size'))} alerts posted"
            f" ({fmt(bulk.get('importer_accepted'))} accepted before it was stopped),"
            f" {fmt(bulk.get('import_alerts_delivered_while_probing'))} of them delivered to"
            " cn-beijing while the probes ran."
            f" While the probes ran ({fmt(bulk.get('seconds'))} s), it pushed"
            f" {fmt(bulk.get('bulk_ingested_per_s'))} alerts/s into the bulk lane and cn-beijing"
            f" received {fmt(bulk.get('cn_beijing_deliveries_per_s'))} delivery events/s; import"
            f" batch response p50/max {fmt(get(bulk, 'importer_batch_ms', 'p50_ms'))}/"
            f"{fmt(get(bulk, 'importer_batch_ms', 'max_ms'))} ms; import items answered"
            f" {bulk.get('importer_item_statuses')}; whole requests waited out (429/503)"
            f" {bulk.get('importer_retried_requests') or {}}."
        )
        if bulk.get("cores_busy"):
            notes.append(
                "Cores kept busy meanwhile (1.0 = one saturated event loop): "
                + ", ".join(f"{k} {fmt(v)}" for k, v in bulk["cores_busy"].items())
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
            get(r, "per_console", "p50_ms"),
            get(r, "per_console", "p99_ms"),
            get(r, "per_console", "max_ms"),
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
        f"{fmt(f.get('consoles'))} cn-beijing consoles in {f.get('client_processes')} client"
        f" process(es), signed in in {fmt(f.get('connect_s'), 2)} s. Per-console times run from"
        " the POST being sent to that console's `new` event.\n\n" + table(head, rows)
    )


def _memory(doc: dict[str, Any]) -> str:
    m = doc.get("memory") or {}
    g = doc.get("gateway") or {}
    rows = [
        ["worker, idle after start", None, m.get("worker_idle_rss_mib")],
        [
            f"worker, after the stream run (M = {fmt(m.get('cases'))} cases)",
            m.get("cases"),
            m.get("worker_rss_mib"),
        ],
        ["worker, end of run (all phases)", None, m.get("worker_rss_mib_at_end")],
    ]
    if m.get("bulk_worker_rss_mib") is not None:  # runs since the lanes have a process each
        rows[0][0] = "urgent-lane worker (holds the case index), idle after start"
        rows[1][0] = f"urgent-lane worker, after the stream run (M = {fmt(m.get('cases'))} cases)"
        rows[2][0] = "urgent-lane worker, end of run (all phases)"
        rows += [
            ["bulk-lane worker, idle after start", None, m.get("bulk_worker_idle_rss_mib")],
            ["bulk-lane worker, after the stream run", None, m.get("bulk_worker_rss_mib")],
            ["bulk-lane worker, end of run", None, m.get("bulk_worker_rss_mib_at_end")],
        ]
    rows += [
        [
            f"gateway at start (holds {fmt(g.get('alert_states_at_start'))} alert states; ready in"
            f" {fmt(g.get('start_s_with_states'))} s)",
            None,
            g.get("rss_mib_at_start"),
        ],
        ["gateway, end of run", None, g.get("rss_mib_at_end")],
    ]
    out = table(["process", "cases", "VmRSS MiB"], rows)
    if m.get("bytes_per_case"):
        out += f"\n\n- Growth per case: {fmt(m['bytes_per_case'])} bytes of worker RSS."
    if m.get("extrapolated_rss_mib_at_1m_cases"):
        out += (
            f"\n- **Extrapolated, not measured**: linear growth puts the worker at about"
            f" {fmt(m['extrapolated_rss_mib_at_1m_cases'])} MiB with 1,000,000 cases"
            " (run `python -m bench --numbers 1000000` to measure it)."
        )
    return out


def _restart(doc: dict[str, Any]) -> str:
    r = doc.get("restart")
    if not r:
        return "Not measured in this run."
    return table(
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


def _lookups(doc: dict[str, Any]) -> str:
    lk = doc.get("lookup")
    if not lk:
        return "Not measured in this run."
    rows = []
    for phase, name in (("idle", "idle"), ("bulk", "during an import")):
        r = lk.get(phase)
        if not r:
            continue
        ms = r.get("ms") or {}
        rows.append(
            [
                name,
                r.get("lookups"),
                r.get("wrong"),
                r.get("failed"),
                ms.get("p50_ms"),
                ms.get("p90_ms"),
                ms.get("p99_ms"),
                ms.get("max_ms"),
            ]
        )
    return table(
        ["condition", "lookups", "wrong", "failed", "p50 ms", "p90 ms", "p99 ms", "max ms"], rows
    ) + (
        f"\n\n`GET /v1/lookup?number=…` one at a time as the numbers' sender, alternately a"
        f" number the stream run registered and an unknown one, with"
        f" {fmt(lk.get('registry_numbers'))} numbers in the registry; *wrong* counts a known"
        " number not found or an unknown one found. The import beside the second phase is"
        " stopped once the lookups are done."
    )


def _hotspots(doc: dict[str, Any]) -> str:
    parts = []
    spy = get(doc, "profile", "py_spy")
    if spy:
        run = get(doc, "profile", "run") or {}
        threads = spy.get("threads", [])
        parts.append(
            f"py-spy (100 Hz, `--nonblocking`, by function) on the live worker during a further"
            f" {fmt(run.get('records'))}-alert bulk run."
            f" {_raw_profile(spy.get('speedscope_file'))} Per thread, *busy* is the share of"
            " samples not waiting in the event loop's `select`; the tables give shares of the"
            " busy samples."
        )
        parts.append(
            table(
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
                + table(
                    ["function", "% busy"],
                    [[r["function"], r["pct"]] for r in main["top_inclusive"][:12]],
                )
            )
            parts.append(
                f"**{main['thread']}: own time (the function's code and the C calls it makes)**"
                "\n\n"
                + table(
                    ["function", "% busy"],
                    [[r["function"], r["pct"]] for r in main["top_self"][:12]],
                )
            )
            parts.append(
                f"**{main['thread']}: by package** (own time; and inclusive = the package is"
                " anywhere on the stack)\n\n"
                + table(
                    ["package", "own %", "inclusive %"],
                    _package_rows(main),
                )
            )
    elif get(doc, "profile", "py_spy_error"):
        parts.append(f"py-spy unavailable: {get(doc, 'profile', 'py_spy_error')}")
    cp = doc.get("cprofile") or {}
    if cp:
        stages = cp.get("profiled_us_per_record_by_stage", {})
        parts.append(
            "cProfile of the stream logic in-process"
            f" ({fmt(cp.get('records'))} of the same records, dict tables;"
            " cProfile inflates the µs: compare them with each other)"
            "\n\n"
            + table(["stage (inclusive)", "µs per alert"], [[k, v] for k, v in stages.items()])
        )
        parts.append(
            "\n"
            + table(
                ["function (by own time)", "calls/alert", "% own time", "cumulative µs/alert"],
                [
                    [
                        r["function"],
                        r["calls_per_record"],
                        r["tottime_pct"],
                        r["cumtime_us_per_record"],
                    ]
                    for r in cp.get("top_tottime", [])[:10]
                ],
            )
        )
    return "\n\n".join(parts)


def _raw_profile(name: Any) -> str:
    if str(name).endswith("/worker.speedscope.json"):
        # Before runs had a file each, every profiled run wrote this one name: what is stored
        # there is the last of them, which need not be this run.
        return (
            f"Raw profile: none kept for this run (`{name}` holds the last profile taken"
            " before runs got a file each, not necessarily this one)."
        )
    return f"Raw profile: `{name}` (open in speedscope.app)."


def _package_rows(thread: dict[str, Any]) -> list[list[Any]]:
    own = {r["package"]: r["pct"] for r in thread.get("self_by_package", [])}
    incl = {r["package"]: r["pct"] for r in thread.get("inclusive_by_package", [])}
    names = sorted(set(own) | set(incl), key=lambda p: (-(incl.get(p) or own.get(p) or 0), p))
    return [[p, own.get(p), incl.get(p)] for p in names[:10]]


def _targets(doc: dict[str, Any]) -> str:
    # Judged now, by bench/targets.py, not read from the run's own verdicts: a run from before
    # a target was tightened is shown against today's target.
    rows = [[m.label, stated(m), fmt(m.value(doc)), verdict(m, doc)] for m in targets.TARGETS]
    return "Judged against today's targets.\n\n" + table(["metric", "target", "measured", ""], rows)


def _code_line(doc: dict[str, Any]) -> str:
    code = get(doc, "machine", "code") or {}
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


def section(run: Result) -> str:
    """The section of the newest run of its mode."""
    doc = run.doc
    p = doc.get("params", {})
    errors = doc.get("errors") or {}
    parts = [
        f"## Latest {doc.get('mode')} run: `{run.path.name}`",
        f"Label `{run.label}`, started {run.started}. " + _code_line(doc),
        f"Command: `{doc.get('command')}` (wall time {fmt(doc.get('wall_seconds'))} s;"
        f" N = {fmt(p.get('numbers'))}, consoles = {fmt(p.get('consoles'))},"
        f" {fmt(p.get('probes'))} urgent alerts per latency phase)",
        "### Machine\n\n" + _machine(doc),
        "### Targets\n\n" + _targets(doc),
        "### Bulk throughput\n\n" + _throughput(doc),
        "### Urgent-alert latency (vn-hanoi → cn-beijing, `immediate`, one at a time)\n\n"
        + _latency(doc),
        "### Fan-out\n\n" + _fanout(doc),
        "### Memory\n\n" + _memory(doc),
        "### Restart (worker SIGKILLed holding every case so far)\n\n" + _restart(doc),
        "### Registry lookups\n\n" + _lookups(doc),
        "### Hot spots\n\n" + _hotspots(doc),
    ]
    if errors:
        parts.append(
            "### Phases that failed\n\n" + "\n".join(f"- `{k}`: {v}" for k, v in errors.items())
        )
    return "\n\n".join(parts)
