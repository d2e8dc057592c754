"""Pure, deterministic normalization and matching of the values partner agencies exchange.

Phones become E.164 (parsed in the *sending* agency's region), and scam
indicators (URLs, domains, app names, bank accounts, wallets) get canonical string forms so
that cases reported by different agencies can be linked by shared ``type:value`` tokens.

Phone validity rule: a number must parse, be *possible* (length fits a number type of its
region) and, by default, *valid* (falls in an assigned range per libphonenumber metadata).
Unassigned-range numbers are mostly typos or placeholders ("+7 000 000-00-00"); accepting
them would create false links between unrelated cases. Bulk imports of historical data can
pass ``require_valid=False`` to keep possible-but-unassigned numbers (line type "unknown").

Names live in `hotline.names`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlsplit

import phonenumbers
from phonenumbers import carrier

__all__ = [
    "InvalidIndicator",
    "InvalidPhoneNumber",
    "PhoneInfo",
    "document_key",
    "indicator_set_fingerprint",
    "indicator_tokens",
    "normalize_app_name",
    "normalize_bank_account",
    "normalize_document_number",
    "normalize_phone",
    "normalize_url",
    "normalize_wallet",
    "scam_number_fingerprint",
    "url_domain",
]


class InvalidPhoneNumber(ValueError):
    """A phone number that cannot be parsed or is not a real number of its region."""


class InvalidIndicator(ValueError):
    """A URL, app name, account, wallet or document value that cannot be normalized."""


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    raw: str
    e164: str
    country: str | None
    line_type: str
    carrier: str | None


# ---------------------------------------------------------------- phones

_LINE_TYPES: dict[int, str] = {
    value: name.lower()
    for name, value in vars(phonenumbers.PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}
# carrier data only exists for these types; asking directly skips a second number_type().
_CARRIER_TYPES = frozenset({"mobile", "fixed_line_or_mobile", "pager"})
_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE
_E164_RE = re.compile(r"\+[1-9][0-9]{6,14}")


def normalize_phone(raw: str, default_region: str, *, require_valid: bool = True) -> PhoneInfo:
    """Parse ``raw`` as dialled in ``default_region`` (the sending agency's ISO country)."""
    return _normalize_phone(raw, default_region.strip().upper(), require_valid)


@lru_cache(maxsize=1 << 15)  # ~11 MB when full; repeats of hot scam numbers hit
def _normalize_phone(raw: str, region: str, require_valid: bool) -> PhoneInfo:
    def invalid(why: str) -> InvalidPhoneNumber:
        return InvalidPhoneNumber(f"{raw!r} is not a valid phone number for region {region}: {why}")

    try:
        num = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise invalid(str(exc.args[0] if exc.args else exc).rstrip(".").lower()) from None
    reason = phonenumbers.is_possible_number_with_reason(num)
    if reason != _POSSIBLE:
        raise invalid(_POSSIBLE_REASONS.get(reason, "impossible number"))
    # number_type() is UNKNOWN exactly when is_valid_number() is False; one call does both.
    line_type = _LINE_TYPES.get(phonenumbers.number_type(num), "unknown")
    if require_valid and line_type == "unknown":
        raise invalid("not an assigned number range")
    country = phonenumbers.region_code_for_number(num)
    if country is None:  # unassigned range under a shared calling code (+7, +1): main region
        country = phonenumbers.region_code_for_country_code(num.country_code or 0)
    country = None if country in (phonenumbers.UNKNOWN_REGION, "001") else country
    name = carrier.name_for_valid_number(num, "en") if line_type in _CARRIER_TYPES else ""
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return PhoneInfo(raw=raw, e164=e164, country=country, line_type=line_type, carrier=name or None)


_POSSIBLE_REASONS = {
    phonenumbers.ValidationResult.TOO_SHORT: "too short",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "invalid length",
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "invalid country code",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "local number without area code",
}


def scam_number_fingerprint(e164: str) -> str:
    if not _E164_RE.fullmatch(e164):
        raise InvalidPhoneNumber(f"{e164!r} is not an E.164 number")
    return f"phone:{e164}"


# ---------------------------------------------------------------- documents, accounts, wallets

_DOC_STRIP_RE = re.compile(r"[\s./\\\-\u2010-\u2015\u2212]+")
_BANK_STRIP_RE = re.compile(r"[\s.\-\u2010-\u2015\u2212]+")
_BANK_RE = re.compile(r"[A-Z0-9]{4,64}")
_HEX_WALLET_RE = re.compile(r"0x[0-9a-f]{18,98}")
_BECH32_RE = re.compile(r"(?:bc|tb|ltc)1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{14,95}")
_WALLET_RE = re.compile(r"[A-Za-z0-9]{20,100}")


def normalize_document_number(number: str) -> str:
    """``72 1234567`` -> ``721234567``; ``c1234567`` -> ``C1234567``."""
    out = _DOC_STRIP_RE.sub("", unicodedata.normalize("NFKC", number)).upper()
    if not out.isalnum():
        raise InvalidIndicator(f"{number!r} is not a document number")
    return out


def document_key(doc_type: str, number: str, country: str) -> str:
    """``passport:RU:721234567``; inner whitespace of the type becomes ``_``."""
    kind, cc = "_".join(doc_type.lower().split()), country.strip().upper()
    if not kind or not cc or ":" in kind + cc:
        raise InvalidIndicator(f"bad document type/country {doc_type!r}/{country!r}")
    return f"{kind}:{cc}:{normalize_document_number(number)}"


def normalize_bank_account(raw: str) -> str:
    out = _BANK_STRIP_RE.sub("", unicodedata.normalize("NFKC", raw)).upper()
    if not _BANK_RE.fullmatch(out):
        raise InvalidIndicator(f"{raw!r} is not a bank account number")
    return out


def normalize_wallet(raw: str) -> str:
    """Hex (0x…) and single-case bech32 are case-insensitive; base58 case is significant."""
    out = "".join(raw.split())
    if not _WALLET_RE.fullmatch(out):
        raise InvalidIndicator(f"{raw!r} is not a wallet address")
    lower = out.lower()
    if _HEX_WALLET_RE.fullmatch(lower) or (
        _BECH32_RE.fullmatch(lower) and (out == lower or out == out.upper())
    ):
        return lower
    return out


# ---------------------------------------------------------------- URLs and apps

_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_LABEL = r"[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?"
_HOST_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_WS_RE = re.compile(r"\s")
_DEFAULT_PORTS = frozenset({80, 443})  # scheme is dropped, so either is "the default"


def _split_url(raw: str) -> tuple[str, str, str]:
    """Canonical (host, ":port" or "", path?query) of ``raw``."""
    text = raw.strip()
    if not _SCHEME_RE.match(text):
        text = ("http:" if text.startswith("//") else "http://") + text
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise InvalidIndicator(f"{raw!r} is not a URL: {exc}") from None
    tail = parts.path.rstrip("/") + (f"?{parts.query}" if parts.query else "")
    return (
        _canonical_host(raw, host or ""),
        "" if port is None or port in _DEFAULT_PORTS else f":{port}",
        _WS_RE.sub(lambda m: quote(m.group()), tail),  # no whitespace: output stays stable
    )


def _canonical_host(raw: str, host: str) -> str:
    if ":" in host:  # IPv6 literal; urlsplit already removed the brackets
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            raise InvalidIndicator(f"{raw!r} has an invalid IPv6 host") from None
    host = host.rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidIndicator(f"{raw!r} has an invalid host") from None
    if len(host) > 253 or not _HOST_RE.fullmatch(host):
        raise InvalidIndicator(f"{raw!r} has no valid host")
    return host


def normalize_url(raw: str) -> str:
    """``http://QUICKLOAN-VN.example/`` -> ``quickloan-vn.example`` (no scheme/fragment/slash)."""
    return "".join(_split_url(raw))


def url_domain(raw: str) -> str:
    """Host of a URL or bare domain: lowercase, IDNA, without a leading ``www.``."""
    host = _split_url(raw)[0]
    return host[4:] if host.startswith("www.") and "." in host[4:] else host


def _is_edge_junk(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] in "PZC"


def normalize_app_name(raw: str) -> str:
    """``"VNTrade  Pro"`` -> ``vntrade pro``: NFKC casefold, single spaces, no edge punctuation."""
    text = " ".join(
        unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).casefold()).split()
    )
    start, end = 0, len(text)
    while start < end and _is_edge_junk(text[start]):
        start += 1
    while end > start and _is_edge_junk(text[end - 1]):
        end -= 1
    if start == end:
        raise InvalidIndicator(f"{raw!r} is not an app name")
    return text[start:end]


# ---------------------------------------------------------------- indicator sets

_INDICATOR_TYPES = frozenset({"phone", "url", "domain", "app", "bank", "wallet"})


def indicator_tokens(indicators: Mapping[str, Iterable[str]]) -> set[str]:
    """``type:value`` tokens of already-normalized values; URLs also yield their domain."""
    tokens: set[str] = set()
    for kind, values in indicators.items():
        if kind not in _INDICATOR_TYPES:
            raise InvalidIndicator(f"unknown indicator type {kind!r}")
        for value in values:
            if value:
                tokens.add(f"{kind}:{value}")
                if kind == "url":
                    tokens.add(f"domain:{url_domain(value)}")
    return tokens


def indicator_set_fingerprint(indicators: Mapping[str, Iterable[str]]) -> str:
    """Stable id of the token set: reports with the same indicators get the same id."""
    blob = "\n".join(sorted(indicator_tokens(indicators))).encode()
    return "ind:" + hashlib.sha256(blob).hexdigest()[:32]
