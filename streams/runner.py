"""The worker process's run loop: Faust's worker, with a stop that cannot hang.

Asked to stop, Faust commits offsets and leaves its consumer group in order. With the broker
gone that never finishes, and the worker used to ignore SIGTERM until SIGKILL. Leaving without
a commit is safe here (at-least-once, and every output is idempotent), so past a grace period
the process simply exits.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

import faust

# Inside the "exits within 10 s of being asked" promise, with room for the interpreter's exit.
STOP_WITHIN_S = 7.0
FORCED_EXIT_CODE = 128 + signal.SIGTERM


def _exit_now() -> None:
    sys.stderr.write(f"worker did not stop within {STOP_WITHIN_S:.0f} s; exiting now\n")
    sys.stderr.flush()
    os._exit(FORCED_EXIT_CODE)


class Worker(faust.Worker):
    def _schedule_shutdown(self, signal: signal.Signals) -> None:
        if not self._signal_stop_time:
            timer = threading.Timer(STOP_WITHIN_S, _exit_now)
            timer.daemon = True
            timer.start()
        super()._schedule_shutdown(signal)
