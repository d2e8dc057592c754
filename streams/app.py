"""Builds the Faust app: topics, tables and agents. Nothing here runs at import time."""

from __future__ import annotations

import socket
from typing import Any

import faust
from faust.sensors.prometheus import setup_prometheus_sensors

from hotline.settings import Settings
from hotline.topics import topics
from streams import tables
from streams.cases import CaseTables
from streams.process import State
from streams.staged import Staged


def create_app(settings: Settings) -> faust.App:
    app = faust.App(
        settings.worker_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store=settings.worker_store,
        autodiscover=False,
        topic_partitions=1,
        topic_replication_factor=settings.replication_factor,
        producer_acks=-1,
        # Fewer, fuller produce requests: a bulk batch writes several records per alert.
        producer_linger=0.005,
        producer_max_batch_size=512 * 1024,
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
        broker_commit_every=500,
        # A SIGKILLed worker's partitions move on after this long (Faust's default is 60 s).
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
        # Static membership: a worker restarted on its host (same store, same port) takes its
        # partitions back the moment it rejoins, instead of waiting out the session of the
        # process it replaces. The cost: a cleanly stopped worker does not leave the group,
        # so a standby takes over only after the session timeout, as after a crash.
        consumer_group_instance_id=instance_id(settings),
    )
    setup_prometheus_sensors(app, name_prefix="hotline_worker")
    state = State(
        # The compacted alert-state topic is this table's changelog: GET and the consoles
        # read the same record recovery does, written once.
        alerts=Staged(
            tables.table(app, "alerts", partitions=1, changelog=topics(settings).alert_state)
        ),
        cases=CaseTables(
            cases=_table(app, "cases"),
            fingerprints=_table(app, "fingerprints"),
            persons=_table(app, "persons"),
            links=_table(app, "links"),
        ),
        escalations=_table(app, "escalations"),
        parked=_table(app, "parked"),
    )
    from streams import agents  # noqa: PLC0415 - agents need the app object first

    agents.install(app, settings, state)
    return app


def instance_id(settings: Settings) -> str:
    """Stable across restarts, unique among live workers: host and port, like the store."""
    return f"{settings.worker_id}@{socket.gethostname()}:{settings.worker_port}"


def _table(app: faust.App, name: str) -> Staged:
    return Staged(tables.table(app, name, partitions=1))


def source_topics(app: faust.App, settings: Settings) -> dict[str, Any]:
    t = topics(settings)
    return {
        name: app.topic(name, key_serializer="raw", value_serializer="raw")
        for name in (t.inbound, t.inbound_bulk, t.acks)
    }
