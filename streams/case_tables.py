"""Where the case index lives: its tables, and which partition of them holds each entry.

All state is in mappings the caller owns (Faust tables in the worker, dicts in unit tests).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field

from hotline.alert_in import WantedPersonAlert
from hotline.codec import dumps, loads
from hotline.models import AlertRecord, CaseRecord, Enrichment
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
    persons: Table  # date of birth and name token / skeleton -> entries, see streams/persons.py
    links: Table  # indicator token -> {"n": count, "ids": [case_id, ...]}, see streams/links.py
    homes: Homes = field(default_factory=Homes)


def get(t: CaseTables, case_id: str) -> CaseRecord | None:
    with partition.of(t.homes.of_case(case_id)):
        raw = t.cases.get(case_id)
    return None if raw is None else loads(CaseRecord, raw)


def put(t: CaseTables, case: CaseRecord) -> None:
    with partition.of(t.homes.of_case(case.case_id)):
        t.cases[case.case_id] = dumps(case).decode()
