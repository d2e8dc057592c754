"""The partition of the lane's tables that the record being handled belongs to.

The bulk lane's topics and tables have P partitions, keyed by an alert's group (the alert, its
follow-ups and their acknowledgements), and Faust hands a worker the same partitions of all of
them. A write then belongs to the partition of the record that caused it, not to the one its
own key hashes to: a follow-up's state and its escalations live with the alert it follows,
where the next record of the group looks for them. Faust knows that partition only inside a
single event; the lane also handles batches from several partitions at once and timers with
no event, so the agents name it here, per item.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_CURRENT: ContextVar[int | None] = ContextVar("hotline_partition", default=None)


@contextmanager
def of(partition: int) -> Iterator[None]:
    """Table reads and writes inside belong to `partition`."""
    token = _CURRENT.set(partition)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current() -> int | None:
    return _CURRENT.get()
