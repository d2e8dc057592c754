"""The one function that decides what a viewer may see: a matrix and a property.

The stream is driven with real records (streams.process on dicts), then every output path is
read back as each agency: the console events the worker wrote for it and what `GET
/v1/alerts/{id}` answers it (`alert_view` over the stored state).
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st_

from hotline import need_to_know as ntk
from hotline.codec import dumps, loads
from hotline.models import (
    AckCommand,
    AlertState,
    CaseRecord,
    Outcome,
    OutcomeCommand,
    OutcomeIn,
    Report,
)
from hotline.settings import Settings
from streams.case_tables import CaseTables
from streams.process import Processor
from streams.state import Out, State
from tests.streams.test_process import NOW, record, scam

AGENCIES = ("vn-hanoi", "cn-beijing", "ru-moscow")
NUMBER = {"vn-hanoi": "0912 345 678", "cn-beijing": "+84 912 345 678", "ru-moscow": "+84912345678"}


def fresh() -> State:
    return State(alerts={}, cases=CaseTables({}, {}, {}, {}), escalations={})


def proc() -> Processor:
    return Processor(Settings(escalation_seconds=60))


def deliveries(outs: list[Out]) -> dict[str, list[dict[str, Any]]]:
    by: dict[str, list[dict[str, Any]]] = {a: [] for a in AGENCIES}
    for o in outs:
        if ".deliveries." in o.topic:
            by[o.topic.rsplit(".", 1)[1]].append(orjson.loads(o.value))
    return by


def gets(st: State, viewer: str) -> dict[str, dict[str, Any]]:
    """What GET /v1/alerts/{id} answers `viewer` for every stored alert it may read."""
    out = {}
    for alert_id, raw in st.alerts.items():
        view = ntk.alert_view(viewer, loads(AlertState, raw))
        if view is not None:
            out[alert_id] = orjson.loads(dumps(view))
    return out


def referenced_alerts(doc: dict[str, Any]) -> set[str]:
    ids = {doc["alert"]["alert_id"]} if "alert" in doc else set()
    if doc.get("case"):
        ids |= set(doc["case"]["alert_ids"])
    return ids


# --- finding 1: GET showed the sender's view of the case to every recipient ------------------


def test_get_shows_a_recipient_only_the_reports_it_was_given() -> None:
    p, st = proc(), fresh()
    red = record(
        "ru-moscow", scam("M-RED", NUMBER["ru-moscow"], tlp="red", recipients=["cn-beijing"])
    )
    p.submission(red, st, NOW)
    amber = record("cn-beijing", scam("B-1", NUMBER["cn-beijing"]))
    p.submission(amber, st, NOW + timedelta(minutes=1))

    hanoi = gets(st, "vn-hanoi")
    assert set(hanoi) == {amber.alert_id}  # the RED alert itself: 404
    case = hanoi[amber.alert_id]["case"]
    assert case["reporters"] == ["cn-beijing"]
    assert case["alert_ids"] == [amber.alert_id]
    assert "ru-moscow" not in orjson.dumps(hanoi).decode()
    # Beijing was sent both and reported one: it sees both reports.
    beijing = gets(st, "cn-beijing")[amber.alert_id]["case"]
    assert beijing["reporters"] == ["ru-moscow", "cn-beijing"]


# --- finding 3: case details come from the visible part only ----------------------------------


def test_opened_at_event_name_and_related_come_from_the_visible_part() -> None:
    p, st = proc(), fresh()
    red = record(
        "ru-moscow", scam("M-RED", NUMBER["ru-moscow"], tlp="red", recipients=["cn-beijing"])
    )
    p.submission(red, st, NOW)
    fraud = {
        "source_ref": "M-F",
        "kind": "fraud_pattern",
        "severity": "severe",
        "urgency": "expected",
        "tlp": "red",
        "recipients": ["cn-beijing"],
        "title": "Call centre",
        "subject": {"scheme": "impersonation", "indicators": {"phone_numbers": ["+84912345678"]}},
    }
    p.submission(record("ru-moscow", fraud), st, NOW)
    later = NOW + timedelta(hours=1)
    amber = record("cn-beijing", scam("B-1", NUMBER["cn-beijing"]))
    outs = deliveries(p.submission(amber, st, later))

    [hanoi] = outs["vn-hanoi"]
    # Hanoi never saw the case before: for it this is news, not a corroboration.
    assert hanoi["event"] == "new"
    assert hanoi["case"]["opened_at"] == later.isoformat().replace("+00:00", "Z")
    assert hanoi["case"]["related"] == []  # the RED fraud case is not Hanoi's to know
    [moscow] = outs["ru-moscow"]
    assert moscow["event"] == "corroborated"
    assert moscow["case"]["related"] != []  # Moscow reported the fraud pattern itself


def test_case_ids_are_keyed_with_the_deployment_secret() -> None:
    one = Processor(Settings(id_secret="first"))
    two = Processor(Settings(id_secret="second"))
    rec = record("vn-hanoi", scam("S-1", NUMBER["vn-hanoi"]))
    a = deliveries(one.submission(rec, fresh(), NOW))["cn-beijing"][0]["case_id"]
    b = deliveries(two.submission(rec, fresh(), NOW))["cn-beijing"][0]["case_id"]
    assert a != b
    assert a != "cs-" + hashlib.sha256(rec.alert_id.encode()).hexdigest()[:24]


# --- finding 4: receipts of other recipients ---------------------------------------------------


def test_a_recipient_sees_only_its_own_receipt() -> None:
    p, st = proc(), fresh()
    rec = record("vn-hanoi", scam("S-2", NUMBER["vn-hanoi"], urgency="immediate"))
    p.submission(rec, st, NOW)
    ack = AckCommand(alert_id=rec.alert_id, agency="cn-beijing", at=NOW + timedelta(seconds=3))
    outs = deliveries(p.ack(ack, st, NOW + timedelta(seconds=3)))
    [to_acker] = outs["cn-beijing"]
    assert [r["agency"] for r in to_acker["receipts"]] == ["cn-beijing"]
    [to_sender] = outs["vn-hanoi"]
    assert sorted(r["agency"] for r in to_sender["receipts"]) == ["cn-beijing", "ru-moscow"]
    assert [r["agency"] for r in gets(st, "ru-moscow")[rec.alert_id]["receipts"]] == ["ru-moscow"]
    assert len(gets(st, "vn-hanoi")[rec.alert_id]["receipts"]) == 2


# --- the matrix: agencies x roles x TLP x event kinds x output paths ------------------------------


@pytest.mark.parametrize("tlp", ["red", "amber", "green", "clear"])
@pytest.mark.parametrize("sender", AGENCIES)
@pytest.mark.parametrize("named", [(), ("cn-beijing",), ("ru-moscow", "vn-hanoi")])
def test_every_path_shows_only_what_was_routed_or_sent(
    tlp: str, sender: str, named: tuple[str, ...]
) -> None:
    named_ok = [a for a in named if a != sender]
    if tlp == "red" and not named_ok:
        return  # refused at intake
    p, st = proc(), fresh()
    over: dict[str, Any] = {"tlp": tlp, "urgency": "immediate"}
    if named_ok:
        over["recipients"] = named_ok
    rec = record(sender, scam(f"{sender}-1", NUMBER[sender], **over))
    audience = {sender, *(named_ok or ([] if tlp == "red" else AGENCIES))}
    outs = deliveries(p.submission(rec, st, NOW))  # new / delivered
    cancel = record(
        sender, scam(f"{sender}-1-C", NUMBER[sender], msg_type="cancel", references=f"{sender}-1")
    )
    for agency in AGENCIES:
        if agency in audience and agency != sender:
            for a, evs in deliveries(
                p.ack(AckCommand(alert_id=rec.alert_id, agency=agency, at=NOW), st, NOW)
            ).items():
                outs[a] += evs
    for a, evs in deliveries(p.escalate_due(st, NOW + timedelta(hours=1))).items():
        outs[a] += evs
    for agency in AGENCIES:  # every agency tries to report an outcome; recipients only can
        given = OutcomeIn(kind="not_found", note=f"by {agency}")
        report = Outcome.reported(rec.alert_id, agency, given, NOW)
        cmd = OutcomeCommand(alert_id=rec.alert_id, outcome=report)
        for a, evs in deliveries(p.command(cmd, st, NOW + timedelta(hours=1))).items():
            outs[a] += evs
    for a, evs in deliveries(p.submission(cancel, st, NOW + timedelta(hours=2))).items():
        outs[a] += evs
    for agency in AGENCIES:
        seen = outs[agency]
        read = gets(st, agency)
        if agency not in audience:
            assert seen == [] and read == {}, agency
            continue
        for doc in [*seen, *read.values()]:
            assert referenced_alerts(doc) <= {rec.alert_id, cancel.alert_id}
            receipts = {r["agency"] for r in doc.get("receipts", [])}
            reporters = {o["agency"] for o in doc.get("outcomes", [])}
            if doc.get("outcome"):
                reporters.add(doc["outcome"]["agency"])
            if agency != sender:
                assert receipts <= {agency}
                assert reporters <= {agency}
                assert doc.get("reason") is None
        final = read.get(rec.alert_id, {}).get("outcomes", [])
        expected = audience - {sender} if agency == sender else {agency}
        assert {o["agency"] for o in final} == expected, agency


# --- the property: random reports never leak an alert to an agency outside its audience ----------

report_strategy = st_.tuples(
    st_.sampled_from(AGENCIES),  # sender
    st_.sampled_from(["red", "amber", "green"]),
    st_.lists(st_.sampled_from(AGENCIES), unique=True, max_size=2),  # named recipients
    st_.sampled_from(["alert", "update", "cancel"]),
)


@given(st_.lists(report_strategy, min_size=1, max_size=8))
def test_nothing_a_viewer_receives_references_an_alert_not_routed_to_or_sent_by_it(
    reports: list[tuple[str, str, list[str], str]],
) -> None:
    p, st = proc(), fresh()
    audience: dict[str, set[str]] = {}  # alert id -> who may see it
    received: dict[str, list[dict[str, Any]]] = {a: [] for a in AGENCIES}
    sent: dict[str, list[str]] = {a: [] for a in AGENCIES}
    for i, (sender, tlp, named, msg_type) in enumerate(reports):
        named = [a for a in named if a != sender]
        if tlp == "red" and not named and msg_type == "alert":
            continue
        over: dict[str, Any] = {"tlp": tlp}
        if named:
            over["recipients"] = named
        if msg_type != "alert":
            if not sent[sender]:
                continue
            over |= {"msg_type": msg_type, "references": sent[sender][-1]}
        ref = f"{sender}-{i}"
        rec = record(sender, scam(ref, NUMBER[sender], **over))
        now = NOW + timedelta(minutes=i)
        outs = p.submission(rec, st, now)
        raw = st.alerts.get(rec.alert_id)
        if raw is not None:
            state = loads(AlertState, raw)
            audience[rec.alert_id] = {sender, *(r.agency for r in state.receipts)}
            if msg_type == "alert" and state.status != "rejected":
                sent[sender].append(ref)
        for agency, evs in deliveries(outs).items():
            received[agency] += evs
    for agency in AGENCIES:
        docs = [*received[agency], *gets(st, agency).values()]
        for doc in docs:
            for alert_id in referenced_alerts(doc):
                assert agency in audience[alert_id], (agency, alert_id)


def test_case_view_is_none_for_a_viewer_who_saw_no_report() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    case = CaseRecord(
        case_id="cs-x",
        kind="scam_number",
        opened_at=at,
        updated_at=at,
        reports=[
            Report(alert_id="al-1", sender="ru-moscow", audience=["ru-moscow", "cn-beijing"], at=at)
        ],
    )
    assert ntk.case_view("vn-hanoi", case) is None
    view = ntk.case_view("cn-beijing", case)
    assert view is not None and view.alert_ids == ["al-1"]


def test_event_names_for_every_pair_of_reports() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for first, second in itertools.product(AGENCIES, AGENCIES):
        case = CaseRecord(
            case_id="cs-x",
            kind="scam_number",
            opened_at=at,
            updated_at=at,
            reports=[
                Report(alert_id="al-1", sender=first, audience=list(AGENCIES), at=at),
                Report(alert_id="al-2", sender=second, audience=list(AGENCIES), at=at),
            ],
        )
        for viewer in AGENCIES:
            name = ntk.event_name(viewer, case, "al-2", "alert")
            assert name == ("updated" if first == second else "corroborated")


def test_a_case_stored_before_need_to_know_reads_back_showing_nothing() -> None:
    old = (
        '{"case_id":"cs-old","kind":"scam_number","opened_at":"2026-11-01T00:00:00Z",'
        '"updated_at":"2026-11-02T00:00:00Z","state":"open","reporters":["ru-moscow"],'
        '"alert_ids":["al-red"],"related":["cs-other"]}'
    )
    case = loads(CaseRecord, old)
    assert [r.alert_id for r in case.reports] == ["al-red"]
    for agency in AGENCIES:
        assert ntk.case_view(agency, case) is None
