"""Partner-facing alert routes: post one, post a batch, read one back."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from hotline import metrics
from hotline import need_to_know as ntk
from hotline.codec import dumps
from hotline.errors import (
    InvalidAlert,
    InvalidQuery,
    NotFound,
    PayloadTooLarge,
    RateLimited,
)
from hotline.models import AlertView

from . import admission, audit_reporter, contract, errors, intake
from .answers import Accepted, BatchItem, BatchResult
from .body import read_body
from .deps import Partner, Reader, ServicesDep

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
log = logging.getLogger("hotline.gateway")

BATCH_BYTES = 32 * 1024 * 1024


_POST_ERRORS = errors.responses(
    {
        401: "No or unknown partner key",
        409: None,
        413: "Body over 1 MiB, or an alert too large to deliver once enriched",
        422: "Invalid alert: `errors` names each bad field",
        429: None,
        503: None,
    }
)
_BATCH_ERRORS = errors.responses(
    {
        401: "No or unknown partner key",
        413: "Body over 32 MiB, or more than 10,000 alerts",
        422: "Not a JSON array (or NDJSON), an unreadable `import_id` or an unknown query"
        " parameter; items that fail are answered one by one in a 200",
        429: "Over the partner's bulk rate (alerts per second); retry after `Retry-After`",
    }
)


@router.post(
    "",
    status_code=202,
    response_model=Accepted,
    operation_id="postAlert",
    openapi_extra=contract.ALERT_BODY,
    responses=_POST_ERRORS,
)
async def post_alert(request: Request, sender: Partner, services: ServicesDep) -> Accepted:
    """Submit one alert; 202 only once Kafka has durably stored it."""
    data = intake.json_body(await read_body(request, services.settings.max_body_bytes))
    # Checked right here: one alert takes less time than handing it to an intake worker.
    try:
        record = intake.accept(data, sender, services.settings, datetime.now(UTC), "urgent")
    except InvalidAlert:
        metrics.ALERTS_REJECTED.labels(sender, "invalid").inc()
        raise
    return await admission.write_one(services, sender, intake.checked(record))


@router.post(
    "/batch",
    response_model=BatchResult,
    operation_id="postAlertBatch",
    openapi_extra={**contract.BATCH_BODY, "parameters": [contract.IMPORT_ID_PARAM]},
    responses=_BATCH_ERRORS,
)
async def post_batch(
    request: Request,
    sender: Partner,
    services: ServicesDep,
) -> BatchResult:
    """Submit up to 10,000 alerts as a JSON array or NDJSON; answered per item."""
    settings = services.settings
    _only_import_id(request)
    listed = _import_id(request.query_params.get("import_id"))
    raw = await read_body(request, BATCH_BYTES)
    now = datetime.now(UTC)
    # Parsed by the intake workers, like the checks below: never on this loop.
    content_type = request.headers.get("content-type", "")
    batch = await services.intake.split(raw, content_type, sender, now, settings.max_batch)
    if batch.total > settings.max_batch:
        raise PayloadTooLarge(f"at most {settings.max_batch} alerts per batch, got {batch.total}")
    wait = services.bulk_limits.retry_after(sender, batch.total)
    if wait:
        metrics.ALERTS_REJECTED.labels(sender, "rate_limited").inc(batch.total)
        raise RateLimited(
            f"{sender} is over its bulk rate ({settings.partner_bulk_items_per_s:.0f} alerts/s)",
            retry_after=wait,
        )
    results: list[BatchItem | None] = [None] * batch.total
    # Validated and enriched by the intake workers, off this event loop.
    outcomes = await services.intake.check(batch, sender, now, listed)
    pending = await admission.admit(services, sender, outcomes, results)
    if n := await admission.publish(services, sender, pending, results):
        services.reporter.report(audit_reporter.listed(sender, listed, n, now))
    done = [r for r in results if r is not None]
    accepted = sum(1 for r in done if r.status == 202)
    log.info("batch of %d: %d accepted", len(done), accepted, extra={"sender": sender})
    return BatchResult(
        accepted=accepted, rejected=len(done) - accepted, import_id=listed, items=done
    )


IMPORT_ID = re.compile(contract.IMPORT_ID_PATTERN)


def _only_import_id(request: Request) -> None:
    # A misspelt `import_id` would otherwise split one list into a list per batch, silently.
    unknown = sorted(set(request.query_params) - {"import_id"})
    if unknown:
        raise InvalidQuery(
            f"unknown query parameter {unknown[0]!r}: only import_id",
            errors=[
                {"field": name, "message": "unknown query parameter", "type": "query"}
                for name in unknown
            ],
        )


def _import_id(given: str | None) -> str:
    if given is None:
        return f"batch-{uuid.uuid4().hex[:16]}"
    if IMPORT_ID.fullmatch(given) is None:
        message = "1 to 64 letters, digits, '.', '_', ':' or '-', from a letter or digit"
        raise InvalidQuery(
            f"import_id: {message}",
            errors=[{"field": "import_id", "message": message, "type": "query"}],
        )
    return given


@router.get(
    "/{alert_id}",
    response_model=AlertView,
    operation_id="getAlert",
    responses=errors.responses(
        {
            401: "No or unknown partner key or officer token",
            404: "Unknown, or not sent to or by the caller (indistinguishable on purpose)",
        }
    ),
)
async def get_alert(alert_id: str, agency: Reader, services: ServicesDep) -> Response:
    """An alert and its delivery state, as much of it as the caller may see."""
    state = services.known.state(alert_id)
    view = ntk.alert_view(agency, state) if state is not None else None
    if view is None:
        raise NotFound(f"no alert {alert_id!r} visible to {agency}")
    return Response(dumps(view), media_type="application/json")
