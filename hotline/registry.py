"""Lookups in the registry: what a caller asks, what the stream answers, what the caller gets.

The registry is the stream's case index (streams/cases.py), not a copy of it: a phone number,
an identity document, and a person (folded name + date of birth) each lead to the cases that
hold them, with every report. The gateway parses a query here (a number in any format, the
caller's country as the default region; a name in any script, folded as the stream folds
it), the urgent-lane worker holding the key's index partition reads the cases, and
hotline.need_to_know decides what of them the caller sees.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hotline import normalize as n
from hotline.errors import InvalidQuery
from hotline.fields import Kind, Tlp
from hotline.models import CaseRecord
from hotline.names import fold_name, name_key

# Cases one lookup answers with at most: a number or a document is held by one open case (and
# the closed ones before it); a common name born on a common day by a few.
MATCHES_MAX = 50


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NumberQuery(_Query):
    kind: Literal["number"] = "number"
    e164: str  # as the stream keys a scam number


class DocumentQuery(_Query):
    kind: Literal["document"] = "document"
    number: str  # normalized as the stream normalizes it: no spaces or dashes, upper case
    country: str | None = None  # ISO 3166-1 alpha-2 of the issuer; None: any
    type: str | None = None  # passport, national_id, …; None: any


class PersonQuery(_Query):
    kind: Literal["person"] = "person"
    name: str  # folded (Latin letters), as the consoles show it
    name_key: str  # what the stream matches names by (hotline.names.name_key)
    date_of_birth: date


LookupQuery = Annotated[NumberQuery | DocumentQuery | PersonQuery, Field(discriminator="kind")]


def parse(
    *,
    region: str,
    number: str | None = None,
    document: str | None = None,
    country: str | None = None,
    doc_type: str | None = None,
    name: str | None = None,
    date_of_birth: str | None = None,
) -> NumberQuery | DocumentQuery | PersonQuery:
    """The query as the stream keys it; InvalidQuery (422) naming the parameter otherwise.

    `region`: the caller's country, where a number without a country code is dialled.
    """
    given = [p for p, v in (("number", number), ("document", document), ("name", name)) if v]
    if len(given) != 1:
        raise _invalid(
            given[1] if given else "number",
            "give exactly one of number, document, or name (with date_of_birth)",
        )
    if number:
        try:
            info = n.normalize_phone(number, region, require_valid=False)
        except n.InvalidPhoneNumber as exc:
            raise _invalid("number", str(exc)) from None
        return NumberQuery(e164=info.e164)
    if document:
        try:
            doc = n.normalize_document_number(document)
        except n.InvalidIndicator as exc:
            raise _invalid("document", str(exc)) from None
        cc = (country or "").strip().upper() or None
        if cc is not None and not (len(cc) == 2 and cc.isascii() and cc.isalpha()):
            raise _invalid("country", f"{country!r} is not an ISO 3166-1 alpha-2 country code")
        kind = "_".join((doc_type or "").lower().split()) or None
        if kind is not None and ":" in kind:
            raise _invalid("type", f"{doc_type!r} is not a document type")
        return DocumentQuery(number=doc, country=cc, type=kind)
    assert name is not None
    key = name_key(name)
    if not key:
        raise _invalid("name", f"{name!r} has no letters to match by")
    if not date_of_birth:
        raise _invalid("date_of_birth", "a name is looked up with a date of birth (YYYY-MM-DD)")
    try:
        born = date.fromisoformat(date_of_birth)
    except ValueError:
        raise _invalid("date_of_birth", f"{date_of_birth!r} is not a date (YYYY-MM-DD)") from None
    return PersonQuery(name=fold_name(name), name_key=key, date_of_birth=born)


def _invalid(param: str, message: str) -> InvalidQuery:
    return InvalidQuery(
        f"{param}: {message}", errors=[{"field": param, "message": message, "type": "query"}]
    )


def index_key(query: NumberQuery | DocumentQuery | PersonQuery) -> str:
    """A key of the case index the answer lives with (so: which partition holds it)."""
    if isinstance(query, NumberQuery):
        return n.scam_number_fingerprint(query.e164)
    return "doc:"  # documents and persons live together (streams.cases.Homes)


# --- the stream's answer (urgent-lane worker -> gateway; internal) --------------------------


class RegistryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    query: LookupQuery


class RegistryAnswer(BaseModel):
    """Every case holding the key, whole: the gateway applies need-to-know to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cases: list[CaseRecord]


# The header a gateway shows a worker's registry page its internal token in (a name, not a secret).
TOKEN_HEADER = "X-Hotline-Registry-Token"  # noqa: S105


def internal_token(id_key: bytes) -> str:
    """What a gateway shows a worker to read the whole registry: derived from the deployment's
    id secret, which both hold, so nothing else has to be configured or can leak apart."""
    return hmac.new(id_key, b"hotline registry lookup", hashlib.sha256).hexdigest()


def token_ok(presented: str | None, id_key: bytes) -> bool:
    return presented is not None and hmac.compare_digest(presented, internal_token(id_key))


# --- GET /v1/lookup ------------------------------------------------------------------------


class LookupAlert(BaseModel):
    alert_id: str
    sender: str
    title: str
    received_at: AwareDatetime
    tlp: Tlp | None  # None: a follow-up, handled as the alert it updates
    scam_type: str | None = None


class LookupMatch(BaseModel):
    case_id: str
    kind: Kind
    state: Literal["open", "cancelled"]
    reporters: list[str]
    reports: int  # the case's reports the caller may see
    first_reported_at: AwareDatetime
    last_reported_at: AwareDatetime
    alerts: list[LookupAlert]  # of those reports, the alerts the caller holds


class LookupAnswer(BaseModel):
    query: NumberQuery | DocumentQuery | PersonQuery = Field(discriminator="kind")
    matches: list[LookupMatch]


# --- GET /v1/numbers/changes ----------------------------------------------------------------


class NumberChange(BaseModel):
    """A scam-number alert the caller holds, as it is now; `active`: it still says "block"."""

    number: str  # E.164
    alert_id: str
    sender: str
    active: bool  # an alert (not a follow-up), neither cancelled nor rejected
    status: Literal["accepted", "delivered", "updated", "cancelled", "rejected"]
    scam_type: str | None = None
    received_at: AwareDatetime
    updated_at: AwareDatetime


class NumberChanges(BaseModel):
    changes: list[NumberChange]
    next: str  # the cursor to ask `after` next
    more: bool  # true: ask again at once; false: caught up with what this gateway holds
