"""The duty officer's socket: sign in, backlog (replay or recent), then live events and acks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from aiokafka.errors import KafkaError
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from hotline import metrics
from hotline.codec import dumps, loads
from hotline.credentials import digest
from hotline.errors import KafkaUnavailable
from hotline.models import AckCommand, AlertState
from hotline.topics import topics

from .connection import Connection
from .deps import Services
from .limits import TokenBucket
from .ring import (
    EVENT_ID,
    Backlog,
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

    conn = Connection(ws, agency, services.reporter)
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
