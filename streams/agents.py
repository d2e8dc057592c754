"""Thin Faust agents: decode, hand the record to streams.process, send what it returns.

A worker runs one lane or both. The urgent lane reads urgent alerts and their
acknowledgements, escalates, and holds the case index: it matches its own alerts in place and
the bulk lane's through Kafka (streams/matching.py). The bulk lane reads the import and its
acknowledgements; it never touches the case index, so a saturated bulk lane, or none at all,
leaves the urgent lane as fast as when idle.

Each agent awaits the acknowledgement of what it sent before taking the next record (or
batch), so a committed offset never covers an output Kafka has not durably stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import faust
import orjson

from hotline import metrics
from hotline.codec import dumps, loads
from hotline.errors import UnwritableRecord
from hotline.models import AckCommand, AlertRecord, Lane
from hotline.settings import Settings
from hotline.topics import topics
from streams.app import source_topics
from streams.errors import RETRIABLE, Guard, dead_letter, oversized_write, retry_writes
from streams.matching import MatchAnswer, MatchItem, reply_values, request_values
from streams.process import Matched, Out, Prepared, Processor, State
from streams.staged import Savepoint, Staged
from streams.turn import Turn
from streams.watchdog import StallDetector

log = logging.getLogger("hotline.worker")

# Bulk alerts the bulk lane admits in one step, and so sends in one match request.
BULK_BATCH = 100
# The bulk alerts the urgent lane matches in one step: what an urgent alert may wait for there
# (each costs the urgent lane about a millisecond, its changelog writes included).
MATCH_CHUNK = 10
# Answers (a chunk's each) the bulk lane delivers in one step: about a bulk batch's worth.
DELIVER_BATCH = BULK_BATCH // MATCH_CHUNK

Handle = Callable[[bytes], list[Out]]


def install(app: faust.App, settings: Settings, states: Mapping[Lane, State]) -> None:
    processor = Processor(settings)
    t = topics(settings)
    inputs = {
        "urgent": [t.inbound, t.acks, t.match_bulk],
        "bulk": [t.inbound_bulk, t.acks_bulk, t.matched_bulk],
    }
    src = source_topics(app, [name for lane in states for name in inputs[lane]])

    staged = [tb for st in states.values() for tb in st.tables() if isinstance(tb, Staged)]
    # An alerts table is what tells a redelivered record from a new one, so it is made
    # durable last: once it remembers an alert, every index entry for that alert is in Kafka.
    # (By identity: a table's == would compare its whole content.)
    alert_ids = {id(st.alerts) for st in states.values()}
    alerts = [tb for tb in staged if id(tb) in alert_ids]
    indexes = [tb for tb in staged if id(tb) not in alert_ids]
    # One record (or bulk batch) at a time through process -> send -> commit: a table write
    # must never become durable on the back of another agent's acknowledged outputs. Urgent
    # steps go first, so an urgent alert waits for at most the bulk batch in progress.
    turn = Turn()
    limit = settings.max_record_bytes

    async def step(
        source: str,
        values: list[bytes],
        handle: Handle,
        *,
        bulk: bool,
        deferred: list[Awaitable[Any]] | None = None,
    ) -> None:
        async with turn.bulk() if bulk else turn.urgent():
            before = Savepoint(staged)
            outs = [out for v in values for out in guarded(source, v, handle)]
            try:
                await send_all(outs, deferred=deferred)
            except UnwritableRecord:
                # Kafka refused an output the size check let through (a broker or topic with
                # a smaller limit): redo the records one by one, so only the culprit is lost
                # to its sender — rejected and dead-lettered, never silently.
                before.rollback()
                for value in values:
                    await one_by_one(source, value, handle)

    async def one_by_one(source: str, value: bytes, handle: Handle) -> None:
        before = Savepoint(staged)
        try:
            await send_all(guarded(source, value, handle))
        except UnwritableRecord as exc:
            before.rollback()
            await send_all(guard_of(source).failed(source, _offset(), value, exc, reject=True))

    async def timed_step(work: Callable[[datetime], list[Out]]) -> None:
        async with turn.urgent():
            await send_all(work(datetime.now(UTC)))

    async def send_all(outs: list[Out], *, deferred: list[Awaitable[Any]] | None = None) -> None:
        """Outputs first, durably; only then may the tables remember what caused them.

        `deferred`: where the acknowledgements of the outputs go instead of being awaited;
        the caller awaits them, and flushes the index tables' changelogs, before the
        record's offset can be committed (a match request's chunks: see in_chunks)."""
        outs = _batched(outs, t.match_bulk, t.matched_bulk, limit)

        async def write() -> None:
            futures = [
                await app.producer.send(o.topic, o.key, o.value, None, None, None) for o in outs
            ]
            if deferred is not None:
                deferred.extend(futures)
            elif futures:
                await asyncio.gather(*futures)

        if outs:
            await retry_writes(write)
        if any(t.pending for t in indexes):
            for table in indexes:
                table.commit()
            if deferred is None:
                await retry_writes(app.producer.flush)
        for table in alerts:
            table.commit()

    # One guard per lane: a record that can never be written is rejected into the tables of
    # the lane that read it (a single-POST follow-up of a bulk alert is the bulk lane's).
    def rejecting_into(st: State) -> Callable[[AlertRecord], list[Out]]:
        return lambda record: processor.unwritable(record, st, now())

    guards = {
        lane: Guard(staged, t.dead_letter, limit, rejecting_into(st)) for lane, st in states.items()
    }
    lane_reading = {topic: lane for lane in states for topic in inputs[lane]}

    def guard_of(source: str) -> Guard:
        return guards[lane_reading[source]]

    def guarded(source: str, value: bytes, handle: Handle) -> list[Out]:
        return guard_of(source).run(source, _offset(), value, handle)

    # --- the urgent lane ------------------------------------------------------------------

    def submission(st: State) -> Handle:
        return lambda value: processor.submission(loads(AlertRecord, value), st, now())

    def ack(st: State) -> Handle:
        return lambda value: processor.ack(loads(AckCommand, value), st, now())

    def match(st: State) -> Handle:
        """One admitted bulk alert through the case index. One that fails is answered as
        failed (and dead-lettered), so its sender hears of it and the rest go on."""
        assert st.cases is not None
        index = st.cases
        tables = [tb for tb in (index.cases, index.fingerprints, index.persons, index.links)]

        def handle(raw: bytes) -> list[Out]:
            item = loads(MatchItem, raw)
            before = Savepoint([tb for tb in tables if isinstance(tb, Staged)])
            try:
                m = processor.match(item.prepared(), index, now())
                key = oversized_write(before, limit)
                if key is not None:
                    raise UnwritableRecord(f"the table entry for {key} is too large for a record")
                # The item as it came, not serialized again: the answer is request + case.
                answer = b'{"item":' + raw + b',"case":' + dumps(m.case) + b"}"
                return [Out(t.matched_bulk, item.record.alert_id.encode(), answer)]
            except Exception as exc:  # noqa: BLE001 - answered, and dead-lettered
                before.rollback()
                failed = MatchAnswer.model_construct(item=item, error=repr(exc))
                return [
                    dead_letter(t.dead_letter, t.match_bulk, _offset(), raw, exc),
                    _answer(t.matched_bulk, failed),
                ]

        return handle

    # --- the bulk lane --------------------------------------------------------------------

    def admit(st: State) -> Handle:
        """Checks and enriches a bulk alert; what is left to do is asked of the case index."""

        def handle(value: bytes) -> list[Out]:
            return admitted(processor.admit(loads(AlertRecord, value), st, now()))

        return handle

    def admitted(result: Prepared | list[Out]) -> list[Out]:
        if isinstance(result, Prepared):
            item = MatchItem.of(result)
            return [Out(t.match_bulk, result.record.alert_id.encode(), dumps(item))]
        return result

    def deliver(st: State) -> Handle:
        def one(answer: MatchAnswer) -> list[Out]:
            record = answer.item.record
            at = now()
            if record.alert_id in st.alerts:
                # Delivered already: an answer read again after a restart, or the answer to
                # a request sent twice. Its events went out with the first; storing its state
                # again would undo what came since (an acknowledgement, a cancel).
                metrics.DUPLICATES.labels(record.body.kind).inc()
                return []
            if answer.case is None:
                return processor.unmatched(record, st, at)
            outs = processor.deliver(answer.item.prepared(), Matched(answer.case), st, at)
            for waiting in processor.released(record.alert_id, st):
                outs += admitted(processor.admit(waiting, st, at))
            return outs

        def handle(value: bytes) -> list[Out]:
            outs: list[Out] = []
            for raw in _parts(value, "answers"):
                # Each answer alone: one that fails is dead-lettered, the others delivered.
                outs += guard_of(t.matched_bulk).run(
                    t.matched_bulk,
                    _offset(),
                    raw,
                    lambda v: one(loads(MatchAnswer, v)),
                    record_of=lambda v: loads(MatchAnswer, v).item.record,
                )
            return outs

        return handle

    def now() -> datetime:
        return datetime.now(UTC)

    # --- agents ---------------------------------------------------------------------------

    handled: dict[str, int] = {}  # source topic -> next offset to handle, for the watchdog

    def one_at_a_time(name: str, topic: str, handle: Handle, *, bulk: bool = False) -> None:
        async def agent(stream: Any) -> None:
            async for event in stream.events():
                await step(topic, [event.value], handle, bulk=bulk)
                handled[topic] = event.message.offset + 1

        app.agent(src[topic], name=name)(agent)

    def in_chunks(name: str, topic: str, handle: Handle) -> None:
        """A match request's items, MATCH_CHUNK to a step: bulk work, so each step takes its
        turn after any urgent one waiting, and an urgent alert waits for one chunk at most."""

        async def agent(stream: Any) -> None:
            async for event in stream.events():
                items = _parts(event.value, "items")
                chunks = [items[i : i + MATCH_CHUNK] for i in range(0, len(items), MATCH_CHUNK)]
                # Each chunk's answers are awaited once, with the index's changelogs, at the
                # end of the request (the agent takes no next record, so its offset cannot be
                # committed before): a round trip per request, not per chunk. Matching is
                # idempotent, so index writes made before their answers are durable are safe:
                # if an answer is lost, the request is read again and answered the same way.
                pending: list[Awaitable[Any]] = []
                try:
                    for chunk in chunks:
                        await step(topic, chunk, handle, bulk=True, deferred=pending)
                    await asyncio.gather(*pending)
                    await retry_writes(app.producer.flush)
                except (UnwritableRecord, *RETRIABLE) as exc:
                    log.warning("match answers not written (%r); matching the request again", exc)
                    for chunk in chunks:
                        await step(topic, chunk, handle, bulk=True)
                handled[topic] = event.message.offset + 1

        app.agent(src[topic], name=name)(agent)

    def in_batches(name: str, topic: str, handle: Handle, size: int = BULK_BATCH) -> None:
        async def agent(stream: Any) -> None:
            async for events in stream.take_events(size, within=0.05):
                await step(topic, [e.value for e in events], handle, bulk=True)
                handled[topic] = events[-1].message.offset + 1

        app.agent(src[topic], name=name)(agent)

    if "urgent" in states:
        urgent = states["urgent"]
        one_at_a_time("urgent-lane", t.inbound, submission(urgent))
        one_at_a_time("acks", t.acks, ack(urgent))
        in_chunks("match-bulk", t.match_bulk, match(urgent))
    if "bulk" in states:
        bulk = states["bulk"]
        in_batches("bulk-lane", t.inbound_bulk, admit(bulk))
        one_at_a_time("bulk-acks", t.acks_bulk, ack(bulk), bulk=True)
        in_batches("bulk-deliver", t.matched_bulk, deliver(bulk), size=DELIVER_BATCH)

    def active() -> bool:
        """This worker owns its lane's input (the other worker of the lane is a standby)."""
        lead = t.inbound if "urgent" in states else t.inbound_bulk
        return any(tp.topic == lead for tp in app.assignor.assigned_actives())

    @app.timer(interval=1.0, name="escalations")  # type: ignore[untyped-decorator]
    async def escalate() -> None:
        # Tables hold standby copies too; only the worker that owns the partition escalates
        # and reports (a standby reporting would double-count in the operators' sums).
        is_active = active()
        # "Owns the stream" is the urgent lane's: that is what operators are paged about. A
        # bulk-only worker reports 0 (its readiness says whether it owns the import).
        metrics.WORKER_ACTIVE.set(1 if is_active and "urgent" in states else 0)
        counts: dict[str, int] = {}
        if is_active:
            for st in states.values():
                await timed_step(partial(processor.escalate_due, st))
                await timed_step(partial(processor.expire_parked, st))
                for agency, n in processor.unacknowledged(st).items():
                    counts[agency] = counts.get(agency, 0) + n
        for agency in settings.agency_ids:
            metrics.URGENT_UNACKED.labels(agency).set(counts.get(agency, 0))

    stalls = StallDetector()

    @app.timer(interval=1.0, name="watchdog")  # type: ignore[untyped-decorator]
    async def watchdog() -> None:
        consumer = app.consumer
        loop_now = asyncio.get_running_loop().time()
        for tp in app.assignor.assigned_actives():
            if tp.topic not in src or turn.locked():
                continue
            committed = consumer._committed_offset.get(tp)  # type: ignore[attr-defined]
            position = handled.get(tp.topic, committed or 0)
            if stalls.check(tp.topic, position, consumer.highwater(tp), loop_now):
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
        # "active": this worker owns its lane's partition (the other is a hot standby).
        # Ready: it holds partitions (active or standby) with their tables recovered, so an
        # alert posted now is handled by it or by the worker it stands by for.
        assigned = bool(app.assignor.assigned_actives() or app.assignor.assigned_standbys())
        recovered = app.tables.recovery.completed.is_set()  # type: ignore[attr-defined]
        ready = assigned and recovered and not app.rebalancing
        body = {
            "status": "ready" if ready else "not_ready",
            "active": active(),
            "lanes": list(states),
        }
        return view.json(body, status=200 if ready else 503)

    _ = (escalate, watchdog, readyz)


def _answer(topic: str, answer: MatchAnswer) -> Out:
    return Out(topic, answer.item.record.alert_id.encode(), dumps(answer))


def _parts(value: bytes, field: str) -> list[bytes]:
    # Each item on its own, so each can fail alone; re-encoding a parsed dict is cheap.
    return [orjson.dumps(part) for part in orjson.loads(value)[field]]


def _batched(outs: list[Out], requests: str, replies: str, limit: int) -> list[Out]:
    """The match round trip's per-item outputs go out as one record per batch (or a few)."""
    if not any(o.topic in (requests, replies) for o in outs):
        return outs
    rest = [o for o in outs if o.topic not in (requests, replies)]
    for topic, values in (
        (requests, request_values([o.value for o in outs if o.topic == requests], limit)),
        (replies, reply_values([o.value for o in outs if o.topic == replies], limit)),
    ):
        rest += [Out(topic, b"", v) for v in values]
    return rest


def _offset() -> int | None:
    event = faust.current_event()
    return event.message.offset if event is not None else None
