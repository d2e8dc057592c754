"""Case matching and linking on plain dicts: what it finds, and what it costs in table accesses."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline import need_to_know as ntk
from hotline import normalize as n
from hotline.alert_in import parse_alert
from hotline.models import RELATED_MAX, AlertRecord, CaseRecord, Enrichment, Report
from hotline.names import name_key, name_matches
from streams import case_tables, cases
from streams import links as link_index
from streams import persons as person_index
from streams.case_tables import CaseTables
from streams.links import LINKS_PER_TOKEN
from streams.persons import PERSONS_PER_TOKEN, index_person, persons_matching
from tests.fixtures.names import spelling, syllables
from tests.fixtures.records import record

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
TTL = timedelta(days=30)
KEY = b"test-key"
PROPS = settings(max_examples=150, deadline=None)


class Counting(MutableMapping[str, str]):
    """A table that counts its reads and writes, and fails on a scan of all its keys."""

    def __init__(self, data: dict[str, str]) -> None:
        self.data = data
        self.reads = 0
        self.writes = 0
        self.read_values: list[str] = []

    def __getitem__(self, key: str) -> str:
        self.reads += 1
        value = self.data[key]
        self.read_values.append(value)
        return value

    def __setitem__(self, key: str, value: str) -> None:
        self.writes += 1
        self.data[key] = value

    def __delitem__(self, key: str) -> None:
        self.writes += 1
        del self.data[key]

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("matching must not scan a table")

    def __len__(self) -> int:
        raise AssertionError("matching must not scan a table")


def tables() -> CaseTables:
    return CaseTables({}, {}, {}, {})


def counting(t: CaseTables) -> CaseTables:
    return CaseTables(
        Counting(dict(t.cases)),
        Counting(dict(t.fingerprints)),
        Counting(dict(t.persons)),
        Counting(dict(t.links)),
    )


def snapshot(t: CaseTables) -> list[dict[str, str]]:
    return [dict(x) for x in (t.cases, t.fingerprints, t.persons, t.links)]


def fraud(ref: str, sender: str = "vn-hanoi") -> AlertRecord:
    alert = parse_alert(
        {
            "source_ref": ref,
            "kind": "fraud_pattern",
            "severity": "moderate",
            "urgency": "expected",
            "tlp": "green",
            "title": "Fake investment app",
            "subject": {"scheme": "investment", "indicators": {"app_names": [ref]}},
        }
    )
    return record(sender, alert, at=NOW)


def indicators(*tokens: str) -> Enrichment:
    """An enrichment holding `kind:value` tokens, fingerprinted as a fraud pattern is."""
    found: dict[str, list[str]] = {}
    for token in tokens:
        kind, value = token.split(":", 1)
        found.setdefault(kind, []).append(value)
    return Enrichment(indicators=found, fingerprints=[n.indicator_set_fingerprint(found)])


def join(t: CaseTables, ref: str, *tokens: str, sender: str = "vn-hanoi") -> cases.Joined:
    audience = ["cn-beijing"]
    return cases.join(
        t, fraud(ref, sender), indicators(*tokens), NOW, TTL, audience=audience, key=KEY
    )


def related(t: CaseTables, case_id: str) -> dict[str, list[str]]:
    case = case_tables.get(t, case_id)
    assert case is not None
    return case.related


def holders(t: CaseTables, token: str) -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(t.links[token])
    return doc


# --------------------------------------------------------------------- links: a common token


@pytest.fixture(scope="module")
def two_thousand() -> tuple[CaseTables, list[str]]:
    """2,000 cases that share the domain t.me and nothing else."""
    t = tables()
    ids = [join(t, f"F{i}", "domain:t.me", f"app:app {i}").case.case_id for i in range(2000)]
    return t, ids


def test_a_token_shared_by_2000_cases_costs_the_next_one_a_bounded_number_of_accesses(
    two_thousand: tuple[CaseTables, list[str]],
) -> None:
    t = counting(two_thousand[0])
    joined = join(t, "F-NEXT", "domain:t.me", "app:app next")
    assert joined.is_new_case
    assert joined.case.related == {}  # t.me says nothing about a common subject
    # One read and at most one write per own token; no other case read, none rewritten.
    assert isinstance(t.links, Counting) and isinstance(t.cases, Counting)
    assert (t.links.reads, t.links.writes) == (2, 2)
    assert (t.cases.reads, t.cases.writes) == (0, 1)
    assert holders(t, "domain:t.me") == {"n": 2001, "ids": two_thousand[1][:LINKS_PER_TOKEN]}


def test_the_first_holders_of_a_token_stay_linked_once_it_is_common(
    two_thousand: tuple[CaseTables, list[str]],
) -> None:
    t, ids = two_thousand
    first = ids[:LINKS_PER_TOKEN]
    for case_id in first:
        assert set(related(t, case_id)) == set(first) - {case_id}
    assert all(related(t, case_id) == {} for case_id in ids[LINKS_PER_TOKEN:])
    entry = holders(t, "domain:t.me")
    assert entry["n"] == 2000 and len(entry["ids"]) == LINKS_PER_TOKEN


def test_an_old_list_of_every_holder_is_read_as_a_count_and_rewritten_bounded() -> None:
    t = tables()
    old_ids = [f"cs-old-{i}" for i in range(2000)]
    t.links["domain:t.me"] = orjson.dumps(old_ids).decode()  # as stored before the cap
    c = counting(t)
    joined = join(c, "F-NEW", "domain:t.me")
    assert joined.case.related == {}
    assert isinstance(c.cases, Counting) and c.cases.reads == 0
    assert holders(c, "domain:t.me") == {"n": 2001, "ids": old_ids[:LINKS_PER_TOKEN]}


def test_an_old_short_list_still_links_its_holders() -> None:
    t = tables()
    first = join(t, "F1", "domain:scam.example").case.case_id
    t.links["domain:scam.example"] = orjson.dumps([first]).decode()  # as stored before the cap
    second = join(t, "F2", "domain:scam.example", "app:other").case.case_id
    assert list(related(t, second)) == [first]
    assert list(related(t, first)) == [second]
    assert holders(t, "domain:scam.example") == {"n": 2, "ids": [first, second]}


def test_a_replayed_record_writes_nothing_new_even_past_the_cap() -> None:
    t = tables()
    for i in range(LINKS_PER_TOKEN + 3):
        join(t, f"F{i}", "domain:t.me", f"app:app {i}")
    before = snapshot(t)
    again = join(t, f"F{LINKS_PER_TOKEN + 2}", "domain:t.me", f"app:app {LINKS_PER_TOKEN + 2}")
    assert not again.is_new_case
    assert snapshot(t) == before
    assert holders(t, "domain:t.me")["n"] == LINKS_PER_TOKEN + 3


def test_a_later_report_of_a_case_adds_no_holder() -> None:
    t = tables()
    first = join(t, "F1", "domain:t.me")
    later = join(t, "F1", "domain:t.me", sender="cn-beijing")  # same indicators: same case
    assert later.case.case_id == first.case.case_id and later.corroborated
    assert holders(t, "domain:t.me") == {"n": 1, "ids": [first.case.case_id]}


# --------------------------------------------------------------------- related: its cap


def test_related_stays_within_its_cap_and_every_link_is_mutual() -> None:
    t = tables()
    others = [join(t, f"O{i}", f"app:shared {i}").case.case_id for i in range(RELATED_MAX + 10)]
    tokens = [f"app:shared {i}" for i in range(RELATED_MAX + 10)]
    case = join(t, "BIG", *tokens).case
    assert len(case.related) == RELATED_MAX
    for other_id in others:
        assert (case.case_id in related(t, other_id)) == (other_id in case.related)


def test_a_full_case_is_not_linked_to_more() -> None:
    t = tables()
    full = join(t, "FULL", *(f"app:a{i}" for i in range(RELATED_MAX))).case.case_id
    o0 = join(t, "O0", "app:a0").case.case_id
    for i in range(1, RELATED_MAX):
        join(t, f"O{i}", f"app:a{i}")
    assert len(related(t, full)) == RELATED_MAX
    late = join(t, "LATE", "app:a0", "app:late").case
    assert list(late.related) == [o0]  # O0 has room; FULL has none, and links stay mutual
    assert late.case_id not in related(t, full)
    assert late.case_id in related(t, o0)


def test_a_view_shows_at_most_the_cap_of_an_old_oversized_case() -> None:
    case = CaseRecord(
        case_id="cs-1",
        kind="fraud_pattern",
        opened_at=NOW,
        updated_at=NOW,
        reports=[Report(alert_id="al-1", sender="vn-hanoi", audience=["vn-hanoi"], at=NOW)],
        related={f"cs-{i:04}": ["vn-hanoi"] for i in range(2000)},  # stored before the cap
    )
    view = ntk.case_view("vn-hanoi", case)
    assert view is not None
    assert view.related == [f"cs-{i:04}" for i in range(RELATED_MAX)]


_TOKENS = [f"app:t{i}" for i in range(5)]
# Distinct sets: the same indicator set is the same fraud pattern, so the same case.
_TOKEN_SETS = st.sets(st.sampled_from(_TOKENS), min_size=1).map(frozenset)


@PROPS
@given(st.lists(_TOKEN_SETS, min_size=1, max_size=12, unique=True))
def test_linking_within_the_caps_links_exactly_the_cases_sharing_a_token(
    token_sets: list[frozenset[str]],
) -> None:
    # Below both caps the bounded index behaves as the unbounded one did.
    t = tables()
    ids = [join(t, f"F{i}", *sorted(s)).case.case_id for i, s in enumerate(token_sets)]
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            shares = a != b and bool(token_sets[i] & token_sets[j])
            assert (b in related(t, a)) == shares


@PROPS
@given(st.lists(_TOKEN_SETS, min_size=1, max_size=16, unique=True))
def test_linking_past_the_caps_stays_bounded_mutual_and_founded(
    token_sets: list[frozenset[str]],
) -> None:
    with (
        mock.patch.object(link_index, "LINKS_PER_TOKEN", 3),
        mock.patch.object(link_index, "RELATED_MAX", 4),
    ):
        t = tables()
        ids = [join(t, f"F{i}", *sorted(s)).case.case_id for i, s in enumerate(token_sets)]
        tokens_of = dict(zip(ids, token_sets, strict=True))
        for token in _TOKENS:
            if token in t.links:
                entry = holders(t, token)
                assert entry["n"] == sum(token in s for s in token_sets)  # one record per case
                assert entry["ids"] == [c for c in ids if token in tokens_of[c]][:3]
        for a in ids:
            mine = related(t, a)
            assert len(mine) <= 4
            for b in mine:
                assert a in related(t, b)  # mutual
                held_together = [
                    tok
                    for tok in tokens_of[a] & tokens_of[b]
                    if {a, b} <= set(holders(t, tok)["ids"])
                ]
                assert held_together  # linked only through a token both held before the cap


# --------------------------------------------------------------------- persons by birth date

DOB = "1985-07-21"


class ScanAll:
    """The reference: the per-date list and exhaustive scan that the index replaced."""

    def __init__(self) -> None:
        self.entries: list[list[str]] = []

    def index(self, name: str, case_id: str) -> None:
        entry = [name, case_id]
        if name and entry not in self.entries:
            self.entries.append(entry)

    def matching(self, name: str) -> list[str]:
        return [c for key, c in self.entries if name_matches(key, name)] if name else []


@st.composite
def person_ops(draw: st.DrawFn) -> list[tuple[str, str, bool]]:
    """(name, case_id, only look it up) steps, names spelled from a few persons' syllables."""
    persons = draw(st.lists(syllables, min_size=1, max_size=3))
    steps = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(persons) - 1),
                st.sampled_from(["cs-a", "cs-b", "cs-c"]),
                st.booleans(),
            ),
            min_size=1,
            max_size=24,
        )
    )
    return [(name_key(draw(spelling(persons[i]))), c, q) for i, c, q in steps]


@settings(max_examples=300, deadline=None)
@given(person_ops(), st.integers(0, 8), st.sampled_from([1, 2, 3, PERSONS_PER_TOKEN]))
def test_the_persons_index_finds_exactly_what_the_scan_found(
    ops: list[tuple[str, str, bool]], stored_before: int, cap: int
) -> None:
    # The first `stored_before` entries are in the table as stored before the index; small
    # caps fill token keys, so pair keys are searched too.
    with mock.patch.object(person_index, "PERSONS_PER_TOKEN", cap):
        persons: dict[str, str] = {}
        scan = ScanAll()
        for i, (name, case_id, lookup_only) in enumerate(ops):
            assert persons_matching(persons, DOB, name) == scan.matching(name)
            if lookup_only:
                continue
            scan.index(name, case_id)
            if i < stored_before:
                persons[DOB] = orjson.dumps(scan.entries).decode()
            else:
                index_person(persons, DOB, name, case_id)
        for name, _, _ in ops:
            assert persons_matching(persons, DOB, name) == scan.matching(name)
            assert persons_matching(persons, "1985-07-22", name) == []


def _wanted(ref: str, name: str) -> tuple[AlertRecord, Enrichment]:
    alert = parse_alert(
        {
            "source_ref": ref,
            "kind": "wanted_person",
            "severity": "severe",
            "urgency": "expected",
            "tlp": "amber",
            "title": "Wanted",
            "subject": {"full_name": name, "date_of_birth": DOB},
        }
    )
    return record("cn-beijing", alert, at=NOW), Enrichment(
        fingerprints=[f"person:{name_key(name)}|{DOB}"]
    )


def join_person(t: CaseTables, ref: str, name: str) -> cases.Joined:
    record, e = _wanted(ref, name)
    return cases.join(t, record, e, NOW, TTL, audience=["vn-hanoi"], key=KEY)


_FAMILIES = ("wang", "li", "zhang", "liu", "chen")
_GIVEN = [a + b for a in ("bo", "da", "fei", "gang", "hua", "jun") for b in ("lan", "min", "ping")]


def _three_thousand_names() -> list[str]:
    # Distinct names, 600 per family name: each family token is far past its cap.
    return [f"{_FAMILIES[i % 5]} {_GIVEN[i // 5 % 18]} q{i}" for i in range(3000)]


@pytest.fixture(scope="module")
def three_thousand() -> CaseTables:
    """3,000 persons born on one day, 600 of each of five family names."""
    t = tables()
    for i, name in enumerate(_three_thousand_names()):
        index_person(t.persons, DOB, name_key(name), f"cs-{i}")
    return t


def test_a_person_born_the_day_3000_others_were_costs_a_bounded_number_of_accesses(
    three_thousand: CaseTables,
) -> None:
    t = counting(three_thousand)
    joined = join_person(t, "P-NEXT", "Wang Xiuying")
    assert joined.is_new_case
    assert isinstance(t.persons, Counting)
    # Looking up: its skeleton, its two tokens, the old list. Indexing: the old list, the
    # count, its skeleton and tokens again. Nothing in proportion to the 3,000.
    tokens = 2
    assert t.persons.reads == (1 + tokens + 1) + (2 + 1 + tokens)
    entries = sum(
        len(v) for raw in t.persons.read_values if isinstance(v := orjson.loads(raw), list)
    )
    assert entries <= 2 * PERSONS_PER_TOKEN
    assert t.persons.writes == 3  # the skeleton and given-name keys, the count (wang is full)
    assert all(
        len(orjson.loads(v)) <= PERSONS_PER_TOKEN
        for k, v in t.persons.data.items()
        if k.startswith("t:")
    )


def test_persons_past_every_cap_are_found_as_the_scan_found_them(
    three_thousand: CaseTables,
) -> None:
    scan = ScanAll()
    for i, name in enumerate(_three_thousand_names()):
        scan.index(name_key(name), f"cs-{i}")
    # Two tokens both far past their cap: its matches are in the pair key of the two.
    two = name_key("Chen Junping")
    assert len(scan.matching(two)) > PERSONS_PER_TOKEN
    for name in (two, "Chen Daping Q2999", "Q2995 Wang", "Chen Q4", "Wang Xiuying"):
        key = name_key(name)
        assert persons_matching(three_thousand.persons, DOB, key) == scan.matching(key)


def test_an_old_per_date_list_is_found_then_indexed_in_its_order() -> None:
    t = tables()
    old = [
        [name_key("Petrov Aleksei Viktorovich"), "cs-first"],
        [name_key("Ivanov Sergei"), "cs-x"],
    ]
    old.append([name_key("Petrov Aleksei"), "cs-second"])
    t.persons[DOB] = orjson.dumps(old).decode()  # as stored before the index
    assert persons_matching(t.persons, DOB, name_key("Aleksey Petrov")) == [
        "cs-first",
        "cs-second",
    ]
    joined = join_person(t, "P1", "Alexei Petrov Viktorovich")
    assert DOB not in t.persons  # indexed anew by the date's next record
    assert t.persons[f"n:{DOB}"] == "4"
    assert persons_matching(t.persons, DOB, name_key("Aleksey Petrov")) == [
        "cs-first",
        "cs-second",
        joined.case.case_id,
    ]


def test_a_replayed_person_record_writes_nothing_new() -> None:
    t = tables()
    join_person(t, "P0", "Smirnov Dmitrii Olegovich")
    first = join_person(t, "P1", "Смирнов Дмитрий")  # corroborates the case, a new name key
    before = snapshot(t)
    again = join_person(t, "P1", "Смирнов Дмитрий")
    assert again.case == first.case and not again.is_new_case
    assert snapshot(t) == before
