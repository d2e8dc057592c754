"""What the stream does with one record, as plain functions over mappings.

The Faust agents (streams/agents.py) only feed records in and send the returned `Out`s; the
tables are passed in, so the whole behaviour is unit-testable with dicts. Every id derived
here is deterministic, so reprocessing after a crash yields the same events, which the
gateway then recognises as already shown. A record goes through three stages here (admit,
match, deliver); follow-ups, receipts and what is told are their own modules'
(streams/follow_ups.py, streams/receipts.py, streams/outcomes.py, streams/announce.py).
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime

from prometheus_client import Counter

from hotline import metrics, route
from hotline import need_to_know as ntk
from hotline.alert_in import AlertBody, alert_id_for
from hotline.audit import AuditAction
from hotline.codec import dumps, loads
from hotline.enrich import enrich
from hotline.errors import InvalidAlert
from hotline.handling import Handling, of_alert, of_follow_up
from hotline.models import AckCommand, AlertRecord, AlertState, OutcomeCommand, Receipt
from hotline.settings import Settings
from hotline.topics import topics
from streams import case_tables, cases, dedupe, digests, partition
from streams.announce import Announcer
from streams.follow_ups import FollowUps
from streams.outcomes import Outcomes
from streams.receipts import Receipts, expired
from streams.state import Matched, Out, Prepared, State

Position = digests.Position
# Ids and agencies only: names, numbers and documents never go to the log.
log = logging.getLogger("hotline.worker")


class Processor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topics = topics(settings)
        self.tell = Announcer(settings)
        self.follow_ups = FollowUps(settings, self.tell)
        self.receipts = Receipts(settings, self.tell)
        self.outcomes = Outcomes(self.tell)
        # The one object the agents and timers call; these are its parts' work.
        self.released = self.follow_ups.released
        self.expire_parked = self.follow_ups.expire_parked
        self.ack = self.receipts.ack
        self.escalate_due = self.receipts.escalate_due
        self.unacknowledged = self.receipts.unacknowledged
        self.ttl = self.follow_ups.ttl

    def command(self, cmd: AckCommand | OutcomeCommand, st: State, now: datetime) -> list[Out]:
        """A recipient's acknowledgement or outcome report (both on the lane's acks topic)."""
        if isinstance(cmd, AckCommand):
            return self.ack(cmd, st, now)
        return self.outcomes.reported(cmd, st, now)

    # --- alerts ---------------------------------------------------------------------------

    def submission(self, record: AlertRecord, st: State, now: datetime) -> list[Out]:
        outs = self._submit(record, st, now)
        for waiting in self.released(record.alert_id, st):
            outs += self.submission(waiting, st, now)
        return outs

    def _submit(self, record: AlertRecord, st: State, now: datetime) -> list[Out]:
        admitted = self.admit(record, st, now)
        if not isinstance(admitted, Prepared):
            return admitted
        assert st.cases is not None, "only the lane that holds the case index matches in place"
        return self.deliver(admitted, self.match(admitted, st.cases, now), st, now)

    # The three stages of a submission. Each reads and writes only its own tables: `admit` and
    # `deliver` the lane's (alerts, parked, escalations), `match` the case index. A record
    # replayed after a crash goes through all three again and yields the same result.

    def admit(self, record: AlertRecord, st: State, now: datetime) -> Prepared | list[Out]:
        """Checks, enriches and addresses the record; or what it ends in here (a retry
        dropped, a rejection, a follow-up parked until its alert comes)."""
        seen, _ = dedupe.check(record, st.alerts)
        if seen is dedupe.Seen.RETRY:
            metrics.DUPLICATES.labels(record.body.kind).inc()
            return []
        if seen is dedupe.Seen.CONFLICT:
            return self.tell.reject(
                record, st, now, "source_ref was already used for different content", store=False
            )
        body = record.body
        ref: AlertState | None = None
        if body.references is not None:
            ref_raw = st.alerts.get(alert_id_for(record.sender, body.references))
            if ref_raw is None:
                return self.follow_ups.park(record, st, now)
            ref = loads(AlertState, ref_raw)
            if ref.status == "rejected":
                return self.tell.reject(
                    record, st, now, f"references '{body.references}', which was rejected"
                )
        try:
            enrichment = enrich(body, self.settings.agency(record.sender).country)
            handling = (
                of_alert(body)
                if ref is None
                else of_follow_up(body, ref.alert.body.tlp, [r.agency for r in ref.receipts])
            )
        except InvalidAlert as exc:
            return self.tell.reject(record, st, now, exc.detail)
        targets = route.recipients(self.settings, record.sender, body.kind, handling)
        return Prepared(record, enrichment, handling, targets, ref)

    def match(self, p: Prepared, t: case_tables.CaseTables, now: datetime) -> Matched:
        """The case the alert belongs to, with its report added (opened if none is open)."""
        if p.ref is None:
            joined = cases.join(
                t,
                p.record,
                p.enrichment,
                now,
                self.ttl,
                audience=p.targets,
                key=self.settings.id_key,
            )
            if joined.corroborated:
                metrics.CORROBORATIONS.labels(p.record.body.kind).inc()
            return Matched(joined.case, joined.links)
        return self.follow_ups.matched(t, p, now, self.station(p, t.homes))

    def station(self, p: Prepared, homes: case_tables.Homes) -> int:
        """The index partition the alert is matched on: its subject's, or a follow-up's case's."""
        if p.ref is not None and p.ref.alert.case_id:
            return homes.of_case(p.ref.alert.case_id)
        return homes.station(p.record, p.enrichment)

    def deliver(
        self,
        p: Prepared,
        m: Matched,
        st: State,
        now: datetime,
        *,
        position: Position | None = None,
    ) -> list[Out]:
        """Stores the alert's state and tells each recipient (and an urgent alert's sender).

        `position`: where a bulk alert's match answer stands in its partition, so that an
        answer delivered again after a crash is not counted again (streams/digests.py)."""
        record, body, case, targets = p.record, p.record.body, m.case, p.targets
        outs: list[Out] = []
        # Delivered before: a second answer to the same match (a bulk worker that died after
        # asking, and the one that took over asked again). Its events repeat with the same
        # ids, which consoles drop; its counts must not repeat.
        again = record.alert_id in st.alerts
        if p.ref is not None:
            ref_status = "cancelled" if body.msg_type == "cancel" else "updated"
            ref = p.ref.model_copy(update={"status": ref_status, "updated_at": now})
            if body.msg_type == "cancel":
                self.receipts.cancelled(st, ref)
            self.tell.store(st, ref)

        processed = record.model_copy(
            update={
                "case_id": case.case_id,
                "enrichment": p.enrichment,
                "body": _handled(body, p.handling),
            }
        )
        receipts = [Receipt(agency=a, delivered_at=now) for a in targets]
        state = AlertState(
            alert=processed,
            status="delivered" if targets else "accepted",
            receipts=receipts,
            case=case,
            updated_at=now,
        )
        self.tell.store(st, state)
        # A shared list's alert is counted in its recipients' digests; only a hit is an event.
        listed = record.import_id if record.lane == "bulk" and body.msg_type == "alert" else None
        for agency in targets:
            agency_event = ntk.event_name(agency, case, record.alert_id, body.msg_type)
            _deliveries(agency, body.kind, agency_event).inc()
            if listed is not None:
                what = digests.reach(agency_event)
                if not again:
                    where = partition.current() or 0
                    step = partition.current_step()
                    digests.count(
                        st.digests, listed, record.sender, agency, where, what, now, position, step
                    )
                if what != "hit":
                    continue
            outs += self.tell.event(agency, agency_event, state, now)
            if (
                body.urgency == "immediate"
                and agency_event != "cancelled"
                and not expired(processed, now)
            ):
                self.receipts.awaited(st, record.alert_id, agency, now)
        level = logging.INFO if record.lane == "urgent" else logging.DEBUG
        log.log(
            level,
            "alert routed to %d recipient(s)",
            len(targets),
            extra={
                "alert_id": record.alert_id,
                "case_id": case.case_id,
                "sender": record.sender,
                "event": body.msg_type,
            },
        )
        if record.lane == "urgent":
            # A bulk import's sender reads per-item status from GET /v1/alerts/{id} (and its
            # import's answers); a console fed a million "delivered" events helps nobody.
            outs += self.tell.event(record.sender, "delivered", state, now)
        if not again and listed is None:
            # A shared list's items are on the record as their batches, at the gateway
            # (gateway/audit_reporter.py); a bulk alert's follow-ups one by one, as any.
            outs += self._on_record(record, targets, now)
        return outs

    def _on_record(self, record: AlertRecord, targets: list[str], now: datetime) -> list[Out]:
        """The exchange on the sender's and each recipient's audit record (streams/audit_trail)."""
        audit, sender, alert_id = self.tell.audit, record.sender, record.alert_id
        msg_type = record.body.msg_type
        if msg_type == "alert":
            outs = [audit.report(sender, "accepted", now, alert_id)]
            outs.append(audit.report(sender, "routed", now, alert_id, targets))
            outs += [audit.report(a, "routed", now, alert_id, [sender]) for a in targets]
            return outs
        action: AuditAction = "cancelled" if msg_type == "cancel" else "updated"
        return [
            audit.report(a, action, now, alert_id, [sender, *targets]) for a in [sender, *targets]
        ]

    def unmatched(self, record: AlertRecord, st: State, now: datetime) -> list[Out]:
        """An alert the case index failed on (dead-lettered there): a rejection, not silence."""
        return self.tell.reject(record, st, now, "the alert could not be matched to a case")

    def unwritable(self, record: AlertRecord, st: State, now: datetime) -> list[Out]:
        """What a record whose outputs Kafka cannot take leaves: a rejection for its sender."""
        why = "the alert is too large to deliver once enriched; split it or shorten it"
        return self.tell.reject(record, st, now, why)

    def digests_due(self, st: State, now: datetime) -> list[Out]:
        """The imports' digests due to their recipients (see streams/digests.py); a done one
        on the recipient's audit record too."""
        outs: list[Out] = []
        for agency, ev in digests.due(st.digests, now):
            outs.append(Out(self.topics.deliveries(agency), ev.import_id.encode(), dumps(ev)))
            if ev.done:
                outs.append(self.tell.audit.list_routed(agency, ev))
        return outs


@functools.cache
def _deliveries(agency: str, kind: str, event: str) -> Counter:
    # Resolving label children is a measurable share of a bulk run: do it once per label set.
    return metrics.DELIVERIES.labels(agency, kind, event)


def _handled(body: AlertBody, handling: Handling) -> AlertBody:
    """The body as delivered: with the TLP and recipients it was actually handled with."""
    if body.tlp == handling.tlp and (body.recipients or []) == handling.recipients:
        return body
    return body.model_copy(update={"tlp": handling.tlp, "recipients": handling.recipients})
