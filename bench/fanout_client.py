"""Many officer consoles of one agency in one process: the fan-out load generator.

Run by bench/fanout.py as its own process (`python -m bench.fanout_client ...`), so the
clients' CPU is not taken from the process that times the POST. Talks JSON lines:
  stdout {"ready": n, "connect_s": s}          once every console is signed in and replayed
  stdin  {"watch": alert_id}  -> stdout {"watching": alert_id}
         then, once every console has the `new` event or the timeout passed:
  stdout {"alert_id": ..., "arrivals": [time.monotonic() or null per console]}
  stdin  {"quit": true} (or EOF)  -> closes every socket and exits
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from typing import Any

import orjson
import websockets

CONNECT_CONCURRENCY = 50
WAIT_S = 15.0


class Officer:
    def __init__(self) -> None:
        self.ws: Any = None
        self.replayed = asyncio.Event()
        self.watch: str | None = None
        self.got: asyncio.Event = asyncio.Event()
        self.arrived: float | None = None
        self.messages = 0

    async def sign_in(self, url: str, agency: str, resume_after: int | None) -> None:
        self.ws = await websockets.connect(
            url, max_size=None, ping_interval=None, open_timeout=120, close_timeout=5
        )
        auth = {"type": "auth", "token": f"demo-officer-{agency}", "resume_after": resume_after}
        await self.ws.send(orjson.dumps(auth).decode())

    async def read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                now = time.monotonic()
                self.messages += 1
                # A substring test first: most messages are not the watched alert.
                if self.watch is not None and self.arrived is None and self.watch in raw:
                    msg = orjson.loads(raw)
                    if msg.get("alert_id") == self.watch and msg.get("event") == "new":
                        self.arrived = now
                        self.got.set()
                elif not self.replayed.is_set() and '"replay_done"' in raw:
                    self.replayed.set()


async def _stdin() -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _say(doc: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(doc).decode() + "\n")
    sys.stdout.flush()


async def run(url: str, agency: str, consoles: int, resume_after: int | None) -> None:
    officers = [Officer() for _ in range(consoles)]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    readers: list[asyncio.Task[None]] = []

    async def connect(o: Officer) -> None:
        async with gate:
            await o.sign_in(url, agency, resume_after)
            readers.append(asyncio.create_task(o.read()))
            await asyncio.wait_for(o.replayed.wait(), 120)

    started = time.monotonic()
    try:
        await asyncio.gather(*(connect(o) for o in officers))
        _say({"ready": consoles, "connect_s": round(time.monotonic() - started, 3)})
        commands = await _stdin()
        while line := await commands.readline():
            cmd = orjson.loads(line)
            if cmd.get("quit"):
                break
            alert_id = cmd["watch"]
            for o in officers:
                o.watch, o.arrived = alert_id, None
                o.got.clear()
            _say({"watching": alert_id})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(o.got.wait() for o in officers)), WAIT_S)
            _say(
                {
                    "alert_id": alert_id,
                    "arrivals": [o.arrived for o in officers],
                    "messages": sum(o.messages for o in officers),
                }
            )
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(
            *(o.ws.close() for o in officers if o.ws is not None), return_exceptions=True
        )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.fanout_client")
    p.add_argument("--ws-url", required=True)
    p.add_argument("--agency", required=True)
    p.add_argument("--consoles", type=int, required=True)
    p.add_argument("--resume-after", type=int, default=None)
    a = p.parse_args(argv)
    with contextlib.suppress(ImportError):
        # Optional: a cheaper client loop leaves more CPU to the server.
        import uvloop  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415

        uvloop.install()
    asyncio.run(run(a.ws_url, a.agency, a.consoles, a.resume_after))


if __name__ == "__main__":
    main()
