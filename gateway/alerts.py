"""Partner-facing alert routes: post one, post a batch, read one back."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from hotline import handling, metrics
from hotline import need_to_know as ntk
from hotline.codec import dumps, loads
from hotline.errors import (
    Conflict,
    IntakeUnavailable,
    InvalidAlert,
    InvalidQuery,
    NotFound,
    PayloadTooLarge,
    RateLimited,
)
from hotline.models import AlertRecord, AlertView, Kind, Lane, alert_id_for
from hotline.topics import key_hash, partition_count, topics

from . import contract, errors, intake
from .deps import Partner, Reader, Services, ServicesDep
from .errors import FieldError
from .intake import Checked, Outcome, Refused

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
log = logging.getLogger("hotline.gateway")

BATCH_BYTES = 32 * 1024 * 1024
# Over this, bytes.join copies without holding the GIL (CPython's own threshold).
JOIN_APART_BYTES = 1024 * 1024
# A batch's per-item steps on the loop let it go this often: some 2 ms of work in between.
YIELD_EVERY = 200


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
    # The list the bulk items were filed under: their recipients see it as one digest.
    import_id: str
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
    data = intake.json_body(await _body(request, services.settings.max_body_bytes))
    # Checked right here: one alert takes less time than handing it to an intake worker.
    try:
        record = intake.accept(data, sender, services.settings, datetime.now(UTC), "urgent")
    except InvalidAlert:
        metrics.ALERTS_REJECTED.labels(sender, "invalid").inc()
        raise
    item = intake.checked(record)
    admitted = _admit_one(services, sender, item, Taken())
    if isinstance(admitted, Accepted):
        return admitted
    await services.publisher.send(
        topics(services.settings).inbound_of(admitted.lane), admitted.key.encode(), item.value
    )
    services.known.note_accepted(item.alert_id, item.value, admitted.lane)
    _count(sender, item.kind, item.lane)
    log.info("alert accepted", extra={"alert_id": item.alert_id, "sender": sender})
    return Accepted(alert_id=item.alert_id, lane=item.lane)


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
    raw = await _body(request, BATCH_BYTES)
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
    pending = await _admit(services, sender, outcomes, results)
    await _publish(services, sender, pending, results)
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
    if size > JOIN_APART_BYTES:
        # Joining a large import's parts (a server hands them over 64 KiB at a time) is a
        # copy of tens of milliseconds: in a thread, for bytes.join lets go of the GIL.
        return await asyncio.to_thread(b"".join, chunks)
    return b"".join(chunks)


async def _admit(
    services: Services, sender: str, outcomes: list[Outcome], results: list[BatchItem | None]
) -> dict[str, list[Pending]]:
    """The checks that need what this gateway knows of earlier alerts, in order (an item may
    repeat or follow up an earlier one of the batch): refusals go into `results`, the items to
    write come back by topic, each with its index and its key. Dictionary lookups, but 10,000
    of them: the loop is let go now and then for the urgent posts and consoles it also serves."""
    t = topics(services.settings)
    counts = {
        topic: partition_count(services.settings, topic) for topic in (t.inbound, t.inbound_bulk)
    }
    pending: dict[str, list[Pending]] = {}
    taken = Taken()
    rejected: Counter[str] = Counter()
    for i, outcome in enumerate(outcomes):
        if i % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
        if isinstance(outcome, Refused):
            if outcome.code != IntakeUnavailable.code:  # ours, not the partner's: no rejection
                rejected[outcome.code] += 1
            results[i] = _refused(i, outcome.status, outcome.code, outcome.detail, outcome.errors)
            continue
        try:
            admitted = _admit_one(services, sender, outcome, taken)
        except (Conflict, InvalidAlert) as exc:
            rejected[exc.code] += 1
            results[i] = _refused(
                i,
                exc.status_code,
                exc.code,
                exc.detail,
                exc.extra.get("errors"),
                exc.extra.get("alert_id"),
            )
            continue
        if isinstance(admitted, Accepted):
            results[i] = BatchItem(index=i, status=202, alert_id=outcome.alert_id, duplicate=True)
            continue
        topic = t.inbound_of(admitted.lane)
        where = _partition(outcome, admitted, counts[topic])
        pending.setdefault(topic, []).append(Pending(i, outcome, admitted.key, where))
    for code, n in rejected.items():
        metrics.ALERTS_REJECTED.labels(sender, code).inc(n)
    return pending


async def _publish(
    services: Services,
    sender: str,
    pending: dict[str, list[Pending]],
    results: list[BatchItem | None],
) -> None:
    """Writes each topic's items at once; each item's answer goes into `results`."""
    accepted: Counter[tuple[Kind, Lane]] = Counter()
    t = topics(services.settings)
    for topic, entries in pending.items():
        lane: Lane = "bulk" if topic == t.inbound_bulk else "urgent"
        failures = await services.publisher.send_many(
            topic,
            [(key.encode(), item.value) for _, item, key, _ in entries],
            within=services.settings.batch_produce_timeout_s,
            partitions=[p for *_, p in entries],
        )
        for n, ((i, item, _, _), error) in enumerate(zip(entries, failures, strict=True)):
            if n % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)
            if error is None:
                services.known.note_accepted(item.alert_id, item.value, lane)
                accepted[item.kind, item.lane] += 1
                results[i] = BatchItem(index=i, status=202, alert_id=item.alert_id)
            else:
                results[i] = BatchItem(
                    index=i,
                    status=503,
                    alert_id=item.alert_id,
                    error=error.code,
                    detail=error.detail,
                )
    for (kind, lane), n in accepted.items():
        _count(sender, kind, lane, n)


@dataclass(slots=True)
class Taken:
    """What a request has taken so far (a batch's earlier items; nothing, for a single post)."""

    hashes: dict[str, str] = field(default_factory=dict)  # alert_id -> its content_hash
    routes: dict[str, Route] = field(default_factory=dict)  # where each went (not known yet)


def _admit_one(services: Services, sender: str, item: Checked, taken: Taken) -> Accepted | Route:
    """The checks one alert goes through once valid, a single post or a batch item alike, that
    need what this gateway knows of earlier alerts: a retry gets its first answer (Accepted),
    a new alert its route. Raises Conflict or InvalidAlert (with `alert_id` when the answer
    names it)."""
    _check_follow_up(services, sender, item, taken.hashes)
    prior = _prior(services, item)
    earlier = taken.hashes.get(item.alert_id)
    if earlier is not None and earlier != item.content_hash:
        raise Conflict(
            "source_ref appears twice in this batch with different content", alert_id=item.alert_id
        )
    if prior is not None:
        return prior
    if earlier is not None:
        return Accepted(alert_id=item.alert_id, lane=item.lane, duplicate=True)
    taken.hashes[item.alert_id] = item.content_hash
    route = taken.routes[item.alert_id] = _route(services, sender, item, taken.routes)
    return route


def _refused(
    i: int,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None,
    alert_id: str | None = None,
) -> BatchItem:
    return BatchItem(
        index=i, status=status, alert_id=alert_id, error=code, detail=detail, errors=errors
    )


def _prior(services: Services, item: Checked) -> Accepted | None:
    """A retry gets the same answer; reusing a source_ref for other content is a conflict."""
    prior = services.known.state(item.alert_id)
    if prior is None:
        return None
    if prior.alert.content_hash != item.content_hash:
        raise Conflict(
            f"source_ref {item.source_ref!r} was already used for different content",
            alert_id=item.alert_id,
        )
    if prior.status == "rejected":  # the same content would be rejected again
        why = f"this alert was rejected: {prior.reason}"
        raise InvalidAlert(
            why,
            errors=[{"field": "body", "message": why, "type": "rejected"}],
            alert_id=item.alert_id,
        )
    return Accepted(
        alert_id=item.alert_id,
        status=prior.status,
        lane=prior.alert.lane,
        case_id=prior.alert.case_id,
        duplicate=True,
    )


def _check_follow_up(
    services: Services, sender: str, item: Checked, in_batch: Mapping[str, str]
) -> None:
    """Refuses at once a follow-up that would widen a routed alert's handling.

    One whose alert is not routed yet (still in a lane, or earlier in this batch) is checked
    by the stream, which also makes it wait for that alert: never a 422 for a lag.
    """
    if item.references is None:
        return
    ref_id = alert_id_for(sender, item.references)
    ref = None if ref_id in in_batch else services.known.state(ref_id)
    if ref is None or ref.status in ("accepted", "rejected"):
        return
    body = loads(AlertRecord, item.value).body  # read back only for this rarer case
    handling.of_follow_up(body, ref.alert.body.tlp, [r.agency for r in ref.receipts])


class Route(NamedTuple):
    """Where an alert is written: its lane's inbound topic, and the key of the record."""

    lane: Lane
    key: str  # the alert id its group starts from (KnownAlerts.group_of): that group's partition


def _route(services: Services, sender: str, item: Checked, in_batch: Mapping[str, Route]) -> Route:
    """An alert goes to its urgency's lane, keyed by its own id. A follow-up goes where the
    alert it references went: to the lane that holds it (that lane alone knows it and its
    recipients), keyed by its group, so that lane reads the whole group from one partition.
    `in_batch`: the routes of earlier items of the same batch, not known to the gateway yet."""
    if item.references is None:
        return Route(item.lane, item.alert_id)
    ref_id = alert_id_for(sender, item.references)
    earlier = in_batch.get(ref_id)
    if earlier is not None:
        return earlier
    # Known to the gateway, or not at all: then the follow-up's own lane (the stream parks it
    # until that alert comes), keyed by that alert's id, which is its group's if an original.
    return Route(services.known.lane_of(ref_id) or item.lane, services.known.group_of(ref_id))


class Pending(NamedTuple):
    """A batch item to write: its index in the batch, the item, its key and partition."""

    at: int
    item: Checked
    key: str
    partition: int


def _partition(item: Checked, route: Route, partitions: int) -> int:
    """Where Kafka's partitioner would put the item's key; its hash is the intake worker's,
    unless the item is keyed by its group (a follow-up), which only this gateway knows."""
    hashed = item.key_hash if route.key == item.alert_id else key_hash(route.key.encode())
    return hashed % partitions


def _count(sender: str, kind: Kind, lane: Lane, n: int = 1) -> None:
    metrics.ALERTS_ACCEPTED.labels(sender, kind, lane).inc(n)
    metrics.PARTNER_LAST_SEEN.labels(sender).set(time.time())
