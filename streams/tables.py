"""The stream's Faust tables: on local RocksDB, partitioned by key, their replays counted.

Faust's RocksDB store files a write under the partition of the record being processed. The
stream also writes outside a single current record (a bulk batch is committed after its last
record, timers have none), and its tables choose partitions from the key (`use_partitioner`),
as their changelog records do. So here a write goes to the store of the partition its key
hashes to: the same partition the changelog record lands on, which is what recovery and a
rebalance (handing over whole partitions) rely on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import faust
from aiokafka.partitioner import murmur2
from faust.stores import rocksdb
from faust.types import EventT
from faust.types.stores import StoreT

from hotline import metrics

# Per table: RocksDB's defaults (a 2 GiB block cache and 3 x 64 MiB memtables per table)
# would let seven tables take gigabytes; these keep a worker's memory flat at any case count,
# and the OS page cache does the rest.
ROCKSDB_OPTIONS: dict[str, int] = {
    "block_cache_size": 16 * 1024**2,
    "block_cache_compressed_size": 0,
    "write_buffer_size": 8 * 1024**2,
    "max_write_buffer_number": 2,
}


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (Java's and aiokafka's) gives `key`."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


class KeyPartitionedRocksDB(rocksdb.Store):
    def _set(self, key: bytes, value: bytes | None) -> None:
        partition = partition_for(key, self.table.partitions or self.app.conf.topic_partitions)
        self._key_index[key] = partition
        self._db_for_partition(partition).put(key, value)


class Table(faust.Table[str, str]):
    """A Faust table that counts the changelog records it applies: how much a start replayed."""

    def apply_changelog_batch(self, batch: Iterable[EventT[Any]]) -> None:
        events = list(batch)
        metrics.CHANGELOG_REPLAYED.labels(self.name).inc(len(events))
        super().apply_changelog_batch(events)

    def _new_store_by_url(self, url: Any) -> StoreT[Any, Any]:  # str or yarl.URL
        if not str(url).startswith("rocksdb:"):
            return super()._new_store_by_url(url)
        store: StoreT[Any, Any] = KeyPartitionedRocksDB(
            url,
            self.app,
            self,
            table_name=self.name,
            key_type=self.key_type,
            key_serializer=self.key_serializer,
            value_serializer=self.value_serializer,
            value_type=self.value_type,
            loop=self.loop,
            options={**ROCKSDB_OPTIONS, **(self.options or {})},
        )
        return store


def table(app: faust.App, name: str, *, partitions: int, changelog: str | None = None) -> Table:
    """`changelog`: an existing topic (created with the others) to use instead of Faust's own;
    its records are the values themselves (raw bytes), so another reader (a gateway) takes
    them as they are. Faust's own changelogs keep its JSON codec: str keys and str (JSON
    text) values come back from recovery exactly as they were stored.

    use_partitioner: batches (bulk lane) and timers write outside a single current event.
    """
    plain: type = str
    options: dict[str, Any] = {}
    if changelog is not None:
        plain = bytes  # Faust's raw codec; streams.staged hands the values on as str
        options["changelog_topic"] = app.topic(
            changelog,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=partitions,
            internal=False,  # hotline.topics creates it, with its own configuration
        )
    t = Table(
        app,
        name=name,
        default=None,
        beacon=app.tables.beacon,
        partitions=partitions,
        key_type=plain,
        value_type=plain,
        use_partitioner=True,
        **options,
    )
    app.tables.add(t)
    return t
