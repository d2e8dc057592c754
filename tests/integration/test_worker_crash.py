"""SIGKILL the worker: its tables come back from their changelogs, nothing is shown twice."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from hotline.codec import dumps
from hotline.models import AlertRecord

from .stack import Stack, console
from .test_metrics import samples

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def scam(ref: str, number: str) -> dict[str, Any]:
    return {
        "source_ref": ref,
        "kind": "scam_number",
        "severity": "minor",
        "urgency": "future",
        "tlp": "green",
        "title": "Reported scam number",
        "language": "vi",
        "subject": {"number": number, "scam_type": "investment"},
    }


@pytest.fixture(scope="module")
def crash_stack(stack_factory: Any) -> Stack:
    stack: Stack = stack_factory()
    return stack


async def test_dedup_state_survives_sigkill(crash_stack: Stack) -> None:
    stack = crash_stack
    async with console(stack, "cn-beijing") as bj:
        r = await asyncio.to_thread(stack.post, "vn-hanoi", scam("HN-CRASH-1", "0971 000 701"))
        alert_id = r.json()["alert_id"]
        first = await bj.event(alert_id, "new")

    stack.kill_worker()
    stack.start_worker()
    await asyncio.to_thread(stack.wait_worker)

    # A retry that reaches the stream directly (as after a gateway crash between write and
    # answer) must be recognised from the recovered table, not delivered again.
    state = stack.get_alert(alert_id, "demo-partner-vn-hanoi").json()
    record = AlertRecord.model_validate_json(
        orjson.dumps({**state["alert"], "case_id": None, "enrichment": None})
    )
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            f"{stack.prefix}.inbound", dumps(record), key=alert_id.encode()
        )
    finally:
        await producer.stop()

    async with console(stack, "cn-beijing", resume_after=first["cursor"]) as bj:
        other = await asyncio.to_thread(
            stack.post, "ru-moscow", scam("MSK-CRASH-1", "+84 971 000 701")
        )
        ev = await bj.event(other.json()["alert_id"], "corroborated")
        assert ev["case_id"] == first["case_id"]  # the case index came back too
        assert not [m for m in bj.events if m["alert_id"] == alert_id]


async def test_sigkill_mid_stream_loses_nothing_and_shows_nothing_twice(crash_stack: Stack) -> None:
    stack = crash_stack
    n = 60
    async with console(stack, "ru-moscow") as msk:
        start_cursor = msk.welcome["cursor"]
        ids = []
        for i in range(n):
            r = await asyncio.to_thread(
                stack.post, "vn-hanoi", scam(f"HN-MID-{i}", f"0971 001 {i:03d}")
            )
            assert r.status_code == 202
            ids.append(r.json()["alert_id"])
            if i == n // 2:
                stack.kill_worker()
                stack.start_worker()
        await asyncio.to_thread(stack.wait_worker)
        for alert_id in ids:
            try:
                await msk.event(alert_id, "new", timeout=30)
            except TimeoutError:
                seen = {m["alert_id"] for m in msk.events}
                missing = [i for i in ids if i not in seen]
                states = [stack.get_alert(i, "demo-partner-vn-hanoi").status_code for i in missing]
                log = stack.workdir / "worker.log"
                raise AssertionError(f"missing {len(missing)}: {states}; see {log}") from None
        await asyncio.sleep(2.0)
    new = [m for m in msk.events if m["event"] == "new" and m["alert_id"] in ids]
    twice = [
        (m["alert_id"], m["event_id"], m["cursor"])
        for m in new
        if [x["alert_id"] for x in new].count(m["alert_id"]) > 1
    ]
    assert sorted(m["alert_id"] for m in new) == sorted(ids), twice  # each exactly once
    # A console that reconnects from before the crash replays them once each as well.
    async with console(stack, "ru-moscow", resume_after=start_cursor) as again:
        await asyncio.sleep(1.0)
        replayed = [
            m["alert_id"] for m in again.events if m["event"] == "new" and m["alert_id"] in ids
        ]
        assert sorted(replayed) == sorted(ids)


async def test_a_restarted_worker_resumes_from_its_store_and_a_new_one_rebuilds(
    crash_stack: Stack,
) -> None:
    stack = crash_stack
    items = [scam(f"HN-STORE-{i}", f"0971 002 {i:03d}") for i in range(200)]
    r = await asyncio.to_thread(
        httpx.post,
        f"{stack.url}/v1/alerts/batch",
        json=items,
        headers={"Authorization": "Bearer demo-partner-vn-hanoi"},
        timeout=60,
    )
    ids = [i["alert_id"] for i in r.json()["items"]]
    async with console(stack, "cn-beijing") as bj:
        await bj.counted(r.json()["import_id"], len(ids), timeout=60)  # the list is in
    written = await changelog_records(stack)
    # alerts (its changelog is the alert-state topic), cases, fingerprints, links
    assert written >= 4 * len(ids)

    # SIGKILLed and restarted on the same host: its RocksDB files are still there, so only
    # what they had not seen is read back (nothing, or a handful written just before).
    stack.kill_worker()
    stack.start_worker()
    await asyncio.to_thread(stack.wait_worker)
    assert replayed(stack) < written / 10, f"replayed {replayed(stack)} of {written}"

    # A worker on a new host (no store) rebuilds every table from the changelogs.
    stack.kill_worker()
    shutil.rmtree(stack.workdir / "worker")
    stack.start_worker()
    await asyncio.to_thread(stack.wait_worker)
    assert replayed(stack) >= written

    # Either way the tables are whole: a repeat reaching the stream is still known, and the
    # case index is there for a corroboration.
    state = stack.get_alert(ids[0], "demo-partner-vn-hanoi").json()
    record = AlertRecord.model_validate_json(
        orjson.dumps({**state["alert"], "case_id": None, "enrichment": None})
    )
    async with console(stack, "cn-beijing") as bj:
        producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            # Onto its own lane's topic: a batch item is the bulk lane's to recognise.
            await producer.send_and_wait(
                f"{stack.prefix}.inbound.bulk", dumps(record), key=ids[0].encode()
            )
        finally:
            await producer.stop()
        other = await asyncio.to_thread(
            stack.post, "ru-moscow", scam("MSK-STORE-0", "+84 971 002 000")
        )
        ev = await bj.event(other.json()["alert_id"], "corroborated", timeout=30)
        assert ev["case_id"] == state["alert"]["case_id"]
    # The rebuilt worker counted the repeat as a duplicate (the console could not tell: an
    # event sent again carries the same id and is dropped there). The bulk lane takes it in
    # its own time, so give it some.
    for _ in range(50):
        if worker_metric(stack, "hotline_duplicates_dropped_total") >= 1:
            break
        await asyncio.sleep(0.2)
    assert worker_metric(stack, "hotline_duplicates_dropped_total") >= 1


async def changelog_records(stack: Stack) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.endswith("-changelog")]
        names = [t for t in names if t.startswith(f"hotline-worker-{stack.prefix}-")]
        # the alerts tables' changelogs: one per lane
        names += [f"{stack.prefix}.alert-state", f"{stack.prefix}.alert-state.bulk"]
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    tps = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap)
    await consumer.start()
    try:
        return sum((await consumer.end_offsets(tps)).values())
    finally:
        await consumer.stop()


def replayed(stack: Stack) -> float:
    return worker_metric(stack, "hotline_worker_changelog_replayed_total")


def worker_metric(stack: Stack, name: str) -> float:
    """Sum of `name` over its labels; 0 while no sample exists (a counter never increased)."""
    text = httpx.get(f"http://127.0.0.1:{stack.worker_port}/metrics", timeout=10).text
    return sum(v for (sample, _), v in samples(text).items() if sample == name)


async def test_a_restarted_gateway_resumes_its_alert_states_from_disk(crash_stack: Stack) -> None:
    stack = crash_stack
    async with console(stack, "cn-beijing") as bj:
        r = await asyncio.to_thread(stack.post, "vn-hanoi", scam("HN-GW-1", "0971 003 001"))
        alert_id = r.json()["alert_id"]
        await bj.event(alert_id, "new")
    assert stack.gateway is not None
    stack.gateway.kill()
    stack.gateway.wait()
    stack.start_gateway()  # ready once caught up with the topics
    state = stack.get_alert(alert_id, "demo-partner-vn-hanoi")
    assert state.status_code == 200 and state.json()["status"] == "delivered"
    again = await asyncio.to_thread(stack.post, "vn-hanoi", scam("HN-GW-1", "0971 003 001"))
    assert again.status_code == 202 and again.json()["duplicate"] is True
    assert "reading it anew" not in stack.log("gateway")  # resumed where its store stood
