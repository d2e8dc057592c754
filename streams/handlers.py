"""What a record of each input topic becomes: decoded, handed to streams.process, answered.

Each handler takes a record's value and returns the outputs to send; the agents
(streams/agents.py) run it inside its record's partition (streams/partition.py) and its guard
(streams/errors.py), and send what it returns (streams/steps.py). Nothing here touches Kafka.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import orjson

from hotline import metrics
from hotline.codec import dumps, loads
from hotline.errors import UnwritableRecord
from hotline.models import AlertRecord, command_adapter
from hotline.settings import Settings
from hotline.topics import topics
from streams import partition
from streams.case_tables import Homes
from streams.errors import Guard, dead_letter, oversized_write
from streams.links import LinkMessage, Links, home_of
from streams.matching import MatchAnswer, MatchItem
from streams.process import Position, Processor
from streams.staged import Savepoint, Staged
from streams.state import Matched, Out, Prepared, State

Handle = Callable[[bytes], list[Out]]
Answered = Callable[[MatchAnswer, Position | None], list[Out]]


def now() -> datetime:
    return datetime.now(UTC)


class Handlers:
    """`guard_of`: the guard of the lane that reads a topic (each answer of a bulk delivery
    runs in it alone); `homes`: where a bulk alert is matched."""

    def __init__(
        self,
        processor: Processor,
        settings: Settings,
        homes: Homes,
        guard_of: Callable[[str], Guard],
    ) -> None:
        self.processor = processor
        self.t = topics(settings)
        self.homes = homes
        self.limit = settings.max_record_bytes
        self.guard_of = guard_of

    # --- the urgent lane ------------------------------------------------------------------

    def submission(self, st: State) -> Handle:
        return lambda value: self.submit(loads(AlertRecord, value), st, now())

    def submit(self, record: AlertRecord, st: State, at: datetime) -> list[Out]:
        """Processor.submission, but an alert whose index partition another worker holds is
        asked of it (match.urgent), and delivered when the answer is back (matched.urgent)."""
        processor = self.processor
        result = processor.admit(record, st, at)
        if not isinstance(result, Prepared):
            outs = result
        else:
            assert st.cases is not None
            station = processor.station(result, st.cases.homes)
            if st.cases.homes.owns(station):
                m = processor.match(result, st.cases, at)
                outs = processor.deliver(result, m, st, at) + self.link_outs(m.links)
            else:
                item = MatchItem.of(result, partition.current() or 0)
                key = record.alert_id.encode()
                outs = [Out(self.t.match_urgent, key, dumps(item), station)]
        for waiting in processor.released(record.alert_id, st):
            outs += self.submit(waiting, st, at)
        return outs

    def link_outs(self, messages: list[LinkMessage]) -> list[Out]:
        return [
            Out(self.t.links, m.target.encode(), dumps(m), home_of(self.homes, m)) for m in messages
        ]

    def relink(self, st: State) -> Handle:
        """A link message from another index partition, applied here (and what it leads to)."""
        assert st.cases is not None
        index = st.cases

        def handle(value: bytes) -> list[Out]:
            links = Links(index)
            links.apply(loads(LinkMessage, value))
            return self.link_outs(links.remote)

        return handle

    def audit(self, st: State) -> Handle:
        """A reported exchange onto its agency's audit chain (streams/audit_trail.py)."""
        return lambda value: self.processor.tell.audit.chain(st, value)

    def ack(self, st: State) -> Handle:
        """An acknowledgement or an outcome report (the acks topic carries both)."""
        return lambda value: self.processor.command(command_adapter.validate_json(value), st, now())

    def match(self, st: State, requests: str, answers: str) -> Handle:
        """One admitted alert through the case index. One that fails is answered as
        failed (and dead-lettered), so its sender hears of it and the rest go on."""
        assert st.cases is not None
        index = st.cases
        tables = [index.cases, index.fingerprints, index.persons, index.links]

        def handle(raw: bytes) -> list[Out]:
            item = loads(MatchItem, raw)
            before = Savepoint([tb for tb in tables if isinstance(tb, Staged)])
            try:
                m = self.processor.match(item.prepared(), index, now())
                too_large = oversized_write(before, self.limit)
                if too_large is not None:
                    why = f"the table entry for {too_large} is too large for a record"
                    raise UnwritableRecord(why)
                # The item as it came, not serialized again: the answer is request + case.
                answer = b'{"item":' + raw + b',"case":' + dumps(m.case) + b"}"
                key = item.record.alert_id.encode()
                return [Out(answers, key, answer, item.partition), *self.link_outs(m.links)]
            except Exception as exc:  # noqa: BLE001 - answered, and dead-lettered
                before.rollback()
                failed = MatchAnswer.model_construct(item=item, error=repr(exc))
                return [
                    dead_letter(self.t.dead_letter, requests, partition.offset(), raw, exc),
                    _answer(answers, failed),
                ]

        return handle

    # --- the bulk lane --------------------------------------------------------------------

    def admit(self, st: State) -> Handle:
        """Checks and enriches a bulk alert; what is left to do is asked of the case index."""

        def handle(value: bytes) -> list[Out]:
            return self.admitted(self.processor.admit(loads(AlertRecord, value), st, now()))

        return handle

    def admitted(self, result: Prepared | list[Out]) -> list[Out]:
        if isinstance(result, Prepared):
            item = MatchItem.of(result, partition.current() or 0)
            station = self.processor.station(result, self.homes)
            key = result.record.alert_id.encode()
            return [Out(self.t.match_bulk, key, dumps(item), station)]
        return result

    def answered(
        self, st: State, then: Callable[[AlertRecord, State, datetime], list[Out]]
    ) -> Answered:
        """Delivers what the case index answered; `then`: how a released follow-up goes on."""
        processor = self.processor

        def one(answer: MatchAnswer, position: Position | None) -> list[Out]:
            record = answer.item.record
            at = now()
            if record.alert_id in st.alerts:
                # Delivered already: an answer read again after a restart, or the answer to
                # a request sent twice. Its events went out with the first; storing its state
                # again would undo what came since (an acknowledgement, a cancel).
                metrics.DUPLICATES.labels(record.body.kind).inc()
                return []
            if answer.case is None:
                return processor.unmatched(record, st, at)
            m = Matched(answer.case)
            outs = processor.deliver(answer.item.prepared(), m, st, at, position=position)
            for waiting in processor.released(record.alert_id, st):
                outs += then(waiting, st, at)
            return outs

        return one

    def deliver_urgent(self, st: State) -> Handle:
        one = self.answered(st, self.submit)
        return lambda value: one(loads(MatchAnswer, value), None)

    def deliver(self, st: State) -> Handle:
        processor = self.processor
        one = self.answered(st, lambda r, st, at: self.admitted(processor.admit(r, st, at)))
        source = self.t.matched_bulk

        def handle(value: bytes) -> list[Out]:
            outs: list[Out] = []
            offset = partition.offset()
            for i, raw in enumerate(parts(value, "answers")):
                # Where the answer stands in its partition: what its counts are written up to.
                at = None if offset is None else (offset, i)
                # Each answer alone: one that fails is dead-lettered, the others delivered.
                outs += self.guard_of(source).run(
                    source,
                    offset,
                    raw,
                    partial(_answered_at, one, at),
                    record_of=lambda v: loads(MatchAnswer, v).item.record,
                )
            return outs

        return handle


def parts(value: bytes, field: str) -> list[bytes]:
    """A batched record's items, each on its own, so each can fail alone (re-encoding a
    parsed dict is cheap)."""
    return [orjson.dumps(part) for part in orjson.loads(value)[field]]


def _answer(topic: str, answer: MatchAnswer) -> Out:
    return Out(topic, answer.item.record.alert_id.encode(), dumps(answer), answer.item.partition)


def _answered_at(one: Answered, at: Position | None, raw: bytes) -> list[Out]:
    return one(loads(MatchAnswer, raw), at)
