"""The console socket in process: sign-in, pings, bad messages and acknowledgements, with a
fake publisher and the alert states handed in (no Kafka; the live path is tests/integration's,
the pump's ordering tests/gateway/test_console_ahead.py's)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from gateway import ws
from gateway.main import create_app
from gateway.socket_messages import Close
from hotline.codec import dumps, loads
from hotline.models import AckCommand, AlertState, Receipt
from hotline.settings import Settings
from hotline.topics import topics
from tests.fixtures.records import record
from tests.gateway.fakes import FakePublisher
from tests.gateway.test_intake import scam

BEIJING_OFFICER = "demo-officer-cn-beijing"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def delivered_to(agency: str, lane: str = "urgent") -> AlertState:
    alert = record("vn-hanoi", scam("HN-S-1", urgency="immediate"), lane=lane, at=NOW)
    receipt = Receipt(agency=agency, delivered_at=NOW)
    return AlertState(alert=alert, status="delivered", receipts=[receipt], updated_at=NOW)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # No lifespan (TestClient without `with`): the hub never reads Kafka; the states the
    # stream would have written are handed in through `known.wait_for`.
    monkeypatch.setattr(ws, "STATE_WAIT_S", 0.05)
    app = create_app(Settings(data_dir=tmp_path))
    app.state.services.publisher = FakePublisher()
    app.state.states = {}

    async def wait_for(alert_id: str, timeout: float) -> bytes | None:
        state = app.state.states.get(alert_id)
        return None if state is None else dumps(state)

    app.state.services.known.wait_for = wait_for
    yield app
    app.state.services.intake.close()


def signed_in(client: TestClient, token: str = BEIJING_OFFICER) -> Any:
    socket = client.websocket_connect("/v1/console/ws").__enter__()
    socket.send_json({"type": "auth", "token": token})
    welcome = socket.receive_json()
    assert welcome["type"] == "welcome", welcome
    assert socket.receive_json()["type"] == "replay_done"
    return socket


def test_a_signed_in_officer_is_welcomed_as_its_agency_and_answered_a_ping(app: Any) -> None:
    client = TestClient(app)
    with client.websocket_connect("/v1/console/ws") as socket:
        socket.send_json({"type": "auth", "token": BEIJING_OFFICER})
        welcome = socket.receive_json()
        assert (welcome["type"], welcome["agency"]) == ("welcome", "cn-beijing")
        assert {a["id"] for a in welcome["agencies"]} >= {"vn-hanoi", "cn-beijing", "ru-moscow"}
        assert socket.receive_json()["type"] == "replay_done"
        socket.send_json({"type": "ping"})
        assert socket.receive_json() == {"type": "pong"}


@pytest.mark.parametrize(
    "first",
    [
        {"type": "auth", "token": "nobody"},
        {"type": "auth", "token": "demo-partner-cn-beijing"},  # a partner key is no token
        {"type": "ping"},
    ],
)
def test_anything_but_a_valid_officer_token_first_is_closed_unauthorized(
    app: Any, first: dict[str, Any]
) -> None:
    with TestClient(app).websocket_connect("/v1/console/ws") as socket:
        socket.send_json(first)
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert closed.value.code == Close.UNAUTHORIZED


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ("not json", "messages must be JSON objects"),
        ('{"type": "shout"}', "expected a JSON object with 'type' 'ack' or 'ping'"),
        ('{"type": "ack"}', "alert_id"),
    ],
)
def test_a_bad_message_is_answered_and_the_socket_stays_open(
    app: Any, message: str, says: str
) -> None:
    socket = signed_in(TestClient(app))
    socket.send_text(message)
    error = socket.receive_json()
    assert (error["type"], error["code"]) == ("error", "bad_message")
    assert says in error["detail"]
    socket.send_json({"type": "ping"})
    assert socket.receive_json() == {"type": "pong"}
    socket.close()


def test_an_ack_of_an_alert_not_delivered_to_the_agency_is_refused(app: Any) -> None:
    state = delivered_to("ru-moscow")
    app.state.states[state.alert.alert_id] = state
    socket = signed_in(TestClient(app))
    for alert_id in (state.alert.alert_id, "al-unknown"):
        socket.send_json({"type": "ack", "alert_id": alert_id})
        error = socket.receive_json()
        assert (error["code"], error["alert_id"]) == ("unknown_alert", alert_id)
    socket.close()
    assert app.state.services.publisher.written == []


@pytest.mark.parametrize("lane", ["urgent", "bulk"])
def test_an_ack_goes_to_the_lane_that_holds_the_alert_and_is_confirmed(app: Any, lane: str) -> None:
    state = delivered_to("cn-beijing", lane)
    alert_id = state.alert.alert_id
    app.state.states[alert_id] = state
    app.state.services.known.note_accepted(alert_id, dumps(state.alert), lane)
    socket = signed_in(TestClient(app))
    socket.send_json({"type": "ack", "alert_id": alert_id})
    assert socket.receive_json() == {"type": "ack_accepted", "alert_id": alert_id}
    socket.close()
    [(topic, key, value)] = app.state.services.publisher.written
    assert topic == topics(Settings()).acks_of(lane)
    assert key == alert_id.encode()  # an alert's group starts at the alert itself
    cmd = loads(AckCommand, value)
    assert (cmd.alert_id, cmd.agency) == (alert_id, "cn-beijing")


def test_an_ack_kafka_does_not_confirm_is_answered_as_such(app: Any) -> None:
    state = delivered_to("cn-beijing")
    app.state.states[state.alert.alert_id] = state
    app.state.services.publisher.failing = True
    socket = signed_in(TestClient(app))
    socket.send_json({"type": "ack", "alert_id": state.alert.alert_id})
    error = socket.receive_json()
    assert (error["code"], error["alert_id"]) == ("kafka_unavailable", state.alert.alert_id)
    socket.close()
