"""The shared retry pieces: Retry-After reading, and the topic creation that uses them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiokafka.errors import KafkaConnectionError

from hotline import topics
from hotline.retry import MAX_RETRY_AFTER_S, parse_retry_after
from hotline.settings import Settings

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("3", 3.0),
        ("0.5", 0.5),
        ("-4", 0.0),
        ("soon", None),
        ("nan", None),
        ("86400", MAX_RETRY_AFTER_S),
        ("Thu, 01 Jan 2026 12:00:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


async def test_topic_creation_retries_until_kafka_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    waits: list[float] = []

    async def ensure(settings: Settings, changelogs: object = ()) -> None:
        calls.append(1)
        if len(calls) < 4:
            raise KafkaConnectionError()

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(topics, "ensure_topics", ensure)
    await topics.ensure_topics_with_retry(Settings(), sleep=sleep)
    assert len(calls) == 4
    assert [0.25 <= w <= 0.5 for w in waits[:1]] == [True] and len(waits) == 3


async def test_topic_creation_gives_up_with_the_kafka_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def ensure(settings: Settings, changelogs: object = ()) -> None:
        raise KafkaConnectionError()

    async def sleep(seconds: float) -> None:
        pass

    monkeypatch.setattr(topics, "ensure_topics", ensure)
    with pytest.raises(KafkaConnectionError):
        await topics.ensure_topics_with_retry(Settings(), give_up_after=0.0, sleep=sleep)
