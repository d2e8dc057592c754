"""Each lane in a worker process of its own, on the real broker: the urgent lane delivers with
the bulk lane stopped, matches across lanes, and the bulk lane survives a SIGKILL mid-import."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from cli.broker import free_port
from cli.supervisor import worker_active

from .stack import Stack, console, share

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


async def batch(
    stack: Stack, items: list[dict[str, Any]], headers: dict[str, str], import_id: str
) -> list[str]:
    key = headers["Authorization"].removeprefix("Bearer ")
    answer = await share(stack, "", items, import_id, key=key)
    return [i["alert_id"] for i in answer["items"]]


def listed(name: str) -> str:
    """A list name of its own for this run (the stack outlives a test)."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def post(stack: Stack, sender: str, body: dict[str, Any]) -> str:
    r = await asyncio.to_thread(stack.post, sender, body)
    assert r.status_code == 202, r.text
    return str(r.json()["alert_id"])


async def test_urgent_alerts_are_delivered_with_the_bulk_lane_stopped(lanes: Stack) -> None:
    stack = lanes
    stack.kill_bulk()
    name = listed("HN-LANE")
    async with console(stack, "cn-beijing") as bj:
        # An import accepted while no bulk worker runs waits in Kafka ...
        ids = await batch(
            stack, [scam(f"HN-LANE-{i}", f"0971 003 {i:03d}") for i in range(50)], HANOI, name
        )
        # ... and an urgent alert goes through as if there were none. 10x the 1 s promise:
        # this catches "never arrives"; bench/ measures how fast.
        urgent = await post(
            stack, "ru-moscow", scam("MSK-LANE-U1", "+7 912 000 0001", urgency="immediate")
        )
        await bj.event(urgent, "new", timeout=10)
        assert bj.digest(name)["numbers"] == 0

        stack.start_bulk()
        await asyncio.to_thread(stack.wait_bulk)
        await bj.counted(name, 50, done=True)

        # A number from the import, reported urgently by another agency: the urgent lane
        # holds the case index, so it corroborates the bulk lane's case at once.
        first = await stack.state_when(ids[0], lambda s: s["status"] == "delivered")
        again = await post(
            stack, "ru-moscow", scam("MSK-LANE-U2", "+84 971 003 000", urgency="immediate")
        )
        ev = await bj.event(again, "corroborated", timeout=10)
        assert ev["case_id"] == first["alert"]["case_id"]
        await asyncio.sleep(1.0)
    # The list once, counted: none of its alerts one by one, none counted twice.
    assert bj.digest(name) == {"numbers": 50, "new": 50, "known": 0, "hits": 0, "done": True}
    assert not [m for m in bj.events if m["alert_id"] in ids]


async def test_a_bulk_alert_is_acknowledged_and_cancelled_through_its_own_lane(
    lanes: Stack,
) -> None:
    stack = lanes
    async with console(stack, "vn-hanoi") as hn, console(stack, "cn-beijing") as bj:
        # Moscow listed the number first: in Hanoi's list it is a hit for Beijing, an alert
        # event of its own, which an officer acknowledges.
        first = await share(stack, "ru-moscow", [scam("MSK-LANE-ACK", "+84 971 004 001")])
        await bj.counted(first["import_id"], 1)
        [alert_id] = await batch(
            stack, [scam("HN-LANE-ACK", "0971 004 001")], HANOI, listed("HN-ACK")
        )
        ev = await bj.event(alert_id, "corroborated", timeout=30)
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
    state = await stack.state_when(alert_id, lambda s: s["status"] == "cancelled")
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
        name = listed("HN-CHAIN")
        await batch(stack, alerts, HANOI, name)
        await bj.counted(name, n)
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
        # Follow-ups of a list's alerts come one by one.
        update_ids = await batch(stack, updates, HANOI, listed("HN-CHAIN-U"))
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
        cancel_ids = await batch(stack, cancels, HANOI, listed("HN-CHAIN-C"))
        for alert_id in cancel_ids:
            await bj.event(alert_id, "cancelled", timeout=60)
    for alert_id in cancel_ids:
        assert stack.get_alert(alert_id, "demo-partner-vn-hanoi").json()["status"] != "rejected"


async def test_a_bulk_worker_killed_mid_import_loses_nothing_and_shows_nothing_twice(
    lanes: Stack,
) -> None:
    stack = lanes
    items = [scam(f"HN-LANE-K{i}", f"0971 005 {i:03d}") for i in range(400)]
    name = listed("HN-KILL")
    async with console(stack, "ru-moscow") as msk:
        ids = await batch(stack, items[:200], HANOI, name)
        await msk.counted(name, 1, timeout=60)  # under way
        stack.kill_bulk()  # mid-way through the first half, most likely
        ids += await batch(stack, items[200:], HANOI, name)
        stack.start_bulk()
        await asyncio.to_thread(stack.wait_bulk)
        await msk.counted(name, 400, done=True, timeout=90)
        await asyncio.sleep(2.0)
    # Each alert counted once: none lost, none counted again when redelivered.
    assert msk.digest(name) == {"numbers": 400, "new": 400, "known": 0, "hits": 0, "done": True}
    for alert_id in ids[::40]:
        state = stack.get_alert(alert_id, "demo-partner-vn-hanoi").json()
        assert state["status"] == "delivered", state


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
    names = {"HN-PAIR": listed("HN-PAIR"), "MSK-PAIR": listed("MSK-PAIR")}
    async with console(stack, "cn-beijing") as bj:
        for start in range(0, n, 100):
            for headers, prefix, intl in ((HANOI, "HN-PAIR", False), (moscow, "MSK-PAIR", True)):
                items = [
                    scam(f"{prefix}-{i}", f"+84 {numbers[i][1:]}" if intl else numbers[i])
                    for i in range(start, start + 100)
                ]
                ids = await batch(stack, items, headers, names[prefix])
                sent.update({a: start + k for k, a in enumerate(ids)})
            if start == n // 2:
                # SIGKILL one mid-import; its partitions move to the other, a third joins.
                assert stack.bulk is not None
                stack.bulk.kill()
                joining_port = free_port()
                joining = stack.spawn_bulk(joining_port, "bulk-joining")
        # Of each number's two reports, the first to be matched is counted as new, the other
        # is a hit (a second agency shares it): counted, and an event of its own.
        for name in names.values():
            await bj.counted(name, n, done=True, timeout=120)
        await asyncio.sleep(2.0)
        assert joining.poll() is None and second.poll() is None
        # The rebalance gave the newcomer a share: the survivors split the lane again.
        await asyncio.to_thread(_all_active, {second_port: second, joining_port: joining})
    counts = [bj.digest(name) for name in names.values()]
    assert sum(c["numbers"] for c in counts) == 2 * n  # none lost, none counted twice
    assert sum(c["new"] for c in counts) == sum(c["hits"] for c in counts) == n, counts
    shown = [m for m in bj.events if m["alert_id"] in sent]
    assert sorted(sent[m["alert_id"]] for m in shown) == list(range(n))  # one hit per number
    assert {m["event"] for m in shown} == {"corroborated"}
    # One case per number: both reports of it (a sample) are the case its hit showed.
    keys = ("demo-partner-vn-hanoi", "demo-partner-ru-moscow")  # Hanoi's sent first
    for m in shown[::20]:
        pair = [a for a, k in sent.items() if k == sent[m["alert_id"]]]
        states = [stack.get_alert(a, key).json() for a, key in zip(pair, keys, strict=True)]
        assert {s["alert"]["case_id"] for s in states} == {m["case_id"]}, states


def _all_active(workers: dict[int, Any], timeout: float = 90.0) -> None:
    """Until every one of `workers` owns partitions of the lane (a rebalance settles)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert all(p.poll() is None for p in workers.values()), "a worker exited"
        if all(worker_active(port) for port in workers):
            return
        time.sleep(0.3)
    raise AssertionError(f"not every bulk worker owns partitions after {timeout}s")
