"""What only a gateway sees, on the record: deliveries and lookups reported (no Kafka)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import orjson
import pytest

from gateway import audit_reporter
from gateway.audit_reporter import AuditReporter
from hotline import metrics
from hotline.audit import AuditEvent
from hotline.registry import NumberQuery, PersonQuery
from hotline.settings import Settings
from hotline.topics import topics
from tests.gateway.fakes import FakePublisher

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_an_event_shown_twice_is_one_exchange_another_event_is_another() -> None:
    """Two consoles of the agency, or two gateways, show the same event: one entry."""
    first = audit_reporter.delivered("cn-beijing", "al-1", "new", AT)
    again = audit_reporter.delivered("cn-beijing", "al-1", "new", AT.replace(minute=1))
    assert first.event_id == again.event_id
    assert audit_reporter.delivered("cn-beijing", "al-1", "cancelled", AT).event_id != (
        first.event_id
    )
    assert audit_reporter.delivered("ru-moscow", "al-1", "new", AT).event_id != first.event_id
    assert (first.agency, first.action, first.alert_id) == ("cn-beijing", "delivered", "al-1")
    assert first.detail == {"event": "new"}


def test_a_lookup_records_who_asked_for_what_each_time() -> None:
    query = NumberQuery(e164="+84912345670")
    one = audit_reporter.looked_up("ru-moscow", query, 2, AT)
    two = audit_reporter.looked_up("ru-moscow", query, 2, AT)
    assert one.event_id != two.event_id  # each question is an exchange of its own
    assert (one.agency, one.action, one.alert_id) == ("ru-moscow", "looked_up", None)
    assert one.detail == {"kind": "number", "e164": "+84912345670", "matches": "2"}
    person = PersonQuery(
        name="WANG JIANGUO", name_key="jianguo wang", date_of_birth=date(1980, 1, 2)
    )
    assert audit_reporter.looked_up("vn-hanoi", person, 0, AT).detail == {
        "kind": "person",
        "name": "WANG JIANGUO",
        "date_of_birth": "1980-01-02",
        "matches": "0",
    }


async def _written(publisher: FakePublisher, n: int) -> list[AuditEvent]:
    for _ in range(500):
        if len(publisher.written) >= n:
            break
        await asyncio.sleep(0.01)
    return [AuditEvent.model_validate_json(v) for _, _, v in publisher.written]


async def test_reports_reach_the_audit_topic_keyed_by_whose_record_they_go_on() -> None:
    publisher, settings = FakePublisher(), Settings()
    reporter = AuditReporter(settings, publisher)  # type: ignore[arg-type]
    reporter.start()
    reporter.delivered("cn-beijing", "al-1", "new")
    reporter.report(audit_reporter.looked_up("ru-moscow", NumberQuery(e164="+1"), 0, AT))
    events = await _written(publisher, 2)
    await reporter.stop()
    assert [e.action for e in events] == ["delivered", "looked_up"]
    assert {t for t, _, _ in publisher.written} == {topics(settings).audit_events}
    assert [k for _, k, _ in publisher.written] == [b"cn-beijing", b"ru-moscow"]


async def test_a_report_kafka_does_not_take_is_tried_again_not_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(audit_reporter, "RETRY_S", 0.01)
    publisher = FakePublisher()
    publisher.failing = True
    reporter = AuditReporter(Settings(), publisher)  # type: ignore[arg-type]
    reporter.start()
    reporter.delivered("cn-beijing", "al-1", "new")
    await asyncio.sleep(0.1)
    assert publisher.written == []
    publisher.failing = False  # Kafka back
    events = await _written(publisher, 1)
    await reporter.stop()
    assert [(e.agency, e.alert_id) for e in events] == [("cn-beijing", "al-1")]


async def test_stopping_writes_out_what_is_queued() -> None:
    publisher = FakePublisher()
    reporter = AuditReporter(Settings(), publisher)  # type: ignore[arg-type]
    reporter.start()
    for i in range(1200):
        reporter.delivered("cn-beijing", f"al-{i}", "new")
    await reporter.stop()
    assert len(publisher.written) == 1200
    assert len({orjson.loads(v)["event_id"] for _, _, v in publisher.written}) == 1200


async def test_a_report_beyond_the_queue_is_counted_and_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(audit_reporter, "QUEUE_LIMIT", 2)
    reporter = AuditReporter(Settings(), FakePublisher())  # type: ignore[arg-type]
    before = metrics.AUDIT_REPORTS_LOST._value.get()
    for i in range(3):
        reporter.delivered("cn-beijing", f"al-{i}", "new")
    assert metrics.AUDIT_REPORTS_LOST._value.get() == before + 1
    assert "audit report lost" in caplog.text
