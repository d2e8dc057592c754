"""Stand-ins for what the gateway's routes talk to outside the process: the Kafka producer."""

from __future__ import annotations

from collections.abc import Sequence

from hotline.errors import KafkaUnavailable

RETRY_AFTER_S = 2


class FakePublisher:
    """Publisher's interface: every record is durably written at once, unless `failing`, when
    Kafka does not confirm any of them (as a broker that is down would)."""

    def __init__(self) -> None:
        self.written: list[tuple[str, bytes, bytes]] = []  # (topic, key, value), in order
        self.failing = False
        self.ready = True

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        [error] = await self.send_many(topic, [(key, value)])
        if error is not None:
            raise error

    async def send_many(
        self,
        topic: str,
        records: Sequence[tuple[bytes, bytes]],
        within: float | None = None,
        partitions: Sequence[int] | None = None,
    ) -> list[KafkaUnavailable | None]:
        if self.failing:
            error = KafkaUnavailable("Kafka did not confirm the write", retry_after=RETRY_AFTER_S)
            return [error] * len(records)
        self.written += [(topic, key, value) for key, value in records]
        return [None] * len(records)

    def topics(self) -> list[str]:
        return [topic for topic, _, _ in self.written]
