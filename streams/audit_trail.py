"""The audit trail in the stream: exchanges reported as they happen, chained per agency.

The stages report each exchange they make (an alert accepted and routed, an acknowledgement,
an escalation, a follow-up, a rejection) as an `AuditEvent` on the audit.events topic, keyed by
the agency whose record it goes on. The urgent lane's worker that holds an agency's partition
chains its events into the audit.log topic (hotline/audit.py): one writer per chain, so each
chain has one order. An event reported twice (a record replayed after a crash) is chained once,
by its deterministic id; an entry written twice (a crash before the tables were committed) is
the same entry, seq and hash alike, which readers take once.

A shared list's items are not reported one by one (a million numbers would be a million
entries per agency): the gateway records each batch of it on the sender's record; a
recipient's record has the list as it was routed to it, one entry per bulk-lane partition once
that partition's digest is done (its count so far), and the list's hits as the events its
consoles were shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from hotline.audit import AuditAction, AuditEntry, AuditEvent, chained
from hotline.codec import dumps, loads
from hotline.models import DigestEvent
from hotline.settings import Settings
from hotline.topics import topics
from streams import partition
from streams.state import Out, State


class AuditTrail:
    def __init__(self, settings: Settings) -> None:
        t = topics(settings)
        self.events_topic = t.audit_events
        self.log_topic = t.audit_log

    def report(
        self,
        agency: str,
        action: AuditAction,
        at: datetime,
        alert_id: str,
        counterparts: Iterable[str] = (),
        *,
        once: str = "",
        detail: dict[str, str] | None = None,
    ) -> Out:
        """The exchange, for `agency`'s record. `once`: what tells this exchange from another
        of the same action on the same alert (an escalation's time, a rejection's content)."""
        event = AuditEvent(
            event_id=f"{alert_id}|{agency}|{action}|{once}",
            agency=agency,
            action=action,
            at=at,
            alert_id=alert_id,
            counterparts=sorted(set(counterparts) - {agency}),
            detail=detail or {},
        )
        return Out(self.events_topic, agency.encode(), dumps(event))

    def list_routed(self, agency: str, digest: DigestEvent) -> Out:
        """A shared list's part routed to `agency`, from one partition of the bulk lane, as its
        done digest counts it. The count is the partition's so far: a list reopened by a later
        batch is on the record again, with the larger count, when it is done again."""
        d = digest
        event = AuditEvent(
            event_id=f"import|{agency}|{d.sender}|{d.import_id}|{d.partition}|{d.numbers}",
            agency=agency,
            action="routed",
            at=d.at,
            counterparts=[d.sender],
            detail={
                "import_id": d.import_id,
                "partition": str(d.partition),
                "alerts": str(d.numbers),
                "hits": str(d.hits),
            },
        )
        return Out(self.events_topic, agency.encode(), dumps(event))

    def chain(self, st: State, raw: bytes) -> list[Out]:
        """One reported event onto its agency's chain (or nothing, if it is there already)."""
        event = loads(AuditEvent, raw)
        if event.event_id in st.audit_seen:
            return []
        last_raw = st.audit_heads.get(event.agency)
        last = loads(AuditEntry, last_raw) if last_raw is not None else None
        entry = chained(last, event)
        st.audit_heads[event.agency] = dumps(entry).decode()
        st.audit_seen[event.event_id] = str(entry.seq)
        # On the partition the agency's events are on: one partition holds its whole chain.
        where = partition.current()
        return [Out(self.log_topic, event.agency.encode(), dumps(entry), where)]
