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
import gc
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import faust
import orjson
from faust.types import TP

from hotline import metrics
from hotline.codec import dumps, loads
from hotline.errors import UnwritableRecord
from hotline.fields import Lane
from hotline.models import AckCommand, AlertRecord
from hotline.settings import Settings
from hotline.topics import topics
from streams import partition
from streams.case_tables import Homes
from streams.errors import RETRIABLE, Guard, dead_letter, oversized_write, retry_writes
from streams.links import LinkMessage, Links, home_of
from streams.matching import MatchAnswer, MatchItem, reply_values, request_values
from streams.process import Matched, Out, Position, Prepared, Processor, State
from streams.staged import Savepoint, Staged
from streams.turn import Turn
from streams.urgent_producer import UrgentProducer
from streams.watchdog import MAX_REFETCHES, Progress, StallDetector, refetch_due

log = logging.getLogger("hotline.worker")

# Bulk alerts the bulk lane admits in one step, and so sends in one match request.
BULK_BATCH = 100
# How long the bulk lane waits for a batch to fill before it takes what came.
BULK_WITHIN_S = 0.05
# The bulk alerts the urgent lane matches in one step: what an urgent alert may wait for there
# (each costs the urgent lane about a millisecond, its changelog writes included).
MATCH_CHUNK = 10
# Answers (a chunk's each) the bulk lane delivers in one step: about a bulk batch's worth.
DELIVER_BATCH = BULK_BATCH // MATCH_CHUNK

Handle = Callable[[bytes], list[Out]]
Item = tuple[int, int, bytes]  # the partition a record was read from, its offset, its value


def install(app: faust.App, settings: Settings, states: Mapping[Lane, State]) -> None:
    processor = Processor(settings)
    t = topics(settings)
    inputs = {
        "urgent": [t.inbound, t.acks, t.match_urgent, t.matched_urgent, t.links, t.match_bulk],
        "bulk": [t.inbound_bulk, t.acks_bulk, t.matched_bulk],
    }
    # Where a bulk alert is matched; only the urgent lane's workers know who holds what.
    homes = Homes(settings.partitions)
    src = source_topics(app, [name for lane in states for name in inputs[lane]])

    staged = [tb for st in states.values() for tb in st.tables() if isinstance(tb, Staged)]
    # An alerts table is what tells a redelivered record from a new one, so it is made
    # durable last: once it remembers an alert, every index entry for that alert is in Kafka.
    # (By identity: a table's == would compare its whole content.)
    alert_ids = {id(st.alerts) for st in states.values()}
    alerts = [tb for tb in staged if id(tb) in alert_ids]
    indexes = [tb for tb in staged if id(tb) not in alert_ids]
    handled = Progress()  # what the agents handled: for the watchdog and the turn

    def committed(key: tuple[str, int]) -> int | None:
        offset: int | None = app.consumer._committed_offset.get(TP(*key))  # type: ignore[attr-defined]
        return offset

    def handled_up_to(key: tuple[str, int]) -> int:
        """The next offset of a source partition its agent is to handle."""
        return handled.next_offset.get(key, committed(key) or 0)

    def _handled(events: list[Any]) -> None:
        handled.note(events, asyncio.get_running_loop().time(), committed)

    urgent_inputs = (
        {t.inbound, t.acks, t.match_urgent, t.matched_urgent} if "urgent" in states else set()
    )

    def urgent_pending() -> tuple[tuple[str, int, int], ...] | None:
        """The urgent input partitions with records in Kafka beyond what their agents handled
        (and from where), as the consumer's last fetch saw them; None if there are none."""
        if not urgent_inputs:
            return None
        behind = []
        for tp in app.assignor.assigned_actives():
            if tp.topic in urgent_inputs:
                done = handled_up_to((tp.topic, tp.partition))
                end = app.consumer.highwater(tp)
                if end is not None and end > done:
                    behind.append((tp.topic, tp.partition, done))
        return tuple(behind) or None

    # One record (or bulk batch) at a time through process -> send -> commit: a table write
    # must never become durable on the back of another agent's acknowledged outputs. Urgent
    # steps go first, so an urgent alert waits for at most the bulk batch in progress.
    turn = Turn(urgent_pending=urgent_pending)
    limit = settings.max_record_bytes
    # Urgent steps write through a producer of their own (streams/urgent_producer.py).
    urgent_out = UrgentProducer(settings) if "urgent" in states else None
    if urgent_out is not None:

        async def stop_urgent_out(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
            assert urgent_out is not None
            await urgent_out.stop()

        app.on_before_shutdown.connect(stop_urgent_out)

    # Where a step's records go: Faust's producer, or the urgent lane's own.
    async def bulk_send(topic: str, key: bytes, value: bytes | None, p: int | None) -> Any:
        return await app.producer.send(topic, key, value, p, None, None)

    async def urgent_send(topic: str, key: bytes, value: bytes | None, p: int | None) -> Any:
        assert urgent_out is not None
        return await urgent_out.send(topic, key, value, p)

    async def step(
        source: str,
        items: list[Item],
        handle: Handle,
        *,
        bulk: bool,
        deferred: list[Awaitable[Any]] | None = None,
        hold: list[Out] | None = None,
    ) -> None:
        """`hold`: where the step's match answers go instead of being sent (see in_chunks)."""
        async with turn.bulk() if bulk else turn.urgent():
            before = Savepoint(staged)
            outs = [out for item in items for out in guarded(source, item, handle)]
            if hold is not None:
                hold += [o for o in outs if o.topic == t.matched_bulk]
                outs = [o for o in outs if o.topic != t.matched_bulk]
            try:
                await send_all(outs, deferred=deferred, urgent=not bulk)
            except UnwritableRecord:
                # Kafka refused an output the size check let through (a broker or topic with
                # a smaller limit): redo the records one by one, so only the culprit is lost
                # to its sender — rejected and dead-lettered, never silently.
                before.rollback()
                for item in items:
                    await one_by_one(source, item, handle, urgent=not bulk)

    async def one_by_one(source: str, item: Item, handle: Handle, *, urgent: bool) -> None:
        before = Savepoint(staged)
        try:
            await send_all(guarded(source, item, handle), urgent=urgent)
        except UnwritableRecord as exc:
            before.rollback()
            p, offset, value = item
            with partition.of(p, offset):
                failed = guard_of(source).failed(source, offset, value, exc, reject=True)
            await send_all(failed, urgent=urgent)

    async def timed_step(work: Callable[[datetime], list[Out]], *, bulk: bool = False) -> None:
        async with turn.bulk() if bulk else turn.urgent():
            await send_all(work(datetime.now(UTC)), urgent=not bulk)

    async def send_all(
        outs: list[Out], *, deferred: list[Awaitable[Any]] | None = None, urgent: bool = False
    ) -> None:
        """Outputs first, durably; only then may the tables remember what caused them.

        `deferred`: where the acknowledgements of the outputs go instead of being awaited;
        the caller awaits them, and flushes the index tables' changelogs, before the
        record's offset can be committed (a match request's chunks: see in_chunks)."""
        outs = _batched(outs, t.match_bulk, t.matched_bulk, limit)
        send = urgent_send if urgent and urgent_out is not None else bulk_send

        async def write() -> None:
            futures = [await send(o.topic, o.key, o.value, o.partition) for o in outs]
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
        # The alerts last, and through their changelog: the store may remember an alert
        # only once its state record is in Kafka (streams.tables.Table.write_through).
        for table in alerts:
            if table.pending:
                await retry_writes(partial(table.commit_through, send))

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

    def guarded(source: str, item: Item, handle: Handle) -> list[Out]:
        p, offset, value = item
        with partition.of(p, offset):
            return guard_of(source).run(source, offset, value, handle)

    # --- the urgent lane ------------------------------------------------------------------

    def submission(st: State) -> Handle:
        return lambda value: submit(loads(AlertRecord, value), st, now())

    def submit(record: AlertRecord, st: State, at: datetime) -> list[Out]:
        """Processor.submission, but an alert whose index partition another worker holds is
        asked of it (match.urgent), and delivered when the answer is back (matched.urgent)."""
        result = processor.admit(record, st, at)
        if not isinstance(result, Prepared):
            outs = result
        else:
            assert st.cases is not None
            station = processor.station(result, st.cases.homes)
            if st.cases.homes.owns(station):
                m = processor.match(result, st.cases, at)
                outs = processor.deliver(result, m, st, at) + link_outs(m.links)
            else:
                item = MatchItem.of(result, partition.current() or 0)
                key = record.alert_id.encode()
                outs = [Out(t.match_urgent, key, dumps(item), station)]
        for waiting in processor.released(record.alert_id, st):
            outs += submit(waiting, st, at)
        return outs

    def link_outs(messages: list[LinkMessage]) -> list[Out]:
        return [Out(t.links, m.target.encode(), dumps(m), home_of(homes, m)) for m in messages]

    def relink(st: State) -> Handle:
        """A link message from another index partition, applied here (and what it leads to)."""
        assert st.cases is not None
        index = st.cases

        def handle(value: bytes) -> list[Out]:
            links = Links(index)
            links.apply(loads(LinkMessage, value))
            return link_outs(links.remote)

        return handle

    def ack(st: State) -> Handle:
        return lambda value: processor.ack(loads(AckCommand, value), st, now())

    def match(st: State, requests: str, answers: str) -> Handle:
        """One admitted alert through the case index. One that fails is answered as
        failed (and dead-lettered), so its sender hears of it and the rest go on."""
        assert st.cases is not None
        index = st.cases
        tables = [tb for tb in (index.cases, index.fingerprints, index.persons, index.links)]

        def handle(raw: bytes) -> list[Out]:
            item = loads(MatchItem, raw)
            before = Savepoint([tb for tb in tables if isinstance(tb, Staged)])
            try:
                m = processor.match(item.prepared(), index, now())
                too_large = oversized_write(before, limit)
                if too_large is not None:
                    why = f"the table entry for {too_large} is too large for a record"
                    raise UnwritableRecord(why)
                # The item as it came, not serialized again: the answer is request + case.
                answer = b'{"item":' + raw + b',"case":' + dumps(m.case) + b"}"
                key = item.record.alert_id.encode()
                return [Out(answers, key, answer, item.partition), *link_outs(m.links)]
            except Exception as exc:  # noqa: BLE001 - answered, and dead-lettered
                before.rollback()
                failed = MatchAnswer.model_construct(item=item, error=repr(exc))
                return [
                    dead_letter(t.dead_letter, requests, partition.offset(), raw, exc),
                    _answer(answers, failed),
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
            item = MatchItem.of(result, partition.current() or 0)
            station = processor.station(result, homes)
            return [Out(t.match_bulk, result.record.alert_id.encode(), dumps(item), station)]
        return result

    def answered(st: State, then: Callable[[AlertRecord, State, datetime], list[Out]]) -> Any:
        """Delivers what the case index answered; `then`: how a released follow-up goes on."""

        def one(answer: MatchAnswer, position: Position | None) -> list[Out]:
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
            m = Matched(answer.case)
            outs = processor.deliver(answer.item.prepared(), m, st, at, position=position)
            for waiting in processor.released(record.alert_id, st):
                outs += then(waiting, st, at)
            return outs

        return one

    def deliver_urgent(st: State) -> Handle:
        one = answered(st, submit)
        return lambda value: one(loads(MatchAnswer, value), None)

    def deliver(st: State) -> Handle:
        one = answered(st, lambda r, st, at: admitted(processor.admit(r, st, at)))

        def handle(value: bytes) -> list[Out]:
            outs: list[Out] = []
            offset = partition.offset()
            for i, raw in enumerate(_parts(value, "answers")):
                # Where the answer stands in its partition: what its counts are written up to.
                at = None if offset is None else (offset, i)
                # Each answer alone: one that fails is dead-lettered, the others delivered.
                outs += guard_of(t.matched_bulk).run(
                    t.matched_bulk,
                    offset,
                    raw,
                    partial(_answered_at, one, at),
                    record_of=lambda v: loads(MatchAnswer, v).item.record,
                )
            return outs

        return handle

    def now() -> datetime:
        return datetime.now(UTC)

    # --- agents ---------------------------------------------------------------------------

    def one_at_a_time(name: str, topic: str, handle: Handle, *, bulk: bool = False) -> None:
        async def agent(stream: Any) -> None:
            async for event in stream.events():
                await step(topic, [_item(event)], handle, bulk=bulk)
                _handled([event])

        app.agent(src[topic], name=name)(agent)

    def in_chunks(name: str, topic: str, handle: Handle) -> None:
        """A match request's items, MATCH_CHUNK to a step: bulk work, so each step takes its
        turn after any urgent one waiting, and an urgent alert waits for one chunk at most."""

        async def agent(stream: Any) -> None:
            async for event in stream.events():
                p = event.message.partition
                items = [(p, event.message.offset, part) for part in _parts(event.value, "items")]
                chunks = [items[i : i + MATCH_CHUNK] for i in range(0, len(items), MATCH_CHUNK)]
                # Each chunk's answers are awaited once, with the index's changelogs, at the
                # end of the request (the agent takes no next record, so its offset cannot be
                # committed before): a round trip per request, not per chunk. Matching is
                # idempotent, so index writes made before their answers are durable are safe:
                # if an answer is lost, the request is read again and answered the same way.
                # The answers themselves are held until the last chunk and go out by partition
                # of the bulk lane, a few records per request: a request mixes partitions, and
                # answering each chunk apart cost a record per answer or so.
                pending: list[Awaitable[Any]] = []
                answers: list[Out] = []
                try:
                    for chunk in chunks:
                        await step(topic, chunk, handle, bulk=True, deferred=pending, hold=answers)
                    async with turn.bulk():
                        await send_all(answers, deferred=pending)
                    await asyncio.gather(*pending)
                    await retry_writes(app.producer.flush)
                except (UnwritableRecord, *RETRIABLE) as exc:
                    log.warning("match answers not written (%r); matching the request again", exc)
                    for chunk in chunks:
                        await step(topic, chunk, handle, bulk=True)
                _handled([event])

        app.agent(src[topic], name=name)(agent)

    def in_batches(name: str, topic: str, handle: Handle, size: int = BULK_BATCH) -> None:
        async def agent(stream: Any) -> None:
            async for events in stream.take_events(size, within=BULK_WITHIN_S):
                await step(topic, [_item(e) for e in events], handle, bulk=True)
                _handled(events)

        app.agent(src[topic], name=name)(agent)

    if "urgent" in states:
        urgent = states["urgent"]
        one_at_a_time("urgent-lane", t.inbound, submission(urgent))
        one_at_a_time("acks", t.acks, ack(urgent))
        one_at_a_time(
            "match-urgent", t.match_urgent, match(urgent, t.match_urgent, t.matched_urgent)
        )
        one_at_a_time("matched-urgent", t.matched_urgent, deliver_urgent(urgent))
        one_at_a_time("relink", t.links, relink(urgent), bulk=True)
        in_chunks("match-bulk", t.match_bulk, match(urgent, t.match_bulk, t.matched_bulk))
    if "bulk" in states:
        bulk = states["bulk"]
        in_batches("bulk-lane", t.inbound_bulk, admit(bulk))
        one_at_a_time("bulk-acks", t.acks_bulk, ack(bulk), bulk=True)
        in_batches("bulk-deliver", t.matched_bulk, deliver(bulk), size=DELIVER_BATCH)

    def owned(lane: Lane) -> list[int]:
        """The partitions of the lane's input this worker owns (a standby owns none)."""
        lead = t.inbound_of(lane)
        return sorted(tp.partition for tp in app.assignor.assigned_actives() if tp.topic == lead)

    def active() -> bool:
        """This worker owns (part of) its lane's input; otherwise it is a standby."""
        return bool(owned("urgent" if "urgent" in states else "bulk"))

    @app.timer(interval=1.0, name="escalations")  # type: ignore[untyped-decorator]
    async def escalate() -> None:
        # Tables hold standby copies too; only the worker that owns the partition escalates
        # and reports (a standby reporting would double-count in the operators' sums).
        # "Owns the stream" is the urgent lane's: that is what operators are paged about. A
        # bulk-only worker reports 0 (its readiness says whether it owns part of the import).
        metrics.WORKER_ACTIVE.set(1 if "urgent" in states and owned("urgent") else 0)
        counts: dict[str, int] = {}
        for lane, st in states.items():
            # Each partition this worker owns, in its own turn: its tables' entries are there.
            for p in owned(lane):
                await timed_step(partial(in_partition, p, processor.escalate_due, st))
                await timed_step(partial(in_partition, p, processor.expire_parked, st))
                if lane == "bulk":
                    # Bulk work: in its turn after any urgent step, through Faust's producer.
                    digests_due = partial(in_partition, p, processor.digests_due, st)
                    await timed_step(digests_due, bulk=True)
                with partition.of(p):
                    for agency, n in processor.unacknowledged(st).items():
                        counts[agency] = counts.get(agency, 0) + n
        for agency in settings.agency_ids:
            metrics.URGENT_UNACKED.labels(agency).set(counts.get(agency, 0))

    stalls = StallDetector()
    flowing_since: float | None = None  # loop time since when flow control has been on

    @app.timer(interval=1.0, name="watchdog")  # type: ignore[untyped-decorator]
    async def watchdog() -> None:
        nonlocal flowing_since
        consumer = app.consumer
        loop_now = asyncio.get_running_loop().time()
        if not app.flow_control.is_active():
            flowing_since = None
        elif flowing_since is None:
            flowing_since = loop_now
        for tp in app.assignor.assigned_actives():
            if tp.topic not in src or turn.locked():
                continue
            key = (tp.topic, tp.partition)
            # Its agent busy with other partitions' records: waiting its turn, not stalled.
            last = handled.last_at.get(tp.topic, float("-inf"))
            hole = handled.holes.get(key)
            if hole is not None and handled.hole_to_fetch(key) is None:
                log.error(
                    "%s[%d]: records from %d not fetched after %d tries; not trying again",
                    tp.topic,
                    tp.partition,
                    hole,
                    MAX_REFETCHES,
                    extra={"topic": tp.topic, "offset": hole},
                )
            elif hole is not None and refetch_due(loop_now, flowing_since, last):
                log.warning(
                    "%s[%d]: records from %d never reached the agent; fetching them again",
                    tp.topic,
                    tp.partition,
                    hole,
                    extra={"topic": tp.topic, "offset": hole},
                )
                handled.sought(key, hole)
                await _seek(consumer, tp, hole)
                continue
            position = handled_up_to(key)
            where = f"{tp.topic}[{tp.partition}]"
            if stalls.check(where, position, consumer.highwater(tp), loop_now, last):
                log.warning(
                    "%s[%d] stalled at %d; seeking back to it",
                    tp.topic,
                    tp.partition,
                    position,
                    extra={"topic": tp.topic, "offset": position},
                )
                handled.sought(key, position)
                await _seek(consumer, tp, position)

    @app.page("/readyz")
    async def readyz(view: Any, request: Any) -> Any:
        # "active": this worker owns partitions of its lane (not only standby copies).
        # Ready: it holds partitions (active or standby) with their tables recovered, so an
        # alert posted now is handled by it or by the worker it stands by for.
        assigned = bool(app.assignor.assigned_actives() or app.assignor.assigned_standbys())
        recovered = app.tables.recovery.completed.is_set()  # type: ignore[attr-defined]
        ready = assigned and recovered and not app.rebalancing
        body = {
            "status": "ready" if ready else "not_ready",
            "active": active(),
            "lanes": list(states),
            # The input partitions it owns, per lane: how a lane's work is shared out.
            "partitions": {lane: owned(lane) for lane in states},
        }
        return view.json(body, status=200 if ready else 503)

    @app.task  # type: ignore[untyped-decorator]
    async def settle_heap() -> None:
        # What a recovered worker holds (modules, Faust's services, schemas, phone metadata:
        # ~107,000 objects) lives as long as the process, and every full collection walked
        # it: a 25-150 ms stop of the loop every 10-30 s under load, urgent records included.
        # Frozen, it is out of the collector's way, as the gateway's is (gateway/main.py);
        # what start-up left as garbage is collected first, so none is frozen with it.
        await app.tables.recovery.completed.wait()  # type: ignore[attr-defined]
        gc.collect()
        gc.freeze()
        log.info("heap settled: %d objects frozen", gc.get_freeze_count())

    _ = (escalate, watchdog, readyz, settle_heap)


def _answer(topic: str, answer: MatchAnswer) -> Out:
    return Out(topic, answer.item.record.alert_id.encode(), dumps(answer), answer.item.partition)


def _answered_at(
    one: Callable[[MatchAnswer, Position | None], list[Out]], at: Position | None, raw: bytes
) -> list[Out]:
    return one(loads(MatchAnswer, raw), at)


def _item(event: Any) -> Item:
    return event.message.partition, event.message.offset, event.value


async def _seek(consumer: Any, tp: TP, offset: int) -> None:
    """Faust's `Consumer.seek`, but in the consumer's own thread. Faust's moves aiokafka's
    fetch position from the event loop's thread while the consumer thread may be reading its
    fetch buffers: a full benchmark run's bulk worker died of it (a KeyError in aiokafka's
    `fetched_records`). Like Faust's, it then has the drain loop read on from there."""
    thread = consumer._thread
    await thread.call_thread(thread._ensure_consumer().seek, tp, offset)
    consumer._read_offset[tp] = offset if offset else None


def in_partition(p: int, work: Callable[..., list[Out]], *args: Any) -> list[Out]:
    with partition.of(p):
        return work(*args)


def _parts(value: bytes, field: str) -> list[bytes]:
    # Each item on its own, so each can fail alone; re-encoding a parsed dict is cheap.
    return [orjson.dumps(part) for part in orjson.loads(value)[field]]


def _batched(outs: list[Out], requests: str, replies: str, limit: int) -> list[Out]:
    """The match round trip's per-item outputs go out as one record per batch (or a few)."""
    if not any(o.topic in (requests, replies) for o in outs):
        return outs
    rest = [o for o in outs if o.topic not in (requests, replies)]
    # Requests go to the index partition each alert is matched on, answers back to the
    # partition of the bulk lane that holds their alerts.
    for p, items in _by_partition(outs, requests).items():
        rest += [Out(requests, b"", v, p) for v in request_values(items, limit)]
    for p, answers in _by_partition(outs, replies).items():
        rest += [Out(replies, b"", v, p) for v in reply_values(answers, limit)]
    return rest


def _by_partition(outs: list[Out], topic: str) -> dict[int | None, list[bytes]]:
    by_partition: dict[int | None, list[bytes]] = {}
    for o in outs:
        if o.topic == topic:
            by_partition.setdefault(o.partition, []).append(o.value)
    return by_partition


def source_topics(app: faust.App, names: Iterable[str]) -> dict[str, Any]:
    """The input topics as raw bytes: each agent decodes its own records (hotline.codec)."""
    return {name: app.topic(name, key_serializer="raw", value_serializer="raw") for name in names}
