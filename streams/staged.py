"""Table writes that wait for the outputs they justify.

If the worker dies after a table remembers an alert but before its deliveries reach Kafka,
the restarted worker would take the redelivered record for a duplicate and the alert would
be lost. So agents write through `Staged`: the Faust table (and its changelog) sees the
writes only after every output of the record is acknowledged, and a record that fails
leaves no trace (rolled back to the savepoint taken before it).

A write keeps the partition it was made in (streams/partition.py): a bulk step commits the
writes of items from several partitions at once, each into its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from contextlib import nullcontext
from typing import Any, Protocol, cast

from streams import partition

_DELETED = None
_ABSENT = object()

#: Hands a record to a producer: (topic, key, value or None, partition) -> its acknowledgement.
Send = Callable[[str, bytes, bytes | None, int | None], Awaitable[Awaitable[Any]]]
#: A write as committed: key, value (None: deleted), the partition it was made in.
Write = tuple[str, str | None, int | None]


class WritesThrough(Protocol):
    """A table that can make writes durable in its changelog before it applies them."""

    async def write_through(self, writes: list[Write], send: Send) -> None: ...


class Staged(MutableMapping[str, str]):
    def __init__(self, base: MutableMapping[str, str]) -> None:
        self.base = base
        self.pending: dict[str, str | None] = {}
        self._partition: dict[str, int | None] = {}  # the partition each pending key is in
        self._undo: list[tuple[str, object]] = []

    def __getitem__(self, key: str) -> str:
        if key in self.pending:
            value = self.pending[key]
            if value is _DELETED:
                raise KeyError(key)
            return value
        value = self.base.get(key)
        if value is None:
            raise KeyError(key)
        return _text(value)

    def __setitem__(self, key: str, value: str) -> None:
        self._undo.append((key, self.pending.get(key, _ABSENT)))
        self.pending[key] = value
        self._partition[key] = partition.current()

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._undo.append((key, self.pending.get(key, _ABSENT)))
        self.pending[key] = _DELETED
        self._partition[key] = partition.current()

    def __iter__(self) -> Iterator[str]:
        for raw in self.base.keys():
            key = _text(raw)
            if key not in self.pending:
                yield key
        yield from (k for k, v in self.pending.items() if v is not _DELETED)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def savepoint(self) -> int:
        return len(self._undo)

    def rollback(self, savepoint: int = 0) -> None:
        while len(self._undo) > savepoint:
            key, previous = self._undo.pop()
            if previous is _ABSENT:
                self.pending.pop(key, None)
            else:
                self.pending[key] = previous  # type: ignore[assignment]

    def commit(self) -> None:
        for key, value in self.pending.items():
            p = self._partition.get(key)
            with nullcontext() if p is None else partition.of(p):
                if value is _DELETED:
                    self.base.pop(key, None)
                else:
                    self.base[key] = value
        self._clear()

    async def commit_through(self, send: Send) -> None:
        """Like `commit`, but each write reaches the changelog, acknowledged, before the
        table applies it (see streams.tables.Table.write_through)."""
        writes = [(k, v, self._partition.get(k)) for k, v in self.pending.items()]
        if writes:
            await cast(WritesThrough, self.base).write_through(writes, send)
        self._clear()

    def _clear(self) -> None:
        self.pending.clear()
        self._partition.clear()
        self._undo.clear()


def _text(value: str | bytes) -> str:
    # A table on a raw (bytes) changelog gives back bytes for what was written as str.
    return value.decode() if isinstance(value, bytes) else value


class Savepoint:
    """Where several staged tables stand now; `rollback()` undoes every write since."""

    def __init__(self, tables: Iterable[Staged]) -> None:
        self._points = [(t, t.savepoint()) for t in tables]

    def writes(self) -> Iterator[tuple[str, str]]:
        """The keys and values written since (deletions left out): what the changelogs get."""
        for table, point in self._points:
            for key, _ in table._undo[point:]:
                value = table.pending.get(key)
                if value is not None:
                    yield key, value

    def rollback(self) -> None:
        for table, point in self._points:
            table.rollback(point)
