"""The audit chain: any chain built by `chained` holds, and any change to it is found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.audit import GENESIS, AuditEntry, AuditEvent, broken, chained
from hotline.codec import dumps, loads

PROPS = settings(max_examples=100, deadline=None)
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ACTIONS = ["accepted", "routed", "delivered", "acknowledged", "looked_up", "rejected"]


def event(i: int, agency: str = "vn-hanoi", **extra: object) -> AuditEvent:
    fields: dict[str, object] = {
        "event_id": f"ev-{agency}-{i}",
        "agency": agency,
        "action": ACTIONS[i % len(ACTIONS)],
        "at": T0 + timedelta(seconds=i),
        "alert_id": f"al-{i}",
        "counterparts": ["cn-beijing"],
        "detail": {"n": str(i)},
    }
    return AuditEvent.model_validate(fields | extra)


def chain(n: int, agency: str = "vn-hanoi") -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for i in range(n):
        entries.append(chained(entries[-1] if entries else None, event(i, agency)))
    return entries


def test_a_chain_starts_at_genesis_and_links_each_entry_to_the_one_before() -> None:
    a, b, c = chain(3)
    assert (a.seq, a.prev) == (0, GENESIS)
    assert (b.seq, b.prev, c.seq, c.prev) == (1, a.hash, 2, b.hash)
    assert broken([a, b, c], head=c.hash) is None


@PROPS
@given(st.integers(0, 30))
def test_a_chain_holds_through_its_wire_form(n: int) -> None:
    entries = [loads(AuditEntry, dumps(e)) for e in chain(n)]
    assert broken(entries, head=entries[-1].hash if entries else None) is None


@PROPS
@given(st.integers(1, 20).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_an_altered_entry_is_found_where_it_is(case: tuple[int, int]) -> None:
    n, at = case
    entries = chain(n)
    for change in ({"detail": {"n": "forged"}}, {"counterparts": []}, {"agency": "ru-moscow"}):
        forged = list(entries)
        forged[at] = entries[at].model_copy(update=change)
        found = broken(forged)
        assert found is not None and found.index == at, change


@PROPS
@given(st.integers(2, 20).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_a_removed_entry_is_found(case: tuple[int, int]) -> None:
    n, gone = case
    entries = chain(n)
    rest = entries[:gone] + entries[gone + 1 :]
    found = broken(rest, head=entries[-1].hash)
    assert found is not None
    assert found.index == gone  # the entry after the gap, or the end when the last one went


def test_a_rehashed_forgery_still_breaks_the_link_from_the_next_entry() -> None:
    a, b, c = chain(3)
    fields = b.model_dump(exclude={"seq", "prev", "hash"}) | {"detail": {"n": "forged"}}
    forged = chained(a, AuditEvent.model_validate(fields))
    found = broken([a, forged, c])
    assert found is not None and found.index == 2


def test_swapped_entries_are_found() -> None:
    a, b, c = chain(3)
    found = broken([a, c, b])
    assert found is not None and found.index == 1


def test_a_chain_cut_short_is_found_against_its_head() -> None:
    entries = chain(4)
    assert broken(entries[:3]) is None  # on its own a shorter chain is a chain
    found = broken(entries[:3], head=entries[-1].hash)
    assert found is not None and "cut off" in found.reason


def test_an_export_from_mid_chain_holds_from_where_it_starts() -> None:
    entries = chain(5)
    assert broken(entries[2:], start=(2, entries[1].hash)) is None
    assert broken(entries[2:]) is not None


def test_one_agencys_chain_takes_no_other_agencys_entry() -> None:
    hanoi, moscow = chain(2), chain(2, "ru-moscow")
    found = broken([hanoi[0], moscow[1]])
    assert found is not None and found.index == 1
    with pytest.raises(ValueError, match="cannot follow"):
        chained(hanoi[-1], event(9, "ru-moscow"))
