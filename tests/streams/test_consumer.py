"""The stream's consumer hands out a fetched batch as Faust's does, but a record it cannot hand
out (its partition paused meanwhile) is fetched again, never dropped."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from faust.types import TP

from streams.consumer import Consumer

INBOUND = TP("inbound.bulk", 0)
OTHER = TP("inbound.bulk", 1)
CHANGELOG = TP("bulk-alerts-changelog", 0)


class _Fetching:
    """What Consumer.getmany uses of Faust's consumer, around one fetched batch."""

    source_topics = frozenset({"inbound.bulk"})
    should_stop = False
    _fetch_again = Consumer._fetch_again

    def __init__(self, records: dict[TP, list[int]], active: set[TP]) -> None:
        self.records = {
            tp: [SimpleNamespace(offset=o) for o in offs] for tp, offs in records.items()
        }
        self.active = active
        self.flow_active = True
        self._buffered_partitions: set[TP] = set()
        self.app = SimpleNamespace(consumer_generation_id=1, monitor=SimpleNamespace())
        self.app.monitor.track_tp_end_offset = lambda tp, hw: None
        self.scheduler = SimpleNamespace(iterate=self._round_robin)
        self.sought: list[dict[TP, int]] = []

    def _round_robin(self, records: dict[TP, list[Any]]) -> Any:
        its = {tp: iter(rs) for tp, rs in records.items()}
        while its:
            for tp in list(its):
                r = next(its[tp], None)
                if r is None:
                    del its[tp]
                else:
                    yield tp, r

    async def _wait_next_records(self, timeout: float) -> tuple[Any, set[TP]]:
        return self.records, self.active

    def highwater(self, tp: TP) -> int:
        return 100

    def _to_message(self, tp: TP, record: Any) -> int:
        return int(record.offset)

    def assignment(self) -> set[TP]:
        return {INBOUND, OTHER, CHANGELOG}

    async def seek_wait(self, partitions: dict[TP, int]) -> None:
        self.sought.append(dict(partitions))


async def _drain(c: _Fetching, on_each: Any = None) -> list[tuple[TP, int]]:
    out = []
    async for tp, offset in Consumer.getmany(cast(Consumer, c), 1.0):
        out.append((tp, offset))
        if on_each is not None:
            on_each(c, tp, offset)
    return out


async def test_a_whole_batch_of_active_partitions_is_handed_out_and_nothing_sought() -> None:
    c = _Fetching({INBOUND: [5, 6], OTHER: [9]}, active={INBOUND, OTHER})
    assert sorted(await _drain(c)) == [(INBOUND, 5), (INBOUND, 6), (OTHER, 9)]
    assert c.sought == []


async def test_a_partition_paused_mid_batch_is_sought_back_to_its_first_record_not_handed_out() -> (
    None
):
    c = _Fetching({INBOUND: [5, 6, 7], OTHER: [9, 10]}, active={INBOUND, OTHER})

    def pause_after_first(c: _Fetching, tp: TP, offset: int) -> None:
        if (tp, offset) == (INBOUND, 5):
            c.active.discard(INBOUND)  # a recovery pausing it while the batch is in hand

    out = await _drain(c, pause_after_first)
    assert out == [(INBOUND, 5), (OTHER, 9), (OTHER, 10)]  # 6 and 7 are not handed out...
    assert c.sought == [{INBOUND: 6}]  # ...but fetched again, from the first of them


async def test_a_partition_keeps_its_order_once_a_record_is_held_back() -> None:
    c = _Fetching({INBOUND: [5, 6, 7]}, active={INBOUND})

    def pause_then_resume(c: _Fetching, tp: TP, offset: int) -> None:
        c.active.discard(INBOUND)

    original = c._round_robin

    def resume_before_the_last(records: Any) -> Any:
        for tp, r in original(records):
            if r.offset == 7:
                c.active.add(INBOUND)  # active again: 7 must still wait for 6
            yield tp, r

    c.scheduler.iterate = resume_before_the_last
    assert await _drain(c, pause_then_resume) == [(INBOUND, 5)]
    assert c.sought == [{INBOUND: 6}]


async def test_after_a_generation_change_the_new_assignment_decides_where_to_read() -> None:
    c = _Fetching({INBOUND: [5, 6]}, active={INBOUND})

    def rebalance(c: _Fetching, tp: TP, offset: int) -> None:
        c.app.consumer_generation_id = 2

    assert await _drain(c, rebalance) == [(INBOUND, 5)]
    assert c.sought == []  # Faust seeks the new assignment to the committed offsets


async def test_only_the_agents_topics_are_sought_back() -> None:
    # A changelog's reads belong to table recovery, which positions them itself.
    c = _Fetching({CHANGELOG: [3, 4]}, active=set())
    assert await _drain(c) == []
    assert c.sought == []
