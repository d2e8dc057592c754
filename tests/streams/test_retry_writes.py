"""retry_writes: retriable Kafka errors are waited out forever; a refused record never is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    RecordTooLargeError,
)
from faust.exceptions import ProducerSendError

from hotline import metrics
from hotline.errors import UnwritableRecord
from streams.errors import retry_writes


def failing(*errors: BaseException) -> tuple[Callable[[], Awaitable[None]], list[int]]:
    """A write that raises `errors` in turn, then succeeds; and how often it was called."""
    calls: list[int] = []

    async def write() -> None:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]

    return write, calls


def recorder() -> tuple[Callable[[float], Awaitable[None]], list[float]]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return sleep, waits


def send_error(cause: BaseException) -> ProducerSendError:
    exc = ProducerSendError("send failed")
    exc.__cause__ = cause
    return exc


async def test_retriable_errors_are_retried_until_the_write_succeeds() -> None:
    errors = [
        KafkaConnectionError(),
        TimeoutError(),
        NotLeaderForPartitionError(),
        send_error(KafkaConnectionError()),
    ]
    write, calls = failing(*errors)
    sleep, waits = recorder()
    before = metrics.KAFKA_PRODUCE_ERRORS.labels("worker")._value.get()
    await retry_writes(write, sleep=sleep)
    assert len(calls) == 5 and len(waits) == 4
    assert metrics.KAFKA_PRODUCE_ERRORS.labels("worker")._value.get() == before + 4


async def test_waits_back_off_with_jitter_up_to_max_delay_and_never_give_up() -> None:
    write, calls = failing(*[KafkaConnectionError() for _ in range(60)])
    sleep, waits = recorder()
    await retry_writes(write, max_delay=5.0, sleep=sleep)
    assert len(calls) == 61  # sixty failures in a row: still no giving up
    for n, wait in enumerate(waits):
        step = min(0.1 * 2**n, 5.0)
        assert step / 2 <= wait <= step, (n, wait)
    assert len(set(waits[-10:])) > 1  # at the cap too, writers do not wait in lock-step


@pytest.mark.parametrize(
    "error",
    [MessageSizeTooLargeError(), send_error(RecordTooLargeError())],
    ids=["size", "send-size"],
)
async def test_a_refused_record_is_unwritable_at_once(error: BaseException) -> None:
    write, calls = failing(error)
    sleep, waits = recorder()
    with pytest.raises(UnwritableRecord):
        await retry_writes(write, sleep=sleep)
    assert len(calls) == 1 and waits == []


async def test_other_errors_are_not_retried() -> None:
    write, calls = failing(ValueError("a bug"))
    sleep, waits = recorder()
    with pytest.raises(ValueError, match="a bug"):
        await retry_writes(write, sleep=sleep)
    assert len(calls) == 1 and waits == []
