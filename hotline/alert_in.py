"""What a partner posts: the three kinds of alert, and how one is admitted.

AlertIn is validated for POST /v1/alerts and each item of POST /v1/alerts/batch
(`parse_alert`, as of the admission time); its errors reach the partner as `error_list`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from hotline.fields import (
    ADMITTED_AT,
    KINDS,
    AgencyId,
    BirthDate,
    Code,
    Country,
    Currency,
    Expiry,
    Language,
    LongText,
    MsgType,
    Ref,
    SeenDate,
    Severity,
    SightingTime,
    Strict,
    Text,
    Tlp,
    Urgency,
    admitted_at,
)

# --- subjects -------------------------------------------------------------------------------


class Document(Strict):
    type: Code
    number: Code
    country: Country


class Sighting(Strict):
    place: Text | None = None
    at: SightingTime | None = None


class WantedPerson(Strict):
    full_name: Text
    aliases: list[Text] = Field(default_factory=list, max_length=50)
    date_of_birth: BirthDate | None = None
    nationality: Country | None = None
    documents: list[Document] = Field(default_factory=list, max_length=20)
    offences: list[Text] = Field(default_factory=list, max_length=50)
    warrant_ref: Text | None = None
    interpol_notice: Text | None = None
    last_seen: Sighting | None = None


class Indicators(Strict):
    phone_numbers: list[Text] = Field(default_factory=list, max_length=1000)
    urls: list[Text] = Field(default_factory=list, max_length=1000)
    app_names: list[Text] = Field(default_factory=list, max_length=1000)
    bank_accounts: list[Text] = Field(default_factory=list, max_length=1000)
    crypto_wallets: list[Text] = Field(default_factory=list, max_length=1000)

    def is_empty(self) -> bool:
        return not any(
            (self.phone_numbers, self.urls, self.app_names, self.bank_accounts, self.crypto_wallets)
        )


class Losses(Strict):
    amount: float = Field(ge=0)
    currency: Currency


class FraudPattern(Strict):
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


class ScamNumber(Strict):
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


class _Envelope(Strict):
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


def error_list(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """pydantic errors as `{"field": "subject.full_name", "message": ...}`, kind tag dropped."""
    out = []
    for e in errors:
        loc = [str(p) for p in e["loc"]]
        if loc and loc[0] in KINDS:
            loc = loc[1:]
        out.append({"field": ".".join(loc) or "body", "message": e["msg"], "type": e["type"]})
    return out
