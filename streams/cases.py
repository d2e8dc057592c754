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
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hotline import normalize as n
from hotline.alert_in import WantedPersonAlert
from hotline.models import AlertRecord, CaseRecord, Enrichment, Report
from hotline.names import name_key
from streams import partition
from streams.case_tables import PERSONS, CaseTables, get, put
from streams.links import LinkMessage, Links
from streams.persons import index_document, index_person, persons_matching


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
            found += persons_matching(t.persons, dob, name_key(body.subject.full_name))
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
                index_person(t.persons, dob, name_key(body.subject.full_name), case_id)
