"""A duty officer's console as the bench sees it: a real WebSocket client that stamps arrivals.

`expect(alert_id)` is registered before the alert is posted (ids are deterministic), so an
event can never arrive before anyone waits for it. If the gateway closes a console that fell
behind (1013), it signs in again from its last cursor, as the real console page does, and the
reconnect is counted: that is a finding, not something to hide.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import orjson
import websockets

MAX_RECONNECTS = 20


class Console:
    def __init__(self, ws_url: str, agency: str) -> None:
        self.ws_url = ws_url
        self.agency = agency
        self.cursor: int | None = None
        self.received = 0
        self.reconnects = 0
        self.close_codes: list[int | None] = []
        self._waiting: dict[str, asyncio.Future[float]] = {}
        self._ws: Any = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Console:
        welcome = await self._connect(resume_after=None)
        # Start from now: the backlog of recent events is not what the bench measures.
        self.cursor = welcome.get("cursor")
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()

    async def _connect(self, resume_after: int | None) -> dict[str, Any]:
        self._ws = await websockets.connect(self.ws_url, max_size=None, ping_interval=None)
        auth = {
            "type": "auth",
            "token": f"demo-officer-{self.agency}",
            "resume_after": resume_after,
        }
        await self._ws.send(orjson.dumps(auth).decode())
        welcome: dict[str, Any] = orjson.loads(await asyncio.wait_for(self._ws.recv(), 30))
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"console sign-in refused: {welcome}")
        return welcome

    async def _run(self) -> None:
        while True:
            try:
                async for raw in self._ws:
                    self._on_message(raw)
            except websockets.ConnectionClosed:
                pass
            self.close_codes.append(getattr(self._ws, "close_code", None))
            if self.reconnects >= MAX_RECONNECTS:
                return
            self.reconnects += 1
            await asyncio.sleep(0.2)
            await self._connect(resume_after=self.cursor)

    def _on_message(self, raw: str | bytes) -> None:
        arrived = time.monotonic()
        self.received += 1
        msg = orjson.loads(raw)
        if msg.get("type") != "alert":
            return
        cursor = msg.get("cursor")
        if isinstance(cursor, int):
            self.cursor = cursor if self.cursor is None else max(self.cursor, cursor)
        fut = self._waiting.get(msg.get("alert_id", ""))
        if fut is not None and msg.get("event") == "new" and not fut.done():
            fut.set_result(arrived)

    def expect(self, alert_id: str) -> asyncio.Future[float]:
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[alert_id] = fut
        fut.add_done_callback(lambda _: self._waiting.pop(alert_id, None))
        return fut

    async def ack(self, alert_id: str) -> None:
        # A real officer acknowledges: otherwise every probe escalates two minutes later and
        # the escalations land in whatever phase runs then.
        with contextlib.suppress(websockets.ConnectionClosed):
            await self._ws.send(orjson.dumps({"type": "ack", "alert_id": alert_id}).decode())
