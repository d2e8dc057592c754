"""The duty officer's socket: sign in, backlog (replay or recent), then live events and acks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

from aiokafka.errors import KafkaError
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from hotline import metrics
from hotline.codec import dumps, loads
from hotline.errors import KafkaUnavailable
from hotline.models import AckCommand, AlertState
from hotline.settings import digest
from hotline.topics import topics

from .deps import Services
from .limits import TokenBucket
from .ring import (
    EVENT,
    EVENT_ID,
    LANE,
    OFFSET,
    PAYLOAD,
    RECEIVED_AT,
    Backlog,
    Entry,
    Feed,
    ahead_payload,
    is_urgent,
)
from .socket_messages import (
    Ack,
    AckAccepted,
    AgencyRef,
    Auth,
    Close,
    Error,
    ErrorCode,
    Pong,
    ReplayDone,
    Welcome,
    client_message_adapter,
    read_auth,
)

log = logging.getLogger("hotline.gateway")
router = APIRouter()

AUTH_TIMEOUT_S = 10.0
# How long an acknowledgement waits for the state of the alert it names: the event it answers
# can overtake that state by milliseconds (they travel on different topics).
STATE_WAIT_S = 2.0
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

    def __init__(self, ws: WebSocket, agency: str) -> None:
        self.ws = ws
        self.agency = agency
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


@router.websocket("/v1/console/ws")
async def console(ws: WebSocket) -> None:
    services: Services = ws.app.state.services
    await ws.accept()
    try:
        hello = await _first_message(ws)
    except TimeoutError:
        await ws.close(Close.AUTH_TIMEOUT, f"no auth message within {AUTH_TIMEOUT_S:.0f} s")
        return
    except WebSocketDisconnect:
        return
    agency = services.settings.officer_digests.get(digest(hello.token)) if hello else None
    if hello is None or agency is None:
        await ws.close(Close.UNAUTHORIZED, "a valid duty-officer token is required")
        return
    resume_after = hello.resume_after

    conn = Connection(ws, agency)
    hub = services.hub
    backlog = hub.subscribe(conn, resume_after)
    conn.last_cursor = resume_after
    gauge = metrics.CONSOLE_CONNECTIONS.labels(agency)
    gauge.inc()
    sender: asyncio.Task[None] | None = None
    try:
        await conn.send_message(welcome(services, agency))
        sender = asyncio.create_task(_pump(conn, services, backlog))
        await _receive(conn, services)
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(conn)
        gauge.dec()
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender


def welcome(services: Services, agency: str) -> Welcome:
    settings = services.settings
    return Welcome(
        agency=agency,
        agency_name=settings.agency(agency).name,
        agencies=[AgencyRef(id=a.id, name=a.name) for a in settings.agencies],
        cursor=services.hub.feeds[agency].latest,
    )


async def _first_message(ws: WebSocket) -> Auth | None:
    """The auth message; None for anything else. Raises TimeoutError when none comes in time."""
    frame = await asyncio.wait_for(ws.receive(), AUTH_TIMEOUT_S)
    if frame["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(frame.get("code", 1000))
    return read_auth(frame.get("text") or frame.get("bytes") or b"")


async def _pump(conn: Connection, services: Services, backlog: Backlog) -> None:
    feed = services.hub.feeds[conn.agency]
    try:
        await _replay(conn, services, backlog)
        while True:
            await conn.woken.wait()
            conn.woken.clear()
            cursor = conn.last_cursor if conn.last_cursor is not None else -1
            if cursor + 1 < feed.covered_from:
                # So far behind that the ring moved on: resuming reads the rest from Kafka.
                metrics.CONSOLE_SLOW_CLOSED.labels(conn.agency).inc()
                await conn.close(Close.TRY_AGAIN, "console fell behind; resume from your cursor")
                return
            await conn.send_backlog(feed.after(cursor), feed)
    except (TimeoutError, KafkaError):
        # A stuck client, or history unreadable right now: it reconnects and resumes.
        metrics.CONSOLE_SLOW_CLOSED.labels(conn.agency).inc()
        await conn.close(Close.TRY_AGAIN, "console connection stalled; resume from your cursor")


async def _replay(conn: Connection, services: Services, backlog: Backlog) -> None:
    entries = []
    if backlog.gap is not None:
        entries = await services.hub.read_range(conn.agency, *backlog.gap)
    gap_ids = {e[EVENT_ID] for e in entries}
    entries += [e for e in backlog.entries if e[EVENT_ID] not in gap_ids]
    # Live events start after the backlog's position; an urgent one arriving during a long
    # replay goes ahead of what the replay still owes, as in the live loop.
    conn.scanned = backlog.position
    await conn.send_backlog(entries, services.hub.feeds[conn.agency])
    # Older events outside a fresh sign-in's window are deliberately not sent.
    conn.last_cursor = max(
        conn.last_cursor if conn.last_cursor is not None else -1, backlog.position
    )
    await conn.send_message(ReplayDone(cursor=conn.last_cursor))


async def _receive(conn: Connection, services: Services) -> None:
    s = services.settings
    bucket = TokenBucket(s.console_rate_per_s, s.console_burst)
    while True:
        frame = await conn.ws.receive()
        if frame["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(frame.get("code", 1000))
        if bucket.take():
            await _error(conn, "rate_limited", "too many messages; slow down")
            continue
        try:
            msg = client_message_adapter.validate_json(
                frame.get("text") or frame.get("bytes") or b""
            )
        except ValidationError as exc:
            await _error(conn, "bad_message", bad_message(exc))
            continue
        if isinstance(msg, Ack):
            await _ack(conn, services, msg)
        else:
            await conn.send_message(Pong())


def bad_message(exc: ValidationError) -> str:
    """One sentence naming what is wrong with a client message."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    if first["type"] == "json_invalid":
        return "messages must be JSON objects"
    if first["type"] in ("union_tag_not_found", "union_tag_invalid", "model_attributes_type"):
        return "expected a JSON object with 'type' 'ack' or 'ping'"
    return f"{where}: {first['msg']}"


async def _ack(conn: Connection, services: Services, msg: Ack) -> None:
    alert_id = msg.alert_id
    raw = await services.known.wait_for(alert_id, STATE_WAIT_S)
    state = loads(AlertState, raw) if raw is not None else None
    if state is None or not any(r.agency == conn.agency for r in state.receipts):
        why = f"no alert {alert_id!r} was delivered to {conn.agency}"
        await _error(conn, "unknown_alert", why, alert_id)
        return
    cmd = AckCommand(
        alert_id=state.alert.alert_id,
        case_id=state.alert.case_id,
        agency=conn.agency,
        at=datetime.now(UTC),
    )
    try:
        # To the lane that holds the alert: it alone can record the acknowledgement. Keyed by
        # the alert's group, as the alert was: the lane reads both from the same partition.
        lane = services.known.lane_of(cmd.alert_id) or "urgent"
        key = services.known.group_of(cmd.alert_id)
        await services.publisher.send(
            topics(services.settings).acks_of(lane), key.encode(), dumps(cmd)
        )
    except KafkaUnavailable as exc:
        await _error(conn, "kafka_unavailable", exc.detail, alert_id)
        return
    await conn.send_message(AckAccepted(alert_id=cmd.alert_id))


async def _error(
    conn: Connection, code: ErrorCode, detail: str, alert_id: str | None = None
) -> None:
    await conn.send_message(Error(code=code, detail=detail, alert_id=alert_id))
