"""The console socket's AsyncAPI document, and the socket keeping to it (no Kafka needed).

The document is validated by the AsyncAPI project's parser (Node, from package-lock.json, put
in node_modules by scripts/setup): this test fails, never skips, when it is missing.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from gateway import asyncapi, ws
from gateway.main import STATIC, create_app
from gateway.ring import PAYLOAD, ahead_payload, parse_entry
from gateway.socket_messages import CLOSE_CODES, Close, Error
from hotline.settings import Settings

ROOT = Path(__file__).parents[2]
VALIDATE = Path(__file__).with_name("asyncapi_validate.mjs")
MESSAGE_NAMES = {
    "auth",
    "welcome",
    "alert",
    "digest",
    "replay_done",
    "ack",
    "ack_accepted",
    "ping",
    "pong",
    "error",
}
OFFICER = "demo-officer-vn-hanoi"


def parse(document: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    node = shutil.which("node")
    assert node is not None, "Node.js is required: run scripts/setup"
    assert (ROOT / "node_modules/@asyncapi/parser").is_dir(), "run scripts/setup (npm ci)"
    run = subprocess.run(
        [node, str(VALIDATE)],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert run.stdout, run.stderr
    return run.returncode, json.loads(run.stdout)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi.document()


def test_the_asyncapi_document_is_valid_asyncapi_3(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    code, diagnostics = parse(document)
    assert code == 0 and not [d for d in diagnostics if d["severity"] in ("error", "warning")], (
        diagnostics
    )


def test_the_validator_does_reject_a_broken_document(document: dict[str, Any]) -> None:
    broken = copy.deepcopy(document)
    broken["operations"]["receiveAck"]["messages"] = [{"$ref": "#/channels/console/messages/x"}]
    del broken["channels"]["console"]["address"]
    broken["info"].pop("title")
    code, diagnostics = parse(broken)
    assert code == 1 and any(d["severity"] == "error" for d in diagnostics)


def test_the_document_names_every_message_and_close_code(document: dict[str, Any]) -> None:
    channel = document["channels"]["console"]
    assert channel["address"] == "/v1/console/ws"
    assert set(channel["messages"]) == MESSAGE_NAMES == set(document["components"]["messages"])
    codes = {c["code"] for c in channel["x-close-codes"]}
    assert codes == {4401, 4408, 1013, 1009, 1011, 1012} == {int(c) for c in CLOSE_CODES}
    for code in codes:
        assert f"**{code}**" in document["info"]["description"]
    # The alert event is the stream's own model, not a copy.
    assert document["components"]["messages"]["alert"]["payload"] == {
        "$ref": "#/components/schemas/ConsoleEvent"
    }
    assert document["components"]["messages"]["digest"]["payload"] == {
        "$ref": "#/components/schemas/DigestEvent"
    }
    sent = {
        m["$ref"].rsplit("/", 1)[1]
        for op in document["operations"].values()
        for m in op["messages"] + op.get("reply", {}).get("messages", [])
    }
    assert sent == MESSAGE_NAMES


def test_asyncapi_json_is_served_for_the_host_asked(document: dict[str, Any]) -> None:
    c = TestClient(create_app(Settings()))
    r = c.get("/asyncapi.json")
    assert r.status_code == 200
    served = r.json()
    assert served["servers"]["gateway"] == {**document["servers"]["gateway"], "host": "testserver"}
    assert served["channels"] == document["channels"]
    assert served["components"] == document["components"]


# --- the socket keeps to the document ------------------------------------------------------------


def schema_of(document: dict[str, Any], message: str) -> Any:
    payload = document["components"]["messages"][message]["payload"]
    return jsonschema_rs.validator_for({**payload, "components": document["components"]})


def check(document: dict[str, Any], message: dict[str, Any]) -> None:
    validator = schema_of(document, message["type"])
    assert validator.is_valid(message), list(validator.iter_errors(message))


@pytest.fixture
def client() -> Iterator[TestClient]:
    # No lifespan: the hub is not connected, but its feeds exist, so a sign-in works.
    yield TestClient(create_app(Settings()))


def test_a_sign_in_sends_only_documented_messages(
    client: TestClient, document: dict[str, Any]
) -> None:
    with client.websocket_connect("/v1/console/ws") as s:
        s.send_json({"type": "auth", "token": OFFICER, "resume_after": None})
        welcome = s.receive_json()
        assert welcome["type"] == "welcome" and welcome["agency"] == "vn-hanoi"
        check(document, welcome)
        done = s.receive_json()
        assert done["type"] == "replay_done"
        check(document, done)
        s.send_json({"type": "ping"})
        pong = s.receive_json()
        assert pong == {"type": "pong"}
        check(document, pong)
        for bad in ("not json", "[1]", '{"type": 7}', '{"type": "ack"}', '{"type": "nope"}'):
            s.send_text(bad)
            error = s.receive_json()
            assert error["code"] == "bad_message" and "alert_id" not in error, error
            check(document, error)


def test_a_bad_token_closes_4401(client: TestClient) -> None:
    for hello in ({"type": "auth", "token": "nope"}, {"type": "ack", "alert_id": "x"}, "junk"):
        with client.websocket_connect("/v1/console/ws") as s:
            s.send_text(json.dumps(hello) if isinstance(hello, dict) else hello)
            with pytest.raises(WebSocketDisconnect) as closed:
                s.receive_json()
        assert closed.value.code == Close.UNAUTHORIZED == 4401


def test_no_auth_in_time_closes_4408(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws, "AUTH_TIMEOUT_S", 0.05)
    with client.websocket_connect("/v1/console/ws") as s:
        with pytest.raises(WebSocketDisconnect) as closed:
            s.receive_json()
    assert closed.value.code == Close.AUTH_TIMEOUT == 4408


def test_error_builder_leaves_out_what_does_not_apply(document: dict[str, Any]) -> None:
    plain = json.loads(Error(code="rate_limited", detail="slow down").json_bytes())
    assert plain == {"type": "error", "code": "rate_limited", "detail": "slow down"}
    failed = json.loads(Error(code="unknown_alert", detail="no", alert_id="al-1").json_bytes())
    assert failed["alert_id"] == "al-1"
    for message in (plain, failed):
        check(document, message)


def test_the_hubs_alert_payloads_are_documented_alert_events(document: dict[str, Any]) -> None:
    event = {
        "type": "alert",
        "event": "new",
        "event_id": "ev-1",
        "alert_id": "al-1",
        "case_id": "cs-1",
        "at": "2026-12-01T10:00:00Z",
        "alert": {
            "alert_id": "al-1",
            "sender": "cn-beijing",
            "received_at": "2026-12-01T09:59:59Z",
            "content_hash": "h",
            "lane": "urgent",
            "body": {
                "source_ref": "BJ-1",
                "kind": "scam_number",
                "severity": "moderate",
                "urgency": "expected",
                "title": "Scam number",
                "subject": {"number": "+86 10 5555 0000"},
            },
        },
    }
    entry = parse_entry(41, json.dumps(event).encode())
    live, ahead = json.loads(entry[PAYLOAD]), json.loads(ahead_payload(entry))
    assert (live["cursor"], ahead["cursor"]) == (41, None)
    for message in (live, ahead):
        check(document, message)


def test_the_console_page_handles_close_codes_as_documented() -> None:
    source = (STATIC / "socket.js").read_text(encoding="utf-8")
    bad_token = re.search(r"CLOSE_BAD_TOKEN = (\d+);", source)
    at_once = re.search(r"CLOSE_FELL_BEHIND = new Set\(\[([\d, ]*)\]\)", source)
    assert bad_token and at_once
    assert int(bad_token.group(1)) == Close.UNAUTHORIZED
    # "at once" in the document is exactly the set the page reconnects at once for.
    documented = {int(c) for c, doc in CLOSE_CODES.items() if "at once" in doc.client}
    assert {int(c) for c in at_once.group(1).split(",")} == documented == {Close.TRY_AGAIN}
    assert "sign out" in CLOSE_CODES[Close.UNAUTHORIZED].client
