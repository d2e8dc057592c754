"""Follow-ups (an update, a cancel) of an alert: the case they join, and the wait for an alert
that has not reached the lane yet.

A follow-up can reach the stream before the alert it references (another lane, a lag): it is
parked under that alert and handled right after it, or rejected if the alert never comes
within the wait. The lane's parked table: referenced alert_id -> [[follow-up AlertRecord
JSON, ISO time parked], ...].
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import orjson

from hotline.alert_in import alert_id_for
from hotline.codec import dumps, loads
from hotline.models import AlertRecord, Report
from hotline.settings import Settings
from streams import case_tables, cases
from streams.announce import Announcer
from streams.state import Matched, Out, Prepared, State

log = logging.getLogger("hotline.worker")


class FollowUps:
    def __init__(self, settings: Settings, tell: Announcer) -> None:
        self.ttl = timedelta(days=settings.case_ttl_days)
        self.id_key = settings.id_key
        self.wait = timedelta(seconds=settings.follow_up_wait_seconds)
        self.tell = tell

    def park(self, record: AlertRecord, st: State, now: datetime) -> list[Out]:
        assert record.body.references is not None
        ref_id = alert_id_for(record.sender, record.body.references)
        waiting = orjson.loads(st.parked.get(ref_id, "[]"))
        raw = dumps(record).decode()
        if all(r != raw for r, _ in waiting):  # a replayed or retried follow-up waits once
            st.parked[ref_id] = orjson.dumps([*waiting, [raw, now.isoformat()]]).decode()
        log.info(
            "follow-up waits for the alert it references",
            extra={"alert_id": record.alert_id, "sender": record.sender},
        )
        return []

    def released(self, alert_id: str, st: State) -> list[AlertRecord]:
        """Follow-ups that arrived before the alert they reference (an immediate cancel of a
        bulk alert), to be handled right after it, once it is in the table."""
        waiting = st.parked.get(alert_id)
        if waiting is None or alert_id not in st.alerts:
            return []
        del st.parked[alert_id]
        return [loads(AlertRecord, raw) for raw, _ in orjson.loads(waiting)]

    def expire_parked(self, st: State, now: datetime) -> list[Out]:
        """Follow-ups whose alert never came: rejected, so the sender hears of it."""
        outs: list[Out] = []
        for ref_id, waiting in list(st.parked.items()):
            entries = orjson.loads(waiting)
            due = [e for e in entries if datetime.fromisoformat(e[1]) + self.wait <= now]
            if not due:
                continue
            rest = [e for e in entries if e not in due]
            if rest:
                st.parked[ref_id] = orjson.dumps(rest).decode()
            else:
                del st.parked[ref_id]
            for raw, _ in due:
                record = loads(AlertRecord, raw)
                why = (
                    f"references unknown alert '{record.body.references}' "
                    f"(not received within {self.wait.total_seconds():.0f} s)"
                )
                outs += self.tell.reject(record, st, now, why)
        return outs

    def matched(self, t: case_tables.CaseTables, p: Prepared, now: datetime, home: int) -> Matched:
        """The follow-up's report added to its alert's case; `home`: where a case is opened
        anew if that one has gone."""
        assert p.ref is not None
        record = p.record
        case_id = p.ref.alert.case_id
        case = case_tables.get(t, case_id) if case_id else None
        if case is None:  # the referenced alert's case has gone: open a case anew, there
            joined = cases.join(
                t,
                record,
                p.enrichment,
                now,
                self.ttl,
                audience=p.targets,
                key=self.id_key,
                home=home,
            )
            return Matched(joined.case, joined.links)
        report = Report(
            alert_id=record.alert_id,
            sender=record.sender,
            audience=[record.sender, *p.targets],
            at=now,
        )
        case = cases.add_report(case, report, now)
        if record.body.msg_type == "cancel" and {r.sender for r in case.reports} == {record.sender}:
            case = case.model_copy(update={"state": "cancelled"})  # only a sole reporter closes
        case_tables.put(t, case)
        return Matched(case)
