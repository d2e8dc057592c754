"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest, start_http_server

from hotline.settings import Settings

from .deps import Operator, ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
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
    response_class=PlainTextResponse,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}},
        401: {"description": "No or unknown operator token"},
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
