"""Outcome reports in the stream: recorded once, told to the sender and the reporter only, and
put on both agencies' audit records."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from hotline.codec import dumps, loads
from hotline.models import (
    AckCommand,
    AlertRecord,
    AlertState,
    Outcome,
    OutcomeCommand,
    OutcomeIn,
    command_adapter,
)
from hotline.settings import Settings
from streams.case_tables import CaseTables
from streams.process import Processor
from streams.state import Out, State
from tests.streams.test_process import NOW, events, person, record, scam

LATER = NOW + timedelta(minutes=30)


@pytest.fixture
def st() -> State:
    return State(alerts={}, cases=CaseTables({}, {}, {}, {}), escalations={})


@pytest.fixture
def proc() -> Processor:
    return Processor(Settings(escalation_seconds=60))


def delivered(proc: Processor, st: State) -> AlertRecord:
    """Hanoi's alert, routed to Beijing and Moscow."""
    body = person("O1", "Trần Bình", "1970-03-03", [], recipients=["cn-beijing", "ru-moscow"])
    rec = record("vn-hanoi", body)
    proc.submission(rec, st, NOW)
    return rec


def report(
    alert_id: str, agency: str, kind: str = "located", note: str | None = None
) -> OutcomeCommand:
    given = OutcomeIn.model_validate({"kind": kind, "note": note})
    return OutcomeCommand(
        alert_id=alert_id, outcome=Outcome.reported(alert_id, agency, given, LATER)
    )


def audit(outs: list[Out]) -> list[tuple[str, str, list[str]]]:
    docs = [orjson.loads(o.value) for o in outs if o.topic.endswith(".audit.events")]
    return sorted((d["agency"], d["action"], d["counterparts"]) for d in docs)


def test_an_outcome_reaches_the_sender_and_the_reporter_only(proc: Processor, st: State) -> None:
    rec = delivered(proc, st)
    cmd = report(rec.alert_id, "cn-beijing", note="已在北京站找到")
    outs = proc.command(cmd, st, LATER)
    evs = events(outs)
    assert sorted((a, e) for a, e, _ in evs) == [("cn-beijing", "outcome"), ("vn-hanoi", "outcome")]
    for _, _, doc in evs:
        assert doc["by"] == "cn-beijing"
        assert doc["outcome"]["kind"] == "located" and doc["outcome"]["note"] == "已在北京站找到"
    assert audit(outs) == [
        ("cn-beijing", "outcome_reported", ["vn-hanoi"]),
        ("vn-hanoi", "outcome_reported", ["cn-beijing"]),
    ]
    state = loads(AlertState, st.alerts[rec.alert_id])
    assert [o.kind for o in state.outcomes] == ["located"]


def test_the_same_report_again_is_recorded_once(proc: Processor, st: State) -> None:
    rec = delivered(proc, st)
    cmd = report(rec.alert_id, "cn-beijing", "not_found")
    assert proc.command(cmd, st, LATER)
    assert proc.command(cmd, st, LATER + timedelta(seconds=1)) == []
    # Another kind is another report.
    assert proc.command(report(rec.alert_id, "cn-beijing", "detained"), st, LATER)
    state = loads(AlertState, st.alerts[rec.alert_id])
    assert [o.kind for o in state.outcomes] == ["not_found", "detained"]


def test_one_recipients_outcome_is_not_shown_to_another(proc: Processor, st: State) -> None:
    rec = delivered(proc, st)
    proc.command(report(rec.alert_id, "cn-beijing", "located", "note"), st, LATER)
    outs = proc.command(report(rec.alert_id, "ru-moscow", "not_found"), st, LATER)
    by = {a: d for a, _, d in events(outs)}
    assert set(by) == {"vn-hanoi", "ru-moscow"}
    assert [o["agency"] for o in by["vn-hanoi"]["outcomes"]] == ["cn-beijing", "ru-moscow"]
    assert [o["agency"] for o in by["ru-moscow"]["outcomes"]] == ["ru-moscow"]


def test_a_report_from_the_sender_or_a_third_agency_is_ignored(proc: Processor, st: State) -> None:
    body = scam("O2", "0912 345 678", recipients=["cn-beijing"])
    rec = record("vn-hanoi", body)
    proc.submission(rec, st, NOW)
    assert proc.command(report(rec.alert_id, "ru-moscow"), st, LATER) == []
    assert proc.command(report(rec.alert_id, "vn-hanoi"), st, LATER) == []
    assert proc.command(report("al-unknown", "cn-beijing"), st, LATER) == []
    assert loads(AlertState, st.alerts[rec.alert_id]).outcomes == []


def test_the_acks_topic_carries_both_commands_and_old_acks_still_read() -> None:
    old = b'{"alert_id":"al-1","case_id":null,"agency":"cn-beijing","at":"2026-11-21T09:00:00Z"}'
    assert isinstance(command_adapter.validate_json(old), AckCommand)
    cmd = report("al-1", "cn-beijing", "number_blocked")
    assert command_adapter.validate_json(dumps(cmd)) == cmd


def test_an_outcome_id_names_the_report_not_the_time() -> None:
    given = OutcomeIn(kind="located", note="x")
    a = Outcome.reported("al-1", "cn-beijing", given, NOW)
    assert a.outcome_id == Outcome.reported("al-1", "cn-beijing", given, LATER).outcome_id
    assert a.outcome_id != Outcome.reported("al-1", "ru-moscow", given, NOW).outcome_id
    other = OutcomeIn(kind="located", note="y")
    assert a.outcome_id != Outcome.reported("al-1", "cn-beijing", other, NOW).outcome_id
