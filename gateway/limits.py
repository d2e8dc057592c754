"""Token buckets: per partner for HTTP, per socket for console messages."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    rate: float  # tokens added per second
    burst: float  # bucket size
    tokens: float = -1.0
    updated: float = field(default_factory=time.monotonic)

    def take(self, now: float | None = None, n: float = 1) -> float:
        """0 if `n` tokens were taken, else the seconds until they will be there."""
        now = time.monotonic() if now is None else now
        n = min(n, self.burst)  # more than a full bucket is served by a full bucket
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= n:
            self.tokens -= n
            return 0.0
        return (n - self.tokens) / self.rate


class RateLimits:
    """One bucket per key (agency ids: a bounded set)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, TokenBucket] = {}

    def retry_after(self, key: str, n: int = 1) -> int:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst)
        wait = bucket.take(n=n)
        return math.ceil(wait) if wait else 0
