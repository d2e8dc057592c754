"""Thin Faust agents: decode, hand the record to streams.process, send what it returns.

Each agent awaits the acknowledgement of what it sent before taking the next record (or
batch), so a committed offset never covers an output Kafka has not durably stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

import faust
from pydantic import ValidationError

from hotline.codec import loads
from hotline.models import AckCommand, AlertRecord
from hotline.settings import Settings
from hotline.topics import topics
from streams.app import source_topics
from streams.process import Out, Processor, State

log = logging.getLogger("hotline.worker")

BULK_BATCH = 1000


def install(app: faust.App, settings: Settings, st: State) -> None:
    processor = Processor(settings)
    t = topics(settings)
    src = source_topics(app, settings)

    async def send_all(outs: Iterable[Out]) -> None:
        futures = [await app.producer.send(o.topic, o.key, o.value, None, None, None) for o in outs]
        if futures:
            await asyncio.gather(*futures)

    def submission(value: bytes) -> list[Out]:
        try:
            record = loads(AlertRecord, value)
        except ValidationError:
            # The gateway validated it; a record that no longer parses is a deploy mismatch.
            log.exception("undecodable inbound record dropped")
            return []
        return processor.submission(record, st, datetime.now(UTC))

    @app.agent(src[t.inbound], name="urgent-lane")
    async def urgent(stream: AsyncIterator[bytes]) -> None:
        async for value in stream:
            await send_all(submission(value))

    @app.agent(src[t.inbound_bulk], name="bulk-lane")
    async def bulk(stream: Any) -> None:
        async for values in stream.take(BULK_BATCH, within=0.05):
            outs: list[Out] = []
            for value in values:
                outs += submission(value)
            await send_all(outs)

    @app.agent(src[t.acks], name="acks")
    async def acks(stream: AsyncIterator[bytes]) -> None:
        async for value in stream:
            try:
                cmd = loads(AckCommand, value)
            except ValidationError:
                log.exception("undecodable ack dropped")
                continue
            await send_all(processor.ack(cmd, st, datetime.now(UTC)))

    @app.timer(interval=1.0, name="escalations")
    async def escalate() -> None:
        # Tables hold standby copies too; only the worker that owns the partition escalates.
        if not any(tp.topic == t.inbound for tp in app.assignor.assigned_actives()):
            return
        await send_all(processor.escalate_due(st, datetime.now(UTC)))

    @app.page("/readyz")
    async def readyz(view: Any, request: Any) -> Any:
        # "active": this worker owns the stream's partition (the other is a hot standby).
        active = any(tp.topic == t.inbound for tp in app.assignor.assigned_actives())
        ready = app.tables.recovery.completed.is_set() and not app.rebalancing
        body = {"status": "ready" if ready else "not_ready", "active": active}
        return view.json(body, status=200 if ready else 503)

    _ = (urgent, bulk, acks, escalate, readyz)
