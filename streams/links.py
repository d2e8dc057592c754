"""Links: cases that share an indicator token, related both ways, as messages between partitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict

from hotline.models import RELATED_MAX
from streams import partition
from streams.case_tables import CaseTables, Homes, get, put

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
