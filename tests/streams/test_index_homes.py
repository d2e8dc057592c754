"""The case index spread over partitions: where entries live, and links as messages.

Two "workers" share one set of dicts here, each holding half the partitions; what a worker
cannot apply itself it leaves as messages, delivered later in any order to the other. Linking
must end where one worker holding everything ends: mutual, within the caps, and below them
exactly the cases sharing a token.
"""

from __future__ import annotations

import random
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline import normalize as n
from streams import case_tables, cases
from streams import links as link_index
from streams.case_tables import CaseTables, Homes
from streams.links import LinkMessage, Links, home_of
from tests.streams.test_cases import KEY, NOW, TTL, fraud, indicators

P = 8
PROPS = settings(max_examples=120, deadline=None)
_TOKENS = [f"app:t{i}" for i in range(5)] + ["phone:+84912345678", "domain:scam.example"]
_TOKEN_SETS = st.sets(st.sampled_from(_TOKENS), min_size=1).map(frozenset)


class Cluster:
    """Two workers over the same tables: one holds the even partitions, one the odd."""

    def __init__(self) -> None:
        self.dicts: list[dict[str, str]] = [{}, {}, {}, {}]
        self.mail: list[LinkMessage] = []

    def worker(self, p: int) -> CaseTables:
        parity = p % 2
        return CaseTables(*self.dicts, homes=Homes(P, owns=lambda q: q % 2 == parity))

    def join(self, ref: str, *tokens: str) -> str:
        e = indicators(*tokens)
        record = fraud(ref)
        station = Homes(P).station(record, e)
        joined = cases.join(
            self.worker(station), record, e, NOW, TTL, audience=["cn-beijing"], key=KEY
        )
        self.mail += joined.links
        return joined.case.case_id

    def deliver(self, rnd: random.Random, how_many: int | None = None) -> None:
        count = len(self.mail) if how_many is None else min(how_many, len(self.mail))
        for _ in range(count):
            msg = self.mail.pop(rnd.randrange(len(self.mail)))
            links = Links(self.worker(home_of(Homes(P), msg)))
            links.apply(msg)
            assert not links.remote or all(
                home_of(Homes(P), m) % 2 != home_of(Homes(P), msg) % 2 for m in links.remote
            )
            self.mail += links.remote

    def drain(self, rnd: random.Random) -> None:
        while self.mail:
            self.deliver(rnd)

    def related(self, case_id: str) -> dict[str, list[str]]:
        case = case_tables.get(CaseTables(*self.dicts, homes=Homes(P)), case_id)
        assert case is not None
        return case.related


def test_a_case_id_says_where_the_case_lives() -> None:
    case_id = cases.case_id_for("al-1", KEY, 5)
    assert case_id.endswith("05") and len(case_id) == len("cs-") + 24
    assert Homes(P).of_case(case_id) == 5
    assert cases.case_id_for("al-1", KEY, 5) == case_id  # derived, so a replay opens it again


def test_a_scam_number_is_matched_and_linked_in_one_place() -> None:
    number = "+84912345678"
    fingerprint = n.scam_number_fingerprint(number)
    token = next(iter(n.indicator_tokens({"phone": [number]})))
    assert Homes(P).of_key(fingerprint) == Homes(P).of_key(token)


def test_persons_live_on_one_partition() -> None:
    assert Homes(P).of_key("doc:passport|VN|B1234567") == case_tables.PERSONS
    assert Homes(P).of_key("person:nguyen van an|1985-07-21") == case_tables.PERSONS


def test_one_worker_holding_everything_leaves_no_message() -> None:
    t = CaseTables({}, {}, {}, {}, homes=Homes(P))
    for i in range(5):
        joined = cases.join(
            t, fraud(f"F{i}"), indicators("app:shared", f"app:own {i}"), NOW, TTL,
            audience=["cn-beijing"], key=KEY,
        )  # fmt: skip
        assert joined.links == []
    assert len(joined.case.related) == 4  # linked at once, in the event it goes out with


def test_a_worker_never_reads_a_partition_it_does_not_hold() -> None:
    c = Cluster()
    first = c.join("F1", "app:t1")
    e = indicators("app:t1")
    record = fraud("F1-again-from-beijing", "cn-beijing")
    # The same pattern matched by the worker that does not hold its station opens no case
    # there from what it read: it finds nothing (it must be sent to the station instead).
    station = Homes(P).station(record, e)
    elsewhere = CaseTables(*c.dicts, homes=Homes(P, owns=lambda q: q != station))
    assert cases.find(elsewhere, record, e, NOW, TTL) is None
    assert cases.find(c.worker(station), record, e, NOW, TTL) is not None
    assert cases.find(c.worker(station), record, e, NOW, TTL).case_id == first  # type: ignore[union-attr]


@PROPS
@given(st.lists(_TOKEN_SETS, min_size=1, max_size=12, unique=True), st.randoms())
def test_links_through_messages_in_any_order_are_those_of_one_worker(
    token_sets: list[frozenset[str]], rnd: random.Random
) -> None:
    c = Cluster()
    ids = []
    for i, s in enumerate(token_sets):
        ids.append(c.join(f"F{i}", *sorted(s)))
        c.deliver(rnd, rnd.randrange(3))  # some now, some later
    c.drain(rnd)
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            shares = a != b and bool(token_sets[i] & token_sets[j])
            assert (b in c.related(a)) == shares


@PROPS
@given(st.lists(_TOKEN_SETS, min_size=1, max_size=16, unique=True), st.randoms())
def test_links_through_messages_past_the_caps_stay_bounded_and_mutual(
    token_sets: list[frozenset[str]], rnd: random.Random
) -> None:
    with (
        mock.patch.object(link_index, "LINKS_PER_TOKEN", 3),
        mock.patch.object(link_index, "RELATED_MAX", 4),
    ):
        c = Cluster()
        ids = []
        for i, s in enumerate(token_sets):
            ids.append(c.join(f"F{i}", *sorted(s)))
            c.deliver(rnd, rnd.randrange(3))
        c.drain(rnd)
        tokens_of = dict(zip(ids, token_sets, strict=True))
        for a in ids:
            mine = c.related(a)
            assert len(mine) <= 4
            for b in mine:
                assert a in c.related(b)  # mutual
                assert tokens_of[a] & tokens_of[b]  # founded


@PROPS
@given(st.lists(_TOKEN_SETS, min_size=1, max_size=8, unique=True), st.randoms())
def test_a_message_applied_twice_changes_nothing(
    token_sets: list[frozenset[str]], rnd: random.Random
) -> None:
    c = Cluster()
    for i, s in enumerate(token_sets):
        c.join(f"F{i}", *sorted(s))
        c.mail += list(c.mail)  # every message read again, as after a crash
    c.drain(rnd)
    once = Cluster()
    ids = []
    for i, s in enumerate(token_sets):
        ids.append(once.join(f"F{i}", *sorted(s)))
    once.drain(rnd)
    assert c.dicts[0].keys() == once.dicts[0].keys()  # the same cases, related the same way
    assert all(c.related(i) == once.related(i) for i in ids)
