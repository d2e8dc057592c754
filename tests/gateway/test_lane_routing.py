"""An alert's follow-ups and acknowledgements go to the lane that holds it, keyed by its group."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.admission import Route, admit, route_of
from gateway.answers import BatchItem
from gateway.hub import Hub
from gateway.intake import Outcome, checked
from gateway.socket_messages import Ack
from gateway.ws import _ack
from hotline.alert_in import alert_id_for
from hotline.codec import dumps
from hotline.models import AlertState, Receipt
from hotline.settings import Settings
from hotline.topics import partition_for, topics
from tests.streams.test_process import record, scam

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


class Publisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []  # (topic, key)

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.sent.append((topic, key))


class Services:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.known = hub.known
        self.settings = hub.settings
        self.publisher = Publisher()


def hub_with_states(tmp_path: Path) -> Hub:
    settings = Settings(data_dir=tmp_path)
    hub = Hub(settings)
    for topic, store in hub.known.states.by_topic.items():
        store.open(tmp_path / topic)
    return hub


def held_by(hub: Hub, lane: str, ref: str, **over: Any) -> str:
    rec = record("vn-hanoi", scam(ref, "0912 345 678", **over), lane="bulk")
    receipts = [Receipt(agency="cn-beijing", delivered_at=NOW)]
    state = AlertState(alert=rec, status="delivered", receipts=receipts, updated_at=NOW)
    topic = topics(hub.settings).states()["urgent" if lane == "urgent" else "bulk"]
    hub.known.states.by_topic[topic].apply([(rec.alert_id, dumps(state))], 1)
    return rec.alert_id


def test_the_hub_knows_which_lane_holds_an_alert(tmp_path: Path) -> None:
    hub = hub_with_states(tmp_path)
    assert hub.known.lane_of(held_by(hub, "bulk", "B-1")) == "bulk"
    assert hub.known.lane_of(held_by(hub, "urgent", "U-1")) == "urgent"
    # Written but not processed yet: where it was written, else its own lane.
    follow_up = record("vn-hanoi", scam("F-1", "0912 345 678"))
    hub.known.note_accepted(follow_up.alert_id, dumps(follow_up), "bulk")
    assert hub.known.lane_of(follow_up.alert_id) == "bulk"
    plain = record("vn-hanoi", scam("P-1", "0912 345 678"), lane="bulk")
    hub.known.note_accepted(plain.alert_id, dumps(plain))
    assert hub.known.lane_of(plain.alert_id) == "bulk"
    assert hub.known.lane_of("al-unknown") is None


def test_a_follow_up_goes_to_the_lane_of_the_alert_it_references(tmp_path: Path) -> None:
    hub = hub_with_states(tmp_path)
    held_by(hub, "bulk", "B-2")
    cancel = checked(
        record("vn-hanoi", scam("B-2-C", "0912 345 678", msg_type="cancel", references="B-2"))
    )
    assert cancel.lane == "urgent"  # posted on its own, as urgent
    assert route_of(Services(hub), "vn-hanoi", cancel, {}).lane == "bulk"  # type: ignore[arg-type]
    # An alert of the same batch, not processed yet: the lane it is written to.
    update = checked(
        record("vn-hanoi", scam("N-1-U", "0912 345 678", msg_type="update", references="N-1"))
    )
    ref_id = record("vn-hanoi", scam("N-1", "0912 345 678")).alert_id
    in_batch = {ref_id: Route("bulk", ref_id)}
    assert route_of(Services(hub), "vn-hanoi", update, in_batch).lane == "bulk"  # type: ignore[arg-type]
    # Nothing known of it: the follow-up's own lane (the stream parks it until it comes).
    lone = checked(
        record("vn-hanoi", scam("X-1-U", "0912 345 678", msg_type="update", references="X-1"))
    )
    assert route_of(Services(hub), "vn-hanoi", lone, {}).lane == "urgent"  # type: ignore[arg-type]
    plain = checked(record("vn-hanoi", scam("Y-1", "0912 345 678"), lane="bulk"))
    assert route_of(Services(hub), "vn-hanoi", plain, {}).lane == "bulk"  # type: ignore[arg-type]


def follow_up(ref: str, of: str, msg_type: str = "update") -> dict[str, Any]:
    return scam(ref, "0912 345 678", msg_type=msg_type, references=of)


def test_a_group_starts_at_the_alert_its_chain_of_follow_ups_references(tmp_path: Path) -> None:
    hub = hub_with_states(tmp_path)
    root = held_by(hub, "bulk", "G-1")
    assert hub.known.group_of(root) == root  # an original is its own group
    first = held_by(hub, "bulk", "G-1-U", msg_type="update", references="G-1")
    assert hub.known.group_of(first) == root
    # A follow-up of that follow-up, written but not processed yet: known as accepted.
    second = record("vn-hanoi", follow_up("G-1-C", "G-1-U", "cancel"), lane="bulk")
    hub.known.note_accepted(second.alert_id, dumps(second), "bulk")
    assert hub.known.group_of(second.alert_id) == root


def test_a_group_ends_where_the_gateway_knows_no_further(tmp_path: Path) -> None:
    hub = hub_with_states(tmp_path)
    assert hub.known.group_of("al-unknown") == "al-unknown"
    # The referenced alert is not known: its id, the group's if it is an original.
    orphan = held_by(hub, "bulk", "O-1-U", msg_type="update", references="O-1")
    assert hub.known.group_of(orphan) == alert_id_for("vn-hanoi", "O-1")
    # References that go round (each names the other) end after a bounded walk.
    a = record("vn-hanoi", follow_up("C-A", "C-B"))
    b = record("vn-hanoi", follow_up("C-B", "C-A"))
    hub.known.note_accepted(a.alert_id, dumps(a))
    hub.known.note_accepted(b.alert_id, dumps(b))
    assert hub.known.group_of(a.alert_id) in (a.alert_id, b.alert_id)


def test_a_follow_up_is_keyed_by_the_group_of_the_alert_it_references(tmp_path: Path) -> None:
    hub = hub_with_states(tmp_path)
    services: Any = Services(hub)
    root = held_by(hub, "bulk", "K-1")
    held_by(hub, "bulk", "K-1-U", msg_type="update", references="K-1")
    cancel = checked(record("vn-hanoi", follow_up("K-1-C", "K-1-U", "cancel")))
    assert route_of(services, "vn-hanoi", cancel, {}) == Route("bulk", root)
    # Nothing known of the referenced alert: keyed by its id.
    lone = checked(record("vn-hanoi", follow_up("Z-1-U", "Z-1")))
    assert route_of(services, "vn-hanoi", lone, {}) == Route(
        "urgent", alert_id_for("vn-hanoi", "Z-1")
    )
    # An alert that references nothing keeps its own id as the key.
    plain = checked(record("vn-hanoi", scam("K-2", "0912 345 678"), lane="bulk"))
    assert route_of(services, "vn-hanoi", plain, {}) == Route("bulk", plain.alert_id)


async def test_a_batch_keys_follow_ups_of_its_own_alerts_by_their_group(tmp_path: Path) -> None:
    hub = hub_with_states(tmp_path)
    root = record("vn-hanoi", scam("NB-1", "0912 345 678"), lane="bulk")
    plain = record("vn-hanoi", scam("NB-2", "0912 345 678"), lane="bulk")
    outcomes: list[Outcome] = [
        checked(root),
        checked(record("vn-hanoi", follow_up("NB-1-U", "NB-1"))),
        checked(plain),
        checked(record("vn-hanoi", follow_up("NB-1-C", "NB-1-U", "cancel"))),
    ]
    results: list[BatchItem | None] = [None] * len(outcomes)
    pending = await admit(Services(hub), "vn-hanoi", outcomes, results)  # type: ignore[arg-type]
    assert results == [None] * len(outcomes)  # nothing refused
    # The follow-ups, posted as urgent, go with the alert they follow up: its lane, its key.
    assert list(pending) == [topics(hub.settings).inbound_bulk]
    entries = pending[topics(hub.settings).inbound_bulk]
    keyed = [(e.at, e.key) for e in entries]
    assert keyed == [
        (0, root.alert_id),
        (1, root.alert_id),
        (2, plain.alert_id),
        (3, root.alert_id),
    ]
    # Each where Kafka's partitioner puts its key: the group's three together.
    for e in entries:
        assert e.partition == partition_for(e.key.encode(), hub.settings.partitions)


class Console:
    agency = "cn-beijing"

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def send_message(self, message: Any) -> None:
        self.messages.append(message)


async def test_an_acknowledgement_is_keyed_by_the_group_of_its_alert(tmp_path: Path) -> None:
    hub = hub_with_states(tmp_path)
    services = Services(hub)
    root = held_by(hub, "bulk", "A-1")
    update = held_by(hub, "bulk", "A-1-U", msg_type="update", references="A-1")
    for alert_id in (root, update):
        await _ack(Console(), services, Ack(type="ack", alert_id=alert_id))  # type: ignore[arg-type]
    acks = topics(hub.settings).acks_bulk
    assert services.publisher.sent == [(acks, root.encode()), (acks, root.encode())]
