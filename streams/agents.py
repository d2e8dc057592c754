"""Thin Faust agents: decode, hand the record to streams.process, send what it returns.

Each agent awaits the acknowledgement of what it sent before taking the next record (or
batch), so a committed offset never covers an output Kafka has not durably stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import faust

from hotline import metrics
from hotline.codec import loads
from hotline.errors import UnwritableRecord
from hotline.models import AckCommand, AlertRecord
from hotline.settings import Settings
from hotline.topics import topics
from streams.app import source_topics
from streams.errors import Guard, retry_writes
from streams.process import Out, Processor, State
from streams.staged import Savepoint, Staged
from streams.turn import Turn
from streams.watchdog import StallDetector

log = logging.getLogger("hotline.worker")

# Small enough that an urgent alert waits behind at most one batch of bulk work (~50 ms).
BULK_BATCH = 100


def install(app: faust.App, settings: Settings, st: State) -> None:
    processor = Processor(settings)
    t = topics(settings)
    src = source_topics(app, settings)

    staged = [t for t in st.tables() if isinstance(t, Staged)]
    # The alerts table is what tells a redelivered record from a new one, so it is made
    # durable last: once it remembers an alert, every index entry for that alert is in Kafka.
    indexes = [t for t in staged if t is not st.alerts]
    alerts = [t for t in staged if t is st.alerts]
    # One record (or bulk batch) at a time through process -> send -> commit: a table write
    # must never become durable on the back of another agent's acknowledged outputs. Urgent
    # steps go first, so an urgent alert waits for at most the bulk batch in progress.
    turn = Turn()

    async def step(
        source: str, values: list[bytes], handle: Callable[[bytes], list[Out]], *, bulk: bool
    ) -> None:
        async with turn.bulk() if bulk else turn.urgent():
            before = Savepoint(staged)
            outs = [out for v in values for out in guarded(source, v, handle)]
            try:
                await send_all(outs)
            except UnwritableRecord:
                # Kafka refused an output the size check let through (a broker or topic with
                # a smaller limit): redo the records one by one, so only the culprit is lost
                # to its sender — rejected and dead-lettered, never silently.
                before.rollback()
                for value in values:
                    await one_by_one(source, value, handle)

    async def one_by_one(source: str, value: bytes, handle: Callable[[bytes], list[Out]]) -> None:
        before = Savepoint(staged)
        try:
            await send_all(guarded(source, value, handle))
        except UnwritableRecord as exc:
            before.rollback()
            await send_all(failed(source, value, exc, reject=True))

    async def timed_step(work: Callable[[datetime], list[Out]]) -> None:
        async with turn.urgent():
            await send_all(work(datetime.now(UTC)))

    async def send_all(outs: list[Out]) -> None:
        """Outputs first, durably; only then may the tables remember what caused them."""

        async def write() -> None:
            futures = [
                await app.producer.send(o.topic, o.key, o.value, None, None, None) for o in outs
            ]
            if futures:
                await asyncio.gather(*futures)

        if outs:
            await retry_writes(write)
        if any(t.pending for t in indexes):
            for table in indexes:
                table.commit()
            await retry_writes(app.producer.flush)
        for table in alerts:
            table.commit()

    guard = Guard(
        staged,
        t.dead_letter,
        settings.max_record_bytes,
        lambda record: processor.unwritable(record, st, datetime.now(UTC)),
    )

    def guarded(source: str, value: bytes, handle: Callable[[bytes], list[Out]]) -> list[Out]:
        return guard.run(source, _offset(), value, handle)

    def failed(source: str, value: bytes, exc: BaseException, *, reject: bool) -> list[Out]:
        return guard.failed(source, _offset(), value, exc, reject=reject)

    def submission(value: bytes) -> list[Out]:
        return processor.submission(loads(AlertRecord, value), st, datetime.now(UTC))

    def ack(value: bytes) -> list[Out]:
        return processor.ack(loads(AckCommand, value), st, datetime.now(UTC))

    handled: dict[str, int] = {}  # source topic -> next offset to handle, for the watchdog

    @app.agent(src[t.inbound], name="urgent-lane")
    async def urgent(stream: Any) -> None:
        async for event in stream.events():
            await step(t.inbound, [event.value], submission, bulk=False)
            handled[t.inbound] = event.message.offset + 1

    @app.agent(src[t.inbound_bulk], name="bulk-lane")
    async def bulk(stream: Any) -> None:
        async for events in stream.take_events(BULK_BATCH, within=0.05):
            await step(t.inbound_bulk, [e.value for e in events], submission, bulk=True)
            handled[t.inbound_bulk] = events[-1].message.offset + 1

    @app.agent(src[t.acks], name="acks")
    async def acks(stream: Any) -> None:
        async for event in stream.events():
            await step(t.acks, [event.value], ack, bulk=False)
            handled[t.acks] = event.message.offset + 1

    @app.timer(interval=1.0, name="escalations")  # type: ignore[untyped-decorator]
    async def escalate() -> None:
        # Tables hold standby copies too; only the worker that owns the partition escalates
        # and reports (a standby reporting would double-count in the operators' sums).
        active = any(tp.topic == t.inbound for tp in app.assignor.assigned_actives())
        metrics.WORKER_ACTIVE.set(1 if active else 0)
        if active:
            await timed_step(lambda now: processor.escalate_due(st, now))
            await timed_step(lambda now: processor.expire_parked(st, now))
        counts = processor.unacknowledged(st) if active else {}
        for agency in settings.agency_ids:
            metrics.URGENT_UNACKED.labels(agency).set(counts.get(agency, 0))

    stalls = StallDetector()

    @app.timer(interval=1.0, name="watchdog")  # type: ignore[untyped-decorator]
    async def watchdog() -> None:
        consumer = app.consumer
        now = asyncio.get_running_loop().time()
        for tp in app.assignor.assigned_actives():
            if tp.topic not in src or turn.locked():
                continue
            committed = consumer._committed_offset.get(tp)  # type: ignore[attr-defined]
            position = handled.get(tp.topic, committed or 0)
            if stalls.check(tp.topic, position, consumer.highwater(tp), now):
                log.warning(
                    "%s[%d] stalled at %d; seeking back to it",
                    tp.topic,
                    tp.partition,
                    position,
                    extra={"topic": tp.topic, "offset": position},
                )
                await consumer.seek(tp, position)

    @app.page("/readyz")
    async def readyz(view: Any, request: Any) -> Any:
        # "active": this worker owns the stream's partition (the other is a hot standby).
        # Ready: it holds partitions (active or standby) with their tables recovered, so an
        # alert posted now is handled by it or by the worker it stands by for.
        active = any(tp.topic == t.inbound for tp in app.assignor.assigned_actives())
        assigned = bool(app.assignor.assigned_actives() or app.assignor.assigned_standbys())
        recovered = app.tables.recovery.completed.is_set()  # type: ignore[attr-defined]
        ready = assigned and recovered and not app.rebalancing
        body = {"status": "ready" if ready else "not_ready", "active": active}
        return view.json(body, status=200 if ready else 503)

    _ = (urgent, bulk, acks, escalate, watchdog, readyz)


def _offset() -> int | None:
    event = faust.current_event()
    return event.message.offset if event is not None else None
