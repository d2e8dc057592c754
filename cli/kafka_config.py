"""The local broker's configuration: one combined broker+controller node on 127.0.0.1."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path


def _escape_property(value: str) -> str:
    return value.replace("\\", "\\\\")


def render_server_properties(*, port: int, controller_port: int, data_dir: Path) -> str:
    """`server.properties` for one combined broker+controller node on 127.0.0.1."""
    settings: dict[str, str | int] = {
        "process.roles": "broker,controller",
        "node.id": 1,
        # Static voters (not --standalone/dynamic quorum): nothing to bootstrap but the id.
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": _escape_property(str(data_dir / "logs")),
        # A single node can only ever hold one replica of the internal topics.
        "offsets.topic.replication.factor": 1,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        # Consumers in tests and demos should not sit out a 3 s rebalance delay.
        "group.initial.rebalance.delay.ms": 0,
        # The application creates its topics explicitly; a typo must fail, not invent one.
        "auto.create.topics.enable": "false",
        "num.network.threads": 2,
        "num.io.threads": 2,
        "num.partitions": 1,
        # 4 instead of 50 partitions: the first consumer group gets its coordinator faster.
        "offsets.topic.num.partitions": 4,
        # The log cleaner allocates this on the heap at start-up (default 128 MiB);
        # 32 MiB still holds ~1.4 M distinct keys per cleaning pass.
        "log.cleaner.dedupe.buffer.size": 32 * 1024**2,
        # On restart the controller keeps the previous run's registration alive for one
        # session (DUPLICATE_BROKER_REGISTRATION): 9 s by default, so restarts took 12 s.
        # 3 s with 500 ms heartbeats still tolerates five missed beats under load.
        "broker.heartbeat.interval.ms": 500,
        "broker.session.timeout.ms": 3000,
    }
    lines = ["# Written by cli/kafka_config.py; regenerated on every start."]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def new_cluster_id() -> str:
    # Same shape as Kafka's Uuid.randomUuid(): 22 chars of unpadded base64url. A leading
    # "-" would be parsed as an option by the storage tool, so Kafka never issues one.
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def heap_bytes(heap: str) -> int:
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", heap)
    if match is None:
        raise ValueError(f"heap must look like '512m' or '1g', not {heap!r}")
    unit = {"": 1, "k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024}
    return int(match.group(1)) * unit[match.group(2).lower()]
