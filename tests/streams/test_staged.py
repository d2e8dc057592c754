from __future__ import annotations

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
