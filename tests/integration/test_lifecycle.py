"""Process lifecycle with real processes: nothing outlives `hotline up` or `hotline kafka`,
a worker stops in bounded time, and ready means an alert posted now is delivered."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cli.broker import LocalBroker, free_port
from cli.supervisor import hotline_cmd

from .stack import Stack, console

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _marked(marker: str) -> list[int]:
    """Pids of live processes whose environment holds `marker` (ours and our children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                stat = (entry / "stat").read_text()
                if stat.rsplit(")", 1)[1].split()[0] != "Z":  # zombies are gone already
                    found.append(int(entry.name))
    return found


def _wait_gone(marker: str, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := _marked(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def _read_until(proc: subprocess.Popen[bytes], text: str, timeout: float) -> str:
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    seen, deadline = b"", time.monotonic() + timeout
    while text.encode() not in seen:
        exited = proc.poll() is not None
        seen += proc.stdout.read() or b""  # drain first, so a failure shows why
        if text.encode() in seen:
            break
        assert not exited, f"exit {proc.returncode}: " + seen.decode(errors="replace")[-3000:]
        assert time.monotonic() < deadline, seen.decode(errors="replace")[-3000:]
        time.sleep(0.2)
    return seen.decode(errors="replace")


@pytest.fixture
def marker(tmp_path: Path) -> Iterator[str]:
    mark = f"HOTLINE_TEST_MARK={uuid.uuid4().hex}"
    yield mark
    for pid in _marked(mark):  # never leave anything behind, even when a test fails
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _listen_ports(count: int) -> int:
    """The first of `count` ports in a row that are free, below the kernel's range for outgoing
    connections: `hotline up` binds its ports only once the broker and its clients run, and a
    port free_port() gave (from that range) was taken meanwhile by one of their connections
    (`address already in use`, the bulk worker's web port, twice in CI)."""
    ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(200):
        port = random.randrange(20_000, ephemeral - count)
        if all(_free(p) for p in range(port, port + count)):
            return port
    raise AssertionError(f"no {count} free ports in a row below {ephemeral}")


def _free(port: int) -> bool:
    with contextlib.suppress(OSError), socket.socket() as s:
        s.bind(("127.0.0.1", port))
        return True
    return False


def _env(tmp_path: Path, marker: str, **extra: str) -> dict[str, str]:
    name, value = marker.split("=", 1)
    base = _listen_ports(5)
    return {
        **os.environ,
        name: value,
        "HOTLINE_DATA_DIR": str(tmp_path / "data"),
        # One block: the broker and its controller, the gateway, the urgent lane's worker and
        # (the next port) the bulk lane's.
        "HOTLINE_KAFKA_PORT": str(base),
        "HOTLINE_GATEWAY_PORT": str(base + 2),
        "HOTLINE_WORKER_PORT": str(base + 3),
        "HOTLINE_TOPIC_PREFIX": f"t{uuid.uuid4().hex[:8]}",
        **extra,
    }


@pytest.mark.parametrize(
    ("sig", "close_output"),
    [
        (signal.SIGINT, True),  # `make run | tee log`, then Ctrl-C: tee is gone too
        (signal.SIGTERM, False),
        (signal.SIGHUP, True),  # the terminal was closed
    ],
    ids=["ctrl-c-pipe-gone", "sigterm", "sighup-terminal-gone"],
)
def test_up_stops_every_child(tmp_path: Path, marker: str, sig: int, close_output: bool) -> None:
    up = subprocess.Popen(
        [*hotline_cmd("up", "--no-demo")],
        env=_env(tmp_path, marker),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        _read_until(up, "Hotline is up", timeout=180)
        children = [p for p in _marked(marker) if p != up.pid]
        assert any("kafka.Kafka" in _cmdline(p) for p in children), children
        assert len(children) >= 3, [_cmdline(p) for p in children]  # broker, worker, gateway
        if close_output:
            assert up.stdout is not None
            up.stdout.close()
        up.send_signal(sig)
        assert up.wait(timeout=60) == 0
        left = _wait_gone(marker, timeout=10)
        assert not left, [_cmdline(p) for p in left]
    finally:
        if up.poll() is None:
            up.kill()


def test_a_killed_kafka_command_takes_its_broker_with_it(tmp_path: Path, marker: str) -> None:
    env = _env(tmp_path, marker)
    port = env["HOTLINE_KAFKA_PORT"]
    kafka = subprocess.Popen(
        [*hotline_cmd("kafka", "--port", port, "--data-dir", str(tmp_path / "kafka"))],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    _read_until(kafka, "ready on", timeout=120)
    [jvm] = [p for p in _marked(marker) if "kafka.Kafka" in _cmdline(p)]
    kafka.kill()  # no clean-up of its own can run
    kafka.wait()
    assert not _wait_gone(marker, timeout=30), "the broker JVM outlived `hotline kafka`"
    assert not Path(f"/proc/{jvm}").exists() or "kafka.Kafka" not in _cmdline(jvm)


def test_the_kafka_command_does_not_outlive_its_broker(tmp_path: Path, marker: str) -> None:
    env = _env(tmp_path, marker)
    port = env["HOTLINE_KAFKA_PORT"]
    kafka = subprocess.Popen(
        [*hotline_cmd("kafka", "--port", port, "--data-dir", str(tmp_path / "kafka"))],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        _read_until(kafka, "ready on", timeout=120)
        [jvm] = [p for p in _marked(marker) if "kafka.Kafka" in _cmdline(p)]
        os.kill(jvm, signal.SIGKILL)
        assert kafka.wait(timeout=15) != 0  # and it says so
    finally:
        if kafka.poll() is None:
            kafka.kill()


def test_a_worker_asked_to_stop_exits_within_10_s_with_the_broker_gone(tmp_path: Path) -> None:
    broker = LocalBroker(port=free_port(), controller_port=free_port(), data_dir=tmp_path / "kafka")
    broker.start()
    try:
        broker.wait_ready()
        stack = Stack(broker.bootstrap, tmp_path / "stack")
        stack.start_worker()
        stack.wait_worker()
        assert broker.pid is not None
        os.kill(broker.pid, signal.SIGKILL)
        time.sleep(2)  # the worker notices it lost its broker
        assert stack.worker is not None
        started = time.monotonic()
        stack.worker.terminate()
        stack.worker.wait(timeout=30)
        assert time.monotonic() - started < 10.0, stack.log("worker")
    finally:
        broker.stop()


async def test_ready_means_an_alert_posted_now_is_delivered(tmp_path: Path) -> None:
    broker = LocalBroker(port=free_port(), controller_port=free_port(), data_dir=tmp_path / "kafka")
    broker.start()
    stack = Stack(broker.bootstrap, tmp_path / "stack")
    try:
        broker.wait_ready()
        stack.start_worker()
        stack.start_gateway()  # returns once the gateway's /readyz answers 200
        ready = httpx.get(f"{stack.url}/readyz", timeout=5).json()
        assert ready["caught_up"] is True
        deadline = time.monotonic() + 90
        while True:  # as `hotline up` and an orchestrator do: the worker's /readyz
            with contextlib.suppress(httpx.HTTPError):
                r = httpx.get(f"http://127.0.0.1:{stack.worker_port}/readyz", timeout=1)
                if r.status_code == 200 and r.json()["active"]:
                    break
            assert time.monotonic() < deadline, stack.log("worker")
            await asyncio.sleep(0.2)
        body = {
            "source_ref": f"H-READY-{uuid.uuid4().hex[:8]}",
            "kind": "scam_number",
            "severity": "moderate",
            "urgency": "immediate",
            "recipients": ["cn-beijing"],
            "title": "First alert on a fresh hotline",
            "subject": {"number": "0912 345 678"},
        }
        async with console(stack, "cn-beijing") as bj:
            started = time.monotonic()
            r = await asyncio.to_thread(stack.post, "vn-hanoi", body)
            assert r.status_code == 202, r.text
            # 10x the promised second: catches "not ready after all", not a slow machine.
            await bj.event(r.json()["alert_id"], "new", timeout=10)
            print(f"\nfirst alert after ready: {time.monotonic() - started:.2f} s")
    finally:
        stack.stop()
        broker.stop()
