"""The OpenAPI document as a contract, and /docs and /redoc served without any outside host."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from gateway.contract import EXAMPLE_SENDER, EXAMPLES
from gateway.main import create_app
from hotline.alert_in import alert_in_adapter
from hotline.samples import SAMPLE_ALERTS
from hotline.settings import Settings

PARTNER = {"Authorization": f"Bearer demo-partner-{EXAMPLE_SENDER}"}


@pytest.fixture(scope="module")
def client() -> TestClient:
    # Without `with`, TestClient runs no lifespan: the app never tries to reach Kafka.
    return TestClient(create_app(Settings()), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def doc(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    document: dict[str, Any] = r.json()
    return document


def operations(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in doc["paths"].values() for op in item.values()}


def validator(doc: dict[str, Any], name: str) -> Any:
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return jsonschema_rs.validator_for(schema)


def test_operation_ids_are_stable(doc: dict[str, Any]) -> None:
    found = {
        (method, path): op["operationId"]
        for path, item in doc["paths"].items()
        for method, op in item.items()
    }
    assert found == {
        ("post", "/v1/alerts"): "postAlert",
        ("post", "/v1/alerts/batch"): "postAlertBatch",
        ("get", "/v1/alerts/{alert_id}"): "getAlert",
        ("post", "/v1/alerts/{alert_id}/outcomes"): "postOutcome",
        ("get", "/v1/lookup"): "lookup",
        ("get", "/v1/numbers/changes"): "numberChanges",
        ("get", "/v1/audit"): "getAudit",
        ("get", "/healthz"): "healthz",
        ("get", "/readyz"): "readyz",
        ("get", "/metrics"): "metrics",
    }


def test_each_operation_names_the_credential_it_takes(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert set(schemes) == {"partnerKey", "officerToken", "operatorToken"}
    assert all(s == {**s, "type": "http", "scheme": "bearer"} for s in schemes.values())
    ops = operations(doc)
    assert ops["postAlert"]["security"] == [{"partnerKey": []}]
    assert ops["postAlertBatch"]["security"] == [{"partnerKey": []}]
    # Either credential: a list of alternatives.
    assert ops["getAlert"]["security"] == [{"partnerKey": []}, {"officerToken": []}]
    assert ops["postOutcome"]["security"] == [{"partnerKey": []}, {"officerToken": []}]
    assert ops["lookup"]["security"] == [{"partnerKey": []}, {"officerToken": []}]
    assert ops["numberChanges"]["security"] == [{"partnerKey": []}, {"officerToken": []}]
    assert ops["getAudit"]["security"] == [{"partnerKey": []}, {"officerToken": []}]
    assert ops["metrics"]["security"] == [{"operatorToken": []}]
    assert "security" not in ops["healthz"] and "security" not in ops["readyz"]


ERRORS = {
    "postAlert": {"401", "409", "413", "422", "429", "503"},
    "postAlertBatch": {"401", "413", "422", "429"},
    "getAlert": {"401", "404"},
    "postOutcome": {"401", "403", "404", "413", "422", "503"},
    "lookup": {"401", "422", "503"},
    "numberChanges": {"401", "422"},
    "metrics": {"401"},
}


@pytest.mark.parametrize("operation", sorted(ERRORS))
def test_every_error_answer_is_documented_with_the_error_model(
    doc: dict[str, Any], operation: str
) -> None:
    responses = operations(doc)[operation]["responses"]
    errors = {s for s in responses if s[0] in "45"}
    assert errors == ERRORS[operation]
    for status in errors:
        content = responses[status]["content"]
        assert content == {
            "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
        }
        headers = responses[status].get("headers", {})
        if status in ("429", "503"):
            assert headers["Retry-After"]["schema"]["type"] == "integer"
        else:
            assert "Retry-After" not in headers


def test_fastapis_own_validation_error_model_is_not_in_the_document(doc: dict[str, Any]) -> None:
    text = json.dumps(doc)
    assert "HTTPValidationError" not in text and '/ValidationError"' not in text


def test_the_error_model_keeps_the_public_shape(doc: dict[str, Any]) -> None:
    body = doc["components"]["schemas"]["ErrorBody"]
    assert body["required"] == ["error", "detail"]
    assert set(body["properties"]) == {"error", "detail", "errors", "retry_after", "alert_id"}
    field = doc["components"]["schemas"]["FieldError"]
    assert set(field["required"]) == {"field", "message", "type"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", "/v1/alerts", {}, 401),
        ("GET", "/v1/alerts/al-x", {"headers": PARTNER}, 404),
        ("GET", "/metrics", {"headers": PARTNER}, 401),
        ("POST", "/v1/alerts", {"headers": PARTNER, "json": {"kind": "scam_number"}}, 422),
        ("POST", "/v1/alerts", {"headers": PARTNER, "content": b"{"}, 422),
        ("POST", "/v1/alerts", {"headers": PARTNER, "content": b"x" * (2 << 20)}, 413),
        ("POST", "/v1/alerts/batch", {"headers": PARTNER, "json": {"not": "a list"}}, 422),
        ("POST", "/v1/alerts/al-x/outcomes", {"headers": PARTNER, "json": {"kind": "won"}}, 422),
        ("POST", "/v1/alerts/al-x/outcomes", {"headers": PARTNER, "content": b"x" * 20000}, 413),
        ("POST", "/v1/alerts/al-x/outcomes", {"json": {"kind": "located"}}, 401),
    ],
)
def test_real_error_answers_match_the_documented_model(
    client: TestClient,
    doc: dict[str, Any],
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
) -> None:
    r = client.request(method, path, **kwargs)
    assert r.status_code == status, r.text
    assert validator(doc, "ErrorBody").is_valid(r.json()), r.json()


def test_a_429_carries_retry_after_in_header_and_body(doc: dict[str, Any]) -> None:
    app = create_app(Settings(partner_rate_per_s=0.01, partner_burst=1))
    c = TestClient(app, raise_server_exceptions=False)
    c.post("/v1/alerts", json={}, headers=PARTNER)
    r = c.post("/v1/alerts", json={}, headers=PARTNER)
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) == r.json()["retry_after"] >= 1
    assert validator(doc, "ErrorBody").is_valid(r.json())


def test_the_batch_body_is_documented_in_both_media_types(doc: dict[str, Any]) -> None:
    body = operations(doc)["postAlertBatch"]["requestBody"]
    assert body["required"] is True
    content = body["content"]
    assert set(content) == {"application/json", "application/x-ndjson"}
    items = content["application/json"]["schema"]["items"]
    assert {"$ref": "#/components/schemas/AlertIn"} in items["anyOf"]
    lines = content["application/x-ndjson"]["example"].splitlines()
    assert [json.loads(line) for line in lines] == content["application/json"]["example"]


def test_a_body_declared_as_json_must_be_an_array(client: TestClient) -> None:
    r = client.post("/v1/alerts/batch", json={"kind": "scam_number"}, headers=PARTNER)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    empty = client.post(
        "/v1/alerts/batch",
        content=b"\n",
        headers={**PARTNER, "Content-Type": "application/x-ndjson"},
    )
    assert empty.status_code == 200 and empty.json()["items"] == []


def test_examples_are_demo_alerts_and_valid_against_the_alert_schema(doc: dict[str, Any]) -> None:
    demo = [json.loads(line) for line in SAMPLE_ALERTS.read_text(encoding="utf-8").splitlines()]
    examples = operations(doc)["postAlert"]["requestBody"]["content"]["application/json"][
        "examples"
    ]
    assert set(examples) == {"wanted_person", "fraud_pattern", "scam_number", "update"}
    assert examples == EXAMPLES
    alert = validator(doc, "AlertIn")
    batch = operations(doc)["postAlertBatch"]["requestBody"]["content"]["application/json"]
    for value in [e["value"] for e in examples.values()] + batch["example"]:
        assert {**value, "_from": EXAMPLE_SENDER} in demo
        assert alert.is_valid(value), list(alert.iter_errors(value))
        alert_in_adapter.validate_python(value, strict=False)  # the model agrees with its schema
    assert not alert.is_valid({**examples["scam_number"]["value"], "_from": EXAMPLE_SENDER})


# --- /docs and /redoc ---------------------------------------------------------------------------


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_load_nothing_from_elsewhere(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    # No inline script: every <script> has a src and nothing between its tags.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in html and "style=" not in html
    for url in _assets(html):
        assert url.startswith("/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url


def test_swagger_ui_is_started_from_the_documents_url(client: TestClient) -> None:
    html = client.get("/docs").text
    assert 'data-openapi-url="/openapi.json"' in html
    init = client.get("/docs/swagger-init.js")
    assert init.status_code == 200 and "root.dataset.openapiUrl" in init.text
    assert "validatorUrl: null" in init.text  # no badge fetched from an outside validator
    assert 'spec-url="/openapi.json"' in client.get("/redoc").text
