"""`hotline kafka`: the local broker (cli/broker.py) in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from cli.broker import LocalBroker
from cli.kafka_jars import KAFKA_VERSION, BrokerError


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # KeyboardInterrupt (not a custom exception) because asyncio re-raises it out of any
    # task it lands in, so SIGTERM during wait_ready() behaves exactly like Ctrl-C.
    raise KeyboardInterrupt


@contextlib.contextmanager
def _termination_signals_ignored() -> Iterator[None]:
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(*, port: int = 9092, data_dir: Path, cache_dir: Path | None = None) -> int:
    """Run the broker in the foreground until SIGINT/SIGTERM (the `hotline kafka` command)."""
    broker = LocalBroker(port=port, data_dir=data_dir, cache_dir=cache_dir)
    previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)
    previous_sighup = signal.signal(signal.SIGHUP, _interrupt)  # the terminal closed
    try:
        broker.start()
        broker.wait_ready()
        print(
            f"Kafka {KAFKA_VERSION} ready on {broker.bootstrap} (data: {broker.data_dir})",
            flush=True,
        )
        while broker.is_running():
            time.sleep(0.5)
        raise BrokerError(broker.failure_report("Kafka stopped unexpectedly"))
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C must not abandon a half-stopped broker; stop() ends in SIGKILL.
        with _termination_signals_ignored():
            broker.stop()
        signal.signal(signal.SIGTERM, previous_sigterm)
        signal.signal(signal.SIGHUP, previous_sighup)
