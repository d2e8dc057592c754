"""A recipient's outcome report on an alert it received: recorded once in the alert's state,
told to the sender and to the reporter, and put on both agencies' audit records.

The report comes on the acks topic of the lane that holds the alert (keyed by its group, like
the alert), so it is handled where the alert's state is and in order with its other records.
"""

from __future__ import annotations

import logging
from datetime import datetime

from hotline import metrics
from hotline.codec import loads
from hotline.models import AlertState, OutcomeCommand
from streams.announce import Announcer
from streams.state import Out, State

# Ids, agencies and kinds only: a note is partner text and never goes to the log.
log = logging.getLogger("hotline.worker")


class Outcomes:
    def __init__(self, tell: Announcer) -> None:
        self.tell = tell

    def reported(self, cmd: OutcomeCommand, st: State, now: datetime) -> list[Out]:
        outcome, alert_id = cmd.outcome, cmd.alert_id
        raw = st.alerts.get(alert_id)
        state = loads(AlertState, raw) if raw is not None else None
        extra = {"alert_id": alert_id, "agency": outcome.agency, "outcome": outcome.kind}
        if state is None or not any(r.agency == outcome.agency for r in state.receipts):
            # The gateway refuses these with a 404; one here was written past it (a state the
            # gateway held and this lane does not), and is kept out of the record.
            log.warning("outcome report on an alert not delivered to its reporter", extra=extra)
            return []
        if any(o.outcome_id == outcome.outcome_id for o in state.outcomes):
            return []  # the same report again: a retry, or a record read again after a crash
        state = state.model_copy(update={"outcomes": [*state.outcomes, outcome], "updated_at": now})
        self.tell.store(st, state)
        sender = state.alert.sender
        metrics.OUTCOMES.labels(outcome.agency, sender, outcome.kind).inc()
        log.info("outcome reported", extra=extra)
        outs: list[Out] = []
        for agency in (sender, outcome.agency):
            outs += self.tell.event(
                agency,
                "outcome",
                state,
                now,
                by=outcome.agency,
                salt=outcome.outcome_id,
                outcome=outcome,
            )
        audit, why = self.tell.audit, {"outcome": str(outcome.kind)}
        once = outcome.outcome_id
        outs.append(
            audit.report(
                outcome.agency,
                "outcome_reported",
                outcome.at,
                alert_id,
                [sender],
                once=once,
                detail=why,
            )
        )
        outs.append(
            audit.report(
                sender,
                "outcome_reported",
                outcome.at,
                alert_id,
                [outcome.agency],
                once=once,
                detail=why,
            )
        )
        return outs
