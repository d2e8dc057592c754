"""Urgent-alert latency: one `immediate` alert at a time, vn-hanoi -> cn-beijing, timed from
the POST being sent (and from its 202) to the `new` event on a cn-beijing officer's socket."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.console import Console
from bench.records import SENDER, alert_key, urgent_body
from bench.stats import summary_ms

EVENT_TIMEOUT_S = 10.0  # an urgent alert later than this is lost for the officer's purposes
GAP_S = 0.02  # between probes: one at a time, but not in lockstep with the worker's 50 ms take


class TopicWatch:
    """Notes when each watched alert's event lands on the delivery topic (its Kafka
    CreateTime, stamped by the worker's producer), to split 202 -> socket into the worker's
    part (202 -> topic) and the gateway's (topic -> socket)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self.wanted: set[bytes] = set()
        self.landed: dict[bytes, float] = {}  # key -> time.monotonic() of its CreateTime
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def __aenter__(self) -> TopicWatch:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, fetch_max_wait_ms=20
        )
        await self._consumer.start()
        tp = TopicPartition(self.topic, 0)
        self._consumer.assign([tp])
        await self._consumer.seek_to_end(tp)
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=20_000)
            # Wall clock -> this process's monotonic clock (same machine, same clocks).
            shift = time.time() - time.monotonic()
            for records in batches.values():
                for r in records:
                    if r.key in self.wanted and r.key not in self.landed:
                        self.landed[r.key] = r.timestamp / 1000 - shift


async def probe(
    url: str,
    console: Console,
    numbers: Sequence[str],
    tag: str,
    *,
    keep_going: Callable[[], bool] = lambda: True,
    max_seconds: float = 600.0,
    watch: TopicWatch | None = None,
) -> dict[str, Any]:
    """Posts up to len(numbers) urgent alerts sequentially; stops early when `keep_going()`
    turns false or after `max_seconds`."""
    post_to_ws: list[float] = []
    accepted_to_ws: list[float] = []
    post_to_202: list[float] = []
    pending: list[tuple[bytes, float, float]] = []  # key, answered, received
    lost = refused = 0
    headers = {"Authorization": f"Bearer demo-partner-{SENDER}"}
    deadline = time.monotonic() + max_seconds
    async with httpx.AsyncClient(base_url=url, timeout=60.0) as http:
        for i, number in enumerate(numbers):
            if not keep_going() or time.monotonic() > deadline:
                break
            ref = f"{tag}-{i}"
            alert_id = alert_key(ref).decode()
            arrival = console.expect(alert_id)
            if watch is not None:
                watch.wanted.add(alert_id.encode())
            sent = time.monotonic()
            r = await http.post("/v1/alerts", json=urgent_body(ref, number), headers=headers)
            answered = time.monotonic()
            if r.status_code != 202:
                refused += 1
                arrival.cancel()
                continue
            try:
                received = await asyncio.wait_for(arrival, EVENT_TIMEOUT_S)
            except TimeoutError:
                lost += 1
                continue
            post_to_ws.append(received - sent)
            accepted_to_ws.append(max(0.0, received - answered))
            post_to_202.append(answered - sent)
            pending.append((alert_id.encode(), answered, received))
            await console.ack(alert_id)
            await asyncio.sleep(GAP_S)
    split: dict[str, Any] = {}
    if watch is not None:
        await asyncio.sleep(1.0)  # the topic reader may trail the socket slightly
        to_topic = [watch.landed[k] - a for k, a, _ in pending if k in watch.landed]
        to_socket = [r - watch.landed[k] for k, _, r in pending if k in watch.landed]
        split = {
            "accepted_to_topic": summary_ms([max(0.0, x) for x in to_topic]),
            "topic_to_ws": summary_ms([max(0.0, x) for x in to_socket]),
        }
    return {
        **split,
        "alerts": len(post_to_ws),
        "lost": lost,
        "refused": refused,
        "post_to_ws": summary_ms(post_to_ws),
        "accepted_to_ws": summary_ms(accepted_to_ws),
        "post_to_202": summary_ms(post_to_202),
        "console_reconnects": console.reconnects,
        "console_close_codes": console.close_codes,
        "raw_post_to_ws_ms": [round(x * 1000, 2) for x in post_to_ws],
    }
