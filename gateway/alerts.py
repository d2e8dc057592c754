"""Partner-facing alert routes: post one, post a batch, read one back."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from hotline import handling, metrics
from hotline import need_to_know as ntk
from hotline.codec import dumps
from hotline.errors import Conflict, InvalidAlert, NotFound, PayloadTooLarge, RateLimited
from hotline.models import AlertRecord, AlertView, Lane, alert_id_for
from hotline.topics import topics

from . import contract, errors, intake
from .deps import Partner, Reader, Services, ServicesDep
from .errors import FieldError

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
log = logging.getLogger("hotline.gateway")

BATCH_BYTES = 32 * 1024 * 1024


class Accepted(BaseModel):
    alert_id: str
    status: str = "accepted"
    lane: Literal["urgent", "bulk"] = "urgent"
    case_id: str | None = None
    duplicate: bool = False


class BatchItem(BaseModel):
    index: int
    status: int
    alert_id: str | None = None
    duplicate: bool = False
    error: str | None = None
    detail: str | None = None
    errors: list[FieldError] | None = None


class BatchResult(BaseModel):
    accepted: int
    rejected: int
    items: list[BatchItem]


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
        422: "Not a JSON array (or NDJSON): the items are answered one by one in a 200",
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
    data = _json(await _body(request, services.settings.max_body_bytes))
    try:
        record = intake.accept(data, sender, services.settings, datetime.now(UTC), "urgent")
    except InvalidAlert:
        metrics.ALERTS_REJECTED.labels(sender, "invalid").inc()
        raise
    prior = _prior(services, record)
    if prior is not None:
        return prior
    _check_follow_up(services, record, {})
    value = dumps(record)
    await services.publisher.send(
        topics(services.settings).inbound, record.alert_id.encode(), value
    )
    services.hub.note_accepted(record.alert_id, value)
    _count(record)
    log.info("alert accepted", extra={"alert_id": record.alert_id, "sender": sender})
    return Accepted(alert_id=record.alert_id, lane=record.lane)


@router.post(
    "/batch",
    response_model=BatchResult,
    operation_id="postAlertBatch",
    openapi_extra=contract.BATCH_BODY,
    responses=_BATCH_ERRORS,
)
async def post_batch(request: Request, sender: Partner, services: ServicesDep) -> BatchResult:
    """Submit up to 10,000 alerts as a JSON array or NDJSON; answered per item."""
    settings = services.settings
    raw = await _body(request, BATCH_BYTES)
    items = _items(raw, request.headers.get("content-type", ""))
    if len(items) > settings.max_batch:
        raise PayloadTooLarge(f"at most {settings.max_batch} alerts per batch, got {len(items)}")
    wait = services.bulk_limits.retry_after(sender, len(items))
    if wait:
        metrics.ALERTS_REJECTED.labels(sender, "rate_limited").inc(len(items))
        raise RateLimited(
            f"{sender} is over its bulk rate ({settings.partner_bulk_items_per_s:.0f} alerts/s)",
            retry_after=wait,
        )
    now = datetime.now(UTC)
    results: list[BatchItem | None] = [None] * len(items)
    pending: dict[str, list[tuple[int, AlertRecord]]] = {}
    in_batch: dict[str, AlertRecord] = {}
    t = topics(settings)
    for i, item in enumerate(items):
        if i % 50 == 49:
            await asyncio.sleep(0)  # validating 10,000 items must not hold up an urgent POST
        try:
            if isinstance(item, InvalidAlert):
                raise item
            urgent = isinstance(item, dict) and item.get("urgency") == "immediate"
            lane: Lane = "urgent" if urgent else "bulk"
            record = intake.accept(item, sender, settings, now, lane)
            _check_follow_up(services, record, in_batch)
        except (InvalidAlert, Conflict, PayloadTooLarge) as exc:
            metrics.ALERTS_REJECTED.labels(sender, exc.code).inc()
            results[i] = BatchItem(
                index=i,
                status=exc.status_code,
                error=exc.code,
                detail=exc.detail,
                errors=exc.extra.get("errors"),
            )
            continue
        earlier = in_batch.get(record.alert_id)
        try:
            prior = _prior(services, record)
            if earlier is not None and earlier.content_hash != record.content_hash:
                raise Conflict("source_ref appears twice in this batch with different content")
        except Conflict as exc:
            results[i] = BatchItem(
                index=i, status=409, alert_id=record.alert_id, error=exc.code, detail=exc.detail
            )
            continue
        if prior is not None or earlier is not None:
            results[i] = BatchItem(index=i, status=202, alert_id=record.alert_id, duplicate=True)
            continue
        in_batch[record.alert_id] = record
        topic = t.inbound if record.lane == "urgent" else t.inbound_bulk
        pending.setdefault(topic, []).append((i, record))
    for topic, entries in pending.items():
        values = [dumps(r) for _, r in entries]
        failures = await services.publisher.send_many(
            topic,
            [(r.alert_id.encode(), v) for (_, r), v in zip(entries, values, strict=True)],
            within=settings.batch_produce_timeout_s,
        )
        for (i, record), value, error in zip(entries, values, failures, strict=True):
            if error is None:
                services.hub.note_accepted(record.alert_id, value)
                _count(record)
                results[i] = BatchItem(index=i, status=202, alert_id=record.alert_id)
            else:
                results[i] = BatchItem(
                    index=i,
                    status=503,
                    alert_id=record.alert_id,
                    error=error.code,
                    detail=error.detail,
                )
    done = [r for r in results if r is not None]
    accepted = sum(1 for r in done if r.status == 202)
    log.info("batch of %d: %d accepted", len(done), accepted, extra={"sender": sender})
    return BatchResult(accepted=accepted, rejected=len(done) - accepted, items=done)


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
    state = services.hub.state(alert_id)
    view = ntk.alert_view(agency, state) if state is not None else None
    if view is None:
        raise NotFound(f"no alert {alert_id!r} visible to {agency}")
    return Response(dumps(view), media_type="application/json")


# --- helpers ------------------------------------------------------------------------------------


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidAlert(
            f"the body is not valid JSON: {exc}",
            errors=[{"field": "body", "message": str(exc), "type": "json_invalid"}],
        ) from None


def _items(raw: bytes, content_type: str) -> list[Any]:
    """A JSON array, or NDJSON (one object a line); a bad line becomes that item's error.

    A body declared as JSON must be an array: anything else is what the document refuses.
    Without a declared type the body is recognised by its first character.
    """
    media = content_type.partition(";")[0].strip().lower()
    if media == "application/json" or ("ndjson" not in media and raw.lstrip().startswith(b"[")):
        data = _json(raw)
        if not isinstance(data, list):
            raise InvalidAlert(
                "a batch is a JSON array, or NDJSON sent as application/x-ndjson",
                errors=[{"field": "body", "message": "expected a JSON array", "type": "list_type"}],
            )
        return data
    items: list[Any] = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            items.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            items.append(
                InvalidAlert(
                    f"line is not valid JSON: {exc}",
                    errors=[{"field": "body", "message": str(exc), "type": "json_invalid"}],
                )
            )
    return items


def _prior(services: Services, record: AlertRecord) -> Accepted | None:
    """A retry gets the same answer; reusing a source_ref for other content is a conflict."""
    prior = services.hub.state(record.alert_id)
    if prior is None:
        return None
    if prior.alert.content_hash != record.content_hash:
        raise Conflict(
            f"source_ref {record.body.source_ref!r} was already used for different content",
            alert_id=record.alert_id,
        )
    if prior.status == "rejected":  # the same content would be rejected again
        why = f"this alert was rejected: {prior.reason}"
        raise InvalidAlert(why, errors=[{"field": "body", "message": why, "type": "rejected"}])
    return Accepted(
        alert_id=record.alert_id,
        status=prior.status,
        lane=prior.alert.lane,
        case_id=prior.alert.case_id,
        duplicate=True,
    )


def _check_follow_up(
    services: Services, record: AlertRecord, in_batch: dict[str, AlertRecord]
) -> None:
    """Refuses at once a follow-up that would widen a routed alert's handling.

    One whose alert is not routed yet (still in a lane, or earlier in this batch) is checked
    by the stream, which also makes it wait for that alert: never a 422 for a lag.
    """
    body = record.body
    if body.references is None:
        return
    ref_id = alert_id_for(record.sender, body.references)
    ref = None if ref_id in in_batch else services.hub.state(ref_id)
    if ref is None or ref.status in ("accepted", "rejected"):
        return
    handling.of_follow_up(body, ref.alert.body.tlp, [r.agency for r in ref.receipts])


def _count(record: AlertRecord) -> None:
    metrics.ALERTS_ACCEPTED.labels(record.sender, record.body.kind, record.lane).inc()
    metrics.PARTNER_LAST_SEEN.labels(record.sender).set(time.time())
