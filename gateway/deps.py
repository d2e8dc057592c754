"""Request-scoped dependencies: the process's services and who is calling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hotline import metrics
from hotline.credentials import digest
from hotline.errors import RateLimited, Unauthorized
from hotline.settings import Settings

from .audit_log import AuditLog
from .audit_reporter import AuditReporter
from .hub import Hub
from .intake_pool import IntakePool
from .known import KnownAlerts
from .limits import RateLimits
from .publisher import Publisher
from .registry_client import RegistryClient


@dataclass(slots=True)
class Services:
    settings: Settings
    publisher: Publisher
    hub: Hub  # fans the delivery topics out to the consoles' sockets
    known: KnownAlerts  # each alert's state, as the hub reads it (or as this gateway wrote it)
    partner_limits: RateLimits
    bulk_limits: RateLimits
    intake: IntakePool  # validates batch posts off the event loop
    registry: RegistryClient  # reads the case index from the urgent-lane workers
    audit: AuditLog  # reads an agency's audit chain from Kafka
    reporter: AuditReporter  # puts what only a gateway sees on the record


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


# Three names for the one `Authorization: Bearer` header, so that the OpenAPI document says
# which credential each operation takes (and /docs offers each in its Authorize dialog).
# auto_error=False: a missing or malformed header is our own 401 JSON, not FastAPI's.
_partner_key = HTTPBearer(
    scheme_name="partnerKey",
    description="A partner system's API key: posts as its agency (dev: `demo-partner-<agency>`).",
    auto_error=False,
)
_officer_token = HTTPBearer(
    scheme_name="officerToken",
    description="A duty officer's token: reads its agency's alerts (dev: `demo-officer-<agency>`).",
    auto_error=False,
)
_operator_token = HTTPBearer(
    scheme_name="operatorToken",
    description="The operators' token for /metrics (dev: `demo-operator`).",
    auto_error=False,
)
Credential = HTTPAuthorizationCredentials | None


def _bearer(credential: Credential) -> str:
    key = credential.credentials.strip() if credential is not None else ""
    if not key:
        raise Unauthorized("send 'Authorization: Bearer <key>'")
    return key


def partner_agency(
    services: Annotated[Services, Depends(get_services)],
    credential: Annotated[Credential, Depends(_partner_key)],
) -> str:
    agency = services.settings.partner_digests.get(digest(_bearer(credential)))
    if agency is None:
        raise Unauthorized("unknown partner API key")
    wait = services.partner_limits.retry_after(agency)
    if wait:
        metrics.ALERTS_REJECTED.labels(agency, "rate_limited").inc()
        raise RateLimited(f"{agency} is over its request rate; retry later", retry_after=wait)
    return agency


def reader_agency(
    services: Annotated[Services, Depends(get_services)],
    partner: Annotated[Credential, Depends(_partner_key)],
    officer: Annotated[Credential, Depends(_officer_token)],
) -> str:
    """A partner key or a duty-officer token: either identifies one agency."""
    d = digest(_bearer(partner or officer))  # the same header, read under either name
    agency = services.settings.partner_digests.get(d) or services.settings.officer_digests.get(d)
    if agency is None:
        raise Unauthorized("unknown API key or officer token")
    return agency


def operator(
    services: Annotated[Services, Depends(get_services)],
    credential: Annotated[Credential, Depends(_operator_token)],
) -> None:
    """An operator token: metrics show every agency's activity, so no agency's key will do."""
    if digest(_bearer(credential)) not in services.settings.operator_digests:
        raise Unauthorized("unknown operator token")


ServicesDep = Annotated[Services, Depends(get_services)]
Partner = Annotated[str, Depends(partner_agency)]
Reader = Annotated[str, Depends(reader_agency)]
Operator = Annotated[None, Depends(operator)]
