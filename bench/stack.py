"""The real local stack for one bench run: one broker, hotline worker and gateway processes.

Like tests/integration/stack.py (which bench/ must not import): real `hotline worker` and
`hotline gateway` processes on their own topic prefix. Differences: every child runs with its
working directory in the run's scratch directory (Faust writes `<worker id>-data/` into its cwd,
and a bench must not litter the checkout), and every child dies with this process
(PR_SET_PDEATHSIG) so an interrupted bench leaves no orphans.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cli.broker import LocalBroker, free_port
from cli.processes import spawn, stop
from cli.supervisor import worker_active

ROOT = Path(__file__).resolve().parent.parent  # bench/ is not installed: children need it
STOP_TIMEOUT_S = 20.0


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def rss_bytes(pid: int) -> int:
    """VmRSS from /proc/<pid>/status (resident set, what the OOM killer looks at)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


@dataclass
class Stack:
    """A broker plus one worker and one gateway on `prefix`, all under `workdir`."""

    workdir: Path
    prefix: str
    broker: LocalBroker = field(init=False)
    gateway_port: int = field(default_factory=free_port)
    worker_port: int = field(default_factory=free_port)
    # The urgent lane's worker (it holds the case index); the bulk lane's runs beside it, as
    # `hotline up` and docker-compose run them.
    worker: subprocess.Popen[bytes] | None = None
    bulk_port: int = field(default_factory=free_port)
    bulk: subprocess.Popen[bytes] | None = None
    gateway: subprocess.Popen[bytes] | None = None
    # Extra environment for the worker only: Faust reads settings such as PRODUCER_LINGER
    # from the environment, so a tuning can be measured before anyone changes the code.
    worker_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.broker = LocalBroker(
            port=free_port(), controller_port=free_port(), data_dir=self.workdir / "kafka"
        )

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.gateway_port}/v1/console/ws"

    def env(self) -> dict[str, str]:
        # Explicit values override whatever HOTLINE_* the calling shell exports.
        return {
            **os.environ,
            "HOTLINE_MODE": "dev",
            "HOTLINE_KAFKA_BOOTSTRAP": self.bootstrap,
            "HOTLINE_TOPIC_PREFIX": self.prefix,
            "HOTLINE_WORKER_ID": f"hotline-worker-{self.prefix}",
            "HOTLINE_GATEWAY_HOST": "127.0.0.1",
            "HOTLINE_GATEWAY_PORT": str(self.gateway_port),
            "HOTLINE_WORKER_HOST": "127.0.0.1",
            "HOTLINE_WORKER_PORT": str(self.worker_port),
            "HOTLINE_DATA_DIR": str(self.workdir / "data"),
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
        }

    def start_broker(self) -> None:
        self.broker.start()
        self.broker.wait_ready()

    def spawn_worker(self, *, bulk: bool = True) -> None:
        """Starts the urgent lane's worker (and the bulk lane's) and returns at once (from the
        main thread: see bench.__main__)."""
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)  # Faust makes only its leaf
        self.worker = spawn(
            python_module("bench.component", "worker", "--lane", "urgent"),
            env={**self.env(), **self.worker_env},
            cwd=self.workdir,
            log=self.workdir / "worker.log",
        )
        if bulk:
            self.bulk = spawn(
                python_module("bench.component", "worker", "--lane", "bulk"),
                env={**self.env(), **self.worker_env, "HOTLINE_WORKER_PORT": str(self.bulk_port)},
                cwd=self.workdir,
                log=self.workdir / "bulk.log",
            )

    def worker_ready(self) -> bool:
        """Whether the urgent lane's worker owns its partition; raises if it has exited."""
        return _active(self.worker, self.worker_port, self.workdir / "worker.log")

    def bulk_ready(self) -> bool:
        return self.bulk is None or _active(self.bulk, self.bulk_port, self.workdir / "bulk.log")

    def start_worker(self, timeout: float = 120.0) -> float:
        """Starts the worker; returns seconds until it owns the stream's partition."""
        started = time.monotonic()
        self.spawn_worker()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.worker_ready() and self.bulk_ready():
                return time.monotonic() - started
            time.sleep(0.3)
        raise RuntimeError(
            f"worker not ready in {timeout:.0f}s:\n{tail(self.workdir / 'worker.log')}"
        )

    def start_gateway(self, timeout: float = 300.0) -> float:
        """Starts the gateway; returns seconds until /readyz answers 200."""
        started = time.monotonic()
        self.gateway = spawn(
            python_module("bench.component", "gateway"),
            env=self.env(),
            cwd=self.workdir,
            log=self.workdir / "gateway.log",
        )
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.gateway.poll() is not None:
                raise RuntimeError(f"gateway exited:\n{tail(self.workdir / 'gateway.log')}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.3)
        raise RuntimeError(f"gateway not ready in {timeout:.0f}s")

    def check_alive(self) -> None:
        named = (
            ("worker", self.worker),
            ("bulk", self.bulk),
            ("gateway", self.gateway),
        )
        for name, proc in named:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {proc.returncode}:\n{tail(self.workdir / f'{name}.log')}"
                )

    def stop(self) -> None:
        """Children first (they flush to the broker), then the broker; never raises."""
        for proc in (self.gateway, self.bulk, self.worker):
            with contextlib.suppress(Exception):
                stop(proc, STOP_TIMEOUT_S)
        with contextlib.suppress(Exception):
            self.broker.stop()


def _active(proc: subprocess.Popen[bytes] | None, port: int, log: Path) -> bool:
    """Whether the worker owns its lane's partition; raises if it has exited."""
    assert proc is not None
    if proc.poll() is not None:
        raise RuntimeError(f"worker exited:\n{tail(log)}")
    return worker_active(port)
