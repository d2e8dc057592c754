"""Every stream rule on real Kafka, driven by the scenario fixtures."""

from __future__ import annotations

import asyncio
import copy
import re
import subprocess
from typing import Any

import httpx
import pytest

from cli.supervisor import hotline_cmd
from tests.fixtures.scenarios import scenario

from .stack import Stack, console

pytestmark = pytest.mark.integration


async def post(stack: Stack, sender: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await asyncio.to_thread(stack.post, sender, body)
    assert r.status_code == 202, r.text
    return dict(r.json())


async def test_retry_is_one_alert_delivered_once(stack: Stack) -> None:
    (sender, body), (_, again) = scenario("retry")
    async with console(stack, "cn-beijing") as bj:
        first = await post(stack, sender, body)
        await bj.event(first["alert_id"], "new")
        second = await post(stack, sender, again)
        assert second["alert_id"] == first["alert_id"] and second["duplicate"] is True
        await asyncio.sleep(1.0)
        assert [m["event"] for m in bj.events if m["alert_id"] == first["alert_id"]] == ["new"]


async def test_corroboration_by_document(stack: Stack) -> None:
    (bj_sender, bj_body), (msk_sender, msk_body) = scenario("corroboration_by_document")
    async with console(stack, "cn-beijing") as bj:
        a = await post(stack, bj_sender, bj_body)
        own = await bj.event(a["alert_id"], "delivered")
        b = await post(stack, msk_sender, msk_body)
        ev = await bj.event(b["alert_id"], "corroborated")
    assert ev["case_id"] == own["case_id"]
    assert ev["case"]["reporters"] == ["cn-beijing", "ru-moscow"]
    assert ev["case"]["alert_ids"] == [a["alert_id"], b["alert_id"]]
    assert ev["alert"]["enrichment"]["documents"] == own["alert"]["enrichment"]["documents"]


async def test_corroboration_by_phone_written_differently(stack: Stack) -> None:
    (s1, b1), (s2, b2) = scenario("corroboration_by_phone")
    async with console(stack, "ru-moscow") as msk, console(stack, "cn-beijing") as bj:
        a = await post(stack, s1, b1)
        seen = await bj.event(a["alert_id"], "new")
        b = await post(stack, s2, b2)
        for c in (msk, bj):
            ev = await c.event(b["alert_id"], "corroborated")
            assert ev["case_id"] == seen["case_id"]
            assert ev["case"]["reporters"] == [s1, s2]
    phones = {p["e164"] for p in ev["alert"]["enrichment"]["phones"]}
    assert phones == {p["e164"] for p in seen["alert"]["enrichment"]["phones"]}


async def test_corroboration_by_indicator_set(stack: Stack) -> None:
    (s1, b1), (s2, b2) = scenario("corroboration_by_indicators")
    async with console(stack, s1) as first_sender:
        a = await post(stack, s1, b1)
        own = await first_sender.event(a["alert_id"], "delivered")
        b = await post(stack, s2, b2)
        ev = await first_sender.event(b["alert_id"], "corroborated")
    assert ev["case_id"] == own["case_id"]


async def test_corroboration_by_folded_name_and_birth_date(stack: Stack) -> None:
    (s1, b1), (s2, b2) = scenario("corroboration_by_name_dob")
    async with console(stack, s1) as c:
        a = await post(stack, s1, b1)
        own = await c.event(a["alert_id"], "delivered")
        b = await post(stack, s2, b2)
        ev = await c.event(b["alert_id"], "corroborated")
    assert ev["case_id"] == own["case_id"]
    folded = [n["folded"] for n in ev["alert"]["enrichment"]["names"]]
    assert folded and all(f.isascii() for f in folded)


async def test_update_and_cancel_reach_the_same_case(stack: Stack) -> None:
    (s, alert), (_, update) = scenario("update")
    (s2, alert2), (_, cancel) = scenario("cancel")
    async with console(stack, "vn-hanoi") as hn, console(stack, "ru-moscow") as msk:
        a = await post(stack, s, alert)
        first = await hn.event(a["alert_id"], "new")
        u = await post(stack, s, update)
        ev = await hn.event(u["alert_id"], "updated")
        assert ev["case_id"] == first["case_id"]
        c1 = await post(stack, s2, alert2)
        first2 = await msk.event(c1["alert_id"], "new")
        c2 = await post(stack, s2, cancel)
        ev2 = await msk.event(c2["alert_id"], "cancelled")
        assert ev2["case_id"] == first2["case_id"]
        assert ev2["case"]["state"] == "cancelled"
    state = await stack.state_when(
        c1["alert_id"], lambda s: s["status"] == "cancelled", f"demo-partner-{s2}"
    )
    assert state["status"] == "cancelled"


async def test_tlp_red_goes_to_named_recipients_only(stack: Stack) -> None:
    [(s, body)] = scenario("tlp_red")
    named = body["recipients"]
    others = [a for a in ("vn-hanoi", "cn-beijing", "ru-moscow") if a not in named and a != s]
    async with console(stack, named[0]) as rec, console(stack, others[0]) as other:
        a = await post(stack, s, body)
        await rec.event(a["alert_id"], "new")
        await asyncio.sleep(0.5)
        assert not [m for m in other.events if m["alert_id"] == a["alert_id"]]
    assert stack.get_alert(a["alert_id"], f"demo-officer-{others[0]}").status_code == 404
    assert stack.get_alert(a["alert_id"], f"demo-officer-{named[0]}").status_code == 200


def test_tlp_red_without_recipients_is_refused(stack: Stack) -> None:
    [(s, body)] = scenario("tlp_red")
    r = stack.post(s, {**body, "source_ref": "MSK-RED-NOBODY", "recipients": []})
    assert r.status_code == 422
    assert "TLP:RED" in r.text


async def test_scam_number_in_a_fraud_pattern_links_both_cases(stack: Stack) -> None:
    (s1, number), (s2, pattern) = scenario("related")
    async with console(stack, "vn-hanoi") as hn:
        a = await post(stack, s1, number)
        own = await hn.event(a["alert_id"], "delivered")
        b = await post(stack, s2, pattern)
        ev = await hn.event(b["alert_id"], "new")
    assert ev["case"]["related"] == [own["case_id"]]


def test_unparseable_phone_number_is_a_named_field_error(stack: Stack) -> None:
    [(s, body)] = scenario("bad_phone")
    r = stack.post(s, body)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["subject.number"]


def test_bad_bodies_get_clear_errors(stack: Stack) -> None:
    key = {"Authorization": "Bearer demo-partner-vn-hanoi"}
    url = f"{stack.url}/v1/alerts"
    not_json = httpx.post(url, content=b"{nope", headers=key)
    assert not_json.status_code == 422 and not_json.json()["errors"][0]["field"] == "body"
    huge = httpx.post(url, content=b"[" + b" " * (1024 * 1024 + 10) + b"]", headers=key)
    assert huge.status_code == 413
    missing = httpx.post(url, json={"kind": "scam_number", "source_ref": "X"}, headers=key)
    fields = {e["field"] for e in missing.json()["errors"]}
    assert missing.status_code == 422 and {"severity", "urgency", "title", "subject"} <= fields
    unknown_kind = httpx.post(url, json={"kind": "stolen_car"}, headers=key)
    assert unknown_kind.status_code == 422
    to_self = stack.post("vn-hanoi", {**scenario("tlp_red")[0][1], "recipients": ["vn-hanoi"]})
    assert to_self.status_code == 422 and to_self.json()["errors"][0]["field"] == "recipients.0"


async def test_batch_answers_per_item_in_json_and_ndjson(stack: Stack) -> None:
    (s, good), _ = scenario("retry")
    items = []
    for i in range(3):
        items.append(
            {
                **copy.deepcopy(good),
                "source_ref": f"HN-BATCH-{i}",
                "subject": {**good["subject"], "number": f"0971 000 6{i:02d}"},
            }
        )
    items.append(
        {
            **copy.deepcopy(good),
            "source_ref": "HN-BATCH-BAD",
            "subject": {**good["subject"], "number": "12"},
        }
    )
    key = {"Authorization": f"Bearer demo-partner-{s}"}
    r = httpx.post(f"{stack.url}/v1/alerts/batch", json=items, headers=key, timeout=30)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (doc["accepted"], doc["rejected"]) == (3, 1)
    assert [i["status"] for i in doc["items"]] == [202, 202, 202, 422]
    assert doc["items"][3]["errors"][0]["field"] == "subject.number"
    ndjson = (
        b"\n".join(httpx.Request("POST", "/", json=i).content for i in items[:2]) + b"\nnot json\n"
    )
    r2 = httpx.post(
        f"{stack.url}/v1/alerts/batch",
        content=ndjson,
        headers={**key, "Content-Type": "application/x-ndjson"},
        timeout=30,
    )
    assert [i["status"] for i in r2.json()["items"]] == [202, 202, 422]
    async with console(stack, "cn-beijing") as bj:
        # The batch is a list: counted on the recipient's console, its alerts not one by one.
        # The NDJSON batch's two items were retries: not counted again, nowhere.
        listed = await bj.counted(doc["import_id"], 3, done=True)
        assert (listed["numbers"], listed["new"]) == (3, 3)
        assert bj.digest(r2.json()["import_id"])["numbers"] == 0
        listed_ids = {i.get("alert_id") for i in doc["items"]}
        assert not [m for m in bj.events if m["alert_id"] in listed_ids]


async def test_import_command_posts_a_csv_through_the_bulk_lane(
    stack: Stack, tmp_path: Any
) -> None:
    csv = tmp_path / "numbers.csv"
    csv.write_text(
        "number,scam_type,reports\n"
        + "".join(f"0971 009 {i:03d},investment,{i}\n" for i in range(40))
        + "not a number,other,1\n"
    )
    cmd = hotline_cmd(
        "import", str(csv), "--url", stack.url, "--key", "demo-partner-vn-hanoi", "--batch", "15"
    )
    first = await asyncio.to_thread(
        subprocess.run, cmd, capture_output=True, text=True, timeout=120
    )
    assert first.returncode == 3, first.stderr  # one line was refused, and said so
    assert "40 accepted, 1 rejected" in first.stdout
    assert "item 41" in first.stdout and "subject.number" in first.stdout
    again = await asyncio.to_thread(
        subprocess.run, cmd, capture_output=True, text=True, timeout=120
    )
    assert "40 accepted, 1 rejected" in again.stdout  # the same file twice is a retry
    # One list, named after the file, however many batches it took and however often sent.
    (import_id,) = re.findall(r"\(list ([^)]+)\)", first.stdout)
    assert import_id.startswith("numbers-") and f"(list {import_id})" in again.stdout
    async with console(stack, "ru-moscow") as msk:
        listed = await msk.counted(import_id, 40, done=True)
        assert listed == {"numbers": 40, "new": 40, "known": 0, "hits": 0, "done": True}
        imported = [
            m
            for m in msk.events
            if m["alert"]["body"]["subject"].get("number", "").startswith("0971 009 ")
        ]
        assert imported == []  # no number of it is a hit for Moscow
