"""Fan-out: C consoles of one agency signed in, one alert posted, time until every console has
it. Repeated a few rounds; each round is one sample of time-to-all, and every console's arrival
is one sample of per-console latency.

The consoles run in this process, on its loop: it does nothing else during the phase, and an
arrival is stamped when the loop reads it, so reading C sockets counts against the gateway
(the conservative side)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import httpx
import orjson
import websockets

from bench.records import RECIPIENT, SENDER, alert_key
from bench.stats import summary_ms

CONNECT_CONCURRENCY = 50
ROUND_TIMEOUT_S = 15.0


class _Officer:
    def __init__(self) -> None:
        self.ws: Any = None
        self.replayed = asyncio.Event()
        self.watch: str | None = None
        self.arrived: float | None = None
        self.got = asyncio.Event()

    async def sign_in(self, url: str) -> None:
        self.ws = await websockets.connect(
            url, max_size=None, ping_interval=None, open_timeout=120, close_timeout=5
        )
        auth = {"type": "auth", "token": f"demo-officer-{RECIPIENT}", "resume_after": None}
        await self.ws.send(orjson.dumps(auth).decode())

    async def read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                now = time.monotonic()
                # A substring test first: most messages are not the watched alert.
                if self.watch is not None and self.arrived is None and self.watch in raw:
                    msg = orjson.loads(raw)
                    if msg.get("alert_id") == self.watch and msg.get("event") == "new":
                        self.arrived = now
                        self.got.set()
                elif not self.replayed.is_set() and '"replay_done"' in raw:
                    self.replayed.set()


def _alert(ref: str, number: str) -> dict[str, Any]:
    # Urgency "expected": the urgent lane (every single POST is), but no escalation two
    # minutes later fanning out to every console again.
    return {
        "source_ref": ref,
        "kind": "scam_number",
        "severity": "severe",
        "urgency": "expected",
        "recipients": [RECIPIENT],
        "title": f"Scam number {number} reported by many victims today",
        "subject": {"number": number, "scam_type": "investment"},
    }


async def run(url: str, ws_url: str, consoles: int, numbers: list[str], tag: str) -> dict[str, Any]:
    officers = [_Officer() for _ in range(consoles)]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    readers: list[asyncio.Task[None]] = []

    async def connect(o: _Officer) -> None:
        async with gate:
            await o.sign_in(ws_url)
            readers.append(asyncio.create_task(o.read()))
            await asyncio.wait_for(o.replayed.wait(), 120)

    started = time.monotonic()
    rounds: list[dict[str, Any]] = []
    try:
        await asyncio.gather(*(connect(o) for o in officers))
        connect_s = round(time.monotonic() - started, 3)
        headers = {"Authorization": f"Bearer demo-partner-{SENDER}"}
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            for i, number in enumerate(numbers):
                alert_id = alert_key(f"{tag}-{i}").decode()
                for o in officers:
                    o.watch, o.arrived = alert_id, None
                    o.got.clear()
                await asyncio.sleep(0.5)  # let the backlog of the last round drain first
                sent = time.monotonic()
                r = await http.post(
                    "/v1/alerts", json=_alert(f"{tag}-{i}", number), headers=headers
                )
                with contextlib.suppress(TimeoutError):
                    waits = (o.got.wait() for o in officers)
                    await asyncio.wait_for(asyncio.gather(*waits), ROUND_TIMEOUT_S)
                got = [o.arrived - sent for o in officers if o.arrived is not None]
                rounds.append(
                    {
                        "status": r.status_code,
                        "received": len(got),
                        "missing": consoles - len(got),
                        "time_to_all_ms": round(max(got) * 1000, 2)
                        if len(got) == consoles
                        else None,
                        "per_console": summary_ms(got),
                    }
                )
                await asyncio.sleep(1.0)
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(
            *(o.ws.close() for o in officers if o.ws is not None), return_exceptions=True
        )
    complete = sorted(r["time_to_all_ms"] for r in rounds if r["time_to_all_ms"] is not None)
    p99s = sorted(r["per_console"]["p99_ms"] for r in rounds if "p99_ms" in r["per_console"])
    return {
        "consoles": consoles,
        "connect_s": connect_s,
        "rounds": rounds,
        "time_to_all_ms": {
            "median": complete[len(complete) // 2] if complete else None,
            "max": complete[-1] if complete else None,
            "complete_rounds": len(complete),
        },
        # Rounds are repeats, not one sample: the median of each round's p99.
        "per_console_round_medians": {"p99_ms": p99s[len(p99s) // 2] if p99s else None},
    }
