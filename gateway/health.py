"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Literal
from wsgiref.simple_server import WSGIServer

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest, start_http_server
from pydantic import BaseModel

from hotline.settings import Settings

from . import errors
from .deps import Operator, ServicesDep

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    kafka_producer: bool
    delivery_consumer: bool


@router.get("/healthz", operation_id="healthz")
async def healthz() -> Health:
    """The process is alive."""
    return Health()


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: which check fails"}},
)
async def readyz(services: ServicesDep) -> JSONResponse:
    """Ready only when Kafka takes writes and the delivery consumer has caught up."""
    checks = {
        "kafka_producer": services.publisher.ready,
        "delivery_consumer": services.hub.running,
        # Alert states and feeds read up to where they stood at start-up: retries and
        # acknowledgements are recognised, and a console's backlog is complete.
        "caught_up": services.hub.caught_up,
    }
    ok = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ok else "not_ready", **checks}, status_code=200 if ok else 503
    )


@router.get(
    "/metrics",
    operation_id="metrics",
    # Not PlainTextResponse: FastAPI would then document the JSON 401 as text/plain too.
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}},
        **errors.responses({401: "No or unknown operator token"}),
    },
)
async def prometheus_metrics(_: Operator) -> Response:
    """Prometheus text exposition, `hotline_` prefix; operator token required."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def serve_metrics(settings: Settings) -> WSGIServer | None:
    """/metrics without a token on HOTLINE_METRICS_PORT, if set: a port to keep off partners'
    network. Runs in a daemon thread for the life of the process."""
    if settings.metrics_port is None:
        return None
    server, _ = start_http_server(settings.metrics_port, addr=settings.gateway_host)
    return server
