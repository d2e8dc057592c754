"""The AsyncAPI 3.0 document of the console socket, generated from gateway/socket_messages.py."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from . import socket_messages as sm

ADDRESS = "/v1/console/ws"
SCHEMAS = "#/components/schemas/{model}"
router = APIRouter(include_in_schema=False)

# Message name -> model, in the order a connection sees them.
MESSAGES: dict[str, tuple[type[BaseModel], str]] = {
    "auth": (sm.Auth, "Sign in (client, first message)"),
    "welcome": (sm.Welcome, "Signed in"),
    "alert": (sm.AlertEvent, "An alert event: backlog, then live"),
    "digest": (sm.DigestEvent, "A shared list's progress, per partition of the bulk lane"),
    "replay_done": (sm.ReplayDone, "Backlog sent; live from here"),
    "ack": (sm.Ack, "Acknowledge an alert (client)"),
    "ack_accepted": (sm.AckAccepted, "Acknowledgement stored"),
    "ping": (sm.Ping, "Heartbeat (client)"),
    "pong": (sm.Pong, "Heartbeat answer"),
    "error": (sm.Error, "A message the gateway could not act on; the socket stays open"),
}
_CLIENT: frozenset[type[BaseModel]] = frozenset(sm.CLIENT_MESSAGES)


def _operation(
    action: Literal["send", "receive"], names: list[str], summary: str, reply: list[str] | None
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "action": action,
        "channel": {"$ref": "#/channels/console"},
        "summary": summary,
        "messages": [{"$ref": f"#/channels/console/messages/{n}"} for n in names],
    }
    if reply:
        op["reply"] = {
            "channel": {"$ref": "#/channels/console"},
            "messages": [{"$ref": f"#/channels/console/messages/{n}"} for n in reply],
        }
    return op


def _close_codes() -> list[dict[str, Any]]:
    return [
        {"code": int(code), "name": code.name.lower(), "reason": doc.reason, "client": doc.client}
        for code, doc in sm.CLOSE_CODES.items()
    ]


def document(host: str = "localhost:8000", protocol: str = "ws") -> dict[str, Any]:
    """The whole document; `host` and `protocol` name the gateway it is served by."""
    inputs: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (model, "validation" if model in _CLIENT else "serialization")
        for model, _ in MESSAGES.values()
    ]
    keys, defs = models_json_schema(inputs, ref_template=SCHEMAS)
    schemas = {name: _asyncapi_schema(s) for name, s in defs.get("$defs", {}).items()}
    messages = {
        name: {
            "name": name,
            "title": summary,
            "contentType": "application/json",
            "payload": keys[(model, mode)],
        }
        for (name, (model, summary)), (_, mode) in zip(MESSAGES.items(), inputs, strict=True)
    }
    codes = "\n".join(
        f"- **{c['code']}** ({c['name']}): {c['reason']}. Client: {c['client']}."
        for c in _close_codes()
    )
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Hotline console socket",
            "version": "0.1.0",
            "description": (
                "The duty officer's socket: text frames of JSON, at most 64 KiB each and 20 "
                "messages a second. The first message is `auth`; the gateway answers "
                "`welcome`, sends the backlog (`alert` events) and `replay_done`, then live "
                "events. Operations are the gateway's: it receives what a console sends.\n\n"
                "An `outcome` event tells an alert's sender (and the recipient that reported "
                "it) what came of the alert: `outcome` is the report (`kind`, `note`, `at`), "
                "`by` its reporter, `outcomes` every report the viewer may see. Outcomes are "
                "reported over HTTP, `POST /v1/alerts/{alert_id}/outcomes`.\n\n"
                f"Close codes:\n{codes}"
            ),
        },
        "servers": {
            "gateway": {
                "host": host,
                "protocol": protocol,
                "description": "the gateway serving this document",
            }
        },
        "defaultContentType": "application/json",
        "channels": {
            "console": {
                "address": ADDRESS,
                "title": "Console socket",
                "servers": [{"$ref": "#/servers/gateway"}],
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in MESSAGES},
                "bindings": {"ws": {"bindingVersion": "0.1.0"}},
                "x-close-codes": _close_codes(),
            }
        },
        "operations": {
            "receiveAuth": _operation("receive", ["auth"], "Sign in", ["welcome"]),
            "sendAlertEvent": _operation("send", ["alert"], "Alert events", None),
            "sendDigest": _operation("send", ["digest"], "Shared lists' digests", None),
            "sendReplayDone": _operation("send", ["replay_done"], "End of the backlog", None),
            "receiveAck": _operation("receive", ["ack"], "Acknowledge", ["ack_accepted", "error"]),
            "receivePing": _operation("receive", ["ping"], "Heartbeat", ["pong"]),
            "sendError": _operation("send", ["error"], "Errors", None),
        },
        "components": {"messages": messages, "schemas": schemas},
    }


def _asyncapi_schema(schema: Any) -> Any:
    """pydantic's JSON Schema as an AsyncAPI Schema: there `discriminator` names the property."""
    if isinstance(schema, dict):
        out = {k: _asyncapi_schema(v) for k, v in schema.items()}
        if isinstance(out.get("discriminator"), dict):
            out["discriminator"] = out["discriminator"]["propertyName"]
        return out
    if isinstance(schema, list):
        return [_asyncapi_schema(v) for v in schema]
    return schema


@router.get("/asyncapi.json")
async def asyncapi_json(request: Request) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of /v1/console/ws."""
    protocol = "wss" if request.url.scheme == "https" else "ws"
    return document(host=request.url.netloc, protocol=protocol)
