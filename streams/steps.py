"""One record (or bulk batch) at a time through process -> send -> commit.

A table write must never become durable on the back of another agent's acknowledged outputs,
so every agent's step takes its turn (streams/turn.py): urgent steps first, so an urgent alert
waits for at most the bulk batch in progress. A step's outputs are sent and acknowledged
before its tables commit, and the alerts tables last: once an alerts table remembers an alert,
every index entry for that alert is in Kafka.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import faust

from hotline.errors import UnwritableRecord
from hotline.fields import Lane
from hotline.settings import Settings
from hotline.topics import topics
from streams import partition
from streams.errors import Guard, retry_writes
from streams.handlers import Handle, now
from streams.matching import reply_values, request_values
from streams.process import Processor
from streams.staged import Savepoint, Staged
from streams.state import Out, State
from streams.turn import Turn
from streams.urgent_producer import UrgentProducer

Item = tuple[int, int, bytes]  # the partition a record was read from, its offset, its value


class Steps:
    """`lane_reading`: the lane each input topic is read by (whose tables and guard its
    records go through)."""

    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        states: Mapping[Lane, State],
        processor: Processor,
        lane_reading: Mapping[str, Lane],
        turn: Turn,
    ) -> None:
        self.app = app
        self.t = topics(settings)
        self.limit = settings.max_record_bytes
        self.turn = turn
        staged = [tb for st in states.values() for tb in st.tables() if isinstance(tb, Staged)]
        self.staged = staged
        # An alerts table is what tells a redelivered record from a new one, so it is made
        # durable last. (By identity: a table's == would compare its whole content.)
        alert_ids = {id(st.alerts) for st in states.values()}
        self.alerts = [tb for tb in staged if id(tb) in alert_ids]
        self.indexes = [tb for tb in staged if id(tb) not in alert_ids]
        # One guard per lane: a record that can never be written is rejected into the tables
        # of the lane that read it (a single-POST follow-up of a bulk alert is the bulk lane's).
        self.guards = {
            lane: Guard(staged, self.t.dead_letter, self.limit, _rejecting_into(processor, st))
            for lane, st in states.items()
        }
        self.lane_reading = lane_reading
        # Urgent steps write through a producer of their own (streams/urgent_producer.py).
        self.urgent_out = UrgentProducer(settings) if "urgent" in states else None
        if self.urgent_out is not None:
            app.on_before_shutdown.connect(self._stop_urgent_out)

    async def _stop_urgent_out(self, sender: Any, /, *args: Any, signal: Any, **kw: Any) -> None:
        assert self.urgent_out is not None
        await self.urgent_out.stop()

    def guard_of(self, source: str) -> Guard:
        return self.guards[self.lane_reading[source]]

    def guarded(self, source: str, item: Item, handle: Handle) -> list[Out]:
        p, offset, value = item
        with partition.of(p, offset):
            return self.guard_of(source).run(source, offset, value, handle)

    async def step(
        self,
        source: str,
        items: list[Item],
        handle: Handle,
        *,
        bulk: bool,
        deferred: list[Awaitable[Any]] | None = None,
        hold: list[Out] | None = None,
    ) -> None:
        """`hold`: where the step's match answers go instead of being sent (a match
        request's chunks, streams/agents.py)."""
        async with self.turn.bulk() if bulk else self.turn.urgent():
            before = Savepoint(self.staged)
            with partition.step():
                outs = [out for item in items for out in self.guarded(source, item, handle)]
            if hold is not None:
                hold += [o for o in outs if o.topic == self.t.matched_bulk]
                outs = [o for o in outs if o.topic != self.t.matched_bulk]
            try:
                await self.send_all(outs, deferred=deferred, urgent=not bulk)
            except UnwritableRecord:
                # Kafka refused an output the size check let through (a broker or topic with
                # a smaller limit): redo the records one by one, so only the culprit is lost
                # to its sender — rejected and dead-lettered, never silently.
                before.rollback()
                for item in items:
                    await self.one_by_one(source, item, handle, urgent=not bulk)

    async def one_by_one(self, source: str, item: Item, handle: Handle, *, urgent: bool) -> None:
        before = Savepoint(self.staged)
        try:
            with partition.step():
                outs = self.guarded(source, item, handle)
            await self.send_all(outs, urgent=urgent)
        except UnwritableRecord as exc:
            before.rollback()
            p, offset, value = item
            with partition.of(p, offset):
                failed = self.guard_of(source).failed(source, offset, value, exc, reject=True)
            await self.send_all(failed, urgent=urgent)

    async def timed(self, work: Callable[[datetime], list[Out]], *, bulk: bool = False) -> None:
        """A timer's work (escalations, digests), in its turn like a record's."""
        async with self.turn.bulk() if bulk else self.turn.urgent():
            await self.send_all(work(datetime.now(UTC)), urgent=not bulk)

    async def send_all(
        self,
        outs: list[Out],
        *,
        deferred: list[Awaitable[Any]] | None = None,
        urgent: bool = False,
    ) -> None:
        """Outputs first, durably; only then may the tables remember what caused them.

        `deferred`: where the acknowledgements of the outputs go instead of being awaited;
        the caller awaits them, and flushes the index tables' changelogs, before the
        record's offset can be committed (a match request's chunks: see streams/agents.py)."""
        outs = batched(outs, self.t.match_bulk, self.t.matched_bulk, self.limit)
        send = self._urgent_send if urgent and self.urgent_out is not None else self._bulk_send

        async def write() -> None:
            futures = [await send(o.topic, o.key, o.value, o.partition) for o in outs]
            if deferred is not None:
                deferred.extend(futures)
            elif futures:
                await asyncio.gather(*futures)

        if outs:
            await retry_writes(write)
        if any(tb.pending for tb in self.indexes):
            for table in self.indexes:
                table.commit()
            if deferred is None:
                await retry_writes(self.app.producer.flush)
        # The alerts last, and through their changelog: the store may remember an alert
        # only once its state record is in Kafka (streams.tables.Table.write_through).
        for table in self.alerts:
            if table.pending:
                await retry_writes(partial(table.commit_through, send))

    # Where a step's records go: Faust's producer, or the urgent lane's own.
    async def _bulk_send(self, topic: str, key: bytes, value: bytes | None, p: int | None) -> Any:
        return await self.app.producer.send(topic, key, value, p, None, None)

    async def _urgent_send(self, topic: str, key: bytes, value: bytes | None, p: int | None) -> Any:
        assert self.urgent_out is not None
        return await self.urgent_out.send(topic, key, value, p)


def _rejecting_into(processor: Processor, st: State) -> Callable[[Any], list[Out]]:
    return lambda record: processor.unwritable(record, st, now())


def batched(outs: list[Out], requests: str, replies: str, limit: int) -> list[Out]:
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
