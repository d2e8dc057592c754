"""The OpenAPI document as a contract: request bodies with examples, and FastAPI's leftovers out.

Routes declare their own operation ids, credentials and error answers; this module adds what
FastAPI cannot derive from a route that reads its body itself (the alert and outcome routes do,
to bound its size and answer per item): the alert and outcome schemas as named components, the
single, batch and outcome bodies with their media types, and examples taken from the sample
alerts (hotline/samples).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from hotline.alert_in import alert_in_adapter
from hotline.models import OutcomeIn
from hotline.samples import SAMPLE_ALERTS

ALERT_REF = "#/components/schemas/AlertIn"
OUTCOME_REF = "#/components/schemas/OutcomeIn"
EXAMPLE_SENDER = "vn-hanoi"  # every example is one agency's, so all of them can be tried at once


def _demo_examples() -> dict[str, dict[str, Any]]:
    """The first alert of each kind and the first follow-up that one demo agency sends."""
    out: dict[str, dict[str, Any]] = {}
    for line in SAMPLE_ALERTS.read_text(encoding="utf-8").splitlines():
        doc = orjson.loads(line)
        if doc.pop("_from") != EXAMPLE_SENDER:
            continue
        name = doc["kind"] if doc["msg_type"] == "alert" else doc["msg_type"]
        if name in out:
            continue
        summary = f"{doc['kind']} ({doc['msg_type']}): {doc['title']}"
        out[name] = {"summary": summary, "value": doc}
    return out


EXAMPLES = _demo_examples()

ALERT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": ALERT_REF}, "examples": EXAMPLES}},
    }
}

_BATCH_ITEM = {
    # Any item is answered on its own (a bad one is a 422 in its `items` entry, not for the
    # whole batch), so the schema shows the alert without refusing anything else.
    "anyOf": [{"$ref": ALERT_REF}, {"description": "anything else: rejected alone, in its item"}],
}
_BATCH_VALUES = [e["value"] for e in EXAMPLES.values() if e["value"]["msg_type"] == "alert"]
BATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "Up to 10,000 alerts, each as for `POST /v1/alerts`: a JSON array, or NDJSON with "
            "`Content-Type: application/x-ndjson` (one alert a line; a line that is not JSON "
            "is rejected alone)."
        ),
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": _BATCH_ITEM},
                "example": _BATCH_VALUES,
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "one JSON alert a line"},
                "example": "\n".join(orjson.dumps(v).decode() for v in _BATCH_VALUES) + "\n",
            },
        },
    }
}


OUTCOME_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"$ref": OUTCOME_REF},
                "examples": {
                    "located": {
                        "summary": "located, with a note in the reporter's language",
                        "value": {"kind": "located", "note": "已在北京站找到，正在核实身份。"},
                    },
                    "number_blocked": {
                        "summary": "number_blocked, no note",
                        "value": {"kind": "number_blocked"},
                    },
                },
            }
        },
    }
}


# The list a batch belongs to. Read by the route itself (gateway/alerts.py), and documented
# here rather than as a typed parameter: an optional one would be described as "string or
# null", and clients (and fuzzers) would read "null" as something to send.
IMPORT_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"
IMPORT_ID_PARAM: dict[str, Any] = {
    "name": "import_id",
    "in": "query",
    "required": False,
    "description": (
        "The shared list the batch belongs to: every batch of one list with the same id, so its"
        " recipients see it as one digest. Without it the batch is a list of its own."
    ),
    "schema": {"type": "string", "pattern": f"^{IMPORT_ID_PATTERN}$", "maxLength": 64},
}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    alert = alert_in_adapter.json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(alert.pop("$defs", {}))
    schemas["AlertIn"] = {"title": "AlertIn", **alert}
    outcome = OutcomeIn.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(outcome.pop("$defs", {}))
    schemas["OutcomeIn"] = outcome
    _drop_unused_validation_error(doc)
    return doc


def _drop_unused_validation_error(doc: dict[str, Any]) -> None:
    """FastAPI documents a 422 `HTTPValidationError` for any path parameter; the gateway's 422s
    all have the ErrorBody shape, and a path of any text is valid, so that answer never comes."""
    for item in doc["paths"].values():
        for op in item.values():
            answer = op.get("responses", {}).get("422", {})
            ref = answer.get("content", {}).get("application/json", {}).get("schema", {})
            if ref.get("$ref", "").endswith("/HTTPValidationError"):
                del op["responses"]["422"]
    text = orjson.dumps(doc["paths"]).decode()
    schemas = doc["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        if f'/{name}"' not in text:
            schemas.pop(name, None)
