"""Turning a partner's JSON into an `AlertRecord`: pure, so the rules are testable alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from hotline.codec import dumps
from hotline.errors import InvalidAlert, PayloadTooLarge
from hotline.models import (
    AlertRecord,
    Lane,
    alert_id_for,
    content_hash,
    error_list,
    parse_alert,
)
from hotline.settings import Settings
from streams.enrich import enrich
from streams.route import refused_recipients

# No alert field nests more than a few levels (subject.last_seen.at). Checked before validation
# because parse_alert re-encodes with orjson, whose limit (254) is below the parser's (1024):
# deeper input raised TypeError there, a 500 for one POST and for a whole batch.
MAX_DEPTH = 32


def accept(data: Any, sender: str, settings: Settings, now: datetime, lane: Lane) -> AlertRecord:
    """Raises InvalidAlert with one entry per bad field, or PayloadTooLarge for an alert the
    stream could not deliver; never anything else for bad input."""
    if not isinstance(data, dict):
        raise InvalidAlert(
            "the body must be a JSON object",
            errors=[{"field": "body", "message": "expected a JSON object", "type": "object_type"}],
        )
    if "sender" in data or "_from" in data:
        raise InvalidAlert(
            "the sending agency comes from the API key, not the body",
            errors=[
                {
                    "field": "sender" if "sender" in data else "_from",
                    "message": "not allowed: the sender is the key's agency",
                    "type": "extra_forbidden",
                }
            ],
        )
    if _deeper_than(data, MAX_DEPTH):
        raise InvalidAlert(
            f"the body nests more than {MAX_DEPTH} levels deep",
            errors=[
                {
                    "field": "body",
                    "message": f"nested more than {MAX_DEPTH} levels deep",
                    "type": "too_deep",
                }
            ],
        )
    try:
        body = parse_alert(data, now)
    except ValidationError as exc:
        raise InvalidAlert("the alert is not valid", errors=error_list(exc.errors())) from None
    errors = refused_recipients(settings, sender, body.kind, body.recipients or [])
    if errors:
        raise InvalidAlert("the alert names recipients it cannot be sent to", errors=errors)
    # Refuses what the stream could not normalize.
    enrichment = enrich(body, settings.agency(sender).country)
    record = AlertRecord(
        alert_id=alert_id_for(sender, body.source_ref),
        sender=sender,
        received_at=now,
        content_hash=content_hash(body),
        lane=lane,
        body=body,
    )
    if body.kind != "scam_number":  # a scam number's fields are all short: never too large
        _check_deliverable_size(record.model_copy(update={"enrichment": enrichment}), settings)
    return record


def _check_deliverable_size(enriched: AlertRecord, settings: Settings) -> None:
    """Refuses now what the stream could not deliver: enrichment roughly doubles an alert, and
    every event carries it with its case within one Kafka record."""
    size = len(dumps(enriched))
    if size > settings.intake_record_bytes:
        raise PayloadTooLarge(
            f"the alert takes {size} bytes once normalized and enriched; at most "
            f"{settings.intake_record_bytes} can be delivered: split it into smaller alerts"
        )


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether objects/arrays nest more than `limit` deep; iterative, so no recursion limit."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False
