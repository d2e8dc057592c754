"""A shared list as its recipients see it: one digest per import, and its hits one by one.

A telecom list of a million numbers used to reach every recipient console as a million `new`
events; no duty officer reads that. A bulk alert that came with an import (its `import_id`)
is counted instead, per recipient, as new (nothing it could see named the number before),
known (the same sender had shared it with it before) or a hit (a case it reported, or that a
second agency shares with it: `corroborated` in need_to_know's words). Only hits go out as
events of their own; the counts go out as a digest event now and then (`due`).

Each bulk-lane partition counts the alerts it handles under its own key, so the counts need no
coordination between workers: the console adds up the partitions of an import. The count and
the alert's state reach Kafka in one step but not at one instant: a worker killed between the
two leaves a count that has the alert while its state does not, and whoever takes the
partition over delivers that answer again. So a count also notes which answers (their place in
the partition) each of the last steps that counted into it took (`marks`): a step's answers are
the only ones whose states may be missing, and only the last step of a process can be cut
short. A high-water mark would not do: after a rebalance a worker may fetch again records its
consumer skipped (streams/watchdog.py), so older answers, never counted, arrive after later
ones. The alert's state is what stops everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import orjson

from hotline.fields import EventName
from hotline.models import DigestEvent, event_id_for
from streams import partition
from streams.case_tables import Table

Reach = Literal["new", "known", "hit"]
# Where a match answer stands in its bulk-lane partition: (record offset, index in the record).
Position = tuple[int, int]
# The answers one step counted: runs of (record offset, first index, last index).
Run = tuple[int, int, int]
# The steps whose answers a count remembers: this process's last, and the last of as many
# earlier owners of the partition (a partition handed over and back and over again).
MARKS_KEPT = 4

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
    # Per step (streams/partition.py's name for it), the answers it counted, oldest step first.
    marks: list[tuple[str, list[Run]]] = field(default_factory=list)

    def counted(self, position: Position | None) -> bool:
        """Whether the answer at `position` is in the count already (read again)."""
        if position is None:
            return False
        offset, i = position
        return any(o == offset and lo <= i <= hi for _, runs in self.marks for o, lo, hi in runs)

    def mark(self, step: str, position: Position) -> None:
        """`position` counted by `step`. A process's steps run one after another, each made
        durable before the next, so its earlier steps' marks are no longer needed."""
        if not self.marks or self.marks[-1][0] != step:
            mine = partition.process_of(step)
            self.marks = [m for m in self.marks if partition.process_of(m[0]) != mine]
            self.marks = [*self.marks[-(MARKS_KEPT - 1) :], (step, [])]
        runs = self.marks[-1][1]
        offset, i = position
        if runs and runs[-1][0] == offset and runs[-1][2] == i - 1:
            runs[-1] = (offset, runs[-1][1], i)
        else:
            runs.append((offset, i, i))

    def dumps(self) -> str:
        return orjson.dumps(
            {
                **{k: getattr(self, k) for k in _FIELDS},
                "first_at": self.first_at.isoformat(),
                "last_at": self.last_at.isoformat(),
                "sent_at": self.sent_at.isoformat() if self.sent_at else None,
                "marks": self.marks,
            }
        ).decode()

    @classmethod
    def loads(cls, raw: str) -> Count:
        doc = orjson.loads(raw)
        sent_at = doc.pop("sent_at")
        marks = [(step, [(o, lo, hi) for o, lo, hi in runs]) for step, runs in doc.get("marks", [])]
        return cls(
            **{k: doc[k] for k in _FIELDS},
            first_at=datetime.fromisoformat(doc["first_at"]),
            last_at=datetime.fromisoformat(doc["last_at"]),
            sent_at=datetime.fromisoformat(sent_at) if sent_at else None,
            marks=marks,
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
    step: str | None = None,
) -> None:
    """One alert of an import, routed to `agency`, counted as `what`; `position`: where its
    match answer stands in the partition, `step`: the step counting it (each answer once)."""
    key = key_of(sender, import_id, agency, partition)
    raw = table.get(key)
    c = Count(import_id, sender, agency, partition, now, now) if raw is None else Count.loads(raw)
    if c.counted(position):
        return
    if position is not None and step is not None:
        c.mark(step, position)
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
