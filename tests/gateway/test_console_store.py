"""The console's store (gateway/static/store.js) under Node: urgency is decided there once, for
the row's look and for the alarm; a sent alert's state read from the gateway is merged by the
same rules as its events. Skipped without Node."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from gateway.main import STATIC

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js to run the console's modules")

US = "cn-beijing"


def event(n: int, name: str, alert_id: str = "A-1", **body: Any) -> dict[str, Any]:
    sender = body.pop("sender", "vn-hanoi")
    return {
        "event_id": f"ev-{n}",
        "event": name,
        "at": f"2026-12-05T09:00:0{n}+00:00",
        "by": body.pop("by", None),
        "alert": {
            "alert_id": alert_id,
            "sender": sender,
            "received_at": "2026-12-05T09:00:00+00:00",
            "body": {"title": "t", "urgency": body.pop("urgency", "routine"), **body},
        },
    }


def run(script: str) -> Any:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "--no-warnings", "--input-type=module", "-e", script],
        cwd=STATIC,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


def fold(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Each event's `urgent` (the alarm) and the row's urgency after it (its look)."""
    return run(
        "import { Store } from './store.js';"
        f"const s = new Store(); s.agency = {json.dumps(US)};"
        f"const out = {json.dumps(events)}.map((ev) => {{ const r = s.apply(ev);"
        " return {alarm: r.urgent, row: s.isUrgent(r.row), unseen: r.row.unseenUrgent}; });"
        "console.log(JSON.stringify(out));"
    )


def test_an_immediate_alert_is_urgent_until_acknowledged() -> None:
    steps = fold(
        [
            event(1, "new", urgency="immediate"),
            event(2, "acknowledged", urgency="immediate", by=US),
        ]
    )
    assert steps == [
        {"alarm": True, "row": True, "unseen": True},
        {"alarm": False, "row": False, "unseen": False},
    ]


def test_an_escalation_makes_a_routine_alert_urgent_and_a_later_corroboration_rings_no_alarm() -> (
    None
):
    steps = fold([event(1, "new"), event(2, "escalated", by="vn-hanoi"), event(3, "corroborated")])
    assert [s["alarm"] for s in steps] == [False, True, False]
    assert [s["row"] for s in steps] == [False, True, True]  # still urgent to look at


def test_a_cancelled_immediate_alert_is_not_urgent() -> None:
    steps = fold([event(1, "new", urgency="immediate"), event(2, "cancelled", urgency="immediate")])
    assert steps[1] == {"alarm": False, "row": False, "unseen": False}


def test_a_sent_alerts_state_read_again_merges_like_its_events() -> None:
    mine = event(1, "delivered", "S-1", sender=US, by="vn-hanoi")
    mine["receipts"] = [{"agency": "vn-hanoi", "delivered_at": "2026-12-05T09:00:01+00:00"}]
    state = {
        "alert": mine["alert"],
        "status": "delivered",
        # Only Moscow's receipt: Hanoi's (from the event) is kept, not replaced.
        "receipts": [{"agency": "ru-moscow", "delivered_at": "2026-12-05T09:00:05+00:00"}],
        # An older case than the one the row holds changes nothing.
        "case": {"case_id": "C-1", "updated_at": "2026-12-05T08:00:00+00:00", "reporters": ["x"]},
    }
    newer_case = {
        "case_id": "C-1",
        "updated_at": "2026-12-05T09:30:00+00:00",
        "reporters": ["x", "y"],
    }
    out = run(
        "import { Store } from './store.js';"
        f"const s = new Store(); s.agency = {json.dumps(US)};"
        f"const ev = {json.dumps(mine)}; ev.case = {json.dumps(newer_case)};"
        "const row = s.apply(ev).row; const v = row.version;"
        f"s.applySentState(row, {json.dumps(state)});"
        "console.log(JSON.stringify({receipts: [...row.receipts.keys()].sort(),"
        " reporters: row.case.reporters.length, bumped: row.version > v,"
        " status: s.sentStatus(row)}));"
    )
    assert out == {
        "receipts": ["ru-moscow", "vn-hanoi"],
        "reporters": 2,
        "bumped": True,
        "status": "delivered",
    }


def outcome(agency: str, kind: str, n: int = 1) -> dict[str, Any]:
    return {
        "outcome_id": f"oc-{agency}-{kind}",
        "agency": agency,
        "kind": kind,
        "note": None,
        "at": f"2026-12-05T10:00:0{n}+00:00",
    }


def test_outcomes_fold_once_on_the_senders_row_and_on_the_reporters_alert() -> None:
    located, missing = outcome("cn-beijing", "located", 2), outcome("ru-moscow", "not_found", 1)
    sent = event(1, "delivered", "A-9", sender=US)
    told = {**event(2, "outcome", "A-9", sender=US, by="ru-moscow"), "outcome": missing}
    told["outcomes"] = [missing]
    again = {**told, "event_id": "ev-3", "outcomes": [missing, located], "outcome": located}
    state = {"outcomes": [located, missing]}  # GET /v1/alerts/{id} says the same once more
    mine = {**event(4, "new", "B-1"), "outcomes": []}
    echo = {**event(5, "outcome", "B-1", by=US), "outcome": outcome(US, "detained")}
    out = run(
        "import { Store } from './store.js';"
        f"const s = new Store(); s.agency = {json.dumps(US)};"
        f"for (const ev of {json.dumps([sent, told, again])}) s.apply(ev);"
        "const row = s.sent.get('A-9');"
        f"s.applySentState(row, {json.dumps(state)});"
        f"const r = s.apply({json.dumps(mine)}).row; const activity = r.activity;"
        f"s.apply({json.dumps(echo)});"
        "console.log(JSON.stringify({"
        " sent: [...row.outcomes.values()].map((o) => o.kind),"
        " ours: s.rowOutcomes(r).map((o) => o.kind), event: r.event,"
        " moved: r.activity !== activity, state: s.rowState(r),"
        " timeline: row.timeline.map((e) => [e.event, e.agency, e.outcome]) }));"
    )
    assert sorted(out["sent"]) == ["located", "not_found"]
    assert out["ours"] == ["detained"]
    # Our own report coming back neither moves the row up nor changes its state.
    assert not out["moved"] and out["state"] == "new"
    assert out["timeline"][1:] == [
        ["outcome", "ru-moscow", "not_found"],
        ["outcome", "ru-moscow", "located"],
    ]
