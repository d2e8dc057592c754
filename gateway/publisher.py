"""The gateway's Kafka producer: a partner hears 202 only after acks=all."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hotline import metrics
from hotline.errors import KafkaUnavailable
from hotline.settings import Settings

log = logging.getLogger("hotline.gateway")

RETRY_AFTER_S = 2


class Publisher:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._errors = metrics.KAFKA_PRODUCE_ERRORS.labels("gateway")

    async def start(self) -> None:
        # Idempotence forces acks=all and keeps retries from writing a record twice.
        producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            enable_idempotence=True,
            linger_ms=2,
            max_batch_size=512 * 1024,  # bulk batches: few, full requests
            max_request_size=16 * 1024 * 1024,
            # The partner's answer is bounded by our own timeout; the client keeps retrying.
            request_timeout_ms=30_000,
        )
        await producer.start()
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    @property
    def ready(self) -> bool:
        return self._producer is not None

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        [error] = await self.send_many(topic, [(key, value)])
        if error is not None:
            raise error

    async def send_many(
        self, topic: str, records: Sequence[tuple[bytes, bytes]], within: float | None = None
    ) -> list[KafkaUnavailable | None]:
        """One result per record, in order: None once durably written, else the error."""
        if self._producer is None:
            self._errors.inc(len(records))
            return [self._unavailable("the gateway is not connected to Kafka")] * len(records)
        producer = self._producer

        async def one(key: bytes, value: bytes) -> None:
            fut = await producer.send(topic, value=value, key=key)
            await fut

        results = await asyncio.gather(
            *(
                asyncio.wait_for(one(k, v), within or self.settings.produce_timeout_s)
                for k, v in records
            ),
            return_exceptions=True,
        )
        out: list[KafkaUnavailable | None] = []
        for r in results:
            if r is None:
                out.append(None)
            elif isinstance(r, KafkaError | TimeoutError):
                self._errors.inc()
                log.warning("kafka write failed: %r", r)
                out.append(self._unavailable("Kafka did not confirm the write; retry later"))
            else:
                raise r  # a programming error: let the 500 handler log it
        return out

    @staticmethod
    def _unavailable(detail: str) -> KafkaUnavailable:
        return KafkaUnavailable(detail, retry_after=RETRY_AFTER_S)
