"""Bulk throughput: the hotline's stream and its passthrough baseline; the importer process.

Stream and baseline are timed the same way, from the first record handed to the same fast
writer to the moment the counting reader has seen the last expected output record. Both run
as their own process while this one writes and counts, so they compete for the same cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import orjson

from bench.kafka_io import (
    KV,
    Counted,
    Counter,
    create_topics,
    end_offset,
    topic_offsets,
    write_fast,
)
from bench.records import RECIPIENT, SENDER
from bench.stack import Stack, cpu_seconds, python_module
from bench.stats import rate, summary_ms
from cli.processes import die_with_parent

_T = TypeVar("_T")


def _timeout(n: int) -> float:
    # Generous: a run slower than 100 records/s is a failure to report, not to wait for.
    return max(180.0, n / 100)


async def _count_during(
    counter: Counter, n: int, work: Awaitable[_T], alive: Callable[[], None] = lambda: None
) -> tuple[_T, Counted]:
    """Runs `work` (which makes the records appear) while `counter` counts them. `alive`
    raises once a process of the stack has exited: the phase fails with its log then, instead
    of waiting out the count's timeout (hours, for a million) for records nobody will deliver."""
    counting = asyncio.create_task(counter.count(n, _timeout(n)))
    watching = asyncio.create_task(_watch(alive))
    try:
        done = await work
        await asyncio.wait({counting, watching}, return_when=asyncio.FIRST_COMPLETED)
        if watching.done():
            watching.result()  # raises: a process died
        return done, await counting
    finally:
        for task in (counting, watching):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def _watch(alive: Callable[[], None]) -> None:
    while True:
        alive()
        await asyncio.sleep(1.0)


def _result(label: str, n: int, first_sent: float, counted: Any, written: Any) -> dict[str, Any]:
    end = counted.done_at if counted.done_at is not None else time.time()
    elapsed = end - first_sent
    return {
        "label": label,
        "records": n,
        "delivered": counted.seen,
        "complete": counted.seen == n,
        "seconds": round(elapsed, 3),
        "records_per_s": rate(counted.seen, elapsed),
        "writer_seconds": round(written.all_acked - written.first_sent, 3),
        "writer_records_per_s": rate(written.records, written.all_acked - written.first_sent),
        "avg_record_bytes": round(written.bytes / max(written.records, 1), 1),
    }


async def stream_run(stack: Stack, records: Sequence[KV], label: str) -> dict[str, Any]:
    """N bulk AlertRecords straight onto `<prefix>.inbound.bulk`; done when every one of them
    has its event on `<prefix>.deliveries.cn-beijing`."""
    assert stack.worker is not None
    inbound = f"{stack.prefix}.inbound.bulk"
    deliveries = f"{stack.prefix}.deliveries.{RECIPIENT}"
    keys = {k for k, _ in records}
    start = await end_offset(stack.bootstrap, deliveries)
    lanes = _lane_pids(stack)
    cpu = {lane: cpu_seconds(pid) for lane, pid in lanes.items()}
    cpu["broker"] = _broker_cpu(stack)
    offsets = await topic_offsets(stack.bootstrap, stack.prefix)
    async with Counter(stack.bootstrap, deliveries, start, keys) as counter:
        written, counted = await _count_during(
            counter, len(records), write_fast(stack.bootstrap, inbound, records), stack.check_alive
        )
    out = _result(label, len(records), written.first_sent, counted, written)
    # "worker": both lanes' processes together, what one bulk alert costs the stream.
    used = {lane: cpu_seconds(pid) - cpu[lane] for lane, pid in lanes.items()}
    out["cpu_seconds"] = {
        "worker": round(sum(used.values()), 2),
        **{f"{lane}_lane": round(v, 2) for lane, v in used.items()},
        "broker": round(_broker_cpu(stack) - cpu["broker"], 2),
    }
    out["worker_cpu_us_per_record"] = round(1e6 * out["cpu_seconds"]["worker"] / len(records), 1)
    out["worker_cpu_utilisation"] = round(out["cpu_seconds"]["worker"] / out["seconds"], 2)
    # Everything the worker wrote per alert: outputs and its tables' changelogs.
    after = await topic_offsets(stack.bootstrap, stack.prefix)
    produced = {
        t.removeprefix(f"{stack.prefix}.").removeprefix(f"hotline-worker-{stack.prefix}-"): n
        - offsets.get(t, 0)
        for t, n in after.items()
        if n - offsets.get(t, 0) > 0 and t != inbound
    }
    out["records_written_per_alert"] = {
        t: round(n / len(records), 2) for t, n in sorted(produced.items())
    }
    out["records_written_per_alert_total"] = round(sum(produced.values()) / len(records), 2)
    return out


def _lane_pids(stack: Stack) -> dict[str, int]:
    procs = {"urgent": stack.worker, "bulk": stack.bulk}
    return {lane: p.pid for lane, p in procs.items() if p is not None}


def _broker_cpu(stack: Stack) -> float:
    pid = stack.broker.pid
    return cpu_seconds(pid) if pid is not None else 0.0


async def baseline_run(stack: Stack, records: Sequence[KV], label: str) -> dict[str, Any]:
    """The same records through bench/passthrough.py: consume, produce unchanged, commit."""
    src = f"{stack.prefix}.bench.{label}.in"
    dst = f"{stack.prefix}.bench.{label}.out"
    # Same topic settings as the inbound lane, so the broker does the same work per record.
    await create_topics(stack.bootstrap, [src, dst], {"min.insync.replicas": "1"})
    keys = {k for k, _ in records}
    proc = await asyncio.create_subprocess_exec(
        *python_module(
            "bench.passthrough",
            "--bootstrap",
            stack.bootstrap,
            "--src",
            src,
            "--dst",
            dst,
            "--group",
            f"{stack.prefix}-{label}",
            "--count",
            str(len(records)),
            "--timeout",
            str(_timeout(len(records))),
        ),
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )
    assert proc.stdout is not None
    try:
        ready = orjson.loads(await asyncio.wait_for(proc.stdout.readline(), 90))
        assert ready.get("ready"), ready
        cpu0 = cpu_seconds(proc.pid)
        async with Counter(stack.bootstrap, dst, 0, keys) as counter:
            written, counted = await _count_during(
                counter, len(records), write_fast(stack.bootstrap, src, records)
            )
        cpu1 = cpu_seconds(proc.pid)
        await asyncio.wait_for(proc.stdout.readline(), 60)
        await asyncio.wait_for(proc.wait(), 60)
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    out = _result(label, len(records), written.first_sent, counted, written)
    out["cpu_seconds"] = {"passthrough": round(cpu1 - cpu0, 2)}
    return out


async def start_importer(
    stack: Stack, seed: int, skip: int, count: int, tag: str, batch: int
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *python_module(
            "bench.importer",
            "--url",
            stack.url,
            "--key",
            f"demo-partner-{SENDER}",
            "--seed",
            str(seed),
            "--skip",
            str(skip),
            "--count",
            str(count),
            "--tag",
            tag,
            "--batch",
            str(batch),
        ),
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )


async def read_importer(
    proc: asyncio.subprocess.Process, first_batch: asyncio.Event | None = None
) -> dict[str, Any]:
    """Collects the importer's lines until its summary; sets `first_batch` on the first answer."""
    assert proc.stdout is not None
    batch_ms: list[float] = []
    statuses: dict[str, int] = {}
    while line := await proc.stdout.readline():
        doc = orjson.loads(line)
        if doc.get("summary"):
            await proc.wait()
            doc["batch_ms"] = summary_ms(batch_ms)
            doc["statuses"] = statuses
            return dict(doc)
        batch_ms.append(doc["answered_at"] - doc["sent_at"])
        statuses[str(doc["status"])] = statuses.get(str(doc["status"]), 0) + 1
        if first_batch is not None:
            first_batch.set()
    await proc.wait()
    raise RuntimeError(f"importer exited with {proc.returncode} before its summary")
