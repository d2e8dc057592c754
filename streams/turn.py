"""One step of the stream at a time, with urgent work first.

Steps are serialized so that a table write never becomes durable on the back of another
step's outputs. A plain FIFO lock would make an urgent alert (or an acknowledgement) queue
behind every bulk batch that asked first; here a bulk step starts only when no urgent step
is waiting, so an urgent step waits for at most the one bulk step already running.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Turn:
    def __init__(self) -> None:
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
            await self._lock.acquire()
            if not self._urgent_waiting:
                break
            self._lock.release()  # an urgent step asked meanwhile: it goes first
        try:
            yield
        finally:
            self._lock.release()
