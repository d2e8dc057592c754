"""A shared list on the real broker: each recipient console gets one digest per import, its
counts equal to what was imported, and the list's hits as alert events of their own; nothing
else of the list one by one, and nothing counted twice when the list is sent again."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from hotline.audit import AuditEntry

from .stack import Console, Stack, audit_log, console
from .test_need_to_know import post, scam

pytestmark = pytest.mark.integration

# "Never arrives", not a speed budget: a digest is done DIGEST_IDLE (10 s) after the list's
# last number; the worker's timer looks once a second.
DONE_S = 60.0


def bulk(ref: str, number: str) -> dict[str, Any]:
    return scam(ref, number, severity="minor", urgency="future", tlp="green")


def numbers(n: int) -> list[str]:
    base = uuid.uuid4().int % 10_000_000
    return [f"+8491{(base + i) % 10_000_000:07d}" for i in range(n)]


async def share(
    stack: Stack, sender: str, items: list[dict[str, Any]], import_id: str
) -> list[str]:
    r = await asyncio.to_thread(
        httpx.post,
        f"{stack.url}/v1/alerts/batch",
        params={"import_id": import_id},
        json=items,
        headers={"Authorization": f"Bearer demo-partner-{sender}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert r.json()["import_id"] == import_id
    assert all(i["status"] == 202 for i in r.json()["items"]), r.text
    return [i["alert_id"] for i in r.json()["items"]]


async def done(c: Console, import_id: str, numbers: int) -> dict[str, Any]:
    await c.wait_for(lambda _: c.digest(import_id)["done"], timeout=DONE_S)
    await c.wait_for(lambda _: c.digest(import_id)["numbers"] >= numbers, timeout=DONE_S)
    return c.digest(import_id)


async def test_a_list_is_one_digest_per_recipient_and_its_hits_come_one_by_one(
    stack: Stack,
) -> None:
    listed = numbers(400)
    run = uuid.uuid4().hex[:8]
    import_id = f"HN-LIST-{run}"
    async with console(stack, "cn-beijing") as bj, console(stack, "ru-moscow") as msk:
        # Beijing reported one of the numbers; Hanoi already shared another with everyone.
        reported = await post(stack, "cn-beijing", scam(f"BJ-D-{run}", listed[3]))
        known = await post(stack, "vn-hanoi", scam(f"HN-D-{run}", listed[7]))
        await bj.event(known, "new", timeout=10)
        await msk.event(reported, "new", timeout=10)
        await msk.event(known, "new", timeout=10)

        items = [bulk(f"HN-D-{run}-{i}", n) for i, n in enumerate(listed)]
        # The list in two batches under one name, as `hotline import` sends a big file.
        ids = await share(stack, "vn-hanoi", items[:250], import_id)
        ids += await share(stack, "vn-hanoi", items[250:], import_id)

        at_bj = await done(bj, import_id, len(listed))
        at_msk = await done(msk, import_id, len(listed))
        # Beijing: its own report is the hit; the number Hanoi shared before is known to it.
        assert at_bj == {"numbers": 400, "new": 398, "known": 1, "hits": 1, "done": True}
        hit = await bj.event(ids[3], "corroborated", timeout=10)
        # Moscow: Beijing's number, now shared by a second agency, is a hit for it too.
        assert at_msk == {"numbers": 400, "new": 398, "known": 1, "hits": 1, "done": True}
        case = (await msk.event(reported, "new", timeout=1))["case_id"]
        assert (await msk.event(ids[3], "corroborated", timeout=10))["case_id"] == case
        assert hit["case_id"] == case
        digest = next(m for m in bj.messages if m.get("type") == "digest")
        assert digest["sender"] == "vn-hanoi" and digest["import_id"] == import_id

        # The same list again (a retry after a lost answer): answered, not counted again.
        again = await share(stack, "vn-hanoi", items, import_id)
        assert again == ids
        await asyncio.sleep(3.0)
    for c in (bj, msk):
        one_by_one = [m["alert_id"] for m in c.events if m["alert_id"] in ids]
        assert one_by_one == [ids[3]], (c.agency, one_by_one)
        assert c.digest(import_id)["numbers"] == 400
        # A handful of digests however long the list, not one per number: per bulk partition
        # (8 here) its first, at most one every 5 s while it grows, and the done one.
        sent = [m for m in c.messages if m.get("type") == "digest"]
        assert len(sent) <= 8 * 3, len(sent)

    # On the record: the list as its two batches on Hanoi's; of its items, only the hit,
    # shown on each recipient's console (the retry wrote nothing, so it is no exchange).
    def batches(es: list[AuditEntry]) -> list[str]:
        return sorted(
            e.detail["alerts"]
            for e in es
            if e.agency == "vn-hanoi" and e.detail.get("import_id") == import_id
        )

    def items_on_record(es: list[AuditEntry]) -> set[tuple[str, str | None, str]]:
        return {(e.agency, e.alert_id, e.action) for e in es if e.alert_id in ids}

    def routed(es: list[AuditEntry]) -> dict[str, int]:
        """Per agency, the list as routed to it: the latest count of each bulk partition."""
        latest: dict[tuple[str, str], int] = {}
        for e in es:
            if e.action == "routed" and e.detail.get("import_id") == import_id:
                part = (e.agency, e.detail["partition"])
                latest[part] = max(latest.get(part, 0), int(e.detail["alerts"]))
        out: dict[str, int] = {}
        for (agency, _), n in latest.items():
            out[agency] = out.get(agency, 0) + n
        return out

    hit_shown = {(a, ids[3], "delivered") for a in ("cn-beijing", "ru-moscow")}
    whole = {"cn-beijing": 400, "ru-moscow": 400}
    entries = await audit_log(
        stack,
        lambda es: (
            len(batches(es)) >= 2 and items_on_record(es) >= hit_shown and routed(es) == whole
        ),
    )
    assert batches(entries) == ["150", "250"]
    assert items_on_record(entries) == hit_shown
    assert routed(entries) == whole  # each recipient's record has the list, not its sender's


async def test_a_console_signing_in_later_is_shown_the_lists_digests(stack: Stack) -> None:
    """The digest is a console event like any other: replayed to an officer who signs in
    after the list came, and resumed after a cursor like the alerts."""
    listed = numbers(12)
    run = uuid.uuid4().hex[:8]
    import_id = f"HN-LATE-{run}"
    async with console(stack, "ru-moscow") as msk:
        await share(
            stack, "vn-hanoi", [bulk(f"HN-L-{run}-{i}", n) for i, n in enumerate(listed)], import_id
        )
        await done(msk, import_id, len(listed))
    async with console(stack, "ru-moscow") as later:
        await later.wait_for(lambda m: m.get("type") == "replay_done", timeout=10)
        assert later.digest(import_id) == msk.digest(import_id)
        assert later.digest(import_id)["numbers"] == len(listed)
