"""A shared list as its recipients see it: a digest per import, hits one by one (no broker)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import orjson
from hypothesis import given
from hypothesis import strategies as st_

from hotline.models import AlertRecord, DigestEvent
from hotline.settings import Settings
from streams import digests, partition
from streams.case_tables import CaseTables
from streams.process import Processor
from streams.state import Out, Prepared, State
from tests.streams.test_process import events, record, scam

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def state() -> State:
    return State(alerts={}, cases=CaseTables({}, {}, {}, {}), escalations={})


def listed(
    sender: str, ref: str, number: str, import_id: str = "IMP-1", **over: Any
) -> AlertRecord:
    rec = record(sender, scam(ref, number, **over), lane="bulk")
    return rec.model_copy(update={"import_id": import_id})


def digests_of(outs: list[Out]) -> dict[str, DigestEvent]:
    out = {}
    for o in outs:
        if o.topic.endswith(".audit.events"):
            continue  # a done digest's record entry: test_a_done_list_is_on_each_recipients_record
        doc = orjson.loads(o.value)
        assert doc["type"] == "digest"
        out[o.topic.rsplit(".", 1)[1]] = DigestEvent.model_validate_json(o.value)
    return out


def test_a_list_reaches_each_recipient_as_one_digest_not_an_event_per_number() -> None:
    proc, st = Processor(Settings()), state()
    outs: list[Out] = []
    for i in range(5):
        outs += proc.submission(listed("vn-hanoi", f"L{i}", f"0912 345 67{i}"), st, NOW)
    assert events(outs) == []  # no per-number event, to the recipients or the sender
    sent = digests_of(proc.digests_due(st, NOW))
    assert set(sent) == {"cn-beijing", "ru-moscow"}
    d = sent["cn-beijing"]
    assert (d.sender, d.import_id, d.numbers, d.new, d.known, d.hits, d.done) == (
        "vn-hanoi",
        "IMP-1",
        5,
        5,
        0,
        0,
        False,
    )
    # each alert is still delivered: its state names every recipient
    assert all(orjson.loads(v)["status"] == "delivered" for v in st.alerts.values())


def test_a_done_list_is_on_each_recipients_record_once_per_partition() -> None:
    proc, st = Processor(Settings()), state()
    for i in range(5):
        proc.submission(listed("vn-hanoi", f"R{i}", f"0912 345 68{i}"), st, NOW)

    def entries(outs: list[Out]) -> list[dict[str, Any]]:
        return [orjson.loads(o.value) for o in outs if o.topic.endswith(".audit.events")]

    assert entries(proc.digests_due(st, NOW)) == []  # running: not on the record yet
    later = NOW + digests.DIGEST_IDLE
    done = entries(proc.digests_due(st, later))
    assert sorted(e["agency"] for e in done) == ["cn-beijing", "ru-moscow"]
    for e in done:
        assert (e["action"], e.get("alert_id"), e["counterparts"]) == ("routed", None, ["vn-hanoi"])
        assert e["detail"]["import_id"] == "IMP-1" and e["detail"]["alerts"] == "5"
    assert entries(proc.digests_due(st, later + timedelta(seconds=5))) == []  # once


def test_a_number_another_agency_shared_is_a_hit_delivered_on_its_own() -> None:
    proc, st = Processor(Settings()), state()
    # Beijing reported the number to Hanoi alone; Moscow never saw that report.
    proc.submission(
        record("cn-beijing", scam("B1", "+84 912 345 670", recipients=["vn-hanoi"])), st, NOW
    )
    outs = proc.submission(listed("vn-hanoi", "L0", "0912 345 670"), st, NOW)
    outs += proc.submission(listed("vn-hanoi", "L1", "0912 345 671"), st, NOW)
    assert [(a, e) for a, e, _ in events(outs)] == [("cn-beijing", "corroborated")]
    sent = digests_of(proc.digests_due(st, NOW))
    beijing, moscow = sent["cn-beijing"], sent["ru-moscow"]
    assert (beijing.numbers, beijing.new, beijing.hits) == (2, 1, 1)
    # what Moscow may not see makes no hit: the number is new to it
    assert (moscow.numbers, moscow.new, moscow.hits) == (2, 2, 0)


def test_a_list_shared_again_is_already_known() -> None:
    proc, st = Processor(Settings()), state()
    proc.submission(listed("vn-hanoi", "W1-0", "0912 345 670", "week-1"), st, NOW)
    proc.digests_due(st, NOW)
    outs = proc.submission(listed("vn-hanoi", "W2-0", "0912 345 670", "week-2"), st, NOW)
    assert events(outs) == []
    sent = {(k, d.import_id): d for k, d in digests_of(proc.digests_due(st, NOW)).items()}
    d = sent["cn-beijing", "week-2"]
    assert (d.numbers, d.new, d.known, d.hits) == (1, 0, 1, 0)


def test_a_redelivered_alert_is_counted_once() -> None:
    proc, st = Processor(Settings()), state()
    rec = listed("vn-hanoi", "L0", "0912 345 670")
    proc.submission(rec, st, NOW)
    proc.submission(rec, st, NOW + timedelta(seconds=1))  # read again after a crash
    assert digests_of(proc.digests_due(st, NOW))["cn-beijing"].numbers == 1


def test_a_match_answered_twice_is_counted_once_and_shows_no_more() -> None:
    """A bulk worker that died after asking for a match, and the one that took its partition
    over asked again: both answers come back, and the alert is delivered twice."""
    proc, st = Processor(Settings()), state()
    assert st.cases is not None
    proc.submission(
        record("cn-beijing", scam("B1", "+84 912 345 670", recipients=["vn-hanoi"])), st, NOW
    )
    rec = listed("vn-hanoi", "L0", "0912 345 670")
    first, second = proc.admit(rec, st, NOW), proc.admit(rec, st, NOW)  # before either answer
    assert isinstance(first, Prepared) and isinstance(second, Prepared)
    outs = proc.deliver(first, proc.match(first, st.cases, NOW), st, NOW)
    outs += proc.deliver(second, proc.match(second, st.cases, NOW), st, NOW)
    hits = events(outs)
    assert {(a, e) for a, e, _ in hits} == {("cn-beijing", "corroborated")}
    assert len({o.key for o in outs if o.topic.endswith("cn-beijing")}) == 1  # the same event
    sent = digests_of(proc.digests_due(st, NOW))
    assert (sent["cn-beijing"].numbers, sent["cn-beijing"].hits) == (1, 1)
    assert (sent["ru-moscow"].numbers, sent["ru-moscow"].new) == (1, 1)


def _answer(proc: Processor, st: State, rec: AlertRecord, at: digests.Position) -> None:
    """The bulk lane's round trip for one alert: admitted, matched, delivered at `at`."""
    assert st.cases is not None
    prepared = proc.admit(rec, st, NOW)
    if isinstance(prepared, Prepared):  # not a retry of an alert the lane holds
        proc.deliver(prepared, proc.match(prepared, st.cases, NOW), st, NOW, position=at)


@contextmanager
def worker(name: str) -> Iterator[None]:
    """What is handled inside is handled by the worker process `name` (one per life)."""
    with patch.object(partition, "_PROCESS", name):
        yield


def _step(proc: Processor, st: State, answers: list[tuple[AlertRecord, digests.Position]]) -> None:
    """One step of the bulk lane: its answers delivered, then made durable together."""
    with partition.step():
        for rec, at in answers:
            _answer(proc, st, rec, at)


def test_an_answer_delivered_again_after_its_count_but_not_its_state_is_counted_once() -> None:
    """A worker killed after the count reached Kafka and before the alert's state did: the
    worker that takes the partition over reads the answer again and delivers it (the alert is
    not in its table), but the count already has it."""
    proc, st = Processor(Settings()), state()
    recs = [listed("vn-hanoi", f"L{i}", f"0912 345 67{i}") for i in range(3)]
    with worker("first"):
        _step(proc, st, [(recs[0], (5, 0)), (recs[1], (5, 1))])
    del st.alerts[recs[1].alert_id]  # its state record never reached Kafka
    with worker("next"):
        _step(proc, st, [(recs[1], (5, 1)), (recs[2], (6, 0))])  # (5, 1) read again
    sent = digests_of(proc.digests_due(st, NOW))
    assert (sent["cn-beijing"].numbers, sent["ru-moscow"].numbers) == (3, 3)
    assert all(r.alert_id in st.alerts for r in recs)  # each delivered, state and all


@given(
    st_.integers(min_value=1, max_value=30),
    st_.lists(st_.tuples(st_.integers(0, 30), st_.integers(0, 30), st_.integers(0, 3)), max_size=4),
)
def test_crashes_at_any_point_leave_each_answer_counted_once(
    n: int, crashes: list[tuple[int, int, int]]
) -> None:
    """Answers in partition order, one per record, each worker's in steps of one but its last
    `lost` in one step; each crash comes after `done` answers, with that last step's alert
    states not in Kafka (the earlier steps' are: each step is durable before the next), and
    the next owner reads on from the committed offset `back` answers before: the count ends at
    n, whatever was replayed."""
    proc, st = Processor(Settings()), state()
    recs = [listed("vn-hanoi", f"L{i}", f"0912 {i:06d}") for i in range(n)]
    at = 0
    for life, (done, back, lost) in enumerate(crashes):
        done = min(max(done, at), n)
        lost = min(lost, done - at)
        with worker(f"w{life}"):
            for i in range(at, done - lost):
                _step(proc, st, [(recs[i], (i, 0))])
            last = [r for r in recs[done - lost : done] if r.alert_id not in st.alerts]
            _step(proc, st, [(recs[i], (i, 0)) for i in range(done - lost, done)])
        for r in last:  # what the last step delivered (a record it read again wrote nothing)
            del st.alerts[r.alert_id]
        at = max(0, done - max(back, lost))  # the committed offset is behind the lost states
    with worker("last"):
        for i in range(at, n):
            _step(proc, st, [(recs[i], (i, 0))])
    sent = digests_of(proc.digests_due(st, NOW))
    assert sent["cn-beijing"].numbers == n
    assert sent["cn-beijing"].new == n


def test_an_answer_fetched_again_from_a_hole_is_counted_though_later_ones_were() -> None:
    """After a rebalance a worker's consumer may skip records that the watchdog then fetches
    again (streams/watchdog.py): an answer never counted arrives after later ones were."""
    proc, st = Processor(Settings()), state()
    recs = [listed("vn-hanoi", f"L{i}", f"0912 345 67{i}") for i in range(4)]
    with worker("only"):
        _step(proc, st, [(recs[0], (5, 0)), (recs[1], (5, 1))])
        _step(proc, st, [(recs[3], (7, 0))])  # offset 6 skipped by the consumer
        _step(proc, st, [(recs[2], (6, 0))])  # and fetched again
    sent = digests_of(proc.digests_due(st, NOW))
    assert (sent["cn-beijing"].numbers, sent["ru-moscow"].numbers) == (4, 4)


def test_a_count_keeps_the_marks_of_the_last_steps_only() -> None:
    c = digests.Count("IMP-1", "vn-hanoi", "cn-beijing", 0, NOW, NOW)
    for life in range(digests.MARKS_KEPT + 2):
        for offset in range(3):
            c.mark(f"w{life}:{offset}", (10 * life + offset, 0))
            c.mark(f"w{life}:{offset}", (10 * life + offset, 1))
    assert [step for step, _ in c.marks] == [f"w{life}:2" for life in range(2, 6)]
    assert c.marks[-1][1] == [(52, 0, 1)]  # one run for consecutive answers of a record
    assert c.counted((52, 1)) and c.counted((22, 0)) and not c.counted((12, 0))
    assert not c.counted((51, 0))  # an earlier step of a live worker: its states are durable
    assert digests.Count.loads(c.dumps()) == c


def test_bulk_without_an_import_and_urgent_alerts_keep_their_events() -> None:
    proc, st = Processor(Settings()), state()
    outs = proc.submission(record("vn-hanoi", scam("B0", "0912 345 670"), lane="bulk"), st, NOW)
    outs += proc.submission(record("vn-hanoi", scam("U0", "0912 345 671")), st, NOW)
    assert sorted(a for a, e, _ in events(outs) if e == "new") == [
        "cn-beijing",
        "cn-beijing",
        "ru-moscow",
        "ru-moscow",
    ]
    assert proc.digests_due(st, NOW) == []


def test_a_digest_goes_out_at_once_then_at_most_every_few_seconds_then_as_done() -> None:
    table: dict[str, str] = {}
    t0 = NOW

    def due(at: datetime) -> list[DigestEvent]:
        return [ev for agency, ev in digests.due(table, at) if agency == "cn-beijing"]

    digests.count(table, "IMP-1", "vn-hanoi", "cn-beijing", 0, "new", t0)
    [first] = due(t0)
    assert (first.numbers, first.done) == (1, False)
    digests.count(table, "IMP-1", "vn-hanoi", "cn-beijing", 0, "hit", t0 + timedelta(seconds=1))
    assert due(t0 + timedelta(seconds=2)) == []  # grown, but the last went out just now
    [second] = due(t0 + digests.DIGEST_EVERY)
    assert (second.numbers, second.hits, second.done) == (2, 1, False)
    assert due(t0 + digests.DIGEST_EVERY + timedelta(seconds=1)) == []  # nothing new, not idle
    last = t0 + timedelta(seconds=1)
    [done] = due(last + digests.DIGEST_IDLE)
    assert (done.numbers, done.done) == (2, True)
    assert due(last + digests.DIGEST_IDLE * 2) == []
    # the same count is named the same way whenever it is sent (a replay shows it once)
    assert done.event_id != second.event_id
    assert digests.Count.loads(next(iter(table.values()))).event(NOW).event_id == done.event_id
    # a done list's entry goes once it is a day old
    digests.due(table, last + digests.DIGEST_KEEP)
    assert table == {}


@given(
    st_.lists(
        st_.tuples(
            st_.sampled_from(["new", "known", "hit"]),
            st_.integers(0, 3),
            st_.integers(0, 20),
        ),
        max_size=60,
    )
)
def test_the_last_digests_add_up_to_what_was_counted(
    items: list[tuple[digests.Reach, int, int]],
) -> None:
    table: dict[str, str] = {}
    last: dict[int, DigestEvent] = {}
    at = NOW
    for what, p, gap in items:
        at += timedelta(seconds=gap)
        digests.count(table, "IMP-1", "vn-hanoi", "cn-beijing", p, what, at)
        for _, ev in digests.due(table, at):
            last[ev.partition] = ev
    for _, ev in digests.due(table, at + digests.DIGEST_IDLE):
        last[ev.partition] = ev
    assert all(ev.done for ev in last.values())
    total = {k: sum(getattr(ev, k) for ev in last.values()) for k in ("new", "known", "hits")}
    assert total == {
        "new": sum(1 for w, _, _ in items if w == "new"),
        "known": sum(1 for w, _, _ in items if w == "known"),
        "hits": sum(1 for w, _, _ in items if w == "hit"),
    }
    assert sum(ev.numbers for ev in last.values()) == len(items)


def test_a_long_list_thins_its_digests_out() -> None:
    """A number a second for an hour on one partition: a fixed 5 s would send 720 digests."""
    table: dict[str, str] = {}
    sent = []
    t0 = NOW
    for s in range(3600):
        at = t0 + timedelta(seconds=s)
        digests.count(table, "IMP-1", "vn-hanoi", "cn-beijing", 0, "new", at)
        sent += [ev.at - t0 for _, ev in digests.due(table, at)]
    # every 5 s at first, then ever further apart
    assert sent[:3] == [timedelta(0), timedelta(seconds=5), timedelta(seconds=10)]
    assert 60 <= len(sent) <= _bound(3600)
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert gaps[-1] >= timedelta(seconds=3000 / 15)  # near the end: minutes apart


def _bound(seconds: float) -> float:
    """Running digests per partition at most, over a list of `seconds`: one every DIGEST_EVERY
    until its age makes the interval longer; from then each comes at an age at least
    slowing / (slowing - 1) times the last one's (the interval is a fraction of the age now)."""
    every = digests.DIGEST_EVERY.total_seconds()
    slowing = digests.DIGEST_SLOWING
    knee = every * slowing
    if seconds <= knee:
        return seconds / every + 1
    return slowing + 1 + math.log(seconds / knee) / math.log(slowing / (slowing - 1))


@given(st_.integers(1, 6 * 3600), st_.integers(1, 8))
def test_digests_per_partition_grow_with_the_log_of_the_list_s_duration(
    seconds: int, partitions: int
) -> None:
    table: dict[str, str] = {}
    n = 0
    step = max(1, seconds // 400)  # an alert per partition this often, over `seconds`
    for s in range(0, seconds + 1, step):
        at = NOW + timedelta(seconds=s)
        for p in range(partitions):
            digests.count(table, "IMP-1", "vn-hanoi", "cn-beijing", p, "new", at)
        n += len(digests.due(table, at))
    n += len(digests.due(table, NOW + timedelta(seconds=seconds) + digests.DIGEST_IDLE))
    # +1: the done one
    assert n <= partitions * (_bound(seconds) + 1)
    if seconds >= 3600:  # a long list costs far fewer messages than one every 5 s
        assert n <= partitions * seconds / 5 / 5
