from __future__ import annotations

from typing import Any

from streams import partition
from streams.staged import Staged


def test_writes_reach_the_table_only_on_commit() -> None:
    base = {"a": "1"}
    s = Staged(base)
    s["b"] = "2"
    del s["a"]
    assert dict(s) == {"b": "2"} and base == {"a": "1"}
    s.commit()
    assert base == {"b": "2"} and not s.pending


def test_rollback_to_a_savepoint_undoes_only_later_writes() -> None:
    s = Staged({"a": "1"})
    s["x"] = "first"
    mark = s.savepoint()
    s["x"] = "second"
    s["y"] = "3"
    del s["a"]
    s.rollback(mark)
    assert dict(s) == {"a": "1", "x": "first"}


class _Recording(dict[str, str]):
    """A table that notes the partition each write was made in."""

    def __init__(self) -> None:
        super().__init__()
        self.partitions: dict[str, int | None] = {}

    def __setitem__(self, key: str, value: str) -> None:
        self.partitions[key] = partition.current()
        super().__setitem__(key, value)


def test_each_write_is_committed_into_the_partition_it_was_made_in() -> None:
    # A bulk step handles items of several partitions and commits them all at its end.
    base = _Recording()
    s = Staged(base)
    with partition.of(3):
        s["al-a"] = "1"
    with partition.of(6):
        s["al-b"] = "2"
    s["al-c"] = "3"  # a timer's write outside any partition
    s.commit()
    assert base.partitions == {"al-a": 3, "al-b": 6, "al-c": None}
    assert partition.current() is None


async def test_commit_through_hands_each_write_with_its_partition_to_the_table() -> None:
    class _Through(dict[str, str]):
        got: list[Any] = []

        async def write_through(self, writes: list[Any], send: Any) -> None:
            self.got.extend(writes)

    base = _Through(a="1")
    s = Staged(base)
    with partition.of(4):
        s["b"] = "2"
    del s["a"]
    await s.commit_through(lambda *_: None)  # type: ignore[arg-type]
    assert base.got == [("b", "2", 4), ("a", None, None)] and not s.pending
    await s.commit_through(lambda *_: None)  # type: ignore[arg-type]
    assert len(base.got) == 2  # nothing pending: nothing to write
