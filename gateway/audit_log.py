"""Reading one agency's audit chain from the audit.log topic, a page at a time.

An agency's whole chain is on one partition of the topic (it is keyed by agency), in order;
other agencies may share the partition, and are skipped. The cursor is the offset to read on
from, the same for every gateway. An entry the stream wrote twice (a crash before its tables
were committed) is the same entry, seq and hash alike: it is given once per page, and a client
reading on from a cursor drops a seq it already has (cli/audit.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from hotline.audit import AuditEntry
from hotline.codec import loads
from hotline.errors import KafkaUnavailable
from hotline.settings import Settings
from hotline.topics import partition_count, partition_for, topics

READ_TIMEOUT_S = 10.0
# A record's Kafka timestamp is the moment it was written, a little after the entry's own
# time: `since` is looked up this much earlier, and the entries filtered by their own time.
SINCE_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    next: int | None  # the cursor to read on from; None: nothing more up to now


class AuditLog:
    def __init__(self, settings: Settings) -> None:
        self.bootstrap = settings.kafka_bootstrap
        self.topic = topics(settings).audit_log
        self.partitions = partition_count(settings, self.topic)

    async def page(
        self,
        agency: str,
        *,
        after: int | None,
        since: datetime | None,
        until: datetime | None,
        alert_id: str | None,
        limit: int,
    ) -> AuditPage:
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                return await self._page(agency, after, since, until, alert_id, limit)
        except (KafkaError, TimeoutError, OSError):
            raise KafkaUnavailable("the audit log cannot be read right now") from None

    async def _page(
        self,
        agency: str,
        after: int | None,
        since: datetime | None,
        until: datetime | None,
        alert_id: str | None,
        limit: int,
    ) -> AuditPage:
        key = agency.encode()
        tp = TopicPartition(self.topic, partition_for(key, self.partitions))
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign([tp])
            end = (await consumer.end_offsets([tp]))[tp]
            start = after if after is not None else await _offset_at(consumer, tp, since)
            consumer.seek(tp, start)
            entries: list[AuditEntry] = []
            seen: set[int] = set()
            position = start
            while position < end and len(entries) < limit:
                records = (await consumer.getmany(tp, timeout_ms=1000)).get(tp, [])
                for r in records:
                    position = r.offset + 1
                    if r.key != key or r.value is None:
                        continue
                    entry = loads(AuditEntry, r.value)
                    if until is not None and entry.at > until:
                        return AuditPage(entries, None)  # the chain is in time order
                    if entry.seq in seen or (since is not None and entry.at < since):
                        continue
                    seen.add(entry.seq)
                    if alert_id is None or entry.alert_id == alert_id:
                        entries.append(entry)
                    if len(entries) == limit or position >= end:
                        break
            return AuditPage(entries, position if position < end else None)
        finally:
            await consumer.stop()


async def _offset_at(consumer: AIOKafkaConsumer, tp: TopicPartition, since: datetime | None) -> int:
    if since is None:
        return 0
    ms = int((since - SINCE_MARGIN).timestamp() * 1000)
    found = (await consumer.offsets_for_times({tp: ms}))[tp]
    if found is None:  # nothing written since then
        return int((await consumer.end_offsets([tp]))[tp])
    return int(found.offset)
