"""Finding 6: an alert reads back as accepted the moment its 202 is sent, within bounds."""

from __future__ import annotations

import pytest

from gateway import hub as hub_module
from gateway.hub import Hub
from hotline.codec import dumps
from hotline.settings import Settings
from tests.streams.test_process import record, scam


def test_an_accepted_alert_reads_as_accepted_until_the_stream_speaks() -> None:
    hub = Hub(Settings())
    rec = record("vn-hanoi", scam("H-1", "0912 345 678"))
    assert hub.state(rec.alert_id) is None
    hub.note_accepted(rec.alert_id, dumps(rec))
    state = hub.state(rec.alert_id)
    assert state is not None and state.status == "accepted" and state.alert == rec


def test_the_accepted_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_module, "ACCEPTED_CAP", 3)
    hub = Hub(Settings())
    ids = []
    for i in range(5):
        rec = record("vn-hanoi", scam(f"H-{i}", "0912 345 678"))
        hub.note_accepted(rec.alert_id, dumps(rec))
        ids.append(rec.alert_id)
    assert [hub.state(a) is not None for a in ids] == [False, False, True, True, True]
