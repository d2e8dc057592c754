"""The gateway's copy of a compacted alert-state topic: on local disk, the hottest in memory.

Every GET, acknowledgement and retry check reads an alert's state. Holding them all in a dict
grew the gateway by ~1 KB with every alert ever sent; here they live in RocksDB next to the
offsets they were read up to, one per partition of the topic (each written together with the
batch read from its partition, so the two never disagree), and a bounded LRU keeps the
recently used ones in memory. A restarted gateway resumes every partition from its offset
instead of reading the whole topic again; a new one (or one whose topic was recreated) reads
it all.
"""

from __future__ import annotations

import shutil
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from rocksdict import AccessType, Options, Rdict, WriteBatch

# Not alert ids (those start with "al-"): where the next offset to read is kept, one key per
# partition. The bare prefix is what a store written for a one-partition topic holds: it is
# partition 0's, and `open` rewrites it under partition 0's key.
_OFFSET_KEY = b"\x00next-offset"
_PARTITION_SEP = b"/"


def _offset_key(partition: int) -> bytes:
    return _OFFSET_KEY + _PARTITION_SEP + str(partition).encode()


def _partition_of(key: bytes) -> int | None:
    """The partition an offset key is for (0 for the old bare key); None if not one."""
    tail = key.removeprefix(_OFFSET_KEY)
    if tail == key:
        return None
    if not tail:
        return 0
    number = tail.removeprefix(_PARTITION_SEP)
    return int(number) if number != tail and number.isdigit() else None


def _options() -> Options:
    opts = Options(raw_mode=True)
    opts.create_if_missing(True)
    # Small memtables: the topic is read in batches, and the OS page cache serves the rest.
    opts.set_write_buffer_size(8 * 1024**2)
    opts.set_max_write_buffer_number(2)
    return opts


class AlertStates:
    """alert_id -> AlertState JSON, as the topic last said; None once deleted (a tombstone)."""

    def __init__(self, cache_size: int) -> None:
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._db: Rdict | None = None  # until `open`, nothing has been read: all unknown

    def open(self, path: Path) -> dict[int, int]:
        """Opens the store at `path`; returns partition -> the offset to resume it from (a
        partition never read is absent: all of them, for a new store)."""
        path.mkdir(parents=True, exist_ok=True)
        db = Rdict(str(path), options=_options(), access_type=AccessType.read_write())
        self._db = db
        offsets: dict[int, int] = {}
        # The offset keys sort before every alert id: read from the first until the last.
        for key, raw in db.items(from_key=_OFFSET_KEY):
            partition = _partition_of(key) if isinstance(key, bytes) else None
            if partition is None:
                break
            offsets[partition] = int(raw)
        if db.get(_OFFSET_KEY) is not None:
            self._upgrade(db, offsets[0])
        return offsets

    @staticmethod
    def _upgrade(db: Rdict, offset: int) -> None:
        """A store of the one-partition topic: its offset becomes partition 0's, in one write,
        so partition 0 has one offset key from then on (and a gateway rolled back finds none
        and reads the topic anew, rather than resuming from an offset older than the store)."""
        batch = WriteBatch(raw_mode=True)
        batch.put(_offset_key(0), str(offset).encode())
        batch.delete(_OFFSET_KEY)
        db.write(batch)

    def reset(self, path: Path) -> None:
        """Forgets everything (the topic holds less than the store says it read)."""
        self.close()
        shutil.rmtree(path, ignore_errors=True)
        self._cache.clear()
        self.open(path)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def get(self, alert_id: str) -> bytes | None:
        value = self._cache.get(alert_id)
        if value is not None:
            self._cache.move_to_end(alert_id)
            return value
        if self._db is None:
            return None
        raw = self._db.get(alert_id.encode())
        if raw is None:
            return None
        self._remember(alert_id, raw)
        return bytes(raw)

    def __contains__(self, alert_id: str) -> bool:
        return self.get(alert_id) is not None

    def apply(
        self, records: Iterable[tuple[str, bytes | None]], next_offset: int, partition: int = 0
    ) -> None:
        """One batch read from one partition of the topic, and that partition's offset after
        it, in one atomic write."""
        assert self._db is not None, "open the store before reading the topic into it"
        batch = WriteBatch(raw_mode=True)
        for key, value in records:
            if value is None:
                batch.delete(key.encode())
                self._cache.pop(key, None)
            else:
                batch.put(key.encode(), value)
                self._remember(key, value)
        batch.put(_offset_key(partition), str(next_offset).encode())
        self._db.write(batch)

    def _remember(self, alert_id: str, value: bytes) -> None:
        self._cache[alert_id] = value
        self._cache.move_to_end(alert_id)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    @property
    def cached(self) -> int:
        return len(self._cache)


class LaneStates:
    """Both lanes' alert-state topics, read as one: each lane writes its alerts' states."""

    def __init__(self, stores: dict[str, AlertStates]) -> None:
        self.by_topic = stores

    def get(self, alert_id: str) -> bytes | None:
        # An alert is on one lane's topic, unless a retry crossed lanes before the first copy
        # was processed; both copies then hold the same alert, the urgent lane's is read.
        for store in self.by_topic.values():
            raw = store.get(alert_id)
            if raw is not None:
                return raw
        return None

    def __contains__(self, alert_id: str) -> bool:
        return self.get(alert_id) is not None

    def close(self) -> None:
        for store in self.by_topic.values():
            store.close()

    @property
    def cached(self) -> int:
        return sum(s.cached for s in self.by_topic.values())
