"""The gateway's delivery consumer: every agency feed, in order, with no event shown twice.

Each gateway replica reads every per-agency delivery topic itself (partition assignment, no
consumer group) and keeps a ring of recent events per agency. The ring is the only buffer:
a socket is woken when its agency's feed grows and pulls what lies after its own cursor, so a
burst (a bulk import) costs no per-socket queue and a slow socket only falls behind itself.
A console's cursor is the Kafka offset on its agency's topic, so a reconnect to any replica
resumes exactly where it stopped: from the ring, or from Kafka when older.

The same consumer reads every partition of both lanes' alert-state topics into the state
stores (gateway.states): from them the gateway knows which lane holds an alert, and which
group it belongs to, the key its follow-ups and acknowledgements are written with.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from hotline import metrics
from hotline.codec import loads
from hotline.models import AlertRecord, AlertState, Lane, alert_id_for
from hotline.settings import Settings
from hotline.topics import topics

from .states import AlertStates, LaneStates

log = logging.getLogger("hotline.gateway")

READ_RANGE_TIMEOUT_S = 30.0
# Records handled between two turns of the event loop (a few milliseconds of work).
SLICE = 500
# Alerts written but not yet processed that a gateway remembers: an import running ahead of
# the stream must not grow the gateway without bound. Beyond it the oldest read as unknown
# until the stream has processed them (and a retry of one is sent again, deduplicated there).
ACCEPTED_CAP = 50_000
# How far a follow-up of a follow-up (of ...) is walked back to the alert its group starts
# from: real chains are a few long; the bound only stops a cycle of references.
GROUP_DEPTH = 16


# One event of an agency's feed: (offset, event_id, event, lane, received_at, payload), where
# received_at is the unix time the alert was accepted (for the end-to-end latency metric) and
# payload the console JSON, cursor included. A plain tuple, not an object: CPython stops
# tracking a tuple of plain values, so the rings' events (HOTLINE_CONSOLE_RING per agency) cost
# the garbage collector nothing. As dataclass instances every full collection walked them all,
# stopping the loop 34-59 ms for urgent posts and consoles during an import.
Entry = tuple[int, str, str, str, float, bytes]
OFFSET: Final = 0
EVENT_ID: Final = 1
EVENT: Final = 2
LANE: Final = 3
RECEIVED_AT: Final = 4
PAYLOAD: Final = 5


def is_urgent(entry: Entry) -> bool:
    return entry[LANE] != "bulk"


def ahead_payload(entry: Entry) -> bytes:
    """The event sent before older ones: no cursor, so a resume cannot skip those."""
    payload = entry[PAYLOAD]
    return payload[: payload.rindex(b',"cursor":')] + b',"cursor":null}'


class Subscriber(Protocol):
    agency: str

    def wake(self) -> None: ...


@dataclass(slots=True)
class Feed:
    """One agency's recent events; `covered_from` is the first offset the ring is complete from."""

    topic: str
    capacity: int
    ring: deque[Entry] = field(default_factory=deque)
    ids: dict[str, int] = field(default_factory=dict)
    covered_from: int = 0
    subscribers: set[Subscriber] = field(default_factory=set)

    def append(self, entry: Entry) -> bool:
        if entry[EVENT_ID] in self.ids:
            return False  # the worker re-sent it after a crash: already shown as new
        self.ring.append(entry)
        self.ids[entry[EVENT_ID]] = entry[OFFSET]
        if len(self.ring) > self.capacity:
            old = self.ring.popleft()
            del self.ids[old[EVENT_ID]]
            self.covered_from = old[OFFSET] + 1
        return True

    def after(self, cursor: int) -> list[Entry]:
        # From the right: a live console asks for the last few entries, not the whole ring.
        out = []
        for e in reversed(self.ring):
            if e[OFFSET] <= cursor:
                break
            out.append(e)
        out.reverse()
        return out

    def recent(self, n: int) -> list[Entry]:
        return list(self.ring)[-n:] if n else []

    @property
    def latest(self) -> int | None:
        return self.ring[-1][OFFSET] if self.ring else None

    @property
    def position(self) -> int:
        """Everything up to this offset is in the ring or was consumed before it."""
        return self.ring[-1][OFFSET] if self.ring else self.covered_from - 1


@dataclass(frozen=True, slots=True)
class Backlog:
    gap: tuple[int, int] | None  # [start, end) to read from Kafka before `entries`
    entries: list[Entry]
    position: int  # live events are those after this offset


def parse_entry(offset: int, value: bytes) -> Entry:
    doc = orjson.loads(value)
    # The worker's JSON object never carries a cursor: append it instead of re-serializing
    # every event (this loop is the gateway's hot path during a bulk import).
    payload = b'%s,"cursor":%d}' % (value.rstrip()[:-1], offset)
    if doc.get("type") == "digest":  # an import's progress: bulk, never ahead of an alert
        at = datetime.fromisoformat(doc["at"]).timestamp()
        return (offset, doc["event_id"], "digest", "bulk", at, payload)
    received = datetime.fromisoformat(doc["alert"]["received_at"]).timestamp()
    return (
        offset,
        doc["event_id"],
        doc["event"],
        doc["alert"].get("lane", "urgent"),
        received,
        payload,
    )


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
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        t = topics(settings)
        self.feeds = {a: Feed(t.deliveries(a), settings.console_ring) for a in settings.agency_ids}
        self._by_topic = {f.topic: (a, f) for a, f in self.feeds.items()}
        # alert_id -> AlertState JSON: the compacted topics, on disk with an LRU in front
        self.states = LaneStates(
            {topic: AlertStates(settings.gateway_state_cache) for topic in t.states().values()}
        )
        self._lanes = t.states()
        self._states_dir = settings.data_dir / "gateway" / str(settings.gateway_port)
        # alert_id -> AlertRecord JSON: written by this gateway, not yet processed by the stream
        self.accepted: dict[str, bytes] = {}
        self._accepted_lane: dict[str, Lane] = {}  # the lane it was written to, if not its own
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
        state_tps = await self._partitions(list(self.states.by_topic))
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
        for topic, store in self.states.by_topic.items():
            path = self._states_dir / topic
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
        self.states.close()

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
            ordered = sorted(batches.items(), key=lambda kv: kv[0].topic in self.states.by_topic)
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
        store = self.states.by_topic.get(tp.topic)
        if store is None:
            agency, feed = self._by_topic[tp.topic]
            self._dispatch(agency, feed, ((r.offset, r.value) for r in records))
            return
        if records:
            updates = [(r.key.decode(), r.value) for r in records]
            for key, _ in updates:
                self.accepted.pop(key, None)
                self._accepted_lane.pop(key, None)
            offsets = [r.offset for r in records]
            store.apply(updates, records[-1].offset + 1, tp.partition, offsets)

    def note_accepted(self, alert_id: str, record: bytes, lane: Lane | None = None) -> None:
        """Kafka holds the alert: until the stream has processed it, it reads as accepted.

        `lane`: the lane it was written to, when not the one its urgency gives (a follow-up
        goes to the lane of the alert it references)."""
        if alert_id not in self.states:
            self.accepted[alert_id] = record
            if lane is not None:
                self._accepted_lane[alert_id] = lane
            if len(self.accepted) > ACCEPTED_CAP:
                oldest = next(iter(self.accepted))
                del self.accepted[oldest]
                self._accepted_lane.pop(oldest, None)

    def lane_of(self, alert_id: str) -> Lane | None:
        """The lane that holds the alert (it processes its follow-ups and acknowledgements)."""
        for lane, topic in self._lanes.items():
            if alert_id in self.states.by_topic[topic]:
                return lane
        if alert_id in self._accepted_lane:
            return self._accepted_lane[alert_id]
        accepted = self.accepted.get(alert_id)
        return None if accepted is None else loads(AlertRecord, accepted).lane

    def group_of(self, alert_id: str) -> str:
        """The id of the alert that the alert's chain of follow-ups starts from: the key of
        every record about any alert of the chain, so the bulk lane, whose inputs have many
        partitions, reads them all from one.

        Walked through what this gateway knows (processed states, alerts it wrote); where it
        knows no further, the last id reached, which is right whenever that alert is an
        original (the common case: a follow-up of an alert this gateway has not seen)."""
        current = alert_id
        for _ in range(GROUP_DEPTH):
            state = self.state(current)
            if state is None or state.alert.body.references is None:
                return current
            current = alert_id_for(state.alert.sender, state.alert.body.references)
        return current

    def state(self, alert_id: str) -> AlertState | None:
        """The stored state of an alert (internal: pass it through need_to_know)."""
        raw = self.states.get(alert_id)
        if raw is not None:
            return loads(AlertState, raw)
        accepted = self.accepted.get(alert_id)
        if accepted is None:
            return None
        record = loads(AlertRecord, accepted)
        return AlertState(alert=record, status="accepted", updated_at=record.received_at)

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
