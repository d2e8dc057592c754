"""SIGKILL the worker: its tables come back from their changelogs, nothing is shown twice."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from hotline.codec import dumps
from hotline.models import AlertRecord

from .stack import Stack, console

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def scam(ref: str, number: str) -> dict[str, Any]:
    return {
        "source_ref": ref,
        "kind": "scam_number",
        "severity": "minor",
        "urgency": "future",
        "tlp": "green",
        "title": "Reported scam number",
        "language": "vi",
        "subject": {"number": number, "scam_type": "investment"},
    }


@pytest.fixture(scope="module")
def crash_stack(stack_factory: Any) -> Stack:
    stack: Stack = stack_factory()
    return stack


async def test_dedup_state_survives_sigkill(crash_stack: Stack) -> None:
    stack = crash_stack
    async with console(stack, "cn-beijing") as bj:
        r = await asyncio.to_thread(stack.post, "vn-hanoi", scam("HN-CRASH-1", "0971 000 701"))
        alert_id = r.json()["alert_id"]
        first = await bj.event(alert_id, "new")

    stack.kill_worker()
    stack.start_worker()
    await asyncio.to_thread(stack.wait_worker)

    # A retry that reaches the stream directly (as after a gateway crash between write and
    # answer) must be recognised from the recovered table, not delivered again.
    state = stack.get_alert(alert_id, "demo-partner-vn-hanoi").json()
    record = AlertRecord.model_validate_json(
        orjson.dumps({**state["alert"], "case_id": None, "enrichment": None})
    )
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            f"{stack.prefix}.inbound", dumps(record), key=alert_id.encode()
        )
    finally:
        await producer.stop()

    async with console(stack, "cn-beijing", resume_after=first["cursor"]) as bj:
        other = await asyncio.to_thread(
            stack.post, "ru-moscow", scam("MSK-CRASH-1", "+84 971 000 701")
        )
        ev = await bj.event(other.json()["alert_id"], "corroborated")
        assert ev["case_id"] == first["case_id"]  # the case index came back too
        assert not [m for m in bj.events if m["alert_id"] == alert_id]


async def test_sigkill_mid_stream_loses_nothing_and_shows_nothing_twice(crash_stack: Stack) -> None:
    stack = crash_stack
    n = 60
    async with console(stack, "ru-moscow") as msk:
        start_cursor = msk.welcome["cursor"]
        ids = []
        for i in range(n):
            r = await asyncio.to_thread(
                stack.post, "vn-hanoi", scam(f"HN-MID-{i}", f"0971 001 {i:03d}")
            )
            assert r.status_code == 202
            ids.append(r.json()["alert_id"])
            if i == n // 2:
                stack.kill_worker()
                stack.start_worker()
        await asyncio.to_thread(stack.wait_worker)
        for alert_id in ids:
            try:
                await msk.event(alert_id, "new", timeout=30)
            except TimeoutError:
                seen = {m["alert_id"] for m in msk.events}
                missing = [i for i in ids if i not in seen]
                states = [stack.get_alert(i, "demo-partner-vn-hanoi").status_code for i in missing]
                log = stack.workdir / "worker.log"
                raise AssertionError(f"missing {len(missing)}: {states}; see {log}") from None
        await asyncio.sleep(2.0)
    new = [m for m in msk.events if m["event"] == "new" and m["alert_id"] in ids]
    twice = [
        (m["alert_id"], m["event_id"], m["cursor"])
        for m in new
        if [x["alert_id"] for x in new].count(m["alert_id"]) > 1
    ]
    assert sorted(m["alert_id"] for m in new) == sorted(ids), twice  # each exactly once
    # A console that reconnects from before the crash replays them once each as well.
    async with console(stack, "ru-moscow", resume_after=start_cursor) as again:
        await asyncio.sleep(1.0)
        replayed = [
            m["alert_id"] for m in again.events if m["event"] == "new" and m["alert_id"] in ids
        ]
        assert sorted(replayed) == sorted(ids)
