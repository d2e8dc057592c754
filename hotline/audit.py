"""The audit trail's entries and their hash chain: every exchange on the record, tamper-evident.

Each agency's entries form one chain: entry n carries its position (`seq`), the hash of entry
n-1 (`prev`; GENESIS for the first) and its own hash over everything else it holds. Altering an
entry changes its hash and breaks the link from the next; removing or reordering one breaks a
`seq` or a `prev`. Cutting entries off the end leaves a valid shorter chain: that is what the
`head` a reader was given (the last hash it saw) is checked against.

The processes that see an exchange report it as an `AuditEvent`; one writer per agency chains
them (so each chain has exactly one order), and readers verify with `broken()`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import orjson
from pydantic import AwareDatetime, Field

from hotline.fields import Strict

AuditAction = Literal[
    "accepted",  # the sender's alert is in Kafka
    "routed",  # the stream addressed it (counterparts: to whom)
    "delivered",  # an event reached a console socket of the agency
    "acknowledged",
    "escalated",
    "updated",
    "cancelled",
    "looked_up",  # the agency asked the registry (detail: what for, normalized)
    "outcome_reported",
    "rejected",
]
GENESIS = "0" * 64


class AuditEvent(Strict):
    """One exchange as the process that saw it reports it, for one agency's record."""

    event_id: str  # deterministic: a report made twice (a replay, a retry) is chained once
    agency: str  # whose record it goes on
    action: AuditAction
    at: AwareDatetime
    alert_id: str | None = None
    counterparts: list[str] = Field(default_factory=list)  # the other agencies involved
    detail: dict[str, str] = Field(default_factory=dict)


class AuditEntry(AuditEvent):
    """An event in its agency's chain."""

    seq: int  # 0 for the agency's first entry
    prev: str  # the previous entry's hash; GENESIS for the first
    hash: str  # sha256 (hex) of the entry's other fields: see `entry_hash`


def entry_hash(entry: AuditEvent, seq: int, prev: str) -> str:
    """The hash an entry carries: over its canonical JSON (sorted keys), `hash` left out."""
    fields = entry.model_dump(mode="json", exclude={"hash", "seq", "prev"})
    fields |= {"seq": seq, "prev": prev}
    return hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()


def chained(last: AuditEntry | None, event: AuditEvent) -> AuditEntry:
    """`event` as the entry after `last` in its agency's chain (the first if None)."""
    if last is not None and last.agency != event.agency:
        raise ValueError(f"{event.agency}'s event cannot follow {last.agency}'s chain")
    seq, prev = (0, GENESIS) if last is None else (last.seq + 1, last.hash)
    base = event.model_dump(include=set(AuditEvent.model_fields))
    return AuditEntry(**base, seq=seq, prev=prev, hash=entry_hash(event, seq, prev))


@dataclass(frozen=True, slots=True)
class Broken:
    """Where a chain stops holding: the entry (by position in what was read) and why."""

    index: int
    reason: str


def broken(
    entries: Iterable[AuditEntry], *, start: tuple[int, str] = (0, GENESIS), head: str | None = None
) -> Broken | None:
    """None if `entries` are one agency's chain, unaltered, gapless, in order; else where not.

    `start`: the seq and prev the first entry must have (an export that begins mid-chain
    names them); `head`: the hash the last entry must have (an export cut short is caught)."""
    expected_seq, expected_prev = start
    agency: str | None = None
    last_hash: str | None = None
    i = -1
    for i, entry in enumerate(entries):
        if agency is not None and entry.agency != agency:
            return Broken(i, f"entry of {entry.agency} in {agency}'s chain")
        agency = entry.agency
        if entry.seq != expected_seq:
            return Broken(i, f"seq {entry.seq} where {expected_seq} was due: an entry is missing")
        if entry.prev != expected_prev:
            return Broken(
                i, "prev is not the previous entry's hash: an entry was removed or altered"
            )
        if entry.hash != entry_hash(entry, entry.seq, entry.prev):
            return Broken(i, "the entry does not match its hash: it was altered")
        expected_seq, expected_prev, last_hash = entry.seq + 1, entry.hash, entry.hash
    if head is not None and last_hash != head:
        return Broken(i + 1, "the chain ends before its head: entries were cut off the end")
    return None
