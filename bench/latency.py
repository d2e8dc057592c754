"""Urgent-alert latency: one `immediate` alert at a time, vn-hanoi -> cn-beijing, timed from
the POST being sent (and from its 202) to the `new` event on a cn-beijing officer's socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from bench.console import Console
from bench.records import SENDER, alert_key, urgent_body
from bench.stats import summary_ms

EVENT_TIMEOUT_S = 10.0  # an urgent alert later than this is lost for the officer's purposes
GAP_S = 0.02  # between probes: one at a time, but not in lockstep with the worker's 50 ms take


async def probe(
    url: str,
    console: Console,
    numbers: Sequence[str],
    tag: str,
    *,
    keep_going: Callable[[], bool] = lambda: True,
    max_seconds: float = 600.0,
) -> dict[str, Any]:
    """Posts up to len(numbers) urgent alerts sequentially; stops early when `keep_going()`
    turns false or after `max_seconds`."""
    post_to_ws: list[float] = []
    accepted_to_ws: list[float] = []
    post_to_202: list[float] = []
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
            await console.ack(alert_id)
            await asyncio.sleep(GAP_S)
    return {
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
