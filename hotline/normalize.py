"""Pure, deterministic normalization and matching of the values partner agencies exchange.

Phones become E.164 (parsed in the *sending* agency's region), names get a Latin display
folding (`fold_name`) and a transliteration-insensitive matching key (`name_key`), and scam
indicators (URLs, domains, app names, bank accounts, wallets) get canonical string forms so
that cases reported by different agencies can be linked by shared ``type:value`` tokens.

Phone validity rule: a number must parse, be *possible* (length fits a number type of its
region) and, by default, *valid* (falls in an assigned range per libphonenumber metadata).
Unassigned-range numbers are mostly typos or placeholders ("+7 000 000-00-00"); accepting
them would create false links between unrelated cases. Bulk imports of historical data can
pass ``require_valid=False`` to keep possible-but-unassigned numbers (line type "unknown").

`name_key` collapses Russian transliteration variants (ICAO 9303, BGN/PCGN, ALA-LC, Soviet-era
MVD passports, Wikipedia/press usage, GOST's j for й) per token, in this order:
  1. ``x`` -> ``ks``                Alexei = Aleksei (pinyin/Vietnamese never write "ks")
  2. ``tc`` -> ``ts`` (not "tch")   Kuznetcov (1997 passports) = Kuznetsov
  3. ``ye``/``je`` -> ``e``         Yevgeniy = Evgenii, Grigoryev = Grigorev, Jelena = Elena
     consonant + ``yo`` -> ``e``    ё: Fyodor = Fedor, Artyom = Artem, Solovyov = Solovev
  4. final ``[iyj]+`` -> ``i``      Dmitriy = Dmitrii = Dmitrij = Dmitry; Sergey = Sergej
  5. ``y`` before a/o/u or after a vowel, ``j`` before a -> ``i``: Yana = Iana, Mayya = Maiia
  6. ``ii+a`` -> ``ia``             Mariia = Mariya = Maria
Deliberately NOT collapsed: kh/h (Vietnamese Khanh vs Hanh are different names), ju/yu
(pinyin Jun vs Yun), GOST's x/c/shh for х/ц/щ (x clashes with rule 1, c with Vietnamese and
pinyin c) and ICAO's ie for ъ. name_key(name_key(x)) == name_key(x) (tested).
Known cost: pinyin Ye and E share a key. `name_matches` additionally lets adjacent tokens
merge, because Chinese passports join given-name syllables: WANG JIANGUO = 王建国.
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

import iuliia  # type: ignore[import-untyped, unused-ignore]
import phonenumbers
from anyascii import anyascii
from phonenumbers import carrier

__all__ = [
    "InvalidIndicator",
    "InvalidPhoneNumber",
    "PhoneInfo",
    "document_key",
    "fold_name",
    "indicator_set_fingerprint",
    "indicator_tokens",
    "name_key",
    "name_matches",
    "name_skeleton",
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


# ---------------------------------------------------------------- names

_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")
# ICAO 9303 letters of Ukrainian/Belarusian that the Russian table in iuliia leaves alone.
_ICAO_EXTRA = str.maketrans(
    {
        "Є": "IE",
        "є": "ie",
        "І": "I",
        "і": "i",
        "Ї": "I",
        "ї": "i",
        "Ґ": "G",
        "ґ": "g",
        "Ў": "U",
        "ў": "u",
    }
)
_ICAO = iuliia.ICAO_DOC_9303
# đ is a separate letter, not d + mark, so NFKD alone would leave it.
_VIET_D = str.maketrans({"đ": "d", "Đ": "D"})
# Polyphonic characters whose surname reading differs from pypinyin's default (曾 ceng...).
_SURNAMES = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "区": "ou",
    "查": "zha",
    "翟": "zhai",
    "覃": "qin",
    "缪": "miao",
    "尉迟": "yu chi",
}
_APOSTROPHES_RE = re.compile(r"['`\"]")  # Grigor'ev, Pod"yachev: soft/hard signs join
_NON_ALNUM_RE = re.compile(r"[^a-z0-9]+")

_KEY_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        ("x", "ks"),
        ("tc(?!h)", "ts"),
        ("[yj]+e", "e"),
        ("(?<=[bcdfghklmnpqrstvwz])[yj]o", "e"),
        ("[iyj]+$", "i"),
        ("[yj](?=a)|y(?=[ou])|(?<=[aeou])y", "i"),
        ("ii+a", "ia"),
    )
)


def _han_to_pinyin(run: str) -> str:
    from pypinyin import Style, lazy_pinyin  # heavy dictionaries: load on first Han name

    syllables: list[str] = lazy_pinyin(run, style=Style.NORMAL, v_to_u=True)
    if len(run) > 2 and run[:2] in _SURNAMES:
        syllables[:2] = [_SURNAMES[run[:2]]]
    elif len(run) > 1 and run[0] in _SURNAMES:
        syllables[0] = _SURNAMES[run[0]]
    return " " + " ".join(syllables) + " "


def fold_name(name: str) -> str:
    """Latin folding for display: ``Nguyễn Văn Hùng`` -> ``nguyen van hung``.

    Han becomes toneless pinyin syllables (``王伟`` -> ``wang wei``); Cyrillic follows
    ICAO 9303, the passport MRZ table (``Иванов Сергей`` -> ``ivanov sergei``).
    """
    return _fold_name(name)


@lru_cache(maxsize=1 << 16)
def _fold_name(name: str) -> str:
    # NFC composes и+breve into й before transliterating; split() turns every Unicode space
    # (NEL, U+3000...) into a token break before anyascii could delete it.
    text = " ".join(unicodedata.normalize("NFC", name).split())
    if _HAN_RE.search(text):
        text = _HAN_RE.sub(lambda m: _han_to_pinyin(m.group()), text)
    if _CYRILLIC_RE.search(text):
        text = str(_ICAO.translate(text.translate(_ICAO_EXTRA)))
    text = unicodedata.normalize("NFKD", text.translate(_VIET_D))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    if not text.isascii():
        text = anyascii(text)
    text = _APOSTROPHES_RE.sub("", text.lower())
    return " ".join(_NON_ALNUM_RE.sub(" ", text).split())


@lru_cache(maxsize=1 << 16)
def _token_key(token: str) -> str:
    for pattern, repl in _KEY_RULES:
        token = pattern.sub(repl, token)
    return token


def name_key(name: str) -> str:
    """Order- and transliteration-insensitive key: equal keys mean "same written name"."""
    return " ".join(sorted(_token_key(t) for t in fold_name(name).split()))


def name_matches(a: str, b: str) -> bool:
    """Same key, a patronymic/middle name omitted on one side, or joined given-name syllables."""
    ka, kb = name_key(a).split(), name_key(b).split()
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    small, big = sorted((set(ka), set(kb)), key=len)
    if len(small) >= 2 and small <= big:
        return True
    fine, coarse = sorted((fold_name(a).split(), fold_name(b).split()), key=len)[::-1]
    return 2 <= len(coarse) < len(fine) and _joined_match(fine, [_token_key(t) for t in coarse])


def _joined_match(fine: list[str], coarse_keys: list[str]) -> bool:
    # Any rotation of `fine`, so both surname-first and surname-last orders line up.
    for start in range(len(fine)):
        tokens, i = fine[start:] + fine[:start], 0
        for want in coarse_keys:
            j = next(
                (
                    j
                    for j in range(i + 1, len(tokens) + 1)
                    if _token_key("".join(tokens[i:j])) == want
                ),
                None,
            )
            if j is None:
                break
            i = j
        else:
            if i == len(tokens):
                return True
    return False


# What the key rules leave alone: each one only spells x as ks, turns the c of tc into s and
# the o of [yj]o into e, or adds and drops i, y and j. Read x as ks, c as s, o as e and leave
# i, y, j out, and a token has the same letters as its key, and joined syllables (JIANGUO) as
# their parts (JIAN GUO), whatever the rules did at the joins.
_SKELETON = str.maketrans({"x": "ks", "c": "s", "o": "e", "i": None, "y": None, "j": None})


def name_skeleton(name: str) -> str:
    """The letters of a name that no key rule changes, sorted: ``Wang Jianguo`` -> ``aaeggnnuw``.

    An index key for `name_matches`: if ``name_matches(a, b)``, then the keys of ``a`` and
    ``b`` share two distinct tokens, or ``a`` and ``b`` have the same skeleton (equal keys of
    one distinct token; joined syllables, which may share no token at all). Tested.
    """
    return "".join(sorted(fold_name(name).replace(" ", "").translate(_SKELETON)))


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
