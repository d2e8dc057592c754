"""The phases that need the whole stack: urgent probes, a restart, and what an import costs
the urgent lane and the lookups while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench import latency, lookup, throughput
from bench.console import Console
from bench.kafka_io import Counter, end_offset
from bench.records import RECIPIENT, SENDER, alert_key, urgent_body
from bench.stack import Stack, cpu_seconds


async def probes(stack: Stack, numbers: list[str], tag: str) -> dict[str, Any]:
    async with Console(stack.ws_url, RECIPIENT) as console:
        return await latency.probe(stack.url, console, numbers, tag)


async def restart(stack: Stack, number: str, tag: str) -> dict[str, Any]:
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


async def during_import(
    stack: Stack,
    probe_numbers: list[str],
    known: list[str],
    unknown: list[str],
    skip: int,
    p: dict[str, Any],
    tag: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Urgent probes and lookups, side by side, while a list of `bulk_numbers` is imported.
    The import "runs" until the last of its alerts reached cn-beijing (the worker's bulk
    backlog counts, not only the posting) or `bulk_window_s`; the probes stop with it.
    Returns the probes' result (with the import's figures) and the lookups'."""
    deliveries = f"{stack.prefix}.deliveries.{RECIPIENT}"
    inbound = f"{stack.prefix}.inbound.bulk"
    count, window = p["bulk_numbers"], p["bulk_window_s"]
    keys = {alert_key(f"{tag}-{i}") for i in range(count)}
    accepted: list[int] = []
    start = await end_offset(stack.bootstrap, deliveries)
    async with Counter(stack.bootstrap, deliveries, start, keys, digest=tag) as counter:
        floor = lambda: accepted[0] if accepted else None  # noqa: E731 - read by count()
        counting = asyncio.create_task(counter.count(count, window, floor=floor))
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
            async with Console(stack.ws_url, RECIPIENT) as console:
                await asyncio.wait_for(first.wait(), 120)
                in0, at0, cpu0 = (
                    await end_offset(stack.bootstrap, inbound),
                    time.monotonic(),
                    _cpu(stack),
                )
                running = lambda: not counting.done()  # noqa: E731
                probed, looked = await asyncio.gather(
                    latency.probe(
                        stack.url,
                        console,
                        probe_numbers,
                        "URG-BULK",
                        keep_going=running,
                        max_seconds=window,
                    ),
                    lookup.lookups(
                        stack.url, known, unknown, keep_going=running, max_seconds=window
                    ),
                )
                span, cpu1 = time.monotonic() - at0, _cpu(stack)
                ingested = await end_offset(stack.bootstrap, inbound) - in0
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
    probed["bulk_during_probes"] = {
        "import_size": count,
        "import_alerts_delivered_while_probing": delivered,
        # What the import cost cn-beijing's console: its digests and hits (target: under a
        # thousand for a million numbers).
        "import_console_messages": messages,
        "seconds": round(span, 1),
        "bulk_ingested_per_s": round(ingested / span, 1),
        "importer_accepted": summary.get("accepted"),
        "importer_batch_ms": summary.get("batch_ms"),
        "importer_statuses": summary.get("statuses"),
        "importer_item_statuses": summary.get("item_statuses"),
        "importer_seconds_waited": summary.get("seconds_waited_on_retry_after"),
        # Cores each process kept busy meanwhile: 1.0 is a saturated event loop.
        "cores_busy": {k: round((cpu1[k] - cpu0[k]) / span, 2) for k in cpu0},
    }
    return probed, looked


def _cpu(stack: Stack) -> dict[str, float]:
    procs = {"gateway": stack.gateway, "worker": stack.worker, "bulk_worker": stack.bulk}
    out = {k: cpu_seconds(p.pid) for k, p in procs.items() if p is not None}
    if stack.broker.pid is not None:
        out["broker"] = cpu_seconds(stack.broker.pid)
    return out
