"""What this gateway knows of each alert, and a way to wait until it knows.

Two sources: the alert states the stream wrote (both lanes' compacted alert-state topics, kept
on disk by gateway/states.py and fed here by the delivery consumer, gateway/hub.py), and, until
the stream has processed an alert, the record this gateway itself wrote to Kafka. From them
come an alert's state (GET, follow-up checks, acknowledgements), the lane that holds it and the
group its follow-ups are keyed by.

A socket's acknowledgement can overtake the state it needs by milliseconds (the event and the
state are on different topics): `wait_for` is woken by the state's arrival instead of polling.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from pathlib import Path

from hotline.alert_in import alert_id_for
from hotline.codec import loads
from hotline.fields import Lane
from hotline.models import AlertRecord, AlertState
from hotline.settings import Settings
from hotline.topics import topics

from .states import AlertStates, LaneStates

# Alerts written but not yet processed that a gateway remembers: an import running ahead of
# the stream must not grow the gateway without bound. Beyond it the oldest read as unknown
# until the stream has processed them (and a retry of one is sent again, deduplicated there).
ACCEPTED_CAP = 50_000
# How far a follow-up of a follow-up (of ...) is walked back to the alert its group starts
# from: real chains are a few long; the bound only stops a cycle of references.
GROUP_DEPTH = 16


class KnownAlerts:
    def __init__(self, settings: Settings) -> None:
        t = topics(settings)
        # alert_id -> AlertState JSON: the compacted topics, on disk with an LRU in front
        self.states = LaneStates(
            {topic: AlertStates(settings.gateway_state_cache) for topic in t.states().values()}
        )
        self._lanes = t.states()
        # Where the stores live: one directory per gateway port, so two gateways on one host
        # never share RocksDB files and a restarted one finds its own again.
        self.dir: Path = settings.data_dir / "gateway" / str(settings.gateway_port)
        # alert_id -> AlertRecord JSON: written by this gateway, not yet processed by the stream
        self.accepted: dict[str, bytes] = {}
        self._accepted_lane: dict[str, Lane] = {}  # the lane it was written to, if not its own
        self._waiting: defaultdict[str, set[asyncio.Future[bytes]]] = defaultdict(set)

    def apply(
        self, topic: str, partition: int, updates: list[tuple[str, bytes]], offsets: list[int]
    ) -> None:
        """States read from `partition` of `topic`, in order: (alert id, state) each, and the
        offset each was read at (the lists the store takes, built once by the consumer)."""
        if not updates:
            return
        for alert_id, _ in updates:
            self.accepted.pop(alert_id, None)
            self._accepted_lane.pop(alert_id, None)
        self.states.by_topic[topic].apply(updates, offsets[-1] + 1, partition, offsets)
        if self._waiting:
            for alert_id, value in updates:
                for waiter in self._waiting.pop(alert_id, ()):
                    if not waiter.done():
                        waiter.set_result(value)

    # A parameter, not the caller's asyncio.timeout: a state not there in time is an answer
    # (None), not an error, and the waiter must be withdrawn either way.
    async def wait_for(self, alert_id: str, timeout: float) -> bytes | None:  # noqa: ASYNC109
        """The alert's state as the stream wrote it, waiting up to `timeout` s for it to be
        read; None if it is not there by then."""
        raw = self.states.get(alert_id)
        if raw is not None:
            return raw
        waiter: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._waiting[alert_id].add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                value = await asyncio.wait_for(waiter, timeout)
                # Read back: a state on both lanes' topics reads as the urgent lane's.
                return self.states.get(alert_id) or value
            return None
        finally:
            waiting = self._waiting.get(alert_id)
            if waiting is not None:
                waiting.discard(waiter)
                if not waiting:
                    del self._waiting[alert_id]

    def note_accepted(self, alert_id: str, record: bytes, lane: Lane | None = None) -> None:
        """Kafka holds the alert: until the stream has processed it, it reads as accepted.

        `lane`: the lane it was written to, when not the one its urgency gives (a follow-up
        goes to the lane of the alert it references)."""
        if alert_id not in self.states:
            self.accepted[alert_id] = record
            if lane is not None:
                self._accepted_lane[alert_id] = lane
            if len(self.accepted) > ACCEPTED_CAP:
                oldest = next(iter(self.accepted))
                del self.accepted[oldest]
                self._accepted_lane.pop(oldest, None)

    def lane_of(self, alert_id: str) -> Lane | None:
        """The lane that holds the alert (it processes its follow-ups and acknowledgements)."""
        for lane, topic in self._lanes.items():
            if alert_id in self.states.by_topic[topic]:
                return lane
        if alert_id in self._accepted_lane:
            return self._accepted_lane[alert_id]
        accepted = self.accepted.get(alert_id)
        return None if accepted is None else loads(AlertRecord, accepted).lane

    def group_of(self, alert_id: str) -> str:
        """The id of the alert that the alert's chain of follow-ups starts from: the key of
        every record about any alert of the chain, so the bulk lane, whose inputs have many
        partitions, reads them all from one.

        Walked through what this gateway knows (processed states, alerts it wrote); where it
        knows no further, the last id reached, which is right whenever that alert is an
        original (the common case: a follow-up of an alert this gateway has not seen)."""
        current = alert_id
        for _ in range(GROUP_DEPTH):
            state = self.state(current)
            if state is None or state.alert.body.references is None:
                return current
            current = alert_id_for(state.alert.sender, state.alert.body.references)
        return current

    def state(self, alert_id: str) -> AlertState | None:
        """The stored state of an alert (internal: pass it through need_to_know)."""
        raw = self.states.get(alert_id)
        if raw is not None:
            return loads(AlertState, raw)
        accepted = self.accepted.get(alert_id)
        if accepted is None:
            return None
        record = loads(AlertRecord, accepted)
        return AlertState(alert=record, status="accepted", updated_at=record.received_at)

    def close(self) -> None:
        for waiting in self._waiting.values():
            for waiter in waiting:
                waiter.cancel()
        self._waiting.clear()
        self.states.close()
