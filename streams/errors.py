"""The one place that decides what a failed record does.

A record the stream cannot process is never dropped silently: it is logged with its
topic[partition]@offset and written to the dead-letter topic with the error, so an operator
can inspect and replay it. A failed *write* is different: Kafka will come back, so the
writer retries until it succeeds and the input offset is not committed meanwhile — unless
Kafka refuses the record itself (its size), which no retry mends: then the record's table
writes are rolled back, it is dead-lettered and its sender gets a `rejected` event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import orjson
from aiokafka.errors import (
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from faust.exceptions import ProducerSendError
from pydantic import ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_never

from hotline import metrics
from hotline.codec import loads
from hotline.errors import UnwritableRecord
from hotline.models import AlertRecord
from hotline.retry import backoff, next_wait
from streams.staged import Savepoint, Staged
from streams.state import Out

# What Kafka refuses for the record itself, whatever the retries.
REFUSED = (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)
# A dead letter carries at most this much of the failed record (it must fit in one itself).
DEAD_LETTER_VALUE_CHARS = 64 * 1024
# Partition, key, timestamp and headers of a record, on top of its value.
RECORD_OVERHEAD = 1024

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
    text = value.decode("utf-8", errors="replace")
    doc = {
        "topic": source,
        "offset": offset,
        "error": repr(exc),
        "value": text[:DEAD_LETTER_VALUE_CHARS],
        "truncated": len(text) > DEAD_LETTER_VALUE_CHARS,
    }
    return Out(dlq_topic, b"", orjson.dumps(doc))


def oversized(outs: list[Out], limit: int) -> Out | None:
    """The first output larger than a record may be, if any."""
    return next((o for o in outs if len(o.key) + len(o.value) + RECORD_OVERHEAD > limit), None)


def oversized_write(since: Savepoint, limit: int) -> str | None:
    """The key of the first table write since `since` larger than a changelog record may be."""
    for key, value in since.writes():
        # A str holds at most 4 bytes per character in UTF-8: most values need no encoding.
        if len(key) + 4 * len(value) + RECORD_OVERHEAD <= limit:
            continue
        if len(key.encode()) + len(value.encode()) + RECORD_OVERHEAD > limit:
            return key
    return None


class Guard:
    """Runs one record through the stream so that a failure leaves no trace but a clear one.

    The record's outputs, or, if it fails or any output is larger than a record may be: its
    table writes undone, a dead letter, and for an alert whose outputs can never be written a
    rejection for its sender (so its retry is answered, not dropped as a duplicate).
    """

    def __init__(
        self,
        tables: Sequence[Staged],
        dead_letter_topic: str,
        limit: int,
        reject: Callable[[AlertRecord], list[Out]],
    ) -> None:
        self.tables = tables
        self.dead_letter_topic = dead_letter_topic
        self.limit = limit
        self.reject = reject

    def run(
        self,
        source: str,
        offset: int | None,
        value: bytes,
        handle: Callable[[bytes], list[Out]],
        record_of: Callable[[bytes], AlertRecord] | None = None,
    ) -> list[Out]:
        before = Savepoint(self.tables)
        try:
            outs = handle(value)
            big = oversized(outs, self.limit)
            if big is not None:
                raise UnwritableRecord(f"an output to {big.topic} takes {len(big.value)} bytes")
            # Table writes become changelog records (the alerts table's is the alert-state topic)
            key = oversized_write(before, self.limit)
            if key is not None:
                raise UnwritableRecord(f"the table entry for {key} is too large for a record")
            return outs
        except Exception as exc:  # noqa: BLE001 - one decision point for every failure
            before.rollback()
            reject = isinstance(exc, UnwritableRecord)
            return self.failed(source, offset, value, exc, reject=reject, record_of=record_of)

    def failed(
        self,
        source: str,
        offset: int | None,
        value: bytes,
        exc: BaseException,
        *,
        reject: bool,
        record_of: Callable[[bytes], AlertRecord] | None = None,
    ) -> list[Out]:
        """`record_of`: the alert a value carries (by default the value is the alert)."""
        outs = [dead_letter(self.dead_letter_topic, source, offset, value, exc)]
        if reject:
            try:
                record = (record_of or _alert)(value)
            except ValidationError:
                return outs  # not an alert (an acknowledgement): the dead letter says it all
            before = Savepoint(self.tables)
            rejection = self.reject(record)
            if (
                oversized(rejection, self.limit) is None
                and oversized_write(before, self.limit) is None
            ):
                outs += rejection
            else:  # even the rejection is too large: the dead letter is the answer
                before.rollback()
        return outs


def _alert(value: bytes) -> AlertRecord:
    return loads(AlertRecord, value)


# What a write may fail with and still succeed later: a broker away, a leader moving.
RETRIABLE = (KafkaError, TimeoutError, ProducerSendError)


async def retry_writes(
    write: Callable[[], Awaitable[None]],
    *,
    max_delay: float = 5.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Until Kafka takes the write; UnwritableRecord when it refuses a record for good."""

    async def attempt() -> None:
        try:
            await write()
        except RETRIABLE as exc:
            cause = exc.__cause__ if isinstance(exc, ProducerSendError) else exc
            if isinstance(cause, REFUSED):
                # Not retriable: the input is rejected and dead-lettered instead.
                raise UnwritableRecord(repr(cause)) from exc
            raise

    def note(state: RetryCallState) -> None:
        metrics.KAFKA_PRODUCE_ERRORS.labels("worker").inc()
        exc = state.outcome.exception() if state.outcome is not None else None
        log.warning("kafka write failed (%r); retrying in %.1fs", exc, next_wait(state))

    # Forever: the input offset is not committed meanwhile, so nothing is lost by waiting,
    # and giving up would drop the record.
    await AsyncRetrying(
        retry=retry_if_exception_type(RETRIABLE),
        wait=backoff(0.1, max_delay),
        stop=stop_never,
        sleep=sleep,
        before_sleep=note,
        reraise=True,
    )(attempt)
