"""What a worker does besides its records: escalations, the watchdog, readiness, the heap.

The timers run their work in its turn like a record's (streams/steps.py), each owned
partition's inside that partition (streams/partition.py).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import faust

from hotline import metrics
from hotline.fields import Lane
from hotline.settings import Settings
from hotline.topics import topics
from streams import partition
from streams.process import Processor
from streams.state import Out, State
from streams.steps import Steps
from streams.watchdog import MAX_REFETCHES, Progress, StallDetector, refetch_due, seek

log = logging.getLogger("hotline.worker")


def install(
    app: faust.App,
    settings: Settings,
    states: Mapping[Lane, State],
    processor: Processor,
    steps: Steps,
    handled: Progress,
    handled_up_to: Callable[[tuple[str, int]], int],
    sources: Mapping[str, Any],
) -> None:
    """`handled`: what the agents handled; `sources`: the topics they read."""
    t = topics(settings)

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
                await steps.timed(partial(in_partition, p, processor.escalate_due, st))
                await steps.timed(partial(in_partition, p, processor.expire_parked, st))
                if lane == "bulk":
                    # Bulk work: in its turn after any urgent step, through Faust's producer.
                    digests_due = partial(in_partition, p, processor.digests_due, st)
                    await steps.timed(digests_due, bulk=True)
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
        if app.rebalancing:
            # Partitions are being handed over: positions and assignments are in flux, and a
            # seek now lands on a partition about to be revoked or not yet at its offset.
            return
        if not app.flow_control.is_active():
            flowing_since = None
        elif flowing_since is None:
            flowing_since = loop_now
        for tp in app.assignor.assigned_actives():
            if tp.topic not in sources or steps.turn.locked():
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
                await seek(consumer, tp, hole)
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
                await seek(consumer, tp, position)

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


def in_partition(p: int, work: Callable[..., list[Out]], *args: Any) -> list[Out]:
    with partition.of(p):
        return work(*args)
