"""Examples from the partner data plus hypothesis properties for hotline.normalize."""

from __future__ import annotations

import re
import string

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from hotline.normalize import (
    InvalidIndicator,
    InvalidPhoneNumber,
    PhoneInfo,
    document_key,
    indicator_set_fingerprint,
    indicator_tokens,
    normalize_app_name,
    normalize_bank_account,
    normalize_document_number,
    normalize_phone,
    normalize_url,
    normalize_wallet,
    scam_number_fingerprint,
    url_domain,
)

PROPS = settings(max_examples=200, deadline=None)

# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("0912 345 678", "VN", "+84912345678"),
        ("8 (495) 123-45-67", "RU", "+74951234567"),
        ("138 0013 8000", "CN", "+8613800138000"),
        ("+84 91 234 5678", "RU", "+84912345678"),
        ("+84 91 234 5678", "CN", "+84912345678"),
        ("+86 138-0013-8000", "VN", "+8613800138000"),
        ("8 916 123-45-67", "RU", "+79161234567"),
        ("+7 916 123 45 67", "vn", "+79161234567"),  # region case does not matter
    ],
)
def test_phone_examples(raw: str, region: str, e164: str) -> None:
    info = normalize_phone(raw, region)
    assert info.e164 == e164
    assert info.raw == raw


def test_phone_enrichment() -> None:
    assert normalize_phone("0912 345 678", "VN") == PhoneInfo(
        raw="0912 345 678",
        e164="+84912345678",
        country="VN",
        line_type="mobile",
        carrier="Vinaphone",
    )
    cn = normalize_phone("138 0013 8000", "CN")
    assert (cn.country, cn.line_type, cn.carrier) == ("CN", "mobile", "China Mobile")
    moscow = normalize_phone("8 (495) 123-45-67", "RU")
    assert (moscow.country, moscow.line_type, moscow.carrier) == ("RU", "fixed_line", None)
    assert normalize_phone("+1 800 555 0100", "RU").line_type == "toll_free"


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("12", "VN"),
        ("abc", "VN"),
        ("+0000", "RU"),
        ("", "CN"),
        ("0912 345 67", "VN"),
        ("+7 000 000 0000", "RU"),
        ("0912 345 678", "XX"),
        ("123 4567", "CN"),
    ],
)
def test_phone_rejects_junk(raw: str, region: str) -> None:
    with pytest.raises(InvalidPhoneNumber, match="is not a valid phone number for region"):
        normalize_phone(raw, region)


def test_phone_error_message() -> None:
    expected = r"^'12' is not a valid phone number for region VN"
    with pytest.raises(InvalidPhoneNumber, match=expected):
        normalize_phone("12", "VN")


def test_phone_require_valid_false_keeps_possible_numbers() -> None:
    info = normalize_phone("+7 000 000 0000", "RU", require_valid=False)
    assert (info.e164, info.country, info.line_type) == ("+70000000000", "RU", "unknown")
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone("12", "VN", require_valid=False)


def test_scam_number_fingerprint() -> None:
    assert scam_number_fingerprint("+84912345678") == "phone:+84912345678"
    for bad in ("0912345678", "+0912", "phone:+84912345678", ""):
        with pytest.raises(InvalidPhoneNumber):
            scam_number_fingerprint(bad)


_EXAMPLES = [
    (region, ex)
    for region in ("VN", "CN", "RU")
    for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE)
    if (ex := phonenumbers.example_number_for_type(region, kind)) is not None
]
_FORMATS = [PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.E164]


@st.composite
def valid_numbers(draw: st.DrawFn) -> tuple[str, phonenumbers.PhoneNumber]:
    region, example = draw(st.sampled_from(_EXAMPLES))
    nsn = str(example.national_number)
    keep = draw(st.integers(min_value=min(3, len(nsn)), max_value=len(nsn)))
    tail = draw(st.text(string.digits, min_size=len(nsn) - keep, max_size=len(nsn) - keep))
    number = phonenumbers.parse(f"+{example.country_code}{nsn[:keep]}{tail}")
    assume(phonenumbers.is_valid_number(number))
    return region, number


@st.composite
def sprinkled(draw: st.DrawFn, text: str) -> str:
    """``text`` with random separators between characters (never inside a leading '+')."""
    seps = draw(
        st.lists(
            st.sampled_from(["", "", "", " ", "-", "(", ")", ".", "  "]),
            min_size=len(text),
            max_size=len(text),
        )
    )
    head = 1 if text.startswith("+") else 0
    return text[:head] + "".join(ch + sep for ch, sep in zip(text[head:], seps, strict=False))


@PROPS
@given(valid_numbers(), st.sampled_from(_FORMATS), st.data())
def test_phone_formatting_invariance(
    origin: tuple[str, phonenumbers.PhoneNumber], fmt: int, data: st.DataObject
) -> None:
    region, number = origin
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    rendered = data.draw(sprinkled(phonenumbers.format_number(number, fmt)))
    # National format only makes sense from the number's own country; the others from anywhere.
    sender = (
        region
        if fmt == PhoneNumberFormat.NATIONAL
        else data.draw(st.sampled_from(["VN", "CN", "RU"]))
    )
    info = normalize_phone(rendered, sender)
    assert info.e164 == e164
    assert normalize_phone(info.e164, sender).e164 == e164  # idempotent
    assert info.country == region


@PROPS
@given(st.one_of(st.text(), st.text("0123456789+-() .x#*")), st.sampled_from(["VN", "RU", "XX"]))
def test_phone_only_raises_invalid_phone_number(raw: str, region: str) -> None:
    try:
        info = normalize_phone(raw, region, require_valid=False)
    except InvalidPhoneNumber:
        return
    assert re.fullmatch(r"\+[1-9]\d{6,16}", info.e164)


# ---------------------------------------------------------------- documents


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("72 1234567", "721234567"),
        ("c1234567", "C1234567"),
        ("45-03 123.456/7", "45031234567"),
        ("Ｃ１２３", "C123"),
    ],
)
def test_document_number(raw: str, normalized: str) -> None:
    assert normalize_document_number(raw) == normalized


def test_document_key() -> None:
    assert document_key(" Passport ", "72 1234567", "ru") == "passport:RU:721234567"
    assert document_key("National ID", "c1234567", "vn") == "national_id:VN:C1234567"
    for args in [
        ("", "1", "RU"),
        ("passport", "1", ""),
        ("passport", " - ", "RU"),
        ("passport", "AB#1", "RU"),
        ("a:b", "1", "RU"),
    ]:
        with pytest.raises(InvalidIndicator):
            document_key(*args)


@PROPS
@given(st.text())
def test_document_number_idempotent(raw: str) -> None:
    try:
        out = normalize_document_number(raw)
    except InvalidIndicator:
        return
    assert normalize_document_number(out) == out


# ---------------------------------------------------------------- URLs, apps, accounts, wallets


@pytest.mark.parametrize(
    ("raw", "url", "domain"),
    [
        ("https://vntrade-pro.example/app", "vntrade-pro.example/app", "vntrade-pro.example"),
        ("vntrade-pro.example/app", "vntrade-pro.example/app", "vntrade-pro.example"),
        ("http://QUICKLOAN-VN.example/", "quickloan-vn.example", "quickloan-vn.example"),
        ("http://quickloan-vn.example", "quickloan-vn.example", "quickloan-vn.example"),
        ("https://www.Example.com:443/A/b/?x=1#frag", "www.example.com/A/b?x=1", "example.com"),
        ("http://example.com:8080/", "example.com:8080", "example.com"),
        ("https://user:pw@paypal.example@evil.example/login", "evil.example/login", "evil.example"),
        ("http://bücher.example/Straße", "xn--bcher-kva.example/Straße", "xn--bcher-kva.example"),
        ("//cdn.example/x y", "cdn.example/x%20y", "cdn.example"),
        ("http://[2001:DB8::1]:80/", "[2001:db8::1]", "[2001:db8::1]"),
        ("www.example", "www.example", "www.example"),
    ],
)
def test_url_examples(raw: str, url: str, domain: str) -> None:
    assert normalize_url(raw) == url
    assert url_domain(raw) == domain
    assert url_domain(url) == domain


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "http://",
        "https:///path",
        "http://exa mple.com/",
        "ex ample.com",
        "http://[::zz]/",
        "http://host:99999/",
        "javascript:alert(1)",
        "http://-bad-.example",
    ],
)
def test_url_rejects_junk(raw: str) -> None:
    with pytest.raises(InvalidIndicator):
        normalize_url(raw)


_LABELS = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_HOSTS = st.lists(_LABELS, min_size=2, max_size=4).map(".".join)
_PATHS = st.text(string.ascii_letters + string.digits + "/-_.~%@ ", max_size=20)


@PROPS
@given(
    _HOSTS,
    st.sampled_from(["", "http://", "https://", "HTTPS://", "//"]),
    st.sampled_from(["", ":80", ":443", ":8443"]),
    _PATHS,
    st.sampled_from(["", "?a=1", "?q=Ab c"]),
    st.sampled_from(["", "#top"]),
    st.booleans(),
)
def test_url_properties(
    host: str, scheme: str, port: str, path: str, query: str, frag: str, upper: bool
) -> None:
    raw = f"{scheme}{host.upper() if upper else host}{port}/{path}{query}{frag}"
    url = normalize_url(raw)
    assert normalize_url(url) == url
    if not query:
        assert normalize_url(f"HTTPS://{url}/#x") == url
    assert not re.search(r"\s", url)
    assert url_domain(url) == url_domain(raw) == url_domain(host)
    assert url.startswith(host.lower())


@PROPS
@given(st.text())
def test_url_only_raises_invalid_indicator(raw: str) -> None:
    try:
        url = normalize_url(raw)
    except InvalidIndicator:
        return
    assert normalize_url(url) == url
    assert url_domain(url) == url_domain(raw)


@pytest.mark.parametrize(
    "raw",
    ["VNTrade Pro", "vntrade  pro", " “VNTrade Pro”. ", "ＶＮＴｒａｄｅ\u3000Pro", "'vntrade pro'"],
)
def test_app_name(raw: str) -> None:
    assert normalize_app_name(raw) == "vntrade pro"


def test_app_name_rejects_empty() -> None:
    for raw in ["", "   ", "“”", "!!"]:
        with pytest.raises(InvalidIndicator):
            normalize_app_name(raw)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("VCB 0011004455667", "VCB0011004455667"),
        ("vcb-0011.0044.55667", "VCB0011004455667"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("4081 7810 0999 1000 4312", "40817810099910004312"),
    ],
)
def test_bank_account(raw: str, normalized: str) -> None:
    assert normalize_bank_account(raw) == normalized


@pytest.mark.parametrize("raw", ["", "12", "VCB#001100", "счёт 1234"])
def test_bank_account_rejects_junk(raw: str) -> None:
    with pytest.raises(InvalidIndicator):
        normalize_bank_account(raw)


_TRON = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"
_ETH = "0x52908400098527886E0F7030069857D2E4169EE7"
_BTC_LEGACY = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
_BECH32 = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        (f"  {_TRON}\n", _TRON),
        (_BTC_LEGACY, _BTC_LEGACY),
        (_ETH, _ETH.lower()),
        (_BECH32.upper(), _BECH32),
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
    ],
)
def test_wallet(raw: str, normalized: str) -> None:
    assert normalize_wallet(raw) == normalized


@pytest.mark.parametrize("raw", ["", "0x12", "T" * 101, "bc1q-not-a-wallet-at-all", "地址" * 12])
def test_wallet_rejects_junk(raw: str) -> None:
    with pytest.raises(InvalidIndicator):
        normalize_wallet(raw)


@PROPS
@given(st.one_of(st.text(), st.text(string.ascii_letters + string.digits + " -.", min_size=4)))
def test_indicator_normalizers_idempotent(raw: str) -> None:
    for normalize in (normalize_app_name, normalize_bank_account, normalize_wallet):
        try:
            out = normalize(raw)
        except InvalidIndicator:
            continue
        assert normalize(out) == out, normalize.__name__


# ---------------------------------------------------------------- indicator sets


def test_indicator_tokens() -> None:
    tokens = indicator_tokens(
        {
            "phone": ["+84912345678"],
            "url": ["vntrade-pro.example/app"],
            "app": ["vntrade pro"],
            "bank": ["VCB0011004455667"],
            "wallet": [_TRON],
            "domain": [],
        }
    )
    assert tokens == {
        "phone:+84912345678",
        "url:vntrade-pro.example/app",
        "domain:vntrade-pro.example",
        "app:vntrade pro",
        "bank:VCB0011004455667",
        f"wallet:{_TRON}",
    }
    with pytest.raises(InvalidIndicator):
        indicator_tokens({"email": ["a@b.example"]})


def test_indicator_set_fingerprint() -> None:
    a = indicator_set_fingerprint(
        {"phone": ["+84912345678", "+8613800138000"], "app": ["vntrade pro"]}
    )
    b = indicator_set_fingerprint(
        {"app": ("vntrade pro", "vntrade pro"), "phone": iter(["+8613800138000", "+84912345678"])}
    )
    assert a == b
    assert re.fullmatch(r"ind:[0-9a-f]{32}", a)
    assert a != indicator_set_fingerprint({"phone": ["+84912345678"]})
    # The URL's domain is implied, so stating it does not change the set.
    assert indicator_set_fingerprint({"url": ["x.example/a"]}) == indicator_set_fingerprint(
        {"url": ["x.example/a"], "domain": ["x.example"]}
    )
