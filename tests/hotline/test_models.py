"""What the models admit from a partner, and what they read back from Kafka."""

from __future__ import annotations

import copy
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hotline.alert_in import error_list, parse_alert
from hotline.codec import dumps, loads
from hotline.models import AlertRecord
from tests.fixtures.records import record

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

WANTED: dict[str, Any] = {
    "source_ref": "HN-M-1",
    "kind": "wanted_person",
    "severity": "severe",
    "urgency": "expected",
    "language": "vi",
    "title": "Truy nã: Lê Minh Tuấn",
    "description": "Đối tượng lừa đảo qua mạng.\n\tCó thể đã xuất cảnh.",
    "subject": {
        "full_name": "Lê Minh Tuấn",
        "aliases": ["Tuấn Lê"],
        "date_of_birth": "1985-03-14",
        "documents": [{"type": "passport", "number": "C1234567", "country": "VN"}],
        "offences": ["fraud"],
        "warrant_ref": "HN-W-9",
        "last_seen": {"place": "Hà Nội", "at": "2026-11-30T08:00:00+07:00"},
    },
}
FRAUD: dict[str, Any] = {
    "source_ref": "HN-M-2",
    "kind": "fraud_pattern",
    "severity": "minor",
    "urgency": "future",
    "title": "Lừa đảo đầu tư",
    "subject": {
        "scheme": "investment",
        "modus_operandi": "Fake trading app.\nPromises daily returns.",
        "indicators": {"urls": ["https://invest.example/app"], "app_names": ["Gold X"]},
    },
}
SCAM: dict[str, Any] = {
    "source_ref": "HN-M-3",
    "kind": "scam_number",
    "severity": "moderate",
    "urgency": "expected",
    "title": "Số điện thoại giả danh ngân hàng",
    "subject": {
        "number": "0965 123 456",
        "scam_type": "impersonation",
        "first_seen": "2026-11-01",
        "last_seen": "2026-11-28",
    },
}

# Every partner text field, as (alert, path); LongText fields are marked.
TEXT_FIELDS: list[tuple[dict[str, Any], str]] = [
    (WANTED, "source_ref"),
    (WANTED, "title"),
    (WANTED, "subject.full_name"),
    (WANTED, "subject.aliases.0"),
    (WANTED, "subject.documents.0.type"),
    (WANTED, "subject.documents.0.number"),
    (WANTED, "subject.offences.0"),
    (WANTED, "subject.warrant_ref"),
    (WANTED, "subject.last_seen.place"),
    (FRAUD, "subject.indicators.urls.0"),
    (FRAUD, "subject.indicators.app_names.0"),
    (SCAM, "subject.number"),
    (SCAM, "subject.scam_type"),
]
LONG_FIELDS: list[tuple[dict[str, Any], str]] = [
    (WANTED, "description"),
    (FRAUD, "subject.modus_operandi"),
]


def with_value(alert: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(alert)
    *parents, last = path.split(".")
    node: Any = out
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


def get(alert: dict[str, Any], path: str) -> Any:
    node: Any = alert
    for p in path.split("."):
        node = node[int(p)] if isinstance(node, list) else node[p]
    return node


def refused(data: dict[str, Any], now: datetime = NOW) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as exc:
        parse_alert(data, now)
    return error_list(exc.value.errors())


def test_the_examples_are_admitted() -> None:
    for alert in (WANTED, FRAUD, SCAM):
        parse_alert(alert, NOW)


# --- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("alert", "path"), TEXT_FIELDS + LONG_FIELDS)
@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b"])
def test_control_characters_are_refused_naming_the_field(
    alert: dict[str, Any], path: str, char: str
) -> None:
    errors = refused(with_value(alert, path, f"Lê{char}Minh"))
    assert [e["field"] for e in errors] == [path]
    if path != "source_ref":  # U+0085 is also whitespace, which a reference refuses first
        assert errors[0]["type"] == "control_character"
        assert f"U+{ord(char):04X}" in errors[0]["message"]


@pytest.mark.parametrize(("alert", "path"), TEXT_FIELDS)
@pytest.mark.parametrize("char", ["\n", "\t", "\r"])
def test_line_breaks_and_tabs_are_refused_inside_short_text(
    alert: dict[str, Any], path: str, char: str
) -> None:
    errors = refused(with_value(alert, path, f"Lê{char}Minh"))
    assert [e["field"] for e in errors] == [path]


@pytest.mark.parametrize(("alert", "path"), LONG_FIELDS)
def test_long_descriptions_keep_their_lines_and_tabs(alert: dict[str, Any], path: str) -> None:
    text = "Bước 1:\n\tgọi điện.\nBước 2:\n\tchuyển tiền."
    parsed = parse_alert(with_value(alert, path, text), NOW).model_dump()
    assert get(parsed, path) == text
    # A carriage return is still a control character: lines end with \n.
    errors = refused(with_value(alert, path, "Bước 1\r\nBước 2"))
    assert [e["type"] for e in errors] == ["control_character"]


@pytest.mark.parametrize(("alert", "path"), TEXT_FIELDS + LONG_FIELDS)
@pytest.mark.parametrize(
    "char",
    ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"],
)
def test_bidi_embedding_override_and_isolate_controls_are_refused(
    alert: dict[str, Any], path: str, char: str
) -> None:
    errors = refused(with_value(alert, path, f"invoice{char}fdp.exe"))
    assert [(e["field"], e["type"]) for e in errors] == [(path, "bidi_control")]


@pytest.mark.parametrize(("alert", "path"), TEXT_FIELDS + LONG_FIELDS)
@pytest.mark.parametrize(
    "text", ["\u200b", "\u200b\u200c\u200d", " \u2060 ", "\ufeff", "\u00ad\u200b", "\u200e"]
)
def test_text_with_nothing_visible_is_refused(alert: dict[str, Any], path: str, text: str) -> None:
    errors = refused(with_value(alert, path, text))
    assert [(e["field"], e["type"]) for e in errors] == [(path, "invisible_text")]


@pytest.mark.parametrize(
    "text",
    [
        "Nguyễn Thị Hồng Nhung",
        "周涛（集资诈骗）",
        "Обнаружен разыскиваемый гражданин",
        "محمد\u200cرضا",  # a zero-width non-joiner belongs in Persian names
        "👩\u200d💻 Trần",  # and a zero-width joiner in emoji
        "سارق متواری \u200f(تهران)",  # a right-to-left mark is not an override
    ],
)
def test_ordinary_text_in_any_script_is_admitted(text: str) -> None:
    parsed = parse_alert(with_value(WANTED, "subject.full_name", text), NOW)
    assert parsed.subject.full_name == text


def test_an_empty_long_description_is_still_admitted() -> None:
    assert parse_alert(with_value(WANTED, "description", ""), NOW).description == ""


CONTROLS = st.characters(categories=["Cc"])
VISIBLE = st.text(
    st.characters(categories=["L", "M", "N", "P", "S", "Zs"], exclude_characters="\u2028\u2029"),
    max_size=20,
)


@given(before=VISIBLE, control=CONTROLS, after=VISIBLE)
def test_any_control_character_is_refused_in_short_text(
    before: str, control: str, after: str
) -> None:
    text = f"a{before}{control}{after}z"
    for alert, path in TEXT_FIELDS[1:3]:  # source_ref refuses spaces anyway
        errors = refused(with_value(alert, path, text))
        assert [(e["field"], e["type"]) for e in errors] == [(path, "control_character")]


@given(before=VISIBLE, control=CONTROLS.filter(lambda c: c not in "\n\t"), after=VISIBLE)
def test_any_control_but_newline_and_tab_is_refused_in_long_text(
    before: str, control: str, after: str
) -> None:
    errors = refused(with_value(WANTED, "description", f"a{before}{control}{after}z"))
    assert [(e["field"], e["type"]) for e in errors] == [("description", "control_character")]


SCRIPTS = st.sampled_from(
    [
        "ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ",
        "周涛集资诈骗通缉北京市公安局发现嫌疑人电话号码银行账户",
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяОбнаружен",
        "ABCXYZ0123456789 .,-()'/",
    ]
)


@given(st.data())
def test_ordinary_vietnamese_chinese_russian_text_is_admitted(data: st.DataObject) -> None:
    alphabet = data.draw(SCRIPTS)
    text = data.draw(st.text(st.sampled_from(alphabet), min_size=1, max_size=200))
    stripped = text.strip()
    if not stripped:
        return  # whitespace only: refused as empty, not the point here
    for path in ("title", "subject.full_name", "description"):
        assert get(parse_alert(with_value(WANTED, path, text), NOW).model_dump(), path) == stripped


def test_every_control_character_is_a_control_character() -> None:
    # The validators use a range; unicodedata agrees with it over all of Unicode.
    cc = [c for c in map(chr, range(0x110000)) if unicodedata.category(c) == "Cc"]
    assert cc == [chr(i) for i in [*range(0x20), *range(0x7F, 0xA0)]]


# --- dates --------------------------------------------------------------------------------------


def at(delta: timedelta) -> str:
    return (NOW + delta).isoformat()


def day(delta: timedelta) -> str:
    return (NOW + delta).date().isoformat()


@pytest.mark.parametrize(
    ("alert", "path", "value", "error"),
    [
        (WANTED, "subject.date_of_birth", "2999-01-01", "date_in_future"),
        (WANTED, "subject.date_of_birth", day(timedelta(days=2)), "date_in_future"),
        (WANTED, "subject.date_of_birth", "1899-12-31", "date_too_early"),
        (WANTED, "subject.date_of_birth", "0001-01-01", "date_too_early"),
        (WANTED, "subject.last_seen.at", at(timedelta(days=1, minutes=1)), "date_in_future"),
        (SCAM, "subject.first_seen", day(timedelta(days=2)), "date_in_future"),
        (SCAM, "subject.first_seen", "1989-12-31", "date_too_early"),
        (SCAM, "subject.last_seen", day(timedelta(days=2)), "date_in_future"),
        (SCAM, "subject.last_seen", "2026-10-31", "date_order"),  # before first_seen
        (WANTED, "expires_at", "1970-01-01T00:00:00Z", "expired"),
        (WANTED, "expires_at", at(timedelta(seconds=-1)), "expired"),
        (WANTED, "expires_at", at(timedelta(days=6 * 365)), "date_too_late"),
    ],
)
def test_implausible_dates_are_refused_naming_the_field(
    alert: dict[str, Any], path: str, value: str, error: str
) -> None:
    errors = refused(with_value(alert, path, value))
    assert [(e["field"], e["type"]) for e in errors] == [(path, error)]


@pytest.mark.parametrize(
    ("alert", "path", "value"),
    [
        (WANTED, "subject.date_of_birth", "1900-01-01"),
        (WANTED, "subject.date_of_birth", day(timedelta(0))),
        (WANTED, "subject.date_of_birth", day(timedelta(days=1))),  # the partner's zone is ahead
        (WANTED, "subject.last_seen.at", at(timedelta(hours=23))),
        (WANTED, "subject.last_seen.at", "1999-01-01T00:00:00Z"),
        (SCAM, "subject.first_seen", "1990-01-01"),
        (SCAM, "subject.last_seen", day(timedelta(days=1))),
        (SCAM, "subject.last_seen", "2026-11-01"),  # the same day as first_seen
        (WANTED, "expires_at", at(timedelta(minutes=1))),
        (WANTED, "expires_at", at(timedelta(days=5 * 365))),
    ],
)
def test_plausible_dates_are_admitted(alert: dict[str, Any], path: str, value: str) -> None:
    parse_alert(with_value(alert, path, value), NOW)


def test_without_a_time_the_dates_are_checked_against_the_clock() -> None:
    with pytest.raises(ValidationError, match="expired"):
        parse_alert(with_value(WANTED, "expires_at", "1970-01-01T00:00:00Z"))
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    parse_alert(with_value(WANTED, "expires_at", tomorrow.isoformat()))


def record_of(body: Any) -> AlertRecord:
    return record("vn-hanoi", body, at=NOW)


def test_a_stored_record_reads_back_after_it_has_expired() -> None:
    # Admitted while it was current; the worker and the gateway read it again much later.
    body = parse_alert(with_value(WANTED, "expires_at", at(timedelta(hours=1))), NOW)
    raw = dumps(record_of(body))
    assert loads(AlertRecord, raw).body.expires_at == NOW + timedelta(hours=1)


def test_a_record_stored_before_these_rules_still_reads_back() -> None:
    # The rules admit partner input; what Kafka already holds stays readable as it was accepted.
    body = parse_alert(WANTED, NOW)
    raw = dumps(record_of(body)).replace(
        orjson.dumps(body.title), orjson.dumps("\u202egnp.exe\x00")
    )
    assert loads(AlertRecord, raw).body.title == "\u202egnp.exe\x00"
