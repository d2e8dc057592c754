"""Cases: one real-world subject, however many agencies report it.

Fingerprints (domain brief): a scam number by E.164; a wanted person by any identity document,
otherwise folded name + date of birth (a missing patronymic still matches); a fraud pattern by
its normalized indicator set. Cases that share any single indicator are linked both ways.
All state is in mappings the caller owns (Faust tables in the worker, dicts in unit tests).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson

from hotline import normalize as n
from hotline.codec import dumps, loads
from hotline.models import AlertRecord, CaseRecord, Enrichment, Report, WantedPersonAlert

Table = MutableMapping[str, str]  # JSON text: survives Faust's changelog codec as is


@dataclass(slots=True)
class CaseTables:
    cases: Table  # case_id -> CaseRecord
    fingerprints: Table  # fingerprint -> case_id
    persons: Table  # date of birth -> [[name_key, case_id], ...]
    links: Table  # indicator token -> [case_id, ...]


@dataclass(slots=True)
class Joined:
    case: CaseRecord
    is_new_case: bool
    corroborated: bool  # a new agency joined the case


def case_id_for(alert_id: str, key: bytes) -> str:
    # Derived from the first alert, so reprocessing after a crash opens the same case; keyed
    # with the deployment's secret, so nobody who sees a case id can test guesses of the
    # first reporter's source_ref against it.
    return "cs-" + hmac.new(key, alert_id.encode(), hashlib.sha256).hexdigest()[:24]


def get(t: CaseTables, case_id: str) -> CaseRecord | None:
    raw = t.cases.get(case_id)
    return None if raw is None else loads(CaseRecord, raw)


def put(t: CaseTables, case: CaseRecord) -> None:
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
    found = [c for fp in e.fingerprints if (c := t.fingerprints.get(fp)) is not None]
    body = record.body
    if isinstance(body, WantedPersonAlert) and body.subject.date_of_birth is not None:
        dob = body.subject.date_of_birth.isoformat()
        name = n.name_key(body.subject.full_name)
        for key, case_id in orjson.loads(t.persons.get(dob, "[]")) if name else ():
            if n.name_matches(key, name):
                found.append(case_id)
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
) -> Joined:
    """Adds the record to the case of its subject (opening one if none is open).

    `audience`: the agencies the record is routed to; with the sender, they are who may see
    this report of the case.
    """
    report = Report(
        alert_id=record.alert_id,
        sender=record.sender,
        audience=[record.sender, *(a for a in audience if a != record.sender)],
        at=now,
    )
    case = find(t, record, e, now, ttl)
    if case is None:
        case = CaseRecord(
            case_id=case_id_for(record.alert_id, key),
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
    _index(t, record, e, joined.case.case_id)
    joined.case = _link(t, joined.case, e)
    put(t, joined.case)
    return joined


def add_report(case: CaseRecord, report: Report, now: datetime) -> CaseRecord:
    """The case with `report` added, unless it holds it already (a replayed record)."""
    if case.report(report.alert_id) is not None:
        return case
    return case.model_copy(update={"updated_at": now, "reports": [*case.reports, report]})


def _index(t: CaseTables, record: AlertRecord, e: Enrichment, case_id: str) -> None:
    for fp in e.fingerprints:
        t.fingerprints[fp] = case_id
    body = record.body
    if isinstance(body, WantedPersonAlert) and body.subject.date_of_birth is not None:
        dob = body.subject.date_of_birth.isoformat()
        entries = orjson.loads(t.persons.get(dob, "[]"))
        entry = [n.name_key(body.subject.full_name), case_id]
        if entry[0] and entry not in entries:  # a name with no letters matches nobody
            t.persons[dob] = orjson.dumps([*entries, entry]).decode()


def _link(t: CaseTables, case: CaseRecord, e: Enrichment) -> CaseRecord:
    """Record this case under each indicator; cases met there become related, both ways.

    Each side keeps who could see the other when they were linked (need to know).
    """
    related = dict(case.related)
    audience = case.audience()
    for token in sorted(n.indicator_tokens(e.indicators)):
        others = orjson.loads(t.links.get(token, "[]"))
        if case.case_id not in others:
            t.links[token] = orjson.dumps([*others, case.case_id]).decode()
        for other_id in others:
            if other_id == case.case_id or other_id in related:
                continue
            other = get(t, other_id)
            if other is None:
                continue
            related[other_id] = other.audience()
            if case.case_id not in other.related:
                put(
                    t,
                    other.model_copy(update={"related": {**other.related, case.case_id: audience}}),
                )
    if related == case.related:
        return case
    return case.model_copy(update={"related": related})
