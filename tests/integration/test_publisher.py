"""Real-broker producers: the gateway's import (batched by partition), the urgent lane's."""

from __future__ import annotations

import secrets

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from cli.broker import LocalBroker, free_port
from gateway.publisher import Publisher
from hotline.settings import Settings
from hotline.topics import ensure_topics, partition_for, topics
from streams.urgent_producer import UrgentProducer

pytestmark = pytest.mark.integration

PARTITIONS = 4


async def test_an_import_goes_out_in_batches_each_record_on_its_keys_partition(
    broker: LocalBroker,
) -> None:
    settings = Settings(
        kafka_bootstrap=broker.bootstrap,
        topic_prefix=f"pub{secrets.token_hex(3)}",
        partitions=PARTITIONS,
    )
    await ensure_topics(settings)
    topic = topics(settings).inbound_bulk
    # 2 KB each: several producer batches (512 KB) per partition.
    records = [(f"al-{i:05d}".encode(), f"{i:05d}".encode() * 400) for i in range(2_000)]
    where = [partition_for(key, PARTITIONS) for key, _ in records]
    publisher = Publisher(settings)
    await publisher.start()
    try:
        results = await publisher.send_many(topic, records, partitions=where)
    finally:
        await publisher.stop()
    assert results == [None] * len(records)

    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        assert sum(ends.values()) == len(records)  # each once: nothing lost, nothing doubled
        read: dict[int, list[bytes]] = {p: [] for p in range(PARTITIONS)}
        while sum(len(v) for v in read.values()) < len(records):
            for tp, batch in (await consumer.getmany(timeout_ms=2_000)).items():
                read[tp.partition] += [m.key for m in batch if m.key is not None]
    finally:
        await consumer.stop()
    for p in range(PARTITIONS):
        # The partition Kafka's partitioner would have chosen, in the order they were posted.
        assert read[p] == [key for (key, _), q in zip(records, where, strict=True) if q == p]


async def test_the_urgent_lanes_producer_connects_at_its_first_send_and_waits_for_acks_all(
    broker: LocalBroker,
) -> None:
    settings = Settings(kafka_bootstrap=broker.bootstrap, topic_prefix=f"up{secrets.token_hex(3)}")
    await ensure_topics(settings)
    topic = topics(settings).deliveries("cn-beijing")
    producer = UrgentProducer(settings)
    try:
        ack = await (await producer.send(topic, b"al-1", b"{}", None))
        assert (ack.topic, ack.partition, ack.offset) == (topic, 0, 0)
    finally:
        await producer.stop()
        await producer.stop()  # stopping twice is harmless (shutdown may come after a failure)


async def test_the_urgent_lanes_producer_without_a_broker_fails_retriably() -> None:
    settings = Settings(kafka_bootstrap=f"127.0.0.1:{free_port()}", topic_prefix="nobroker")
    producer = UrgentProducer(settings)
    with pytest.raises(KafkaError):  # what the worker's write loop retries
        await producer.send("nobroker.deliveries.cn-beijing", b"k", b"v", None)
    assert producer._producer is None  # the failed client was closed, the next send starts anew


async def test_an_import_fits_topics_whose_records_are_capped_small(broker: LocalBroker) -> None:
    # A topic takes batches no larger than its record cap (max.message.bytes): the import's
    # producer must not fill 512 KB batches for a deployment that agreed on 64 KB records.
    settings = Settings(
        kafka_bootstrap=broker.bootstrap,
        topic_prefix=f"cap{secrets.token_hex(3)}",
        partitions=1,
        max_record_bytes=64 * 1024,
    )
    await ensure_topics(settings)
    records = [(f"al-{i:04d}".encode(), b"x" * 1_000) for i in range(500)]
    publisher = Publisher(settings)
    await publisher.start()
    try:
        results = await publisher.send_many(
            topics(settings).inbound_bulk, records, partitions=[0] * len(records)
        )
    finally:
        await publisher.stop()
    assert results == [None] * len(records)
