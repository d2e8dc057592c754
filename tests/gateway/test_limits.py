from __future__ import annotations

from gateway.limits import TokenBucket


def test_bucket_serves_a_burst_then_the_rate() -> None:
    b = TokenBucket(rate=2.0, burst=3.0, updated=0.0)
    assert [b.take(now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.take(now=0.0) == 0.5
    assert b.take(now=0.5) == 0.0


def test_bucket_takes_many_tokens_at_once_for_a_batch() -> None:
    b = TokenBucket(rate=1000.0, burst=5000.0, updated=0.0)
    assert b.take(now=0.0, n=5000) == 0.0
    assert b.take(now=1.0, n=5000) == 4.0  # 1,000 back after a second, 4,000 to go
    assert b.take(now=5.0, n=50_000) == 0.0  # more than a bucket: a full bucket serves it
