"""Fan-out: C consoles of one agency signed in (in client processes of their own), one alert
posted, time until every console has it. Repeated a few rounds; each round is one sample of
time-to-all, and every console's arrival is one sample of per-console latency."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import httpx
import orjson

from bench.console import Console
from bench.records import RECIPIENT, SENDER, alert_key
from bench.stack import python_module
from bench.stats import summary_ms
from cli.processes import die_with_parent

ROUND_TIMEOUT_S = 30.0


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


class _Client:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def say(self, doc: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(orjson.dumps(doc) + b"\n")
        await self.proc.stdin.drain()

    async def hear(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise RuntimeError("fan-out client exited")
        doc: dict[str, Any] = orjson.loads(line)
        return doc


async def _current_cursor(ws_url: str) -> int | None:
    async with Console(ws_url, RECIPIENT) as c:
        return c.cursor


async def run(
    url: str, ws_url: str, consoles: int, procs: int, numbers: list[str], tag: str
) -> dict[str, Any]:
    cursor = await _current_cursor(ws_url)
    shares = [consoles // procs + (1 if i < consoles % procs else 0) for i in range(procs)]
    clients: list[_Client] = []
    try:
        for share in shares:
            args = ["--ws-url", ws_url, "--agency", RECIPIENT, "--consoles", str(share)]
            if cursor is not None:
                args += ["--resume-after", str(cursor)]
            proc = await asyncio.create_subprocess_exec(
                *python_module("bench.fanout_client", *args),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
            clients.append(_Client(proc))
        ready = [await c.hear(600) for c in clients]
        connect_s = max(r["connect_s"] for r in ready)
        rounds: list[dict[str, Any]] = []
        headers = {"Authorization": f"Bearer demo-partner-{SENDER}"}
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            for i, number in enumerate(numbers):
                alert_id = alert_key(f"{tag}-{i}").decode()
                for c in clients:
                    await c.say({"watch": alert_id})
                for c in clients:
                    await c.hear(30)  # "watching"
                await asyncio.sleep(0.5)  # let the clients settle before the clock starts
                sent = time.monotonic()
                r = await http.post(
                    "/v1/alerts", json=_alert(f"{tag}-{i}", number), headers=headers
                )
                answered = time.monotonic()
                results = [await c.hear(ROUND_TIMEOUT_S) for c in clients]
                arrivals = [a for res in results for a in res["arrivals"]]
                got = [a - sent for a in arrivals if a is not None]
                rounds.append(
                    {
                        "status": r.status_code,
                        "post_to_202_ms": round((answered - sent) * 1000, 2),
                        "received": len(got),
                        "missing": len(arrivals) - len(got),
                        "time_to_all_ms": round(max(got) * 1000, 2)
                        if got and len(got) == len(arrivals)
                        else None,
                        "per_console": summary_ms(got),
                    }
                )
                await asyncio.sleep(1.0)
        for c in clients:
            await c.say({"quit": True})
        for c in clients:
            await asyncio.wait_for(c.proc.wait(), 60)
    finally:
        for c in clients:
            if c.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    c.proc.kill()
                await c.proc.wait()
    complete: list[float] = [r["time_to_all_ms"] for r in rounds if r["time_to_all_ms"] is not None]
    per_console = _pooled(rounds)
    return {
        "consoles": consoles,
        "client_processes": procs,
        "connect_s": connect_s,
        "rounds": rounds,
        "time_to_all_ms": {
            "median": sorted(complete)[len(complete) // 2] if complete else None,
            "max": max(complete) if complete else None,
            "complete_rounds": len(complete),
        },
        "per_console_round_medians": per_console,
    }


def _pooled(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Median over rounds of each per-console statistic (rounds are repeats, not one sample)."""
    keys = ("p50_ms", "p99_ms", "max_ms")
    out: dict[str, Any] = {}
    for k in keys:
        vals = sorted(r["per_console"][k] for r in rounds if k in r["per_console"])
        out[k] = vals[len(vals) // 2] if vals else None
    return out
