"""Real processes on the real broker: a worker and a gateway per stack, and console clients."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets
from aiokafka import AIOKafkaConsumer

from cli.broker import free_port
from cli.processes import spawn, stop
from cli.supervisor import hotline_cmd, wait_ready, worker_active
from hotline.audit import AuditEntry
from hotline.codec import loads


@dataclass
class Stack:
    bootstrap: str
    workdir: Path
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:8]}")
    extra_env: dict[str, str] = field(default_factory=dict)
    gateway_port: int = field(default_factory=free_port)
    worker_port: int = field(default_factory=free_port)
    worker: subprocess.Popen[bytes] | None = None
    gateway: subprocess.Popen[bytes] | None = None
    # Each lane in a worker process of its own (`worker` is then the urgent lane's), as
    # `hotline up` and docker-compose run them; otherwise one worker runs both.
    lanes: bool = False
    bulk_port: int = field(default_factory=free_port)
    bulk: subprocess.Popen[bytes] | None = None
    extra: list[subprocess.Popen[bytes]] = field(default_factory=list)  # stopped with the rest

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.gateway_port}/v1/console/ws"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOTLINE_KAFKA_BOOTSTRAP": self.bootstrap,
            "HOTLINE_TOPIC_PREFIX": self.prefix,
            "HOTLINE_WORKER_ID": f"hotline-worker-{self.prefix}",
            "HOTLINE_GATEWAY_PORT": str(self.gateway_port),
            "HOTLINE_WORKER_PORT": str(self.worker_port),
            "HOTLINE_DATA_DIR": str(self.workdir),
            **self.extra_env,
        }

    def start(self) -> None:
        self.start_worker()
        self.start_gateway()
        self.wait_worker()

    def start_worker(self) -> None:
        lane = ["--lane", "urgent"] if self.lanes else []
        self.worker = spawn(hotline_cmd("worker", *lane), self.env(), self.workdir / "worker.log")
        if self.lanes:
            self.start_bulk()

    def start_bulk(self) -> None:
        self.bulk = self.spawn_bulk(self.bulk_port, "bulk")

    def spawn_bulk(self, port: int, name: str) -> subprocess.Popen[bytes]:
        """One more bulk-lane worker (in the lane's group: a standby, or the next active)."""
        env = {**self.env(), "HOTLINE_WORKER_PORT": str(port)}
        proc = spawn(hotline_cmd("worker", "--lane", "bulk"), env, self.workdir / f"{name}.log")
        self.extra.append(proc)
        return proc

    def spawn_urgent(self, port: int, name: str) -> subprocess.Popen[bytes]:
        """One more urgent-lane worker: it takes a share of the lane's and the index's
        partitions."""
        env = {**self.env(), "HOTLINE_WORKER_PORT": str(port)}
        proc = spawn(hotline_cmd("worker", "--lane", "urgent"), env, self.workdir / f"{name}.log")
        self.extra.append(proc)
        return proc

    def start_gateway(self) -> None:
        self.gateway = spawn(hotline_cmd("gateway"), self.env(), self.workdir / "gateway.log")
        wait_ready(self.url, [self.gateway])

    def wait_worker(self, timeout: float = 60.0) -> None:
        """The worker is ready once its web server answers and its agents have partitions."""
        _wait_active(self.worker, self.worker_port, timeout, lambda: self.log("worker"))
        if self.lanes:
            self.wait_bulk(timeout)

    def wait_bulk(self, timeout: float = 60.0) -> None:
        _wait_active(self.bulk, self.bulk_port, timeout, lambda: self.log("bulk"))

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.kill()
        self.worker.wait()

    def kill_bulk(self) -> None:
        assert self.bulk is not None
        self.bulk.kill()
        self.bulk.wait()

    def stop(self) -> None:
        for proc in (self.gateway, self.worker, *self.extra):
            if proc is not None:
                stop(proc)

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""

    # --- partner side --------------------------------------------------------------------

    def post(self, sender: str, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or f'demo-partner-{sender}'}"}
        return httpx.post(f"{self.url}/v1/alerts", json=body, headers=headers, timeout=30)

    def get_alert(self, alert_id: str, token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(f"{self.url}/v1/alerts/{alert_id}", headers=headers, timeout=10)

    async def state_when(
        self,
        alert_id: str,
        done: Callable[[dict[str, Any]], bool],
        token: str = "demo-partner-vn-hanoi",
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """The alert's state as `token` reads it, once `done` holds (or as it is at timeout).

        A state reaches the gateway on its own topic, a few milliseconds apart from the socket
        event about it: a read right after the event may still find the one before."""
        deadline = time.monotonic() + timeout
        while True:
            got = await asyncio.to_thread(self.get_alert, alert_id, token)
            state: dict[str, Any] = got.json()
            if done(state) or time.monotonic() > deadline:
                return state
            await asyncio.sleep(0.1)


def _wait_active(
    proc: subprocess.Popen[bytes] | None, port: int, timeout: float, log: Callable[[], str]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc is not None and proc.poll() is None, log()
        if worker_active(port):
            return
        time.sleep(0.3)
    raise AssertionError(f"worker on port {port} not ready in {timeout}s\n{log()}")


class Console:
    """A real WebSocket client signed in as one agency's duty officer."""

    def __init__(self, ws: Any, agency: str) -> None:
        self.ws = ws
        self.agency = agency
        self.welcome: dict[str, Any] = {}
        self.messages: list[dict[str, Any]] = []
        self._new = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                async with self._new:
                    self.messages.append(orjson.loads(raw))
                    self._new.notify_all()

    @property
    def events(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == "alert"]

    async def wait_for(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        async def find() -> dict[str, Any]:
            async with self._new:
                while True:
                    for m in self.messages:
                        if pred(m):
                            return m
                    await self._new.wait()

        return await asyncio.wait_for(find(), timeout)

    async def event(self, alert_id: str, event: str, timeout: float = 10.0) -> dict[str, Any]:
        return await self.wait_for(
            lambda m: m.get("alert_id") == alert_id and m.get("event") == event, timeout
        )

    def digest(self, import_id: str) -> dict[str, Any]:
        """An import as the console shows it: its latest digest of each partition, added up."""
        latest: dict[int, dict[str, Any]] = {}
        for m in self.messages:
            if m.get("type") == "digest" and m["import_id"] == import_id:
                seen = latest.get(m["partition"])
                if seen is None or (m["numbers"], m["done"]) >= (seen["numbers"], seen["done"]):
                    latest[m["partition"]] = m
        total = {k: sum(d[k] for d in latest.values()) for k in ("numbers", "new", "known", "hits")}
        return {**total, "done": bool(latest) and all(d["done"] for d in latest.values())}

    async def counted(
        self, import_id: str, numbers: int, *, done: bool = False, timeout: float = 60.0
    ) -> dict[str, Any]:
        """The list once its digests count `numbers` (and are done, if asked). A digest is
        done 10 s after the list's last alert: `timeout` only catches "never arrives"."""

        def there(_: Any) -> bool:
            d = self.digest(import_id)
            return bool(d["numbers"] >= numbers and (d["done"] or not done))

        await self.wait_for(there, timeout=timeout)
        return self.digest(import_id)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(message).decode())

    @property
    def cursor(self) -> int | None:
        cursors = [m["cursor"] for m in self.events]
        return max(cursors) if cursors else None


@contextlib.asynccontextmanager
async def console(
    stack: Stack, agency: str, resume_after: int | None = None, token: str | None = None
) -> AsyncIterator[Console]:
    async with websockets.connect(stack.ws_url) as ws:
        await ws.send(
            orjson.dumps(
                {
                    "type": "auth",
                    "token": token or f"demo-officer-{agency}",
                    "resume_after": resume_after,
                }
            ).decode()
        )
        c = Console(ws, agency)
        c.welcome = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert c.welcome["type"] == "welcome", c.welcome
        c._reader = asyncio.create_task(c._read())
        await c.wait_for(lambda m: m.get("type") == "replay_done")
        try:
            yield c
        finally:
            c._reader.cancel()


async def share(
    stack: Stack,
    sender: str,
    items: list[dict[str, Any]],
    import_id: str | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """POST the items as one batch (a shared list); the answer, every item accepted."""
    r = await asyncio.to_thread(
        httpx.post,
        f"{stack.url}/v1/alerts/batch",
        params={"import_id": import_id} if import_id else None,
        json=items,
        headers={"Authorization": f"Bearer {key or f'demo-partner-{sender}'}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert all(i["status"] == 202 for i in r.json()["items"]), r.text
    answer: dict[str, Any] = r.json()
    return answer


async def shared_before(
    stack: Stack, sender: str, items: list[dict[str, Any]], to: Console
) -> None:
    """The items' subjects shared first by `sender` as a list, counted on `to`'s console: the
    same subjects in a later list are hits there, each an event of its own. How a test gets a
    list's alerts onto a console one by one (a list of new subjects is only a digest)."""
    before = [{**item, "source_ref": f"PRE-{item['source_ref']}"} for item in items]
    answer = await share(stack, sender, before)
    await to.counted(answer["import_id"], len(items))


async def audit_log(stack: Stack, done: Any, timeout: float = 20.0) -> list[AuditEntry]:
    """The whole audit.log topic, read again until `done(entries)` (or the timeout)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        consumer = AIOKafkaConsumer(
            f"{stack.prefix}.audit.log",
            bootstrap_servers=stack.bootstrap,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        entries: list[AuditEntry] = []
        try:
            # Fetches until one brings nothing: a fetch holds only so much of each partition.
            while batches := await consumer.getmany(timeout_ms=2000):
                entries += [loads(AuditEntry, r.value) for rs in batches.values() for r in rs]
        finally:
            await consumer.stop()
        if done(entries) or asyncio.get_running_loop().time() > deadline:
            return entries
        await asyncio.sleep(0.5)
