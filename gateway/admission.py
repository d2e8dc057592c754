"""The per-item path every alert takes once its body is valid, a single post and each item of
a batch alike: a retry gets its first answer, a follow-up is checked against the alert it
follows, a new alert gets its route (lane and key); then it is written and counted.

These checks need what this gateway knows of earlier alerts (gateway/known.py), so they run
on the gateway's loop, in order: an item may repeat or follow up an earlier one of its batch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from hotline import handling, metrics
from hotline.alert_in import alert_id_for
from hotline.codec import loads
from hotline.errors import Conflict, IntakeUnavailable, InvalidAlert
from hotline.fields import Kind, Lane
from hotline.models import AlertRecord
from hotline.topics import key_hash, partition_count, topics

from .answers import Accepted, BatchItem, refused
from .deps import Services
from .intake import Checked, Outcome, Refused

log = logging.getLogger("hotline.gateway")
# A batch's per-item steps on the loop let it go this often: some 2 ms of work in between.
YIELD_EVERY = 200


async def write_one(services: Services, sender: str, item: Checked) -> Accepted:
    """A single post: admitted, then written to its lane (202 only once Kafka has it)."""
    admitted = admit_one(services, sender, item, Taken())
    if isinstance(admitted, Accepted):
        return admitted
    await services.publisher.send(
        topics(services.settings).inbound_of(admitted.lane), admitted.key.encode(), item.value
    )
    services.known.note_accepted(item.alert_id, item.value, admitted.lane)
    count_accepted(sender, item.kind, item.lane)
    log.info("alert accepted", extra={"alert_id": item.alert_id, "sender": sender})
    return Accepted(alert_id=item.alert_id, lane=item.lane)


async def admit(
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
            results[i] = refused(i, outcome.status, outcome.code, outcome.detail, outcome.errors)
            continue
        try:
            admitted = admit_one(services, sender, outcome, taken)
        except (Conflict, InvalidAlert) as exc:
            rejected[exc.code] += 1
            results[i] = refused(
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
        where = partition_of(outcome, admitted, counts[topic])
        pending.setdefault(topic, []).append(Pending(i, outcome, admitted.key, where))
    for code, n in rejected.items():
        metrics.ALERTS_REJECTED.labels(sender, code).inc(n)
    return pending


async def publish(
    services: Services,
    sender: str,
    pending: dict[str, list[Pending]],
    results: list[BatchItem | None],
) -> int:
    """Writes each topic's items at once; each item's answer goes into `results`.

    Returns how many of them are a shared list's: new alerts on the bulk lane, which are on
    the record as their import (gateway/audit_reporter.py), not one by one."""
    accepted: Counter[tuple[Kind, Lane]] = Counter()
    listed = 0
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
                listed += item.lane == "bulk" and item.references is None
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
        count_accepted(sender, kind, lane, n)
    return listed


@dataclass(slots=True)
class Taken:
    """What a request has taken so far (a batch's earlier items; nothing, for a single post)."""

    hashes: dict[str, str] = field(default_factory=dict)  # alert_id -> its content_hash
    routes: dict[str, Route] = field(default_factory=dict)  # where each went (not known yet)


def admit_one(services: Services, sender: str, item: Checked, taken: Taken) -> Accepted | Route:
    """The checks one alert goes through once valid, a single post or a batch item alike, that
    need what this gateway knows of earlier alerts: a retry gets its first answer (Accepted),
    a new alert its route. Raises Conflict or InvalidAlert (with `alert_id` when the answer
    names it)."""
    check_follow_up(services, sender, item, taken.hashes)
    prior = first_answer(services, item)
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
    route = taken.routes[item.alert_id] = route_of(services, sender, item, taken.routes)
    return route


def first_answer(services: Services, item: Checked) -> Accepted | None:
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


def check_follow_up(
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


def route_of(
    services: Services, sender: str, item: Checked, in_batch: Mapping[str, Route]
) -> Route:
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


def partition_of(item: Checked, route: Route, partitions: int) -> int:
    """Where Kafka's partitioner would put the item's key; its hash is the intake worker's,
    unless the item is keyed by its group (a follow-up), which only this gateway knows."""
    hashed = item.key_hash if route.key == item.alert_id else key_hash(route.key.encode())
    return hashed % partitions


def count_accepted(sender: str, kind: Kind, lane: Lane, n: int = 1) -> None:
    metrics.ALERTS_ACCEPTED.labels(sender, kind, lane).inc(n)
    metrics.PARTNER_LAST_SEEN.labels(sender).set(time.time())
