"""The stream's tables file a key under the partition being handled, or, when none is, the
one Kafka's producer gives its changelog."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from hotline.topics import partition_for
from streams import partition
from streams.tables import partition_of, rocksdb_options


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
