"""Kafka plumbing for the bench: a fast writer, a counting reader, topics and offsets."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.partitioner import murmur2

KV = tuple[bytes, bytes]
# Within the one record-size limit every hotline topic has (HOTLINE_MAX_RECORD_BYTES).
_BATCH_BYTES = 512 * 1024


async def create_topics(bootstrap: str, names: Sequence[str], config: dict[str, str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics([NewTopic(n, 1, 1, topic_configs=config) for n in names])
    finally:
        await admin.close()


async def end_offset(bootstrap: str, topic: str) -> int:
    """The topic's end offset, summed over its partitions: how many records it ever held."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        tps = await _partitions(consumer, [topic])
        return sum(int(end) for end in (await consumer.end_offsets(tps)).values())
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
    await consumer.topics()  # fetches the metadata that partitions_for_topic answers from
    return [
        TopicPartition(t, p)
        for t in topics
        for p in sorted(consumer.partitions_for_topic(t) or {0})
    ]


@dataclass(frozen=True, slots=True)
class Written:
    first_sent: float  # time.time() just before the first record was handed to the client
    all_acked: float  # time.time() once the broker acknowledged the last batch
    records: int
    bytes: int


async def write_fast(bootstrap: str, topic: str, records: Sequence[KV]) -> Written:
    """acks=all writes through explicit batches: the Python client's fastest path, so the
    writer is never what a throughput phase measures."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        max_batch_size=_BATCH_BYTES,
        max_request_size=4 * _BATCH_BYTES,
    )
    await producer.start()
    try:
        # Each record to the partition its key gives, as the gateway's producer would send it.
        n = len(await producer.partitions_for(topic))
        first = time.time()
        pending: list[asyncio.Future[object]] = []
        size = 0
        batches: dict[int, Any] = {}
        for key, value in records:
            size += len(value)
            p = (murmur2(key) & 0x7FFFFFFF) % n if n > 1 else 0
            batch = batches.get(p) or batches.setdefault(p, producer.create_batch())
            if batch.append(key=key, value=value, timestamp=None) is None:
                pending.append(await producer.send_batch(batch, topic, partition=p))
                batch = batches[p] = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)
            if len(pending) >= 16:  # bound what is in flight, like a real producer would
                await asyncio.gather(*pending)
                pending.clear()
        for p, batch in batches.items():
            if batch.record_count():
                pending.append(await producer.send_batch(batch, topic, partition=p))
        await asyncio.gather(*pending)
        return Written(first, time.time(), len(records), size)
    finally:
        await producer.stop()


@dataclass(slots=True)
class Counted:
    wanted: int
    seen: int = 0
    first_at: float | None = None  # time.time() the first wanted record was read
    done_at: float | None = None  # time.time() the last wanted one was read
    last_create_ms: int | None = None  # its Kafka CreateTime, set by whoever produced it


class Counter:
    """Reads one single-partition topic from a given offset and counts the records whose key is
    in `keys` (distinct keys only), so escalations or retries never make a phase end early.

    With `digest` (an import id): a recipient's delivery topic, where a shared list arrives as
    digests (keyed by the import id, one running count per bulk partition) and only its hits
    one by one: what is counted is then the alerts the digests count, and `messages` is how
    many console messages the import took (digests and hits)."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        start: int,
        keys: set[bytes] | None,
        digest: str | None = None,
    ) -> None:
        self.bootstrap, self.topic, self.start, self.keys = bootstrap, topic, start, keys
        self.digest = digest.encode() if digest is not None else None
        self._consumer: AIOKafkaConsumer | None = None
        self.seen_so_far = 0  # progress, readable while count() runs
        self.messages = 0
        self._partitions: dict[int, int] = {}  # bulk partition -> numbers its latest digest counts

    async def __aenter__(self) -> Counter:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=50,
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        await self._consumer.start()
        tp = TopicPartition(self.topic, 0)
        self._consumer.assign([tp])
        self._consumer.seek(tp, self.start)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def count(
        self,
        wanted: int,
        timeout: float,
        *,
        floor: Callable[[], int | None] | None = None,
        settle_s: float = 5.0,
    ) -> Counted:
        """Reads until `wanted` matching records arrived or `timeout` seconds passed.

        With `floor`: also stops once `floor()` is known, at least that many arrived and nothing
        new matched for `settle_s` (an import whose items were partly refused delivers between
        its accepted count and all of them). `done_at` is then the last match's arrival."""
        assert self._consumer is not None
        result = Counted(wanted)
        remaining = set(self.keys) if self.keys is not None else None
        deadline = time.monotonic() + timeout
        last_match = time.monotonic()
        while result.seen < wanted and time.monotonic() < deadline:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=20_000)
            now = time.time()
            for records in batches.values():
                for r in records:
                    if self.digest is not None:
                        if r.key != self.digest and (remaining is None or r.key not in remaining):
                            continue
                        self.messages += 1
                        if r.key != self.digest:
                            continue  # a hit: counted in its digest as well
                        doc = orjson.loads(r.value)
                        part = self._partitions
                        part[doc["partition"]] = max(part.get(doc["partition"], 0), doc["numbers"])
                        counted = sum(part.values())
                        if counted == result.seen:
                            continue
                        result.seen = self.seen_so_far = counted
                        last_match = time.monotonic()
                        result.done_at, result.last_create_ms = now, r.timestamp
                        if result.first_at is None:
                            result.first_at = now
                        continue
                    if remaining is not None:
                        if r.key not in remaining:
                            continue
                        remaining.discard(r.key)
                    result.seen += 1
                    self.seen_so_far = result.seen
                    last_match = time.monotonic()
                    result.done_at, result.last_create_ms = now, r.timestamp
                    if result.first_at is None:
                        result.first_at = now
            least = floor() if floor is not None else None
            if (
                least is not None
                and result.seen >= least
                and time.monotonic() - last_match >= settle_s
            ):
                break
        if result.seen < wanted and (floor is None or floor() is None):
            result.done_at = None  # timed out: not a completion time
        return result


async def topic_offsets(bootstrap: str, containing: str) -> dict[str, int]:
    """End offsets (sum over partitions) of every topic whose name contains `containing`."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if containing in t]
        meta = await admin.describe_topics(names)
    finally:
        await admin.close()
    tps = [TopicPartition(m["topic"], p["partition"]) for m in meta for p in m["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps) if tps else {}
    finally:
        await consumer.stop()
    out: dict[str, int] = {}
    for tp, end in ends.items():
        out[tp.topic] = out.get(tp.topic, 0) + int(end)
    return out
