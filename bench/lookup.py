"""Registry lookups, GET /v1/lookup, one at a time: how long each takes, and whether it finds
what the stream stored (every known number found, no unknown one)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from bench.records import SENDER
from bench.stats import summary_ms

GAP_S = 0.02  # between lookups: a steady trickle, not a load test


async def lookups(
    url: str,
    known: Sequence[str],
    unknown: Sequence[str],
    *,
    keep_going: Callable[[], bool] = lambda: True,
    max_seconds: float = 120.0,
) -> dict[str, Any]:
    """Looks up the numbers alternately known and unknown, as their sender (which holds them;
    the numbers are national, as it dials them)."""
    headers = {"Authorization": f"Bearer demo-partner-{SENDER}"}
    asks = [(n, True) for n in known]
    for i, n in enumerate(unknown):
        asks.insert(min(len(asks), 2 * i + 1), (n, False))
    took: list[float] = []
    wrong = failed = 0
    deadline = time.monotonic() + max_seconds
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as http:
        for number, is_known in asks:
            if not keep_going() or time.monotonic() > deadline:
                break
            sent = time.monotonic()
            r = await http.get("/v1/lookup", params={"number": number}, headers=headers)
            elapsed = time.monotonic() - sent
            if r.status_code != 200:
                failed += 1
                continue
            took.append(elapsed)
            if bool(r.json()["matches"]) != is_known:
                wrong += 1
            await asyncio.sleep(GAP_S)
    return {
        "lookups": len(took),
        "failed": failed,
        "wrong": wrong,  # a known number not found, or an unknown one found
        "ms": summary_ms(took),
        "raw_ms": [round(x * 1000, 2) for x in took],
    }
