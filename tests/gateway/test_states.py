"""The gateway's alert states: on disk, bounded in memory, resumed from where they were read."""

from __future__ import annotations

from pathlib import Path

from rocksdict import AccessType, Options, Rdict

from gateway.states import AlertStates


def test_states_are_read_through_the_bounded_cache(tmp_path: Path) -> None:
    states = AlertStates(cache_size=100)
    assert states.open(tmp_path / "s") == {}  # a new store: read the topic from the start
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
    assert again.open(tmp_path / "s") == {0: 41}
    assert again.get("al-1") == b"{}"
    again.reset(tmp_path / "s")
    assert again.get("al-1") is None
    again.close()
    assert AlertStates(cache_size=100).open(tmp_path / "s") == {}


def test_each_partition_resumes_at_its_own_offset(tmp_path: Path) -> None:
    states = AlertStates(cache_size=100)
    assert states.open(tmp_path / "s") == {}
    states.apply([("al-1", b'{"p":0}')], next_offset=5, partition=0)
    states.apply([("al-2", b'{"p":3}')], next_offset=12, partition=3)
    states.apply([("al-3", b'{"p":3}')], next_offset=13, partition=3)
    states.close()
    again = AlertStates(cache_size=100)
    assert again.open(tmp_path / "s") == {0: 5, 3: 13}  # partitions never read: absent
    assert [again.get(a) for a in ("al-1", "al-2", "al-3")] == [b'{"p":0}', b'{"p":3}', b'{"p":3}']
    again.close()


def test_a_store_of_the_one_partition_topic_resumes_as_partition_0(tmp_path: Path) -> None:
    # As the gateway wrote it before the topics had partitions: one bare offset key.
    opts = Options(raw_mode=True)
    opts.create_if_missing(True)
    db = Rdict(str(tmp_path / "s"), options=opts, access_type=AccessType.read_write())
    db[b"\x00next-offset"] = b"41"
    db[b"al-1"] = b"{}"
    db.close()
    states = AlertStates(cache_size=100)
    assert states.open(tmp_path / "s") == {0: 41}
    assert states.get("al-1") == b"{}"
    states.apply([("al-2", b"{}")], next_offset=42, partition=0)
    states.apply([("al-3", b"{}")], next_offset=3, partition=1)
    states.close()
    again = AlertStates(cache_size=100)
    assert again.open(tmp_path / "s") == {0: 42, 1: 3}
    again.close()


def test_nothing_is_known_before_the_store_is_open() -> None:
    assert AlertStates(cache_size=100).get("al-1") is None
