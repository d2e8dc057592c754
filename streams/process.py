"""What the stream does with one record, as plain functions over mappings.

The Faust agents (streams/agents.py) only feed records in and send the returned `Out`s; the
tables are passed in, so the whole behaviour is unit-testable with dicts. Every id derived
here is deterministic, so reprocessing after a crash yields the same events, which the
gateway then recognises as already shown.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson
from prometheus_client import Counter

from hotline import metrics, route
from hotline import need_to_know as ntk
from hotline.alert_in import AlertBody, alert_id_for
from hotline.codec import dumps, loads
from hotline.enrich import enrich
from hotline.errors import InvalidAlert
from hotline.fields import EventName
from hotline.handling import Handling, of_alert, of_follow_up
from hotline.models import (
    AckCommand,
    AlertRecord,
    AlertState,
    CaseRecord,
    Enrichment,
    Receipt,
    Report,
)
from hotline.settings import Settings
from hotline.topics import topics
from streams import case_tables, cases, dedupe, digests, partition
from streams.case_tables import Table
from streams.links import LinkMessage

Position = digests.Position
# Ids and agencies only: names, numbers and documents never go to the log.
log = logging.getLogger("hotline.worker")


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

    def tables(self) -> list[Table]:
        c = self.cases
        index = [] if c is None else [c.cases, c.fingerprints, c.persons, c.links]
        return [self.alerts, *index, self.escalations, self.parked, self.digests]


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


ESCALATED = "escalated"


class Processor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topics = topics(settings)
        self.ttl = timedelta(days=settings.case_ttl_days)
        self.escalate_after = timedelta(seconds=settings.escalation_seconds)
        self.follow_up_wait = timedelta(seconds=settings.follow_up_wait_seconds)

    # --- alerts ---------------------------------------------------------------------------

    def submission(self, record: AlertRecord, st: State, now: datetime) -> list[Out]:
        outs = self._submit(record, st, now)
        for waiting in self.released(record.alert_id, st):
            outs += self.submission(waiting, st, now)
        return outs

    def released(self, alert_id: str, st: State) -> list[AlertRecord]:
        """Follow-ups that arrived before the alert they reference (an immediate cancel of a
        bulk alert), to be handled right after it, once it is in the table."""
        waiting = st.parked.get(alert_id)
        if waiting is None or alert_id not in st.alerts:
            return []
        del st.parked[alert_id]
        return [loads(AlertRecord, raw) for raw, _ in orjson.loads(waiting)]

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
            return self._reject(
                record, st, now, "source_ref was already used for different content", store=False
            )
        body = record.body
        ref: AlertState | None = None
        if body.references is not None:
            ref_raw = st.alerts.get(alert_id_for(record.sender, body.references))
            if ref_raw is None:
                return self._park(record, st, now)
            ref = loads(AlertState, ref_raw)
            if ref.status == "rejected":
                return self._reject(
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
            return self._reject(record, st, now, exc.detail)
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
        return self._follow_up(t, p, now)

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
                for r in ref.receipts:
                    st.escalations.pop(f"{ref.alert.alert_id}|{r.agency}", None)
            self._store(st, ref)

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
        self._store(st, state)
        # A shared list's alert is counted in its recipients' digests; only a hit is an event.
        listed = record.import_id if record.lane == "bulk" and body.msg_type == "alert" else None
        for agency in targets:
            agency_event = ntk.event_name(agency, case, record.alert_id, body.msg_type)
            _deliveries(agency, body.kind, agency_event).inc()
            if listed is not None:
                what = digests.reach(agency_event)
                if not again:
                    where = partition.current() or 0
                    digests.count(
                        st.digests, listed, record.sender, agency, where, what, now, position
                    )
                if what != "hit":
                    continue
            outs += self._event(agency, agency_event, state, now)
            if (
                body.urgency == "immediate"
                and agency_event != "cancelled"
                and not _expired(processed, now)
            ):
                st.escalations[f"{record.alert_id}|{agency}"] = (
                    now + self.escalate_after
                ).isoformat()
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
            outs += self._event(record.sender, "delivered", state, now)
        return outs

    def _park(self, record: AlertRecord, st: State, now: datetime) -> list[Out]:
        assert record.body.references is not None
        ref_id = alert_id_for(record.sender, record.body.references)
        waiting = orjson.loads(st.parked.get(ref_id, "[]"))
        raw = dumps(record).decode()
        if all(r != raw for r, _ in waiting):  # a replayed or retried follow-up waits once
            st.parked[ref_id] = orjson.dumps([*waiting, [raw, now.isoformat()]]).decode()
        log.info(
            "follow-up waits for the alert it references",
            extra={"alert_id": record.alert_id, "sender": record.sender},
        )
        return []

    def expire_parked(self, st: State, now: datetime) -> list[Out]:
        """Follow-ups whose alert never came: rejected, so the sender hears of it."""
        outs: list[Out] = []
        for ref_id, waiting in list(st.parked.items()):
            entries = orjson.loads(waiting)
            due = [e for e in entries if datetime.fromisoformat(e[1]) + self.follow_up_wait <= now]
            if not due:
                continue
            rest = [e for e in entries if e not in due]
            if rest:
                st.parked[ref_id] = orjson.dumps(rest).decode()
            else:
                del st.parked[ref_id]
            for raw, _ in due:
                record = loads(AlertRecord, raw)
                why = (
                    f"references unknown alert '{record.body.references}' "
                    f"(not received within {self.follow_up_wait.total_seconds():.0f} s)"
                )
                outs += self._reject(record, st, now, why)
        return outs

    def _follow_up(self, t: case_tables.CaseTables, p: Prepared, now: datetime) -> Matched:
        assert p.ref is not None
        record = p.record
        case_id = p.ref.alert.case_id
        case = case_tables.get(t, case_id) if case_id else None
        if case is None:  # the referenced alert's case has gone: open a case anew, there
            joined = cases.join(
                t,
                record,
                p.enrichment,
                now,
                self.ttl,
                audience=p.targets,
                key=self.settings.id_key,
                home=self.station(p, t.homes),
            )
            return Matched(joined.case, joined.links)
        report = Report(
            alert_id=record.alert_id,
            sender=record.sender,
            audience=[record.sender, *p.targets],
            at=now,
        )
        case = cases.add_report(case, report, now)
        if record.body.msg_type == "cancel" and {r.sender for r in case.reports} == {record.sender}:
            case = case.model_copy(update={"state": "cancelled"})  # only a sole reporter closes
        case_tables.put(t, case)
        return Matched(case)

    def _reject(
        self, record: AlertRecord, st: State, now: datetime, reason: str, store: bool = True
    ) -> list[Out]:
        metrics.ALERTS_REJECTED.labels(record.sender, "stream").inc()
        state = AlertState(alert=record, status="rejected", reason=reason, updated_at=now)
        if store:
            self._store(st, state)
        return self._event(
            record.sender, "rejected", state, now, reason=reason, salt=record.content_hash
        )

    def unmatched(self, record: AlertRecord, st: State, now: datetime) -> list[Out]:
        """An alert the case index failed on (dead-lettered there): a rejection, not silence."""
        return self._reject(record, st, now, "the alert could not be matched to a case")

    def unwritable(self, record: AlertRecord, st: State, now: datetime) -> list[Out]:
        """What a record whose outputs Kafka cannot take leaves: a rejection for its sender."""
        why = "the alert is too large to deliver once enriched; split it or shorten it"
        return self._reject(record, st, now, why)

    # --- acknowledgements and escalation -----------------------------------------------------

    def ack(self, cmd: AckCommand, st: State, now: datetime) -> list[Out]:
        raw = st.alerts.get(cmd.alert_id)
        if raw is None:
            return []
        state = loads(AlertState, raw)
        receipt = next((r for r in state.receipts if r.agency == cmd.agency), None)
        if receipt is None or receipt.acknowledged_at is not None:
            return []  # not a recipient (refused by the gateway too), or already acknowledged
        metrics.ACK_LATENCY.labels(cmd.agency).observe(
            (cmd.at - receipt.delivered_at).total_seconds()
        )
        st.escalations.pop(f"{cmd.alert_id}|{cmd.agency}", None)
        log.info(
            "alert acknowledged",
            extra={"alert_id": cmd.alert_id, "case_id": cmd.case_id, "agency": cmd.agency},
        )
        state = _with_receipt(state, receipt.model_copy(update={"acknowledged_at": cmd.at}), now)
        self._store(st, state)
        outs: list[Out] = []
        for agency in (state.alert.sender, cmd.agency):
            outs += self._event(agency, "acknowledged", state, now, by=cmd.agency)
        return outs

    def escalate_due(self, st: State, now: datetime) -> list[Out]:
        outs: list[Out] = []
        due = [
            k
            for k, v in list(st.escalations.items())
            if v != ESCALATED and datetime.fromisoformat(v) <= now
        ]
        for key in due:
            st.escalations[key] = ESCALATED  # still unacknowledged, but escalated only once
            alert_id, agency = key.split("|", 1)
            raw = st.alerts.get(alert_id)
            if raw is None:
                continue
            state = loads(AlertState, raw)
            receipt = next((r for r in state.receipts if r.agency == agency), None)
            if (
                receipt is None
                or receipt.acknowledged_at is not None
                or state.status == "cancelled"
                or _expired(state.alert, now)  # an expired alert asks nobody to act any more
            ):
                del st.escalations[key]
                continue
            state = _with_receipt(state, receipt.model_copy(update={"escalated_at": now}), now)
            self._store(st, state)
            outs += self._event(agency, "escalated", state, now)
            outs += self._event(state.alert.sender, "escalated", state, now, by=agency)
            metrics.ESCALATIONS.labels(agency).inc()
            log.info("alert escalated", extra={"alert_id": alert_id, "recipient": agency})
        return outs

    def digests_due(self, st: State, now: datetime) -> list[Out]:
        """The imports' digests due to their recipients (see streams/digests.py)."""
        return [
            Out(self.topics.deliveries(agency), ev.import_id.encode(), dumps(ev))
            for agency, ev in digests.due(st.digests, now)
        ]

    def unacknowledged(self, st: State) -> dict[str, int]:
        """Immediate alerts delivered and not yet acknowledged, per recipient."""
        counts = dict.fromkeys(self.settings.agency_ids, 0)
        for key in list(st.escalations.keys()):
            agency = key.split("|", 1)[1]
            counts[agency] = counts.get(agency, 0) + 1
        return counts

    # --- helpers ---------------------------------------------------------------------------

    def _store(self, st: State, state: AlertState) -> None:
        # The alerts table's changelog is the compacted alert-state topic the gateways read:
        # one record per state change, written once (streams/app.py).
        st.alerts[state.alert.alert_id] = dumps(state).decode()

    def _event(
        self,
        agency: str,
        event: EventName,
        state: AlertState,
        now: datetime,
        *,
        by: str | None = None,
        reason: str | None = None,
        salt: str = "",
    ) -> list[Out]:
        """The event as `agency` may see it (need to know decides, in one place)."""
        ev = ntk.console_event(agency, event, state, now, by=by, reason=reason, salt=salt)
        if ev is None:
            return []
        alert_id = state.alert.alert_id
        return [Out(self.topics.deliveries(agency), alert_id.encode(), dumps(ev))]


@functools.cache
def _deliveries(agency: str, kind: str, event: str) -> Counter:
    # Resolving label children is a measurable share of a bulk run: do it once per label set.
    return metrics.DELIVERIES.labels(agency, kind, event)


def _handled(body: AlertBody, handling: Handling) -> AlertBody:
    """The body as delivered: with the TLP and recipients it was actually handled with."""
    if body.tlp == handling.tlp and (body.recipients or []) == handling.recipients:
        return body
    return body.model_copy(update={"tlp": handling.tlp, "recipients": handling.recipients})


def _expired(record: AlertRecord, now: datetime) -> bool:
    expires = record.body.expires_at
    return expires is not None and expires <= now


def _with_receipt(state: AlertState, receipt: Receipt, now: datetime) -> AlertState:
    receipts = [receipt if r.agency == receipt.agency else r for r in state.receipts]
    return state.model_copy(update={"receipts": receipts, "updated_at": now})
