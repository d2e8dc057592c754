"""A recipient's receipt of an alert: delivered, acknowledged, or escalated when an immediate
alert waits too long for its acknowledgement.

The lane's escalations table holds one entry per immediate alert and recipient still to
acknowledge: "alert_id|agency" -> its ISO deadline, or ESCALATED once past it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from hotline import metrics
from hotline.codec import loads
from hotline.models import AckCommand, AlertRecord, AlertState, Receipt
from hotline.settings import Settings
from streams.announce import Announcer
from streams.state import Out, State

ESCALATED = "escalated"
# Ids and agencies only: names, numbers and documents never go to the log.
log = logging.getLogger("hotline.worker")


class Receipts:
    def __init__(self, settings: Settings, tell: Announcer) -> None:
        self.agency_ids = settings.agency_ids
        self.escalate_after = timedelta(seconds=settings.escalation_seconds)
        self.tell = tell

    def awaited(self, st: State, alert_id: str, agency: str, now: datetime) -> None:
        """`agency` is to acknowledge the immediate alert, or it escalates."""
        st.escalations[f"{alert_id}|{agency}"] = (now + self.escalate_after).isoformat()

    def cancelled(self, st: State, state: AlertState) -> None:
        """A cancelled alert asks nobody to acknowledge it any more."""
        for r in state.receipts:
            st.escalations.pop(f"{state.alert.alert_id}|{r.agency}", None)

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
        self.tell.store(st, state)
        outs: list[Out] = []
        for agency in (state.alert.sender, cmd.agency):
            outs += self.tell.event(agency, "acknowledged", state, now, by=cmd.agency)
        audit, sender = self.tell.audit, state.alert.sender
        outs.append(audit.report(cmd.agency, "acknowledged", cmd.at, cmd.alert_id, [sender]))
        outs.append(
            audit.report(
                sender, "acknowledged", cmd.at, cmd.alert_id, [cmd.agency], once=cmd.agency
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
                or expired(state.alert, now)  # an expired alert asks nobody to act any more
            ):
                del st.escalations[key]
                continue
            state = _with_receipt(state, receipt.model_copy(update={"escalated_at": now}), now)
            self.tell.store(st, state)
            outs += self.tell.event(agency, "escalated", state, now)
            outs += self.tell.event(state.alert.sender, "escalated", state, now, by=agency)
            sender = state.alert.sender
            outs.append(self.tell.audit.report(agency, "escalated", now, alert_id, [sender]))
            outs.append(
                self.tell.audit.report(sender, "escalated", now, alert_id, [agency], once=agency)
            )
            metrics.ESCALATIONS.labels(agency).inc()
            log.info("alert escalated", extra={"alert_id": alert_id, "recipient": agency})
        return outs

    def unacknowledged(self, st: State) -> dict[str, int]:
        """Immediate alerts delivered and not yet acknowledged, per recipient."""
        counts = dict.fromkeys(self.agency_ids, 0)
        for key in list(st.escalations.keys()):
            agency = key.split("|", 1)[1]
            counts[agency] = counts.get(agency, 0) + 1
        return counts


def expired(record: AlertRecord, now: datetime) -> bool:
    expires = record.body.expires_at
    return expires is not None and expires <= now


def _with_receipt(state: AlertState, receipt: Receipt, now: datetime) -> AlertState:
    receipts = [receipt if r.agency == receipt.agency else r for r in state.receipts]
    return state.model_copy(update={"receipts": receipts, "updated_at": now})
