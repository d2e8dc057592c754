"""An agency's feed as the gateway holds it: a ring of its recent events, each a plain tuple.

The ring is the only buffer between Kafka and the sockets (gateway/hub.py fills it, each
socket pulls from it after its own cursor, gateway/connection.py), so a burst costs no
per-socket queue and a slow socket only falls behind itself.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol

import orjson

# One event of an agency's feed: (offset, event_id, event, lane, received_at, payload,
# alert_id), where received_at is the unix time the alert was accepted (for the end-to-end
# latency metric), payload the console JSON, cursor included, and alert_id the alert it is
# about ("" for a digest), read once here rather than from the payload at every send. A plain
# tuple, not an object: CPython stops tracking a tuple of plain values, so the rings' events
# (HOTLINE_CONSOLE_RING per agency) cost the garbage collector nothing. As dataclass instances
# every full collection walked them all, stopping the loop 34-59 ms for urgent posts and
# consoles during an import.
Entry = tuple[int, str, str, str, float, bytes, str]
OFFSET: Final = 0
EVENT_ID: Final = 1
EVENT: Final = 2
LANE: Final = 3
RECEIVED_AT: Final = 4
PAYLOAD: Final = 5
ALERT_ID: Final = 6


def is_urgent(entry: Entry) -> bool:
    return entry[LANE] != "bulk"


def ahead_payload(entry: Entry) -> bytes:
    """The event sent before older ones: no cursor, so a resume cannot skip those."""
    payload = entry[PAYLOAD]
    return payload[: payload.rindex(b',"cursor":')] + b',"cursor":null}'


class Subscriber(Protocol):
    agency: str

    def wake(self) -> None: ...


@dataclass(slots=True)
class Feed:
    """One agency's recent events; `covered_from` is the first offset the ring is complete from."""

    topic: str
    capacity: int
    ring: deque[Entry] = field(default_factory=deque)
    ids: dict[str, int] = field(default_factory=dict)
    covered_from: int = 0
    subscribers: set[Subscriber] = field(default_factory=set)

    def append(self, entry: Entry) -> bool:
        if entry[EVENT_ID] in self.ids:
            return False  # the worker re-sent it after a crash: already shown as new
        self.ring.append(entry)
        self.ids[entry[EVENT_ID]] = entry[OFFSET]
        if len(self.ring) > self.capacity:
            old = self.ring.popleft()
            del self.ids[old[EVENT_ID]]
            self.covered_from = old[OFFSET] + 1
        return True

    def after(self, cursor: int) -> list[Entry]:
        # From the right: a live console asks for the last few entries, not the whole ring.
        out = []
        for e in reversed(self.ring):
            if e[OFFSET] <= cursor:
                break
            out.append(e)
        out.reverse()
        return out

    def recent(self, n: int) -> list[Entry]:
        return list(self.ring)[-n:] if n else []

    @property
    def latest(self) -> int | None:
        return self.ring[-1][OFFSET] if self.ring else None

    @property
    def position(self) -> int:
        """Everything up to this offset is in the ring or was consumed before it."""
        return self.ring[-1][OFFSET] if self.ring else self.covered_from - 1


@dataclass(frozen=True, slots=True)
class Backlog:
    gap: tuple[int, int] | None  # [start, end) to read from Kafka before `entries`
    entries: list[Entry]
    position: int  # live events are those after this offset


def parse_entry(offset: int, value: bytes) -> Entry:
    doc = orjson.loads(value)
    # The worker's JSON object never carries a cursor: append it instead of re-serializing
    # every event (this loop is the gateway's hot path during a bulk import).
    payload = b'%s,"cursor":%d}' % (value.rstrip()[:-1], offset)
    if doc.get("type") == "digest":  # an import's progress: bulk, never ahead of an alert
        at = datetime.fromisoformat(doc["at"]).timestamp()
        return (offset, doc["event_id"], "digest", "bulk", at, payload, "")
    received = datetime.fromisoformat(doc["alert"]["received_at"]).timestamp()
    return (
        offset,
        doc["event_id"],
        doc["event"],
        doc["alert"].get("lane", "urgent"),
        received,
        payload,
        doc["alert_id"],
    )
