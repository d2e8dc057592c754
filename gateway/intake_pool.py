"""A batch post's alerts validated and enriched in worker processes, off the event loop.

`intake.accept` is pure CPU: run on the event loop for a 10,000-alert import, it would hold up
the urgent posts and the console sockets that the same loop serves. So would parsing the
body. A batch is therefore parsed by a small process pool (`batch_body`), then checked by it
in chunks; the loop keeps only the cheap lookups that need the hub (duplicates, conflicts,
follow-ups), and a single post, one alert, stays on the loop.

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
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from hotline.errors import IntakeUnavailable
from hotline.settings import Settings

from . import batch_body
from .batch_body import Split
from .intake import Outcome, Refused, check_item

log = logging.getLogger("hotline.gateway")

# Items per task: some 25 ms of work for small alerts, so that two imports share the workers
# and a chunk's answer is quick to send back, yet the per-task cost (pickling, a pipe round
# trip) stays noise. 10,000 items make 20 tasks.
CHUNK_ITEMS = 500
# An NDJSON body is parsed in pieces of about this size: what is copied out of the body and
# pickled at once, in gateway threads that hold the GIL meanwhile, while the loop waits.
PIECE_BYTES = 1024 * 1024
# How long the workers of a new pool may take to start together before it counts as broken.
START_TIMEOUT_S = 60.0

_UNAVAILABLE = Refused.of(
    IntakeUnavailable("the gateway could not validate these alerts now; retry later")
)

T = TypeVar("T")


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
    # An import's parsing is bulk work: it yields the cores to the gateway's loop (urgent
    # POSTs, consoles) and to the urgent lane, as a bulk-lane worker does.
    if settings.bulk_lane_nice:
        os.nice(settings.bulk_lane_nice)
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


def split_body(
    raw: bytes, array: bool, sender: str, now: datetime, limit: int, chunk_items: int
) -> Split:
    """A worker's first task for a batch: its body, or a piece of an NDJSON one, parsed."""
    return _parse(raw, array, sender, _worker_settings(), now, limit, chunk_items)


def check_chunk(
    chunk: bytes, sender: str, now: datetime, import_id: str | None = None
) -> list[Outcome]:
    """A worker's second task: each item of a chunk that `split_body` wrote, in order."""
    settings = _worker_settings()
    items = batch_body.items_of(chunk)
    return [check_item(item, sender, settings, now, import_id) for item in items]


def _worker_settings() -> Settings:
    if _settings is None:
        raise RuntimeError("intake worker started without its settings")
    return _settings


def _parse(
    raw: bytes,
    array: bool,
    sender: str,
    settings: Settings,
    now: datetime,
    limit: int,
    chunk_items: int,
) -> Split:
    """In a worker, or on the loop when none can run. An item that parsing refuses for being
    too deep to write back gets the answer a check would have given it."""
    refuse = partial(check_item, sender=sender, settings=settings, now=now)
    parse = batch_body.split_array if array else batch_body.split_lines
    return parse(raw, limit, chunk_items, refuse)


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

    async def split(
        self, raw: bytes, content_type: str, sender: str, now: datetime, limit: int
    ) -> Split:
        """A batch body's items, parsed on the workers (an NDJSON one in pieces, side by side);
        raises InvalidAlert for a body that is not a batch. Past `limit` items only the count
        is right: such a batch is refused whole."""
        array = batch_body.is_array(raw, content_type)
        cuts = [(0, len(raw))] if array else batch_body.pieces(raw, PIECE_BYTES)
        tasks: list[asyncio.Future[Split]] = []
        try:
            for start, end in cuts:
                # Each piece copied out of the body (an array's is the body: no copy) and
                # handed over in a turn of the loop of its own: others are served in between.
                piece = raw[start:end]
                tasks.append(asyncio.ensure_future(self._split(piece, array, sender, now, limit)))
                await asyncio.sleep(0)
            return batch_body.joined(await asyncio.gather(*tasks))
        finally:
            for task in tasks:  # done already, unless the partner left or the body was refused
                task.cancel()

    async def _split(
        self, raw: bytes, array: bool, sender: str, now: datetime, limit: int
    ) -> Split:
        split = await self._on_workers(split_body, raw, array, sender, now, limit, CHUNK_ITEMS)
        if split is None:
            # No workers now: parsed here, as before there were any, so that the body still
            # gets its own answer and each item its own (the ones refused while parsing their
            # 422, the others 503). The loop waits meanwhile, as it did then.
            return _parse(raw, array, sender, self.settings, now, limit, CHUNK_ITEMS)
        return split

    async def check(
        self, batch: Split, sender: str, now: datetime, import_id: str | None = None
    ) -> list[Outcome]:
        """Each item's outcome, in order; the chunks run on the workers side by side."""
        checks = (self._check(c, sender, now, import_id) for c in batch.chunks)
        done = await asyncio.gather(*checks)
        rest = (outcome for chunk in done for outcome in chunk)
        decided = batch.decided
        return [decided[i] if i in decided else next(rest) for i in range(batch.total)]

    async def _check(
        self, chunk: bytes, sender: str, now: datetime, import_id: str | None
    ) -> list[Outcome]:
        outcomes = await self._on_workers(check_chunk, chunk, sender, now, import_id)
        if outcomes is None:
            return [_UNAVAILABLE] * batch_body.size_of(chunk)
        return outcomes

    async def _on_workers(self, task: Callable[..., T], *args: Any) -> T | None:
        """`task` in a worker; once more on a new pool if the pool broke meanwhile; None if
        it could not run."""
        loop = asyncio.get_running_loop()
        for _ in range(2):
            if self._closed:
                break
            workers = self.start()
            try:
                # Shielded: a partner hanging up cancels its own wait, not the launch others
                # wait for too.
                pool = await asyncio.shield(asyncio.wrap_future(workers))
                return await loop.run_in_executor(pool, task, *args)
            except (BrokenProcessPool, OSError) as exc:  # OSError: no process could start
                self._discard(workers, exc)
            except RuntimeError:  # "cannot schedule new futures after shutdown"
                if not self._closed:
                    raise
        return None

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
