"""Finding 5: a record whose outputs Kafka cannot take is never lost in silence."""

from __future__ import annotations

from typing import Any

import orjson

from hotline.codec import dumps, loads
from hotline.models import AlertState
from hotline.settings import Settings
from streams.case_tables import CaseTables
from streams.errors import Guard
from streams.process import Processor
from streams.staged import Staged
from streams.state import State
from tests.streams.test_process import NOW, record

LIMIT = 64 * 1024


def staged_state() -> State:
    return State(
        alerts=Staged({}),
        cases=CaseTables(Staged({}), Staged({}), Staged({}), Staged({})),
        escalations=Staged({}),
        parked=Staged({}),
    )


def fraud(ref: str, indicators: int, width: int = 100) -> dict[str, Any]:
    """A fraud pattern with this many URLs and app names (up to 1,000 each), `width` long."""
    pad = "x" * (width - 40)
    urls = [f"https://bank-{i:05d}.example-login.test/{pad}" for i in range(min(indicators, 1000))]
    apps = [f"Trade App {i:05d} {pad}" for i in range(max(0, min(indicators - 1000, 1000)))]
    found = {"urls": urls, **({"app_names": apps} if apps else {})}
    return {
        "source_ref": ref,
        "kind": "fraud_pattern",
        "severity": "severe",
        "urgency": "expected",
        "title": "Phishing kit",
        "subject": {"scheme": "phishing", "indicators": found},
    }


def guard_for(st: State, proc: Processor) -> Guard:
    tables = [t for t in st.tables() if isinstance(t, Staged)]
    return Guard(tables, "dlq", LIMIT, lambda r: proc.unwritable(r, st, NOW))


def test_an_alert_too_large_to_deliver_is_rolled_back_dead_lettered_and_rejected() -> None:
    proc = Processor(Settings(max_record_bytes=LIMIT))
    st = staged_state()
    rec = record("vn-hanoi", fraud("F-BIG", 400))
    value = dumps(rec)
    assert len(value) < LIMIT  # the inbound record itself fits; its enriched outputs do not
    outs = guard_for(st, proc).run(
        "inbound", 7, value, lambda v: proc.submission(loads(type(rec), v), st, NOW)
    )
    topics = [o.topic.rsplit(".", 1)[-1] for o in outs]
    assert topics[0] == "dlq"
    assert orjson.loads(outs[0].value)["offset"] == 7
    assert "vn-hanoi" in topics  # the sender's `rejected` event
    [event] = [orjson.loads(o.value) for o in outs if o.topic.endswith(".vn-hanoi")]
    assert event["event"] == "rejected" and "too large" in event["reason"]
    # Nothing of the failed attempt stays in the case index...
    for table in (st.cases.cases, st.cases.fingerprints, st.cases.links):
        assert dict(table.items()) == {}
    # ...and the alert is remembered as rejected, so a retry is answered, not lost.
    assert loads(AlertState, st.alerts[rec.alert_id]).status == "rejected"
    assert proc.submission(rec, st, NOW) == []


def test_a_record_that_fits_passes_unchanged() -> None:
    proc = Processor(Settings(max_record_bytes=LIMIT))
    st = staged_state()
    rec = record("vn-hanoi", fraud("F-SMALL", 5))
    outs = guard_for(st, proc).run(
        "inbound", 1, dumps(rec), lambda v: proc.submission(loads(type(rec), v), st, NOW)
    )
    assert not any(o.topic == "dlq" for o in outs)
    assert any(o.topic.endswith(".cn-beijing") for o in outs)


def test_a_failing_record_leaves_no_trace_but_a_dead_letter() -> None:
    proc = Processor(Settings())
    st = staged_state()

    def boom(_: bytes) -> list[Any]:
        st.cases.cases["cs-half"] = "{}"
        raise RuntimeError("a bug")

    outs = guard_for(st, proc).run("acks", 3, b'{"alert_id": "x"}', boom)
    assert [o.topic for o in outs] == ["dlq"]
    assert "cs-half" not in st.cases.cases


def test_a_table_write_too_large_for_its_changelog_is_caught_like_an_output() -> None:
    # Table writes become changelog records (the alerts table's is the alert-state topic the
    # gateways read), so one Kafka would refuse stops the record just as an output would.
    proc = Processor(Settings(max_record_bytes=LIMIT))
    st = staged_state()

    def grows(_: bytes) -> list[Any]:
        st.cases.cases["cs-big"] = "ж" * (LIMIT // 2)  # fits as characters, not as UTF-8 bytes
        return []

    outs = guard_for(st, proc).run("acks", 5, b'{"alert_id": "x"}', grows)
    assert [o.topic for o in outs] == ["dlq"]
    assert "cs-big" not in st.cases.cases
