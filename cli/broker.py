"""A real single-node Apache Kafka broker (KRaft, broker+controller in one JVM), no Docker.

Its jars come from Maven Central once (cli/kafka_jars.py), so every later start is just a
JVM launch; its configuration is cli/kafka_config.py's. Used by `hotline up`, the `hotline kafka`
command (cli/kafka_serve.py) and the integration tests.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import socket
import subprocess
import time
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from cli.kafka_config import heap_bytes, new_cluster_id, render_server_properties
from cli.kafka_jars import BrokerError, ensure_jars, require_tool, tail
from cli.processes import die_with_parent

_ASSETS = Path(__file__).with_name("kafka")  # the POM and the broker's log4j2 settings
_MIN_XMS_BYTES = 256 * 1024**2

JAVA_HINT = (
    "Java 17+ is required to run the local Kafka broker: "
    "install a JDK (e.g. `apt-get install openjdk-17-jre-headless`)"
)

_T = TypeVar("_T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Same option the JVM uses, so sockets in TIME_WAIT do not count as "taken".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """asyncio.run that also works when the caller is already inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class LocalBroker:
    """One Kafka JVM listening on 127.0.0.1:<port>, with all state under `data_dir`."""

    def __init__(
        self,
        *,
        port: int = 9092,
        controller_port: int | None = None,
        data_dir: Path,
        cache_dir: Path | None = None,
        heap: str = "512m",
    ) -> None:
        heap_bytes(heap)  # fail on a typo here rather than in the JVM's own wording
        self.port = port
        self.controller_port = port + 1 if controller_port is None else controller_port
        self.data_dir = Path(data_dir).absolute()
        self.cache_dir = cache_dir
        self.heap = heap
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "broker.log"

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Fetch jars if needed, write config, format storage once and launch the JVM."""
        if self.is_running():
            raise BrokerError(f"Kafka is already running on {self.bootstrap}")
        java = require_tool("java", JAVA_HINT)
        lib = ensure_jars(self.cache_dir)
        for port in (self.port, self.controller_port):
            if not _port_is_free(port):
                raise BrokerError(f"Port {port} on 127.0.0.1 is already in use")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "server.properties"
        config.write_text(
            render_server_properties(
                port=self.port, controller_port=self.controller_port, data_dir=self.data_dir
            )
        )
        classpath = f"{lib}/*"  # the JVM expands the wildcard itself
        self.log_path.write_bytes(b"")  # the error tail should only show this run
        self._format_storage(java, classpath, config)
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [java, *self._jvm_options(), "-cp", classpath, "kafka.Kafka", str(config)],
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own session: a terminal's Ctrl-C reaches only us, and we stop the broker
                # in order instead of racing its shutdown hook. SIGTERM if we die: Kafka's
                # orderly shutdown, so a SIGKILLed `hotline kafka` leaves no JVM behind.
                start_new_session=True,
                preexec_fn=die_with_parent,  # noqa: PLW1509 - no threads in the child yet
            )
        atexit.register(self.stop)

    def _jvm_options(self) -> list[str]:
        xms = self.heap if heap_bytes(self.heap) < _MIN_XMS_BYTES else "256m"
        return [
            f"-Xms{xms}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            # A broker that ran out of heap should die visibly, not limp on half-alive.
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={_ASSETS / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.data_dir}",
        ]

    def _format_storage(self, java: str, classpath: str, config: Path) -> None:
        if (self.data_dir / "logs" / "meta.properties").is_file():
            return  # formatted by an earlier run; skip a JVM launch
        with self.log_path.open("ab") as log:
            result = subprocess.run(
                [
                    java,
                    *self._jvm_options(),
                    "-cp",
                    classpath,
                    "kafka.tools.StorageTool",
                    "format",
                    "--cluster-id",
                    new_cluster_id(),
                    "--config",
                    str(config),
                    "--ignore-formatted",
                ],
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if result.returncode != 0:
            raise BrokerError(self.failure_report("Formatting Kafka storage failed"))

    def _cluster_id(self) -> str | None:
        meta = self.data_dir / "logs" / "meta.properties"
        with contextlib.suppress(OSError):
            for line in meta.read_text().splitlines():
                key, _, value = line.partition("=")
                if key.strip() == "cluster.id":
                    return value.strip()
        return None

    def failure_report(self, what: str) -> str:
        """`what`, followed by the last lines of the broker log (for error messages)."""
        try:
            last = tail(self.log_path.read_text(errors="replace"))
        except OSError:
            last = "(no broker log)"
        return f"{what}. Last lines of {self.log_path}:\n{last}"

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Block until the broker answers metadata requests as *our* cluster."""
        proc = self._proc
        if proc is None:
            raise BrokerError("Kafka was not started")
        outcome = _run_sync(self._poll_until_ready(proc, time.monotonic() + timeout))
        if outcome == "exited":
            raise BrokerError(
                self.failure_report(f"Kafka exited with code {proc.returncode} before it was ready")
            )
        if outcome == "timeout":
            raise BrokerError(self.failure_report(f"Kafka was not ready after {timeout:g} s"))

    async def _poll_until_ready(self, proc: subprocess.Popen[bytes], deadline: float) -> str:
        expected_id = self._cluster_id()
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return "exited"
            # A cheap TCP probe first keeps aiokafka from logging connection errors while
            # the JVM boots; only the metadata answer below counts as ready.
            if await _accepts_connections(self.port) and await _answers_metadata(
                self.bootstrap, expected_id
            ):
                return "ready"
            await asyncio.sleep(0.2)
        return "timeout"

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (Kafka's orderly shutdown), then SIGKILL after `timeout` seconds."""
        proc, self._proc = self._proc, None
        atexit.unregister(self.stop)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> LocalBroker:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


async def _accepts_connections(port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _answers_metadata(bootstrap: str, expected_cluster_id: str | None) -> bool:
    # Imported here so `hotline --help` does not pay for importing aiokafka.
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        cluster: dict[str, Any] = await admin.describe_cluster()
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await admin.close()
    # Another broker already bound to this port would answer too; make sure it is ours.
    ours = expected_cluster_id is None or cluster.get("cluster_id") == expected_cluster_id
    return ours and bool(cluster.get("brokers"))
