"""The stream's Faust tables: on local RocksDB, partitioned, their replays counted.

Faust's RocksDB store files a write under the partition of the record being processed. The
stream also writes outside a single current record (a bulk batch is committed after its last
record, timers have none), so here the partition is the one the agent names for the item
(streams/partition.py), or, for a single-partition table, 0. The changelog record goes to the
same partition as the store's write, which is what recovery and a rebalance (handing over
whole partitions) rely on; reads look in that partition alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from contextlib import nullcontext
from typing import Any

import faust
from faust.stores import rocksdb
from faust.types import TP, EventT
from faust.types.stores import StoreT

from hotline import metrics
from hotline.topics import partition_for
from streams import partition
from streams.staged import Send, Write

MiB = 1024**2


def rocksdb_options(partitions: int) -> dict[str, int]:
    """Per RocksDB database, of which a table has one per partition.

    RocksDB's defaults (a 2 GiB block cache and 3 x 64 MiB memtables per database) would let
    the tables take gigabytes; these keep a worker's memory flat at any case count, and the OS
    page cache does the rest. A table of P partitions shares its budget out among them, so
    eight partitions do not cost eight tables' memory.
    """
    return {
        "block_cache_size": max(2 * MiB, 16 * MiB // partitions),
        "block_cache_compressed_size": 0,
        "write_buffer_size": max(2 * MiB, 8 * MiB // partitions),
        "max_write_buffer_number": 2,
    }


def partition_of(key: bytes, partitions: int) -> int:
    """Where a table entry lives: the partition being handled (a table of several), or the
    one its key hashes to when none is (the producer's default partitioner agrees)."""
    if partitions == 1:
        return 0
    current = partition.current()
    return current if current is not None else partition_for(key, partitions)


class PartitionedRocksDB(rocksdb.Store):
    def _partitions(self) -> int:
        return int(self.table.partitions or self.app.conf.topic_partitions)

    def _named(self) -> int | None:
        """The partition the agent names, for a table of several; None: Faust's own lookup."""
        return None if self._partitions() == 1 else partition.current()

    def _set(self, key: bytes, value: bytes | None) -> None:
        p = partition_of(key, self._partitions())
        self._key_index[key] = p
        self._db_for_partition(p).put(key, value)

    def _get(self, key: bytes) -> bytes | None:
        p = self._named()
        # Only the partition being handled: another one may be a stale copy of a partition
        # this worker held before a rebalance, or a standby of someone else's.
        value: bytes | None = super()._get(key) if p is None else self._db_for_partition(p).get(key)
        return value

    def _contains(self, key: bytes) -> bool:
        return self._get(key) is not None

    def _del(self, key: bytes) -> None:
        p = self._named()
        if p is None:
            super()._del(key)
        else:
            self._db_for_partition(p).delete(key)

    def _dbs_for_actives(self) -> Any:
        p = self._named()
        if p is None:
            yield from super()._dbs_for_actives()
            return
        topic = self.table.changelog_topic_name  # type: ignore[attr-defined]
        db = self._dbs.get(p)
        if db is not None and TP(topic=topic, partition=p) in self.app.assignor.assigned_actives():
            yield db


class Table(faust.Table[str, str]):
    """A Faust table that counts the changelog records it applies: how much a start replayed."""

    def apply_changelog_batch(self, batch: Iterable[EventT[Any]]) -> None:
        events = list(batch)
        metrics.CHANGELOG_REPLAYED.labels(self.name).inc(len(events))
        super().apply_changelog_batch(events)

    async def write_through(self, writes: list[Write], send: Send) -> None:
        """The writes' changelog records first, acknowledged; only then the local store, and
        then the store's changelog offset. For a table on a raw changelog (the alerts).

        Faust's own order (the store at once, the changelog record later, from the
        producer's buffer) can leave a SIGKILLed worker's store ahead of its changelog: the
        worker restarted on that store remembers an alert whose state record never reached
        Kafka, takes the alert's redelivered record for one it has handled, and the alert is
        never shown (seen in the bulk lane's crash test). In this order a crash leaves the
        store behind at worst, and recovery (which reads from the store's offset on) brings
        it level; a write applied twice is the same write.
        """
        topic = self.changelog_topic_name
        n = int(self.partitions or 1)
        acks = []
        for key, value, p in writes:
            with nullcontext() if p is None else partition.of(p):
                k = key.encode()
                v = None if value is None else value.encode()
                acks.append(await send(topic, k, v, partition_of(k, n)))
        done = await asyncio.gather(*acks)
        for key, value, p in writes:
            with nullcontext() if p is None else partition.of(p):
                if value is None:
                    self.data.pop(key, None)
                else:
                    self.data[key] = value
        newest: dict[TP, int] = {}
        for meta in done:
            tp = TP(topic=meta.topic, partition=meta.partition)
            newest[tp] = max(newest.get(tp, -1), meta.offset)
        for tp, offset in newest.items():
            self.data.set_persisted_offset(tp, offset)

    def partition_for_key(self, key: Any) -> int | None:
        # The changelog record goes where the store put the entry (see partition_of); None
        # lets the producer hash the key, as the store does when no partition is named.
        if self.partitions == 1:
            return 0
        return partition.current()

    def _new_store_by_url(self, url: Any) -> StoreT[Any, Any]:  # str or yarl.URL
        if not str(url).startswith("rocksdb:"):
            return super()._new_store_by_url(url)
        store: StoreT[Any, Any] = PartitionedRocksDB(
            url,
            self.app,
            self,
            table_name=self.name,
            key_type=self.key_type,
            key_serializer=self.key_serializer,
            value_serializer=self.value_serializer,
            value_type=self.value_type,
            loop=self.loop,
            options={**rocksdb_options(self.partitions or 1), **(self.options or {})},
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
