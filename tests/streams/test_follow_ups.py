"""Updates and cancels: they keep their alert's handling, and always come after it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.codec import loads
from hotline.models import AlertState
from hotline.settings import Settings
from streams.case_tables import CaseTables
from streams.process import Processor
from streams.state import State
from tests.streams.test_process import NOW, events, record, scam

NUMBER = "0912 345 678"


@pytest.fixture
def st() -> State:
    return State(alerts={}, cases=CaseTables({}, {}, {}, {}), escalations={})


@pytest.fixture
def proc() -> Processor:
    return Processor(Settings(escalation_seconds=60))


def red_to_beijing() -> dict[str, Any]:
    return scam("R1", NUMBER, tlp="red", recipients=["cn-beijing"], title="RED subject")


# --- finding 2: follow-ups of a RED alert were broadcast -----------------------------------------


@pytest.mark.parametrize("msg_type", ["update", "cancel"])
def test_follow_up_without_handling_keeps_the_alerts(
    proc: Processor, st: State, msg_type: str
) -> None:
    proc.submission(record("vn-hanoi", red_to_beijing()), st, NOW)
    follow = scam("R1-F", NUMBER, msg_type=msg_type, references="R1", title="RED subject again")
    del follow["tlp"]
    evs = events(proc.submission(record("vn-hanoi", follow), st, NOW))
    assert {a for a, _, _ in evs} == {"cn-beijing", "vn-hanoi"}  # never ru-moscow
    [to_beijing] = [d for a, _, d in evs if a == "cn-beijing"]
    assert to_beijing["alert"]["body"]["tlp"] == "red"
    assert to_beijing["alert"]["body"]["recipients"] == ["cn-beijing"]


def test_follow_up_may_narrow_but_not_widen(proc: Processor, st: State) -> None:
    amber = scam("A1", NUMBER, tlp="amber", recipients=["cn-beijing", "ru-moscow"])
    proc.submission(record("vn-hanoi", amber), st, NOW)
    narrow = scam("A1-U", NUMBER, msg_type="update", references="A1", tlp="red")
    narrow["recipients"] = ["ru-moscow"]
    evs = events(proc.submission(record("vn-hanoi", narrow), st, NOW))
    assert sorted(a for a, _, _ in evs) == ["ru-moscow", "vn-hanoi"]

    wider = scam("A1-W", NUMBER, msg_type="update", references="A1", tlp="green")
    evs = events(proc.submission(record("vn-hanoi", wider), st, NOW))
    assert [(a, e) for a, e, _ in evs] == [("vn-hanoi", "rejected")]
    assert "TLP:AMBER" in evs[0][2]["reason"]

    proc.submission(record("vn-hanoi", scam("A2", NUMBER, recipients=["cn-beijing"])), st, NOW)
    widen = scam("A2-U", NUMBER, msg_type="update", references="A2", recipients=["ru-moscow"])
    evs = events(proc.submission(record("vn-hanoi", widen), st, NOW))
    assert [(a, e) for a, e, _ in evs] == [("vn-hanoi", "rejected")]


def test_follow_up_of_an_alert_routed_to_nobody_goes_to_nobody(st: State) -> None:
    # Partnerships may leave an alert with no recipient; its update must not become "to all".
    proc = Processor(Settings(partnerships={"vn-hanoi": {"cn-beijing": ["wanted_person"]}}))
    proc.submission(record("vn-hanoi", scam("N1", NUMBER)), st, NOW)
    upd = scam("N1-U", NUMBER, msg_type="update", references="N1")
    del upd["tlp"]
    evs = events(proc.submission(record("vn-hanoi", upd, lane="urgent"), st, NOW))
    assert {a for a, _, _ in evs} == {"vn-hanoi"}


# --- finding 6: a follow-up is processed after what it references, whatever the lanes ------------


def test_cancel_that_overtook_its_alert_is_applied_after_it(proc: Processor, st: State) -> None:
    alert = record("vn-hanoi", scam("B1", NUMBER, recipients=["cn-beijing"]), lane="bulk")
    cancel = record(
        "vn-hanoi", scam("B1-C", NUMBER, msg_type="cancel", references="B1", urgency="immediate")
    )
    assert proc.submission(cancel, st, NOW) == []  # waits: its alert is still in the bulk lane
    evs = events(proc.submission(alert, st, NOW + timedelta(seconds=2)))
    assert [(a, e) for a, e, _ in evs if a == "cn-beijing"] == [
        ("cn-beijing", "new"),
        ("cn-beijing", "cancelled"),
    ]
    state = loads(AlertState, st.alerts[alert.alert_id])
    assert state.status == "cancelled"
    assert not st.parked
    # A replay of the cancel after all this changes nothing.
    assert proc.submission(cancel, st, NOW + timedelta(seconds=3)) == []


def test_a_parked_follow_up_waits_once(proc: Processor, st: State) -> None:
    upd = record("vn-hanoi", scam("L1-U", NUMBER, msg_type="update", references="L1"))
    proc.submission(upd, st, NOW)
    proc.submission(upd, st, NOW)  # the partner's retry, or a replay after a crash
    evs = events(proc.submission(record("vn-hanoi", scam("L1", NUMBER)), st, NOW))
    assert [e for a, e, _ in evs if a == "cn-beijing"] == ["new", "updated"]


def test_follow_up_of_a_rejected_alert_is_rejected(proc: Processor, st: State) -> None:
    proc.submission(record("vn-hanoi", scam("X1", NUMBER)), st, NOW)
    proc.submission(record("vn-hanoi", scam("X1", "0912 345 679")), st, NOW)  # conflict
    bad = record("vn-hanoi", scam("Y1", "12"))  # cannot be normalized: rejected by the stream
    proc.submission(bad, st, NOW)
    upd = record("vn-hanoi", scam("Y1-U", NUMBER, msg_type="update", references="Y1"))
    evs = events(proc.submission(upd, st, NOW))
    assert [(a, e) for a, e, _ in evs] == [("vn-hanoi", "rejected")]


# --- finding 10: a replay shows nothing twice ----------------------------------------------


def test_replayed_report_of_an_existing_co_reporter_repeats_its_events(
    proc: Processor, st: State
) -> None:
    proc.submission(record("vn-hanoi", scam("S1", NUMBER)), st, NOW)
    proc.submission(record("cn-beijing", scam("B1", "+84 912 345 678")), st, NOW)
    again = record("cn-beijing", scam("B2", "+84912345678", title="Seen again"))
    first = events(proc.submission(again, st, NOW))
    assert {e for a, e, _ in first if a != "cn-beijing"} == {"updated"}
    del st.alerts[again.alert_id]  # killed before the alerts table was durable
    replay = events(proc.submission(again, st, NOW))
    assert sorted((a, e, d["event_id"]) for a, e, d in replay) == sorted(
        (a, e, d["event_id"]) for a, e, d in first
    )


def test_replayed_update_is_in_its_case_once(proc: Processor, st: State) -> None:
    alert = record("vn-hanoi", scam("U1", NUMBER))
    proc.submission(alert, st, NOW)
    upd = record("vn-hanoi", scam("U1-U", NUMBER, msg_type="update", references="U1"))
    first = events(proc.submission(upd, st, NOW))
    del st.alerts[upd.alert_id]  # killed before the alerts table was durable
    replay = events(proc.submission(upd, st, NOW))
    [case_raw] = st.cases.cases.values()
    assert case_raw.count(upd.alert_id) == 1
    assert [d["event_id"] for *_, d in replay] == [d["event_id"] for *_, d in first]
