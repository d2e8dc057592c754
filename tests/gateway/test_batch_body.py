"""A batch body as the workers parse it: the same items, errors and order as when the gateway's
loop parsed the body whole, however the body is cut into pieces and chunks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from gateway import batch_body, intake_pool
from gateway.batch_body import Split
from gateway.intake import Outcome, Refused
from gateway.main import create_app
from hotline.alert_in import alert_id_for
from hotline.errors import InvalidAlert
from hotline.settings import Settings
from tests.gateway.test_intake import AUTH, SENDER, Written, scam

TOO_DEEP = Refused(422, "too_deep_for_orjson", "refused where it was parsed")


def refuse(item: Any) -> Outcome:
    return TOO_DEEP


def deep(levels: int) -> Any:
    value: Any = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def line_error(line: bytes) -> Refused:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return Refused(
            422,
            "invalid_alert",
            f"line is not valid JSON: {exc}",
            [{"field": "body", "message": str(exc), "type": "json_invalid"}],
        )
    raise AssertionError(f"{line!r} is JSON")


def loop_parsed(raw: bytes) -> list[Any]:
    """An NDJSON body's items as the gateway's loop used to parse it, one line at a time (and an
    item that orjson cannot write back, refused then on the loop)."""
    items: list[Any] = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError:
            items.append(line_error(line))
            continue
        try:
            orjson.dumps(item)
        except orjson.JSONEncodeError:
            item = TOO_DEEP
        items.append(item)
    return items


def flat(split: Split) -> list[Any]:
    """Each item, in order: its outcome if parsing decided it, else the item a check gets."""
    rest = iter([item for chunk in split.chunks for item in batch_body.items_of(chunk)])
    return [split.decided[i] if i in split.decided else next(rest) for i in range(split.total)]


def in_pieces(raw: bytes, size: int, chunk_items: int, limit: int = 10_000) -> Split:
    cuts = batch_body.pieces(raw, size)
    parsed = (batch_body.split_lines(raw[a:b], limit, chunk_items, refuse) for a, b in cuts)
    return batch_body.joined(parsed)


# --- NDJSON: cut anywhere at a line feed, parsed piece by piece --------------------------------

texts = st.text(alphabet=st.sampled_from('ab "\\[]{},:\n\r\t\u2028\u00e9'), max_size=8)
documents = st.builds(lambda t: orjson.dumps({"title": t, "list": [t]}), texts)
segments = st.one_of(
    documents,
    st.sampled_from([b"{", b"x", b"]", b"[1,", b'"open', b"{}", b"[]", b"42", b"null"]),
    st.sampled_from([b" ", b"\t", b"\x0b", b"\x0c"]),
    st.sampled_from([b"\n", b"\r", b"\r\n", b"\n\n", b"\r\r\n"]),
)


@given(
    st.lists(segments, max_size=40).map(b"".join),
    st.integers(1, 40),
    st.integers(1, 4),
)
def test_ndjson_in_pieces_is_the_body_parsed_whole(raw: bytes, size: int, chunk_items: int) -> None:
    split = in_pieces(raw, size, chunk_items)
    assert flat(split) == loop_parsed(raw)
    assert all(1 <= batch_body.size_of(c) <= chunk_items for c in split.chunks)
    assert [batch_body.size_of(c) for c in split.chunks] == [
        len(batch_body.items_of(c)) for c in split.chunks
    ]


@given(st.binary(max_size=200), st.integers(1, 50))
def test_pieces_end_at_line_feeds_and_make_up_the_body(raw: bytes, size: int) -> None:
    cuts = batch_body.pieces(raw, size)
    assert b"".join(raw[a:b] for a, b in cuts) == raw
    assert all(a < b for a, b in cuts)
    assert all(raw[b - 1 : b] == b"\n" for _, b in cuts[:-1])
    assert [line for a, b in cuts for line in raw[a:b].splitlines()] == raw.splitlines()


def test_a_crlf_pair_is_never_cut_apart() -> None:
    raw = b'{"a":1}\r\n{"a":2}\r\n'
    for size in range(1, len(raw) + 1):
        assert all(raw[b - 2 : b] == b"\r\n" for _, b in batch_body.pieces(raw, size))


def test_an_ndjson_line_that_is_not_json_is_refused_in_its_place() -> None:
    raw = b'{"a": 1}\n\n  \n{"a": \r\n[1, 2]\n'
    split = in_pieces(raw, 4, 1)
    assert split.total == 3
    assert flat(split) == [{"a": 1}, line_error(b'{"a": '), [1, 2]]


def test_a_line_too_deep_to_write_back_is_decided_where_it_is_parsed() -> None:
    raw = b"\n".join([b"{}", json.dumps(deep(300)).encode(), b"[]"])
    split = in_pieces(raw, 1_000_000, 10)
    assert split.decided == {1: TOO_DEEP}
    assert flat(split) == [{}, TOO_DEEP, []]


def test_past_the_limit_only_the_count_comes_back() -> None:
    raw = b"{}\n" * 5
    assert batch_body.split_lines(raw, 4, 2, refuse) == Split(5, [], {})
    assert in_pieces(raw, 6, 2, limit=4).total == 5  # each piece under the limit, not the body


# --- a JSON array: parsed whole, its items written back one a line ---------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=10,
)


@given(st.lists(json_values, max_size=12), st.integers(1, 5), st.sampled_from([None, 2]))
def test_an_array_is_its_items_in_order(items: list[Any], chunk_items: int, indent: Any) -> None:
    raw = json.dumps(items, indent=indent).encode()  # indented: line feeds between the items
    split = batch_body.split_array(raw, 10_000, chunk_items, refuse)
    assert split.total == len(items) and not split.decided
    assert flat(split) == orjson.loads(raw)
    assert all(1 <= batch_body.size_of(c) <= chunk_items for c in split.chunks)


def test_strings_that_look_like_structure_stay_strings() -> None:
    tricky = ["a\nb", "],[", '"}{"', "\\", "\r\n", "\u2028\u2029", "x\u0000y", "{\n}"]
    items = [{"title": t, "n": i} for i, t in enumerate(tricky)]
    for raw in (orjson.dumps(items), json.dumps(items, indent=1, ensure_ascii=False).encode()):
        split = batch_body.split_array(raw, 10_000, 3, refuse)
        assert flat(split) == items


def test_an_item_too_deep_to_write_back_is_decided_in_its_place() -> None:
    raw = json.dumps([{"a": 1}, deep(300), deep(200), "last"]).encode()
    split = batch_body.split_array(raw, 10_000, 2, refuse)
    assert split.decided == {1: TOO_DEEP}
    assert flat(split) == [{"a": 1}, TOO_DEEP, deep(200), "last"]


def body_error(raw: bytes) -> tuple[str, Any]:
    with pytest.raises(InvalidAlert) as exc:
        batch_body.split_array(raw, 10_000, 500, refuse)
    return exc.value.detail, exc.value.extra["errors"]


@pytest.mark.parametrize("raw", [b"", b"[", b'[{"a": 1},', b"[1] x", b"[1]\n[2]", b"\xff"])
def test_a_body_that_is_not_json_is_refused_whole_as_before(raw: bytes) -> None:
    with pytest.raises(orjson.JSONDecodeError) as exc:
        orjson.loads(raw)
    assert body_error(raw) == (
        f"the body is not valid JSON: {exc.value}",
        [{"field": "body", "message": str(exc.value), "type": "json_invalid"}],
    )


@pytest.mark.parametrize("raw", [b"{}", b'"items"', b"3", b"null"])
def test_a_json_body_that_is_not_an_array_is_refused_whole(raw: bytes) -> None:
    detail, errors = body_error(raw)
    assert detail == "a batch is a JSON array, or NDJSON sent as application/x-ndjson"
    assert errors == [{"field": "body", "message": "expected a JSON array", "type": "list_type"}]


def test_an_array_past_the_limit_is_only_counted() -> None:
    assert batch_body.split_array(b"[1, 2, 3]", 2, 1, refuse) == Split(3, [], {})


# --- which format ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "raw", "array"),
    [
        ("application/json", b'{"kind": "scam_number"}', True),
        ("Application/JSON; charset=utf-8", b"{}\n{}", True),
        ("application/x-ndjson", b"[1]", False),
        ("application/ndjson", b"[1]", False),
        ("", b"[1]", True),
        ("", b" \r\n\t [1]", True),
        ("", b" " * 1000 + b"[1]", True),
        ("", b"\n" * 4095 + b"[1]", True),
        ("", b"\t" * 4096 + b"[1]", True),
        ("", b" " * 10_000 + b"{}", False),
        ("", b" " * 10_000, False),
        ("", b"", False),
        ("", b'{"a": 1}\n[1]', False),
        ("text/plain", b"[1]", True),
    ],
)
def test_the_format_is_the_declared_type_else_the_first_character(
    content_type: str, raw: bytes, array: bool
) -> None:
    assert batch_body.is_array(raw, content_type) is array


# --- the route: the same answers, the body parsed on the workers -----------------------------


@pytest.fixture
def app() -> Iterator[Any]:
    app = create_app(Settings(max_batch=20))
    app.state.services.publisher.send_many = Written()
    yield app
    app.state.services.intake.close()


def post(app: Any, body: bytes, content_type: str | None = None) -> httpx.Response:
    headers = {**AUTH, "Content-Type": content_type} if content_type else AUTH
    client = TestClient(app, raise_server_exceptions=False)
    return client.post("/v1/alerts/batch", content=body, headers=headers)


def answers(r: httpx.Response) -> list[tuple[int, str | None, bool]]:
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["index"] for i in items] == list(range(len(items)))
    return [(i["status"], i["error"], i["duplicate"]) for i in items]


NOTE = 'a line\nand "quotes", ] [ , }{ \u2028 \\ and the end'


def across_chunks() -> list[Any]:
    return [
        scam("HN-X-0"),
        {"kind": "scam_number"},
        scam("HN-X-1", description=NOTE),
        scam("HN-X-0"),  # a repeat, in another chunk
        deep(300),
        scam("HN-X-0", title="Another title"),  # the same source_ref, other content
        42,
        scam("HN-X-2", urgency="immediate"),
    ]


ACROSS_CHUNKS = [
    (202, None, False),
    (422, "invalid_alert", False),
    (202, None, False),
    (202, None, True),
    (422, "invalid_alert", False),
    (409, "conflict", False),
    (422, "invalid_alert", False),
    (202, None, False),
]


def test_an_array_cut_into_chunks_is_answered_item_by_item_in_order(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake_pool, "CHUNK_ITEMS", 2)
    r = post(app, json.dumps(across_chunks(), indent=2).encode())  # line feeds between items
    assert answers(r) == ACROSS_CHUNKS
    stored = app.state.services.known.state(alert_id_for(SENDER, "HN-X-1"))
    assert stored.alert.body.description == NOTE


def test_ndjson_cut_into_pieces_and_chunks_is_answered_item_by_item_in_order(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake_pool, "CHUNK_ITEMS", 2)
    monkeypatch.setattr(intake_pool, "PIECE_BYTES", 64)
    # Not ASCII-escaped: U+2028 is a line break to str.splitlines, not to a body's bytes.
    lines = [json.dumps(item, ensure_ascii=False).encode() for item in across_chunks()]
    ends = [b"\r\n", b"\n\n", b"\r", b"\n \t\n", b"\n", b"\r\n\r\n", b"\n", b""]
    body = b"\n" + b"".join(line + end for line, end in zip(lines, ends, strict=True))
    assert answers(post(app, body, "application/x-ndjson")) == ACROSS_CHUNKS
    stored = app.state.services.known.state(alert_id_for(SENDER, "HN-X-1"))
    assert stored.alert.body.description == NOTE


def test_an_ndjson_line_that_is_not_json_keeps_its_own_answer(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake_pool, "PIECE_BYTES", 16)
    bad = b'{"source_ref": "HN-X-9", "title": "unterminated'
    body = b"\n".join([orjson.dumps(scam("HN-X-8")), bad, b"]", orjson.dumps(scam("HN-X-9"))])
    r = post(app, body, "application/x-ndjson")
    assert answers(r) == [
        (202, None, False),
        (422, "invalid_alert", False),
        (422, "invalid_alert", False),
        (202, None, False),
    ]
    refused = r.json()["items"][1]
    assert (refused["detail"], refused["errors"]) == (
        line_error(bad).detail,
        line_error(bad).errors,
    )


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'[{"source_ref": "HN-X-1"},', None),
        (b"[1] [2]", None),
        (b'{"a": 1}\n{"a": 2}', "application/json"),
        (b"", "application/json"),
        (b"   [\xff]", None),
    ],
)
def test_a_body_that_is_not_json_is_one_422_as_before(
    app: Any, body: bytes, content_type: str | None
) -> None:
    with pytest.raises(orjson.JSONDecodeError) as exc:
        orjson.loads(body)
    r = post(app, body, content_type)
    assert r.status_code == 422, r.text
    assert r.json() == {
        "error": "invalid_alert",
        "detail": f"the body is not valid JSON: {exc.value}",
        "errors": [{"field": "body", "message": str(exc.value), "type": "json_invalid"}],
    }
    assert app.state.services.publisher.send_many.records == []


def test_a_json_body_that_is_not_an_array_is_one_422(app: Any) -> None:
    r = post(app, orjson.dumps(scam("HN-X-1")), "application/json")
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {"field": "body", "message": "expected a JSON array", "type": "list_type"}
    ]


async def test_a_large_body_handed_over_in_parts_is_joined_off_the_loop(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a server hands a body over, 64 KiB at a time: joined in a thread (bytes.join lets go
    of the GIL), not in one long step of the loop."""
    joined_apart: list[Any] = []
    to_thread = asyncio.to_thread

    async def watched(func: Any, /, *args: Any) -> Any:
        joined_apart.append(func)
        return await to_thread(func, *args)

    monkeypatch.setattr(asyncio, "to_thread", watched)
    padding = (b" " * 1023 + b"\n") * 1100  # blank lines: over a megabyte, no items
    body = b"\n".join([orjson.dumps(scam("HN-X-1")), padding, orjson.dumps(scam("HN-X-2"))])

    async def parts() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 65536):
            yield body[i : i + 65536]

    headers = {**AUTH, "Content-Type": "application/x-ndjson"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        r = await client.post("/v1/alerts/batch", content=parts(), headers=headers)
    assert answers(r) == [(202, None, False)] * 2
    assert b"".join in joined_apart


def test_an_array_after_much_whitespace_is_still_an_array(app: Any) -> None:
    r = post(app, b" \n" * 100 + orjson.dumps([scam("HN-X-1")]))
    assert answers(r) == [(202, None, False)]


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson"])
def test_too_many_items_is_a_413_even_when_no_piece_alone_has_too_many(
    app: Any, monkeypatch: pytest.MonkeyPatch, content_type: str
) -> None:
    monkeypatch.setattr(intake_pool, "PIECE_BYTES", 400)  # some 2 alerts a piece
    items = [scam(f"HN-X-{i}") for i in range(21)]
    if content_type == "application/json":
        body = orjson.dumps(items)
    else:
        body = b"\n".join(orjson.dumps(i) for i in items)
    r = post(app, body, content_type)
    assert r.status_code == 413, r.text
    assert r.json()["detail"] == "at most 20 alerts per batch, got 21"
    assert app.state.services.publisher.send_many.records == []


def test_the_rate_is_charged_by_the_items_the_workers_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app(Settings(partner_bulk_burst=5, partner_bulk_items_per_s=0.001))
    app.state.services.publisher.send_many = Written()
    monkeypatch.setattr(intake_pool, "PIECE_BYTES", 1)  # a piece a line

    def ndjson(*refs: str) -> bytes:  # blank lines between, and after: they are no items
        return b"\n\n\n".join(orjson.dumps(scam(ref)) for ref in refs) + b"\n \n\n"

    try:
        three = post(app, ndjson("HN-X-1", "HN-X-2", "HN-X-3"), "application/x-ndjson")
        assert answers(three) == [(202, None, False)] * 3
        assert (
            post(app, ndjson("HN-X-4", "HN-X-5", "HN-X-6"), "application/x-ndjson").status_code
            == 429
        )
        two = post(app, ndjson("HN-X-4", "HN-X-5"), "application/x-ndjson")
        assert answers(two) == [(202, None, False)] * 2
    finally:
        app.state.services.intake.close()
