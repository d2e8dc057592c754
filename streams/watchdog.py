"""Notices a source partition that has records waiting but makes no progress.

faust-streaming can drop records it fetched around a consumer-group generation change (seen
here when a worker restarts while its killed predecessor still holds a group membership):
they are never acknowledged, so they are not lost in Kafka, but nothing fetches them again
and the lane stalls. The agents record the last offset they handled; when a partition is
behind its end offset and that position has not moved for `patience` seconds, the worker
seeks back to it. Records handled twice as a result are recognised by the dedupe stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class StallDetector:
    patience: float = 5.0
    _since: dict[str, tuple[int, float]] = field(default_factory=dict)

    def check(self, key: str, next_offset: int, end_offset: int | None, now: float) -> bool:
        """True when `key` is stuck at `next_offset` with records before `end_offset`."""
        if end_offset is None or end_offset <= next_offset:
            self._since.pop(key, None)
            return False
        seen = self._since.get(key)
        if seen is None or seen[0] != next_offset:
            self._since[key] = (next_offset, now)
            return False
        if now - seen[1] >= self.patience:
            del self._since[key]
            return True
        return False
