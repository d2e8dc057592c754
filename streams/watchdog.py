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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Progress:
    """What a worker's agents handled: per source partition the next offset, per source
    topic when (loop time) its agent last handled a record."""

    next_offset: dict[tuple[str, int], int] = field(default_factory=dict)
    last_at: dict[str, float] = field(default_factory=dict)

    def note(self, events: Iterable[Any], now: float) -> None:
        for e in events:  # a batch may hold several partitions' records
            self.next_offset[e.message.topic, e.message.partition] = e.message.offset + 1
            self.last_at[e.message.topic] = now


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
