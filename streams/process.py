"""What the stream does with one record, as plain functions over mappings.

The Faust agents (streams/agents.py) only feed records in and send the returned `Out`s; the
tables are passed in, so the whole behaviour is unit-testable with dicts. Every id derived
here is deterministic, so reprocessing after a crash yields the same events, which the
gateway then recognises as already shown.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import Counter

from hotline import metrics
from hotline.codec import dumps, loads
from hotline.errors import InvalidAlert
from hotline.models import (
    AckCommand,
    AlertRecord,
    AlertState,
    CaseView,
    ConsoleEvent,
    EventName,
    Receipt,
    alert_id_for,
    event_id_for,
)
from hotline.settings import Settings
from hotline.topics import topics
from streams import cases, dedupe, route
from streams.enrich import enrich

Table = MutableMapping[str, str]  # JSON text, see streams/cases.py
# Ids and agencies only: names, numbers and documents never go to the log.
log = logging.getLogger("hotline.worker")


@dataclass(frozen=True, slots=True)
class Out:
    topic: str
    key: bytes
    value: bytes


@dataclass(slots=True)
class State:
    alerts: Table  # alert_id -> AlertState
    cases: cases.CaseTables
    # "alert_id|agency" -> ISO deadline, or ESCALATED once past it: immediate alerts awaiting ack
    escalations: Table

    def tables(self) -> list[Table]:
        c = self.cases
        return [self.alerts, c.cases, c.fingerprints, c.persons, c.links, self.escalations]


ESCALATED = "escalated"


class Processor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topics = topics(settings)
        self.ttl = timedelta(days=settings.case_ttl_days)
        self.escalate_after = timedelta(seconds=settings.escalation_seconds)

    # --- alerts ---------------------------------------------------------------------------

    def submission(self, record: AlertRecord, st: State, now: datetime) -> list[Out]:
        seen, _ = dedupe.check(record, st.alerts)
        if seen is dedupe.Seen.RETRY:
            metrics.DUPLICATES.labels(record.body.kind).inc()
            return []
        if seen is dedupe.Seen.CONFLICT:
            return self._reject(
                record, st, now, "source_ref was already used for different content", store=False
            )
        try:
            enrichment = enrich(record.body, self.settings.agency(record.sender).country)
        except InvalidAlert as exc:
            return self._reject(record, st, now, exc.detail)

        body = record.body
        outs: list[Out] = []
        if body.msg_type == "alert":
            joined = cases.join(st.cases, record, enrichment, now, self.ttl)
            case = joined.case
            event: EventName = "corroborated" if joined.corroborated else "updated"
            if joined.corroborated:
                metrics.CORROBORATIONS.labels(body.kind).inc()
        else:
            assert body.references is not None
            ref_raw = st.alerts.get(alert_id_for(record.sender, body.references))
            if ref_raw is None:
                return self._reject(
                    record, st, now, f"references unknown alert '{body.references}'"
                )
            ref = loads(AlertState, ref_raw)
            case = self._follow_up(st, ref, record, now)
            event = "cancelled" if body.msg_type == "cancel" else "updated"
            ref_status = "cancelled" if body.msg_type == "cancel" else "updated"
            ref = ref.model_copy(update={"status": ref_status, "updated_at": now})
            if body.msg_type == "cancel":
                for r in ref.receipts:
                    st.escalations.pop(f"{ref.alert.alert_id}|{r.agency}", None)
            outs += self._store(st, ref)

        processed = record.model_copy(update={"case_id": case.case_id, "enrichment": enrichment})
        targets = route.recipients(
            self.settings, record.sender, body.kind, body.tlp, body.recipients
        )
        receipts = [Receipt(agency=a, delivered_at=now) for a in targets]
        state = AlertState(
            alert=processed,
            status="delivered" if targets else "accepted",
            receipts=receipts,
            case=self._case_for(st, case, record.sender, extra=state_hint(processed, receipts)),
            updated_at=now,
        )
        outs += self._store(st, state)
        for agency in targets:
            seen_by = self._case_for(st, case, agency, extra=state_hint(processed, receipts))
            # Whoever meets the case for the first time gets it as new, whatever its history.
            first_sight = body.msg_type == "alert" and seen_by.alert_ids == [record.alert_id]
            agency_event: EventName = "new" if first_sight else event
            outs.append(self._event(agency, agency_event, state, now, case=seen_by))
            _deliveries(agency, body.kind, agency_event).inc()
            if body.urgency == "immediate" and agency_event != "cancelled":
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
                "event": event,
            },
        )
        if record.lane == "urgent":
            # A bulk import's sender reads per-item status from GET /v1/alerts/{id} (and its
            # import's answers); a console fed a million "delivered" events helps nobody.
            outs.append(self._event(record.sender, "delivered", state, now, receipts=receipts))
        return outs

    def _follow_up(
        self, st: State, ref: AlertState, record: AlertRecord, now: datetime
    ) -> CaseView:
        case_id = ref.alert.case_id
        case = cases.get(st.cases, case_id) if case_id else None
        if case is None:  # the referenced alert was refused or expired: open a case anew
            return cases.join(
                st.cases,
                record,
                enrich(record.body, self.settings.agency(record.sender).country),
                now,
                self.ttl,
            ).case
        update: dict[str, object] = {
            "updated_at": now,
            "alert_ids": [*case.alert_ids, record.alert_id],
        }
        if record.body.msg_type == "cancel" and case.reporters == [record.sender]:
            update["state"] = "cancelled"  # only the sole reporter can close a case
        case = case.model_copy(update=update)
        cases.put(st.cases, case)
        return case

    def _case_for(
        self, st: State, case: CaseView, agency: str, extra: dict[str, list[str]]
    ) -> CaseView:
        """The case as `agency` may see it: only reports it sent or received (need to know)."""
        visible: list[str] = []
        reporters: list[str] = []
        for alert_id in case.alert_ids:
            audience = extra.get(alert_id)
            if audience is None:
                raw = st.alerts.get(alert_id)
                if raw is None:
                    continue
                s = loads(AlertState, raw)
                audience = [s.alert.sender, *(r.agency for r in s.receipts)]
            if agency in audience:
                visible.append(alert_id)
                if audience[0] not in reporters:
                    reporters.append(audience[0])
        return case.model_copy(update={"alert_ids": visible, "reporters": reporters})

    def _reject(
        self, record: AlertRecord, st: State, now: datetime, reason: str, store: bool = True
    ) -> list[Out]:
        metrics.ALERTS_REJECTED.labels(record.sender, "stream").inc()
        state = AlertState(alert=record, status="rejected", reason=reason, updated_at=now)
        outs = self._store(st, state) if store else []
        outs.append(
            self._event(
                record.sender, "rejected", state, now, reason=reason, salt=record.content_hash
            )
        )
        return outs

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
        outs = self._store(st, state)
        for agency in (state.alert.sender, cmd.agency):
            outs.append(
                self._event(
                    agency, "acknowledged", state, now, by=cmd.agency, receipts=state.receipts
                )
            )
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
            ):
                del st.escalations[key]
                continue
            state = _with_receipt(state, receipt.model_copy(update={"escalated_at": now}), now)
            outs += self._store(st, state)
            outs.append(self._event(agency, "escalated", state, now))
            outs.append(
                self._event(
                    state.alert.sender, "escalated", state, now, by=agency, receipts=state.receipts
                )
            )
            metrics.ESCALATIONS.labels(agency).inc()
            log.info("alert escalated", extra={"alert_id": alert_id, "recipient": agency})
        return outs

    def unacknowledged(self, st: State) -> dict[str, int]:
        """Immediate alerts delivered and not yet acknowledged, per recipient."""
        counts = dict.fromkeys(self.settings.agency_ids, 0)
        for key in list(st.escalations.keys()):
            agency = key.split("|", 1)[1]
            counts[agency] = counts.get(agency, 0) + 1
        return counts

    # --- helpers ---------------------------------------------------------------------------

    def _store(self, st: State, state: AlertState) -> list[Out]:
        value = dumps(state)
        st.alerts[state.alert.alert_id] = value.decode()
        return [Out(self.topics.alert_state, state.alert.alert_id.encode(), value)]

    def _event(
        self,
        agency: str,
        event: EventName,
        state: AlertState,
        now: datetime,
        *,
        case: CaseView | None = None,
        receipts: list[Receipt] | None = None,
        by: str | None = None,
        reason: str | None = None,
        salt: str = "",
    ) -> Out:
        alert = state.alert
        # Every field comes from validated models: construct without validating them again.
        ev = ConsoleEvent.model_construct(
            type="alert",
            cursor=None,
            event=event,
            event_id=event_id_for(alert.alert_id, agency, event, by or "", salt),
            alert_id=alert.alert_id,
            case_id=alert.case_id,
            at=now,
            alert=alert,
            case=case if case is not None else state.case if agency == alert.sender else None,
            receipts=receipts or [],
            by=by,
            reason=reason,
        )
        return Out(self.topics.deliveries(agency), alert.alert_id.encode(), dumps(ev))


@functools.cache
def _deliveries(agency: str, kind: str, event: str) -> Counter:
    # Resolving label children is a measurable share of a bulk run: do it once per label set.
    return metrics.DELIVERIES.labels(agency, kind, event)


def state_hint(record: AlertRecord, receipts: list[Receipt]) -> dict[str, list[str]]:
    """The audience of the alert being processed, before it is in the table."""
    return {record.alert_id: [record.sender, *(r.agency for r in receipts)]}


def _with_receipt(state: AlertState, receipt: Receipt, now: datetime) -> AlertState:
    receipts = [receipt if r.agency == receipt.agency else r for r in state.receipts]
    return state.model_copy(update={"receipts": receipts, "updated_at": now})
