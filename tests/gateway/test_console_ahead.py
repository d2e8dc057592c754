"""Urgent events ahead of a console's queued bulk ones, its cursor intact (no Kafka: the test
plays the delivery consumer, appending to the hub's feed and waking its sockets)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import pytest

from gateway import connection, ws
from gateway.hub import Hub
from gateway.ring import parse_entry
from hotline.settings import Settings

AGENCY = "cn-beijing"


class Socket:
    """Stands in for the WebSocket: keeps what is sent; `on_send` runs after each message."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.on_send: Callable[[], None] = lambda: None

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))
        self.on_send()

    async def close(self, code: int, reason: str) -> None:
        pass

    def alerts(self) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["type"] == "alert"]


def deliver(hub: Hub, offset: int, lane: str) -> None:
    """What the delivery consumer does with one record of the agency's topic."""
    event = {
        "type": "alert",
        "event": "new",
        "event_id": f"ev-{offset}",
        "alert_id": f"al-{offset}",
        "at": "2026-12-01T10:00:00Z",
        "alert": {"alert_id": f"al-{offset}", "received_at": "2026-12-01T10:00:00Z", "lane": lane},
    }
    feed = hub.feeds[AGENCY]
    assert feed.append(parse_entry(offset, json.dumps(event).encode()))
    for sub in list(feed.subscribers):
        sub.wake()


async def until(done: Callable[[], bool]) -> None:
    for _ in range(500):
        if done():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the socket was not sent what was expected in time")


@contextlib.asynccontextmanager
async def console(
    hub: Hub, socket: Socket, resume_after: int | None, reporter: Any = None
) -> AsyncIterator[None]:
    conn = connection.Connection(socket, AGENCY, reporter)  # type: ignore[arg-type]
    backlog = hub.subscribe(conn, resume_after)
    conn.last_cursor = resume_after
    services: Any = SimpleNamespace(hub=hub, settings=hub.settings)
    pump = asyncio.create_task(ws._pump(conn, services, backlog))
    try:
        yield
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump


def when_sent(socket: Socket, n: int, then: Callable[[], None]) -> None:
    """Runs `then` once, right after the n-th alert reached the socket."""

    def check() -> None:
        if len(socket.alerts()) == n:
            then()

    socket.on_send = check


BULK = 200
URGENT = f"ev-{BULK}"  # the urgent event, delivered after them all
ARRIVES_AFTER = 30  # alerts already sent when it reaches the feed


def assert_sent_ahead(alerts: list[dict[str, Any]], in_order: range) -> None:
    ids = [a["event_id"] for a in alerts]
    assert len(ids) == len(set(ids)) == len(in_order) + 1, "each event exactly once"
    at = ids.index(URGENT)
    # At the next chunk boundary after it arrived, not behind the bulk events still owed.
    assert ARRIVES_AFTER <= at <= ARRIVES_AFTER + connection.CHUNK
    assert alerts[at]["cursor"] is None  # so a resume from the highest cursor misses nothing
    assert [a["cursor"] for a in alerts if a["cursor"] is not None] == list(in_order)


@pytest.mark.parametrize("resume_after", [None, 99])
async def test_an_urgent_event_overtakes_the_bulk_ones_queued_for_a_live_console(
    resume_after: int | None,
) -> None:
    hub = Hub(Settings())
    for offset in range(100):
        deliver(hub, offset, "bulk")
    socket = Socket()
    async with console(hub, socket, resume_after):
        await until(lambda: any(m["type"] == "replay_done" for m in socket.sent))
        socket.sent.clear()
        # An import lands on a live console: its socket is suddenly 100 events behind.
        when_sent(socket, ARRIVES_AFTER, lambda: deliver(hub, BULK, "urgent"))
        for offset in range(100, BULK):
            deliver(hub, offset, "bulk")
        await until(lambda: len(socket.alerts()) == BULK - 100 + 1)
        await asyncio.sleep(0.05)  # and nothing more: the urgent one is not sent again
    assert_sent_ahead(socket.alerts(), range(100, BULK))


async def test_an_urgent_event_overtakes_what_a_long_replay_still_owes() -> None:
    hub = Hub(Settings())
    for offset in range(BULK):
        deliver(hub, offset, "bulk")
    socket = Socket()
    when_sent(socket, ARRIVES_AFTER, lambda: deliver(hub, BULK, "urgent"))
    async with console(hub, socket, resume_after=-1):  # everything from the start
        await until(lambda: len(socket.alerts()) == BULK + 1)
        await asyncio.sleep(0.05)
    assert_sent_ahead(socket.alerts(), range(BULK))
    done = next(m for m in socket.sent if m["type"] == "replay_done")
    assert done["cursor"] == BULK - 1  # the urgent event is live: after the replay's position


async def test_behind_a_short_queue_an_urgent_event_waits_its_turn_with_its_cursor() -> None:
    hub = Hub(Settings())
    socket = Socket()
    async with console(hub, socket, resume_after=None):
        await until(lambda: any(m["type"] == "replay_done" for m in socket.sent))
        for offset in range(connection.AHEAD_AFTER - 1):
            deliver(hub, offset, "bulk")
        deliver(hub, connection.AHEAD_AFTER - 1, "urgent")
        await until(lambda: len(socket.alerts()) == connection.AHEAD_AFTER)
    assert [a["cursor"] for a in socket.alerts()] == list(range(connection.AHEAD_AFTER))


class Reporter:
    """Stands in for the gateway's audit reporter: keeps what was reported delivered."""

    def __init__(self) -> None:
        self.reported: list[tuple[str, str, str]] = []

    def delivered(self, agency: str, alert_id: str, event: str) -> None:
        self.reported.append((agency, alert_id, event))


async def test_each_event_shown_goes_on_the_record_once_ahead_or_in_order() -> None:
    hub = Hub(Settings())
    for offset in range(BULK):
        deliver(hub, offset, "bulk")
    socket, reporter = Socket(), Reporter()
    when_sent(socket, ARRIVES_AFTER, lambda: deliver(hub, BULK, "urgent"))
    async with console(hub, socket, resume_after=-1, reporter=reporter):
        await until(lambda: len(socket.alerts()) == BULK + 1)
        await asyncio.sleep(0.05)
    assert sorted(reporter.reported) == sorted(
        (AGENCY, f"al-{offset}", "new") for offset in range(BULK + 1)
    )
