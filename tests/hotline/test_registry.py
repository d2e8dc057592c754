"""Lookup queries: keyed exactly as the stream keys what it stores, or refused naming the field."""

from __future__ import annotations

from datetime import date

import pytest

from hotline import normalize as n
from hotline.errors import InvalidQuery
from hotline.names import name_key
from hotline.registry import (
    DocumentQuery,
    NumberQuery,
    PersonQuery,
    index_key,
    internal_token,
    parse,
    token_ok,
)


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("0912 345 678", "VN"),  # national, as Hanoi dials it
        ("0912-345-678", "VN"),
        ("+84 912 345 678", "CN"),  # international, from Beijing
        ("+84912345678", "RU"),
        ("0084 912 345 678", "CN"),  # China's international prefix is 00
        ("+８４ ９１２ ３４５ ６７８", "RU"),  # full-width digits
    ],
)
def test_a_number_in_any_format_is_keyed_by_its_e164(raw: str, region: str) -> None:
    q = parse(region=region, number=raw)
    assert q == NumberQuery(e164="+84912345678")
    assert index_key(q) == n.scam_number_fingerprint("+84912345678")


def test_a_national_number_is_dialled_from_the_callers_country() -> None:
    assert parse(region="RU", number="8 495 123-45-67") == NumberQuery(e164="+74951234567")
    assert parse(region="CN", number="010 6512 3456") == NumberQuery(e164="+861065123456")


def test_a_document_is_normalized_as_reports_are() -> None:
    q = parse(region="VN", document="72 1234567", country="ru", doc_type="Passport")
    assert q == DocumentQuery(number="721234567", country="RU", type="passport")
    assert parse(region="VN", document="c-123.4567") == DocumentQuery(number="C1234567")


def test_a_person_is_folded_and_keyed_as_the_stream_matches() -> None:
    q = parse(region="CN", name="Нгуен Ван Ан", date_of_birth="1990-02-01")
    assert isinstance(q, PersonQuery)
    assert q.name_key == name_key("Nguyễn Văn An")
    assert q.date_of_birth == date(1990, 2, 1)
    assert parse(region="VN", name="王建国", date_of_birth="1985-01-01").name_key == name_key(
        "Wang Jian Guo"
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "number"),
        ({"number": "1", "name": "A B"}, "name"),
        ({"number": "not a number"}, "number"),
        ({"number": "+84 1"}, "number"),
        ({"document": "!!!"}, "document"),
        ({"document": "721234567", "country": "Russia"}, "country"),
        ({"document": "721234567", "doc_type": "pass:port"}, "type"),
        ({"name": "Nguyen Van An"}, "date_of_birth"),
        ({"name": "Nguyen Van An", "date_of_birth": "01/02/1990"}, "date_of_birth"),
        ({"name": "!! ??", "date_of_birth": "1990-02-01"}, "name"),
    ],
)
def test_an_unusable_query_is_refused_naming_the_parameter(
    params: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidQuery) as exc:
        parse(region="VN", **params)
    assert exc.value.status_code == 422
    assert [e["field"] for e in exc.value.extra["errors"]] == [field]


def test_the_internal_token_is_the_deployments_own() -> None:
    token = internal_token(b"secret-a")
    assert token_ok(token, b"secret-a")
    assert not token_ok(token, b"secret-b")
    assert not token_ok(None, b"secret-a")
    assert not token_ok("", b"secret-a")
