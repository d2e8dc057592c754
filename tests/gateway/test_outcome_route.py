"""POST /v1/alerts/{id}/outcomes: a recipient's report goes to the lane that holds the alert,
written before the 202; anyone else hears 403 (its sender) or 404 (everyone it was not sent to);
what the sender and others then read in GET is need-to-know's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway import outcomes as outcome_route
from gateway.main import create_app
from hotline.codec import dumps, loads
from hotline.models import AlertState, Outcome, OutcomeCommand, OutcomeIn, Receipt
from hotline.settings import Settings
from hotline.topics import topics
from tests.gateway.fakes import FakePublisher
from tests.streams.test_process import NOW, person, record

HANOI = {"Authorization": "Bearer demo-partner-vn-hanoi"}
BEIJING = {"Authorization": "Bearer demo-partner-cn-beijing"}
BEIJING_OFFICER = {"Authorization": "Bearer demo-officer-cn-beijing"}
MOSCOW = {"Authorization": "Bearer demo-partner-ru-moscow"}


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, FakePublisher, Any]]:
    settings = Settings(data_dir=tmp_path)
    app = create_app(settings)
    publisher = FakePublisher()
    services = app.state.services
    services.publisher = publisher
    for topic, store in services.known.states.by_topic.items():
        store.open(tmp_path / topic)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as c:
        yield c, publisher, services
    services.intake.close()
    services.known.close()


def delivered(services: Any, *outcomes: Outcome) -> AlertState:
    """Hanoi's alert as the stream stored it: delivered to Beijing only."""
    rec = record(
        "vn-hanoi", person("OR-1", "Trần Bình", "1970-03-03", [], recipients=["cn-beijing"])
    )
    state = AlertState(
        alert=rec,
        status="delivered",
        receipts=[Receipt(agency="cn-beijing", delivered_at=NOW)],
        outcomes=list(outcomes),
        updated_at=NOW,
    )
    topic = topics(services.settings).alert_state
    services.known.apply(topic, 0, [(rec.alert_id, dumps(state))], [0])
    return state


async def test_a_recipients_outcome_is_written_to_its_lane_before_the_202(served: Any) -> None:
    c, publisher, services = served
    state = delivered(services)
    alert_id = state.alert.alert_id
    body = {"kind": "located", "note": "已在北京站找到\n正在核实"}
    r = await c.post(f"/v1/alerts/{alert_id}/outcomes", json=body, headers=BEIJING_OFFICER)
    assert r.status_code == 202, r.text
    answer = r.json()
    assert answer["alert_id"] == alert_id and answer["kind"] == "located"
    [(topic, key, value)] = publisher.written
    assert topic == topics(services.settings).acks
    assert key == alert_id.encode()  # the alert's group, as the alert itself was keyed
    cmd = loads(OutcomeCommand, value)
    assert cmd.outcome.agency == "cn-beijing" and cmd.outcome.note == body["note"]
    assert cmd.outcome.outcome_id == answer["outcome_id"]
    # A retry is the same report: the same id, for the stream to record once.
    again = await c.post(f"/v1/alerts/{alert_id}/outcomes", json=body, headers=BEIJING)
    assert again.json()["outcome_id"] == answer["outcome_id"]


async def test_only_a_recipient_reports_and_a_stranger_learns_nothing(
    served: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, publisher, services = served
    monkeypatch.setattr(outcome_route, "STATE_WAIT_S", 0.05)
    alert_id = delivered(services).alert.alert_id
    body = {"kind": "located"}
    sender = await c.post(f"/v1/alerts/{alert_id}/outcomes", json=body, headers=HANOI)
    assert sender.status_code == 403 and sender.json()["error"] == "forbidden"
    third = await c.post(f"/v1/alerts/{alert_id}/outcomes", json=body, headers=MOSCOW)
    unknown = await c.post("/v1/alerts/al-none/outcomes", json=body, headers=MOSCOW)
    assert third.status_code == unknown.status_code == 404
    assert third.json()["error"] == unknown.json()["error"] == "not_found"
    assert publisher.written == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "arrested"}, "kind"),
        ({}, "kind"),
        ({"kind": "located", "note": "a\u202eb"}, "note"),
        ({"kind": "located", "note": "x" * 2001}, "note"),
        ({"kind": "located", "by": "ru-moscow"}, "by"),
    ],
)
async def test_an_unreadable_report_is_a_422_naming_the_field(
    served: Any, body: dict[str, Any], field: str
) -> None:
    c, publisher, services = served
    alert_id = delivered(services).alert.alert_id
    r = await c.post(f"/v1/alerts/{alert_id}/outcomes", json=body, headers=BEIJING)
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_outcome"
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert publisher.written == []


async def test_kafka_not_confirming_is_a_503_to_retry(served: Any) -> None:
    c, publisher, services = served
    alert_id = delivered(services).alert.alert_id
    publisher.failing = True
    r = await c.post(f"/v1/alerts/{alert_id}/outcomes", json={"kind": "other"}, headers=BEIJING)
    assert r.status_code == 503 and "retry-after" in r.headers
    assert r.json()["error"] == "kafka_unavailable"


async def test_get_shows_the_sender_every_outcome_and_a_recipient_its_own(served: Any) -> None:
    c, _, services = served
    later = NOW + timedelta(hours=1)
    mine = Outcome.reported("x", "cn-beijing", OutcomeIn(kind="detained"), later)
    theirs = Outcome.reported("x", "ru-moscow", OutcomeIn(kind="not_found"), later)
    alert_id = delivered(services, mine, theirs).alert.alert_id
    sender = (await c.get(f"/v1/alerts/{alert_id}", headers=HANOI)).json()
    assert [o["kind"] for o in sender["outcomes"]] == ["detained", "not_found"]
    recipient = (await c.get(f"/v1/alerts/{alert_id}", headers=BEIJING)).json()
    assert [o["agency"] for o in recipient["outcomes"]] == ["cn-beijing"]
    assert (await c.get(f"/v1/alerts/{alert_id}", headers=MOSCOW)).status_code == 404
