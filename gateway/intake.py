"""Turning a partner's JSON into an `AlertRecord`, and a batch item into its outcome: pure, so
the rules are testable alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import orjson
from pydantic import ValidationError

from hotline.alert_in import error_list, parse_alert
from hotline.codec import dumps
from hotline.enrich import enrich
from hotline.errors import HotlineError, InvalidAlert, PayloadTooLarge
from hotline.fields import Kind, Lane
from hotline.models import AlertRecord
from hotline.route import refused_recipients
from hotline.settings import Settings
from hotline.topics import key_hash

# No alert field nests more than a few levels (subject.last_seen.at). Checked before validation
# because parse_alert re-encodes with orjson, whose limit (254) is below the parser's (1024):
# deeper input raised TypeError there, a 500 for one POST and for a whole batch.
MAX_DEPTH = 32


class Checked(NamedTuple):
    """An accepted item: what the loop's checks need, and the record as Kafka takes it."""

    alert_id: str
    content_hash: str
    source_ref: str
    references: str | None
    kind: Kind
    lane: Lane
    value: bytes  # the AlertRecord, serialized: the loop never encodes it again
    # Kafka's partitioner hash of the alert id, worked out here (an intake worker, for a batch):
    # 5,000 of them on the loop that answers urgent posts held it up for ~100 ms a batch.
    key_hash: int


class Refused(NamedTuple):
    """A refused item, as its entry in the batch answer shows it."""

    status: int
    code: str
    detail: str
    errors: list[dict[str, Any]] | None = None

    @classmethod
    def of(cls, exc: HotlineError) -> Refused:
        return cls(exc.status_code, exc.code, exc.detail, exc.extra.get("errors"))


Outcome = Checked | Refused


def json_body(raw: bytes) -> Any:
    """A body as JSON, or the 422 that names the body."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidAlert(
            f"the body is not valid JSON: {exc}",
            errors=[{"field": "body", "message": str(exc), "type": "json_invalid"}],
        ) from None


def accept(
    data: Any,
    sender: str,
    settings: Settings,
    now: datetime,
    lane: Lane,
    import_id: str | None = None,
) -> AlertRecord:
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
    record = AlertRecord.received(sender, body, now, lane=lane, import_id=import_id)
    if body.kind != "scam_number":  # a scam number's fields are all short: never too large
        _check_deliverable_size(record.model_copy(update={"enrichment": enrichment}), settings)
    return record


def checked(record: AlertRecord) -> Checked:
    body = record.body
    return Checked(
        record.alert_id,
        record.content_hash,
        body.source_ref,
        body.references,
        body.kind,
        record.lane,
        dumps(record),
        key_hash(record.alert_id.encode()),
    )


def check_item(
    item: Any, sender: str, settings: Settings, now: datetime, import_id: str | None = None
) -> Outcome:
    """One batch item: the lane its urgency asks for, then what a single post is checked for."""
    urgent = isinstance(item, dict) and item.get("urgency") == "immediate"
    lane: Lane = "urgent" if urgent else "bulk"
    try:
        record = accept(item, sender, settings, now, lane, import_id)
    except (InvalidAlert, PayloadTooLarge) as exc:
        return Refused.of(exc)
    return checked(record)


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
