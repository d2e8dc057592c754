"""The one family of pydantic models: HTTP validation, Kafka records and the console's JSON.

AlertIn        what a partner posts (one of three kinds, discriminated by `kind`)
AlertRecord    an accepted alert: AlertIn plus what the hotline assigned; the inbound
               Kafka record, and (enriched, with its case) what a console receives
CaseRecord     a case as the stream stores it: every report with its audience (internal)
CaseView       a case as one viewer may see it (built by hotline.need_to_know only)
AlertState     the alert, its delivery state and full case: compacted topic (internal)
AlertView      what one viewer may see of an AlertState: GET /v1/alerts/{id}
ConsoleEvent   one message on an agency's delivery topic = one console notification
AckCommand     a duty officer's acknowledgement, console -> Kafka -> worker

Internal models never leave the system: every outward view goes through
`hotline.need_to_know`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
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
]

KINDS: tuple[Kind, ...] = ("wanted_person", "fraud_pattern", "scam_number")

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


class _Strict(BaseModel):
    # Unknown fields are refused: a misspelt field must not be silently dropped. Strict types
    # (validated in JSON mode, see parse_alert): "5" is not a number, 0 is not a date.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# --- subjects -------------------------------------------------------------------------------


class Document(_Strict):
    type: Code
    number: Code
    country: Country


class Sighting(_Strict):
    place: Text | None = None
    at: SightingTime | None = None


class WantedPerson(_Strict):
    full_name: Text
    aliases: list[Text] = Field(default_factory=list, max_length=50)
    date_of_birth: BirthDate | None = None
    nationality: Country | None = None
    documents: list[Document] = Field(default_factory=list, max_length=20)
    offences: list[Text] = Field(default_factory=list, max_length=50)
    warrant_ref: Text | None = None
    interpol_notice: Text | None = None
    last_seen: Sighting | None = None


class Indicators(_Strict):
    phone_numbers: list[Text] = Field(default_factory=list, max_length=1000)
    urls: list[Text] = Field(default_factory=list, max_length=1000)
    app_names: list[Text] = Field(default_factory=list, max_length=1000)
    bank_accounts: list[Text] = Field(default_factory=list, max_length=1000)
    crypto_wallets: list[Text] = Field(default_factory=list, max_length=1000)

    def is_empty(self) -> bool:
        return not any(
            (self.phone_numbers, self.urls, self.app_names, self.bank_accounts, self.crypto_wallets)
        )


class Losses(_Strict):
    amount: float = Field(ge=0)
    currency: Currency


class FraudPattern(_Strict):
    scheme: Literal[
        "investment", "impersonation", "loan_app", "romance", "job", "phishing", "other"
    ]
    modus_operandi: LongText | None = None
    indicators: Indicators
    losses: Losses | None = None
    victims: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _has_indicators(self) -> FraudPattern:
        if self.indicators.is_empty():
            raise ValueError("a fraud pattern needs at least one indicator")
        return self


class ScamNumber(_Strict):
    number: Code
    scam_type: Text = "other"
    first_seen: SeenDate | None = None
    last_seen: SeenDate | None = None
    reports: int | None = Field(default=None, ge=0)

    @field_validator("last_seen")
    @classmethod
    def _seen_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        first = info.data.get("first_seen")
        if admitted_at(info) and value is not None and first is not None and value < first:
            raise PydanticCustomError("date_order", "must not be before first_seen")
        return value


# --- what a partner posts ---------------------------------------------------------------------


class _Envelope(_Strict):
    source_ref: Ref
    msg_type: MsgType = "alert"
    references: Ref | None = None
    severity: Severity
    urgency: Urgency
    # None on a follow-up: keep the referenced alert's handling (see hotline.handling);
    # an alert without them is amber to every partner.
    tlp: Tlp | None = None
    recipients: list[AgencyId] | None = Field(default=None, max_length=50)
    title: Text
    description: LongText | None = None
    language: Language = "en"
    expires_at: Expiry | None = None

    @model_validator(mode="after")
    def _envelope_rules(self) -> _Envelope:
        if self.msg_type == "alert" and self.references is not None:
            raise ValueError("'references' is only for msg_type 'update' or 'cancel'")
        if self.msg_type != "alert" and self.references is None:
            raise ValueError(
                f"msg_type '{self.msg_type}' must name the earlier source_ref in 'references'"
            )
        if self.references is not None and self.references == self.source_ref:
            raise ValueError("an alert cannot reference itself")
        if self.msg_type == "alert" and self.tlp == "red" and not self.recipients:
            raise ValueError("TLP:RED needs explicit 'recipients'")
        if self.recipients is not None and len(set(self.recipients)) != len(self.recipients):
            raise ValueError("'recipients' lists an agency twice")
        return self


class WantedPersonAlert(_Envelope):
    kind: Literal["wanted_person"]
    subject: WantedPerson


class FraudPatternAlert(_Envelope):
    kind: Literal["fraud_pattern"]
    subject: FraudPattern


class ScamNumberAlert(_Envelope):
    kind: Literal["scam_number"]
    subject: ScamNumber


# Used for POST /v1/alerts and each item of POST /v1/alerts/batch.
AlertIn = Annotated[
    WantedPersonAlert | FraudPatternAlert | ScamNumberAlert, Field(discriminator="kind")
]
AlertBody = WantedPersonAlert | FraudPatternAlert | ScamNumberAlert
_alert_in: Any = AlertIn  # an Annotated union: a type to pydantic, a value to mypy
alert_in_adapter: TypeAdapter[AlertBody] = TypeAdapter(_alert_in)


def parse_alert(
    data: Any, now: datetime | None = None
) -> WantedPersonAlert | FraudPatternAlert | ScamNumberAlert:
    """Admits a partner's decoded JSON as of `now` (default: the clock), in pydantic's strict
    JSON mode (ISO strings are dates there), with the admission rules for text and dates."""
    context = {ADMITTED_AT: now or datetime.now(UTC)}
    return alert_in_adapter.validate_json(orjson.dumps(data), context=context)


def alert_id_for(sender: str, source_ref: str) -> str:
    """Deterministic, so a retried POST gets the same id without any lookup."""
    h = hashlib.sha256(f"{sender}\x1f{source_ref}".encode()).hexdigest()
    return f"al-{h[:24]}"


def content_hash(alert: BaseModel) -> str:
    return hashlib.sha256(alert.model_dump_json().encode()).hexdigest()[:32]


# --- what the hotline adds --------------------------------------------------------------------


class PhoneView(_Strict):
    raw: str
    e164: str
    country: str | None = None
    line_type: str = "unknown"
    carrier: str | None = None


class NameView(_Strict):
    original: str
    folded: str


class Enrichment(_Strict):
    phones: list[PhoneView] = Field(default_factory=list)
    names: list[NameView] = Field(default_factory=list)
    documents: list[str] = Field(default_factory=list)  # document keys, type:COUNTRY:NUMBER
    indicators: dict[str, list[str]] = Field(default_factory=dict)  # normalized, by type
    fingerprints: list[str] = Field(default_factory=list)


# Inbound Kafka record (case_id and enrichment empty) and, once processed, the console's alert.
class AlertRecord(_Strict):
    alert_id: str
    sender: str
    received_at: AwareDatetime
    content_hash: str
    lane: Lane = "urgent"
    body: WantedPersonAlert | FraudPatternAlert | ScamNumberAlert = Field(discriminator="kind")
    case_id: str | None = None
    enrichment: Enrichment | None = None
    # The shared list a bulk alert came in with (POST /v1/alerts/batch?import_id=): its
    # recipients see the list as one digest, and only its hits as events (streams/digests.py).
    import_id: str | None = None


class Report(_Strict):
    """One alert in a case, with everyone who may see it (its sender first)."""

    alert_id: str
    sender: str
    audience: list[str]  # the sender, then the agencies it was routed to
    at: AwareDatetime


# At most this many related cases per case: every console event about the case carries its
# related ids, and a case linked to thousands (all sharing one common domain) made each event
# tens of kilobytes that told the officer nothing.
RELATED_MAX = 50


# Stored by the stream (cases table, alert-state topic); never sent out as it is.
class CaseRecord(_Strict):
    case_id: str
    kind: Kind
    opened_at: AwareDatetime
    updated_at: AwareDatetime
    state: Literal["open", "cancelled"] = "open"
    reports: list[Report] = Field(default_factory=list)
    # related case id -> who could see that case when the link was made. Audiences only
    # grow, so an old snapshot can hide a related case from a viewer but never show one.
    # At most RELATED_MAX entries (the stream stops linking a full case); older cases may
    # hold more, which views cut to RELATED_MAX.
    related: dict[str, list[str]] = Field(default_factory=dict)

    # Written by versions before need-to-know (ids and reporters without audiences); read
    # only, never written: such a case keeps matching and shows nobody what it cannot prove.
    alert_ids: list[str] = Field(default_factory=list, exclude=True)
    reporters: list[str] = Field(default_factory=list, exclude=True)

    @field_validator("related", mode="before")
    @classmethod
    def _related_without_audience(cls, value: Any) -> Any:
        return {} if isinstance(value, list) else value  # old: bare ids, audience unknown

    @model_validator(mode="after")
    def _reports_from_old_ids(self) -> CaseRecord:
        if self.alert_ids and not self.reports:
            old = [
                Report(alert_id=a, sender="", audience=[], at=self.updated_at)
                for a in self.alert_ids
            ]
            self.__dict__["reports"] = old
        return self

    def report(self, alert_id: str) -> Report | None:
        return next((r for r in self.reports if r.alert_id == alert_id), None)

    def audience(self) -> list[str]:
        out: list[str] = []
        for r in self.reports:
            out += [a for a in r.audience if a not in out]
        return out


# A case as one agency may see it: only the reports sent by or routed to it.
class CaseView(_Strict):
    case_id: str
    kind: Kind
    opened_at: AwareDatetime
    updated_at: AwareDatetime
    state: Literal["open", "cancelled"] = "open"
    reporters: list[str]  # agencies that reported this subject, first reporter first
    alert_ids: list[str]
    related: list[str] = Field(default_factory=list)  # case ids sharing an indicator


class Receipt(_Strict):
    agency: str
    delivered_at: AwareDatetime
    acknowledged_at: AwareDatetime | None = None
    escalated_at: AwareDatetime | None = None


# One message on an agency's delivery topic; the gateway adds `cursor` (the Kafka offset).
class ConsoleEvent(_Strict):
    type: Literal["alert"] = "alert"
    event: EventName
    event_id: str
    alert_id: str
    case_id: str | None = None
    at: AwareDatetime
    alert: AlertRecord
    case: CaseView | None = None
    receipts: list[Receipt] = Field(default_factory=list)  # status events for the sender
    by: str | None = None  # the acknowledging agency, for 'acknowledged'
    reason: str | None = None  # for 'rejected'
    cursor: int | None = None


# An import's progress as one recipient sees it, from one partition of the bulk lane: the
# console adds the partitions up. Cumulative, so a record re-sent after a crash changes
# nothing; `event_id` names the count it carries, so the gateway shows each count once.
class DigestEvent(_Strict):
    type: Literal["digest"] = "digest"
    event: Literal["digest"] = "digest"
    event_id: str
    import_id: str
    sender: str
    partition: int
    at: AwareDatetime
    first_at: AwareDatetime
    last_at: AwareDatetime
    numbers: int  # alerts of the import routed to this recipient, so far
    new: int  # nothing the recipient could see named it before
    known: int  # the same sender had shared it with the recipient before
    hits: int  # a case the recipient reported or another agency shared: delivered one by one
    done: bool  # nothing came in for DIGEST_IDLE_S; more may still come and reopen it
    cursor: int | None = None


AlertStatus = Literal["accepted", "delivered", "updated", "cancelled", "rejected"]


# Compacted topic keyed by alert_id (internal: every receipt, the whole case).
class AlertState(_Strict):
    alert: AlertRecord
    status: AlertStatus
    receipts: list[Receipt] = Field(default_factory=list)
    case: CaseRecord | None = None
    reason: str | None = None
    updated_at: AwareDatetime


# GET /v1/alerts/{alert_id}: what the asking agency may see of an AlertState.
class AlertView(_Strict):
    alert: AlertRecord
    status: AlertStatus
    receipts: list[Receipt] = Field(default_factory=list)
    case: CaseView | None = None
    reason: str | None = None
    updated_at: AwareDatetime


# Console -> gateway -> acks topic -> worker.
class AckCommand(_Strict):
    alert_id: str
    case_id: str | None = None
    agency: str
    at: AwareDatetime


def event_id_for(*parts: str) -> str:
    return "ev-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def error_list(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """pydantic errors as `{"field": "subject.full_name", "message": ...}`, kind tag dropped."""
    out = []
    for e in errors:
        loc = [str(p) for p in e["loc"]]
        if loc and loc[0] in KINDS:
            loc = loc[1:]
        out.append({"field": ".".join(loc) or "body", "message": e["msg"], "type": e["type"]})
    return out
