"""The one place that decides what a failed record does.

A record the stream cannot process is never dropped silently: it is logged with its
topic[partition]@offset and written to the dead-letter topic with the error, so an operator
can inspect and replay it. A failed *write* is different: Kafka will come back, so the
writer retries until it succeeds and the input offset is not committed meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import orjson
from aiokafka.errors import KafkaError

from hotline import metrics
from streams.process import Out

log = logging.getLogger("hotline.worker")


def dead_letter(
    dlq_topic: str, source: str, offset: int | None, value: bytes, exc: BaseException
) -> Out:
    log.error(
        "record %s@%s failed and was dead-lettered: %r",
        source,
        offset,
        exc,
        extra={"topic": source, "offset": offset},
    )
    metrics.DEAD_LETTERS.labels(source).inc()
    doc = {
        "topic": source,
        "offset": offset,
        "error": repr(exc),
        "value": value.decode("utf-8", errors="replace"),
    }
    return Out(dlq_topic, b"", orjson.dumps(doc))


async def retry_writes(write: Callable[[], Awaitable[None]], *, max_delay: float = 5.0) -> None:
    delay = 0.1
    while True:
        try:
            await write()
            return
        except (KafkaError, TimeoutError) as exc:
            metrics.KAFKA_PRODUCE_ERRORS.labels("worker").inc()
            log.warning("kafka write failed (%r); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
