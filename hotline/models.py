"""The one family of pydantic models: HTTP validation, Kafka records and the console's JSON.

AlertIn        what a partner posts (one of three kinds, discriminated by `kind`), with its
               field types: hotline.alert_in and hotline.fields
AlertRecord    an accepted alert: AlertIn plus what the hotline assigned; the inbound
               Kafka record, and (enriched, with its case) what a console receives
CaseRecord     a case as the stream stores it: every report with its audience (internal)
CaseView       a case as one viewer may see it (built by hotline.need_to_know only)
AlertState     the alert, its delivery state and full case: compacted topic (internal)
AlertView      what one viewer may see of an AlertState: GET /v1/alerts/{id}
ConsoleEvent   one message on an agency's delivery topic = one console notification
AckCommand     a duty officer's acknowledgement, console -> Kafka -> worker
OutcomeIn      what a recipient reports came of an alert: POST /v1/alerts/{id}/outcomes
Outcome        that report as the hotline keeps it (in AlertState) and shows it
OutcomeCommand the report, gateway -> Kafka (the acks topic) -> worker

Internal models never leave the system: every outward view goes through
`hotline.need_to_know`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    field_validator,
    model_validator,
)

from hotline.alert_in import (
    AlertBody,
    FraudPatternAlert,
    ScamNumberAlert,
    WantedPersonAlert,
    alert_id_for,
    content_hash,
)
from hotline.fields import EventName, Kind, Lane, Note, OutcomeKind, Strict

# --- what the hotline adds --------------------------------------------------------------------


class PhoneView(Strict):
    raw: str
    e164: str
    country: str | None = None
    line_type: str = "unknown"
    carrier: str | None = None


class NameView(Strict):
    original: str
    folded: str


class Enrichment(Strict):
    phones: list[PhoneView] = Field(default_factory=list)
    names: list[NameView] = Field(default_factory=list)
    documents: list[str] = Field(default_factory=list)  # document keys, type:COUNTRY:NUMBER
    indicators: dict[str, list[str]] = Field(default_factory=dict)  # normalized, by type
    fingerprints: list[str] = Field(default_factory=list)


# Inbound Kafka record (case_id and enrichment empty) and, once processed, the console's alert.
class AlertRecord(Strict):
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

    @classmethod
    def received(
        cls,
        sender: str,
        body: AlertBody,
        at: datetime,
        *,
        lane: Lane = "urgent",
        import_id: str | None = None,
    ) -> AlertRecord:
        """The record of a partner's alert as the gateway writes it: its id from the sender
        and source_ref (a retry is the same alert), its hash from the body (a changed body is
        not a retry)."""
        return cls(
            alert_id=alert_id_for(sender, body.source_ref),
            sender=sender,
            received_at=at,
            content_hash=content_hash(body),
            lane=lane,
            body=body,
            import_id=import_id,
        )


class Report(Strict):
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
class CaseRecord(Strict):
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
class CaseView(Strict):
    case_id: str
    kind: Kind
    opened_at: AwareDatetime
    updated_at: AwareDatetime
    state: Literal["open", "cancelled"] = "open"
    reporters: list[str]  # agencies that reported this subject, first reporter first
    alert_ids: list[str]
    related: list[str] = Field(default_factory=list)  # case ids sharing an indicator


class OutcomeIn(Strict):
    """What came of an alert, as the recipient that received it reports it to the sender."""

    kind: OutcomeKind
    note: Note | None = Field(
        default=None, description="in the reporter's own language; at most 2,000 characters"
    )


class Outcome(Strict):
    outcome_id: str  # from the alert, the reporter, kind and note: a retry is the same report
    agency: str  # the recipient that reported it
    kind: OutcomeKind
    note: str | None = None
    at: AwareDatetime

    @classmethod
    def reported(cls, alert_id: str, agency: str, given: OutcomeIn, at: datetime) -> Outcome:
        parts = (alert_id, agency, given.kind, given.note or "")
        digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
        return cls(
            outcome_id=f"oc-{digest}", agency=agency, kind=given.kind, note=given.note, at=at
        )


class Receipt(Strict):
    agency: str
    delivered_at: AwareDatetime
    acknowledged_at: AwareDatetime | None = None
    escalated_at: AwareDatetime | None = None


# One message on an agency's delivery topic; the gateway adds `cursor` (the Kafka offset).
class ConsoleEvent(Strict):
    type: Literal["alert"] = "alert"
    event: EventName
    event_id: str
    alert_id: str
    case_id: str | None = None
    at: AwareDatetime
    alert: AlertRecord
    case: CaseView | None = None
    receipts: list[Receipt] = Field(default_factory=list)  # status events for the sender
    by: str | None = None  # the acknowledging (or reporting) agency
    reason: str | None = None  # for 'rejected'
    outcomes: list[Outcome] = Field(default_factory=list)  # every one the viewer may see
    outcome: Outcome | None = None  # for 'outcome': the report this event is about
    cursor: int | None = None


# An import's progress as one recipient sees it, from one partition of the bulk lane: the
# console adds the partitions up. Cumulative, so a record re-sent after a crash changes
# nothing; `event_id` names the count it carries, so the gateway shows each count once.
class DigestEvent(Strict):
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
class AlertState(Strict):
    alert: AlertRecord
    status: AlertStatus
    receipts: list[Receipt] = Field(default_factory=list)
    case: CaseRecord | None = None
    reason: str | None = None
    outcomes: list[Outcome] = Field(default_factory=list)  # in the order they were reported
    updated_at: AwareDatetime


# GET /v1/alerts/{alert_id}: what the asking agency may see of an AlertState.
class AlertView(Strict):
    alert: AlertRecord
    status: AlertStatus
    receipts: list[Receipt] = Field(default_factory=list)
    case: CaseView | None = None
    reason: str | None = None
    outcomes: list[Outcome] = Field(default_factory=list)
    updated_at: AwareDatetime


# Console -> gateway -> acks topic -> worker.
class AckCommand(Strict):
    type: Literal["ack"] = "ack"  # absent in records written before outcomes
    alert_id: str
    case_id: str | None = None
    agency: str
    at: AwareDatetime


# Partner or console -> gateway -> acks topic (the lane that holds the alert) -> worker.
class OutcomeCommand(Strict):
    type: Literal["outcome"] = "outcome"
    alert_id: str
    outcome: Outcome


def _command_type(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("type", "ack"))
    return str(getattr(value, "type", "ack"))


Command = Annotated[
    Annotated[AckCommand, Tag("ack")] | Annotated[OutcomeCommand, Tag("outcome")],
    Discriminator(_command_type),
]
_command: Any = Command  # an Annotated union: a type to pydantic, a value to mypy
command_adapter: TypeAdapter[AckCommand | OutcomeCommand] = TypeAdapter(_command)


def event_id_for(*parts: str) -> str:
    return "ev-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
