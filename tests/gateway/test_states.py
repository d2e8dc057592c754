"""The gateway's alert states: on disk, bounded in memory, resumed from where they were read."""

from __future__ import annotations

from pathlib import Path

from gateway.states import AlertStates


def test_states_are_read_through_the_bounded_cache(tmp_path: Path) -> None:
    states = AlertStates(cache_size=100)
    assert states.open(tmp_path / "s") is None  # a new store: read the topic from the start
    states.apply([(f"al-{i}", b'{"n":%d}' % i) for i in range(1_000)], next_offset=1_000)
    assert states.cached == 100
    assert states.get("al-3") == b'{"n":3}'  # long evicted from memory, still on disk
    assert "al-999" in states and "al-1000" not in states
    assert states.cached == 100


def test_a_tombstone_removes_a_state(tmp_path: Path) -> None:
    states = AlertStates(cache_size=100)
    states.open(tmp_path / "s")
    states.apply([("al-1", b"{}"), ("al-2", b"{}")], next_offset=2)
    states.apply([("al-1", None)], next_offset=3)
    assert states.get("al-1") is None and states.get("al-2") == b"{}"


def test_a_reopened_store_resumes_at_the_offset_after_what_it_holds(tmp_path: Path) -> None:
    states = AlertStates(cache_size=100)
    states.open(tmp_path / "s")
    states.apply([("al-1", b"{}")], next_offset=41)
    states.close()
    again = AlertStates(cache_size=100)
    assert again.open(tmp_path / "s") == 41
    assert again.get("al-1") == b"{}"
    again.reset(tmp_path / "s")
    assert again.get("al-1") is None
    again.close()
    assert AlertStates(cache_size=100).open(tmp_path / "s") is None


def test_nothing_is_known_before_the_store_is_open() -> None:
    assert AlertStates(cache_size=100).get("al-1") is None
