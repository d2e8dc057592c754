"""Normalize and enrich one alert: pure, so the gateway runs it too and refuses up front what
the stream could not use (an unparseable phone number is bad input, not a worker crash)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from hotline import normalize as n
from hotline.alert_in import FraudPatternAlert, ScamNumberAlert, WantedPersonAlert
from hotline.errors import InvalidAlert
from hotline.models import Enrichment, NameView, PhoneView
from hotline.names import fold_name, name_key

Body = WantedPersonAlert | FraudPatternAlert | ScamNumberAlert


def enrich(body: Body, sender_country: str) -> Enrichment:
    """Raises InvalidAlert naming every field that cannot be normalized."""
    errors: list[dict[str, str]] = []
    if isinstance(body, ScamNumberAlert):
        phone = _phone(body.subject.number, sender_country, "subject.number", errors)
        _raise(errors)
        assert phone is not None
        return Enrichment(
            phones=[phone],
            indicators={"phone": [phone.e164]},
            fingerprints=[n.scam_number_fingerprint(phone.e164)],
        )
    if isinstance(body, WantedPersonAlert):
        return _person(body)
    return _fraud(body, sender_country, errors)


def _person(body: WantedPersonAlert) -> Enrichment:
    s = body.subject
    names = [NameView(original=x, folded=fold_name(x)) for x in (s.full_name, *s.aliases)]
    errors: list[dict[str, str]] = []
    docs = [
        key
        for i, d in enumerate(s.documents)
        if (
            key := _apply(
                partial(_document_key, d.type, d.country),
                d.number,
                f"subject.documents.{i}.number",
                errors,
            )
        )
    ]
    _raise(errors)
    fingerprints = [f"doc:{d}" for d in docs]
    if s.date_of_birth is not None and name_key(s.full_name):
        fingerprints.append(f"person:{name_key(s.full_name)}|{s.date_of_birth.isoformat()}")
    return Enrichment(names=names, documents=docs, fingerprints=fingerprints)


def _document_key(doc_type: str, country: str, number: str) -> str:
    return n.document_key(doc_type, number, country)


_INDICATORS: tuple[tuple[str, str, Callable[[str], str]], ...] = (
    ("urls", "url", n.normalize_url),
    ("app_names", "app", n.normalize_app_name),
    ("bank_accounts", "bank", n.normalize_bank_account),
    ("crypto_wallets", "wallet", n.normalize_wallet),
)


def _fraud(body: FraudPatternAlert, region: str, errors: list[dict[str, str]]) -> Enrichment:
    ind = body.subject.indicators
    phones = [
        p
        for i, raw in enumerate(ind.phone_numbers)
        if (p := _phone(raw, region, f"subject.indicators.phone_numbers.{i}", errors)) is not None
    ]
    found: dict[str, list[str]] = {"phone": sorted({p.e164 for p in phones})}
    for field, token, fn in _INDICATORS:
        values = getattr(ind, field)
        found[token] = sorted(
            {
                v
                for i, raw in enumerate(values)
                if (v := _apply(fn, raw, f"subject.indicators.{field}.{i}", errors))
            }
        )
    domains = set()
    for raw in ind.urls:
        try:
            domains.add(n.url_domain(raw))
        except ValueError:
            pass  # already reported by normalize_url
    found["domain"] = sorted(domains)
    _raise(errors)
    found = {k: v for k, v in found.items() if v}
    return Enrichment(
        phones=phones, indicators=found, fingerprints=[n.indicator_set_fingerprint(found)]
    )


def _phone(raw: str, region: str, field: str, errors: list[dict[str, str]]) -> PhoneView | None:
    try:
        info = n.normalize_phone(raw, region)
    except n.InvalidPhoneNumber as exc:
        errors.append({"field": field, "message": str(exc), "type": "phone_number"})
        return None
    return PhoneView(
        raw=info.raw,
        e164=info.e164,
        country=info.country,
        line_type=info.line_type,
        carrier=info.carrier,
    )


def _apply(
    fn: Callable[[str], str], raw: str, field: str, errors: list[dict[str, str]]
) -> str | None:
    try:
        return fn(raw)
    except ValueError as exc:
        errors.append({"field": field, "message": str(exc), "type": "indicator"})
        return None


def _raise(errors: list[dict[str, str]]) -> None:
    if errors:
        raise InvalidAlert("the alert has fields that cannot be normalized", errors=errors)
