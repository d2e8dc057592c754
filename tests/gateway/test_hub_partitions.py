"""The hub reads every partition of the alert-state topics, and resumes each on its own."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from gateway import hub as hub_module
from gateway.hub import SLICE, Hub, partitions_of, resume_points
from gateway.states import AlertStates
from hotline.settings import Settings
from hotline.topics import topics


def described(name: str, partitions: int, error_code: int = 0) -> dict[str, object]:
    """A topic as the broker's metadata answer describes it (the fields the hub reads)."""
    parts = [{"error_code": 0, "partition": p} for p in reversed(range(partitions))]
    return {"error_code": error_code, "topic": name, "partitions": parts}


def test_every_partition_of_every_state_topic_is_read() -> None:
    answer = [described("s.bulk", 3), described("s", 1)]
    assert partitions_of(["s", "s.bulk"], answer) == [
        TopicPartition("s", 0),
        TopicPartition("s.bulk", 0),
        TopicPartition("s.bulk", 1),
        TopicPartition("s.bulk", 2),
    ]


@pytest.mark.parametrize(
    "answer",
    [
        [described("s", 1)],  # s.bulk not in the answer
        [described("s", 1), described("s.bulk", 0, error_code=3)],  # unknown topic
        [described("s", 1), described("s.bulk", 8, error_code=5)],  # leader not elected yet
    ],
)
def test_a_topic_not_known_yet_fails_the_start(answer: list[dict[str, object]]) -> None:
    with pytest.raises(KafkaError):
        partitions_of(["s", "s.bulk"], answer)


def test_each_partition_resumes_from_its_own_offset() -> None:
    begins, ends = {0: 0, 1: 10, 2: 0}, {0: 50, 1: 40, 2: 0}
    assert resume_points({}, begins, ends) == {0: 0, 1: 10, 2: 0}  # a new store
    assert resume_points({0: 20, 1: 40}, begins, ends) == {0: 20, 1: 40, 2: 0}
    # The store of the one-partition topic, now that the topic has more: partition 0's
    # offset still holds, the others are read from their beginning.
    assert resume_points({0: 50}, begins, ends) == {0: 50, 1: 10, 2: 0}


@pytest.mark.parametrize(
    "stored",
    [
        {0: 51},  # past the end: the topic was recreated
        {1: 9},  # before the beginning: compacted or deleted past what the store read
        {0: 20, 3: 4},  # a partition the topic does not have
    ],
)
def test_a_store_that_does_not_match_its_topic_is_read_anew(stored: dict[int, int]) -> None:
    assert resume_points(stored, {0: 0, 1: 10, 2: 0}, {0: 50, 1: 40, 2: 0}) is None


class Record(NamedTuple):
    offset: int
    key: bytes
    value: bytes


class Consumer:
    """Hands the hub's loop the batches a test puts in, as getmany would."""

    def __init__(self) -> None:
        self.batches: asyncio.Queue[dict[TopicPartition, list[Record]]] = asyncio.Queue()

    def assignment(self) -> set[TopicPartition]:
        return set()

    async def getmany(
        self, timeout_ms: int, max_records: int
    ) -> dict[TopicPartition, list[Record]]:
        return await self.batches.get()


async def read(consumer: Consumer, batch: dict[TopicPartition, list[Record]]) -> None:
    consumer.batches.put_nowait(batch)
    while not consumer.batches.empty():
        await asyncio.sleep(0)
    await asyncio.sleep(0)  # the loop handles the batch it took


async def test_caught_up_only_once_every_partition_is_read(tmp_path: Path) -> None:
    hub = Hub(Settings(data_dir=tmp_path))
    topic = topics(hub.settings).alert_state_bulk
    store = hub.known.states.by_topic[topic]
    store.open(tmp_path / "s")
    p0, p1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
    hub._catching_up = {p0: 2, p1: 1}
    consumer = Consumer()
    hub._task = asyncio.create_task(hub._run(consumer))
    try:
        await read(consumer, {p0: [Record(0, b"al-a", b"{}"), Record(1, b"al-b", b"{}")]})
        assert not hub.caught_up  # partition 1 of the same topic is not read yet
        await read(consumer, {p1: [Record(0, b"al-c", b"{}")]})
        assert hub.caught_up
    finally:
        hub._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await hub._task
    store.close()
    assert store.open(tmp_path / "s") == {0: 2, 1: 1}  # each partition's offset, kept apart
    assert all(a in store for a in ("al-a", "al-b", "al-c"))
    store.close()


class Broker:
    """What start() asks Kafka: partitions and their offsets; and where it seeks."""

    def __init__(self, offsets: dict[TopicPartition, tuple[int, int]]) -> None:
        self.offsets = offsets  # partition -> (beginning, end)
        self.seeks: dict[TopicPartition, int] = {}

    def admin(self, **_: object) -> Admin:
        return Admin(self)

    def consumer(self, **_: object) -> StartingConsumer:
        return StartingConsumer(self)


class Admin:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def describe_topics(self, names: list[str]) -> list[dict[str, object]]:
        counts = Counter(tp.topic for tp in self.broker.offsets)
        return [described(name, counts[name]) for name in names]


class StartingConsumer:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.assigned: list[TopicPartition] = []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def assign(self, tps: list[TopicPartition]) -> None:
        self.assigned = tps

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def highwater(self, tp: TopicPartition) -> None:
        return None

    async def beginning_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.broker.offsets[tp][0] for tp in tps}

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.broker.offsets[tp][1] for tp in tps}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.broker.seeks[tp] = offset

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        await asyncio.Event().wait()  # nothing new on any topic
        return {}


def started_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, stored: dict[int, int]) -> Broker:
    """A broker whose bulk state topic has 3 partitions, and a store that read `stored`."""
    settings = Settings(data_dir=tmp_path)
    t = topics(settings)
    offsets = {TopicPartition(t.deliveries(a), 0): (0, 0) for a in settings.agency_ids}
    offsets[TopicPartition(t.alert_state, 0)] = (0, 0)
    for partition, span in enumerate([(0, 10), (0, 4), (0, 0)]):
        offsets[TopicPartition(t.alert_state_bulk, partition)] = span
    broker = Broker(offsets)
    monkeypatch.setattr(hub_module, "AIOKafkaAdminClient", broker.admin)
    monkeypatch.setattr(hub_module, "AIOKafkaConsumer", broker.consumer)
    store = AlertStates(cache_size=10)
    store.open(tmp_path / "gateway" / str(settings.gateway_port) / t.alert_state_bulk)
    for partition, offset in stored.items():
        store.apply([(f"al-{partition}", b"{}")], offset, partition)
    store.close()
    return broker


async def test_the_hub_resumes_every_partition_where_its_store_stopped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broker = started_on(monkeypatch, tmp_path, {0: 5})
    hub = Hub(Settings(data_dir=tmp_path))
    await hub.start()
    try:
        bulk = topics(hub.settings).alert_state_bulk
        assert [broker.seeks[TopicPartition(bulk, p)] for p in range(3)] == [5, 0, 0]
        assert hub._catching_up == {TopicPartition(bulk, 0): 10, TopicPartition(bulk, 1): 4}
        assert "al-0" in hub.known.states
    finally:
        await hub.stop()


async def test_a_store_past_its_partitions_end_is_read_anew(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broker = started_on(monkeypatch, tmp_path, {0: 5, 1: 7})  # partition 1 ends at 4
    hub = Hub(Settings(data_dir=tmp_path))
    await hub.start()
    try:
        bulk = topics(hub.settings).alert_state_bulk
        assert [broker.seeks[TopicPartition(bulk, p)] for p in range(3)] == [0, 0, 0]
        assert "al-0" not in hub.known.states and "al-1" not in hub.known.states
    finally:
        await hub.stop()


async def test_a_big_fetch_feeds_consoles_first_and_lets_the_loop_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An import floods the state topic: the consoles' events go first, and the states in
    # slices, with other tasks (urgent POSTs, sockets) running between them.
    hub = Hub(Settings(data_dir=tmp_path))
    states = TopicPartition(topics(hub.settings).alert_state_bulk, 3)
    feed = TopicPartition(topics(hub.settings).deliveries("cn-beijing"), 0)
    taken: list[tuple[str, int, int]] = []
    turns = 0

    def take(tp: TopicPartition, records: list[Record]) -> None:
        taken.append((tp.topic, len(records), turns))

    async def other_task() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    monkeypatch.setattr(hub, "_take", take)
    consumer = Consumer()
    many = [Record(i, f"al-{i}".encode(), b"{}") for i in range(3 * SLICE)]
    other = asyncio.create_task(other_task())
    hub._task = asyncio.create_task(hub._run(consumer))
    try:
        await read(consumer, {states: many, feed: [Record(0, b"al-u", b"{}")]})
        for _ in range(10):
            await asyncio.sleep(0)
    finally:
        for task in (hub._task, other):
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    assert taken[0][:2] == (feed.topic, 1)
    assert [(t, n) for t, n, _ in taken[1:]] == [(states.topic, SLICE)] * 3
    assert len({at for _, _, at in taken[1:]}) == 3  # the loop ran between the slices
