"""Reads the registry, which is the case index itself: the cases a lookup's key leads to.

Pure over the index's tables (streams/case_tables.py, persons.py), like the matching that
writes them; the worker's web view (streams/registry_view.py) calls it on the partition this
worker holds.
"""

from __future__ import annotations

from hotline import normalize as n
from hotline.models import CaseRecord
from hotline.registry import MATCHES_MAX, DocumentQuery, NumberQuery, PersonQuery, index_key
from streams import partition
from streams.case_tables import CaseTables, get
from streams.persons import documents_numbered, persons_matching


def home(t: CaseTables, query: NumberQuery | DocumentQuery | PersonQuery) -> int:
    """The index partition holding the answer."""
    return t.homes.of_key(index_key(query))


def lookup(t: CaseTables, query: NumberQuery | DocumentQuery | PersonQuery) -> list[CaseRecord]:
    """Every case the query's key leads to, oldest first (at most MATCHES_MAX).

    Only from the partition `home` names, which the caller holds: a fingerprint points only at
    a case living where the fingerprint does (streams.cases._index), so one partition answers.
    """
    where = home(t, query)
    with partition.of(where):
        ids = _case_ids(t, query)
    cases = []
    for case_id in dict.fromkeys(ids):
        case = get(t, case_id)
        if case is not None:
            cases.append(case)
    cases.sort(key=lambda c: c.opened_at)
    return cases[:MATCHES_MAX]


def _case_ids(t: CaseTables, query: NumberQuery | DocumentQuery | PersonQuery) -> list[str]:
    if isinstance(query, NumberQuery):
        fingerprints = [index_key(query)]
    elif isinstance(query, DocumentQuery):
        fingerprints = [f"doc:{key}" for key in _documents(t, query)]
    else:
        dob = query.date_of_birth.isoformat()
        found = persons_matching(t.persons, dob, query.name_key)
        # Also the exact fingerprint: a person indexed before the birth-date index existed.
        return [*found, *_cases_of(t, [f"person:{query.name_key}|{dob}"])]
    return _cases_of(t, fingerprints)


def _documents(t: CaseTables, query: DocumentQuery) -> list[str]:
    keys = documents_numbered(t.persons, query.number)
    if query.type is not None and query.country is not None:
        # Named in full: found even if reported before the number index existed.
        keys = [*keys, n.document_key(query.type, query.number, query.country)]
    return [
        k
        for k in dict.fromkeys(keys)
        if (query.type is None or k.split(":")[0] == query.type)
        and (query.country is None or k.split(":")[1] == query.country)
    ]


def _cases_of(t: CaseTables, fingerprints: list[str]) -> list[str]:
    out = []
    for fp in fingerprints:
        case_id = t.fingerprints.get(fp)
        if case_id is not None:
            out.append(case_id)
    return out
