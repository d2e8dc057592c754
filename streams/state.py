"""What a lane holds (its tables) and what a record's stages hand on to the next.

A record goes through admit -> match -> deliver (streams/process.py); each stage's result is
one of these, and what the agents send is a list of `Out`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.handling import Handling
from hotline.models import AlertRecord, AlertState, CaseRecord, Enrichment
from streams import case_tables
from streams.case_tables import Table
from streams.links import LinkMessage


@dataclass(frozen=True, slots=True)
class Out:
    topic: str
    key: bytes
    value: bytes
    partition: int | None = None  # None: the producer's partitioner picks it by key


@dataclass(slots=True)
class State:
    alerts: Table  # alert_id -> AlertState
    # The case index: the urgent lane's; the bulk lane matches through it (streams/matching.py)
    cases: case_tables.CaseTables | None
    # "alert_id|agency" -> ISO deadline, or ESCALATED once past it: immediate alerts awaiting ack
    escalations: Table
    # referenced alert_id -> [[follow-up AlertRecord JSON, ISO time parked], ...]: follow-ups
    # that reached the stream before the alert they reference (another lane, a lag).
    parked: Table = field(default_factory=dict)
    # "sender|import_id|agency|partition" -> an import's count for a recipient (streams/digests)
    digests: Table = field(default_factory=dict)
    # agency -> its last audit entry's JSON; event_id -> its seq: the urgent lane's, which
    # chains the audit trail (streams/audit_trail.py)
    audit_heads: Table = field(default_factory=dict)
    audit_seen: Table = field(default_factory=dict)

    def tables(self) -> list[Table]:
        c = self.cases
        index = [] if c is None else [c.cases, c.fingerprints, c.persons, c.links]
        audit = [self.audit_heads, self.audit_seen]
        return [self.alerts, *index, self.escalations, self.parked, self.digests, *audit]


@dataclass(frozen=True, slots=True)
class Prepared:
    """An alert its lane admitted: checked, enriched and addressed; what matching needs."""

    record: AlertRecord
    enrichment: Enrichment
    handling: Handling
    targets: list[str]  # the agencies it is routed to
    ref: AlertState | None = None  # a follow-up's alert, as the lane holds it


@dataclass(frozen=True, slots=True)
class Matched:
    case: CaseRecord  # with the alert's report in it
    # What linking it left for index partitions another worker holds (streams/links.py).
    links: list[LinkMessage] = field(default_factory=list)
