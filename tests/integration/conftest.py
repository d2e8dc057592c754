"""One real Kafka broker per test session; stacks of real worker + gateway processes on it."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.broker import LocalBroker, free_port
from cli.kafka_jars import BrokerError

from .stack import Stack

pytestmark = pytest.mark.integration

LOG_TAIL_LINES = 60


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[Any]:
    """A failed test's report carries the tail of each process log of its stacks: CI keeps the
    output only, and a stall or a crash is read from the worker's and the gateway's logs."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, Stack):
            for path in sorted(value.workdir.glob("*.log")):
                lines = path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
                report.sections.append((f"{path.name} (last {len(lines)} lines)", "\n".join(lines)))


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    b = LocalBroker(
        port=free_port(), controller_port=free_port(), data_dir=tmp_path_factory.mktemp("kafka")
    )
    try:
        b.start()
        b.wait_ready()
    except BrokerError as exc:
        b.stop()
        pytest.exit(f"the local Kafka broker did not start:\n{exc}", returncode=3)
    yield b
    b.stop()


@pytest.fixture(scope="session")
def stack_factory(
    broker: LocalBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Stack]]:
    started: list[Stack] = []

    def make(*, lanes: bool = False, **env: str) -> Stack:
        s = Stack(
            broker.bootstrap, Path(tmp_path_factory.mktemp("stack")), extra_env=env, lanes=lanes
        )
        started.append(s)
        s.start()
        return s

    yield make
    for s in started:
        s.stop()


@pytest.fixture(scope="module")
def stack(stack_factory: Callable[..., Stack]) -> Stack:
    """A worker and a gateway on their own topics, shared by the tests of one module."""
    return stack_factory()
