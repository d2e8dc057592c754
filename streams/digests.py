"""A shared list as its recipients see it: one digest per import, and its hits one by one.

A telecom list of a million numbers used to reach every recipient console as a million `new`
events; no duty officer reads that. A bulk alert that came with an import (its `import_id`)
is counted instead, per recipient, as new (nothing it could see named the number before),
known (the same sender had shared it with it before) or a hit (a case it reported, or that a
second agency shares with it: `corroborated` in need_to_know's words). Only hits go out as
events of their own; the counts go out as a digest event now and then (`due`).

Each bulk-lane partition counts the alerts it handles under its own key, so the counts need no
coordination between workers: the console adds up the partitions of an import. A count also
notes where in its partition it is counted up to (the match answer's offset, and its place in
that record). The count and the alert's state reach Kafka in one step but not at one instant:
a worker killed between the two leaves a count that has the alert while its state does not,
and whoever takes the partition over delivers that answer again. The position is what tells
it that answer was counted already; the alert's state is what stops everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import orjson

from hotline.fields import EventName
from hotline.models import DigestEvent, event_id_for
from streams.case_tables import Table

Reach = Literal["new", "known", "hit"]
# Where a match answer stands in its bulk-lane partition: (record offset, index in the record).
Position = tuple[int, int]

# How often a running import's digest is sent to a recipient, per partition: every
# DIGEST_EVERY at first, so a short list is watched growing, then less often as the list ages
# (the interval is its age / DIGEST_SLOWING), so a long one costs a console a bounded number of
# messages. At most ~15 in a list's first 75 s, then ~14.5 more each time its age grows by a
# factor e: a million numbers (~30 minutes at 600/s through a gateway, 8 partitions) make
# ~8 x (15 + 14.5 ln 24) = ~500 digests, where a fixed 5 s made ~2,900.
DIGEST_EVERY = timedelta(seconds=5)
DIGEST_SLOWING = 15
# An import with no new alert for this long is shown as done (a later batch reopens it).
DIGEST_IDLE = timedelta(seconds=10)
# A done digest's entry is dropped this long after its last alert: its events stay in Kafka.
DIGEST_KEEP = timedelta(days=1)


def reach(event: EventName) -> Reach:
    """What an alert is to a recipient, from the event need_to_know names for it."""
    if event == "corroborated":
        return "hit"
    return "known" if event == "updated" else "new"


@dataclass(slots=True)
class Count:
    import_id: str
    sender: str
    agency: str
    partition: int
    first_at: datetime
    last_at: datetime
    numbers: int = 0
    new: int = 0
    known: int = 0
    hits: int = 0
    sent: int = -1  # `numbers` as last sent; -1: never sent
    sent_at: datetime | None = None
    done: bool = False
    upto: Position | None = None  # the last answer counted; None: none with a position

    def counted(self, position: Position | None) -> bool:
        """Whether the answer at `position` is in the count already (read again)."""
        return position is not None and self.upto is not None and position <= self.upto

    def dumps(self) -> str:
        return orjson.dumps(
            {
                **{k: getattr(self, k) for k in _FIELDS},
                "first_at": self.first_at.isoformat(),
                "last_at": self.last_at.isoformat(),
                "sent_at": self.sent_at.isoformat() if self.sent_at else None,
                "upto": self.upto,
            }
        ).decode()

    @classmethod
    def loads(cls, raw: str) -> Count:
        doc = orjson.loads(raw)
        sent_at = doc.pop("sent_at")
        upto = doc.get("upto")  # absent from counts written before positions were kept
        return cls(
            **{k: doc[k] for k in _FIELDS},
            first_at=datetime.fromisoformat(doc["first_at"]),
            last_at=datetime.fromisoformat(doc["last_at"]),
            sent_at=datetime.fromisoformat(sent_at) if sent_at else None,
            upto=None if upto is None else (upto[0], upto[1]),
        )

    def event(self, at: datetime) -> DigestEvent:
        return DigestEvent(
            event_id=event_id_for(
                self.sender,
                self.import_id,
                self.agency,
                "digest",
                str(self.partition),
                str(self.numbers),
                "done" if self.done else "running",
            ),
            import_id=self.import_id,
            sender=self.sender,
            partition=self.partition,
            at=at,
            first_at=self.first_at,
            last_at=self.last_at,
            numbers=self.numbers,
            new=self.new,
            known=self.known,
            hits=self.hits,
            done=self.done,
        )


_FIELDS = (
    "import_id",
    "sender",
    "agency",
    "partition",
    "numbers",
    "new",
    "known",
    "hits",
    "sent",
    "done",
)


def key_of(sender: str, import_id: str, agency: str, partition: int) -> str:
    # An import id is the sender's own name for its list: two senders may use the same one.
    return f"{sender}|{import_id}|{agency}|{partition}"


def count(
    table: Table,
    import_id: str,
    sender: str,
    agency: str,
    partition: int,
    what: Reach,
    now: datetime,
    position: Position | None = None,
) -> None:
    """One alert of an import, routed to `agency`, counted as `what`; `position`: where its
    match answer stands in the partition (answers are counted in that order, once each)."""
    key = key_of(sender, import_id, agency, partition)
    raw = table.get(key)
    c = Count(import_id, sender, agency, partition, now, now) if raw is None else Count.loads(raw)
    if c.counted(position):
        return
    if position is not None:
        c.upto = position
    c.numbers += 1
    c.last_at = now
    c.done = False
    if what == "hit":
        c.hits += 1
    elif what == "known":
        c.known += 1
    else:
        c.new += 1
    table[key] = c.dumps()


def due(table: Table, now: datetime) -> list[tuple[str, DigestEvent]]:
    """The digests to send now, each with its recipient; their entries note they were sent.

    A running import's digest goes out at its first alert, then at most every `interval` while
    it grows; once nothing came for DIGEST_IDLE, once more as done, with the final counts."""
    out: list[tuple[str, DigestEvent]] = []
    for key, raw in list(table.items()):
        c = Count.loads(raw)
        if c.done:
            if c.last_at + DIGEST_KEEP <= now:
                del table[key]
            continue
        if c.last_at + DIGEST_IDLE <= now:
            c.done = True  # with whatever came since the last running digest
        elif c.numbers != c.sent and (c.sent_at is None or c.sent_at + interval(c, now) <= now):
            pass  # a running digest, with what came since the last one
        else:
            continue
        c.sent, c.sent_at = c.numbers, now
        table[key] = c.dumps()
        out.append((c.agency, c.event(now)))
    return out


def interval(c: Count, now: datetime) -> timedelta:
    """The least time between two running digests of `c`: longer as its list ages."""
    return max(DIGEST_EVERY, (now - c.first_at) / DIGEST_SLOWING)
