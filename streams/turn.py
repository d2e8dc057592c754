"""One step of the stream at a time, with urgent work first.

Steps are serialized so that a table write never becomes durable on the back of another
step's outputs. A plain FIFO lock would make an urgent alert (or an acknowledgement) queue
behind every bulk batch that asked first; here a bulk step starts only when no urgent step
is waiting, so an urgent step waits for at most the one bulk step already running.

"Waiting" starts before the urgent step asks: a fetched urgent record takes several turns
of the event loop to reach its agent (consumer thread, Faust's conductor, the agent's
queue), and a bulk step started in each of them made it wait for every one. So a bulk step
also holds back while `urgent_pending` says that urgent records are in Kafka beyond what the
urgent agents handled, for at most PATIENCE per such state: a record that never reaches its
agent (the watchdog's business) must not stop the bulk lane.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager

# How long bulk steps hold back for one state of pending urgent records (a fetched record
# reaches its agent within a few milliseconds unless the loop is busy with something else).
PATIENCE = 0.05
_POLL = 0.001


def _nothing_pending() -> Hashable | None:
    return None


class Turn:
    def __init__(
        self,
        urgent_pending: Callable[[], Hashable | None] = _nothing_pending,
        patience: float = PATIENCE,
    ) -> None:
        """`urgent_pending`: None, or a value naming what urgent input is in Kafka but not
        handled yet (the same value while it stays so)."""
        self._pending = urgent_pending
        self._patience = patience
        self._waited_out: Hashable | None = None
        self._lock = asyncio.Lock()
        self._urgent_waiting = 0
        self._no_urgent = asyncio.Event()
        self._no_urgent.set()

    def locked(self) -> bool:
        return self._lock.locked()

    @asynccontextmanager
    async def urgent(self) -> AsyncIterator[None]:
        self._urgent_waiting += 1
        self._no_urgent.clear()
        try:
            await self._lock.acquire()
        finally:
            self._urgent_waiting -= 1
            if not self._urgent_waiting:
                self._no_urgent.set()
        try:
            yield
        finally:
            self._lock.release()

    @asynccontextmanager
    async def bulk(self) -> AsyncIterator[None]:
        while True:
            # Let the loop run first: a free lock is taken without yielding, so bulk steps
            # back to back would otherwise never let an urgent record reach its agent (the
            # fetcher and the agent's stream need the loop) to ask for the turn.
            await asyncio.sleep(0)
            await self._no_urgent.wait()
            await self._let_pending_arrive()
            await self._lock.acquire()
            if not self._urgent_waiting:
                break
            self._lock.release()  # an urgent step asked meanwhile: it goes first
        try:
            yield
        finally:
            self._lock.release()

    async def _let_pending_arrive(self) -> None:
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        while (pending := self._pending()) is not None and pending != self._waited_out:
            if self._urgent_waiting:
                return  # it has asked for the turn: the lock goes to it first
            now = loop.time()
            deadline = now + self._patience if deadline is None else deadline
            if now >= deadline:
                self._waited_out = pending  # not again for the same records
                return
            await asyncio.sleep(_POLL)
