"""`hotline up`: broker, worker, gateway and demo traffic as child processes, stopped together.

Children run in their own sessions so a terminal's Ctrl-C reaches only this process, which
then stops them in reverse order; PR_SET_PDEATHSIG covers the case where this process is
killed outright, so no child outlives it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import IO

import httpx

from hotline.broker import BrokerError, LocalBroker
from hotline.settings import (
    DEMO_OFFICER_PREFIX,
    DEMO_OPERATOR_TOKEN,
    DEMO_PARTNER_PREFIX,
    Settings,
)

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(args: Sequence[str], env: dict[str, str], log: Path | None) -> subprocess.Popen[bytes]:
    out: IO[bytes] | int | None = None
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        out = log.open("ab")
    return subprocess.Popen(
        list(args),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT if log is not None else None,
        start_new_session=True,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads yet
    )


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def hotline_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "hotline", *args]


def wait_ready(url: str, procs: Sequence[subprocess.Popen[bytes]], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a hotline process exited during start-up")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url}/readyz did not answer 200 within {timeout:.0f}s")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _banner(settings: Settings, url: str, logs: Path) -> str:
    lines = [
        "",
        f"Hotline is up.  Console: {url}/",
        "",
        "Demo credentials (dev mode only; production refuses them):",
    ]
    for a in settings.agency_ids:
        lines.append(
            f"  {a:<11} officer token: {DEMO_OFFICER_PREFIX}{a:<12}"
            f" partner key: {DEMO_PARTNER_PREFIX}{a}"
        )
    lines += [
        f"  operator token (for /metrics): {DEMO_OPERATOR_TOKEN}",
        "",
        f"API docs: {url}/docs   Metrics: {url}/metrics   Logs: {logs}/",
        "Press Ctrl-C to stop everything.",
        "",
    ]
    return "\n".join(lines)


def run_all(settings: Settings, *, demo: bool) -> int:
    data = settings.data_dir.absolute()
    logs = data / "logs"
    broker = LocalBroker(port=settings.kafka_port, data_dir=data / "kafka")
    children: list[subprocess.Popen[bytes]] = []
    previous = signal.signal(signal.SIGTERM, _interrupt)
    url = f"http://{settings.gateway_host}:{settings.gateway_port}"
    try:
        print(f"Starting Kafka on {broker.bootstrap} …", flush=True)
        broker.start()
        broker.wait_ready()
        env = {**os.environ, "HOTLINE_KAFKA_BOOTSTRAP": broker.bootstrap}
        print("Starting worker and gateway …", flush=True)
        children.append(spawn(hotline_cmd("worker"), env, logs / "worker.log"))
        children.append(spawn(hotline_cmd("gateway"), env, logs / "gateway.log"))
        wait_ready(url, children)
        print(_banner(settings, url, logs), flush=True)
        if demo:
            children.append(spawn(hotline_cmd("demo", "--url", url), env, None))
        while all(p.poll() is None for p in children[:2]) and broker.is_running():
            time.sleep(0.5)
        print(
            f"A component stopped unexpectedly; see {logs}/ and {broker.log_path}", file=sys.stderr
        )
        return 1
    except KeyboardInterrupt:
        return 0
    except (BrokerError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("Stopping …", flush=True)
        for proc in reversed(children):
            stop(proc)
        broker.stop()
        signal.signal(signal.SIGTERM, previous)
        print("Stopped.", flush=True)
