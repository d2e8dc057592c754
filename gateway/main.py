"""The gateway's ASGI app: partner HTTP API, console socket, console page, operations."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_never,
)

from hotline import __version__, metrics
from hotline.errors import ConfigError
from hotline.retry import backoff, next_wait
from hotline.settings import Settings
from hotline.topics import ensure_topics

from . import (
    alerts,
    asyncapi,
    audit,
    contract,
    docs,
    errors,
    feed,
    health,
    lookup,
    outcomes,
    security,
    ws,
)
from .audit_log import AuditLog
from .audit_reporter import AuditReporter
from .deps import Services
from .hub import Hub
from .intake_pool import IntakePool
from .known import KnownAlerts
from .limits import RateLimits
from .publisher import Publisher
from .registry_client import RegistryClient

log = logging.getLogger("hotline.gateway")
STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    known = KnownAlerts(settings)
    publisher = Publisher(settings)
    services = Services(
        settings,
        publisher,
        Hub(settings, known),
        known,
        RateLimits(settings.partner_rate_per_s, settings.partner_burst),
        RateLimits(settings.partner_bulk_items_per_s, settings.partner_bulk_burst),
        IntakePool(settings),
        RegistryClient(settings),
        AuditLog(settings),
        AuditReporter(settings, publisher),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # What start-up allocated (modules, validators, routes) lives as long as the process:
        # frozen, it is no longer walked by every full collection, which the allocations of a
        # batch post trigger, each one a 100 ms pause for the urgent posts and consoles.
        gc.freeze()
        services.intake.start()  # in the background: readiness never waits for it
        starter = asyncio.create_task(_connect(services))
        yield
        starter.cancel()
        await services.hub.stop()
        await services.reporter.stop()  # before the publisher it writes through
        await services.publisher.stop()
        await services.intake.stop()
        await services.registry.close()

    app = FastAPI(
        title="Hotline",
        version=__version__,
        lifespan=lifespan,
        summary="Live alert hotline between partner law-enforcement agencies.",
        description=(
            "The partner API. Errors are JSON (`ErrorBody`); the console socket "
            "`/v1/console/ws` is described by the AsyncAPI document at "
            "[/asyncapi.json](/asyncapi.json)."
        ),
        # Served by docs.py from local assets instead of FastAPI's CDN-loading pages.
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    errors.install(app)
    security.install(app)
    app.middleware("http")(_count_responses)
    app.include_router(alerts.router)
    app.include_router(outcomes.router)
    app.include_router(lookup.router)
    app.include_router(feed.router)
    app.include_router(audit.router)
    app.include_router(ws.router)
    app.include_router(health.router)
    app.include_router(asyncapi.router)
    contract.install(app)
    docs.install(app)
    app.mount("/", StaticFiles(directory=STATIC, html=True), name="console")
    return app


async def _connect(services: Services) -> None:
    """Keeps trying until Kafka answers: the gateway serves /healthz (and 503s) meanwhile."""

    async def attempt() -> None:
        await ensure_topics(services.settings)
        if not services.publisher.ready:
            await services.publisher.start()
        await services.hub.start()
        services.reporter.start()

    def note(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        log.warning("Kafka not reachable yet (%s); retrying in %.1fs", exc, next_wait(state))

    # Any failure here means "not yet", except topics that exist with other partition counts
    # than the settings: retrying cannot fix those, so the gateway says so and stays not
    # ready. Cancellation (shutdown) is not an Exception.
    try:
        await AsyncRetrying(
            retry=retry_if_exception_type(Exception) & retry_if_not_exception_type(ConfigError),
            wait=backoff(0.5, 10.0),
            stop=stop_never,
            before_sleep=note,
            reraise=True,
        )(attempt)
    except ConfigError as exc:
        log.error("not connecting to Kafka: %s", exc.detail)
        return
    log.info("connected to Kafka at %s", services.settings.kafka_bootstrap)


async def _count_responses(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    route = request.scope.get("route")
    path = getattr(route, "path", "other")
    metrics.HTTP_RESPONSES.labels(path, f"{response.status_code // 100}xx").inc()
    return response
