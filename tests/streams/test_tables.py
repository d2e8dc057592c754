"""The stream's tables file a key under the partition Kafka's producer gives its changelog."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from streams.tables import partition_for


@given(key=st.binary(min_size=1, max_size=64), partitions=st.integers(min_value=1, max_value=64))
def test_partition_for_is_the_producers_choice(key: bytes, partitions: int) -> None:
    every = list(range(partitions))
    assert partition_for(key, partitions) == DefaultPartitioner()(key, every, every)
