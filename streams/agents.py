"""Thin Faust agents: each input topic read by its lane, its records through their handler.

A worker runs one lane or both. The urgent lane reads urgent alerts and their
acknowledgements, escalates, and holds the case index: it matches its own alerts in place and
the bulk lane's through Kafka (streams/matching.py). The bulk lane reads the import and its
acknowledgements; it never touches the case index, so a saturated bulk lane, or none at all,
leaves the urgent lane as fast as when idle.

What a record becomes is its handler's (streams/handlers.py); how its outputs are sent and
its tables committed, in turn, is streams/steps.py's; the timers are streams/upkeep.py's. Each
agent awaits the acknowledgement of what it sent before taking the next record (or batch), so
a committed offset never covers an output Kafka has not durably stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any

import faust
from faust.types import TP

from hotline.errors import UnwritableRecord
from hotline.fields import Lane
from hotline.settings import Settings
from hotline.topics import topics
from streams import upkeep
from streams.case_tables import Homes
from streams.errors import RETRIABLE, retry_writes
from streams.handlers import Handle, Handlers, parts
from streams.process import Processor
from streams.state import Out, State
from streams.steps import Item, Steps
from streams.turn import Turn
from streams.watchdog import Progress

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


def install(app: faust.App, settings: Settings, states: Mapping[Lane, State]) -> None:
    processor = Processor(settings)
    t = topics(settings)
    inputs = {
        "urgent": [
            *(t.inbound, t.acks, t.match_urgent, t.matched_urgent),
            *(t.links, t.match_bulk, t.audit_events),
        ],
        "bulk": [t.inbound_bulk, t.acks_bulk, t.matched_bulk],
    }
    src = source_topics(app, [name for lane in states for name in inputs[lane]])
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

    lane_reading = {topic: lane for lane in states for topic in inputs[lane]}
    steps = Steps(app, settings, states, processor, lane_reading, Turn(urgent_pending))
    step, send_all, turn = steps.step, steps.send_all, steps.turn
    # Where a bulk alert is matched; only the urgent lane's workers know who holds what.
    on = Handlers(processor, settings, Homes(settings.partitions), steps.guard_of)

    # --- the agents ---------------------------------------------------------------------------

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
                items = [(p, event.message.offset, part) for part in parts(event.value, "items")]
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
        one_at_a_time("urgent-lane", t.inbound, on.submission(urgent))
        one_at_a_time("acks", t.acks, on.ack(urgent))
        one_at_a_time(
            "match-urgent", t.match_urgent, on.match(urgent, t.match_urgent, t.matched_urgent)
        )
        one_at_a_time("matched-urgent", t.matched_urgent, on.deliver_urgent(urgent))
        one_at_a_time("relink", t.links, on.relink(urgent), bulk=True)
        in_chunks("match-bulk", t.match_bulk, on.match(urgent, t.match_bulk, t.matched_bulk))
        # Bulk in its turn: the record is kept after the exchange, never before an urgent one.
        one_at_a_time("audit", t.audit_events, on.audit(urgent), bulk=True)
    if "bulk" in states:
        bulk = states["bulk"]
        in_batches("bulk-lane", t.inbound_bulk, on.admit(bulk))
        one_at_a_time("bulk-acks", t.acks_bulk, on.ack(bulk), bulk=True)
        in_batches("bulk-deliver", t.matched_bulk, on.deliver(bulk), size=DELIVER_BATCH)

    upkeep.install(app, settings, states, processor, steps, handled, handled_up_to, src)


def _item(event: Any) -> Item:
    return event.message.partition, event.message.offset, event.value


def source_topics(app: faust.App, names: Iterable[str]) -> dict[str, Any]:
    """The input topics as raw bytes: each agent decodes its own records (hotline.codec)."""
    return {name: app.topic(name, key_serializer="raw", value_serializer="raw") for name in names}
