"""The partition of the lane's tables that the record being handled belongs to.

The bulk lane's topics and tables have P partitions, keyed by an alert's group (the alert, its
follow-ups and their acknowledgements), and Faust hands a worker the same partitions of all of
them. A write then belongs to the partition of the record that caused it, not to the one its
own key hashes to: a follow-up's state and its escalations live with the alert it follows,
where the next record of the group looks for them. Faust knows that partition only inside a
single event; the lane also handles batches from several partitions at once and timers with
no event, so the agents name it here, per item, with the record's offset in that partition:
where a record stands in its partition tells a record read again (after a crash or a
rebalance) from one not handled yet.

A step (one batch through process -> send -> commit, streams/steps.py) is named here too, by
the process and its place among the process's steps: a worker's steps are made durable one
after another, so only the last one of a process can be cut short by its death, and what it
wrote may be redone by whoever takes its partitions over (streams/digests.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from itertools import count
from uuid import uuid4

_CURRENT: ContextVar[int | None] = ContextVar("hotline_partition", default=None)
_OFFSET: ContextVar[int | None] = ContextVar("hotline_offset", default=None)
_STEP: ContextVar[str | None] = ContextVar("hotline_step", default=None)
# This process, among every worker that ever held a partition (a restart is another one).
_PROCESS = uuid4().hex
_SERIAL = count()


@contextmanager
def of(partition: int, offset: int | None = None) -> Iterator[None]:
    """Table reads and writes inside belong to `partition`; `offset`: the record's there."""
    token = _CURRENT.set(partition)
    at = _OFFSET.set(offset)
    try:
        yield
    finally:
        _OFFSET.reset(at)
        _CURRENT.reset(token)


def current() -> int | None:
    return _CURRENT.get()


def offset() -> int | None:
    """The offset of the record being handled in its partition; None: no record (a timer)."""
    return _OFFSET.get()


@contextmanager
def step() -> Iterator[None]:
    """What is handled inside is one step of this process, under a name of its own."""
    token = _STEP.set(f"{_PROCESS}:{next(_SERIAL)}")
    try:
        yield
    finally:
        _STEP.reset(token)


def current_step() -> str | None:
    """The step being handled; None: outside any (a test, a timer)."""
    return _STEP.get()


def process_of(step_name: str) -> str:
    """The process a step belongs to."""
    return step_name.partition(":")[0]
