"""Security headers on every gateway response: the console page above all."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from gateway.main import STATIC, create_app
from hotline.settings import Settings


@pytest.fixture(scope="module")
def client() -> TestClient:
    # Without `with`, TestClient runs no lifespan: the app never tries to reach Kafka.
    return TestClient(create_app(Settings()), raise_server_exceptions=False)


def directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.parametrize("path", ["/", "/index.html", "/app.js", "/style.css"])
def test_the_console_is_served_with_a_strict_policy(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    csp = directives(r.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no CDN
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["connect-src"] == ["'self'", "ws:", "wss:"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", None),
        ("GET", "/v1/alerts/al-x", 401),  # an error answer too
        ("POST", "/v1/alerts", 401),
        ("GET", "/openapi.json", 200),
        ("GET", "/no-such-page", 404),
    ],
)
def test_every_response_carries_the_headers(
    client: TestClient, method: str, path: str, status: int | None
) -> None:
    r = client.request(method, path)
    if status is not None:
        assert r.status_code == status
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_keep_working_under_their_own_policy(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    csp = directives(r.headers["content-security-policy"])
    # Served from the gateway's own assets, started from a file: no CDN, no inline script.
    assert csp["script-src"] == ["'self'"]
    assert not any("http" in v for values in csp.values() for v in values)
    assert csp["frame-ancestors"] == ["'none'"]
    assert r.headers["x-frame-options"] == "DENY"


def test_the_console_page_has_no_inline_script_or_style() -> None:
    # The strict policy would block them: everything lives in files under static/.
    for page in STATIC.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page.name
        assert "<style" not in html, page.name
        assert not re.search(r"\sstyle=", html), page.name
        assert not re.search(r"\son[a-z]+=", html), page.name
    for module in STATIC.glob("*.js"):
        js = module.read_text(encoding="utf-8")
        assert not re.search(r"\.(innerHTML|outerHTML)\b|insertAdjacentHTML", js), module.name
        assert not re.search(r"\beval\(|new Function\(", js), module.name
