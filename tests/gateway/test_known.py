"""What the gateway knows of an alert: accepted the moment its 202 is sent (within bounds),
then its state as the stream wrote it, which an acknowledgement can wait for."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway import known as known_module
from gateway.known import KnownAlerts
from hotline.codec import dumps
from hotline.models import AlertState
from hotline.settings import Settings
from hotline.topics import topics
from tests.streams.test_process import NOW, record, scam


def test_an_accepted_alert_reads_as_accepted_until_the_stream_speaks() -> None:
    known = KnownAlerts(Settings())
    rec = record("vn-hanoi", scam("H-1", "0912 345 678"))
    assert known.state(rec.alert_id) is None
    known.note_accepted(rec.alert_id, dumps(rec))
    state = known.state(rec.alert_id)
    assert state is not None and state.status == "accepted" and state.alert == rec


def test_the_accepted_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(known_module, "ACCEPTED_CAP", 3)
    known = KnownAlerts(Settings())
    ids = []
    for i in range(5):
        rec = record("vn-hanoi", scam(f"H-{i}", "0912 345 678"))
        known.note_accepted(rec.alert_id, dumps(rec))
        ids.append(rec.alert_id)
    assert [known.state(a) is not None for a in ids] == [False, False, True, True, True]


def _opened(tmp_path: Path) -> tuple[KnownAlerts, str]:
    """The stores open, and the urgent lane's alert-state topic."""
    settings = Settings(data_dir=tmp_path)
    known = KnownAlerts(settings)
    for topic, store in known.states.by_topic.items():
        store.open(tmp_path / topic)
    return known, topics(settings).alert_state


def _state(ref: str) -> tuple[str, bytes]:
    rec = record("vn-hanoi", scam(ref, "0912 345 678"))
    return rec.alert_id, dumps(AlertState(alert=rec, status="delivered", updated_at=NOW))


async def test_a_state_read_later_wakes_its_waiter(tmp_path: Path) -> None:
    known, topic = _opened(tmp_path)
    alert_id, value = _state("W-1")
    waiting = asyncio.create_task(known.wait_for(alert_id, timeout=5))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    known.apply(topic, 0, [(alert_id, value)], [0])
    assert await asyncio.wait_for(waiting, 1) == value
    assert state_after(known, alert_id).status == "delivered"
    assert not known._waiting  # withdrawn once answered
    known.close()


async def test_a_state_already_read_is_answered_at_once(tmp_path: Path) -> None:
    known, topic = _opened(tmp_path)
    alert_id, value = _state("W-2")
    known.apply(topic, 0, [(alert_id, value)], [0])
    assert await known.wait_for(alert_id, timeout=0) == value
    known.close()


async def test_a_state_that_never_comes_is_none_at_the_deadline(tmp_path: Path) -> None:
    known, topic = _opened(tmp_path)
    alert_id, value = _state("W-3")
    other_id, other = _state("W-4")
    waiting = asyncio.create_task(known.wait_for(alert_id, timeout=0.05))
    await asyncio.sleep(0)
    known.apply(topic, 0, [(other_id, other)], [0])  # another alert's state wakes nobody
    assert await waiting is None
    assert not known._waiting
    known.close()


def state_after(known: KnownAlerts, alert_id: str) -> AlertState:
    state = known.state(alert_id)
    assert state is not None
    return state
