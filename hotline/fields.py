"""The field types of the hotline's models and the admission rules behind them.

The vocabularies (kinds, severities, lanes ...), the text, code and date types a partner's
alert is made of, and `Strict`, the base of every model: unknown fields refused, strict types.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError

Kind = Literal["wanted_person", "fraud_pattern", "scam_number"]
MsgType = Literal["alert", "update", "cancel"]
Severity = Literal["extreme", "severe", "moderate", "minor"]
Urgency = Literal["immediate", "expected", "future"]
Tlp = Literal["red", "amber", "green", "clear"]
Lane = Literal["urgent", "bulk"]
EventName = Literal[
    "new",
    "updated",
    "cancelled",
    "corroborated",
    "escalated",  # to recipients
    "delivered",
    "acknowledged",
    "rejected",  # status, to the sender (and acks to the acker)
    "outcome",  # a recipient's outcome report, to the sender and the reporter
]

KINDS: tuple[Kind, ...] = ("wanted_person", "fraud_pattern", "scam_number")

# What came of an alert, as a recipient reports it back to the sender.
OutcomeKind = Literal["located", "detained", "not_found", "number_blocked", "false_match", "other"]
OUTCOME_KINDS: tuple[OutcomeKind, ...] = (
    "located",
    "detained",
    "not_found",
    "number_blocked",
    "false_match",
    "other",
)

# --- admission rules ----------------------------------------------------------------------------
#
# Partner text is shown to duty officers of other agencies, so it must look like what it says.
# These rules apply when a partner's input is admitted (parse_alert puts the admission time in
# the validation context). A record read back from Kafka is validated without it: what was
# accepted stays readable, though "now" has moved on (an alert expires) or a rule was tightened.
ADMITTED_AT = "admitted_at"

# Unicode Cc is exactly U+0000-U+001F and U+007F-U+009F (NUL, escapes, CSI ...). Long texts
# keep their line breaks and tabs; a carriage return is refused there too (lines end with \n).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Embeddings, overrides and isolates reorder what the officer sees ("exe.fdp" as "pdf.exe").
# The marks U+200E/U+200F stay allowed: right-to-left scripts need them, and they reorder nothing
# beyond the neutral characters next to them.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def admitted_at(info: ValidationInfo) -> datetime | None:
    """The time partner input is being admitted at; None when a stored record is read back."""
    context = info.context
    when = context.get(ADMITTED_AT) if isinstance(context, dict) else None
    return when if isinstance(when, datetime) else None


def _visible(value: str) -> bool:
    # Short-circuits on the first visible character, so ordinary text costs one step.
    return any(not c.isspace() and unicodedata.category(c) != "Cf" for c in value)


def _plain_text(controls: re.Pattern[str]) -> AfterValidator:
    def check(value: str, info: ValidationInfo) -> str:
        if admitted_at(info) is None:
            return value
        if m := controls.search(value):
            raise PydanticCustomError(
                "control_character",
                "contains the control character {char}",
                {"char": f"U+{ord(m.group()):04X}"},
            )
        if m := _BIDI.search(value):
            raise PydanticCustomError(
                "bidi_control",
                "contains the bidirectional control {char}, which reorders the text shown",
                {"char": f"U+{ord(m.group()):04X}"},
            )
        if value and not _visible(value):
            raise PydanticCustomError(
                "invisible_text", "has no visible characters (only spaces or zero-width ones)"
            )
        return value

    return AfterValidator(check)


_SHORT = _plain_text(_CONTROL)
_LONG = _plain_text(_CONTROL_BUT_LINES)

Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), _SHORT
]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000), _LONG]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_000), _LONG]
Ref = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^\S+$"),
    _SHORT,
]
Code = Annotated[  # document types and numbers, phone numbers
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), _SHORT
]
AgencyId = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}-[a-z0-9-]{1,40}$")]
Country = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z]{2}$")
]
Currency = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z]{3}$")
]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


def _iso(parse: Any, pattern: str, what: str) -> Any:
    matcher = re.compile(pattern)

    def check(value: Any) -> Any:
        # pydantic would also read numbers (even "0") as unix times: a partner's date is ISO
        # text, parsed here (strict mode then sees a date object).
        if not isinstance(value, str):
            return value
        if not matcher.match(value):
            raise ValueError(f"{what} is written as ISO 8601 text")
        return parse(value)

    return BeforeValidator(check)


IsoDate = Annotated[date, _iso(date.fromisoformat, r"^\d{4}-\d{2}-\d{2}$", "a date (YYYY-MM-DD)")]
IsoDateTime = Annotated[
    AwareDatetime,
    _iso(datetime.fromisoformat, r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}", "a time with its zone"),
]

# A partner's clock and zone may run up to a day ahead of ours: "today" there is tomorrow here.
CLOCK_SLACK = timedelta(days=1)
MAX_EXPIRY = timedelta(days=5 * 365 + 2)  # about five years, leap days included


def _date_range(earliest: date, latest: Callable[[datetime], date]) -> AfterValidator:
    def check(value: date, info: ValidationInfo) -> date:
        now = admitted_at(info)
        if now is None:
            return value
        if value < earliest:
            raise PydanticCustomError(
                "date_too_early", "must not be before {limit}", {"limit": earliest.isoformat()}
            )
        if value > latest(now):
            raise PydanticCustomError("date_in_future", "must not be in the future")
        return value

    return AfterValidator(check)


def _not_future(now: datetime) -> date:
    return (now + CLOCK_SLACK).date()


def _sighting_time(value: datetime, info: ValidationInfo) -> datetime:
    now = admitted_at(info)
    if now is not None and value > now + CLOCK_SLACK:
        raise PydanticCustomError("date_in_future", "must not be in the future")
    return value


def _expiry(value: datetime, info: ValidationInfo) -> datetime:
    now = admitted_at(info)
    if now is None:
        return value
    if value <= now:
        raise PydanticCustomError("expired", "must be in the future: the alert would be expired")
    if value > now + MAX_EXPIRY:
        raise PydanticCustomError("date_too_late", "must be within about five years from now")
    return value


BirthDate = Annotated[IsoDate, _date_range(date(1900, 1, 1), _not_future)]
SeenDate = Annotated[IsoDate, _date_range(date(1990, 1, 1), _not_future)]  # mobile-phone era
SightingTime = Annotated[IsoDateTime, AfterValidator(_sighting_time)]
Expiry = Annotated[IsoDateTime, AfterValidator(_expiry)]


class Strict(BaseModel):
    # Unknown fields are refused: a misspelt field must not be silently dropped. Strict types
    # (validated in JSON mode, see parse_alert): "5" is not a number, 0 is not a date.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
