"""Several urgent-lane workers share the case index, on the real broker: each matches on the
index partitions it holds and asks the others for the rest; matching stays exact across a
SIGKILL and a worker joining, and links form across workers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from cli.broker import free_port
from cli.supervisor import worker_readiness
from hotline.alert_in import parse_alert
from hotline.enrich import enrich
from streams.case_tables import Homes

from .stack import Stack, console
from .test_lanes import post, scam

pytestmark = [pytest.mark.integration, pytest.mark.slow]

P = 8  # the default HOTLINE_PARTITIONS


@pytest.fixture(scope="module")
def two(stack_factory: Any) -> tuple[Stack, dict[int, Any]]:
    """The stack's urgent worker and a second one, both holding part of the index."""
    stack: Stack = stack_factory(lanes=True)
    port = free_port()
    second = stack.spawn_urgent(port, "urgent-second")
    workers = {stack.worker_port: stack.worker, port: second}
    _all_sharing(workers)
    return stack, workers


def test_two_urgent_workers_split_the_partitions(two: tuple[Stack, dict[int, Any]]) -> None:
    _, workers = two
    shares = [set(_urgent_partitions(port)) for port in workers]
    assert all(shares) and shares[0].isdisjoint(shares[1])
    assert shares[0] | shares[1] == set(range(P))


async def test_a_scam_number_and_a_fraud_pattern_held_by_different_workers_are_linked(
    two: tuple[Stack, dict[int, Any]],
) -> None:
    stack, workers = two
    first, _ = (set(_urgent_partitions(port)) for port in workers)
    homes = Homes(P)
    # A number and a pattern naming it whose index partitions different workers hold.
    for i in range(200):
        number = f"+84 971 007 {i:03d}"
        pattern = _fraud(f"HN-LINK-F{i}", number, f"app {i}")
        e164 = enrich(parse_alert(scam("x", number)), "VN").fingerprints[0]
        fp = enrich(parse_alert(pattern), "VN").fingerprints[0]
        if (homes.of_key(e164) in first) != (homes.of_key(fp) in first):
            break
    else:
        raise AssertionError("no number and pattern on different workers")

    async with console(stack, "cn-beijing") as bj:
        s = await post(stack, "vn-hanoi", scam(f"HN-LINK-S{i}", number))
        f = await post(stack, "vn-hanoi", pattern)
        number_case = (await bj.event(s, "new", timeout=20))["case_id"]
        pattern_case = (await bj.event(f, "new", timeout=20))["case_id"]
        # The link is a few messages between the workers; the next report carries it.
        await asyncio.sleep(5.0)
        m = await post(stack, "ru-moscow", scam(f"MSK-LINK-S{i}", number))
        ev = await bj.event(m, "corroborated", timeout=20)
        assert ev["case_id"] == number_case
        assert ev["case"]["related"] == [pattern_case]
        again = _fraud(f"MSK-LINK-F{i}", number, f"app {i}")
        g = await post(stack, "ru-moscow", again)
        ev = await bj.event(g, "corroborated", timeout=20)
        assert ev["case_id"] == pattern_case
        assert ev["case"]["related"] == [number_case]  # mutual


async def test_a_lookup_is_answered_by_the_worker_holding_the_numbers_partition(
    two: tuple[Stack, dict[int, Any]],
) -> None:
    """The gateway asks the stack's worker; a number the other worker holds is passed on."""
    stack, workers = two
    first, _ = (set(_urgent_partitions(port)) for port in workers)
    homes = Homes(P)
    numbers = {}
    for i in range(200):
        number = f"+84 971 009 {i:03d}"
        fp = enrich(parse_alert(scam("x", number)), "VN").fingerprints[0]
        numbers.setdefault(homes.of_key(fp) in first, number)
        if len(numbers) == 2:
            break
    async with console(stack, "cn-beijing") as bj:
        for held_here, number in numbers.items():
            alert_id = await post(stack, "vn-hanoi", scam(f"HN-LOOK-{held_here}", number))
            await bj.event(alert_id, "new", timeout=20)
            found = await asyncio.to_thread(_lookup, stack, number)
            assert [m["reporters"] for m in found] == [["vn-hanoi"]], (held_here, found)


async def test_two_agencies_report_the_same_numbers_while_urgent_workers_die_and_join(
    two: tuple[Stack, dict[int, Any]],
) -> None:
    """Two urgent workers share the index; two agencies report the same numbers one by one,
    interleaved; one worker is SIGKILLed half-way and a third joins (a rebalance). Every alert
    reaches the recipient once, and each number is one case."""
    stack, workers = two
    n = 40
    sent: dict[str, int] = {}

    joining_port = 0
    async with console(stack, "cn-beijing") as bj:
        for i in range(n):
            local, intl = f"0971 008 {i:03d}", f"+84 971 008 {i:03d}"
            sent[await post(stack, "vn-hanoi", scam(f"HN-UW-{i}", local))] = i
            sent[await post(stack, "ru-moscow", scam(f"MSK-UW-{i}", intl))] = i
            if i == n // 2:
                stack.kill_worker()  # SIGKILL; its partitions move on, a third joins
                joining_port = free_port()
                workers[joining_port] = stack.spawn_urgent(joining_port, "urgent-joining")
                del workers[stack.worker_port]
        for alert_id in sent:
            await bj.wait_for(
                lambda m, a=alert_id: (
                    m.get("alert_id") == a and m.get("event") in ("new", "corroborated")
                ),
                timeout=120,
            )
        await asyncio.sleep(2.0)
    await asyncio.to_thread(_all_sharing, workers)  # the newcomer got a share
    shown = [m for m in bj.events if m["alert_id"] in sent]
    assert sorted(m["alert_id"] for m in shown) == sorted(sent)  # each once, none lost
    by_number: dict[int, list[dict[str, Any]]] = {}
    for m in shown:
        by_number.setdefault(sent[m["alert_id"]], []).append(m)
    for i, pair in by_number.items():
        assert len({m["case_id"] for m in pair}) == 1, (i, pair)  # one case per number
        assert sorted(m["event"] for m in pair) == ["corroborated", "new"], (i, pair)


def _fraud(ref: str, number: str, app: str) -> dict[str, Any]:
    return {
        "source_ref": ref,
        "kind": "fraud_pattern",
        "severity": "moderate",
        "urgency": "expected",
        "tlp": "green",
        "title": "Fake investment app",
        "subject": {
            "scheme": "investment",
            "indicators": {"phone_numbers": [number], "app_names": [app]},
        },
    }


def _lookup(stack: Stack, number: str) -> list[dict[str, Any]]:
    r = httpx.get(
        f"{stack.url}/v1/lookup",
        params={"number": number},
        headers={"Authorization": "Bearer demo-officer-cn-beijing"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["matches"]
    return found


def _urgent_partitions(port: int) -> list[int]:
    owned: list[int] = (worker_readiness(port) or {}).get("partitions", {}).get("urgent", [])
    return owned


def _all_sharing(workers: dict[int, Any], timeout: float = 90.0) -> None:
    """Until every one of `workers` holds urgent partitions and together they hold all."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert all(p.poll() is None for p in workers.values()), "a worker exited"
        shares = [set(_urgent_partitions(port)) for port in workers]
        if all(shares) and set().union(*shares) == set(range(P)):
            return
        time.sleep(0.3)
    raise AssertionError(f"the urgent workers do not share the partitions after {timeout}s")
