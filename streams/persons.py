"""The persons table: wanted persons by identity document number and by birth date and name.

Documents by number (a lookup often knows only the number), and persons by birth date and
name, indexed so a record reads in proportion to its own name, never to everyone born that day.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations
from typing import Any

import orjson

from hotline.names import name_matches, name_skeleton
from streams.case_tables import Table

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


# A wanted person without a shared document matches an earlier one born the same day whose
# name `name_matches`. Scanning everyone born that day cost each record in proportion to them
# all (78 ms at 3,000), so the persons table indexes each (name_key, case_id) entry under keys
# a matching name is sure to share (name_skeleton: two distinct key tokens, or the skeleton):
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

    Exactly what scanning every entry of the date with `name_matches` finds, in that order.
    """
    if not name:
        return []
    found = {entry[2]: entry for entry in _reachable(persons, dob, name)}
    return [c for _, (key, c, _) in sorted(found.items()) if name_matches(key, name)]


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
    return f"s:{dob}:{name_skeleton(name)}"


def _tokens(name: str) -> list[str]:
    return sorted(set(name.split()))


def _entries(persons: Table, key: str) -> list[_Entry]:
    entries: list[_Entry] = orjson.loads(persons.get(key, "[]"))
    return entries


def _put(persons: Table, key: str, entries: list[_Entry]) -> None:
    persons[key] = orjson.dumps(entries).decode()
