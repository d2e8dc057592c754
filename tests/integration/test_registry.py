"""GET /v1/lookup on the real broker: the gateway asks the urgent worker's registry page, which
reads the case index the stream wrote; need-to-know decides what the caller sees."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from typing import Any

import httpx
import pytest

from cli.supervisor import hotline_cmd

from .stack import Stack, console
from .test_need_to_know import post, scam

pytestmark = pytest.mark.integration

# "Never arrives", not a speed budget: the registry is written when the worker handles the
# alert (well under a second), the alert's details when the gateway reads its state back.
ARRIVES_S = 10.0


def lookup(stack: Stack, agency: str, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer demo-officer-{agency}"}
    return httpx.get(f"{stack.url}/v1/lookup", params=params, headers=headers, timeout=10)


async def matches(stack: Stack, agency: str, alerts: int, **params: str) -> list[dict[str, Any]]:
    """The matches once they list `alerts` alerts in all (or what they are after ARRIVES_S)."""
    deadline = time.monotonic() + ARRIVES_S
    while True:
        r = await asyncio.to_thread(lookup, stack, agency, **params)
        assert r.status_code == 200, r.text
        found: list[dict[str, Any]] = r.json()["matches"]
        if sum(len(m["alerts"]) for m in found) >= alerts or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.1)


def digits() -> str:
    return f"{uuid.uuid4().int % 10_000_000:07d}"


async def test_a_number_is_found_in_any_format_by_every_agency_that_holds_it(
    stack: Stack,
) -> None:
    local = f"091{digits()}"  # as Hanoi dials it
    async with console(stack, "cn-beijing") as bj:
        first = await post(stack, "vn-hanoi", scam(f"HN-{local}", local, tlp="green"))
        await bj.event(first, "new")
    intl = f"+84 {local[1:4]} {local[4:7]} {local[7:]}"
    second = await post(stack, "cn-beijing", scam(f"BJ-{local}", intl, tlp="green"))
    [m] = await matches(stack, "cn-beijing", 2, number=f"0084{local[1:]}")
    assert m["kind"] == "scam_number" and m["state"] == "open"
    assert m["reporters"] == ["vn-hanoi", "cn-beijing"] and m["reports"] == 2
    assert [a["alert_id"] for a in m["alerts"]] == [first, second]
    assert m["alerts"][0]["title"] == "Scam number" and m["alerts"][0]["tlp"] == "green"
    [again] = await matches(stack, "vn-hanoi", 2, number=local)  # national, from Hanoi
    assert again["case_id"] == m["case_id"]
    r = await asyncio.to_thread(lookup, stack, "vn-hanoi", number=local)
    assert r.json()["query"] == {"kind": "number", "e164": f"+84{local[1:]}"}


async def test_a_red_report_is_invisible_to_an_agency_not_named(stack: Stack) -> None:
    number = f"+8491{digits()}"
    red = await post(
        stack, "vn-hanoi", scam(f"HN-RED-{number}", number, tlp="red", recipients=["cn-beijing"])
    )
    [m] = await matches(stack, "cn-beijing", 1, number=number)
    assert [a["alert_id"] for a in m["alerts"]] == [red]
    r = await asyncio.to_thread(lookup, stack, "ru-moscow", number=number)
    assert r.status_code == 200 and r.json()["matches"] == []  # unknown and invisible alike
    assert red not in r.text and "vn-hanoi" not in r.text


async def test_a_person_and_a_document_are_found_as_the_stream_matches_them(
    stack: Stack,
) -> None:
    passport = f"72 {digits()}"
    wanted = await post(
        stack,
        "ru-moscow",
        {
            "source_ref": f"M-P-{passport.replace(' ', '')}",
            "kind": "wanted_person",
            "severity": "severe",
            "urgency": "immediate",
            "tlp": "amber",
            "title": "Wanted: Ivanov Ivan",
            "subject": {
                "full_name": "Иванов Иван Петрович",
                "date_of_birth": "1981-03-04",
                "documents": [{"type": "passport", "number": passport, "country": "RU"}],
            },
        },
    )
    [by_doc] = await matches(stack, "vn-hanoi", 1, document=passport.replace(" ", "-"))
    assert by_doc["kind"] == "wanted_person" and by_doc["reporters"] == ["ru-moscow"]
    assert [a["alert_id"] for a in by_doc["alerts"]] == [wanted]
    # Latin letters, no patronymic: matched as the stream matches a second report.
    [by_name] = await matches(
        stack, "cn-beijing", 1, name="IVANOV Ivan", date_of_birth="1981-03-04"
    )
    assert by_name["case_id"] == by_doc["case_id"]
    none = await asyncio.to_thread(
        lookup, stack, "cn-beijing", name="Ivanov Ivan", date_of_birth="1981-03-05"
    )
    assert none.json()["matches"] == []


def test_a_query_that_cannot_be_keyed_is_refused_naming_the_parameter(stack: Stack) -> None:
    r = lookup(stack, "vn-hanoi", name="Nguyen Van An")
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_query"
    assert [e["field"] for e in r.json()["errors"]] == ["date_of_birth"]
    r = lookup(stack, "vn-hanoi", number="12")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "number"
    r = httpx.get(f"{stack.url}/v1/lookup", params={"number": "+84912345678"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"


def test_the_workers_registry_page_answers_only_the_deployments_gateways(stack: Stack) -> None:
    body = {"query": {"kind": "number", "e164": "+84912345678"}}
    url = f"http://127.0.0.1:{stack.worker_port}/registry/lookup"
    for headers in ({}, {"X-Hotline-Registry-Token": "guess"}):
        r = httpx.post(url, json=body, headers=headers, timeout=10)
        assert r.status_code == 401, r.text


async def test_hotline_lookup_prints_the_matches_as_a_table(stack: Stack) -> None:
    number = f"+8491{digits()}"
    alert_id = await post(stack, "vn-hanoi", scam(f"HN-CLI-{number}", number, tlp="green"))
    [m] = await matches(stack, "ru-moscow", 1, number=number)
    args = ["lookup", "--number", number, "--url", stack.url]
    env = {**os.environ, "HOTLINE_OFFICER_TOKEN": "demo-officer-ru-moscow", "COLUMNS": "250"}
    done = subprocess.run(hotline_cmd(*args), env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert m["case_id"] in done.stdout and alert_id in done.stdout and "vn-hanoi" in done.stdout
    refused = subprocess.run(
        hotline_cmd("lookup", "--name", "Ivanov Ivan", "--url", stack.url),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "date_of_birth" in refused.stderr
