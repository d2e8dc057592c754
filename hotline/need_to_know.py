"""What one agency may see of an alert and its case: the one place that decides it.

Every view that leaves the system is built here from (viewer, stored state): console events
(live, backlog and resume all replay what the worker wrote with `console_event`), `GET
/v1/alerts/{id}` (`alert_view`) and the answers built on them. The stored state is whole (every
report of a case with its audience, every receipt); a viewer gets only

- an alert it sent or that was routed to it, and nothing at all of any other;
- of the alert's case, the reports it sent or was sent: their ids, their senders as reporters,
  their times as opened/updated, and related cases it could see when they were linked;
- every receipt of an alert it sent, only its own of an alert it received;
- every outcome reported on an alert it sent, only its own on an alert it received (what one
  recipient found is the sender's to share, not the hotline's);
- of the scam numbers' feed, the alerts it may see, as their views say;
- of a lookup in the registry, the cases it could see a report of, as their views say, and
  of their alerts those it may see;
- an event name worked out from that visible part alone, so a report it cannot see changes
  neither what it is told nor what it could infer from the name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from hotline.fields import EventName, MsgType
from hotline.handling import DEFAULT_TLP
from hotline.models import (
    RELATED_MAX,
    AlertState,
    AlertView,
    CaseRecord,
    CaseView,
    ConsoleEvent,
    Outcome,
    Receipt,
    event_id_for,
)
from hotline.registry import LookupAlert, LookupMatch, NumberChange


def may_see(viewer: str, state: AlertState) -> bool:
    return viewer == state.alert.sender or any(r.agency == viewer for r in state.receipts)


def case_view(viewer: str, case: CaseRecord) -> CaseView | None:
    """The case as `viewer` may see it; None when it may see no report of it."""
    reports = [r for r in case.reports if viewer in r.audience]
    if not reports:
        return None
    reporters: list[str] = []
    for r in reports:
        if r.sender not in reporters:
            reporters.append(r.sender)
    # The models are validated already; this runs for every recipient of every alert.
    return CaseView.model_construct(
        case_id=case.case_id,
        kind=case.kind,
        opened_at=min(r.at for r in reports),
        updated_at=max(r.at for r in reports),
        state=case.state,
        reporters=reporters,
        alert_ids=[r.alert_id for r in reports],
        related=_related(viewer, case),
    )


def _related(viewer: str, case: CaseRecord) -> list[str]:
    # The earliest links first: a case stored before the stream capped `related` may hold
    # thousands, and every event about it would carry them all.
    visible = [c for c, audience in case.related.items() if viewer in audience]
    return sorted(visible[:RELATED_MAX])


def receipts_for(viewer: str, state: AlertState) -> list[Receipt]:
    """A sender sees every recipient's receipt; a recipient only its own."""
    if viewer == state.alert.sender:
        return list(state.receipts)
    return [r for r in state.receipts if r.agency == viewer]


def outcomes_for(viewer: str, state: AlertState) -> list[Outcome]:
    """A sender sees every recipient's outcome reports; a recipient only its own."""
    if viewer == state.alert.sender:
        return list(state.outcomes)
    return [o for o in state.outcomes if o.agency == viewer]


def alert_view(viewer: str, state: AlertState) -> AlertView | None:
    """What `viewer` may read of an alert; None (answered as 404) when nothing."""
    if not may_see(viewer, state):
        return None
    return AlertView.model_construct(
        alert=state.alert,
        status=state.status,
        receipts=receipts_for(viewer, state),
        case=case_view(viewer, state.case) if state.case is not None else None,
        reason=state.reason if viewer == state.alert.sender else None,
        outcomes=outcomes_for(viewer, state),
        updated_at=state.updated_at,
    )


def event_name(viewer: str, case: CaseRecord, alert_id: str, msg_type: MsgType) -> EventName:
    """What a recipient is told of a report, judged by the reports before it that it can see.

    Deterministic from the stored case, so a record reprocessed after a crash is announced
    with the same name (and so the same event id) as the first time.
    """
    if msg_type == "cancel":
        return "cancelled"
    if msg_type == "update":
        return "updated"
    index = next((i for i, r in enumerate(case.reports) if r.alert_id == alert_id), None)
    if index is None:
        return "new"
    before = [r for r in case.reports[:index] if viewer in r.audience]
    if not before:
        return "new"  # whoever meets the case for the first time gets it as new
    if case.reports[index].sender not in {r.sender for r in before}:
        return "corroborated"
    return "updated"


def console_event(
    viewer: str,
    event: EventName,
    state: AlertState,
    at: datetime,
    *,
    by: str | None = None,
    reason: str | None = None,
    salt: str = "",
    outcome: Outcome | None = None,
) -> ConsoleEvent | None:
    """One console notification for `viewer`, or None if it may not see the alert (or the
    outcome report it is about)."""
    view = alert_view(viewer, state)
    if view is None:
        return None
    if outcome is not None and outcome not in view.outcomes:
        return None
    alert = state.alert
    return ConsoleEvent.model_construct(
        type="alert",
        cursor=None,
        event=event,
        event_id=event_id_for(alert.alert_id, viewer, event, by or "", salt),
        alert_id=alert.alert_id,
        case_id=alert.case_id,
        at=at,
        alert=alert,
        case=view.case,
        receipts=view.receipts,
        by=by,
        reason=reason if viewer == alert.sender else None,
        outcomes=view.outcomes,
        outcome=outcome,
    )


def lookup_match(
    viewer: str, case: CaseRecord, state_of: Callable[[str], AlertState | None]
) -> LookupMatch | None:
    """A case found in the registry as `viewer` may see it; None when it may see no report.

    `state_of`: the stored state of an alert (None if unknown here): an alert is listed only
    when its own view is visible to `viewer`, so a report routed to it that it holds no
    receipt of yet is counted and not shown.
    """
    view = case_view(viewer, case)
    if view is None:
        return None
    alerts = []
    for alert_id in view.alert_ids:
        state = state_of(alert_id)
        if state is None or not may_see(viewer, state):
            continue
        body = state.alert.body
        alerts.append(
            LookupAlert(
                alert_id=alert_id,
                sender=state.alert.sender,
                title=body.title,
                received_at=state.alert.received_at,
                tlp=body.tlp or (DEFAULT_TLP if body.msg_type == "alert" else None),
                scam_type=getattr(body.subject, "scam_type", None),
            )
        )
    return LookupMatch(
        case_id=view.case_id,
        kind=view.kind,
        state=view.state,
        reporters=view.reporters,
        reports=len(view.alert_ids),
        first_reported_at=view.opened_at,
        last_reported_at=view.updated_at,
        alerts=alerts,
    )


def number_change(viewer: str, state: AlertState) -> NumberChange | None:
    """A scam-number alert's entry in `viewer`'s feed; None if it may not see it, or if the
    alert names no number (rejected before the stream normalized it)."""
    view = alert_view(viewer, state)
    if view is None:
        return None
    alert = view.alert
    phones = alert.enrichment.phones if alert.enrichment is not None else []
    if alert.body.kind != "scam_number" or not phones:
        return None
    return NumberChange(
        number=phones[0].e164,
        alert_id=alert.alert_id,
        sender=alert.sender,
        active=alert.body.msg_type == "alert" and view.status not in ("cancelled", "rejected"),
        status=view.status,
        scam_type=getattr(alert.body.subject, "scam_type", None),
        received_at=alert.received_at,
        updated_at=view.updated_at,
    )
