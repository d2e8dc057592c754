"""An alert's follow-ups and acknowledgements go to the lane that holds it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gateway.alerts import _lane
from gateway.hub import Hub
from gateway.intake import checked
from hotline.codec import dumps
from hotline.models import AlertState
from hotline.settings import Settings
from hotline.topics import topics
from tests.streams.test_process import record, scam

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


class Services:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub


def hub_with_states(tmp_path: Path) -> Hub:
    settings = Settings(data_dir=tmp_path)
    hub = Hub(settings)
    for topic, store in hub.states.by_topic.items():
        store.open(tmp_path / topic)
    return hub


def held_by(hub: Hub, lane: str, ref: str) -> str:
    rec = record("vn-hanoi", scam(ref, "0912 345 678"), lane="bulk")
    state = AlertState(alert=rec, status="delivered", updated_at=NOW)
    topic = topics(hub.settings).states()["urgent" if lane == "urgent" else "bulk"]
    hub.states.by_topic[topic].apply([(rec.alert_id, dumps(state))], 1)
    return rec.alert_id


def test_the_hub_knows_which_lane_holds_an_alert(tmp_path: Path) -> None:
    hub = hub_with_states(tmp_path)
    assert hub.lane_of(held_by(hub, "bulk", "B-1")) == "bulk"
    assert hub.lane_of(held_by(hub, "urgent", "U-1")) == "urgent"
    # Written but not processed yet: where it was written, else its own lane.
    follow_up = record("vn-hanoi", scam("F-1", "0912 345 678"))
    hub.note_accepted(follow_up.alert_id, dumps(follow_up), "bulk")
    assert hub.lane_of(follow_up.alert_id) == "bulk"
    plain = record("vn-hanoi", scam("P-1", "0912 345 678"), lane="bulk")
    hub.note_accepted(plain.alert_id, dumps(plain))
    assert hub.lane_of(plain.alert_id) == "bulk"
    assert hub.lane_of("al-unknown") is None


def test_a_follow_up_goes_to_the_lane_of_the_alert_it_references(tmp_path: Path) -> None:
    hub = hub_with_states(tmp_path)
    held_by(hub, "bulk", "B-2")
    cancel = checked(
        record("vn-hanoi", scam("B-2-C", "0912 345 678", msg_type="cancel", references="B-2"))
    )
    assert cancel.lane == "urgent"  # posted on its own, as urgent
    assert _lane(Services(hub), "vn-hanoi", cancel, {}) == "bulk"  # type: ignore[arg-type]
    # An alert of the same batch, not processed yet: the lane it is written to.
    update = checked(
        record("vn-hanoi", scam("N-1-U", "0912 345 678", msg_type="update", references="N-1"))
    )
    ref_id = record("vn-hanoi", scam("N-1", "0912 345 678")).alert_id
    assert _lane(Services(hub), "vn-hanoi", update, {ref_id: "bulk"}) == "bulk"  # type: ignore[arg-type]
    # Nothing known of it: the follow-up's own lane (the stream parks it until it comes).
    lone = checked(
        record("vn-hanoi", scam("X-1-U", "0912 345 678", msg_type="update", references="X-1"))
    )
    assert _lane(Services(hub), "vn-hanoi", lone, {}) == "urgent"  # type: ignore[arg-type]
    plain = checked(record("vn-hanoi", scam("Y-1", "0912 345 678"), lane="bulk"))
    assert _lane(Services(hub), "vn-hanoi", plain, {}) == "bulk"  # type: ignore[arg-type]
