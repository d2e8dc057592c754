"""The stream's Kafka consumer: Faust's, except that it does not drop the records it fetched
for a partition paused meanwhile.

Faust's `getmany` hands out a fetched batch record by record, and skips, without a trace, the
records of a partition that is paused by the time their turn comes (a rebalance and a table
recovery pause partitions while a batch is in hand). aiokafka's position is past them by then,
so nothing fetches them again; and when a later record of that partition arrives, Faust takes
the missing offsets for a gap, as in a compacted topic, and commits past them. The records are
lost, silently. Seen in the bulk lane's crash test: the answers for eleven alerts, one
`matched.bulk` record, never delivered after a bulk worker's restart; the partition's offset
committed past it.

The lane's source topics are never compacted and carry no transaction markers, so in them a
gap is always such a loss. Here:
- a batch's records that are not handed out send their partition back to the first of them
  (in the consumer's own thread, as Faust's recovery seeks), so they are fetched again; the
  partition's later records in that batch are held back too, so its records stay in order;
- a gap in a source topic is logged as the error it is. (Faust still counts it as handled: a
  gap is also what a consumer sees after retention deleted records it had not read, and a
  partition whose commits stopped there for good would be worse.)

Not covered here, and still open: Faust's stream itself skips, and acknowledges, a message it
takes from its queue while the app's flow control is suspended or after the generation
changed (faust/streams.py, and its Cython twin); if the partition stays with this worker, the
offset committed next can pass it. Seen once in ten runs of the bulk lane's crash test: a
`matched.bulk` record that arrived while the restarted worker was still seeking its partitions
to their committed offsets was never handled. The fix is to track, per partition, what was
handed to the stream and what the agent handled, and fetch a skipped one again.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection
from typing import Any

from faust.transport.drivers import aiokafka as driver
from faust.types import TP, Message

log = logging.getLogger("hotline.worker")


class Consumer(driver.Consumer):
    #: The topics the agents read (set by streams.app): where a gap is a loss, never skipped.
    source_topics: Collection[str] = ()

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:  # noqa: ASYNC109 - Faust's signature
        # Faust's getmany (faust/transport/consumer.py), but what it would drop is fetched again.
        records, active = await self._wait_next_records(timeout)
        generation = self.app.consumer_generation_id
        if records is None or self.should_stop:
            return
        if not self.flow_active:
            await self._seek_back_to_committed()
            return
        held_back: dict[TP, int] = {}  # partition -> its first record not handed out
        for tp, record in self.scheduler.iterate(records):
            if tp in held_back:
                continue
            if (
                not self.flow_active
                or self.app.consumer_generation_id != generation
                or not (active is None or tp in active or tp in self._buffered_partitions)
            ):
                held_back[tp] = record.offset
                continue
            self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
            yield tp, self._to_message(tp, record)
        if held_back and self.app.consumer_generation_id == generation:
            # After a generation change the new assignment seeks to the committed offsets.
            await self._fetch_again(held_back)

    async def _fetch_again(self, held_back: dict[TP, int]) -> None:
        again = {
            tp: offset
            for tp, offset in held_back.items()
            if tp.topic in self.source_topics and tp in self.assignment()
        }
        if not again:
            return
        log.info(
            "records fetched for paused partitions, fetched again: %s",
            ", ".join(f"{tp.topic}[{tp.partition}]@{offset}" for tp, offset in again.items()),
        )
        try:
            await self.seek_wait(again)
        except Exception as exc:  # noqa: BLE001 - the watchdog sees the partition stall
            log.warning("could not seek %s back: %r", sorted(again), exc)

    async def _seek_back_to_committed(self) -> None:
        try:
            await self.perform_seek()
        except Exception as exc:  # noqa: BLE001 - as Faust's own getmany
            log.warning("exception performing seek when flow not active: %r", exc)

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        if tp.topic in self.source_topics:  # not a compacted changelog's gap: a loss
            log.error(
                "%s[%d]: offsets %d..%d skipped, never handed to the stream",
                tp.topic,
                tp.partition,
                offset_from,
                offset_to - 1,
                extra={"topic": tp.topic, "offset": offset_from},
            )
        await super()._add_gap(tp, offset_from, offset_to)


def install(app: Any, source_topics: Collection[str]) -> None:
    """Before the app's consumer exists (Faust makes it on first use)."""
    assert app._consumer is None, "installed after the consumer was made"
    cls = type("HotlineConsumer", (Consumer,), {"source_topics": frozenset(source_topics)})
    app.transport.Consumer = cls
