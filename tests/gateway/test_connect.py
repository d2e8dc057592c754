"""The gateway's start-up: it waits for Kafka, but not for a deployment error."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gateway import main
from hotline.errors import ConfigError
from hotline.settings import Settings


async def test_topics_with_other_partition_counts_are_not_retried(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[object] = []

    async def mismatch(settings: object) -> None:
        calls.append(settings)
        raise ConfigError("topics exist with other partition counts than the settings ask: x")

    monkeypatch.setattr(main, "ensure_topics", mismatch)
    publisher = SimpleNamespace(ready=False)
    await main._connect(SimpleNamespace(settings=Settings(), publisher=publisher))  # type: ignore[arg-type]
    assert len(calls) == 1
    assert "other partition counts" in caplog.text
    assert not publisher.ready  # so /readyz keeps answering 503
