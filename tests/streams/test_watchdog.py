from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from faust.types import TP

from streams.watchdog import MAX_REFETCHES, Progress, StallDetector, refetch_due, seek


def test_stuck_behind_the_end_for_the_whole_patience_is_a_stall() -> None:
    d = StallDetector(patience=5.0)
    assert not d.check("t", 21, 40, now=0.0)
    assert not d.check("t", 21, 40, now=4.9)
    assert d.check("t", 21, 40, now=5.0)
    assert not d.check("t", 21, 40, now=5.5)  # reported once, then watched anew


def test_progress_or_being_caught_up_is_not_a_stall() -> None:
    d = StallDetector(patience=5.0)
    assert not d.check("t", 21, 40, now=0.0)
    assert not d.check("t", 30, 40, now=6.0)  # moved on
    assert not d.check("t", 30, 40, now=10.0)
    assert not d.check("t", 40, 40, now=20.0)  # caught up
    assert not d.check("t", 40, None, now=30.0)


def test_a_partition_waiting_while_its_agent_works_on_others_is_not_a_stall() -> None:
    # A lane of many partitions works through a backlog a batch at a time; seeking a
    # partition whose records the consumer is still handing out would lose some.
    d = StallDetector(patience=5.0)
    assert not d.check("t[3]", 21, 40, now=0.0, agent_last_handled=0.0)
    assert not d.check("t[3]", 21, 40, now=6.0, agent_last_handled=5.5)  # busy elsewhere
    assert not d.check("t[3]", 21, 40, now=9.0, agent_last_handled=5.5)
    assert d.check("t[3]", 21, 40, now=10.5, agent_last_handled=5.5)  # idle 5 s, still behind


def _events(*offsets: int, partition: int = 0, generation: int = 1) -> list[Any]:
    return [
        SimpleNamespace(
            message=SimpleNamespace(
                topic="t", partition=partition, offset=o, generation_id=generation
            )
        )
        for o in offsets
    ]


def test_a_record_the_agent_never_got_before_later_ones_is_a_hole() -> None:
    p = Progress()
    p.note(_events(10, 11), now=0.0)
    p.note(_events(13, 14), now=1.0)  # 12 skipped
    assert p.holes == {("t", 0): 12}
    assert p.next_offset[("t", 0)] == 15
    p.note(_events(16), now=2.0)  # a second hole: the first one is where to fetch from
    assert p.holes == {("t", 0): 12}


def test_a_hole_at_the_start_of_an_assignment_is_measured_from_the_committed_offset() -> None:
    # A restarted worker's partitions are sought to their committed offsets; a record
    # fetched before flow control resumes is skipped.
    p = Progress()
    p.note(_events(41, 42), now=0.0, start=lambda key: 40)
    assert p.holes == {("t", 0): 40}
    p.note(_events(40, 41, 42, 43), now=1.0)  # fetched again from the hole
    assert p.holes == {}


def test_a_new_assignment_is_not_compared_with_the_previous_one() -> None:
    # Another worker handled the partition in between: the offsets jump, nothing is missing.
    p = Progress()
    p.note(_events(10, 11, generation=1), now=0.0)
    p.note(_events(500, generation=3), now=1.0, start=lambda key: 500)
    p.note(_events(0, partition=1, generation=3), now=1.0)  # start unknown
    assert p.holes == {}


def test_after_a_seek_the_records_come_again_from_the_seek() -> None:
    p = Progress()
    p.note(_events(10, 12), now=0.0)
    p.sought(("t", 0), 11)
    assert p.holes == {}
    p.note(_events(12), now=1.0)  # skipped again: found again
    assert p.holes == {("t", 0): 11}
    p.sought(("t", 0), 11)
    p.note(_events(11, 12, 13), now=2.0)
    assert p.holes == {}


def test_a_hole_is_fetched_again_once_the_flow_is_on_and_the_agent_idle() -> None:
    assert not refetch_due(10.0, flowing_since=None, agent_last_handled=0.0)  # suspended
    assert not refetch_due(10.0, flowing_since=9.5, agent_last_handled=0.0)  # just resumed
    assert not refetch_due(10.0, flowing_since=0.0, agent_last_handled=9.5)  # records in flight
    assert refetch_due(10.0, flowing_since=9.0, agent_last_handled=9.0)


def test_a_hole_that_fetching_again_never_fills_is_given_up() -> None:
    # Retention deleted the records before they were read: Kafka resets past them.
    p = Progress()
    p.note(_events(5), now=0.0, start=lambda key: 0)
    for attempt in range(MAX_REFETCHES):
        assert p.hole_to_fetch(("t", 0)) == 0, attempt
        p.sought(("t", 0), 0)
        p.note(_events(5), now=1.0)  # the partition starts at 5 again
    assert p.hole_to_fetch(("t", 0)) is None
    assert p.holes == {}


async def test_a_seek_runs_in_the_consumer_thread_and_the_drain_loop_reads_on_from_it() -> None:
    calls: list[tuple[str, Any]] = []

    class AioConsumer:
        def seek(self, tp: Any, offset: int) -> None:
            calls.append(("seek", (tp, offset)))

    class Thread:
        aio = AioConsumer()

        def _ensure_consumer(self) -> AioConsumer:
            return self.aio

        async def call_thread(self, fun: Any, *args: Any) -> None:
            calls.append(("in thread", fun.__name__))
            fun(*args)

    consumer = SimpleNamespace(_thread=Thread(), _read_offset={})
    await seek(consumer, TP("t", 3), 47)
    assert calls == [("in thread", "seek"), ("seek", (TP("t", 3), 47))]
    assert consumer._read_offset == {TP("t", 3): 47}
