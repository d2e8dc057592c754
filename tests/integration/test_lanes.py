"""Each lane in a worker process of its own, on the real broker: the urgent lane delivers with
the bulk lane stopped, matches across lanes, and the bulk lane survives a SIGKILL mid-import."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from hotline.broker import free_port
from hotline.supervisor import worker_active

from .stack import Console, Stack, console

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HANOI = {"Authorization": "Bearer demo-partner-vn-hanoi"}


def scam(ref: str, number: str, urgency: str = "future") -> dict[str, Any]:
    return {
        "source_ref": ref,
        "kind": "scam_number",
        "severity": "minor",
        "urgency": urgency,
        "tlp": "green",
        "title": "Reported scam number",
        "language": "vi",
        "subject": {"number": number, "scam_type": "investment"},
    }


@pytest.fixture(scope="module")
def lanes(stack_factory: Any) -> Stack:
    stack: Stack = stack_factory(lanes=True)
    return stack


async def batch(stack: Stack, items: list[dict[str, Any]], headers: dict[str, str]) -> list[str]:
    r = await asyncio.to_thread(
        httpx.post, f"{stack.url}/v1/alerts/batch", json=items, headers=headers, timeout=60
    )
    assert r.status_code == 200, r.text
    assert all(i["status"] == 202 for i in r.json()["items"]), r.text
    return [i["alert_id"] for i in r.json()["items"]]


async def post(stack: Stack, sender: str, body: dict[str, Any]) -> str:
    r = await asyncio.to_thread(stack.post, sender, body)
    assert r.status_code == 202, r.text
    return str(r.json()["alert_id"])


def once_each(c: Console, ids: list[str], event: str) -> list[str]:
    shown = [m["alert_id"] for m in c.events if m["event"] == event and m["alert_id"] in ids]
    return sorted(shown)


async def test_urgent_alerts_are_delivered_with_the_bulk_lane_stopped(lanes: Stack) -> None:
    stack = lanes
    stack.kill_bulk()
    async with console(stack, "cn-beijing") as bj:
        # An import accepted while no bulk worker runs waits in Kafka ...
        ids = await batch(
            stack, [scam(f"HN-LANE-{i}", f"0971 003 {i:03d}") for i in range(50)], HANOI
        )
        # ... and an urgent alert goes through as if there were none. 10x the 1 s promise:
        # this catches "never arrives"; bench/ measures how fast.
        urgent = await post(
            stack, "ru-moscow", scam("MSK-LANE-U1", "+7 912 000 0001", urgency="immediate")
        )
        await bj.event(urgent, "new", timeout=10)
        assert not [m for m in bj.events if m["alert_id"] in ids]

        stack.start_bulk()
        await asyncio.to_thread(stack.wait_bulk)
        for alert_id in ids:
            await bj.event(alert_id, "new", timeout=60)

        # A number from the import, reported urgently by another agency: the urgent lane
        # holds the case index, so it corroborates the bulk lane's case at once.
        first = next(m for m in bj.events if m["alert_id"] == ids[0])
        again = await post(
            stack, "ru-moscow", scam("MSK-LANE-U2", "+84 971 003 000", urgency="immediate")
        )
        ev = await bj.event(again, "corroborated", timeout=10)
        assert ev["case_id"] == first["case_id"]
        await asyncio.sleep(1.0)
    assert once_each(bj, ids, "new") == sorted(ids)


async def test_a_bulk_alert_is_acknowledged_and_cancelled_through_its_own_lane(
    lanes: Stack,
) -> None:
    stack = lanes
    async with console(stack, "vn-hanoi") as hn, console(stack, "cn-beijing") as bj:
        [alert_id] = await batch(stack, [scam("HN-LANE-ACK", "0971 004 001")], HANOI)
        ev = await bj.event(alert_id, "new", timeout=30)
        await bj.send({"type": "ack", "alert_id": alert_id, "case_id": ev["case_id"]})
        theirs = await hn.event(alert_id, "acknowledged", timeout=30)
        assert theirs["by"] == "cn-beijing"

        # Posted one at a time (the urgent endpoint), the cancel is about a bulk alert: the
        # bulk lane, which holds that alert, handles it.
        cancel = {
            **scam("HN-LANE-ACK-C", "0971 004 001"),
            "msg_type": "cancel",
            "references": "HN-LANE-ACK",
        }
        cancel_id = await post(stack, "vn-hanoi", cancel)
        ev2 = await bj.event(cancel_id, "cancelled", timeout=30)
        assert ev2["case_id"] == ev["case_id"]
    # The events go out before the state the gateway answers GET from (the worker writes a
    # record's outputs first, then its tables): a GET just after an event may be a few tens
    # of milliseconds early.
    state = await _state_once(stack, alert_id, lambda s: s["status"] == "cancelled")
    assert state["status"] == "cancelled"
    assert state["receipts"][0]["acknowledged_at"]


async def test_follow_ups_of_follow_ups_meet_their_alert_on_its_partition(lanes: Stack) -> None:
    """The bulk lane's partitions are keyed by an alert's group: an update, and a cancel of
    that update, land where the alert's state is, whichever partition their own ids hash to."""
    stack = lanes
    n = 8
    numbers = [f"0971 007 {i:03d}" for i in range(n)]
    alerts = [scam(f"HN-CHAIN-{i}", numbers[i]) for i in range(n)]
    async with console(stack, "cn-beijing") as bj:
        ids = await batch(stack, alerts, HANOI)
        for alert_id in ids:
            await bj.event(alert_id, "new", timeout=60)
        updates = [
            {
                **alerts[i],
                "source_ref": f"HN-CHAIN-{i}-U",
                "msg_type": "update",
                "references": f"HN-CHAIN-{i}",
                "title": "Reported scam number, still active",
            }
            for i in range(n)
        ]
        update_ids = await batch(stack, updates, HANOI)
        for alert_id in update_ids:
            await bj.event(alert_id, "updated", timeout=60)
        cancels = [
            {
                **alerts[i],
                "source_ref": f"HN-CHAIN-{i}-C",
                "msg_type": "cancel",
                "references": f"HN-CHAIN-{i}-U",
            }
            for i in range(n)
        ]
        cancel_ids = await batch(stack, cancels, HANOI)
        for alert_id in cancel_ids:
            await bj.event(alert_id, "cancelled", timeout=60)
    for alert_id in cancel_ids:
        assert stack.get_alert(alert_id, "demo-partner-vn-hanoi").json()["status"] != "rejected"


async def test_a_bulk_worker_killed_mid_import_loses_nothing_and_shows_nothing_twice(
    lanes: Stack,
) -> None:
    stack = lanes
    items = [scam(f"HN-LANE-K{i}", f"0971 005 {i:03d}") for i in range(400)]
    async with console(stack, "ru-moscow") as msk:
        ids = await batch(stack, items[:200], HANOI)
        await msk.event(ids[20], "new", timeout=60)
        stack.kill_bulk()  # mid-way through the first half, most likely
        ids += await batch(stack, items[200:], HANOI)
        stack.start_bulk()
        await asyncio.to_thread(stack.wait_bulk)
        for alert_id in ids:
            await msk.event(alert_id, "new", timeout=90)
        await asyncio.sleep(2.0)
    assert once_each(msk, ids, "new") == sorted(ids)


async def test_two_agencies_report_the_same_numbers_while_bulk_workers_die_and_join(
    lanes: Stack,
) -> None:
    """Two bulk workers share the lane's partitions; two agencies post the same numbers
    interleaved; one worker is SIGKILLed half-way and a third joins (a rebalance). Every alert
    reaches the recipient once; each number is one case."""
    stack = lanes
    n = 1000
    numbers = [f"0971 006 {i:03d}" for i in range(n)]
    second_port = free_port()
    second = stack.spawn_bulk(second_port, "bulk-second")
    workers = {stack.bulk_port: stack.bulk, second_port: second}
    await asyncio.to_thread(_all_active, workers)  # both own partitions: they share the lane
    moscow = {"Authorization": "Bearer demo-partner-ru-moscow"}
    sent: dict[str, int] = {}  # alert_id -> number index
    async with console(stack, "cn-beijing") as bj:
        for start in range(0, n, 100):
            for headers, prefix, intl in ((HANOI, "HN-PAIR", False), (moscow, "MSK-PAIR", True)):
                items = [
                    scam(f"{prefix}-{i}", f"+84 {numbers[i][1:]}" if intl else numbers[i])
                    for i in range(start, start + 100)
                ]
                ids = await batch(stack, items, headers)
                sent.update({a: start + k for k, a in enumerate(ids)})
            if start == n // 2:
                # SIGKILL one mid-import; its partitions move to the other, a third joins.
                assert stack.bulk is not None
                stack.bulk.kill()
                joining_port = free_port()
                joining = stack.spawn_bulk(joining_port, "bulk-joining")
        for alert_id in sent:
            await bj.wait_for(
                lambda m, a=alert_id: (
                    m.get("alert_id") == a and m.get("event") in ("new", "corroborated")
                ),
                timeout=120,
            )
        await asyncio.sleep(2.0)
        assert joining.poll() is None and second.poll() is None
        # The rebalance gave the newcomer a share: the survivors split the lane again.
        await asyncio.to_thread(_all_active, {second_port: second, joining_port: joining})
    shown = [m for m in bj.events if m["alert_id"] in sent]
    assert sorted(m["alert_id"] for m in shown) == sorted(sent)  # each once, none lost
    by_number: dict[int, list[dict[str, Any]]] = {}
    for m in shown:
        by_number.setdefault(sent[m["alert_id"]], []).append(m)
    for i, pair in by_number.items():
        assert len({m["case_id"] for m in pair}) == 1, (i, pair)  # one case per number
        assert sorted(m["event"] for m in pair) == ["corroborated", "new"], (i, pair)


async def _state_once(
    stack: Stack, alert_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> dict[str, Any]:
    """The alert's state as its sender reads it, once `done` holds (or as it is at timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        state: dict[str, Any] = stack.get_alert(alert_id, "demo-partner-vn-hanoi").json()
        if done(state) or time.monotonic() > deadline:
            return state
        await asyncio.sleep(0.1)


def _all_active(workers: dict[int, Any], timeout: float = 90.0) -> None:
    """Until every one of `workers` owns partitions of the lane (a rebalance settles)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert all(p.poll() is None for p in workers.values()), "a worker exited"
        if all(worker_active(port) for port in workers):
            return
        time.sleep(0.3)
    raise AssertionError(f"not every bulk worker owns partitions after {timeout}s")
