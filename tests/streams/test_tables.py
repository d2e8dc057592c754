"""The stream's tables file a key under the partition being handled, or, when none is, the
one Kafka's producer gives its changelog."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiokafka.errors import KafkaTimeoutError
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from hotline.topics import partition_for
from streams import partition
from streams.tables import Table, partition_of, rocksdb_options


@given(key=st.binary(min_size=1, max_size=64), partitions=st.integers(min_value=1, max_value=64))
def test_partition_for_is_the_producers_choice(key: bytes, partitions: int) -> None:
    every = list(range(partitions))
    assert partition_for(key, partitions) == DefaultPartitioner()(key, every, every)


@given(key=st.binary(min_size=1, max_size=64), partitions=st.integers(min_value=2, max_value=64))
def test_an_entry_lives_in_the_partition_being_handled(key: bytes, partitions: int) -> None:
    # A follow-up's state lives with the alert it follows, not where its own key hashes to.
    with partition.of(partitions - 1):
        assert partition_of(key, partitions) == partitions - 1
    assert partition_of(key, partitions) == partition_for(key, partitions)  # none named


def test_a_single_partition_table_is_always_partition_0() -> None:
    with partition.of(5):  # a bulk item's partition, while an urgent table is written
        assert partition_of(b"al-1", 1) == 0


def test_a_partitioned_table_shares_one_tables_memory_out() -> None:
    def budget(partitions: int) -> int:
        o = rocksdb_options(partitions)
        per_db = o["block_cache_size"] + o["write_buffer_size"] * o["max_write_buffer_number"]
        return partitions * per_db

    assert budget(8) <= 2 * budget(1)  # not eight times: floors keep each database usable
    assert rocksdb_options(8)["write_buffer_size"] >= 2 * 1024**2


class _Store(dict[str, str]):
    """A local store that records the changelog offset it was told it holds."""

    def __init__(self) -> None:
        super().__init__()
        self.persisted: dict[tuple[str, int], int] = {}

    def set_persisted_offset(self, tp: Any, offset: int) -> None:
        self.persisted[tp.topic, tp.partition] = offset


class _Alerts:
    """What Table.write_through uses of a Faust table."""

    changelog_topic_name = "alert-state.bulk"
    partitions = 8

    def __init__(self) -> None:
        self.data = _Store()

    async def write_through(self, writes: Any, send: Any) -> None:
        await Table.write_through(cast(Table, self), writes, send)


async def test_the_store_applies_a_write_only_after_its_changelog_record_is_acknowledged() -> None:
    # A worker SIGKILLed between the two must not restart on a store that remembers an alert
    # whose state record Kafka never got: it would take the alert's redelivery for a
    # duplicate, and nobody would ever see the alert.
    table = _Alerts()
    table.data["old"] = "gone soon"
    acks: list[asyncio.Future[Any]] = []
    sent: list[tuple[str, bytes, bytes | None, int]] = []

    async def send(topic: str, key: bytes, value: bytes | None, p: int) -> asyncio.Future[Any]:
        sent.append((topic, key, value, p))
        acks.append(asyncio.get_running_loop().create_future())
        return acks[-1]

    writing = asyncio.ensure_future(
        table.write_through([("a", "1", 3), ("old", None, 5), ("b", "2", None)], send)
    )
    await asyncio.sleep(0.01)
    assert len(sent) == 3 and not writing.done()
    assert table.data == {"old": "gone soon"}  # nothing applied while unacknowledged
    # Each record goes where the store files the entry: the write's partition, or the key's.
    assert sent == [
        ("alert-state.bulk", b"a", b"1", 3),
        ("alert-state.bulk", b"old", None, 5),  # a deletion is a tombstone
        ("alert-state.bulk", b"b", b"2", partition_for(b"b", 8)),
    ]
    for i, ack in enumerate(acks[:2]):
        ack.set_result(SimpleNamespace(topic="alert-state.bulk", partition=sent[i][3], offset=i))
    await asyncio.sleep(0.01)
    assert table.data == {"old": "gone soon"}  # not until every record is in Kafka
    acks[2].set_result(SimpleNamespace(topic="alert-state.bulk", partition=sent[2][3], offset=7))
    await writing
    assert table.data == {"a": "1", "b": "2"}
    assert table.data.persisted[("alert-state.bulk", 3)] == 0  # where recovery starts again


async def test_a_write_whose_record_is_refused_never_reaches_the_store() -> None:
    table = _Alerts()

    async def send(topic: str, key: bytes, value: bytes | None, p: int) -> asyncio.Future[Any]:
        refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        refused.set_exception(KafkaTimeoutError())
        return refused

    with pytest.raises(KafkaTimeoutError):
        await table.write_through([("a", "1", 0)], send)
    assert table.data == {} and table.data.persisted == {}
