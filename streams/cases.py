"""Cases: one real-world subject, however many agencies report it.

Fingerprints (domain brief): a scam number by E.164; a wanted person by any identity document,
otherwise folded name + date of birth (a missing patronymic still matches); a fraud pattern by
its normalized indicator set. Cases that share any single indicator are linked both ways,
unless more than LINKS_PER_TOKEN cases hold it (too common to tell anything); a case has at
most RELATED_MAX related cases. A record costs work in proportion to its own fingerprints,
indicators and name, never to how many cases share one of them.
All state is in mappings the caller owns (Faust tables in the worker, dicts in unit tests).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict

from hotline import normalize as n
from hotline.codec import dumps, loads
from hotline.models import (
    RELATED_MAX,
    AlertRecord,
    CaseRecord,
    Enrichment,
    Report,
    WantedPersonAlert,
)
from hotline.topics import partition_for
from streams import partition

Table = MutableMapping[str, str]  # JSON text: survives Faust's changelog codec as is


def _owns_all(p: int) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Homes:
    """Which partition of the index each entry lives in, and which ones this worker holds.

    A fingerprint or a link token lives where its text hashes to: a scam number's fingerprint
    and its `phone:` token are the same text, so a number is matched and linked in one place.
    Persons live on partition 0 (a person matches on any of several documents or on name +
    birth date, and only one place can see all of them). A case lives where it was opened,
    which its id says in its last two hex digits.
    """

    partitions: int = 1
    owns: Callable[[int], bool] = _owns_all

    def of_key(self, key: str) -> int:
        if self.partitions == 1 or key.startswith(("doc:", "person:")):
            return PERSONS
        return partition_for(key.encode(), self.partitions)

    def of_case(self, case_id: str) -> int:
        try:
            return int(case_id[-2:], 16) % self.partitions
        except ValueError:  # not an id of this deployment's (a test's, say)
            return PERSONS

    def station(self, record: AlertRecord, e: Enrichment) -> int:
        """Where a new report of this subject is matched: where its first fingerprint lives."""
        if isinstance(record.body, WantedPersonAlert) or not e.fingerprints:
            return PERSONS
        return self.of_key(e.fingerprints[0])


PERSONS = 0  # the partition persons live on


@dataclass(slots=True)
class CaseTables:
    cases: Table  # case_id -> CaseRecord
    fingerprints: Table  # fingerprint -> case_id
    persons: Table  # date of birth and name token / skeleton -> entries, see index_person
    links: Table  # indicator token -> {"n": count, "ids": [case_id, ...]}, see _holders
    homes: Homes = field(default_factory=Homes)


@dataclass(slots=True)
class Joined:
    case: CaseRecord
    is_new_case: bool
    corroborated: bool  # a new agency joined the case
    # Link messages for partitions another worker holds: to be sent there (see LinkMessage).
    links: list[LinkMessage] = field(default_factory=list)


def case_id_for(alert_id: str, key: bytes, home: int = 0) -> str:
    # Derived from the first alert, so reprocessing after a crash opens the same case; keyed
    # with the deployment's secret, so nobody who sees a case id can test guesses of the
    # first reporter's source_ref against it. The last two hex digits: where it lives.
    digest = hmac.new(key, alert_id.encode(), hashlib.sha256).hexdigest()
    return f"cs-{digest[:22]}{home:02x}"


def get(t: CaseTables, case_id: str) -> CaseRecord | None:
    with partition.of(t.homes.of_case(case_id)):
        raw = t.cases.get(case_id)
    return None if raw is None else loads(CaseRecord, raw)


def put(t: CaseTables, case: CaseRecord) -> None:
    with partition.of(t.homes.of_case(case.case_id)):
        t.cases[case.case_id] = dumps(case).decode()


def find(
    t: CaseTables, record: AlertRecord, e: Enrichment, now: datetime, ttl: timedelta
) -> CaseRecord | None:
    for case_id in _candidates(t, record, e):
        case = get(t, case_id)
        if case is not None and case.state == "open" and now - case.updated_at <= ttl:
            return case
    return None


def _candidates(t: CaseTables, record: AlertRecord, e: Enrichment) -> list[str]:
    # Only where this worker holds the entries (the station's: see Homes), never a stale
    # copy of a partition another worker holds now.
    found = []
    for fp in e.fingerprints:
        home = t.homes.of_key(fp)
        if t.homes.owns(home):
            with partition.of(home):
                c = t.fingerprints.get(fp)
            if c is not None and t.homes.owns(t.homes.of_case(c)):
                found.append(c)
    body = record.body
    if (
        isinstance(body, WantedPersonAlert)
        and body.subject.date_of_birth is not None
        and t.homes.owns(PERSONS)
    ):
        dob = body.subject.date_of_birth.isoformat()
        with partition.of(PERSONS):
            found += persons_matching(t.persons, dob, n.name_key(body.subject.full_name))
    return found


def join(
    t: CaseTables,
    record: AlertRecord,
    e: Enrichment,
    now: datetime,
    ttl: timedelta,
    *,
    audience: list[str],
    key: bytes,
    home: int | None = None,
) -> Joined:
    """Adds the record to the case of its subject (opening one if none is open).

    `audience`: the agencies the record is routed to; with the sender, they are who may see
    this report of the case. `home`: where a case it opens lives (by default its station).
    """
    report = Report(
        alert_id=record.alert_id,
        sender=record.sender,
        audience=[record.sender, *(a for a in audience if a != record.sender)],
        at=now,
    )
    case = find(t, record, e, now, ttl)
    if case is None:
        opened_at = t.homes.station(record, e) if home is None else home
        case = CaseRecord(
            case_id=case_id_for(record.alert_id, key, opened_at),
            kind=record.body.kind,
            opened_at=now,
            updated_at=now,
            reports=[report],
        )
        joined = Joined(case, is_new_case=True, corroborated=False)
    elif case.report(record.alert_id) is not None:
        # The same record again: a worker killed after the case index became durable but
        # before the alerts table did. The case already holds it; the events are derived
        # from the case as it is, so the replay repeats them exactly.
        joined = Joined(case, is_new_case=False, corroborated=False)
    else:
        corroborated = record.sender not in {r.sender for r in case.reports}
        case = add_report(case, report, now)
        joined = Joined(case, is_new_case=False, corroborated=corroborated)
    put(t, joined.case)
    _index(t, record, e, joined.case.case_id)
    links = Links(t)
    for token in sorted(n.indicator_tokens(e.indicators)):
        msg = LinkMessage(op="hold", target=token, peer=joined.case.case_id)
        links.apply(msg.model_copy(update={"opened": joined.is_new_case}))
    joined.links = links.remote
    if joined.case.case_id in links.touched:
        case = get(t, joined.case.case_id)
        assert case is not None
        joined.case = case
    return joined


def add_report(case: CaseRecord, report: Report, now: datetime) -> CaseRecord:
    """The case with `report` added, unless it holds it already (a replayed record)."""
    if case.report(report.alert_id) is not None:
        return case
    return case.model_copy(update={"updated_at": now, "reports": [*case.reports, report]})


def _index(t: CaseTables, record: AlertRecord, e: Enrichment, case_id: str) -> None:
    # A fingerprint points only at a case living where the fingerprint does, so whoever
    # holds a fingerprint holds its case too. A case opened away from its fingerprints' home
    # (a follow-up whose case has gone, opened where that case lived) is found by its id alone.
    home = t.homes.of_case(case_id)
    for fp in e.fingerprints:
        if t.homes.of_key(fp) == home:
            with partition.of(home):
                t.fingerprints[fp] = case_id
    body = record.body
    if isinstance(body, WantedPersonAlert) and home == PERSONS:
        with partition.of(PERSONS):
            for doc in e.documents:
                index_document(t.persons, doc)
            if body.subject.date_of_birth is not None:
                dob = body.subject.date_of_birth.isoformat()
                index_person(t.persons, dob, n.name_key(body.subject.full_name), case_id)


# ------------------------------------------------------------------ documents by number
#
# A document's fingerprint is its type, issuing country and number ("doc:passport:RU:7212…"),
# which is how a report names it. Someone looking a document up often knows only the number:
# "d:<NUMBER>" in the persons table lists the document keys seen with it, so a lookup reads
# that one key and then each fingerprint. A number under more than DOCUMENTS_PER_NUMBER keys
# (types and countries) keeps the first ones: beyond that it names no one in particular.
DOCUMENTS_PER_NUMBER = 16


def index_document(persons: Table, doc_key: str) -> None:
    """Records that `doc_key` (type:COUNTRY:NUMBER, as enrichment makes it) was reported."""
    key = "d:" + doc_key.rsplit(":", 1)[-1]
    held = documents_numbered(persons, key[2:])
    if doc_key not in held and len(held) < DOCUMENTS_PER_NUMBER:
        persons[key] = orjson.dumps([*held, doc_key]).decode()


def documents_numbered(persons: Table, number: str) -> list[str]:
    """The document keys reported with this (normalized) number, first reported first."""
    held: list[str] = orjson.loads(persons.get("d:" + number, "[]"))
    return held


# ------------------------------------------------------------------ links, as messages
#
# Each case is recorded under each of its indicator tokens; cases met there become related,
# both ways. Each side keeps who could see the other when they were linked (need to know). A
# case links to at most RELATED_MAX others; when either side is full the pair stays unlinked,
# so every link is still mutual. The work is bounded by the case's own tokens: at most
# LINKS_PER_TOKEN holders read per token, and none once the case is full.
#
# A token and the two cases of a link can live on three partitions (see Homes), so a link is
# a conversation of messages, each applied where its target lives:
#
#   hold(token, case)       the case holds the token; each earlier holder is proposed to it
#   propose(case, other)    unless the case is full or related to it: relate(other, case)
#   relate(other, case, answer=True)   other records case (unless full) and answers
#   relate(case, other)     case records other; if it filled up meanwhile: unrelate(other, case)
#   unrelate(other, case)
#
# A message for a partition this worker holds is applied at once, depth first: in one worker
# that is exactly the order of a loop over the tokens and their holders, with the same caps.
# Every message is idempotent, so one read again after a crash changes nothing.


class LinkMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    op: Literal["hold", "propose", "relate", "unrelate"]
    target: str  # the token (hold) or the case the message is applied to
    peer: str  # the other case
    audience: list[str] = []  # relate: who may see `peer`, as its target records it
    opened: bool = False  # hold: the peer was opened by this very report
    answer: bool = False  # relate: the target answers with its own relate


def home_of(homes: Homes, msg: LinkMessage) -> int:
    return homes.of_key(msg.target) if msg.op == "hold" else homes.of_case(msg.target)


@dataclass(slots=True)
class Links:
    """Applies link messages here, depth first; keeps those for partitions held elsewhere."""

    t: CaseTables
    remote: list[LinkMessage] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)  # cases whose related changed

    def apply(self, msg: LinkMessage) -> None:
        home = home_of(self.t.homes, msg)
        if not self.t.homes.owns(home):
            self.remote.append(msg)
            return
        with partition.of(home):
            follow = _handle(self.t, msg, self.touched)
        for m in follow:
            self.apply(m)


def _handle(t: CaseTables, msg: LinkMessage, touched: set[str]) -> list[LinkMessage]:
    if msg.op == "hold":
        holders = _hold(t, msg.target, msg.peer, opened=msg.opened)
        return [LinkMessage(op="propose", target=msg.peer, peer=other) for other in holders]
    case = get(t, msg.target)
    if case is None:
        return []
    if msg.op == "propose":
        if len(case.related) >= RELATED_MAX or msg.peer in case.related:
            return []  # full: still recorded under the token, just not linked
        return [
            LinkMessage(
                op="relate",
                target=msg.peer,
                peer=case.case_id,
                audience=case.audience(),
                answer=True,
            )
        ]
    if msg.op == "unrelate":
        if msg.peer in case.related:
            rest = {k: v for k, v in case.related.items() if k != msg.peer}
            put(t, case.model_copy(update={"related": rest}))
            touched.add(case.case_id)
        return []
    answer = LinkMessage(op="relate", target=msg.peer, peer=case.case_id, audience=case.audience())
    if msg.peer in case.related:
        return [answer] if msg.answer else []
    if len(case.related) >= RELATED_MAX:
        # Asked: the pair stays unlinked. Answered while full: the asker undoes its side.
        return (
            [] if msg.answer else [LinkMessage(op="unrelate", target=msg.peer, peer=case.case_id)]
        )
    put(t, case.model_copy(update={"related": {**case.related, msg.peer: list(msg.audience)}}))
    touched.add(case.case_id)
    return [answer] if msg.answer else []


# A token held by more cases than this is too common to link by. A domain such as t.me or a
# big bank's app is named in thousands of unrelated reports: sharing it is a stop word, not
# evidence of a common subject, and linking every such case to every other made one record
# cost work (and console bytes) in proportion to all of them. The first LINKS_PER_TOKEN
# holders were linked while the token still looked specific, and stay linked.
LINKS_PER_TOKEN = 20


@dataclass(slots=True)
class _Holders:
    """Who holds a token: `count` cases, the first LINKS_PER_TOKEN of them by id."""

    count: int
    ids: list[str]

    @property
    def common(self) -> bool:
        return self.count > LINKS_PER_TOKEN


def _holders(raw: str | None) -> _Holders:
    # Stored as {"n": count, "ids": [...]}; before the cap, as the list of every holder's id
    # (read as its count and first ids, rewritten in the new form on the next change).
    if raw is None:
        return _Holders(0, [])
    doc = orjson.loads(raw)
    if isinstance(doc, list):
        return _Holders(len(doc), doc[:LINKS_PER_TOKEN])
    return _Holders(doc["n"], doc["ids"])


def _hold(t: CaseTables, token: str, case_id: str, *, opened: bool) -> list[str]:
    """Records `case_id` as a holder of `token`; returns the holders to link it with.

    `opened`: the case was opened by this very record, so it cannot have been counted yet.
    """
    h = _holders(t.links.get(token))
    if case_id in h.ids:  # held already (a later report of the case, or a replay)
        return [] if h.common else [i for i in h.ids if i != case_id]
    if len(h.ids) < LINKS_PER_TOKEN:
        t.links[token] = orjson.dumps({"n": h.count + 1, "ids": [*h.ids, case_id]}).decode()
        return h.ids
    # Too common: the count grows, the list does not, nobody is linked. A case that was open
    # before gets no count: telling it from a replay would need a record per case, so past
    # the cap `n` is a lower bound (exact for the cases opened with the token).
    if opened:
        t.links[token] = orjson.dumps({"n": h.count + 1, "ids": h.ids}).decode()
    return []


# ------------------------------------------------------------------ persons by birth date
#
# A wanted person without a shared document matches an earlier one born the same day whose
# name `name_matches`. Scanning everyone born that day cost each record in proportion to them
# all (78 ms at 3,000), so the persons table indexes each (name_key, case_id) entry under keys
# a matching name is sure to share (n.name_skeleton: two distinct key tokens, or the skeleton):
#
#   "s:<dob>:<skeleton>"   every entry of that skeleton
#   "t:<dob>:<token>"      entries of names with 2+ distinct tokens holding it; at most
#                          PERSONS_PER_TOKEN, then the token is "full"
#   "p:<dob>:<tok>:<tok>"  (tokens in order) entries of names holding both, indexed when both
#                          were full; a name sharing two tokens with an entry therefore finds
#                          it under one of them (it had room then) or here (both are full now)
#   "n:<dob>"              how many entries the date has had: the next entry's `seq`
#
# each holding [[name_key, case_id, seq], ...]. `seq` keeps the order of the old per-date list,
# so the first open case found is the one the exhaustive scan found. Before this index the
# table held "<dob>" -> [[name_key, case_id], ...] (a date starts with a digit, the new keys
# with a letter); such a list is still read, and indexed anew by the next record of the date.
#
# Bounds. A record reads one key per distinct token of its own name, plus its skeleton, the
# date's old list (absent once indexed), and a pair per two full tokens of its own name; a
# token key holds at most PERSONS_PER_TOKEN entries. Skeleton and pair keys are not capped,
# because a capped key would lose matches the scan found; what bounds them is what they hold.
# A skeleton key: names of the same letters born the same day, in practice one name spelled
# several ways (several cases of it only once the earlier are closed or expired). A pair key:
# names born that day that share two tokens both too common to index alone (NGUYEN VAN ...);
# all of them match a reader named just by those two, so no index could read fewer for it.
# Indexing an old list anew costs once what scanning it cost, for the date's next record.
PERSONS_PER_TOKEN = 32

_Entry = list[Any]  # [name_key, case_id, seq]


def persons_matching(persons: Table, dob: str, name: str) -> list[str]:
    """Cases of the persons born on `dob` whose name_key matches `name` (a name_key).

    Exactly what scanning every entry of the date with `n.name_matches` finds, in that order.
    """
    if not name:
        return []
    found = {entry[2]: entry for entry in _reachable(persons, dob, name)}
    return [c for _, (key, c, _) in sorted(found.items()) if n.name_matches(key, name)]


def index_person(persons: Table, dob: str, name: str, case_id: str) -> None:
    """Indexes that `case_id` holds a person born on `dob` named `name` (a name_key)."""
    if not name:  # a name with no letters matches nobody
        return
    _index_old_list(persons, dob)
    seq = int(persons.get(f"n:{dob}", "0"))
    if _add_person(persons, dob, [name, case_id, seq]):
        persons[f"n:{dob}"] = str(seq + 1)


def _reachable(persons: Table, dob: str, name: str) -> Iterator[_Entry]:
    """Every entry that may match `name`, some more than once."""
    yield from _entries(persons, _skeleton_key(dob, name))
    tokens = _tokens(name)
    if len(tokens) >= 2:
        full = []
        for token in tokens:
            entries = _entries(persons, f"t:{dob}:{token}")
            yield from entries
            if len(entries) >= PERSONS_PER_TOKEN:
                full.append(token)
        for a, b in combinations(full, 2):
            yield from _entries(persons, f"p:{dob}:{a}:{b}")
    for seq, (key, case_id) in enumerate(orjson.loads(persons.get(dob, "[]"))):
        yield [key, case_id, seq]  # not indexed yet: the date has no other entries


def _add_person(persons: Table, dob: str, entry: _Entry) -> bool:
    """Adds `entry` to the keys it belongs under; False if it was there (a replay, say)."""
    name, case_id = entry[0], entry[1]
    key = _skeleton_key(dob, name)
    same = _entries(persons, key)  # every entry of the name is here, so this tells
    if any(k == name and c == case_id for k, c, _ in same):
        return False
    _put(persons, key, [*same, entry])
    tokens = _tokens(name)
    if len(tokens) < 2:
        return True  # one distinct token: it matches by equal skeleton only
    full = []
    for token in tokens:
        key = f"t:{dob}:{token}"
        held = _entries(persons, key)
        if len(held) < PERSONS_PER_TOKEN:
            _put(persons, key, [*held, entry])
        else:
            full.append(token)
    for a, b in combinations(full, 2):
        key = f"p:{dob}:{a}:{b}"
        _put(persons, key, [*_entries(persons, key), entry])
    return True


def _index_old_list(persons: Table, dob: str) -> None:
    # Once for a date stored before the index: its entries keep their order as `seq`.
    raw = persons.get(dob)
    if raw is None:
        return
    del persons[dob]
    old = orjson.loads(raw)
    for seq, (key, case_id) in enumerate(old):
        _add_person(persons, dob, [key, case_id, seq])
    persons[f"n:{dob}"] = str(len(old))


def _skeleton_key(dob: str, name: str) -> str:
    return f"s:{dob}:{n.name_skeleton(name)}"


def _tokens(name: str) -> list[str]:
    return sorted(set(name.split()))


def _entries(persons: Table, key: str) -> list[_Entry]:
    entries: list[_Entry] = orjson.loads(persons.get(key, "[]"))
    return entries


def _put(persons: Table, key: str, entries: list[_Entry]) -> None:
    persons[key] = orjson.dumps(entries).decode()
