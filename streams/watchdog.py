"""Notices a source partition that has records waiting but makes no progress.

faust-streaming can drop records it fetched around a consumer-group generation change (seen
here when a worker restarts while its killed predecessor still holds a group membership):
they are never acknowledged, so they are not lost in Kafka, but nothing fetches them again
and the lane stalls. The agents record the last offset they handled; when a partition is
behind its end offset and that position has not moved for `patience` seconds, the worker
seeks back to it. Records handled twice as a result are recognised by the dedupe stage.

Only while the topic's agent is idle: a seek while the consumer is still handing out that
partition's records makes Faust count the rest of the batch, past a gap, as handled, and
commit past records it then drops — a loss. A partition merely waiting its turn (a lane with
many partitions works through a backlog a batch at a time) is not stalled; one behind its end
while its agent has had nothing to do for `patience` seconds is.

A hole is the other symptom: the agent gets a partition's later records but never an earlier
one. Faust's stream silently skips a record it takes while flow control is suspended (a
table recovery after a restart resumes the partitions, seeks them to their committed offsets
and only then resumes the flow: a record fetched in between is skipped) and nothing fetches
it again. The agents' offsets show it: the first record of an assignment is expected at the
committed offset, every later one at the offset after the last. The watchdog seeks such a
partition back to its hole once the flow is on and the agent idle (the same rule as above).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from faust.types import TP

Key = tuple[str, int]  # a source partition: topic, partition

# A hole is fetched again once the flow has been on, and the partition's agent idle, this long:
# by then none of the partition's records is still on its way to the agent.
HOLE_PATIENCE = 1.0
# A hole still there after this many fetches is not a skip: the records are gone (retention
# deleted them before they were read), and Kafka's offset reset starts after them.
MAX_REFETCHES = 3


def refetch_due(
    now: float,
    flowing_since: float | None,
    agent_last_handled: float,
    patience: float = HOLE_PATIENCE,
) -> bool:
    return (
        flowing_since is not None
        and now - flowing_since >= patience
        and now - agent_last_handled >= patience
    )


@dataclass(slots=True)
class Progress:
    """What a worker's agents handled: per source partition the next offset and any hole (the
    first offset its agent never got, though it got later ones), per source topic when (loop
    time) its agent last handled a record."""

    next_offset: dict[Key, int] = field(default_factory=dict)
    last_at: dict[str, float] = field(default_factory=dict)
    holes: dict[Key, int] = field(default_factory=dict)
    _generation: dict[Key, int] = field(default_factory=dict)
    _refetched: dict[tuple[Key, int], int] = field(default_factory=dict)

    def note(
        self, events: Iterable[Any], now: float, start: Callable[[Key], int | None] = lambda _: None
    ) -> None:
        """`start`: where a partition's records begin in a new assignment (its committed
        offset), or None if unknown."""
        for e in events:  # a batch may hold several partitions' records
            m = e.message
            key = (m.topic, m.partition)
            if self._generation.get(key) == m.generation_id:
                expected = self.next_offset.get(key)
            else:  # the first record of an assignment: a rebalance seeks to the committed offset
                self._generation[key] = m.generation_id
                expected = start(key)
            hole = self.holes.get(key)
            if hole is not None and m.offset <= hole:
                del self.holes[key]  # fetched again, from the hole or before it
            elif expected is not None and m.offset > expected:
                self.holes[key] = expected if hole is None else min(hole, expected)
            self.next_offset[key] = m.offset + 1
            self.last_at[m.topic] = now

    def sought(self, key: Key, offset: int) -> None:
        """The partition was sought back to `offset`: its records come again from there."""
        self.holes.pop(key, None)
        self.next_offset[key] = offset
        self._refetched[key, offset] = self._refetched.get((key, offset), 0) + 1

    def hole_to_fetch(self, key: Key) -> int | None:
        """The partition's hole, unless fetching it again has failed `MAX_REFETCHES` times
        (then it is forgotten)."""
        hole = self.holes.get(key)
        if hole is not None and self._refetched.get((key, hole), 0) >= MAX_REFETCHES:
            del self.holes[key]
            return None
        return hole


@dataclass(slots=True)
class StallDetector:
    patience: float = 5.0
    _since: dict[str, tuple[int, float]] = field(default_factory=dict)

    def check(
        self,
        key: str,
        next_offset: int,
        end_offset: int | None,
        now: float,
        agent_last_handled: float = float("-inf"),
    ) -> bool:
        """True when `key` is stuck at `next_offset` with records before `end_offset`, and its
        agent has handled nothing (of any partition) for the whole patience either."""
        if end_offset is None or end_offset <= next_offset:
            self._since.pop(key, None)
            return False
        seen = self._since.get(key)
        if seen is None or seen[0] != next_offset:
            self._since[key] = (next_offset, now)
            return False
        if now - seen[1] >= self.patience and now - agent_last_handled >= self.patience:
            del self._since[key]
            return True
        return False


async def seek(consumer: Any, tp: TP, offset: int) -> None:
    """Faust's `Consumer.seek`, but in the consumer's own thread. Faust's moves aiokafka's
    fetch position from the event loop's thread while the consumer thread may be reading its
    fetch buffers: a full benchmark run's bulk worker died of it (a KeyError in aiokafka's
    `fetched_records`). Like Faust's, it then has the drain loop read on from there."""
    thread = consumer._thread
    await thread.call_thread(thread._ensure_consumer().seek, tp, offset)
    consumer._read_offset[tp] = offset if offset else None
