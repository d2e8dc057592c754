"""What the alert routes answer: one alert accepted, a batch answered item by item."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from .errors import FieldError


class Accepted(BaseModel):
    alert_id: str
    status: str = "accepted"
    lane: Literal["urgent", "bulk"] = "urgent"
    case_id: str | None = None
    duplicate: bool = False


class BatchItem(BaseModel):
    index: int
    status: int
    alert_id: str | None = None
    duplicate: bool = False
    error: str | None = None
    detail: str | None = None
    errors: list[FieldError] | None = None


class BatchResult(BaseModel):
    accepted: int
    rejected: int
    # The list the bulk items were filed under: their recipients see it as one digest.
    import_id: str
    items: list[BatchItem]


def refused(
    i: int,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None,
    alert_id: str | None = None,
) -> BatchItem:
    """A batch item answered with an error, as a single post would be with that status."""
    return BatchItem(
        index=i, status=status, alert_id=alert_id, error=code, detail=detail, errors=errors
    )
