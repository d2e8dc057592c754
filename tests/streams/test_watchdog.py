from __future__ import annotations

from streams.watchdog import StallDetector


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
