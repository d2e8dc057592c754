"""Request-scoped dependencies: the process's services and who is calling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from hotline import metrics
from hotline.errors import RateLimited, Unauthorized
from hotline.settings import Settings, digest

from .hub import Hub
from .limits import RateLimits
from .publisher import Publisher


@dataclass(slots=True)
class Services:
    settings: Settings
    publisher: Publisher
    hub: Hub
    partner_limits: RateLimits
    bulk_limits: RateLimits


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _bearer(request: Request) -> str:
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthorized("send 'Authorization: Bearer <key>'")
    return credential.strip()


def partner_agency(request: Request, services: Annotated[Services, Depends(get_services)]) -> str:
    agency = services.settings.partner_digests.get(digest(_bearer(request)))
    if agency is None:
        raise Unauthorized("unknown partner API key")
    wait = services.partner_limits.retry_after(agency)
    if wait:
        metrics.ALERTS_REJECTED.labels(agency, "rate_limited").inc()
        raise RateLimited(f"{agency} is over its request rate; retry later", retry_after=wait)
    return agency


def reader_agency(request: Request, services: Annotated[Services, Depends(get_services)]) -> str:
    """A partner key or a duty-officer token: either identifies one agency."""
    d = digest(_bearer(request))
    agency = services.settings.partner_digests.get(d) or services.settings.officer_digests.get(d)
    if agency is None:
        raise Unauthorized("unknown API key or officer token")
    return agency


def operator(request: Request, services: Annotated[Services, Depends(get_services)]) -> None:
    """An operator token: metrics show every agency's activity, so no agency's key will do."""
    if digest(_bearer(request)) not in services.settings.operator_digests:
        raise Unauthorized("unknown operator token")


ServicesDep = Annotated[Services, Depends(get_services)]
Partner = Annotated[str, Depends(partner_agency)]
Reader = Annotated[str, Depends(reader_agency)]
Operator = Annotated[None, Depends(operator)]
