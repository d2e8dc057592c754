"""The gateway's alert states: on disk, bounded in memory, resumed from where they were read."""

from __future__ import annotations

from pathlib import Path

import pytest
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


@pytest.mark.parametrize("offset_key", [b"\x00next-offset", b"\x00next-offset/3"])
def test_a_store_written_before_the_feed_is_read_anew(tmp_path: Path, offset_key: bytes) -> None:
    # As gateways wrote it before the feed (one bare offset key before the topics had
    # partitions): its scam numbers are not in the feed's order, so it starts over, once.
    opts = Options(raw_mode=True)
    opts.create_if_missing(True)
    db = Rdict(str(tmp_path / "s"), options=opts, access_type=AccessType.read_write())
    db[offset_key] = b"41"
    db[b"al-1"] = b"{}"
    db.close()
    states = AlertStates(cache_size=100)
    assert states.open(tmp_path / "s") == {}
    assert states.get("al-1") is None
    states.apply([("al-2", b"{}")], next_offset=42, partition=0)
    states.close()
    again = AlertStates(cache_size=100)
    assert again.open(tmp_path / "s") == {0: 42}  # from then on it resumes
    again.close()


def test_nothing_is_known_before_the_store_is_open() -> None:
    assert AlertStates(cache_size=100).get("al-1") is None


SCAM = b'{"alert":{"body":{"kind":"scam_number"}}}'
PERSON = b'{"alert":{"body":{"kind":"wanted_person"}}}'


def test_the_feed_holds_each_scam_number_at_its_latest_offset(tmp_path: Path) -> None:
    states = AlertStates(cache_size=100)
    states.open(tmp_path / "s")
    states.apply([("al-1", SCAM), ("al-2", PERSON), ("al-3", SCAM)], 13, 0, offsets=[10, 11, 12])
    states.apply([("al-9", SCAM)], 5, 2, offsets=[4])
    assert list(states.changes(0, 0)) == [(10, "al-1"), (12, "al-3")]
    assert list(states.changes(0, 11)) == [(12, "al-3")]
    assert list(states.changes(2, 0)) == [(4, "al-9")] and list(states.changes(1, 0)) == []
    # A later state moves the alert to its new offset (twice in one batch: the last counts);
    # a tombstone, or a state no longer a scam number's, takes it out.
    states.apply([("al-1", SCAM), ("al-1", SCAM), ("al-3", None)], 16, 0, offsets=[13, 14, 15])
    assert list(states.changes(0, 0)) == [(14, "al-1")]
    states.apply([("al-1", PERSON)], 17, 0, offsets=[16])
    assert list(states.changes(0, 0)) == []
    states.close()
    again = AlertStates(cache_size=100)
    assert again.open(tmp_path / "s") == {0: 17, 2: 5}
    assert list(again.changes(2, 0)) == [(4, "al-9")]
    again.close()
