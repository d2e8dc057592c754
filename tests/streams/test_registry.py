"""The registry is the case index: what the stream stored, read back by number, document or
person, and shown to each agency only as far as need-to-know allows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st_

from hotline import need_to_know as ntk
from hotline.codec import loads
from hotline.models import AlertState
from hotline.registry import LookupMatch, parse
from hotline.settings import Settings
from streams import registry
from streams.case_tables import CaseTables
from streams.process import Processor
from streams.state import State
from tests.streams.test_process import NOW, person, record, scam

AGENCIES = ("vn-hanoi", "cn-beijing", "ru-moscow")
REGION = {"vn-hanoi": "VN", "cn-beijing": "CN", "ru-moscow": "RU"}


def fresh() -> State:
    return State(alerts={}, cases=CaseTables({}, {}, {}, {}), escalations={})


def proc() -> Processor:
    return Processor(Settings(escalation_seconds=60))


def look(st: State, viewer: str, **params: str) -> list[LookupMatch]:
    assert st.cases is not None
    query = parse(region=REGION[viewer], **params)
    found = registry.lookup(st.cases, query)

    def state_of(alert_id: str) -> AlertState | None:
        raw = st.alerts.get(alert_id)
        return None if raw is None else loads(AlertState, raw)

    return [m for c in found if (m := ntk.lookup_match(viewer, c, state_of)) is not None]


def test_a_number_reported_by_two_agencies_is_one_match_with_both_reports() -> None:
    p, st = proc(), fresh()
    first = record(
        "vn-hanoi",
        scam(
            "S1", "0912 345 678", subject={"number": "0912 345 678", "scam_type": "impersonation"}
        ),
    )
    second = record("cn-beijing", scam("B1", "+84 912 345 678"))
    p.submission(first, st, NOW)
    p.submission(second, st, NOW + timedelta(minutes=5))
    for viewer, raw in [("cn-beijing", "0084 912 345 678"), ("vn-hanoi", "0912345678")]:
        [m] = look(st, viewer, number=raw)
        assert m.kind == "scam_number" and m.state == "open"
        assert m.reporters == ["vn-hanoi", "cn-beijing"] and m.reports == 2
        assert (m.first_reported_at, m.last_reported_at) == (NOW, NOW + timedelta(minutes=5))
        assert [a.alert_id for a in m.alerts] == [first.alert_id, second.alert_id]
        assert m.alerts[0].scam_type == "impersonation" and m.alerts[0].tlp == "green"
    assert look(st, "vn-hanoi", number="0912 000 111") == []


def test_a_red_report_is_invisible_to_an_agency_not_named() -> None:
    p, st = proc(), fresh()
    red = record("vn-hanoi", scam("R1", "0912 345 678", tlp="red", recipients=["cn-beijing"]))
    p.submission(red, st, NOW)
    assert look(st, "ru-moscow", number="+84912345678") == []  # the same as unknown
    assert [m.reporters for m in look(st, "cn-beijing", number="+84912345678")] == [["vn-hanoi"]]
    # Moscow reports the number too: it sees its own report, not Hanoi's red one.
    p.submission(record("ru-moscow", scam("M1", "+84912345678")), st, NOW + timedelta(minutes=1))
    [m] = look(st, "ru-moscow", number="+84912345678")
    assert m.reporters == ["ru-moscow"] and m.reports == 1
    assert m.first_reported_at == NOW + timedelta(minutes=1)
    assert [a.sender for a in m.alerts] == ["ru-moscow"]


def test_a_document_is_found_by_its_number_alone_or_in_full() -> None:
    p, st = proc(), fresh()
    doc = {"type": "passport", "number": "72 1234567", "country": "RU"}
    p.submission(record("ru-moscow", person("P1", "Иванов Иван", "1980-05-06", [doc])), st, NOW)
    for params in [
        {"document": "721234567"},
        {"document": "72-123-4567", "country": "ru"},
        {"document": "721234567", "country": "RU", "doc_type": "passport"},
    ]:
        [m] = look(st, "vn-hanoi", **params)
        assert m.kind == "wanted_person" and m.reporters == ["ru-moscow"]
    assert look(st, "vn-hanoi", document="721234567", country="CN") == []
    assert look(st, "vn-hanoi", document="721234567", doc_type="national_id") == []


def test_a_person_is_found_by_name_in_another_script_and_birth_date() -> None:
    p, st = proc(), fresh()
    p.submission(record("vn-hanoi", person("P1", "Nguyễn Văn An", "1990-02-01", [])), st, NOW)
    for name in ["Нгуен Ван Ан", "NGUYEN VAN AN", "Nguyen An"]:  # a missing middle name matches
        [m] = look(st, "ru-moscow", name=name, date_of_birth="1990-02-01")
        assert m.reporters == ["vn-hanoi"]
    assert look(st, "ru-moscow", name="Nguyen Van An", date_of_birth="1990-02-02") == []


# --- the property: a lookup never shows an alert outside the viewer's audience, and misses none


reports = st_.lists(
    st_.tuples(
        st_.sampled_from(AGENCIES),
        st_.sampled_from(["red", "amber", "green"]),
        st_.lists(st_.sampled_from(AGENCIES), unique=True, max_size=2),
    ),
    min_size=1,
    max_size=6,
)


@given(reports)
@settings(max_examples=80, deadline=None)
def test_a_lookup_shows_exactly_the_alerts_the_viewer_holds(
    sent: list[tuple[str, str, list[str]]],
) -> None:
    p, st = proc(), fresh()
    holds: dict[str, set[str]] = {a: set() for a in AGENCIES}
    for i, (sender, tlp, named) in enumerate(sent):
        named = [a for a in named if a != sender]
        if tlp == "red" and not named:
            continue
        over: dict[str, Any] = {"tlp": tlp}
        if named:
            over["recipients"] = named
        rec = record(sender, scam(f"{sender}-{i}", "+84912345678", **over))
        p.submission(rec, st, NOW + timedelta(minutes=i))
        state = loads(AlertState, st.alerts[rec.alert_id])
        for agency in AGENCIES:
            if ntk.may_see(agency, state):
                holds[agency].add(rec.alert_id)
    for agency in AGENCIES:
        shown = {a.alert_id for m in look(st, agency, number="+84 912 345 678") for a in m.alerts}
        assert shown == holds[agency], agency


# --- the numbers feed's entries --------------------------------------------------------------


def feed(st: State, viewer: str) -> dict[str, Any]:
    out = {}
    for raw in st.alerts.values():
        change = ntk.number_change(viewer, loads(AlertState, raw))
        if change is not None:
            out[change.alert_id] = change
    return out


def test_the_feed_shows_a_number_to_who_holds_it_and_a_cancel_ends_it() -> None:
    p, st = proc(), fresh()
    red = record("vn-hanoi", scam("R1", "0912 345 678", tlp="red", recipients=["cn-beijing"]))
    p.submission(red, st, NOW)
    assert feed(st, "ru-moscow") == {}
    [entry] = feed(st, "cn-beijing").values()
    assert (entry.number, entry.sender, entry.active) == ("+84912345678", "vn-hanoi", True)
    cancel = record(
        "vn-hanoi", scam("R1-C", "0912 345 678", tlp="red", msg_type="cancel", references="R1")
    )
    p.submission(cancel, st, NOW + timedelta(minutes=1))
    changes = feed(st, "cn-beijing")
    assert changes[red.alert_id].active is False and changes[red.alert_id].status == "cancelled"
    assert changes[cancel.alert_id].active is False  # a follow-up never blocks by itself
    assert feed(st, "ru-moscow") == {}
