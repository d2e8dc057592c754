"""The gateway's delivery consumer: every agency feed, in order, with no event shown twice.

Each gateway replica reads every per-agency delivery topic itself (partition assignment, no
consumer group) and keeps a ring of recent events per agency. The ring is the only buffer:
a socket is woken when its agency's feed grows and pulls what lies after its own cursor, so a
burst (a bulk import) costs no per-socket queue and a slow socket only falls behind itself.
A console's cursor is the Kafka offset on its agency's topic, so a reconnect to any replica
resumes exactly where it stopped: from the ring, or from Kafka when older.

The same consumer reads every partition of both lanes' alert-state topics and hands them to
what the gateway knows of each alert (gateway/known.py); consoles' events go first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from hotline import metrics
from hotline.settings import Settings
from hotline.topics import topics

from .known import KnownAlerts
from .ring import EVENT_ID, Backlog, Entry, Feed, Subscriber, parse_entry

log = logging.getLogger("hotline.gateway")

READ_RANGE_TIMEOUT_S = 30.0
# Records handled between two turns of the event loop (a few milliseconds of work).
SLICE = 500


def partitions_of(names: Iterable[str], described: list[dict[str, Any]]) -> list[TopicPartition]:
    """Every partition of each topic named, from the broker's description of the topics.

    Raises KafkaError while a topic is not known yet (just created, or not at all): the
    gateway's start is retried until it is, rather than reading fewer partitions than exist.
    """
    by_name = {d["topic"]: d for d in described}
    out: list[TopicPartition] = []
    for name in names:
        topic = by_name.get(name)
        if topic is None or topic["error_code"] or not topic["partitions"]:
            raise KafkaError(f"the partitions of {name} are not known yet")
        out += sorted(TopicPartition(name, p["partition"]) for p in topic["partitions"])
    return out


def resume_points(
    stored: Mapping[int, int], begins: Mapping[int, int], ends: Mapping[int, int]
) -> dict[int, int] | None:
    """Where to read each partition of an alert-state topic from: the offset the store holds
    for it, or the partition's beginning when it has none (a new store, a partition added).

    None when the store does not match the topic: an offset outside its partition's range, or
    one for a partition the topic lacks. The topic was recreated or truncated, so the whole
    store is forgotten and every partition read from its beginning.
    """
    for partition, offset in stored.items():
        if partition not in begins or not begins[partition] <= offset <= ends[partition]:
            return None
    return {partition: stored.get(partition, begin) for partition, begin in begins.items()}


class Hub:
    def __init__(self, settings: Settings, known: KnownAlerts | None = None) -> None:
        self.settings = settings
        t = topics(settings)
        self.feeds = {a: Feed(t.deliveries(a), settings.console_ring) for a in settings.agency_ids}
        self._by_topic = {f.topic: (a, f) for a, f in self.feeds.items()}
        # Where the alert states read here go.
        self.known = known if known is not None else KnownAlerts(settings)
        self._state_topics = self.known.states.by_topic
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        # partition -> its end offset at start-up, not read up to yet: until every one is,
        # states and feeds are stale (a retry would not be known, an acknowledgement not found).
        self._catching_up: dict[TopicPartition, int] = {}

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def caught_up(self) -> bool:
        """Everything that was on the topics when the gateway started has been read, on every
        partition of each."""
        return self.running and not self._catching_up

    async def start(self) -> None:
        # Asked before anything is opened: a topic not known yet fails the start harmlessly.
        state_tps = await self._partitions(list(self._state_topics))
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        # A delivery topic has one partition by design: its offset is the console cursor.
        tps = [TopicPartition(f.topic, 0) for f in self.feeds.values()]
        consumer.assign([*tps, *state_tps])
        ends = await consumer.end_offsets(tps)
        begins = await consumer.beginning_offsets(tps)
        targets: dict[TopicPartition, int] = {}
        for tp in tps:
            start = max(begins[tp], ends[tp] - self.settings.console_ring)
            consumer.seek(tp, start)
            self._by_topic[tp.topic][1].covered_from = start
            if ends[tp] > start:
                targets[tp] = ends[tp]
        state_begins = await consumer.beginning_offsets(state_tps)
        state_ends = await consumer.end_offsets(state_tps)
        for topic, store in self._state_topics.items():
            path = self.known.dir / topic
            parts = [tp for tp in state_tps if tp.topic == topic]
            part_begins = {tp.partition: state_begins[tp] for tp in parts}
            part_ends = {tp.partition: state_ends[tp] for tp in parts}
            resume = resume_points(store.open(path), part_begins, part_ends)
            if resume is None:
                log.warning("alert-state store does not match %s; reading it anew", topic)
                store.reset(path)
                resume = part_begins
            for tp in parts:
                consumer.seek(tp, resume[tp.partition])
                if part_ends[tp.partition] > resume[tp.partition]:
                    targets[tp] = part_ends[tp.partition]
        self._catching_up = targets
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(consumer), name="delivery-consumer")

    async def _partitions(self, names: list[str]) -> list[TopicPartition]:
        """Every partition of these topics, as the broker describes them now."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap)
        await admin.start()
        try:
            described = await admin.describe_topics(names)
        finally:
            await admin.close()
        return partitions_of(names, described)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()
        self.known.close()

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        lag_due = 0.0
        loop = asyncio.get_running_loop()
        while True:
            if loop.time() >= lag_due:
                await self._report_lag(consumer)
                lag_due = loop.time() + 1.0
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            # Consoles' events before alert states (an import floods the states), and both in
            # slices with the loop let go between them: a fetch of thousands of records must
            # not hold up an urgent POST or a socket for the whole of it.
            ordered = sorted(batches.items(), key=lambda kv: kv[0].topic in self._state_topics)
            for tp, records in ordered:
                target = self._catching_up.get(tp)
                if target is not None and records and records[-1].offset + 1 >= target:
                    del self._catching_up[tp]
                for start in range(0, len(records), SLICE):
                    if start:
                        await asyncio.sleep(0)
                    self._take(tp, records[start : start + SLICE])
            await asyncio.sleep(0)

    def _take(self, tp: TopicPartition, records: list[Any]) -> None:
        if tp.topic in self._state_topics:
            if records:
                updates = [(r.key.decode(), r.value) for r in records]
                offsets = [r.offset for r in records]
                self.known.apply(tp.topic, tp.partition, updates, offsets)
            return
        agency, feed = self._by_topic[tp.topic]
        self._dispatch(agency, feed, ((r.offset, r.value) for r in records))

    async def _report_lag(self, consumer: AIOKafkaConsumer) -> None:
        # Summed over a topic's partitions: the gauge is per topic.
        lags: Counter[str] = Counter()
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is not None:
                lags[tp.topic] += max(0, high - await consumer.position(tp))
        for topic, lag in lags.items():
            metrics.CONSUMER_LAG.labels("gateway", topic).set(lag)

    def _dispatch(self, agency: str, feed: Feed, records: Iterable[tuple[int, bytes]]) -> None:
        for offset, value in records:
            try:
                entry = parse_entry(offset, value)
            except (ValueError, KeyError, TypeError):
                log.exception("unreadable delivery %s@%d skipped", feed.topic, offset)
                continue
            if not feed.append(entry):
                metrics.CONSOLE_DUPLICATES.labels(agency).inc()
                continue
            for sub in list(feed.subscribers):
                sub.wake()

    def subscribe(self, sub: Subscriber, resume_after: int | None) -> Backlog:
        """Registers `sub` for live events and returns what it must be sent first.

        Runs without awaiting, so no event can fall between the backlog and the live stream.
        """
        feed = self.feeds[sub.agency]
        feed.subscribers.add(sub)
        if resume_after is None:
            return Backlog(None, feed.recent(self.settings.console_window), feed.position)
        gap = None
        if resume_after + 1 < feed.covered_from:
            gap = (resume_after + 1, feed.covered_from)
        return Backlog(gap, feed.after(resume_after), feed.position)

    def unsubscribe(self, sub: Subscriber) -> None:
        self.feeds[sub.agency].subscribers.discard(sub)

    async def read_range(self, agency: str, start: int, end: int) -> list[Entry]:
        """Events [start, end) of an agency's topic, straight from Kafka, repeats dropped."""
        tp = TopicPartition(self.feeds[agency].topic, 0)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=None,
            enable_auto_commit=False,
        )
        await consumer.start()
        out: list[Entry] = []
        seen: set[str] = set()
        try:
            consumer.assign([tp])
            begin = (await consumer.beginning_offsets([tp]))[tp]
            consumer.seek(tp, max(start, begin))
            position = max(start, begin)
            deadline = asyncio.get_running_loop().time() + READ_RANGE_TIMEOUT_S
            while position < end:
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"could not read {tp.topic} [{start}, {end}) in time")
                batch = await consumer.getmany(tp, timeout_ms=500, max_records=5000)
                for r in batch.get(tp, []):
                    position = r.offset + 1
                    if r.offset >= end:
                        break
                    entry = parse_entry(r.offset, r.value)
                    if entry[EVENT_ID] not in seen:
                        seen.add(entry[EVENT_ID])
                        out.append(entry)
        finally:
            await consumer.stop()
        return out
