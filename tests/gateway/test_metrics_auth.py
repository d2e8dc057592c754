"""/metrics on the partner-facing port: operators only, never a partner or an officer."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.health import serve_metrics
from gateway.main import create_app
from hotline.credentials import digest
from hotline.settings import Settings

OPERATOR = "a long random operator token"


def production(**overrides: Any) -> Settings:
    return Settings(
        mode="production",
        id_secret="a-deployment-id-secret",
        partner_keys={"vn-hanoi": [digest("p-hn")]},
        officer_tokens={"vn-hanoi": [digest("o-hn")]},
        **overrides,
    )


@pytest.fixture
async def dev() -> AsyncIterator[httpx.AsyncClient]:
    # The ASGI transport runs no lifespan: the app never tries to reach Kafka.
    app = create_app(Settings())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_metrics_without_a_token_is_401(dev: httpx.AsyncClient) -> None:
    r = await dev.get("/metrics")
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"
    assert "hotline_" not in r.text


@pytest.mark.parametrize(
    "token", ["demo-officer-vn-hanoi", "demo-partner-cn-beijing", "nope", "Demo-Operator"]
)
async def test_metrics_with_an_agency_credential_is_401(dev: httpx.AsyncClient, token: str) -> None:
    r = await dev.get("/metrics", headers=bearer(token))
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    assert "hotline_" not in r.text


async def test_metrics_with_the_demo_operator_token_in_dev(dev: httpx.AsyncClient) -> None:
    r = await dev.get("/metrics", headers=bearer("demo-operator"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    assert "hotline_" in r.text


async def test_health_endpoints_stay_open(dev: httpx.AsyncClient) -> None:
    assert (await dev.get("/healthz")).status_code == 200


async def test_production_takes_only_the_configured_operator_tokens() -> None:
    app = create_app(production(operator_tokens=[digest(OPERATOR)]))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        assert (await client.get("/metrics", headers=bearer(OPERATOR))).status_code == 200
        for token in ("demo-operator", "o-hn", "p-hn"):
            assert (await client.get("/metrics", headers=bearer(token))).status_code == 401


async def test_production_without_operator_tokens_serves_metrics_to_nobody() -> None:
    app = create_app(production())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        r = await client.get("/metrics", headers=bearer("demo-operator"))
        assert r.status_code == 401


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_no_separate_metrics_port_by_default() -> None:
    assert serve_metrics(Settings()) is None


def test_the_separate_metrics_port_serves_on_the_gateway_host() -> None:
    port = _free_port()
    server = serve_metrics(Settings(metrics_port=port))
    assert server is not None
    try:
        assert server.server_address[0] == "127.0.0.1"
        r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert r.status_code == 200 and "hotline_" in r.text
    finally:
        server.shutdown()
        server.server_close()
