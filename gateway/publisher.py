"""The gateway's Kafka producers: a partner hears 202 only after acks=all.

Two producers, two connections: imports go through one, everything else (urgent alerts,
follow-ups, acknowledgements) through the other. A producer sends one request per broker at a
time, so an urgent record sharing a producer with an import waits for the import's megabyte
requests ahead of it; on its own connection it is a request of its own, at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hotline import metrics
from hotline.errors import KafkaUnavailable
from hotline.producers import BULK_BATCH_BYTES, new_producer
from hotline.settings import Settings
from hotline.topics import topics

log = logging.getLogger("hotline.gateway")

RETRY_AFTER_S = 2


class Publisher:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._bulk_topic = topics(settings).inbound_bulk
        self._producer: AIOKafkaProducer | None = None  # urgent alerts and everything small
        self._bulk: AIOKafkaProducer | None = None  # imports
        self._errors = metrics.KAFKA_PRODUCE_ERRORS.labels("gateway")

    async def start(self) -> None:
        # Few, full requests for imports; no waiting for company for the rest. The partner's
        # answer is bounded by our own timeout; the client keeps retrying.
        bulk = new_producer(
            self.settings, linger_ms=2, max_batch_size=BULK_BATCH_BYTES, request_timeout_ms=30_000
        )
        urgent = new_producer(
            self.settings, linger_ms=0, max_batch_size=64 * 1024, request_timeout_ms=30_000
        )
        try:
            await bulk.start()
            await urgent.start()
        except BaseException:
            await bulk.stop()
            await urgent.stop()
            raise
        self._bulk, self._producer = bulk, urgent

    async def stop(self) -> None:
        for producer in (self._producer, self._bulk):
            if producer is not None:
                await producer.stop()
        self._producer = self._bulk = None

    @property
    def ready(self) -> bool:
        return self._producer is not None

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        [error] = await self.send_many(topic, [(key, value)])
        if error is not None:
            raise error

    async def send_many(
        self,
        topic: str,
        records: Sequence[tuple[bytes, bytes]],
        within: float | None = None,
        partitions: Sequence[int] | None = None,
    ) -> list[KafkaUnavailable | None]:
        """One result per record, in order: None once durably written, else the error.

        Every record is handed to the producer first and the acknowledgements are awaited
        together: one task per record would wake thousands of waiters on every drained
        batch and starve the event loop that also serves urgent POSTs and consoles.

        `partitions`: each record's partition, as Kafka's partitioner gives its key (worked
        out off this loop). The records then go out as a few batches, one future each: per
        record, hashing the key and resolving its future cost this loop ~100 ms an import
        request, which urgent posts waited behind.
        """
        producer = self._bulk if topic == self._bulk_topic else self._producer
        if producer is None:
            self._errors.inc(len(records))
            return [self._unavailable("the gateway is not connected to Kafka")] * len(records)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (within or self.settings.produce_timeout_s)
        # Each future with the indexes of the records it answers for.
        sent: list[tuple[asyncio.Future[Any], list[int]]] = []
        try:
            async with asyncio.timeout_at(deadline):
                if partitions is None:
                    for i, (key, value) in enumerate(records):
                        sent.append((await producer.send(topic, value=value, key=key), [i]))
                else:
                    await _send_batches(producer, topic, records, partitions, sent)
        except (KafkaError, TimeoutError) as exc:
            log.warning("kafka did not take the write: %r", exc)
        futures = [f for f, _ in sent]
        for f in futures:
            f.add_done_callback(_retrieve)  # a late failure must not warn "never retrieved"
        if futures:
            await asyncio.wait(futures, timeout=max(0.0, deadline - loop.time()))
        outcomes: list[BaseException | None] = [TimeoutError()] * len(records)  # never sent
        for f, members in sent:
            outcome = _outcome(f)
            for i in members:
                outcomes[i] = outcome
        out: list[KafkaUnavailable | None] = []
        for error in outcomes:
            if error is None:
                out.append(None)
                continue
            if not isinstance(error, KafkaError | TimeoutError):
                raise error  # a programming error: let the 500 handler log it
            self._errors.inc()
            out.append(self._unavailable("Kafka did not confirm the write; retry later"))
        return out

    @staticmethod
    def _unavailable(detail: str) -> KafkaUnavailable:
        return KafkaUnavailable(detail, retry_after=RETRY_AFTER_S)


# Records appended between two looks at the loop's other work (a few milliseconds' worth).
YIELD_EVERY = 500


async def _send_batches(
    producer: AIOKafkaProducer,
    topic: str,
    records: Sequence[tuple[bytes, bytes]],
    partitions: Sequence[int],
    sent: list[tuple[asyncio.Future[Any], list[int]]],
) -> None:
    """Fills a batch per partition, as large as the producer's, and hands each over whole."""
    by_partition: dict[int, list[int]] = {}
    for i, p in enumerate(partitions):
        by_partition.setdefault(p, []).append(i)
    appended = 0
    for p, indexes in by_partition.items():
        batch, members = producer.create_batch(), list[int]()
        for i in indexes:
            key, value = records[i]
            if batch.append(key=key, value=value, timestamp=None) is None:  # full
                sent.append((await producer.send_batch(batch, topic, partition=p), members))
                batch, members = producer.create_batch(), list[int]()
                # An empty batch takes any one record; one too large for the topic fails alone.
                batch.append(key=key, value=value, timestamp=None)
            members.append(i)
            appended += 1
            if appended % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        if members:
            sent.append((await producer.send_batch(batch, topic, partition=p), members))


def _outcome(fut: asyncio.Future[Any]) -> BaseException | None:
    """None once Kafka acknowledged the record; a record still in flight has timed out."""
    if not fut.done() or fut.cancelled():
        return TimeoutError()
    return fut.exception()


def _retrieve(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()
