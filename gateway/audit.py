"""GET /v1/audit: the caller's own audit record, a page at a time (gateway/audit_log.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from hotline.audit import AuditEntry
from hotline.errors import InvalidQuery

from . import errors
from .deps import Reader, ServicesDep

router = APIRouter(prefix="/v1", tags=["audit"])

LIMIT_MAX = 5_000


class AuditAnswer(BaseModel):
    """One page of the caller's chain, in order; `next`: the cursor of the next page, or null
    when the caller has everything up to now (or up to `until`)."""

    agency: str
    entries: list[AuditEntry]
    next: str | None


@router.get(
    "/audit",
    response_model=AuditAnswer,
    operation_id="getAudit",
    responses=errors.responses(
        {
            401: "No or unknown partner key or officer token",
            422: "A parameter cannot be read (it is named)",
            503: "The audit log cannot be read right now; retry after `Retry-After`",
        }
    ),
)
async def audit(
    agency: Reader,
    services: ServicesDep,
    since: Annotated[str | None, Query(description="ISO 8601 time with its zone")] = None,
    until: Annotated[str | None, Query(description="ISO 8601 time with its zone")] = None,
    alert_id: Annotated[str | None, Query(description="Only this alert's entries")] = None,
    after: Annotated[str | None, Query(description="The `next` of the page before")] = None,
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX)] = 1_000,
) -> Response:
    """The caller's agency's exchanges, and only its own: each entry with its place in the
    agency's hash chain (`seq`, `prev`, `hash`), so an export can be verified."""
    page = await services.audit.page(
        agency,
        after=_cursor(after),
        since=_time("since", since),
        until=_time("until", until),
        alert_id=alert_id,
        limit=limit,
    )
    answer = AuditAnswer(
        agency=agency,
        entries=page.entries,
        next=None if page.next is None else str(page.next),
    )
    # `next: null` is the answer "nothing more": kept, unlike the records' empty fields.
    return Response(answer.model_dump_json(), media_type="application/json")


def _time(field: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        message = "an ISO 8601 time with its zone, e.g. 2026-12-01T00:00:00Z"
        raise InvalidQuery(
            f"{field}: {message}", errors=[{"field": field, "message": message, "type": "query"}]
        )
    return at


def _cursor(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        message = "the `next` of an earlier page"
        raise InvalidQuery(
            f"after: {message}", errors=[{"field": "after", "message": message, "type": "query"}]
        )
    return int(value)
