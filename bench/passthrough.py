"""The stream baseline: the least a consume -> produce service can do with the same records.

Run as its own process (`python -m bench.passthrough ...`) so it competes for the 2 cores
exactly like the worker does. It mirrors what the worker's bulk agent does with Kafka, minus
every bit of hotline logic: take up to a bulk batch of records within the bulk lane's wait
(streams/agents.py BULK_BATCH, BULK_WITHIN_S), produce each value unchanged with acks=all,
await the acks of the batch, and commit the group offset as often as the worker does
(streams/app.py COMMIT_EVERY). The constants are the worker's own, imported: a copy here had
drifted to 200 records a batch while the worker took 100 (runs before 2026-12-05).

Protocol: prints `{"ready": true}` once it owns the partition, then one JSON summary line
after `--count` records, and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.agents import BULK_BATCH as BATCH
from streams.agents import BULK_WITHIN_S
from streams.app import COMMIT_EVERY

WITHIN_MS = round(BULK_WITHIN_S * 1000)


async def run(bootstrap: str, src: str, dst: str, group: str, count: int, timeout: float) -> None:
    consumer = AIOKafkaConsumer(
        src,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    try:
        deadline = time.monotonic() + 60
        while not consumer.assignment():
            if time.monotonic() > deadline:
                raise RuntimeError("no partition assigned within 60 s")
            await consumer.getmany(timeout_ms=100)
        print(orjson.dumps({"ready": True}).decode(), flush=True)
        done = uncommitted = 0
        first: float | None = None
        deadline = time.monotonic() + timeout
        while done < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=WITHIN_MS, max_records=BATCH)
            records = [r for rs in batches.values() for r in rs]
            if not records:
                continue
            if first is None:
                first = time.time()
            futures = [await producer.send(dst, r.value, key=r.key) for r in records]
            await asyncio.gather(*futures)
            done += len(records)
            uncommitted += len(records)
            if uncommitted >= COMMIT_EVERY:
                await consumer.commit()
                uncommitted = 0
        await consumer.commit()
        print(orjson.dumps({"processed": done, "first": first, "last": time.time()}).decode())
    finally:
        await producer.stop()
        await consumer.stop()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.passthrough")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--timeout", type=float, default=900.0)
    a = p.parse_args(argv)
    asyncio.run(run(a.bootstrap, a.src, a.dst, a.group, a.count, a.timeout))


if __name__ == "__main__":
    main()
