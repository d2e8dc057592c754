"""Faults with real processes: the broker goes away, a console stalls, the worker restarts."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from cli.broker import LocalBroker, free_port

from .stack import Stack, console, share, shared_before

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def person(urgency: str, recipients: list[str]) -> dict[str, Any]:
    n = uuid.uuid4().int
    return {
        "source_ref": f"F-{n % 10**12}",
        "kind": "wanted_person",
        "severity": "severe",
        "urgency": urgency,
        "tlp": "amber",
        "recipients": recipients,
        "title": "Fault test",
        "subject": {"full_name": f"Fault Person {n % 10**9}", "date_of_birth": "1966-06-06"},
    }


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """This module stops and restarts its broker, so it gets one of its own."""
    b = LocalBroker(
        port=free_port(),
        controller_port=free_port(),
        data_dir=tmp_path_factory.mktemp("kafka-faults"),
    )
    b.start()
    b.wait_ready()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def fault_stack(
    own_broker: LocalBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    s = Stack(
        own_broker.bootstrap,
        Path(tmp_path_factory.mktemp("fault-stack")),
        extra_env={"HOTLINE_ESCALATION_SECONDS": "6"},
    )
    s.start()
    yield s
    s.stop()


async def test_broker_outage_gives_503_fast_and_heals_by_itself(
    own_broker: LocalBroker, fault_stack: Stack
) -> None:
    stack = fault_stack
    async with console(stack, "cn-beijing") as bj:
        ok = await asyncio.to_thread(stack.post, "vn-hanoi", person("expected", ["cn-beijing"]))
        await bj.event(ok.json()["alert_id"], "new")

        own_broker.stop()
        started = time.monotonic()
        down = await asyncio.to_thread(stack.post, "vn-hanoi", person("expected", ["cn-beijing"]))
        elapsed = time.monotonic() - started
        assert down.status_code == 503, down.text  # never 202 without a durable write
        assert int(down.headers["retry-after"]) >= 1
        assert down.json()["error"] == "kafka_unavailable"
        # Fast means "not the producer's 30 s+ request timeout"; 10x the 1.5 s target.
        assert elapsed < 15.0, elapsed

        own_broker.start()
        own_broker.wait_ready()
        body = person("expected", ["cn-beijing"])
        deadline = time.monotonic() + 90
        while True:
            r = await asyncio.to_thread(stack.post, "vn-hanoi", body)
            if r.status_code == 202 or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        assert r.status_code == 202, r.text
        await bj.event(r.json()["alert_id"], "new", timeout=60)  # worker and gateway healed
    ready = httpx.get(f"{stack.url}/readyz")
    assert ready.status_code == 200


async def test_stuck_console_does_not_delay_the_others(fault_stack: Stack) -> None:
    stack = fault_stack
    port = int(stack.url.rsplit(":", 1)[1])
    # A client that signs in and then never reads: the kernel buffers fill up, the gateway's
    # send to it times out and it is let go; nobody else waits for it meanwhile.
    stuck = socket.create_connection(("127.0.0.1", port))
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.sendall(
        b"GET /v1/console/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    time.sleep(0.3)
    payload = orjson.dumps(
        {"type": "auth", "token": "demo-officer-ru-moscow", "resume_after": None}
    )
    mask = b"\x00\x00\x00\x00"
    stuck.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + payload)
    try:
        async with console(stack, "ru-moscow") as msk:
            items = [person("future", ["ru-moscow"]) for _ in range(300)]
            # People Beijing listed first: Hanoi's list of them is 300 hits, 300 events.
            await shared_before(stack, "cn-beijing", items, msk)
            ids = [i["alert_id"] for i in (await share(stack, "vn-hanoi", items))["items"]]
            await msk.event(ids[-1], "corroborated", timeout=30)
            started = time.monotonic()
            urgent = await asyncio.to_thread(
                stack.post, "vn-hanoi", person("immediate", ["ru-moscow"])
            )
            # 10x the promised second: a stuck console must not hold it back indefinitely.
            await msk.event(urgent.json()["alert_id"], "new", timeout=10)
            assert time.monotonic() - started < 10.0
    finally:
        stuck.close()


async def test_escalation_timer_survives_a_worker_restart(fault_stack: Stack) -> None:
    stack = fault_stack
    async with console(stack, "cn-beijing") as bj:
        r = await asyncio.to_thread(stack.post, "vn-hanoi", person("immediate", ["cn-beijing"]))
        alert_id = r.json()["alert_id"]
        await bj.event(alert_id, "new")
        await asyncio.sleep(3.0)  # committed to the changelog, well before the deadline
        stack.kill_worker()
        stack.start_worker()
        await asyncio.to_thread(stack.wait_worker)
        await bj.event(alert_id, "escalated", timeout=30)
