"""The stream's audit trail with plain dicts for tables: each step of an alert's life on the
sender's and the recipients' records, each only in its own, chained once per exchange."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from hotline.audit import AuditEntry, broken
from hotline.codec import loads
from hotline.models import AckCommand
from hotline.settings import Settings
from hotline.topics import topics
from streams.case_tables import CaseTables
from streams.process import Processor
from streams.state import Out, State
from tests.fixtures.records import record
from tests.streams.test_process import person, scam

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
T = topics(Settings())


@pytest.fixture
def st() -> State:
    return State(alerts={}, cases=CaseTables({}, {}, {}, {}), escalations={})


@pytest.fixture
def proc() -> Processor:
    return Processor(Settings(escalation_seconds=60))


def chain_all(proc: Processor, st: State, outs: list[Out]) -> list[AuditEntry]:
    """What the chainer makes of the audit events among `outs`, in order."""
    entries = []
    for o in outs:
        if o.topic == T.audit_events:
            entries += [loads(AuditEntry, e.value) for e in proc.tell.audit.chain(st, o.value)]
    return entries


def by_agency(entries: list[AuditEntry]) -> dict[str, list[tuple[str, list[str]]]]:
    out: defaultdict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for e in entries:
        out[e.agency].append((e.action, e.counterparts))
    return dict(out)


def test_an_alert_its_acknowledgement_and_cancel_are_on_each_partys_record(
    proc: Processor, st: State
) -> None:
    rec = record("vn-hanoi", person("A1", "Trần Bình", "1970-03-03", [], recipients=["cn-beijing"]))
    entries = chain_all(proc, st, proc.submission(rec, st, NOW))
    ack = AckCommand(alert_id=rec.alert_id, agency="cn-beijing", at=NOW + timedelta(seconds=5))
    entries += chain_all(proc, st, proc.ack(ack, st, NOW + timedelta(seconds=5)))
    cancel = person("A1-C", "Trần Bình", "1970-03-03", [], msg_type="cancel", references="A1")
    entries += chain_all(proc, st, proc.submission(record("vn-hanoi", cancel), st, NOW))
    assert by_agency(entries) == {
        "vn-hanoi": [
            ("accepted", []),
            ("routed", ["cn-beijing"]),
            ("acknowledged", ["cn-beijing"]),
            ("cancelled", ["cn-beijing"]),
        ],
        "cn-beijing": [
            ("routed", ["vn-hanoi"]),
            ("acknowledged", ["vn-hanoi"]),
            ("cancelled", ["vn-hanoi"]),
        ],
    }
    for agency in ("vn-hanoi", "cn-beijing"):
        chain = [e for e in entries if e.agency == agency]
        assert broken(chain, head=chain[-1].hash) is None


def test_an_escalation_is_on_the_recipients_and_the_senders_record(
    proc: Processor, st: State
) -> None:
    rec = record("vn-hanoi", person("E1", "Trần Bình", "1971-03-03", [], recipients=["cn-beijing"]))
    chain_all(proc, st, proc.submission(rec, st, NOW))
    entries = chain_all(proc, st, proc.escalate_due(st, NOW + timedelta(seconds=61)))
    assert by_agency(entries) == {
        "cn-beijing": [("escalated", ["vn-hanoi"])],
        "vn-hanoi": [("escalated", ["cn-beijing"])],
    }


def test_a_rejection_is_on_the_senders_record_only(proc: Processor, st: State) -> None:
    proc.submission(record("vn-hanoi", scam("R1", "0912 345 678")), st, NOW)
    other = record("vn-hanoi", scam("R1", "0912 345 679"))  # the same ref, other content
    entries = chain_all(proc, st, proc.submission(other, st, NOW))
    assert by_agency(entries) == {"vn-hanoi": [("rejected", [])]}
    assert "source_ref" in entries[0].detail["reason"]


def test_an_exchange_reported_twice_is_chained_once(proc: Processor, st: State) -> None:
    rec = record("vn-hanoi", scam("T1", "0912 345 678"))
    outs = proc.submission(rec, st, NOW)
    first = chain_all(proc, st, outs)
    # The record handled again after a crash: the same exchanges reported again, later.
    again = proc.submission(
        rec,
        State(alerts={}, cases=CaseTables({}, {}, {}, {}), escalations={}),
        NOW + timedelta(seconds=9),
    )
    assert chain_all(proc, st, again) == []
    assert [e.seq for e in first if e.agency == "vn-hanoi"] == [0, 1]


def test_a_shared_lists_items_are_not_on_record_one_by_one(proc: Processor, st: State) -> None:
    rec = record("ru-moscow", scam("L1", "8 916 123-45-67"), lane="bulk", import_id="list-1")
    assert chain_all(proc, st, proc.submission(rec, st, NOW)) == []


def test_a_bulk_alerts_follow_ups_are_on_each_partys_record(proc: Processor, st: State) -> None:
    """A list's items are on the record as their batches (at the gateway); what follows one
    of them, an update or a cancel, is an exchange of its own, as for any alert."""
    rec = record("ru-moscow", scam("L1", "8 916 123-45-67"), lane="bulk", import_id="list-1")
    assert chain_all(proc, st, proc.submission(rec, st, NOW)) == []
    update = scam("L1-U", "8 916 123-45-67", msg_type="update", references="L1")
    entries = chain_all(
        proc, st, proc.submission(record("ru-moscow", update, lane="bulk"), st, NOW)
    )
    cancel = scam("L1-C", "8 916 123-45-67", msg_type="cancel", references="L1")
    entries += chain_all(
        proc, st, proc.submission(record("ru-moscow", cancel, lane="bulk"), st, NOW)
    )
    recipients = sorted({e.agency for e in entries} - {"ru-moscow"})
    assert recipients == ["cn-beijing", "vn-hanoi"]  # the list's recipients, as routed
    for agency in ["ru-moscow", *recipients]:
        assert [a for a, _ in by_agency(entries)[agency]] == ["updated", "cancelled"], agency
