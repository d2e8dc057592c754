"""Builds the Faust app: topics, tables and agents. Nothing here runs at import time."""

from __future__ import annotations

import socket
from collections.abc import Collection

import faust
from faust.sensors.prometheus import setup_prometheus_sensors

from hotline.fields import Lane
from hotline.producers import batch_bytes
from hotline.settings import Settings
from hotline.topics import topics
from streams import agents, registry_view, tables
from streams.case_tables import CaseTables, Homes
from streams.staged import Staged
from streams.state import State

LANES: tuple[Lane, ...] = ("urgent", "bulk")

# Table writes Faust's producer may hold before its conductor stops handing out records.
# Faust waits for that buffer to drain to 100 before it delivers *any* record to an agent, an
# urgent alert's included. A bulk match request leaves ~300 index changelog writes queued
# (three tables, a hundred alerts) until its end, so an urgent alert fetched meanwhile waited
# for them: 233 such waits of up to 172 ms in a 10,000-alert benchmark run, in the urgent lane
# only. The agents bound the buffer themselves, flushing it at the end of every step
# (streams/steps.py), so this limit is only a backstop for what no step should ever write.
TABLE_WRITES_BUFFERED = 100_000
# Records the consumer handles between two offset commits.
COMMIT_EVERY = 500


def create_app(settings: Settings, lanes: Collection[Lane] = LANES) -> faust.App:
    """A worker running `lanes`: both (a small deployment) or one, in its own process."""
    app = faust.App(
        app_id(settings, lanes),
        broker=f"kafka://{settings.kafka_bootstrap}",
        store=settings.worker_store,
        autodiscover=False,
        topic_partitions=1,
        topic_replication_factor=settings.replication_factor,
        producer_acks=-1,
        # Fewer, fuller produce requests: a bulk batch writes several records per alert.
        producer_linger=0.005,
        producer_max_batch_size=batch_bytes(settings),
        # The one record size limit every producer and topic agrees on (hotline.settings).
        producer_max_request_size=settings.max_record_bytes,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        web_host=settings.worker_host,
        web_port=settings.worker_port,
        web_in_thread=False,
        # One store per worker process: two workers on one host (an active and its standby)
        # must not share RocksDB files, and a restarted worker must find its own again. The
        # port is both: no two live workers on a host have it, and a restart keeps it.
        datadir=str(settings.data_dir / "worker" / str(settings.worker_port)),
        key_serializer="raw",
        value_serializer="raw",
        table_standby_replicas=1,
        broker_commit_every=COMMIT_EVERY,
        # A SIGKILLed worker's partitions move on after this long (Faust's default is 60 s).
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
        # Static membership: a worker restarted on its host (same store, same port) takes its
        # partitions back the moment it rejoins, instead of waiting out the session of the
        # process it replaces. The cost: a cleanly stopped worker does not leave the group,
        # so a standby takes over only after the session timeout, as after a crash.
        consumer_group_instance_id=instance_id(settings, lanes),
    )
    setup_prometheus_sensors(app, name_prefix="hotline_worker")
    app.producer.buffer.max_messages = TABLE_WRITES_BUFFERED
    t = topics(settings)
    states: dict[Lane, State] = {}
    # P partitions, like the lanes' topics: Faust gives a worker the same partitions of all of
    # them, so a group's alerts, follow-ups and acknowledgements meet their state, and an
    # alert matched on index partition s meets the entries partition s holds.
    p = settings.partitions
    if "urgent" in lanes:
        index = _table(app, "cases", p)

        def owns(partition: int) -> bool:
            return holds(app, index.base, partition)  # type: ignore[arg-type]

        states["urgent"] = State(
            # The compacted alert-state topic is this table's changelog: GET and the consoles
            # read the same record recovery does, written once.
            alerts=Staged(tables.table(app, "alerts", partitions=p, changelog=t.alert_state)),
            # The case index lives with the urgent lane: each urgent worker matches on the
            # index partitions it holds, in place, and asks the others through Kafka; the
            # bulk lane asks through Kafka too (streams/matching.py).
            cases=CaseTables(
                cases=index,
                fingerprints=_table(app, "fingerprints", p),
                persons=_table(app, "persons", p),
                links=_table(app, "links", p),
                homes=Homes(p, owns),
            ),
            escalations=_table(app, "escalations", p),
            parked=_table(app, "parked", p),
            audit_heads=_table(app, "audit-heads", p),
            audit_seen=_table(app, "audit-seen", p),
        )
    if "bulk" in lanes:
        states["bulk"] = State(
            alerts=Staged(
                tables.table(app, "bulk-alerts", partitions=p, changelog=t.alert_state_bulk)
            ),
            cases=None,
            escalations=_table(app, "bulk-escalations", p),
            parked=_table(app, "bulk-parked", p),
            digests=_table(app, "bulk-digests", p),
        )
    agents.install(app, settings, states)
    urgent = states.get("urgent")
    if urgent is not None and urgent.cases is not None:
        registry_view.install(app, settings, urgent.cases)
    return app


def changelog_topics(app: faust.App) -> list[tuple[str, int]]:
    """The changelog topics (name, partitions) of the app's tables, for the worker to create
    before it starts (hotline.topics.ensure_topics says why)."""
    return [(table.changelog_topic_name, table.partitions or 1) for table in app.tables.values()]


def app_id(settings: Settings, lanes: Collection[Lane]) -> str:
    """The consumer group: the urgent lane keeps the worker's id (and its tables), so a
    deployment that splits its lanes keeps its state; a bulk-only worker has a group of its own."""
    return settings.worker_id if "urgent" in lanes else f"{settings.worker_id}-bulk"


def instance_id(settings: Settings, lanes: Collection[Lane] = LANES) -> str:
    """Stable across restarts, unique among live workers: host and port, like the store."""
    return f"{app_id(settings, lanes)}@{socket.gethostname()}:{settings.worker_port}"


def holds(app: faust.App, table: tables.Table, partition: int) -> bool:
    """This worker holds partition `partition` of `table` as its active (not a standby)."""
    # Faust's own `assigned_actives()` builds a set of every assigned partition per call;
    # this is asked per fingerprint and link message, so it reads the assignment itself.
    actives = app.assignor._assignment.actives  # type: ignore[attr-defined]
    return partition in actives.get(table.changelog_topic_name, ())


def _table(app: faust.App, name: str, partitions: int = 1) -> Staged:
    return Staged(tables.table(app, name, partitions=partitions))
