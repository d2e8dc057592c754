"""The bulk lane's round trip to the case index, as records on Kafka.

The case index (cases, fingerprints, persons, links) has one writer, the urgent lane: two
lanes writing it would race, and two reports of one number could open two cases. The urgent
lane matches its own alerts in place. The bulk lane admits its alerts, sends them in batches
to match.bulk, and delivers them once the answers are back on matched.bulk; the urgent lane
matches a batch ten alerts to a step (streams/agents.py), so an urgent alert waits for at
most one such step, never for the import behind it.

Each answer carries the whole admitted alert back, so the bulk lane needs no memory between
the two halves: a lane restarted between them gets the answer and delivers it, and a request
sent twice (a replay) is matched to the same case twice, which delivers the same events.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from hotline.fields import Tlp
from hotline.handling import Handling
from hotline.models import AlertRecord, AlertState, CaseRecord, Enrichment
from streams.state import Prepared


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MatchItem(_Wire):
    # The bulk lane's partition the alert is held in: where its answer goes back to.
    partition: int = 0
    record: AlertRecord
    enrichment: Enrichment
    tlp: Tlp
    recipients: list[str]
    inherited: bool = False
    targets: list[str]
    ref: AlertState | None = None

    @classmethod
    def of(cls, p: Prepared, partition: int = 0) -> MatchItem:
        return cls.model_construct(
            partition=partition,
            record=p.record,
            enrichment=p.enrichment,
            tlp=p.handling.tlp,
            recipients=p.handling.recipients,
            inherited=p.handling.inherited,
            targets=p.targets,
            ref=p.ref,
        )

    def prepared(self) -> Prepared:
        handling = Handling(self.tlp, list(self.recipients), self.inherited)
        return Prepared(self.record, self.enrichment, handling, list(self.targets), self.ref)


class MatchRequest(_Wire):
    items: list[MatchItem]


class MatchAnswer(_Wire):
    item: MatchItem
    case: CaseRecord | None = None  # None: matching failed (`error`), the alert is rejected
    error: str | None = None


class MatchReply(_Wire):
    answers: list[MatchAnswer]


def batches(parts: list[bytes], limit: int) -> Iterator[list[bytes]]:
    """The serialized items in runs that fit one record of `limit` bytes (one at least)."""
    run: list[bytes] = []
    size = 0
    for part in parts:
        if run and size + len(part) > limit:
            yield run
            run, size = [], 0
        run.append(part)
        size += len(part) + 1
    if run:
        yield run


def request_values(items: list[bytes], limit: int) -> list[bytes]:
    """Serialized MatchItems as MatchRequest records."""
    return _values(b'{"items":[', items, limit)


def reply_values(answers: list[bytes], limit: int) -> list[bytes]:
    """Serialized MatchAnswers as MatchReply records."""
    return _values(b'{"answers":[', answers, limit)


def _values(head: bytes, parts: list[bytes], limit: int) -> list[bytes]:
    # Half the record limit: room for the envelope, and an answer is its request plus a case.
    return [head + b",".join(run) + b"]}" for run in batches(parts, limit // 2)]
