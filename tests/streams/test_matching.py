"""The bulk lane's round trip through the case index, on plain dicts: it must decide exactly
what matching in place decides, whatever crosses Kafka in between."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hotline.codec import dumps, loads
from hotline.settings import Settings
from streams.case_tables import CaseTables
from streams.matching import (
    MatchAnswer,
    MatchItem,
    MatchReply,
    MatchRequest,
    batches,
    reply_values,
    request_values,
)
from streams.process import Processor
from streams.state import Matched, Out, Prepared, State
from streams.steps import batched

from .test_process import NOW, events, person, record, scam


def in_place(proc: Processor, records: list[Any]) -> list[Out]:
    st = State(alerts={}, cases=CaseTables({}, {}, {}, {}), escalations={})
    return [o for r in records for o in proc.submission(r, st, NOW)]


def round_trip(proc: Processor, records: list[Any]) -> list[Out]:
    """As the two lanes do it: the bulk lane's tables on one side, the case index on the
    other, and only serialized requests and answers between them."""
    lane = State(alerts={}, cases=None, escalations={})
    index = CaseTables({}, {}, {}, {})
    outs: list[Out] = []
    for r in records:
        admitted = proc.admit(r, lane, NOW)
        if not isinstance(admitted, Prepared):
            outs += admitted
            continue
        [request] = request_values([dumps(MatchItem.of(admitted))], 1_000_000)
        [item] = loads(MatchRequest, request).items
        m = proc.match(item.prepared(), index, NOW)
        [reply] = reply_values([dumps(MatchAnswer(item=item, case=m.case))], 1_000_000)
        [answer] = loads(MatchReply, reply).answers
        assert answer.case is not None
        outs += proc.deliver(answer.item.prepared(), Matched(answer.case), lane, NOW)
    return outs


@pytest.fixture
def proc() -> Processor:
    return Processor(Settings(escalation_seconds=60))


def test_the_round_trip_decides_what_matching_in_place_decides(proc: Processor) -> None:
    docs = [{"type": "passport", "number": "C1234567", "country": "VN"}]
    records = [
        record("vn-hanoi", scam("S1", "0912 345 678"), lane="bulk"),
        record("ru-moscow", scam("M1", "+84 912 345 678"), lane="bulk"),  # corroborates
        record("vn-hanoi", scam("S1", "0912 345 678"), lane="bulk"),  # a retry: dropped
        record("cn-beijing", scam("B1", "+86 138 0013 8000", tlp="red", recipients=["vn-hanoi"])),
        record("vn-hanoi", person("P1", "Nguyễn Văn An", "1980-01-02", docs)),
        record("ru-moscow", person("P2", "NGUYEN VAN AN", "1980-01-02", [])),  # by name + dob
        record("vn-hanoi", scam("S1-U", "0912 345 678", msg_type="update", references="S1")),
    ]
    outs = round_trip(proc, records)
    assert outs == in_place(proc, records)
    assert {name for _, name, _ in events(outs)} >= {"new", "corroborated", "updated"}


def test_answers_come_back_whole() -> None:
    # An answer carries the admitted alert back, so the bulk lane keeps nothing between the
    # request and the answer: a restart in between loses nothing.
    proc = Processor(Settings(escalation_seconds=60))
    lane = State(alerts={}, cases=None, escalations={})
    admitted = proc.admit(record("vn-hanoi", scam("S9", "0912 000 999"), lane="bulk"), lane, NOW)
    assert isinstance(admitted, Prepared)
    again = loads(MatchItem, dumps(MatchItem.of(admitted))).prepared()
    assert again == admitted


def test_batches_fit_the_record_limit_and_keep_every_item_in_order() -> None:
    parts = [orjson.dumps({"n": i, "pad": "x" * (i % 7) * 100}) for i in range(200)]
    values = request_values(parts, 8_000)
    assert len(values) > 1
    assert all(len(v) <= 8_000 for v in values)
    items = [i for v in values for i in orjson.loads(v)["items"]]
    assert [i["n"] for i in items] == list(range(200))


def test_an_item_larger_than_a_batch_goes_alone() -> None:
    big, small = b"x" * 50, b"y"
    assert list(batches([small, big, small], 20)) == [[small], [big], [small]]


def test_answers_go_back_to_the_partition_that_holds_their_alerts() -> None:
    # The bulk lane has P partitions; the case index answers a batch mixing several of them.
    answers = [Out("t.matched", b"", orjson.dumps({"n": i}), i % 3) for i in range(9)]
    other = Out("t.deliveries", b"al-x", b"{}")
    out = batched([*answers, other], "t.match", "t.matched", 1_000_000)
    assert other in out
    back = {o.partition: orjson.loads(o.value)["answers"] for o in out if o.topic == "t.matched"}
    assert back == {p: [{"n": i} for i in range(p, 9, 3)] for p in range(3)}


def test_an_item_keeps_its_partition_through_the_round_trip() -> None:
    proc = Processor(Settings(escalation_seconds=60))
    lane = State(alerts={}, cases=None, escalations={})
    admitted = proc.admit(record("vn-hanoi", scam("S8", "0912 000 998"), lane="bulk"), lane, NOW)
    assert isinstance(admitted, Prepared)
    assert loads(MatchItem, dumps(MatchItem.of(admitted, 5))).partition == 5
