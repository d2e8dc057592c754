"""What the stream tells: an alert's state stored, an event as its agency may see it, a
rejection for the sender. The one place a stage's outcome becomes records to send."""

from __future__ import annotations

from datetime import datetime

from hotline import metrics
from hotline import need_to_know as ntk
from hotline.codec import dumps
from hotline.fields import EventName
from hotline.models import AlertRecord, AlertState, Outcome
from hotline.settings import Settings
from hotline.topics import topics
from streams.audit_trail import AuditTrail
from streams.state import Out, State


class Announcer:
    def __init__(self, settings: Settings) -> None:
        self.topics = topics(settings)
        self.audit = AuditTrail(settings)

    def store(self, st: State, state: AlertState) -> None:
        # The alerts table's changelog is the compacted alert-state topic the gateways read:
        # one record per state change, written once (streams/app.py).
        st.alerts[state.alert.alert_id] = dumps(state).decode()

    def event(
        self,
        agency: str,
        event: EventName,
        state: AlertState,
        now: datetime,
        *,
        by: str | None = None,
        reason: str | None = None,
        salt: str = "",
        outcome: Outcome | None = None,
    ) -> list[Out]:
        """The event as `agency` may see it (need to know decides, in one place)."""
        ev = ntk.console_event(
            agency, event, state, now, by=by, reason=reason, salt=salt, outcome=outcome
        )
        if ev is None:
            return []
        alert_id = state.alert.alert_id
        return [Out(self.topics.deliveries(agency), alert_id.encode(), dumps(ev))]

    def reject(
        self, record: AlertRecord, st: State, now: datetime, reason: str, store: bool = True
    ) -> list[Out]:
        """The alert rejected, and its sender told why (`store`: remembered as rejected, so
        a retry is answered the same way)."""
        metrics.ALERTS_REJECTED.labels(record.sender, "stream").inc()
        state = AlertState(alert=record, status="rejected", reason=reason, updated_at=now)
        if store:
            self.store(st, state)
        outs = self.event(
            record.sender, "rejected", state, now, reason=reason, salt=record.content_hash
        )
        if record.lane == "urgent":  # a shared list's items are on record as their import
            why = {"reason": reason}
            once = record.content_hash
            outs.append(
                self.audit.report(
                    record.sender, "rejected", now, record.alert_id, (), once=once, detail=why
                )
            )
        return outs
