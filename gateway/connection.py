"""One signed-in console socket and what it is sent: events in order, urgent ones ahead of a
long queue, each exactly once, with its cursor.

The delivery consumer (gateway/hub.py) only wakes a connection; the connection's own task
(gateway/ws.py's pump) pulls from its agency's feed (gateway/ring.py) and sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from fastapi import WebSocket

from hotline import metrics

from .audit_reporter import AuditReporter
from .ring import (
    ALERT_ID,
    EVENT,
    LANE,
    OFFSET,
    PAYLOAD,
    RECEIVED_AT,
    Entry,
    Feed,
    ahead_payload,
    is_urgent,
)
from .socket_messages import AckAccepted, Close, Error, Pong, ReplayDone, Welcome

SEND_TIMEOUT_S = 10.0  # a client that takes no data for this long is dropped (and resumes)
RECIPIENT_EVENTS = frozenset({"new", "updated", "cancelled", "corroborated", "escalated"})
# A console this many events behind (a bulk import outrunning its socket, a long resume) gets
# the urgent events among them first; the rest follow in order, in chunks, and between chunks
# the events that arrived meanwhile are looked at for urgent ones too. Behind a shorter queue
# an urgent event simply waits its turn: at most AHEAD_AFTER sends, plus the rest of the
# chunk under way when it arrived, each a small frame handed to the socket: a millisecond or
# two in all. Sending it ahead would save no more than that, and would cost it its cursor.
# (A socket whose buffer is full holds up the urgent event ahead or not: TCP is one stream.)
AHEAD_AFTER = 20
CHUNK = 20


class Connection:
    """One signed-in socket. The Kafka loop only wakes it; its own task pulls and sends."""

    def __init__(self, ws: WebSocket, agency: str, reporter: AuditReporter | None = None) -> None:
        self.ws = ws
        self.agency = agency
        self.reporter = reporter  # where an alert shown on this console goes on the record
        self.woken = asyncio.Event()
        self._lock = asyncio.Lock()
        self.last_cursor: int | None = None
        self.ahead: set[int] = set()  # offsets already sent ahead of older events
        self.scanned = -1  # the feed's offsets up to here were looked at for urgent events

    def wake(self) -> None:
        self.woken.set()

    async def send_message(
        self, message: Welcome | ReplayDone | AckAccepted | Pong | Error
    ) -> None:
        await self._send(message.json_bytes().decode())

    async def _send(self, text: str) -> None:
        async with self._lock:
            await asyncio.wait_for(self.ws.send_text(text), SEND_TIMEOUT_S)

    async def close(self, code: Close, reason: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(code, reason), 2.0)

    async def send_entry(self, entry: Entry) -> None:
        offset = entry[OFFSET]
        if self.last_cursor is not None and offset <= self.last_cursor:
            return
        if offset in self.ahead:
            self.ahead.discard(offset)  # already on the screen: never send it twice
        else:
            await self._send(entry[PAYLOAD].decode())
            self._pushed(entry)
        self.last_cursor = offset

    async def send_backlog(self, entries: list[Entry], feed: Feed) -> None:
        """In order, except that urgent events go out ahead of a long queue.

        Between chunks, the events `feed` took meanwhile (`woken` is set) are looked at: behind
        more than AHEAD_AFTER queued ones, their urgent events go out at once. The rest are the
        caller's to send next: `woken` stays set, so it comes back for them.
        """
        if not entries:
            return
        self.scanned = max(self.scanned, entries[-1][OFFSET])
        if len(entries) > AHEAD_AFTER:
            await self._send_ahead(entries)
        for i in range(0, len(entries), CHUNK):
            if i and self.woken.is_set():
                await self._send_arrivals_ahead(feed, queued=len(entries) - i)
            for entry in entries[i : i + CHUNK]:
                await self.send_entry(entry)

    async def _send_arrivals_ahead(self, feed: Feed, queued: int) -> None:
        """Urgent events that arrived after the ones queued, ahead of them if they are many;
        each arrival is looked at once (the ring is read from its end, up to `scanned`)."""
        arrived = feed.after(self.scanned)
        if not arrived:
            return
        self.scanned = arrived[-1][OFFSET]
        if queued + len(arrived) > AHEAD_AFTER:
            await self._send_ahead(arrived)

    async def _send_ahead(self, entries: list[Entry]) -> None:
        cursor = -1 if self.last_cursor is None else self.last_cursor
        for entry in entries:
            offset = entry[OFFSET]
            if is_urgent(entry) and offset > cursor and offset not in self.ahead:
                await self._send(ahead_payload(entry).decode())
                self.ahead.add(offset)
                self._pushed(entry)

    def _pushed(self, entry: Entry) -> None:
        metrics.CONSOLE_PUSHED.labels(self.agency, entry[EVENT]).inc()
        if entry[EVENT] in RECIPIENT_EVENTS:
            metrics.E2E_LATENCY.labels(entry[LANE]).observe(
                max(0.0, time.time() - entry[RECEIVED_AT])
            )
            if self.reporter is not None:
                self.reporter.delivered(self.agency, entry[ALERT_ID], entry[EVENT])
