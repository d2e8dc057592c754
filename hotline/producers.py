"""How every hotline process opens a Kafka producer of its own: idempotent, sized to the topics.

The gateway's two and the urgent lane's one share this; the worker's own producer is Faust's,
configured alike in streams/app.py (`batch_bytes`).
"""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from hotline.settings import Settings

BULK_BATCH_BYTES = 512 * 1024  # fewer, fuller produce requests for imports and bulk batches


def batch_bytes(settings: Settings, wanted: int = BULK_BATCH_BYTES) -> int:
    """A producer batch no larger than a topic takes: its max.message.bytes is the record cap
    (hotline.topics), and a larger batch is refused whole."""
    return min(wanted, settings.max_record_bytes)


def new_producer(
    settings: Settings,
    *,
    linger_ms: int,
    max_batch_size: int = 16 * 1024,
    request_timeout_ms: int = 40_000,
) -> AIOKafkaProducer:
    # Idempotence forces acks=all and keeps retries from writing a record twice.
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_idempotence=True,
        linger_ms=linger_ms,
        max_batch_size=batch_bytes(settings, max_batch_size),
        # The one record size limit every producer and topic agrees on (hotline.settings).
        max_request_size=settings.max_record_bytes,
        request_timeout_ms=request_timeout_ms,
    )
