"""`hotline up`: broker, worker, gateway and demo traffic as child processes, stopped together.

Children run in their own sessions so a terminal's Ctrl-C reaches only this process, which
then stops them all; PR_SET_PDEATHSIG covers the case where this process is killed outright,
so no child outlives it. Ctrl-C, SIGTERM and SIGHUP (the terminal closed) stop everything the
same way, and the clean-up never depends on a terminal or a pipe still being there to print to.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from cli.broker import LocalBroker
from cli.kafka_jars import BrokerError
from cli.processes import spawn, stop_all
from hotline.credentials import DEMO_OFFICER_PREFIX, DEMO_OPERATOR_TOKEN, DEMO_PARTNER_PREFIX
from hotline.settings import Settings

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def hotline_cmd(*args: str) -> list[str]:
    """The `hotline` command with `args`, as this interpreter runs it."""
    # The installed script beside the interpreter, so that each process reads as `hotline
    # worker` and the like (what `ps` and `pkill -f` look for); `-m cli` where it is not.
    script = Path(sys.executable).with_name("hotline")
    if script.is_file():
        return [sys.executable, str(script), *args]
    return [sys.executable, "-m", "cli", *args]


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


def worker_readiness(port: int) -> dict[str, Any] | None:
    """The /readyz body of the worker on `port` once it is ready (tables recovered, as the
    active worker of its lane or a standby: `active` says which); None until then."""
    with contextlib.suppress(httpx.HTTPError, ValueError):
        r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1.0)
        if r.status_code == 200:
            body: dict[str, Any] = r.json()
            return body
    return None


def worker_active(port: int) -> bool:
    """Whether the worker on `port` owns (some of) its lane's partitions, tables recovered."""
    return bool((worker_readiness(port) or {}).get("active"))


def owned_partitions(port: int) -> int:
    """How many input partitions the worker on `port` owns, over its lanes (0 until ready)."""
    owned = (worker_readiness(port) or {}).get("partitions", {})
    return sum(len(ps) for ps in owned.values())


def wait_worker(port: int, procs: Sequence[subprocess.Popen[bytes]], timeout: float = 90.0) -> None:
    """Until the worker owns the stream and has recovered its tables: until then an alert
    posted would wait for it (the gateway alone answering /readyz is not "up")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a hotline process exited during start-up")
        if worker_active(port):
            return
        time.sleep(0.3)
    raise RuntimeError(f"the worker was not ready within {timeout:.0f}s")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _say(text: str, *, err: bool = False) -> None:
    """Print, unless the terminal or pipe is gone: then say nothing more, and go on."""
    stream = sys.stderr if err else sys.stdout
    try:
        print(text, file=stream, flush=True)
    except OSError:  # EPIPE, or EIO from a closed terminal
        devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
        sys.stdout = sys.stderr = devnull


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
    # SIGINT too: a shell starts background jobs with it ignored, and Python keeps it so.
    previous = {sig: signal.signal(sig, _interrupt) for sig in STOP_SIGNALS}
    url = f"http://{settings.gateway_host}:{settings.gateway_port}"
    try:
        _say(f"Starting Kafka on {broker.bootstrap} …")
        broker.start()
        broker.wait_ready()
        env = {**os.environ, "HOTLINE_KAFKA_BOOTSTRAP": broker.bootstrap}
        _say("Starting the urgent and bulk lanes and the gateway …")
        # Each lane in its own process: an import saturating the bulk lane (at a lower CPU
        # priority) never holds up an urgent alert. The urgent lane keeps the worker's port.
        ports = {"urgent": settings.worker_port, "bulk": settings.worker_port + 1}
        for lane, port in ports.items():
            lane_env = {**env, "HOTLINE_WORKER_PORT": str(port)}
            cmd = hotline_cmd("worker", "--lane", lane)
            children.append(spawn(cmd, lane_env, logs / f"worker-{lane}.log"))
        children.append(spawn(hotline_cmd("gateway"), env, logs / "gateway.log"))
        essential = list(children)
        wait_ready(url, children)
        for port in ports.values():
            wait_worker(port, children)
        _say(_banner(settings, url, logs))
        if demo:
            children.append(spawn(hotline_cmd("demo", "--url", url), env, None))
        while all(p.poll() is None for p in essential) and broker.is_running():
            time.sleep(0.5)
        _say(f"A component stopped unexpectedly; see {logs}/ and {broker.log_path}", err=True)
        return 1
    except KeyboardInterrupt:
        return 0
    except (BrokerError, RuntimeError) as exc:
        _say(f"error: {exc}", err=True)
        return 1
    finally:
        # Nothing here may fail before every child is stopped: no signal interrupts it, and
        # printing to a terminal or pipe that is gone is skipped (see _say).
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        _say("Stopping …")
        stop_all(list(reversed(children)))
        broker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _say("Stopped.")
