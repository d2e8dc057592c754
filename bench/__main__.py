"""`python -m bench [--numbers N] [--consoles C] [--quick] [--label before|after]`

One broker, a worker per lane, one gateway, started here and stopped here. The phases run in this
order, each next to the baseline it is compared with:

 1. broker ceiling      Kafka's ProducerPerformance (acks=all) on the fresh broker
 2. stream throughput   passthrough baseline, hotline worker, passthrough again: same N records
 3. worker memory       VmRSS before and after the N cases are in its tables
 4. profile             py-spy on the worker during a further bulk run (not the timed one)
 5. urgent latency      idle: one `immediate` alert at a time, POST -> officer's socket
 6. fan-out             C consoles in a client process, one alert, time until all have it
 6b. restart            SIGKILL the worker holding every case so far, start it again, post one
                        urgent alert at once: seconds until it is on the officer's socket
 7. HTTP bulk path      `hotline import`-style batches through the gateway
 8. urgent latency      while an import runs (last: its backlog is never drained)
 9. cProfile            the stream logic in-process on the same records (stack stopped)

Raw results go to bench/results/<label>-<mode>.json; docs/benchmarks.md is regenerated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from bench import fanout, hotspots, latency, lookup, report, stored, targets, throughput
from bench.console import Console
from bench.kafka_io import Counter, create_topics, end_offset
from bench.kafka_tools import producer_performance
from bench.machine import facts, load_average
from bench.records import RECIPIENT, SENDER, Numbers, alert_key, bulk_records, urgent_body
from bench.stack import Stack, cpu_seconds, rss_bytes
from bench.stats import ratio

RESULTS = stored.RESULTS
MiB = 1024 * 1024


def _params(a: argparse.Namespace) -> dict[str, Any]:
    quick = a.quick
    n = a.numbers or (10_000 if quick else 100_000)
    return {
        "mode": "quick" if quick else ("full" if n >= 1_000_000 else "default"),
        "numbers": n,
        "consoles": a.consoles or (200 if quick else 1000),
        "probes": a.probes or (50 if quick else 200),
        "http_numbers": a.http_numbers or min(n, 5_000 if quick else 50_000),
        "profile_numbers": min(n, 5_000 if quick else 20_000),
        # What a second bulk worker buys is a rate: a default run's import measures it, so a
        # full run does not stream a second million (another twenty minutes).
        "second_worker_numbers": min(n, 100_000),
        "cprofile_records": min(n, 3_000 if quick else 10_000),
        "perf_records": max(n, 50_000),
        "bulk_batch": a.batch,
        "fanout_rounds": a.rounds or (3 if quick else 5),
        "fanout_procs": a.fanout_procs,
        # The import that runs while urgent alerts are timed, and the longest that may take.
        # A big import, as partners send (it never finishes within the window): posting goes
        # on while the worker's bulk backlog grows, which is what an urgent alert must beat.
        "bulk_numbers": a.bulk_numbers or (200_000 if quick else 1_000_000),
        "bulk_window_s": 60.0 if quick else 300.0,
        # Lookups per phase (idle, during an import), of numbers the stream run registered.
        "lookups": 100 if quick else 400,
        # The import the second lookup phase runs beside: stopped once the lookups are done.
        "lookup_import": 100_000 if quick else 300_000,
        "seed": a.seed,
        "profile": not a.no_profile,
        "worker_env": dict(kv.split("=", 1) for kv in a.worker_env),
    }


class Run:
    """Results being collected; a phase that fails is recorded and the run goes on."""

    def __init__(self, label: str, params: dict[str, Any], argv: list[str]) -> None:
        self.doc: dict[str, Any] = {
            "schema": 1,
            "label": label,
            "mode": params["mode"],
            "command": " ".join(["python -m bench", *argv]),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "params": params,
            "machine": facts(),
            "phases": {},
            "errors": {},
        }
        self.t0 = time.monotonic()

    async def phase(self, name: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        print(f"[bench {time.monotonic() - self.t0:7.1f}s] {name} …", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            value = await fn()
        except Exception as exc:  # noqa: BLE001 - one failed phase must not lose the others
            self.doc["errors"][name] = "".join(traceback.format_exception_only(exc)).strip()
            traceback.print_exc()
            return None
        self.doc["phases"][name] = {
            "seconds": round(time.monotonic() - started, 1),
            "load_avg_after": load_average(),
        }
        return value


async def bench(a: argparse.Namespace, argv: list[str]) -> Path:
    p = _params(a)
    run = Run(a.label, p, argv)
    doc = run.doc
    run_id = secrets.token_hex(3)
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    stack = Stack(workdir, prefix=f"bench{run_id}", worker_env=p["worker_env"])

    # Inputs first, while nothing else runs: building records is CPU-heavy (pydantic, phones).
    total = (
        p["numbers"]
        + p["second_worker_numbers"]
        + p["profile_numbers"]
        + p["http_numbers"]
        + 2 * p["probes"]
        + p["lookups"] // 4
        + p["lookup_import"]
        + 50
    )
    numbers = Numbers(p["seed"], total + p["bulk_numbers"])
    t = time.monotonic()
    stream_numbers = numbers.take(p["numbers"])
    records = bulk_records(stream_numbers, f"BENCH-{run_id}")
    records_2 = bulk_records(numbers.take(p["second_worker_numbers"]), f"BENCH2-{run_id}")
    prof_records = bulk_records(numbers.take(p["profile_numbers"]), f"PROF-{run_id}")
    doc["inputs"] = {
        "build_seconds": round(time.monotonic() - t, 1),
        "avg_record_bytes": round(sum(len(v) for _, v in records) / len(records), 1),
    }
    record_size = int(doc["inputs"]["avg_record_bytes"])
    ok = True
    try:
        # Started from this (the main) thread, never from a pool thread: children die with the
        # thread that spawned them (PR_SET_PDEATHSIG), so blocking the loop here is deliberate.
        stack.start_broker()
        perf_topic = f"{stack.prefix}.bench.perf"
        await create_topics(stack.bootstrap, [perf_topic], {"min.insync.replicas": "1"})
        doc["broker_ceiling"] = await run.phase(
            "broker_ceiling",
            lambda: asyncio.to_thread(
                producer_performance, stack.bootstrap, perf_topic, p["perf_records"], record_size
            ),
        )
        doc["worker_start_s"] = round(stack.start_worker(), 1)
        assert stack.worker is not None
        await asyncio.sleep(2)  # let start-up settle before the idle reading
        memory: dict[str, Any] = {
            "worker_idle_rss_mib": round(rss_bytes(stack.worker.pid) / MiB, 1),
            "bulk_worker_idle_rss_mib": _rss(stack.bulk),
        }

        stream: dict[str, Any] = {"baseline": []}
        doc["stream"] = stream
        b1 = await run.phase(
            "baseline_1", lambda: throughput.baseline_run(stack, records, "passthrough-1")
        )
        stream["hotline"] = await run.phase(
            "stream", lambda: throughput.stream_run(stack, records, "hotline")
        )
        stack.check_alive()
        memory["cases"] = p["numbers"]
        memory["worker_rss_mib"] = round(rss_bytes(stack.worker.pid) / MiB, 1)
        memory["bulk_worker_rss_mib"] = _rss(stack.bulk)
        # The same import again with a second bulk worker sharing the lane's partitions, between
        # the same two baselines: what another bulk worker buys on this machine.
        stream["bulk_workers_2"] = await run.phase(
            "stream_2_bulk",
            lambda: _two_bulk_workers(stack, records_2, held=p["numbers"] + len(records_2)),
        )
        b2 = await run.phase(
            "baseline_2", lambda: throughput.baseline_run(stack, records, "passthrough-2")
        )
        stream["baseline"] = [b for b in (b1, b2) if b is not None]
        doc["memory"] = memory

        if p["profile"]:
            # Named like the results file: one shared name would hold only the last profile,
            # while every stored run pointed at it.
            keep = RESULTS / f"{a.label}-{p['mode']}.speedscope.json"
            doc["profile"] = await run.phase(
                "profile", lambda: _profiled_run(stack, prof_records, workdir, keep)
            )
        else:
            doc["profile"] = await run.phase(
                "profile_run", lambda: throughput.stream_run(stack, prof_records, "unprofiled")
            )

        start_s = stack.start_gateway()
        assert stack.gateway is not None
        await asyncio.sleep(2)
        doc["gateway"] = {
            "start_s_with_states": round(start_s, 1),
            "alert_states_at_start": p["numbers"] + p["profile_numbers"],
            "rss_mib_at_start": round(rss_bytes(stack.gateway.pid) / MiB, 1),
        }

        lat: dict[str, Any] = {}
        doc["latency"] = lat
        idle_numbers = numbers.take(p["probes"])
        lat["idle"] = await run.phase(
            "latency_idle", lambda: _probes(stack, idle_numbers, "URG-IDLE")
        )
        # Lookups of numbers the stream run put in the registry (and of unknown ones).
        rng = random.Random(p["seed"])
        known = rng.sample(stream_numbers, min(len(stream_numbers), p["lookups"]))
        unknown = numbers.take(p["lookups"] // 4)
        doc["lookup"] = {"registry_numbers": p["numbers"] + p["profile_numbers"]}
        doc["lookup"]["idle"] = await run.phase(
            "lookup_idle", lambda: lookup.lookups(stack.url, known, unknown)
        )

        fan_numbers = numbers.take(p["fanout_rounds"])
        doc["fanout"] = await run.phase(
            "fanout",
            lambda: fanout.run(
                stack.url, stack.ws_url, p["consoles"], p["fanout_procs"], fan_numbers, "FAN"
            ),
        )
        stack.check_alive()

        restart_number = numbers.take(1)[0]
        doc["restart"] = await run.phase(
            "restart", lambda: _restart(stack, restart_number, f"URG-RESTART-{run_id}")
        )
        if doc["restart"] is not None:
            doc["restart"]["cases"] = p["numbers"] + p["profile_numbers"]
        stack.check_alive()

        http_skip = numbers.reserve(p["http_numbers"])
        doc["http_bulk"] = await run.phase(
            "http_bulk",
            lambda: throughput.http_run(
                stack, p["seed"], http_skip, p["http_numbers"], f"HTTP-{run_id}", p["bulk_batch"]
            ),
        )
        bulk_probe_numbers = numbers.take(p["probes"])
        bulk_skip = numbers.reserve(p["bulk_numbers"])
        lat["bulk"] = await run.phase(
            "latency_bulk",
            lambda: _probes_during_import(stack, bulk_probe_numbers, bulk_skip, p, run_id),
        )
        lookup_skip = numbers.reserve(p["lookup_import"])
        doc["lookup"]["bulk"] = await run.phase(
            "lookup_bulk",
            lambda: _lookups_during_import(stack, known, unknown, lookup_skip, p, run_id),
        )
        memory["worker_rss_mib_at_end"] = round(rss_bytes(stack.worker.pid) / MiB, 1)
        memory["bulk_worker_rss_mib_at_end"] = _rss(stack.bulk)
        doc["gateway"]["rss_mib_at_end"] = round(rss_bytes(stack.gateway.pid) / MiB, 1)
        stack.check_alive()
    except Exception as exc:  # noqa: BLE001 - keep what was measured; the error is recorded
        ok = False
        doc["errors"]["run"] = "".join(traceback.format_exception_only(exc)).strip()
        traceback.print_exc()
    except BaseException:
        ok = False
        raise
    finally:
        stack.stop()  # synchronous on purpose: must run even while being cancelled
        if ok and not a.keep_logs:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"bench: logs kept in {workdir}", file=sys.stderr)

    cp_records = records[: p["cprofile_records"]]
    doc["cprofile"] = await run.phase(
        "cprofile", lambda: asyncio.to_thread(hotspots.cprofile_submission, cp_records)
    )
    _derive(doc)
    doc["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    doc["wall_seconds"] = round(time.monotonic() - run.t0, 1)
    doc["machine"]["load_avg_at_end"] = load_average()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{a.label}-{p['mode']}.json"
    out.write_bytes(
        orjson.dumps(
            doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
        )
    )
    return out


async def _two_bulk_workers(stack: Stack, records: Any, held: int) -> dict[str, Any] | None:
    if stack.partitions < 2:
        return None  # one partition: a second worker would only stand by
    # A new worker rebuilds the tables of the partitions it takes over from their changelogs
    # before it owns them: about half of the `held` alert states, at a few thousand records a
    # second (a full run's second worker was still at it after 120 s).
    timeout = max(120.0, held / 2000)
    joined = await asyncio.to_thread(stack.add_bulk_worker, timeout)
    try:
        run = await throughput.stream_run(stack, records, "hotline, 2 bulk workers")
    finally:
        left = await asyncio.to_thread(stack.remove_bulk_worker)
    return {**run, "join_s": round(joined, 1), "leave_s": round(left, 1)}


async def _profiled_run(stack: Stack, records: Any, workdir: Path, keep: Path) -> dict[str, Any]:
    assert stack.worker is not None
    speedscope = workdir / "worker.speedscope.json"
    try:
        sampler = hotspots.Sampler(stack.worker.pid, speedscope, max_seconds=900)
    except RuntimeError as exc:
        run = await throughput.stream_run(stack, records, "unprofiled")
        return {"py_spy": None, "py_spy_error": str(exc), "run": run}
    try:
        run = await throughput.stream_run(stack, records, "under py-spy")
    finally:
        log = await asyncio.to_thread(sampler.stop)
    if not speedscope.exists():
        return {"py_spy": None, "py_spy_error": log, "run": run}
    RESULTS.mkdir(exist_ok=True)
    shutil.copyfile(speedscope, keep)
    summary = hotspots.summarize_speedscope(speedscope)
    summary["speedscope_file"] = str(keep.relative_to(RESULTS.parent.parent))
    return {"py_spy": summary, "run": run}


async def _restart(stack: Stack, number: str, tag: str) -> dict[str, Any]:
    """The urgent lane's worker (it holds every case) SIGKILLed and started again; an urgent
    alert posted right away (the gateway takes it while the worker is down). Restart to
    delivery is what an officer waits."""
    assert stack.worker is not None
    async with Console(stack.ws_url, RECIPIENT) as console:
        stack.worker.kill()
        stack.worker.wait()
        started = time.monotonic()
        stack.spawn_worker(bulk=False)
        alert_id = alert_key(tag).decode()
        arrival = console.expect(alert_id)
        headers = {"Authorization": f"Bearer demo-partner-{SENDER}"}
        async with httpx.AsyncClient(base_url=stack.url, timeout=60.0) as http:
            r = await http.post("/v1/alerts", json=urgent_body(tag, number), headers=headers)
        r.raise_for_status()
        ready_s = None
        while (ready_s is None or not arrival.done()) and time.monotonic() - started < 600:
            if ready_s is None and await asyncio.to_thread(stack.worker_ready):
                ready_s = time.monotonic() - started
            await asyncio.sleep(0.1)
        received = await asyncio.wait_for(arrival, 1.0)
    async with httpx.AsyncClient(timeout=10.0) as http:
        text = (await http.get(f"http://127.0.0.1:{stack.worker_port}/metrics")).text
    replayed = sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "hotline_worker_changelog_replayed_total"
    )
    return {
        "restart_to_urgent_delivery_s": round(received - started, 2),
        "worker_ready_s": None if ready_s is None else round(ready_s, 2),
        "changelog_records_replayed": int(replayed),
    }


async def _probes(stack: Stack, probe_numbers: list[str], tag: str) -> dict[str, Any]:
    deliveries = f"{stack.prefix}.deliveries.{RECIPIENT}"
    async with (
        Console(stack.ws_url, RECIPIENT) as console,
        latency.TopicWatch(stack.bootstrap, deliveries) as watch,
    ):
        return await latency.probe(stack.url, console, probe_numbers, tag, watch=watch)


async def _probes_during_import(
    stack: Stack, probe_numbers: list[str], skip: int, p: dict[str, Any], run_id: str
) -> dict[str, Any]:
    """Urgent probes while an import of `bulk_numbers` alerts runs. "Runs" lasts until the
    last of its alerts reached cn-beijing (the worker's bulk backlog counts, not only the
    posting), until the probes are done, or `bulk_window_s`; whichever comes first."""
    deliveries = f"{stack.prefix}.deliveries.{RECIPIENT}"
    inbound = f"{stack.prefix}.inbound.bulk"
    count, tag = p["bulk_numbers"], f"BULK-{run_id}"
    keys = {alert_key(f"{tag}-{i}") for i in range(count)}
    accepted: list[int] = []
    start = await end_offset(stack.bootstrap, deliveries)
    async with Counter(stack.bootstrap, deliveries, start, keys, digest=tag) as counter:
        counting = asyncio.create_task(
            counter.count(
                count, p["bulk_window_s"], floor=lambda: accepted[0] if accepted else None
            )
        )
        proc = await throughput.start_importer(stack, p["seed"], skip, count, tag, p["bulk_batch"])
        first = asyncio.Event()
        reading = asyncio.create_task(throughput.read_importer(proc, first))
        reading.add_done_callback(
            lambda t: (
                accepted.append(t.result()["accepted"])
                if not t.cancelled() and t.exception() is None
                else None
            )
        )
        try:
            async with (
                Console(stack.ws_url, RECIPIENT) as console,
                latency.TopicWatch(stack.bootstrap, deliveries) as watch,
            ):
                await asyncio.wait_for(first.wait(), 120)
                before = {
                    "deliveries": await end_offset(stack.bootstrap, deliveries),
                    "inbound": await end_offset(stack.bootstrap, inbound),
                    "at": time.monotonic(),
                }
                cpu0 = _cpu(stack)
                result = await latency.probe(
                    stack.url,
                    console,
                    probe_numbers,
                    "URG-BULK",
                    keep_going=lambda: not counting.done(),
                    max_seconds=p["bulk_window_s"],
                    watch=watch,
                )
                span = time.monotonic() - before["at"]
                cpu1 = _cpu(stack)
                d_del = await end_offset(stack.bootstrap, deliveries) - before["deliveries"]
                d_in = await end_offset(stack.bootstrap, inbound) - before["inbound"]
        finally:
            delivered, messages = counter.seen_so_far, counter.messages
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
            summary = await asyncio.wait_for(reading, 120)
            if not counting.done():
                counting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await counting
    result["bulk_during_probes"] = {
        "import_size": count,
        "import_alerts_delivered_while_probing": delivered,
        # What the import cost cn-beijing's console: its digests and hits (target: under a
        # thousand for a million numbers).
        "import_console_messages": messages,
        "seconds": round(span, 1),
        "bulk_ingested_per_s": round(d_in / span, 1),
        "cn_beijing_deliveries_per_s": round(d_del / span, 1),
        "importer_accepted": summary.get("accepted"),
        "importer_batch_ms": summary.get("batch_ms"),
        "importer_statuses": summary.get("statuses"),
        "importer_item_statuses": summary.get("item_statuses"),
        "importer_retried_requests": summary.get("retried_requests"),
        "importer_seconds_waited": summary.get("seconds_waited_on_retry_after"),
        "importer_stopped_early": summary.get("stopped_early"),
        # Cores each process kept busy while the probes ran: 1.0 is a saturated event loop.
        "cores_busy": {k: round((cpu1[k] - cpu0[k]) / span, 2) for k in cpu0},
    }
    return result


async def _lookups_during_import(
    stack: Stack,
    known: list[str],
    unknown: list[str],
    skip: int,
    p: dict[str, Any],
    run_id: str,
) -> dict[str, Any]:
    """The same lookups while another import is posted (stopped when they are done)."""
    count, tag = p["lookup_import"], f"LOOKUP-BULK-{run_id}"
    proc = await throughput.start_importer(stack, p["seed"], skip, count, tag, p["bulk_batch"])
    first = asyncio.Event()
    reading = asyncio.create_task(throughput.read_importer(proc, first))
    try:
        await asyncio.wait_for(first.wait(), 120)
        result = await lookup.lookups(
            stack.url, known, unknown, keep_going=lambda: not reading.done()
        )
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        summary = await asyncio.wait_for(reading, 120)
    result["import_accepted"] = summary.get("accepted")
    result["import_stopped_early"] = summary.get("stopped_early")
    return result


def _rss(proc: subprocess.Popen[bytes] | None) -> float | None:
    return None if proc is None else round(rss_bytes(proc.pid) / MiB, 1)


def _cpu(stack: Stack) -> dict[str, float]:
    procs = {"gateway": stack.gateway, "worker": stack.worker, "bulk_worker": stack.bulk}
    out = {k: cpu_seconds(p.pid) for k, p in procs.items() if p is not None}
    if stack.broker.pid is not None:
        out["broker"] = cpu_seconds(stack.broker.pid)
    return out


def _derive(doc: dict[str, Any]) -> None:
    """Ratios and target verdicts from the raw numbers; report.py prints the ratios, never
    computes them."""
    stream = doc.get("stream") or {}
    base = [b["records_per_s"] for b in stream.get("baseline", []) if b.get("complete")]
    hot = (stream.get("hotline") or {}).get("records_per_s")
    two = (stream.get("bulk_workers_2") or {}).get("records_per_s")
    base_mean = sum(base) / len(base) if base else None
    ceiling = (doc.get("broker_ceiling") or {}).get("records_per_s")
    http = (doc.get("http_bulk") or {}).get("records_per_s")
    ratios = {
        "baseline_mean_records_per_s": round(base_mean, 1) if base_mean else None,
        "stream_vs_passthrough": ratio(hot, base_mean) if hot and base_mean else None,
        "stream_2_bulk_vs_passthrough": ratio(two, base_mean) if two and base_mean else None,
        "stream_2_bulk_vs_1": ratio(two, hot) if two and hot else None,
        "http_vs_passthrough": ratio(http, base_mean) if http and base_mean else None,
        "http_vs_stream": ratio(http, hot) if http and hot else None,
        "passthrough_vs_broker_ceiling": ratio(base_mean, ceiling)
        if base_mean and ceiling
        else None,
        "stream_vs_broker_ceiling": ratio(hot, ceiling) if hot and ceiling else None,
    }
    mem = doc.get("memory") or {}
    if mem.get("worker_rss_mib") and mem.get("cases"):
        per_case = (mem["worker_rss_mib"] - mem["worker_idle_rss_mib"]) * MiB / mem["cases"]
        mem["bytes_per_case"] = round(per_case)
        if mem["cases"] < 1_000_000:
            mem["extrapolated_rss_mib_at_1m_cases"] = round(
                mem["worker_idle_rss_mib"] + per_case * 1_000_000 / MiB
            )
    doc["ratios"] = ratios
    lat = doc.get("latency") or {}
    doc["latency_p99_counting_lost"] = {
        "idle": _p99_counting_lost(lat.get("idle")),
        "bulk": _p99_counting_lost(lat.get("bulk")),
    }
    doc["targets"] = targets.record(doc)


def _p99_counting_lost(lat: dict[str, Any] | None) -> float | str | None:
    """p99 of POST -> socket with every lost probe (no event within 10 s) counted as slower
    than any that arrived: a p99 over the survivors alone would flatter a failing system."""
    if not lat:
        return None
    arrived = lat.get("raw_post_to_ws_ms") or []
    lost = int(lat.get("lost") or 0) + int(lat.get("refused") or 0)
    total = len(arrived) + lost
    if total == 0:
        return None
    rank = max(1, math.ceil(0.99 * total))
    if rank > len(arrived):
        return f"lost: {lost} of {total} probes got no event within 10 s or were refused"
    return float(sorted(arrived)[rank - 1])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    ap.add_argument("--numbers", type=int, help="N scam numbers for the stream run (100000)")
    ap.add_argument("--consoles", type=int, help="consoles for the fan-out (1000)")
    ap.add_argument("--quick", action="store_true", help="small smoke run (~3 min)")
    ap.add_argument("--probes", type=int, help="urgent alerts per latency phase (200)")
    ap.add_argument("--http-numbers", type=int, help="alerts for the HTTP path (min(N, 50000))")
    ap.add_argument(
        "--bulk-numbers", type=int, help="size of the import during the latency phase (1000000)"
    )
    ap.add_argument("--batch", type=int, default=5000, help="alerts per import request")
    ap.add_argument("--rounds", type=int, help="fan-out rounds (5)")
    ap.add_argument("--fanout-procs", type=int, default=1, help="console client processes")
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument(
        "--label",
        default="before",
        help="before / after (the report compares them), or any name for an experiment",
    )
    ap.add_argument("--no-profile", action="store_true", help="skip py-spy")
    ap.add_argument(
        "--keep-logs", action="store_true", help="keep the processes' logs and data after a run"
    )
    ap.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the worker (e.g. Faust's PRODUCER_LINGER=0.005)",
    )
    ap.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild docs/benchmarks.md from bench/results, run nothing",
    )
    a = ap.parse_args(argv)
    if not a.report_only:
        out = asyncio.run(bench(a, argv))
        print(f"bench: results in {out}", file=sys.stderr)
        for gone in stored.prune():
            print(f"bench: {gone.name} removed, no longer on the page", file=sys.stderr)
    doc = report.write()
    print(f"bench: report in {doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)  # everything started was stopped by the finally blocks on the way out
