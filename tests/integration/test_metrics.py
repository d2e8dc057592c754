"""After real traffic, every operator metric is exported by the process that owns it."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from hotline.codec import dumps
from hotline.models import AlertRecord

from .stack import Stack, console

pytestmark = pytest.mark.integration
# The gateway's /metrics wants an operator token; the stack runs in dev mode.
OPERATOR = {"Authorization": "Bearer demo-operator"}


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(
    metrics: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """Sum of `name` over the samples whose labels include `labels`."""
    want = set(labels.items())
    found = [v for (n, ls), v in metrics.items() if n == name and want <= ls]
    assert found, f"{name}{labels} is not exported"
    return sum(found)


def person(urgency: str, recipients: list[str]) -> dict[str, Any]:
    n = uuid.uuid4().int
    return {
        "source_ref": f"HN-M-{n % 10**12}",
        "kind": "wanted_person",
        "severity": "severe",
        "urgency": urgency,
        "tlp": "amber",
        "recipients": recipients,
        "title": "Truy nã",
        "subject": {"full_name": f"Vũ Minh {n % 10**9}", "date_of_birth": "1981-04-04"},
    }


def scam(ref: str, number: str) -> dict[str, Any]:
    return {
        "source_ref": ref,
        "kind": "scam_number",
        "severity": "minor",
        "urgency": "future",
        "title": "Scam number",
        "subject": {"number": number},
    }


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Stack:
    s: Stack = stack_factory(HOTLINE_ESCALATION_SECONDS="1")
    return s


async def test_operator_metrics_after_real_traffic(stack: Stack) -> None:
    async with console(stack, "cn-beijing") as bj, console(stack, "vn-hanoi") as hn:
        acked = (
            await asyncio.to_thread(stack.post, "vn-hanoi", person("expected", ["cn-beijing"]))
        ).json()
        await bj.event(acked["alert_id"], "new")
        await bj.send({"type": "ack", "alert_id": acked["alert_id"]})
        await hn.event(acked["alert_id"], "acknowledged")
        reported = await asyncio.to_thread(
            httpx.post,
            f"{stack.url}/v1/alerts/{acked['alert_id']}/outcomes",
            json={"kind": "located"},
            headers={"Authorization": "Bearer demo-partner-cn-beijing"},
            timeout=10,
        )
        assert reported.status_code == 202, reported.text
        await hn.event(acked["alert_id"], "outcome")

        urgent = (
            await asyncio.to_thread(stack.post, "vn-hanoi", person("immediate", ["cn-beijing"]))
        ).json()
        await bj.event(urgent["alert_id"], "escalated", timeout=15)

        first = (
            await asyncio.to_thread(stack.post, "vn-hanoi", scam("HN-M-S1", "0971 003 001"))
        ).json()
        await bj.event(first["alert_id"], "new")
        second = (
            await asyncio.to_thread(stack.post, "ru-moscow", scam("MSK-M-S1", "+84 971 003 001"))
        ).json()
        await bj.event(second["alert_id"], "corroborated")

        # A retry that reaches the stream itself (the gateway answers most from its view).
        state = stack.get_alert(first["alert_id"], "demo-partner-vn-hanoi").json()
        record = AlertRecord.model_validate_json(
            orjson.dumps({**state["alert"], "case_id": None, "enrichment": None})
        )
        producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            # Keyed as the gateway keys it, so it reaches the partition that holds the alert.
            key = first["alert_id"].encode()
            await producer.send_and_wait(f"{stack.prefix}.inbound", dumps(record), key=key)
        finally:
            await producer.stop()

        bad = await asyncio.to_thread(stack.post, "ru-moscow", scam("MSK-M-BAD", "12"))
        assert bad.status_code == 422
        await asyncio.sleep(2.5)  # the worker's timer refreshes its gauges every second

        gw = samples(httpx.get(f"{stack.url}/metrics", headers=OPERATOR).text)
        wk = samples(httpx.get(f"http://127.0.0.1:{stack.worker_port}/metrics").text)

    assert value(gw, "hotline_alerts_accepted_total", sender="vn-hanoi", lane="urgent") >= 3
    assert value(gw, "hotline_alerts_accepted_total", kind="scam_number") >= 2
    assert value(gw, "hotline_alerts_rejected_total", sender="ru-moscow", reason="invalid") >= 1
    assert value(gw, "hotline_http_responses_total", status="2xx") >= 4
    assert value(gw, "hotline_http_responses_total", status="4xx") >= 1
    assert value(gw, "hotline_kafka_produce_errors_total", component="gateway") == 0
    assert value(gw, "hotline_partner_last_post_timestamp_seconds", sender="vn-hanoi") > 1.7e9
    assert value(gw, "hotline_console_connections", agency="cn-beijing") == 1
    assert value(gw, "hotline_console_events_total", agency="cn-beijing", event="new") >= 3
    count = value(gw, "hotline_delivery_latency_seconds_count", lane="urgent")
    total = value(gw, "hotline_delivery_latency_seconds_sum", lane="urgent")
    assert count >= 3 and 0 < total / count < 5
    assert value(gw, "hotline_consumer_lag", component="gateway") >= 0

    assert value(wk, "hotline_worker_active") == 1
    assert value(wk, "hotline_deliveries_total", recipient="cn-beijing", event="new") >= 3
    assert value(wk, "hotline_deliveries_total", recipient="cn-beijing", event="corroborated") >= 1
    assert value(wk, "hotline_corroborations_total", kind="scam_number") >= 1
    assert value(wk, "hotline_duplicates_dropped_total", kind="scam_number") >= 1
    assert value(wk, "hotline_escalations_total", recipient="cn-beijing") >= 1
    assert value(wk, "hotline_urgent_unacknowledged", recipient="cn-beijing") >= 1
    assert value(wk, "hotline_ack_latency_seconds_count", recipient="cn-beijing") >= 1
    outcomes = {"recipient": "cn-beijing", "sender": "vn-hanoi", "kind": "located"}
    assert value(wk, "hotline_outcomes_total", **outcomes) >= 1
    assert value(wk, "hotline_worker_messages_received_total") >= 5  # Faust's own sensor


async def test_logs_are_json_with_ids_and_no_personal_data(stack: Stack) -> None:
    name, number = "Đinh Thị Bí Mật", "0971 004 321"
    body = {
        **person("expected", ["cn-beijing"]),
        "subject": {"full_name": name, "date_of_birth": "1977-07-07"},
    }
    async with console(stack, "cn-beijing") as bj:
        a = (await asyncio.to_thread(stack.post, "vn-hanoi", body)).json()
        b = (await asyncio.to_thread(stack.post, "vn-hanoi", scam("HN-LOG-1", number))).json()
        await bj.event(a["alert_id"], "new")
        await bj.event(b["alert_id"], "new")
    await asyncio.sleep(0.5)
    for component in ("gateway", "worker"):
        lines = [line for line in stack.log(component).splitlines() if line.startswith("{")]
        docs = [orjson.loads(line) for line in lines]
        assert docs and all({"ts", "level", "logger", "msg"} <= d.keys() for d in docs)
        ids = {d.get("alert_id") for d in docs}
        assert a["alert_id"] in ids and b["alert_id"] in ids, component
        text = "\n".join(lines)
        for secret in (name, number, "+84971004321", "1977-07-07"):
            assert secret not in text, (component, secret)
