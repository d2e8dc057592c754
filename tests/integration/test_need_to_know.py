"""Need to know and no silent loss, on real Kafka with real worker and gateway processes."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.streams.test_guard import fraud

from .stack import Stack, console

pytestmark = pytest.mark.integration

FOLLOW_UP_WAIT_S = 3


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Stack:
    s: Stack = stack_factory(HOTLINE_FOLLOW_UP_WAIT_SECONDS=str(FOLLOW_UP_WAIT_S))
    return s


def ref(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}"


def scam(source_ref: str, number: str, **over: Any) -> dict[str, Any]:
    return {
        "source_ref": source_ref,
        "kind": "scam_number",
        "severity": "moderate",
        "urgency": "immediate",
        "title": "Scam number",
        "subject": {"number": number},
        **over,
    }


def number() -> str:
    return f"+8491{uuid.uuid4().int % 10_000_000:07d}"


async def post(stack: Stack, sender: str, body: dict[str, Any]) -> str:
    r = await asyncio.to_thread(stack.post, sender, body)
    assert r.status_code == 202, r.text
    return str(r.json()["alert_id"])


async def get(stack: Stack, alert_id: str, agency: str) -> httpx.Response:
    return await asyncio.to_thread(stack.get_alert, alert_id, f"demo-partner-{agency}")


# --- 1. GET showed the sender's view of the case to every recipient ----------------------------


async def test_get_shows_no_part_of_a_red_report_to_an_agency_not_named(stack: Stack) -> None:
    n = number()
    async with console(stack, "vn-hanoi") as hn, console(stack, "cn-beijing") as bj:
        red = await post(
            stack, "ru-moscow", scam(ref("M-RED"), n, tlp="red", recipients=["cn-beijing"])
        )
        await bj.event(red, "new")
        shared = await post(stack, "cn-beijing", scam(ref("B-ALL"), n, tlp="amber"))
        ev = await hn.event(shared, "new")  # news for Hanoi, not a corroboration
    for doc in (ev, (await get(stack, shared, "vn-hanoi")).json()):
        assert doc["case"]["reporters"] == ["cn-beijing"]
        assert doc["case"]["alert_ids"] == [shared]
        assert red not in str(doc) and "ru-moscow" not in str(doc)
    assert (await get(stack, red, "vn-hanoi")).status_code == 404
    beijing = (await get(stack, shared, "cn-beijing")).json()
    assert beijing["case"]["reporters"] == ["ru-moscow", "cn-beijing"]


# --- 2. follow-ups of a RED alert were broadcast --------------------------------------------------


async def test_follow_ups_of_a_red_alert_reach_only_its_recipients(stack: Stack) -> None:
    original = ref("H-RED")
    async with console(stack, "cn-beijing") as bj, console(stack, "ru-moscow") as msk:
        red = await post(
            stack, "vn-hanoi", scam(original, number(), tlp="red", recipients=["cn-beijing"])
        )
        await bj.event(red, "new")
        body = scam(ref("H-RED-U"), number(), msg_type="update", references=original)
        update = await post(stack, "vn-hanoi", body)  # no tlp, no recipients: inherited
        ev = await bj.event(update, "updated")
        assert ev["alert"]["body"]["tlp"] == "red"
        await asyncio.sleep(1.0)
        assert not [m for m in msk.events if m["alert_id"] in (red, update)]
    wider = scam(ref("H-RED-W"), number(), msg_type="update", references=original, tlp="amber")
    r = await asyncio.to_thread(stack.post, "vn-hanoi", wider)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "tlp"


# --- 4. receipts of other recipients --------------------------------------------------------------


async def test_a_recipient_sees_only_its_own_receipt(stack: Stack) -> None:
    async with console(stack, "cn-beijing") as bj, console(stack, "vn-hanoi") as hn:
        alert_id = await post(stack, "vn-hanoi", scam(ref("H-ACK"), number()))
        await bj.event(alert_id, "new")
        await bj.send({"type": "ack", "alert_id": alert_id})
        mine = await bj.event(alert_id, "acknowledged")
        theirs = await hn.event(alert_id, "acknowledged")
    assert [r["agency"] for r in mine["receipts"]] == ["cn-beijing"]
    assert sorted(r["agency"] for r in theirs["receipts"]) == ["cn-beijing", "ru-moscow"]
    moscow = (await get(stack, alert_id, "ru-moscow")).json()
    assert [r["agency"] for r in moscow["receipts"]] == ["ru-moscow"]


# --- 5. silent loss of an alert too large to deliver ---------------------------------------------


async def test_an_alert_too_large_to_deliver_is_refused_with_413(stack: Stack) -> None:
    body = fraud(ref("H-BIG"), 2_000, width=250)
    r = await asyncio.to_thread(stack.post, "vn-hanoi", body)
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "payload_too_large"
    small = fraud(ref("H-SMALL"), 3)
    items = await asyncio.to_thread(
        httpx.post,
        f"{stack.url}/v1/alerts/batch",
        json=[body, small],
        headers={"Authorization": "Bearer demo-partner-vn-hanoi"},
        timeout=30,
    )
    assert [i["status"] for i in items.json()["items"]] == [413, 202]


# --- 6. follow-up ordering ------------------------------------------------------------------------


async def test_an_immediate_cancel_in_the_batch_of_its_bulk_alert_is_not_lost(
    stack: Stack,
) -> None:
    original = ref("H-BULK")
    alert = scam(original, number(), urgency="expected", recipients=["cn-beijing"])
    cancel = scam(ref("H-BULK-C"), number(), msg_type="cancel", references=original)
    async with console(stack, "cn-beijing") as bj:
        r = await asyncio.to_thread(
            httpx.post,
            f"{stack.url}/v1/alerts/batch",
            json=[alert, cancel],
            headers={"Authorization": "Bearer demo-partner-vn-hanoi"},
            timeout=30,
        )
        assert [i["status"] for i in r.json()["items"]] == [202, 202]
        alert_id, cancel_id = (i["alert_id"] for i in r.json()["items"])
        # The alert is counted in the list's digest; the urgent cancel comes as its own event.
        await bj.counted(r.json()["import_id"], 1, timeout=20)
        await bj.event(cancel_id, "cancelled", timeout=20)
    names = [m["event"] for m in bj.events if m["alert_id"] in (alert_id, cancel_id)]
    assert names == ["cancelled"]
    state = (await get(stack, alert_id, "vn-hanoi")).json()
    assert state["status"] == "cancelled"


async def test_an_accepted_alert_reads_back_at_once(stack: Stack) -> None:
    alert_id = await post(stack, "vn-hanoi", scam(ref("H-GET"), number()))
    r = await get(stack, alert_id, "vn-hanoi")
    assert r.status_code == 200, r.text
    assert r.json()["status"] in ("accepted", "delivered")
    assert (await get(stack, alert_id, "cn-beijing")).status_code in (200, 404)


async def test_an_update_of_an_alert_never_sent_is_rejected_later_not_refused(
    stack: Stack,
) -> None:
    body = scam(ref("H-U"), number(), msg_type="update", references="H-NEVER-SENT")
    async with console(stack, "vn-hanoi") as hn:
        update = await post(stack, "vn-hanoi", body)  # it may be on its way: no 422 for a lag
        assert (await get(stack, update, "vn-hanoi")).json()["status"] == "accepted"
        ev = await hn.event(update, "rejected", timeout=FOLLOW_UP_WAIT_S * 10)
    assert "H-NEVER-SENT" in ev["reason"]
    assert (await get(stack, update, "vn-hanoi")).json()["status"] == "rejected"
    retry = await asyncio.to_thread(stack.post, "vn-hanoi", body)
    assert retry.status_code == 422 and "rejected" in retry.json()["detail"]
