"""The stream's rules, on plain dicts: no broker, no Faust."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from hotline.fields import Lane
from hotline.models import AckCommand, AlertRecord
from hotline.settings import Settings
from streams.case_tables import CaseTables
from streams.process import Processor
from streams.state import Out, State
from tests.fixtures import records as fixtures

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
def st() -> State:
    return State(alerts={}, cases=CaseTables({}, {}, {}, {}), escalations={})


@pytest.fixture
def proc() -> Processor:
    return Processor(Settings(escalation_seconds=60))


def record(sender: str, body: dict[str, Any], lane: Lane = "urgent") -> AlertRecord:
    return fixtures.record(sender, body, lane=lane, at=NOW)


def events(outs: list[Out]) -> list[tuple[str, str, dict[str, Any]]]:
    """(agency, event, doc) for every console event in `outs`."""
    out = []
    for o in outs:
        if ".deliveries." in o.topic:
            doc = orjson.loads(o.value)
            out.append((o.topic.rsplit(".", 1)[1], doc["event"], doc))
    return out


def scam(ref: str, number: str, **over: Any) -> dict[str, Any]:
    return {
        "source_ref": ref,
        "kind": "scam_number",
        "severity": "moderate",
        "urgency": "expected",
        "tlp": "green",
        "title": "Scam number",
        "subject": {"number": number},
        **over,
    }


def person(
    ref: str, name: str, dob: str, docs: list[dict[str, str]], **over: Any
) -> dict[str, Any]:
    return {
        "source_ref": ref,
        "kind": "wanted_person",
        "severity": "severe",
        "urgency": "immediate",
        "tlp": "amber",
        "title": f"Wanted: {name}",
        "subject": {"full_name": name, "date_of_birth": dob, "documents": docs},
        **over,
    }


def test_new_alert_goes_to_every_partner_and_status_to_sender(proc: Processor, st: State) -> None:
    outs = proc.submission(record("vn-hanoi", scam("S1", "0912 345 678")), st, NOW)
    evs = events(outs)
    assert sorted((a, e) for a, e, _ in evs) == [
        ("cn-beijing", "new"),
        ("ru-moscow", "new"),
        ("vn-hanoi", "delivered"),
    ]
    doc = evs[0][2]
    assert doc["alert"]["enrichment"]["phones"][0]["e164"] == "+84912345678"


def test_retry_with_same_content_is_dropped(proc: Processor, st: State) -> None:
    rec = record("vn-hanoi", scam("S1", "0912 345 678"))
    assert proc.submission(rec, st, NOW)
    assert proc.submission(rec, st, NOW + timedelta(seconds=1)) == []


def test_replay_after_losing_the_alerts_table_repeats_the_same_events(
    proc: Processor, st: State
) -> None:
    # A worker killed after its case index became durable but before its alerts table did
    # sees the record again: it must produce the very events it produced the first time, so
    # consoles (which drop repeated event ids) show nothing twice.
    proc.submission(record("vn-hanoi", scam("S1", "0912 345 678")), st, NOW)
    rec = record("cn-beijing", scam("B1", "+84 91 234 5678"))
    first = events(proc.submission(rec, st, NOW))
    del st.alerts[rec.alert_id]
    again = events(proc.submission(rec, st, NOW))
    assert sorted((a, e, d["event_id"]) for a, e, d in again) == sorted(
        (a, e, d["event_id"]) for a, e, d in first
    )
    assert again[0][2]["case"]["alert_ids"].count(rec.alert_id) <= 1


def test_reused_source_ref_with_other_content_is_rejected(proc: Processor, st: State) -> None:
    proc.submission(record("vn-hanoi", scam("S1", "0912 345 678")), st, NOW)
    outs = proc.submission(record("vn-hanoi", scam("S1", "0912 345 679")), st, NOW)
    assert [(a, e) for a, e, _ in events(outs)] == [("vn-hanoi", "rejected")]


def test_same_number_from_another_agency_corroborates_the_case(proc: Processor, st: State) -> None:
    first = events(proc.submission(record("vn-hanoi", scam("S1", "0912 345 678")), st, NOW))
    case_id = first[0][2]["case_id"]
    second = events(proc.submission(record("cn-beijing", scam("B1", "+84 91 234 5678")), st, NOW))
    by_agency = {a: (e, d) for a, e, d in second}
    assert by_agency["vn-hanoi"][0] == "corroborated"
    assert by_agency["ru-moscow"][0] == "corroborated"
    assert by_agency["cn-beijing"][0] == "delivered"
    case = by_agency["vn-hanoi"][1]["case"]
    assert case["case_id"] == case_id
    assert case["reporters"] == ["vn-hanoi", "cn-beijing"]


def test_document_written_differently_matches(proc: Processor, st: State) -> None:
    p1 = person(
        "M1",
        "Петров Алексей Викторович",
        "1985-07-21",
        [{"type": "passport", "number": "721234567", "country": "RU"}],
        recipients=["vn-hanoi"],
    )
    p2 = person(
        "H1",
        "Petrov Aleksei",
        "1985-07-21",
        [{"type": "passport", "number": "72 1234567", "country": "RU"}],
        recipients=["ru-moscow"],
    )
    proc.submission(record("ru-moscow", p1), st, NOW)
    evs = events(proc.submission(record("vn-hanoi", p2), st, NOW))
    assert ("ru-moscow", "corroborated") in [(a, e) for a, e, _ in evs]


def test_name_and_birth_date_match_without_documents(proc: Processor, st: State) -> None:
    proc.submission(
        record(
            "ru-moscow",
            person("M2", "Смирнов Дмитрий Олегович", "1979-02-03", [], recipients=["vn-hanoi"]),
        ),
        st,
        NOW,
    )
    evs = events(
        proc.submission(
            record(
                "vn-hanoi",
                person("H2", "Smirnov Dmitrii", "1979-02-03", [], recipients=["ru-moscow"]),
            ),
            st,
            NOW,
        )
    )
    assert ("ru-moscow", "corroborated") in [(a, e) for a, e, _ in evs]


def test_tlp_red_reaches_named_recipients_only(proc: Processor, st: State) -> None:
    body = person("R1", "李娜", "1992-05-30", [], tlp="red", recipients=["vn-hanoi"])
    evs = events(proc.submission(record("cn-beijing", body), st, NOW))
    assert sorted((a, e) for a, e, _ in evs) == [("cn-beijing", "delivered"), ("vn-hanoi", "new")]


def test_case_view_hides_reports_the_recipient_was_not_given(proc: Processor, st: State) -> None:
    red = person("R2", "李娜", "1992-05-30", [], tlp="red", recipients=["vn-hanoi"])
    proc.submission(record("cn-beijing", red), st, NOW)
    amber = person("M3", "Li Na", "1992-05-30", [], recipients=["cn-beijing", "vn-hanoi"])
    evs = {a: d for a, _, d in events(proc.submission(record("ru-moscow", amber), st, NOW))}
    assert evs["vn-hanoi"]["case"]["reporters"] == ["cn-beijing", "ru-moscow"]
    assert evs["cn-beijing"]["case"]["reporters"] == ["cn-beijing", "ru-moscow"]


def test_update_and_cancel_follow_the_case(proc: Processor, st: State) -> None:
    docs = [{"type": "passport", "number": "C7654321", "country": "VN"}]
    first = events(
        proc.submission(
            record(
                "vn-hanoi", person("T1", "Lê Văn An", "1980-01-01", docs, recipients=["cn-beijing"])
            ),
            st,
            NOW,
        )
    )
    case_id = first[0][2]["case_id"]
    upd = person(
        "T1-U",
        "Lê Văn An",
        "1980-01-01",
        docs,
        recipients=["cn-beijing"],
        msg_type="update",
        references="T1",
    )
    evs = events(proc.submission(record("vn-hanoi", upd), st, NOW))
    assert [(a, e, d["case_id"]) for a, e, d in evs if a == "cn-beijing"] == [
        ("cn-beijing", "updated", case_id)
    ]
    cancel = person(
        "T1-C",
        "Lê Văn An",
        "1980-01-01",
        docs,
        recipients=["cn-beijing"],
        msg_type="cancel",
        references="T1",
    )
    evs = events(proc.submission(record("vn-hanoi", cancel), st, NOW))
    assert [(a, e) for a, e, _ in evs if a == "cn-beijing"] == [("cn-beijing", "cancelled")]


def test_reference_to_unknown_alert_waits_then_is_rejected(proc: Processor, st: State) -> None:
    # The alert may still be on its way (another lane, a lag): no permanent answer at once.
    upd = scam("X-U", "0912 345 678", msg_type="update", references="never-sent")
    assert events(proc.submission(record("vn-hanoi", upd), st, NOW)) == []
    assert proc.expire_parked(st, NOW + timedelta(seconds=60)) == []
    later = NOW + timedelta(seconds=proc.settings.follow_up_wait_seconds)
    evs = events(proc.expire_parked(st, later))
    assert [(a, e) for a, e, _ in evs] == [("vn-hanoi", "rejected")]
    assert "never-sent" in evs[0][2]["reason"]
    assert not st.parked


def test_scam_number_in_a_fraud_pattern_links_cases(proc: Processor, st: State) -> None:
    s = events(proc.submission(record("vn-hanoi", scam("S9", "0912 345 678")), st, NOW))
    fraud = {
        "source_ref": "F9",
        "kind": "fraud_pattern",
        "severity": "severe",
        "urgency": "expected",
        "tlp": "amber",
        "title": "Fake trading app",
        "subject": {
            "scheme": "investment",
            "indicators": {"phone_numbers": ["+84912345678"], "app_names": ["Trade X"]},
        },
    }
    f = events(proc.submission(record("cn-beijing", fraud), st, NOW))
    scam_case, fraud_case = s[0][2]["case_id"], f[0][2]["case_id"]
    assert scam_case != fraud_case
    assert f[0][2]["case"]["related"] == [scam_case]
    # Stored with who could see the fraud case when they were linked (need to know).
    assert list(orjson.loads(st.cases.cases[scam_case])["related"]) == [fraud_case]


def test_ack_reaches_sender_once_and_stops_escalation(proc: Processor, st: State) -> None:
    body = person("U1", "Trần Bình", "1970-03-03", [], recipients=["cn-beijing"])
    rec = record("vn-hanoi", body)
    proc.submission(rec, st, NOW)
    assert f"{rec.alert_id}|cn-beijing" in st.escalations
    ack = AckCommand(alert_id=rec.alert_id, agency="cn-beijing", at=NOW + timedelta(seconds=5))
    evs = events(proc.ack(ack, st, NOW + timedelta(seconds=5)))
    assert sorted((a, e) for a, e, _ in evs) == [
        ("cn-beijing", "acknowledged"),
        ("vn-hanoi", "acknowledged"),
    ]
    assert evs[0][2]["by"] == "cn-beijing"
    assert proc.ack(ack, st, NOW + timedelta(seconds=6)) == []
    assert proc.escalate_due(st, NOW + timedelta(hours=1)) == []


def test_ack_from_a_non_recipient_is_ignored(proc: Processor, st: State) -> None:
    rec = record("vn-hanoi", person("U2", "Trần Bình", "1971-03-03", [], recipients=["cn-beijing"]))
    proc.submission(rec, st, NOW)
    assert proc.ack(AckCommand(alert_id=rec.alert_id, agency="ru-moscow", at=NOW), st, NOW) == []


def test_unacknowledged_immediate_alert_escalates_once(proc: Processor, st: State) -> None:
    rec = record("vn-hanoi", person("U3", "Trần Bình", "1972-03-03", [], recipients=["cn-beijing"]))
    proc.submission(rec, st, NOW)
    assert proc.escalate_due(st, NOW + timedelta(seconds=30)) == []
    evs = events(proc.escalate_due(st, NOW + timedelta(seconds=61)))
    assert sorted((a, e) for a, e, _ in evs) == [
        ("cn-beijing", "escalated"),
        ("vn-hanoi", "escalated"),
    ]
    assert proc.escalate_due(st, NOW + timedelta(seconds=120)) == []


def test_every_event_id_is_deterministic(proc: Processor) -> None:
    def run() -> list[str]:
        s = State(alerts={}, cases=CaseTables({}, {}, {}, {}), escalations={})
        outs = proc.submission(record("vn-hanoi", scam("D1", "0912 345 678")), s, NOW)
        return [d["event_id"] for _, _, d in events(outs)]

    assert run() == run()


def test_an_alert_that_expires_before_its_deadline_is_never_escalated(
    proc: Processor, st: State
) -> None:
    now = datetime.now(UTC)  # intake judges expiry against the clock
    body = person("U5", "Trần Bình", "1973-03-03", [], recipients=["cn-beijing"])
    rec = record("vn-hanoi", {**body, "expires_at": (now + timedelta(seconds=30)).isoformat()})
    proc.submission(rec, st, now)
    assert proc.escalate_due(st, now + timedelta(seconds=61)) == []
    assert not st.escalations
