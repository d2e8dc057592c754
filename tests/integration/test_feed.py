"""GET /v1/numbers/changes and `hotline numbers sync` on the real broker: every scam number
shared with the caller, paged by a cursor that resumes with no gap and no repeat, also while
an import is still being written; a cancel takes the number off the blocklist."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from cli.supervisor import hotline_cmd

from .stack import Stack
from .test_need_to_know import post

pytestmark = pytest.mark.integration

ARRIVES_S = 60.0  # "never arrives", not a budget: a few hundred bulk alerts take seconds


def scam(ref: str, number: str, **over: Any) -> dict[str, Any]:
    return {
        "source_ref": ref,
        "kind": "scam_number",
        "severity": "minor",
        "urgency": "expected",  # never escalates (a new state) while the test reads
        "tlp": "green",
        "title": "Scam number",
        "subject": {"number": number, "scam_type": "investment"},
        **over,
    }


def page(
    stack: Stack, agency: str, after: str | None, limit: int, ndjson: bool = False
) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit}
    if after:
        params["after"] = after
    headers = {"Authorization": f"Bearer demo-partner-{agency}"}
    if ndjson:
        headers["Accept"] = "application/x-ndjson"
    r = httpx.get(f"{stack.url}/v1/numbers/changes", params=params, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    if not ndjson:
        doc: dict[str, Any] = r.json()
        return doc
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = [orjson.loads(x) for x in r.content.splitlines()]
    return {"changes": lines[:-1], **lines[-1]}


def read_all(
    stack: Stack, agency: str, after: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str | None]:
    changes: list[dict[str, Any]] = []
    while True:
        p = page(stack, agency, after, limit)
        assert len(p["changes"]) <= limit
        changes += p["changes"]
        after = p["next"]
        if not p["more"]:
            return changes, after


def batch(stack: Stack, sender: str, items: list[dict[str, Any]]) -> list[str]:
    r = httpx.post(
        f"{stack.url}/v1/alerts/batch",
        json=items,
        headers={"Authorization": f"Bearer demo-partner-{sender}"},
        timeout=60,
    )
    assert r.status_code == 200 and r.json()["accepted"] == len(items), r.text
    return [i["alert_id"] for i in r.json()["items"]]


def numbers(tag: str, n: int) -> list[str]:
    return [f"+8491{tag}{i:04d}" for i in range(n)]  # tag: 3 digits


async def until_fed(stack: Stack, agency: str, alert_ids: set[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + ARRIVES_S
    while True:
        changes, _ = await asyncio.to_thread(read_all, stack, agency, None, 1000)
        if alert_ids <= {c["alert_id"] for c in changes}:
            return changes
        assert time.monotonic() < deadline, f"{len(alert_ids)} alerts never reached the feed"
        await asyncio.sleep(0.3)


def no_repeats(changes: list[dict[str, Any]]) -> None:
    """An alert comes twice only as two different states of it."""
    seen = [(c["alert_id"], c["updated_at"], c["status"]) for c in changes]
    assert len(seen) == len(set(seen)), "a change was given twice"


async def test_pages_resume_without_gap_or_repeat_while_an_import_is_written(
    stack: Stack,
) -> None:
    tag = f"{uuid.uuid4().int % 100:02d}"
    urgent = [
        await post(stack, "vn-hanoi", scam(f"HN-F-{tag}-{i}", n))
        for i, n in enumerate(numbers(tag + "0", 3))
    ]
    red = await post(
        stack,
        "vn-hanoi",
        scam(f"HN-F-{tag}-RED", f"+8491{tag}99999", tlp="red", recipients=["cn-beijing"]),
    )
    first = await asyncio.to_thread(
        batch,
        stack,
        "vn-hanoi",
        [scam(f"HN-F-{tag}-B{i}", n) for i, n in enumerate(numbers(tag + "1", 300))],
    )
    await until_fed(stack, "ru-moscow", {*urgent, *first})
    # Moscow reads two pages, then a second import is written while it reads on.
    p1 = await asyncio.to_thread(page, stack, "ru-moscow", None, 100)
    p2 = await asyncio.to_thread(page, stack, "ru-moscow", p1["next"], 100, True)  # NDJSON too
    second_import = asyncio.create_task(
        asyncio.to_thread(
            batch,
            stack,
            "vn-hanoi",
            [scam(f"HN-F-{tag}-C{i}", n) for i, n in enumerate(numbers(tag + "2", 300))],
        )
    )
    rest, cursor = await asyncio.to_thread(read_all, stack, "ru-moscow", p2["next"], 100)
    second = await second_import
    await until_fed(stack, "ru-moscow", set(second))
    tail, _ = await asyncio.to_thread(read_all, stack, "ru-moscow", cursor, 100)
    got = [*p1["changes"], *p2["changes"], *rest, *tail]
    no_repeats(got)
    ids = {c["alert_id"] for c in got}
    assert ids == {*urgent, *first, *second}  # every one, and nothing else (no red)
    assert red not in ids
    one = next(c for c in got if c["alert_id"] == urgent[0])
    assert one["number"] == numbers(tag + "0", 1)[0] and one["sender"] == "vn-hanoi"
    assert one["active"] is True and one["scam_type"] == "investment"
    # Beijing was named in the red one: it holds it.
    beijing = await until_fed(stack, "cn-beijing", {red})
    assert red in {c["alert_id"] for c in beijing}


async def test_numbers_sync_keeps_a_blocklist_file_and_a_cancel_takes_a_number_off(
    stack: Stack, tmp_path: Path
) -> None:
    tag = f"{uuid.uuid4().int % 100:02d}"
    mine = numbers(tag + "5", 4)
    ids = [await post(stack, "cn-beijing", scam(f"BJ-S-{tag}-{i}", n)) for i, n in enumerate(mine)]
    await until_fed(stack, "ru-moscow", set(ids))
    out = tmp_path / "blocklist.txt"
    env = {**os.environ, "HOTLINE_PARTNER_KEY": "demo-partner-ru-moscow"}

    def run() -> str:
        args = hotline_cmd("numbers", "sync", "--out", str(out), "--url", stack.url)
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    await asyncio.to_thread(run)
    held = out.read_text().splitlines()
    assert held == sorted(held) and set(mine) <= set(held)
    cancel = scam(f"BJ-S-{tag}-0-C", mine[0], msg_type="cancel", references=f"BJ-S-{tag}-0")
    cancelled = await post(stack, "cn-beijing", cancel)
    await until_fed(stack, "ru-moscow", {cancelled})
    said = await asyncio.to_thread(run)  # from the cursor it kept: only what changed
    held = out.read_text().splitlines()
    assert mine[0] not in held and set(mine[1:]) <= set(held)
    assert "changes read" in said


def test_a_cursor_the_feed_did_not_give_is_refused(stack: Stack) -> None:
    r = httpx.get(
        f"{stack.url}/v1/numbers/changes",
        params={"after": "c1.bm9wZQ"},
        headers={"Authorization": "Bearer demo-partner-vn-hanoi"},
        timeout=10,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "after", r.text
    r = httpx.get(f"{stack.url}/v1/numbers/changes", timeout=10)
    assert r.status_code == 401
