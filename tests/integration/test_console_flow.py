"""Acknowledgement, escalation and replay through real Kafka, from the console's side."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli import audit
from hotline.audit import AuditEntry, broken

from .stack import Stack, audit_log, console, share, shared_before

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Stack:
    # Short escalation so the test can watch it happen.
    # A follow-up whose alert never comes is rejected after 3 s, not an hour.
    s: Stack = stack_factory(
        HOTLINE_ESCALATION_SECONDS="2",
        HOTLINE_CONSOLE_RING="200",
        HOTLINE_FOLLOW_UP_WAIT_SECONDS="3",
    )
    return s


def urgent(recipients: list[str], urgency: str = "immediate") -> dict[str, Any]:
    n = uuid.uuid4().int
    return {
        "source_ref": f"HN-U-{n % 10**12}",
        "kind": "wanted_person",
        "severity": "extreme",
        "urgency": urgency,
        "tlp": "amber",
        "recipients": recipients,
        "language": "vi",
        "title": "Khẩn: đối tượng nguy hiểm",
        # Distinct documents and birth dates: these must never match one another's cases.
        "subject": {
            "full_name": f"Phạm Văn Đức {n % 10**9}",
            "date_of_birth": f"{1940 + n % 60}-{1 + n % 12:02d}-{1 + n % 28:02d}",
            "documents": [{"type": "passport", "number": f"N{n % 10**7:07d}", "country": "VN"}],
        },
    }


async def post(stack: Stack, sender: str, body: dict[str, Any]) -> str:
    r = await asyncio.to_thread(stack.post, sender, body)
    assert r.status_code == 202, r.text
    return str(r.json()["alert_id"])


async def test_ack_travels_through_kafka_to_the_sender(stack: Stack) -> None:
    async with console(stack, "vn-hanoi") as hn, console(stack, "cn-beijing") as bj:
        alert_id = await post(stack, "vn-hanoi", urgent(["cn-beijing"], "expected"))
        ev = await bj.event(alert_id, "new")
        await bj.send({"type": "ack", "alert_id": alert_id, "case_id": ev["case_id"]})
        await bj.wait_for(lambda m: m.get("type") == "ack_accepted" and m["alert_id"] == alert_id)
        mine = await bj.event(alert_id, "acknowledged")
        assert mine["by"] == "cn-beijing"
        theirs = await hn.event(alert_id, "acknowledged")
        assert theirs["by"] == "cn-beijing"
        [receipt] = theirs["receipts"]
        assert receipt["agency"] == "cn-beijing" and receipt["acknowledged_at"]

    def acked(state: dict[str, Any]) -> bool:
        return any(r["acknowledged_at"] for r in state["receipts"])

    state = await stack.state_when(alert_id, acked)
    assert state["receipts"][0]["acknowledged_at"]


async def test_ack_of_an_alert_not_delivered_to_you_is_refused(stack: Stack) -> None:
    async with console(stack, "cn-beijing") as bj, console(stack, "ru-moscow") as msk:
        alert_id = await post(stack, "vn-hanoi", urgent(["cn-beijing"], "expected"))
        await bj.event(alert_id, "new")
        await msk.send({"type": "ack", "alert_id": alert_id})
        err = await msk.wait_for(lambda m: m.get("type") == "error")
        assert err["code"] == "unknown_alert"
        await msk.send({"type": "what"})
        await msk.wait_for(lambda m: m.get("type") == "error" and m["code"] == "bad_message")
        await msk.send({"type": "ping"})
        await msk.wait_for(lambda m: m.get("type") == "pong")  # the socket survived


async def report_outcome(
    stack: Stack, alert_id: str, token: str, kind: str, note: str | None = None
) -> httpx.Response:
    return await asyncio.to_thread(
        httpx.post,
        f"{stack.url}/v1/alerts/{alert_id}/outcomes",
        json={"kind": kind, "note": note},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


async def test_an_outcome_reaches_the_senders_console_and_never_a_third_agencys(
    stack: Stack,
) -> None:
    async with (
        console(stack, "vn-hanoi") as hn,
        console(stack, "cn-beijing") as bj,
        console(stack, "ru-moscow") as msk,
    ):
        alert_id = await post(stack, "vn-hanoi", urgent(["cn-beijing"], "expected"))
        await bj.event(alert_id, "new")
        note = "已在北京西站找到，正在核实身份。"
        r = await report_outcome(stack, alert_id, "demo-officer-cn-beijing", "located", note)
        assert r.status_code == 202, r.text
        theirs = await hn.event(alert_id, "outcome")
        assert theirs["by"] == "cn-beijing"
        assert (theirs["outcome"]["kind"], theirs["outcome"]["note"]) == ("located", note)
        mine = await bj.event(alert_id, "outcome")
        assert mine["outcome"]["outcome_id"] == r.json()["outcome_id"]
        # Neither the sender nor a third agency may report; the third learns nothing.
        refused = await report_outcome(stack, alert_id, "demo-partner-vn-hanoi", "other")
        assert refused.status_code == 403, refused.text
        stranger = await report_outcome(stack, alert_id, "demo-partner-ru-moscow", "located")
        assert stranger.status_code == 404, stranger.text
        # A later event to Moscow proves its console is caught up past the outcome.
        marker = await post(stack, "vn-hanoi", urgent(["ru-moscow"], "expected"))
        await msk.event(marker, "new")
        assert all(m.get("alert_id") != alert_id for m in msk.messages)

    state = await stack.state_when(alert_id, lambda s: bool(s["outcomes"]))
    assert [(o["agency"], o["kind"]) for o in state["outcomes"]] == [("cn-beijing", "located")]
    hidden = await asyncio.to_thread(stack.get_alert, alert_id, "demo-partner-ru-moscow")
    assert hidden.status_code == 404


async def test_unacknowledged_immediate_alert_escalates(stack: Stack) -> None:
    async with console(stack, "vn-hanoi") as hn, console(stack, "ru-moscow") as msk:
        alert_id = await post(stack, "vn-hanoi", urgent(["ru-moscow"]))
        await msk.event(alert_id, "new")
        await msk.event(alert_id, "escalated", timeout=15)
        to_sender = await hn.event(alert_id, "escalated", timeout=5)
        assert to_sender["by"] == "ru-moscow"
        await asyncio.sleep(2.5)
        assert (
            len([m for m in msk.events if m["alert_id"] == alert_id and m["event"] == "escalated"])
            == 1
        )


async def test_resume_replays_exactly_what_was_missed(stack: Stack) -> None:
    async with console(stack, "cn-beijing") as bj:
        before = await post(stack, "vn-hanoi", urgent(["cn-beijing"], "expected"))
        cursor = (await bj.event(before, "new"))["cursor"]
    missed = [await post(stack, "vn-hanoi", urgent(["cn-beijing"], "expected")) for _ in range(5)]
    await asyncio.sleep(1.0)
    async with console(stack, "cn-beijing", resume_after=cursor) as bj:
        after = await post(stack, "vn-hanoi", urgent(["cn-beijing"], "expected"))
        await bj.event(after, "new")
        new_ids = [m["alert_id"] for m in bj.events if m["event"] == "new"]
        # Each missed alert once, then the live one. Among themselves the missed ones come in
        # the order they were handled: alerts of different groups are on different partitions.
        assert sorted(new_ids[:-1]) == sorted(missed) and new_ids[-1] == after
        cursors = [m["cursor"] for m in bj.events]
        assert cursors == sorted(set(cursors)) and cursors[0] > cursor


async def test_resume_older_than_the_gateway_ring_reads_kafka(stack: Stack) -> None:
    async with console(stack, "ru-moscow") as msk:
        first = await post(stack, "vn-hanoi", urgent(["ru-moscow"], "expected"))
        cursor = (await msk.event(first, "new"))["cursor"]
    # More than the ring holds (200 here), so the oldest missed events come from Kafka. The
    # subjects Beijing shared first: each is a hit for Moscow, an event of its own.
    items = [urgent(["ru-moscow"], "future") for _ in range(260)]
    # The bulk lane's partitions deliver an import's items in no fixed order among
    # themselves: the topic's order is what a live console saw and a resume must replay.
    # Signed in before the import, so it sees every event live: one signing in after could
    # find the first of them already pushed out of the ring by the rest.
    async with console(stack, "ru-moscow") as live:
        await shared_before(stack, "cn-beijing", items, live)
        answer = await share(stack, "vn-hanoi", items)
        ids = [i["alert_id"] for i in answer["items"]]
        for alert_id in ids:
            await live.event(alert_id, "corroborated", timeout=30)
        # A digest trails the alerts it counts (written as the bulk lane flushes): compare the
        # list once it is done, not at the moment its last hit arrived.
        counted = await live.counted(answer["import_id"], len(items), done=True)
        shown = [m["alert_id"] for m in live.events if m["alert_id"] in ids]
    async with console(stack, "ru-moscow", resume_after=cursor) as msk:
        for alert_id in ids:
            await msk.event(alert_id, "corroborated", timeout=30)
        got = [m["alert_id"] for m in msk.events if m["alert_id"] in ids]
        assert got == shown and sorted(got) == sorted(ids)
        # and the list's digests, each partition's latest, count the same
        assert counted["hits"] == len(items)
        assert await msk.counted(answer["import_id"], len(items), done=True) == counted


async def test_a_console_far_behind_gets_urgent_events_first(stack: Stack) -> None:
    items = [urgent(["cn-beijing"], "future") for _ in range(150)]
    async with console(stack, "cn-beijing") as bj:
        # Subjects Moscow shared first: Hanoi's list of them is 150 hits, 150 events.
        await shared_before(stack, "ru-moscow", items, bj)
        first = await post(stack, "vn-hanoi", urgent(["cn-beijing"], "expected"))
        cursor = (await bj.event(first, "new"))["cursor"]
    bulk = [i["alert_id"] for i in (await share(stack, "vn-hanoi", items))["items"]]
    now = await post(stack, "vn-hanoi", urgent(["cn-beijing"], "expected"))
    async with console(stack, "cn-beijing") as live:
        for alert_id in bulk:
            await live.event(alert_id, "corroborated", timeout=30)
        await live.event(now, "new", timeout=30)
        # In the topic's order (an import's partitions deliver in no fixed order among
        # themselves): what a resume replays.
        in_order = [m["alert_id"] for m in live.events if m["alert_id"] in bulk]
    # 151 events behind: the urgent one jumps the bulk import, without a cursor (a resume
    # from it must not skip the bulk events), and is not sent a second time in order.
    async with console(stack, "cn-beijing", resume_after=cursor) as bj:
        for alert_id in bulk:
            await bj.event(alert_id, "corroborated", timeout=30)
        news = [m for m in bj.events if m["alert_id"] in [*bulk, now]]
        assert news[0]["alert_id"] == now and news[0]["cursor"] is None
        assert [m["alert_id"] for m in news[1:]] == in_order
        assert sorted(in_order) == sorted(bulk)
        cursors = [m["cursor"] for m in news[1:]]
        assert cursors == sorted(set(cursors)) and cursors[0] > cursor


async def test_gateway_restart_resumes_without_gap(stack: Stack) -> None:
    async with console(stack, "cn-beijing") as bj:
        a = await post(stack, "vn-hanoi", urgent(["cn-beijing"], "expected"))
        cursor = (await bj.event(a, "new"))["cursor"]
    assert stack.gateway is not None
    stack.gateway.terminate()
    stack.gateway.wait()
    # From this thread, not a worker thread: a child dies with the thread that started it
    # (PR_SET_PDEATHSIG), and this test's executor threads end with the test.
    stack.start_gateway()
    b = await post(stack, "vn-hanoi", urgent(["cn-beijing"], "expected"))
    async with console(stack, "cn-beijing", resume_after=cursor) as bj:
        await bj.event(b, "new")
        assert [m["alert_id"] for m in bj.events if m["event"] == "new"] == [b]


async def test_each_step_is_on_the_senders_and_the_recipients_audit_record_only(
    stack: Stack,
) -> None:
    body = urgent(["cn-beijing"], "expected")
    passport = body["subject"]["documents"][0]["number"]
    async with console(stack, "cn-beijing") as bj:
        alert_id = await post(stack, "vn-hanoi", body)
        await bj.event(alert_id, "new")
        await bj.send({"type": "ack", "alert_id": alert_id})
        await bj.wait_for(lambda m: m.get("type") == "ack_accepted" and m["alert_id"] == alert_id)
        r = await report_outcome(stack, alert_id, "demo-officer-cn-beijing", "not_found")
        assert r.status_code == 202, r.text
    # Beijing, which was sent the alert, and Moscow, which was not, ask about its passport.
    for agency in ("cn-beijing", "ru-moscow"):
        r = await asyncio.to_thread(
            httpx.get,
            f"{stack.url}/v1/lookup",
            params={"document": passport, "country": "VN"},
            headers={"Authorization": f"Bearer demo-partner-{agency}"},
            timeout=10,
        )
        assert r.status_code == 200, r.text

    def steps(entries: list[AuditEntry]) -> set[tuple[str, str]]:
        return {(e.agency, e.action) for e in entries if e.alert_id == alert_id}

    def lookups(entries: list[AuditEntry]) -> set[tuple[str, str]]:
        return {
            (e.agency, e.detail["matches"])
            for e in entries
            if e.action == "looked_up" and e.detail.get("number") == passport
        }

    want = {
        ("vn-hanoi", "accepted"),
        ("vn-hanoi", "routed"),
        ("vn-hanoi", "acknowledged"),
        ("vn-hanoi", "outcome_reported"),
        ("cn-beijing", "routed"),
        ("cn-beijing", "delivered"),  # shown on its console: reported by the gateway
        ("cn-beijing", "acknowledged"),
        ("cn-beijing", "outcome_reported"),
    }
    asked = {("cn-beijing", "1"), ("ru-moscow", "0")}  # who asked, and what each was shown
    entries = await audit_log(stack, lambda es: steps(es) >= want and lookups(es) >= asked)
    assert steps(entries) == want  # nothing of it on Moscow's record
    assert lookups(entries) == asked  # each question on the asker's record only
    for agency in {e.agency for e in entries}:
        chain = sorted(
            {e.seq: e for e in entries if e.agency == agency}.values(), key=lambda e: e.seq
        )
        assert broken(chain) is None, agency


async def test_escalation_follow_ups_and_a_rejection_are_on_the_records_they_concern_only(
    stack: Stack,
) -> None:
    body = urgent(["cn-beijing"])  # immediate: it escalates unacknowledged
    ref = body["source_ref"]
    follow = dict(body)
    async with console(stack, "cn-beijing") as bj, console(stack, "vn-hanoi") as hn:
        alert_id = await post(stack, "vn-hanoi", body)
        await bj.event(alert_id, "escalated", timeout=15)
        update = {**follow, "source_ref": f"{ref}-U", "msg_type": "update", "references": ref}
        update_id = await post(stack, "vn-hanoi", {**update, "urgency": "expected"})
        await bj.event(update_id, "updated")
        cancel = {**follow, "source_ref": f"{ref}-C", "msg_type": "cancel", "references": ref}
        cancel_id = await post(stack, "vn-hanoi", {**cancel, "urgency": "expected"})
        await bj.event(cancel_id, "cancelled")
        # A follow-up of an alert that never comes: the stream rejects it, for its sender.
        orphan = {**update, "source_ref": f"{ref}-O", "references": f"{ref}-NEVER"}
        orphan_id = await post(stack, "vn-hanoi", {**orphan, "urgency": "expected"})
        await hn.event(orphan_id, "rejected", timeout=20)

    ids = {alert_id, update_id, cancel_id, orphan_id}

    def steps(entries: list[AuditEntry]) -> set[tuple[str, str | None, str]]:
        return {(e.agency, e.alert_id, e.action) for e in entries if e.alert_id in ids}

    want = {
        ("vn-hanoi", alert_id, "escalated"),
        ("cn-beijing", alert_id, "escalated"),
        ("vn-hanoi", update_id, "updated"),
        ("cn-beijing", update_id, "updated"),
        ("vn-hanoi", cancel_id, "cancelled"),
        ("cn-beijing", cancel_id, "cancelled"),
        ("vn-hanoi", orphan_id, "rejected"),
    }
    entries = await audit_log(stack, lambda es: steps(es) >= want)
    found = steps(entries)
    assert found >= want
    # Nothing of it on Moscow's record, and the rejection on its sender's only.
    assert {a for a, _, _ in found} == {"vn-hanoi", "cn-beijing"}
    assert {(a, x) for a, i, x in found if i == orphan_id} == {("vn-hanoi", "rejected")}


async def test_an_export_of_ones_record_verifies_and_a_tampered_one_does_not(
    stack: Stack, tmp_path: Path
) -> None:
    alert_id = await post(stack, "vn-hanoi", urgent(["cn-beijing"], "expected"))

    def on_record(entries: list[AuditEntry]) -> bool:
        return any(e.alert_id == alert_id and e.agency == "cn-beijing" for e in entries)

    await audit_log(stack, on_record)
    files = {a: tmp_path / f"{a}.ndjson" for a in ("vn-hanoi", "cn-beijing", "ru-moscow")}
    for agency, out in files.items():
        await asyncio.to_thread(
            audit.export, stack.url, f"demo-partner-{agency}", out, note=lambda _: None
        )
    hanoi = audit.read(files["vn-hanoi"])
    assert {e.agency for e in hanoi} == {"vn-hanoi"}
    assert ("accepted", alert_id) in {(e.action, e.alert_id) for e in hanoi}
    assert alert_id in {e.alert_id for e in audit.read(files["cn-beijing"])}
    assert alert_id not in {e.alert_id for e in audit.read(files["ru-moscow"])}
    assert audit.verify(files["vn-hanoi"]) == (len(hanoi), None)

    lines = files["vn-hanoi"].read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if '"routed"' in line)
    lines[at] = lines[at].replace('"routed"', '"rejected"')  # an exchange made to look refused
    files["vn-hanoi"].write_text("\n".join(lines) + "\n")
    _, found = audit.verify(files["vn-hanoi"])
    assert found is not None and found.index == at
