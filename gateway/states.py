"""The gateway's copy of a compacted alert-state topic: on local disk, the hottest in memory.

Every GET, acknowledgement and retry check reads an alert's state. Holding them all in a dict
grew the gateway by ~1 KB with every alert ever sent; here they live in RocksDB next to the
offsets they were read up to, one per partition of the topic (each written together with the
batch read from its partition, so the two never disagree), and a bounded LRU keeps the
recently used ones in memory. A restarted gateway resumes every partition from its offset
instead of reading the whole topic again; a new one (or one whose topic was recreated) reads
it all.

The store also keeps the scam numbers' states in the order the topic holds them, for the
partner systems' feed (GET /v1/numbers/changes, gateway/feed.py): under each partition, by
offset, the alert whose state was written there, each alert at its latest offset only. Kafka's
offsets are the same for every gateway, so a feed cursor is too.
"""

from __future__ import annotations

import shutil
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path

from rocksdict import AccessType, Options, Rdict, WriteBatch

# Not alert ids (those start with "al-"): where the next offset to read is kept, one key per
# partition. (The bare prefix alone, partition 0's, is what the one-partition gateway wrote;
# such a store predates the feed and is read anew.)
_OFFSET_KEY = b"\x00next-offset"
_PARTITION_SEP = b"/"

# Written with a new store: one without it predates the feed's index and is read anew.
_FEED_MARK = b"\x00feed-index-v1"
# b"\x01c" + partition (2 bytes) + offset (8 bytes) -> alert id: the feed, in topic order.
# b"\x01a" + alert id -> partition + offset: where the alert is in it now (to move it).
_CHANGE = b"\x01c"
_AT = b"\x01a"
# Only scam numbers are in the feed. The worker writes compact JSON (orjson), in which this is
# the alert's own kind (or its case's, the same); inside partner text it would be escaped.
_SCAM_NUMBER = b'"kind":"scam_number"'


def _change_key(partition: int, offset: int) -> bytes:
    return _CHANGE + partition.to_bytes(2, "big") + offset.to_bytes(8, "big")


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
        if db.get(_FEED_MARK) is None:
            # Written before the feed existed (or by the one-partition gateway before that):
            # its numbers are not in the feed's order, so the topic is read anew, once.
            if offsets or any(True for _ in db.keys()):
                self.reset(path)
                return {}
            db.put(_FEED_MARK, b"1")
        return offsets

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

    def peek(self, alert_id: str) -> bytes | None:
        """Like `get`, without making it recently used: a feed reads through thousands of
        states once, which must not push the hot ones out of memory."""
        value = self._cache.get(alert_id)
        if value is not None or self._db is None:
            return value
        raw = self._db.get(alert_id.encode())
        return None if raw is None else bytes(raw)

    def apply(
        self,
        records: Sequence[tuple[str, bytes | None]],
        next_offset: int,
        partition: int = 0,
        offsets: Sequence[int] | None = None,
    ) -> None:
        """One batch read from one partition of the topic, and that partition's offset after
        it, in one atomic write. `offsets`: each record's (by default, consecutive ones
        ending before `next_offset`)."""
        db = self._db
        assert db is not None, "open the store before reading the topic into it"
        if offsets is None:
            offsets = range(next_offset - len(records), next_offset)
        batch = WriteBatch(raw_mode=True)
        moved: dict[bytes, bytes | None] = {}  # alert id -> its feed position, in this batch
        for (key, value), offset in zip(records, offsets, strict=True):
            k = key.encode()
            at = moved[k] if k in moved else db.get(_AT + k)
            if at is not None:
                batch.delete(_CHANGE + at)
            if value is None:
                batch.delete(k)
                self._cache.pop(key, None)
            else:
                batch.put(k, value)
                self._remember(key, value)
            if value is not None and _SCAM_NUMBER in value:
                here = _change_key(partition, offset)[len(_CHANGE) :]
                batch.put(_CHANGE + here, k)
                batch.put(_AT + k, here)
                moved[k] = here
            else:
                if at is not None:
                    batch.delete(_AT + k)
                moved[k] = None
        batch.put(_offset_key(partition), str(next_offset).encode())
        db.write(batch)

    def changes(self, partition: int, start: int) -> Iterator[tuple[int, str]]:
        """(offset, alert id) of the scam numbers' states in `partition` from offset `start`
        on, in topic order; each alert only at the latest offset its state was written at."""
        if self._db is None:
            return
        head = _CHANGE + partition.to_bytes(2, "big")
        for key, value in self._db.items(from_key=_change_key(partition, start)):
            if not isinstance(key, bytes) or not key.startswith(head):
                return
            yield int.from_bytes(key[len(head) :], "big"), bytes(value).decode()

    def read_up_to(self, partition: int) -> int:
        """The offset this store has read `partition` up to (0: nothing yet)."""
        if self._db is None:
            return 0
        raw = self._db.get(_offset_key(partition))
        return 0 if raw is None else int(raw)

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
