"""POST /v1/alerts/{alert_id}/outcomes: a recipient reports what came of an alert it received.

The report goes to the lane that holds the alert, on its acks topic and keyed by the alert's
group like an acknowledgement, so the worker that holds the alert's state records it
(streams/outcomes.py). 202 only once Kafka has stored it; the sender is told live and finds it
in GET /v1/alerts/{alert_id}.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError

from hotline.alert_in import error_list
from hotline.codec import dumps, loads
from hotline.errors import Forbidden, InvalidOutcome, NotFound
from hotline.fields import ADMITTED_AT, OutcomeKind
from hotline.models import AlertState, Outcome, OutcomeCommand, OutcomeIn
from hotline.topics import topics

from . import contract, errors
from .body import read_body
from .deps import Reader, ServicesDep

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])

# A report made right after the alert arrived on the console may come before this gateway has
# read the alert's state: wait for it as long as an acknowledgement does.
STATE_WAIT_S = 2.0
BODY_BYTES = 16 * 1024


class OutcomeAccepted(BaseModel):
    alert_id: str
    outcome_id: str
    kind: OutcomeKind
    status: str = "accepted"


@router.post(
    "/{alert_id}/outcomes",
    status_code=202,
    response_model=OutcomeAccepted,
    operation_id="postOutcome",
    openapi_extra=contract.OUTCOME_BODY,
    responses=errors.responses(
        {
            401: "No or unknown partner key or officer token",
            403: "The caller sent this alert: only its recipients report outcomes",
            404: "Unknown, or not sent to or by the caller (indistinguishable on purpose)",
            413: "Body over 16 KiB",
            422: "Not a known `kind`, or a `note` that is not plain text (`errors` names it)",
            503: None,
        }
    ),
)
async def post_outcome(
    alert_id: str, request: Request, agency: Reader, services: ServicesDep
) -> OutcomeAccepted:
    """Report an outcome on an alert delivered to the caller; 202 once Kafka has stored it.
    The same kind and note again is the same report (a retry), answered with the same id."""
    now = datetime.now(UTC)
    given = _outcome_in(await read_body(request, BODY_BYTES))
    raw = await services.known.wait_for(alert_id, STATE_WAIT_S)
    state = loads(AlertState, raw) if raw is not None else None
    if state is None or not (
        state.alert.sender == agency or any(r.agency == agency for r in state.receipts)
    ):
        raise NotFound(f"no alert {alert_id!r} visible to {agency}")
    if not any(r.agency == agency for r in state.receipts):
        raise Forbidden(f"{agency} sent {alert_id!r}: only its recipients report outcomes")
    outcome = Outcome.reported(state.alert.alert_id, agency, given, now)
    cmd = OutcomeCommand(alert_id=state.alert.alert_id, outcome=outcome)
    lane = services.known.lane_of(cmd.alert_id) or "urgent"
    key = services.known.group_of(cmd.alert_id)
    # KafkaUnavailable becomes a 503 with Retry-After (gateway/errors.py).
    await services.publisher.send(topics(services.settings).acks_of(lane), key.encode(), dumps(cmd))
    return OutcomeAccepted(alert_id=cmd.alert_id, outcome_id=outcome.outcome_id, kind=given.kind)


def _outcome_in(raw: bytes) -> OutcomeIn:
    try:
        return OutcomeIn.model_validate_json(raw, context={ADMITTED_AT: datetime.now(UTC)})
    except ValidationError as exc:
        found = error_list(exc.errors())
        first = found[0]
        raise InvalidOutcome(f"{first['field']}: {first['message']}", errors=found) from None
