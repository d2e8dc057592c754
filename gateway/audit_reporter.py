"""What only a gateway sees, on the record: an alert reaching a console, a registry lookup,
a shared list's batch.

The stream reports the exchanges it makes (streams/audit_trail.py); three happen at the
gateway alone: an event delivered to a console socket of the agency, an agency asking the
registry (who asked for what), and a batch of a shared list accepted (its items are not
reported one by one: a million numbers would be a million entries). Each is reported as an
`AuditEvent` onto audit.events, keyed by the agency whose record it goes on, and the stream
chains them with the rest.

Reporting never holds up what it reports: a console's send and a lookup's answer only queue
the report, and one task writes the queue out in batches. A delivery is reported with a
deterministic id (the alert, the agency, the event), so the same event shown by two gateways
or on two of the agency's consoles is on the record once. A report Kafka does not take is
tried again; one that does not fit the queue (Kafka away for long) is logged and counted,
never dropped unseen. A gateway killed with reports still queued loses them: what was
delivered is on the record as routed to the agency by the stream either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime

from hotline import metrics
from hotline.audit import AuditEvent
from hotline.codec import dumps
from hotline.registry import DocumentQuery, NumberQuery, PersonQuery
from hotline.settings import Settings
from hotline.topics import topics

from .publisher import Publisher

log = logging.getLogger(__name__)

QUEUE_LIMIT = 100_000  # reports waiting for Kafka; beyond, each one is logged as lost
BATCH = 500  # reports written in one go
RETRY_S = 1.0  # the wait before a batch Kafka did not take is tried again


def delivered(agency: str, alert_id: str, event: str, at: datetime) -> AuditEvent:
    """An alert's `event` shown on a console of `agency`."""
    return AuditEvent(
        event_id=f"{alert_id}|{agency}|delivered|{event}",
        agency=agency,
        action="delivered",
        at=at,
        alert_id=alert_id,
        detail={"event": event},
    )


def looked_up(
    agency: str, query: NumberQuery | DocumentQuery | PersonQuery, found: int, at: datetime
) -> AuditEvent:
    """`agency` asked the registry for `query` (normalized) and was shown `found` cases."""
    asked = {k: str(v) for k, v in query.model_dump(mode="json").items() if v is not None}
    asked.pop("name_key", None)  # the folded name says the same to a reader
    return AuditEvent(
        event_id=f"lookup|{agency}|{uuid.uuid4().hex}",  # each question is one exchange
        agency=agency,
        action="looked_up",
        at=at,
        detail={**asked, "matches": str(found)},
    )


def listed(agency: str, import_id: str, alerts: int, at: datetime) -> AuditEvent:
    """`alerts` items of `agency`'s shared list `import_id` accepted in one batch: a list of a
    million numbers is a few hundred entries on the sender's record, not a million."""
    return AuditEvent(
        event_id=f"import|{agency}|{import_id}|{uuid.uuid4().hex}",  # each batch its own
        agency=agency,
        action="accepted",
        at=at,
        detail={"import_id": import_id, "alerts": str(alerts)},
    )


class AuditReporter:
    def __init__(self, settings: Settings, publisher: Publisher) -> None:
        self.topic = topics(settings).audit_events
        self.publisher = publisher
        self.queue: asyncio.Queue[AuditEvent] = asyncio.Queue(QUEUE_LIMIT)
        self._task: asyncio.Task[None] | None = None

    def report(self, event: AuditEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            metrics.AUDIT_REPORTS_LOST.inc()
            log.error(
                "audit report lost: %d waiting for Kafka already (%s, %s)",
                QUEUE_LIMIT,
                event.action,
                event.agency,
                extra={"alert_id": event.alert_id},
            )

    def delivered(self, agency: str, alert_id: str, event: str) -> None:
        self.report(delivered(agency, alert_id, event, datetime.now(UTC)))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-reporter")

    async def stop(self) -> None:
        """Writes out what is queued (for as long as Kafka takes it), then stops."""
        if self._task is None:
            return
        task, self._task = self._task, None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.queue.join(), 5.0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            await self._write(batch)
            for _ in batch:
                self.queue.task_done()

    async def _write(self, batch: list[AuditEvent]) -> None:
        records = [(e.agency.encode(), dumps(e)) for e in batch]
        while records:
            errors = await self.publisher.send_many(self.topic, records)
            records = [r for r, error in zip(records, errors, strict=True) if error is not None]
            if records:
                log.warning("audit reports not taken by Kafka: %d, trying again", len(records))
                await asyncio.sleep(RETRY_S)
