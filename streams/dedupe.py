"""Retry detection: same sender + source_ref is the same alert_id; same content is a retry."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from hotline.codec import loads
from hotline.models import AlertRecord, AlertState


class Seen(Enum):
    NEW = "new"
    RETRY = "retry"  # same content again: drop silently (counted)
    CONFLICT = "conflict"  # same source_ref, other content: refuse


def check(record: AlertRecord, alerts: Mapping[str, str]) -> tuple[Seen, AlertState | None]:
    raw = alerts.get(record.alert_id)
    if raw is None:
        return Seen.NEW, None
    state = loads(AlertState, raw)
    if state.alert.content_hash == record.content_hash:
        return Seen.RETRY, state
    return Seen.CONFLICT, state
