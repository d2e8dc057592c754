"""A batch post's alerts validated and enriched in worker processes, off the event loop.

`intake.accept` is pure CPU: run on the event loop for a 10,000-alert import, it would hold up
the urgent posts and the console sockets that the same loop serves. A batch is therefore cut
into chunks that a small process pool checks; the loop keeps only the cheap lookups that need
the hub (duplicates, conflicts, follow-ups), and a single post, one alert, stays on the loop.

Workers are forked by a fork server (`forkserver`), never by the gateway itself: it has
threads (the Kafka client's, the metrics server's) and an event loop that a forked child
would inherit mid-state. The fork server imports this module once, so a worker, the first or
one replacing a killed one, starts in milliseconds. They are started in a thread, never on
the loop, and the gateway is ready without waiting for them.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any

import orjson

from hotline.errors import IntakeUnavailable
from hotline.settings import Settings

from .intake import Outcome, Refused, check_item

log = logging.getLogger("hotline.gateway")

# Items per task: some 25 ms of work for small alerts, so that two imports share the workers
# and a chunk's answer is quick to send back, yet the per-task cost (pickling, a pipe round
# trip) stays noise. 10,000 items make 20 tasks.
CHUNK_ITEMS = 500
# How long the workers of a new pool may take to start together before it counts as broken.
START_TIMEOUT_S = 60.0


# --- in a worker process ------------------------------------------------------------------------

_settings: Settings | None = None


def _init_worker(settings: Settings, started: threading.Barrier, gateway: int) -> None:
    """Runs once in each worker, before its first task.

    The settings arrive pickled as the gateway validated them: a worker reads no environment
    or `.env` and runs no validator again, so nothing is checked, refused or logged once per
    worker, and it holds exactly the configuration of the gateway that started it.
    """
    global _settings
    _settings = settings
    # The gateway stops its workers itself: Ctrl-C in a terminal, which reaches the whole
    # process group, must not make each print a KeyboardInterrupt traceback first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(
        target=_exit_with, args=(gateway,), name="exit-with-gateway", daemon=True
    ).start()
    # No worker finishes starting until all have begun: until one has finished a task the
    # pool starts another on every submit, so the launch starts them all, off the loop.
    started.wait(START_TIMEOUT_S)


def _exit_with(gateway: int) -> None:
    """Ends this worker when the gateway has ended, however: a gateway killed outright stops
    nothing, and a worker waits for tasks forever (holding the fork server open too)."""
    try:
        ended = os.pidfd_open(gateway)
    except ProcessLookupError:
        os._exit(0)
    except (OSError, AttributeError):  # Linux before 5.3, or not Linux: asked every second
        while _running(gateway):
            time.sleep(1.0)
        os._exit(0)
    select.select([ended], [], [])  # readable once the process has exited
    os._exit(0)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists all the same
        pass
    return True


def check_chunk(raw: bytes, sender: str, now: datetime) -> list[Outcome]:
    """A worker's task: the items as one JSON array in, one plain outcome each out, in order.

    JSON rather than the parsed items: one bytes object is cheap to pickle (in a gateway
    thread that holds the GIL meanwhile), and an item nested too deep to encode is caught on
    the loop, item by item, where pickle would fail later, in that thread, for the whole chunk.
    """
    if _settings is None:
        raise RuntimeError("intake worker started without its settings")
    return [check_item(item, sender, _settings, now) for item in orjson.loads(raw)]


def _started() -> None:
    """The first task of each worker of a new pool."""


# --- in the gateway -----------------------------------------------------------------------------


class IntakePool:
    """The gateway's batch validators: started in the background, replaced when one dies.

    A worker killed (out of memory, by an operator) breaks its whole pool in Python: every
    chunk then in it fails. Each such chunk is tried once more on a new pool; if that fails
    too, its items are answered 503 `intake_unavailable`, never a 500 for the batch.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Launches run here, never on the loop: starting processes (and, the first time, the
        # fork server) blocks until they exist.
        self._launcher = ThreadPoolExecutor(1, thread_name_prefix="intake-start")
        # Not an asyncio task: a future that any event loop can await (tests run each request
        # on a loop of its own).
        self._workers: Future[ProcessPoolExecutor] | None = None
        self._closed = False

    def start(self) -> Future[ProcessPoolExecutor]:
        """The current pool, launched in the background if there is none; returns at once."""
        if self._workers is None:
            self._workers = self._launcher.submit(self._launch)
        return self._workers

    def _launch(self) -> ProcessPoolExecutor:
        """A new pool with all its workers started (in the launcher thread)."""
        n = self.settings.intake_processes
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        pool = ProcessPoolExecutor(
            n,
            mp_context=context,
            initializer=_init_worker,
            initargs=(self.settings, context.Barrier(n), os.getpid()),
        )
        try:
            for f in [pool.submit(_started) for _ in range(n)]:
                f.result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        return pool

    async def check(self, items: Sequence[Any], sender: str, now: datetime) -> list[Outcome]:
        """Each item's outcome, in order; the chunks run on the workers side by side."""
        chunks = [list(items[i : i + CHUNK_ITEMS]) for i in range(0, len(items), CHUNK_ITEMS)]
        done = await asyncio.gather(*(self._check_chunk(c, sender, now) for c in chunks))
        return [outcome for chunk in done for outcome in chunk]

    async def _check_chunk(self, items: list[Any], sender: str, now: datetime) -> list[Outcome]:
        try:
            raw = orjson.dumps(items)
        except orjson.JSONEncodeError:
            return await self._check_apart(items, sender, now)
        return await self._on_workers(raw, len(items), sender, now)

    async def _check_apart(self, items: list[Any], sender: str, now: datetime) -> list[Outcome]:
        """A chunk with an item nested deeper than orjson encodes (it decodes deeper still): far
        too deep for an alert, so refused here at once; the others go to the workers."""
        refused: dict[int, Outcome] = {}
        parts = []
        for i, item in enumerate(items):
            try:
                parts.append(orjson.dumps(item))
            except orjson.JSONEncodeError:
                refused[i] = check_item(item, sender, self.settings, now)
        raw = b"[%s]" % b",".join(parts)
        rest = iter(await self._on_workers(raw, len(parts), sender, now) if parts else [])
        return [refused[i] if i in refused else next(rest) for i in range(len(items))]

    async def _on_workers(self, raw: bytes, n: int, sender: str, now: datetime) -> list[Outcome]:
        """`check_chunk` in a worker; once more on a new pool if the pool broke meanwhile."""
        loop = asyncio.get_running_loop()
        for _ in range(2):
            if self._closed:
                break
            workers = self.start()
            try:
                # Shielded: a partner hanging up cancels its own wait, not the launch others
                # wait for too.
                pool = await asyncio.shield(asyncio.wrap_future(workers))
                return await loop.run_in_executor(pool, check_chunk, raw, sender, now)
            except (BrokenProcessPool, OSError) as exc:  # OSError: no process could start
                self._discard(workers, exc)
            except RuntimeError:  # "cannot schedule new futures after shutdown"
                if not self._closed:
                    raise
        refused = Refused.of(
            IntakeUnavailable("the gateway could not validate these alerts now; retry later")
        )
        return [refused] * n

    def _discard(self, workers: Future[ProcessPoolExecutor], exc: BaseException) -> None:
        """Drops a broken pool, once, however many of its chunks report it."""
        if self._workers is not workers:
            return
        log.warning("intake workers failed (%r); starting new ones", exc)
        self._workers = None
        if workers.exception() is None:
            workers.result().shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stops the workers; waits for a launch in progress and the chunk each is on."""
        self._closed = True
        workers, self._workers = self._workers, None
        self._launcher.shutdown(wait=True)
        if workers is not None and workers.exception() is None:
            workers.result().shutdown(wait=True, cancel_futures=True)

    async def stop(self) -> None:
        await asyncio.to_thread(self.close)
