"""An agency's ring of recent events, as the delivery consumer fills it (no Kafka)."""

from __future__ import annotations

import gc
import json

from gateway.ring import OFFSET, Feed, is_urgent, parse_entry


def _record(offset: int, lane: str = "bulk") -> bytes:
    event = {
        "type": "alert",
        "event": "new",
        "event_id": f"ev-{offset}",
        "alert_id": f"al-{offset}",
        "at": "2026-12-01T10:00:00Z",
        "alert": {"alert_id": f"al-{offset}", "received_at": "2026-12-01T10:00:00Z", "lane": lane},
    }
    return json.dumps(event).encode()


def test_the_rings_events_are_not_walked_by_the_garbage_collector() -> None:
    # 20,000 events per agency by default: as tracked objects, every full collection walked
    # them all, a stop of the loop that serves urgent posts and consoles.
    feed = Feed(topic="t", capacity=1_000)
    for offset in range(1_000):
        assert feed.append(parse_entry(offset, _record(offset)))
    gc.collect()
    assert not any(gc.is_tracked(entry) for entry in feed.ring)


def test_the_ring_keeps_the_newest_and_knows_from_where_it_is_complete() -> None:
    feed = Feed(topic="t", capacity=3)
    for offset in range(5):
        feed.append(parse_entry(offset, _record(offset, "urgent" if offset == 4 else "bulk")))
    assert [e[OFFSET] for e in feed.after(2)] == [3, 4]
    assert feed.covered_from == 2
    assert [is_urgent(e) for e in feed.recent(2)] == [False, True]
    assert not feed.append(parse_entry(9, _record(4)))  # the same event again: shown once
